/* engine.h - a small Transformer inference engine: PyTorch's nn.Transformer (post-LayerNorm,
 * ReLU, eval mode) run on the CPU (OpenBLAS) or on a GPU (the CUDA module), used by
 * `hwscope bench transformer` to reproduce the guide's CPU-vs-GPU timing.
 *
 * Tensors are sequence-first like nn.Transformer's default: a (S, N, E) input is S*N rows of E
 * floats, row s*N + n. The model is called as model(src, tgt) with no masks.
 *
 * Example:
 *   hws_tfm_config cfg = hws_tfm_config_default();
 *   hws_tfm_weights *w; hws_tfm_weights_random(&cfg, 42, &w, &err);
 *   hws_tfm_cpu *cpu; hws_tfm_cpu_new(w, 1, 512, 16, NULL, &cpu, &err);
 *   hws_tfm_cpu_forward(cpu, src, tgt, out, &err);
 *   hws_tfm_cpu_free(cpu); hws_tfm_weights_free(w); */
#ifndef HWSCOPE_ENGINE_H
#define HWSCOPE_ENGINE_H

#include "hwscope/hwscope.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The model's shape; nn.Transformer()'s defaults are 512, 8, 6, 6, 2048, 1e-5. */
typedef struct {
    int d_model; /* E; a multiple of nhead */
    int nhead;
    int n_enc; /* encoder layers */
    int n_dec; /* decoder layers */
    int d_ff;  /* feed-forward width */
    float ln_eps;
} hws_tfm_config;

/* A row-major weight [out, in] (PyTorch's nn.Linear layout) and its bias [out]. */
typedef struct {
    const float *w, *b;
} hws_tfm_lin;

typedef struct {
    const float *g, *b; /* LayerNorm gamma and beta, [E] each */
} hws_tfm_ln;

/* nn.MultiheadAttention: in = in_proj [3E, E] (q, k, v stacked), out = out_proj [E, E].
 * vo is derived, not a parameter: out_proj after the value projection as one linear map
 * (out_proj.w v.w [E, E] and out_proj.w v.b + out_proj.b), which is the whole block when every
 * query sees a single key (softmax weight 1). */
typedef struct {
    hws_tfm_lin in, out, vo;
} hws_tfm_mha;

/* One layer; encoder layers leave ca and n3 empty. */
typedef struct {
    hws_tfm_mha sa, ca;
    hws_tfm_lin l1, l2;
    hws_tfm_ln n1, n2, n3;
} hws_tfm_layer;

/* All weights in one float buffer (data, n_floats), the derived vo maps last; the pointers
 * below point into it. */
typedef struct {
    hws_tfm_config cfg;
    hws_tfm_layer *enc, *dec; /* n_enc and n_dec layers */
    hws_tfm_ln enc_norm, dec_norm;
    float *data;
    size_t n_floats;
} hws_tfm_weights;

HWS_API hws_tfm_config hws_tfm_config_default(void);
/* HWS_ERR_INPUT naming the field when cfg cannot describe a model. */
HWS_API hws_status hws_tfm_config_check(const hws_tfm_config *cfg, hws_error *err);

/* Seeded random weights: linear weights and biases uniform in +-1/sqrt(fan_in) like PyTorch's
 * init, LayerNorm gamma near 1 and beta near 0 (not exactly, so tests see them used). */
HWS_API hws_status hws_tfm_weights_random(const hws_tfm_config *cfg, uint64_t seed,
                                          hws_tfm_weights **out, hws_error *err);
/* Weights from a safetensors file holding an nn.Transformer state_dict (F32, F16 or BF16).
 * cfg gives nhead and eps and is overwritten by what the file's __metadata__ says (d_model,
 * nhead, num_encoder_layers, num_decoder_layers, dim_feedforward); the other sizes are read from
 * the tensors' shapes. A missing or misshapen tensor is HWS_ERR_INPUT naming file and key. */
HWS_API hws_status hws_tfm_weights_load(const char *path, hws_tfm_config *cfg,
                                        hws_tfm_weights **out, hws_error *err);
HWS_API void hws_tfm_weights_free(hws_tfm_weights *w);

/* How a runner works. Every field's 0 is its default, so {0} and hws_tfm_options_default()
 * agree; the default is PyTorch's own work, so timings compare with torch.nn.Transformer. */
typedef struct {
    /* 1: at S=1 (every attention sees a single key, its softmax weight exactly 1) compute each
     * attention block as its folded value-and-output map (hws_tfm_mha.vo), skipping queries,
     * keys and softmax: the same function, fewer operations (hws_tfm_flops_run counts them).
     * 0: the general path, the operations PyTorch performs. */
    int fold;
    /* CUDA: concurrent branches of the graph at S=1, each a slice of the batch (1-4; 0: 1). On
     * an H100 at the guide's shape 2 lanes were slower (fp16 general 0.696 ms vs 0.567). */
    int lanes;
    /* CPU: pause rounds the pool's workers spin between jobs before sleeping (0: the default,
     * 20000; negative: none, sleep at once). */
    int spin_rounds;
    /* CPU: tiles per thread of each matrix product (1-8; 0: 1). */
    int cpu_tiles;
    /* CPU: 1: OpenBLAS's own threads run each product (to compare); 0: the pool's threads each
     * call single-threaded OpenBLAS on a tile. */
    int cpu_blas_threads;
    /* CUDA: 1: own kernels launched plainly; 0: as programmatic dependent launches on Hopper and
     * later (each may start while the one before finishes). */
    int no_pdl;
    /* CUDA: cuBLASLt candidates timed per product (0 or 1: cuBLASLt's first, the default: on an
     * H100 the candidates fastest alone made the graph slower, fp16 general path 0.509 ms with 8
     * and 0.510 with 32 vs 0.494 with the first; at most 32). */
    int autotune;
} hws_tfm_options;

