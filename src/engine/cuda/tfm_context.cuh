/* tfm_context.cuh - the Transformer engine's CUDA backend context (streams, buffers, cuBLASLt
 * state), shared by transformer.cu and the cuBLASLt products of tfm_matmul.cu. */
#ifndef HWSCOPE_ENGINE_CUDA_TFM_CONTEXT_CUH
#define HWSCOPE_ENGINE_CUDA_TFM_CONTEXT_CUH

#include "engine/backend.h"
#include "engine/cuda/tfm_common.cuh"
#include "gpu/cuda_check.cuh"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <vector>

/* The module is opened with RTLD_LOCAL and links nothing of libhwscope: hws_gpu_errorf
 * (gpu/cuda_check.cuh) stands in for hws_error_set. */
#define hws_error_set hws_gpu_errorf

static inline const char *dtype_name(hws_tfm_dtype dt) {
    static const char *names[] = {"fp32", "tf32", "fp16", "bf16"};
    return names[dt];
}

/* ---- the backend context ---- */
#define MAX_LANES 4
#define MAX_TUNE  32 /* concurrent branches of the graph, each running its own rows */

/* One product y[c] = x w[c]^T + b[c] (+ReLU) for c < count (see hws_tfm_ops.linear_batched). */
struct mm_args {
    void *y;
    const void *x, *w, *b;
    int rows, k, n, relu, count;
    long long w_stride, b_stride; /* elements */
};

/* The algorithm chosen for one product shape (and its operands' alignment). */
struct mm_plan {
    int rows, k, n, relu, bias, count;
    long long w_stride, b_stride;
    unsigned align[4];
    cublasLtMatmulAlgo_t algo;
};

struct gpu_ctx {
    const hws_tfm_weights *w;
    int S, N;
    hws_tfm_dtype dt;
    size_t esize; /* bytes per stored element */
    void *wdev;   /* weights in the storage type */
    void *buf[HWS_BUF_COUNT];
    float *shadow[HWS_BUF_COUNT];  /* float copies of the residual streams in FP16/BF16 */
    cudaStream_t stream;           /* the main stream (lane 0), which captures the graph */
    cudaStream_t lanes[MAX_LANES]; /* lane 0 is stream; the others fork from it and join it */
    void *lane_ws[MAX_LANES];      /* a cuBLASLt workspace per lane */
    cudaEvent_t fork_ev, join_ev[MAX_LANES];
    int nlanes;       /* lanes forked now (1: none) */
    cudaStream_t cur; /* the current lane's stream and workspace, and its first row */
    void *workspace;
    size_t row0;
    cublasLtHandle_t lt;
    size_t ws_bytes;
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    cudaEvent_t ev0, ev1;
    std::vector<unsigned char> staging;
    std::vector<mm_plan> plans; /* products' chosen algorithms, filled before capture */
    int tune_n; /* cuBLASLt candidates timed per product shape (1: the heuristic's first) */
    bool capturing, profiling;
    bool pdl;    /* own kernels as programmatic dependent launches (compute capability 9.0 on) */
    bool no_pdl; /* hws_tfm_options.no_pdl: the caller turned them off */
    double prof_ms[4];
    int prof_n[4];
};

/* Runs one product on the current lane, planned on first sight of its shape (tfm_matmul.cu). */
hws_status tfm_matmul_run(gpu_ctx *c, const mm_args &m, hws_error *err);

#endif
