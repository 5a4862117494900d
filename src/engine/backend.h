/* backend.h - what a Transformer backend implements: four operations on named activation
 * buffers. The forward pass itself (forward.c) is written once over these, so the CPU backend and
 * the CUDA backend (whose calls are captured into a CUDA Graph) run the same sequence.
 *
 * Every buffer holds rows of floats (the CUDA backend may store them in its dtype); a row of
 * a (S, N, ...) tensor is s*N + n. Weight pointers are the host pointers of hws_tfm_weights; a
 * GPU backend maps them to its own copy by their offset from weights->data. */
#ifndef HWSCOPE_ENGINE_BACKEND_H
#define HWSCOPE_ENGINE_BACKEND_H

#include "hwscope/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HWS_BUF_SRC, /* [S*N, E] input */
    HWS_BUF_TGT, /* [S*N, E] input */
    HWS_BUF_X,   /* [S*N, E] encoder residual stream */
    HWS_BUF_MEM, /* [S*N, E] encoder output (memory) */
    HWS_BUF_Y,   /* [S*N, E] decoder residual stream */
    HWS_BUF_QKV, /* [S*N, 3E] */
    HWS_BUF_KV,  /* [n_dec][S*N, 2E] cross-attention keys and values of every decoder layer (S=1:
                  * [n_dec][S*N, E] cross-attention outputs) */
    HWS_BUF_ATT, /* [S*N, E] attention output, heads concatenated */
    HWS_BUF_TMP, /* [S*N, E] */
    HWS_BUF_FF,  /* [S*N, d_ff] */
    HWS_BUF_OUT, /* [S*N, E] output, float */
    HWS_BUF_COUNT
} hws_tfm_buf;

/* Widths (floats per row) of each buffer for a config. */
int hws_tfm_buf_width(const hws_tfm_config *cfg, hws_tfm_buf b);

/* One operand of attention: column col of the matrix at element off of buffer buf, rows ld
 * floats apart. */
typedef struct {
    hws_tfm_buf buf;
    int ld, col;
    size_t off;
} hws_tfm_view;

/* out[(s*N+n), h*hd + d] = softmax_j(q_s . k_j / sqrt(hd)) v_j for each batch n and head h;
 * q has Sq sequence positions, k and v have Skv. out has rows E floats wide. */
typedef struct {
    hws_tfm_view q, k, v;
    hws_tfm_buf out;
    int Sq, Skv, N, nhead, head_dim;
} hws_tfm_attn_args;

typedef struct {
    /* y[rows, n] = x[rows, k] w^T + b, then ReLU when relu; w is [n, k] row-major. */
    hws_status (*linear)(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k, int n,
                         const float *w, const float *b, int relu, hws_error *err);
    /* count products at once: y[c] = x w[c]^T + b[c] for c < count, where w[c] = w + c*w_stride,
     * b[c] = b + c*b_stride, and y[c] starts at element c*rows*n of y (the decoder's keys and
     * values of every layer, which all read the encoder's output, in one batched product). */
    hws_status (*linear_batched)(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k, int n,
                                 const float *w, size_t w_stride, const float *b, size_t b_stride,
                                 int count, hws_error *err);
    hws_status (*attention)(void *ctx, const hws_tfm_attn_args *a, hws_error *err);
    /* out = LayerNorm(x + r) over rows of E (r < 0: no residual); out may be x. */
    hws_status (*add_ln)(void *ctx, hws_tfm_buf out, hws_tfm_buf x, int r, const hws_tfm_ln *ln,
                         int rows, int E, float eps, hws_error *err);
    /* out = LayerNorm2(LayerNorm(x + r) + r2), r2 starting at element r2_off of buffer r2 (r2 <
     * 0: no second residual): two sub-layers' ends in one step (the decoder's self- then
     * cross-attention at S=1, where the second residual is ready beforehand; a stack's last
     * layer and its final norm); out may be x. */
    hws_status (*add_ln2)(void *ctx, hws_tfm_buf out, hws_tfm_buf x, hws_tfm_buf r,
                          const hws_tfm_ln *ln, int r2, size_t r2_off, const hws_tfm_ln *ln2,
                          int rows, int E, float eps, hws_error *err);
} hws_tfm_ops;

/* Runs model(SRC, TGT) -> OUT through ops; fold: the attention blocks as folded maps (only
 * meaningful at S=1, see hws_tfm_options.fold). */
hws_status hws_tfm_run(const hws_tfm_weights *w, int S, int N, int fold, const hws_tfm_ops *ops,
                       void *ctx, hws_error *err);

/* The CUDA module's table, got with hws_cuda_module_sym("hws_tfm_cuda_api"). */
#define HWS_TFM_CUDA_ABI 4
typedef struct {
    int abi; /* HWS_TFM_CUDA_ABI */
    /* Allocates buffers for S*N rows and uploads w converted to dt; opt's CUDA fields (no_pdl,
     * autotune) choose how kernels and products run. */
    hws_status (*create)(const hws_tfm_weights *w, int S, int N, hws_tfm_dtype dt,
                         const hws_tfm_options *opt, void **ctx, char *device, size_t device_len,
                         hws_error *err);
    const hws_tfm_ops *ops;
    /* Between these two, ops calls are recorded into the graph (not run). */
    hws_status (*capture_begin)(void *ctx, hws_error *err);
    hws_status (*capture_end)(void *ctx, hws_error *err);
    hws_status (*set_input)(void *ctx, const float *src, const float *tgt, hws_error *err);
    /* Replays the graph warmup + reps times; ms[i] is replay warmup+i timed by events (ms may
     * be NULL). */
    hws_status (*replay)(void *ctx, int warmup, int reps, double *ms, hws_error *err);
    hws_status (*get_output)(void *ctx, float *out, hws_error *err);
    /* Copies n floats into or out of a buffer (converted to and from its dtype), for tests. */
    hws_status (*buf_write)(void *ctx, hws_tfm_buf b, const float *x, size_t n, hws_error *err);
    hws_status (*buf_read)(void *ctx, hws_tfm_buf b, float *x, size_t n, hws_error *err);
    /* Between these two, each op runs alone and is timed with events: ms[k] and n[k] sum the time
     * and count of op kind k (0 linear, 1 linear_batched, 2 attention, 3 add_ln). */
    hws_status (*profile_begin)(void *ctx, hws_error *err);
    hws_status (*profile_end)(void *ctx, double ms[4], int n[4], hws_error *err);
    /* Concurrent branches (lanes) of the graph: fork n lanes (at most 4) after the work so far;
     * lane(i, row0) sends the next ops to lane i, seeing every buffer from row row0 (its rows
     * alone, so lanes must not share rows); join makes lane 0 wait for the others. */
    hws_status (*fork)(void *ctx, int n, hws_error *err);
    hws_status (*lane)(void *ctx, int i, size_t row0, hws_error *err);
    hws_status (*join)(void *ctx, hws_error *err);
    void (*destroy)(void *ctx);
} hws_tfm_cuda_api;

/* The module's entry point "hws_tfm_cuda_get_api". */
typedef const hws_tfm_cuda_api *(*hws_tfm_cuda_get_api_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
