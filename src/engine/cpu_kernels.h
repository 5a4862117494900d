/* cpu_kernels.h - the CPU backend's own kernels (everything but the matrix products, which are
 * OpenBLAS's), each spread over a worker pool. Matrices are row-major with the given row
 * strides (ld, in floats). */
#ifndef HWSCOPE_ENGINE_CPU_KERNELS_H
#define HWSCOPE_ENGINE_CPU_KERNELS_H

#include "engine/pool.h"

/* y[rows, n] = x[rows, k] w^T + b, then ReLU when relu (w is [n, k]; b may be NULL): each
 * thread one tile of the output, through single-threaded OpenBLAS (set by the caller with
 * openblas_set_num_threads(1)), so no second set of threads competes with the pool's.
 * tiles_per_thread (1..8, clamped): more, smaller tiles let the threads that come free first take
 * the work of one the host holds up, at more packing per flop. */
void hws_cpu_linear(hws_pool *p, int tiles_per_thread, float *y, const float *x, const float *w,
                    const float *b, int rows, int k, int n, int relu);
/* The same as one multi-threaded OpenBLAS call (the caller sets its threads), bias and ReLU on
 * the pool. */
void hws_cpu_linear_blas(hws_pool *p, float *y, const float *x, const float *w, const float *b,
                         int rows, int k, int n, int relu);

/* out[r] = LayerNorm(x[r] + res[r]) * g + beta over E floats; res may be NULL; out may be x. */
void hws_cpu_add_ln(hws_pool *p, float *out, const float *x, const float *res, const float *g,
                    const float *beta, long rows, int E, float eps);

/* Multi-head attention of sequence-first rows (row s*N + n): for each batch n and head h,
 * out[s*N+n][h*hd..] = softmax_j(q_s . k_j / sqrt(hd)) v_j. scratch holds
 * hws_cpu_attention_scratch() floats for the pool's thread count. */
typedef struct {
    const float *q, *k, *v;
    float *out;
    int ldq, ldk, ldv, ldo;
    int Sq, Skv, N, nhead, head_dim;
} hws_cpu_attn;

long hws_cpu_attention_scratch(int Sq, int Skv, int N, int nhead, int threads);
void hws_cpu_attention(hws_pool *p, const hws_cpu_attn *a, float *scratch);

#endif