HWS_API hws_tfm_options hws_tfm_options_default(void);

/* Floating-point operations of one forward pass at sequence length S and batch N as PyTorch
 * performs it (matrix products and attention; 2 per multiply-add). */
HWS_API double hws_tfm_flops(const hws_tfm_config *cfg, int S, int N);
/* Whether a runner with options opt (NULL: defaults) folds the attention blocks at length S. */
HWS_API int hws_tfm_folds(const hws_tfm_options *opt, int S);
/* The operations the engine performs for one forward pass with options opt (NULL: defaults):
 * hws_tfm_flops, or fewer when it folds; the count for TFLOP/s figures. */
HWS_API double hws_tfm_flops_run(const hws_tfm_config *cfg, int S, int N,
                                 const hws_tfm_options *opt);

/* Fills n floats with a seeded uniform [-1, 1) sequence (test and benchmark inputs). */
HWS_API void hws_tfm_fill_uniform(float *x, size_t n, uint64_t seed);

/* ---- CPU backend ---- */
typedef struct hws_tfm_cpu hws_tfm_cpu;

/* A runner for inputs of S*N rows on threads threads (<= 0: all cores) with options opt (NULL:
 * defaults): its own pool runs every step, matrix products included, each thread calling
 * OpenBLAS on a tile. OpenBLAS's thread count is process-wide: the runner sets it (to 1, or to
 * threads with cpu_blas_threads) and hws_tfm_cpu_free puts back what it was; do not run two
 * CPU runners, or OpenBLAS elsewhere, at once. w must outlive it. */
HWS_API hws_status hws_tfm_cpu_new(const hws_tfm_weights *w, int S, int N, int threads,
                                   const hws_tfm_options *opt, hws_tfm_cpu **out, hws_error *err);
/* out = model(src, tgt); each S*N*E floats. */
HWS_API hws_status hws_tfm_cpu_forward(hws_tfm_cpu *c, const float *src, const float *tgt,
                                       float *out, hws_error *err);
HWS_API int hws_tfm_cpu_threads(const hws_tfm_cpu *c);
/* The BLAS library and the kernels it chose for this CPU ("OpenBLAS 0.3.21 ... (kernels for
 * Haswell)"), written into buf (n bytes); returns buf. */
HWS_API char *hws_tfm_cpu_blas(char *buf, size_t n);
/* Just the kernel family OpenBLAS chose ("Haswell", "SkylakeX", "Prescott", ...). */
HWS_API const char *hws_tfm_cpu_blas_core(void);
HWS_API void hws_tfm_cpu_free(hws_tfm_cpu *c);

/* ---- CUDA backend (through the CUDA module; HWS_ERR_UNSUPPORTED when there is none) ---- */
typedef enum { HWS_TFM_FP32, HWS_TFM_TF32, HWS_TFM_FP16, HWS_TFM_BF16 } hws_tfm_dtype;

HWS_API const char *hws_tfm_dtype_name(hws_tfm_dtype dt); /* "fp32", "tf32", "fp16", "bf16" */

typedef struct hws_tfm_gpu hws_tfm_gpu;

/* Uploads the weights converted to dt and captures the whole forward in a CUDA Graph, with
 * options opt (NULL: defaults). */
HWS_API hws_status hws_tfm_gpu_new(const hws_tfm_weights *w, int S, int N, hws_tfm_dtype dt,
                                   const hws_tfm_options *opt, hws_tfm_gpu **out, hws_error *err);
/* out = model(src, tgt), copied through the host. */
HWS_API hws_status hws_tfm_gpu_forward(hws_tfm_gpu *g, const float *src, const float *tgt,
                                       float *out, hws_error *err);
/* Replays the graph warmup times, then reps times, each timed with CUDA events (ms_samples[reps]).
 */
HWS_API hws_status hws_tfm_gpu_time(hws_tfm_gpu *g, int warmup, int reps, double *ms_samples,
                                    hws_error *err);
/* Runs the forward once more step by step (no graph), timing each step with CUDA events: ms[k]
 * and count[k] for matrix products (k=0), the batched one (1), attention (2) and residual +
 * LayerNorm (3). */
HWS_API hws_status hws_tfm_gpu_profile(hws_tfm_gpu *g, double ms[4], int count[4], hws_error *err);
/* How many concurrent branches the graph runs (slices of the batch; 1 unless S=1). */
HWS_API int hws_tfm_gpu_lanes(const hws_tfm_gpu *g);
/* The GPU's name ("NVIDIA H100 80GB HBM3"). */
HWS_API const char *hws_tfm_gpu_device(const hws_tfm_gpu *g);
HWS_API void hws_tfm_gpu_free(hws_tfm_gpu *g);

#ifdef __cplusplus
}
#endif

#endif
