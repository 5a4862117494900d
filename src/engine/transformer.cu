/* transformer.cu - the CUDA backend of the Transformer engine: its context, op table and API
 * table (create/destroy, buffers, graph capture and replay, profiling, lanes). The rooms it calls:
 * cuda/tfm_matmul.cu (cuBLASLt products with bias and ReLU epilogues), cuda/tfm_attention.cu (a
 * fused flash-style attention kernel), cuda/tfm_layernorm.cu (a fused residual + LayerNorm kernel),
 * shared through cuda/tfm_common.cuh and cuda/tfm_context.cuh; FP32, TF32, FP16 or BF16; the
 * forward pass is captured once into a CUDA Graph. No CUDA error exits: each becomes an hws_status
 * with the failing call named. */
#include "engine/cuda/tfm_context.cuh"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_TRY HWS_CUDA_RET
#define LT_TRY   HWS_CUBLAS_RET

/* In profiling mode: starts timing an op (records ev0). */
static void prof_start(gpu_ctx *c) {
    if (c->profiling)
        cudaEventRecord(c->ev0, c->cur);
}

/* In profiling mode: adds the time since prof_start to op kind k; st passes through. */
static hws_status prof_stop(gpu_ctx *c, int k, hws_status st) {
    float ms = 0;
    if (c->profiling && st == HWS_OK && cudaEventRecord(c->ev1, c->cur) == cudaSuccess &&
        cudaEventSynchronize(c->ev1) == cudaSuccess &&
        cudaEventElapsedTime(&ms, c->ev0, c->ev1) == cudaSuccess) {
        c->prof_ms[k] += ms;
        c->prof_n[k]++;
    }
    return st;
}

static const void *wdev(const gpu_ctx *c, const float *host) {
    return (const unsigned char *)c->wdev + (size_t)(host - c->w->data) * c->esize;
}

static size_t buf_width(const gpu_ctx *c, int b) {
    const hws_tfm_config *cfg = &c->w->cfg;
    return b == HWS_BUF_QKV  ? 3 * cfg->d_model
           : b == HWS_BUF_KV ? 2 * cfg->d_model * (cfg->n_dec > 1 ? cfg->n_dec : 1)
           : b == HWS_BUF_FF ? cfg->d_ff
                             : cfg->d_model;
}

static size_t buf_elems(const gpu_ctx *c, int b) {
    return (size_t)c->S * c->N * buf_width(c, b);
}

/* Buffer b from the current lane's first row (each lane's slice of a buffer is its rows; the
 * cross-attention buffer KV keeps every layer's rows of a lane together). */
static void *bufp(const gpu_ctx *c, int b) {
    return (unsigned char *)c->buf[b] +
           c->row0 * buf_width(c, b) * (b == HWS_BUF_OUT ? 4 : c->esize);
}

static float *shadowp(const gpu_ctx *c, int b) {
    return c->shadow[b] ? c->shadow[b] + c->row0 * buf_width(c, b) : nullptr;
}

/* c->staging holding at least bytes, or HWS_ERR_NOMEM: no C++ exception leaves the module. */
static hws_status staging_fit(gpu_ctx *c, size_t bytes, hws_error *err) {
    try {
        c->staging.resize(bytes);
    } catch (...) {
        return hws_error_set(err, HWS_ERR_NOMEM, "out of host memory for %zu bytes", bytes);
    }
    return HWS_OK;
}

/* Host floats -> the storage type, into c->staging (staging_fit first). */
static void to_storage(gpu_ctx *c, const float *x, size_t n) {
    void *p = c->staging.data();
    for (size_t i = 0; i < n; i++) {
        if (c->dt == HWS_TFM_FP16)
            ((__half *)p)[i] = from_f<__half>(x[i]);
        else if (c->dt == HWS_TFM_BF16)
            ((__nv_bfloat16 *)p)[i] = from_f<__nv_bfloat16>(x[i]);
        else
            ((float *)p)[i] = x[i];
    }
}

static float from_storage(const gpu_ctx *c, const void *p, size_t i) {
    if (c->dt == HWS_TFM_FP16)
        return to_f(((const __half *)p)[i]);
    if (c->dt == HWS_TFM_BF16)
        return to_f(((const __nv_bfloat16 *)p)[i]);
    return ((const float *)p)[i];
}

/* Runs one product (timed as step kind 0, or 1 when batched, in profiling mode). */
static hws_status matmul(gpu_ctx *c, const mm_args &m, hws_error *err) {
    prof_start(c);
    return prof_stop(c, m.count > 1 ? 1 : 0, tfm_matmul_run(c, m, err));
}

static hws_status gpu_linear(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k, int n,
                             const float *w, const float *b, int relu, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    mm_args m = {bufp(c, y), bufp(c, x), wdev(c, w), b ? wdev(c, b) : nullptr, rows, k, n, relu,
                 1,          0,          0};
    return matmul(c, m, err);
}

static hws_status gpu_linear_batched(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k,
                                     int n, const float *w, size_t w_stride, const float *b,
                                     size_t b_stride, int count, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    mm_args m = {bufp(c, y), bufp(c, x), wdev(c, w),          b ? wdev(c, b) : nullptr, rows, k, n,
                 0,          count,      (long long)w_stride, (long long)b_stride};
    return matmul(c, m, err);
}

static hws_status gpu_attention(void *ctx, const hws_tfm_attn_args *a, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (a->head_dim > 256)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "head size %d is over 256", a->head_dim);
    const unsigned char *q =
        (const unsigned char *)bufp(c, a->q.buf) + (a->q.off + a->q.col) * c->esize;
    const unsigned char *k =
        (const unsigned char *)bufp(c, a->k.buf) + (a->k.off + a->k.col) * c->esize;
    const unsigned char *v =
        (const unsigned char *)bufp(c, a->v.buf) + (a->v.off + a->v.col) * c->esize;
    attn_params p = {q,           k,
                     v,           bufp(c, a->out),
                     a->q.ld,     a->k.ld,
                     a->v.ld,     a->nhead * a->head_dim,
                     a->Sq,       a->Skv,
                     a->N,        a->nhead,
                     a->head_dim, 1.0f / sqrtf((float)a->head_dim)};
    if (a->N * a->nhead > 65535)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "batch x heads %d is too large",
                             a->N * a->nhead);
    prof_start(c);
    launch_on on = {c->cur, c->pdl};
    cudaError_t e = c->dt == HWS_TFM_FP16   ? tfm_launch_attention<__half>(p, on)
                    : c->dt == HWS_TFM_BF16 ? tfm_launch_attention<__nv_bfloat16>(p, on)
                                            : tfm_launch_attention<float>(p, on);
    CUDA_TRY(e);
    return prof_stop(c, 2, HWS_OK);
}

template <typename T>
static cudaError_t launch_add_ln(gpu_ctx *c, hws_tfm_buf out, const void *x, const float *xf,
                                 const void *r, const hws_tfm_ln *ln, const void *r2,
                                 const hws_tfm_ln *ln2, int rows, int E, float eps) {
    ln_in<T> a = {(const T *)x,
                  xf,
                  (const T *)r,
                  (const T *)wdev(c, ln->g),
                  (const T *)wdev(c, ln->b),
                  (const T *)r2,
                  ln2 ? (const T *)wdev(c, ln2->g) : nullptr,
                  ln2 ? (const T *)wdev(c, ln2->b) : nullptr};
    launch_on on = {c->cur, c->pdl};
    if (out == HWS_BUF_OUT)
        return tfm_ln_launch<T, float>(on, (float *)bufp(c, out), nullptr, a, rows, E, eps);
    return tfm_ln_launch<T, T>(on, (T *)bufp(c, out), shadowp(c, out), a, rows, E, eps);
}

/* out = LN(x + r), then LN2(. + r2) when ln2 is set. */
static hws_status add_ln_steps(gpu_ctx *c, hws_tfm_buf out, hws_tfm_buf x, int r,
                               const hws_tfm_ln *ln, const void *r2, const hws_tfm_ln *ln2,
                               int rows, int E, float eps, hws_error *err) {
    const void *xp = bufp(c, x), *rp = r >= 0 ? bufp(c, r) : nullptr;
    const float *xf = shadowp(c, x);
    prof_start(c);
    cudaError_t e =
        c->dt == HWS_TFM_FP16 ? launch_add_ln<__half>(c, out, xp, xf, rp, ln, r2, ln2, rows, E, eps)
        : c->dt == HWS_TFM_BF16
            ? launch_add_ln<__nv_bfloat16>(c, out, xp, xf, rp, ln, r2, ln2, rows, E, eps)
            : launch_add_ln<float>(c, out, xp, xf, rp, ln, r2, ln2, rows, E, eps);
    CUDA_TRY(e);
    return prof_stop(c, 3, HWS_OK);
}

static hws_status gpu_add_ln(void *ctx, hws_tfm_buf out, hws_tfm_buf x, int r, const hws_tfm_ln *ln,
                             int rows, int E, float eps, hws_error *err) {
    return add_ln_steps((gpu_ctx *)ctx, out, x, r, ln, nullptr, nullptr, rows, E, eps, err);
}

static hws_status gpu_add_ln2(void *ctx, hws_tfm_buf out, hws_tfm_buf x, hws_tfm_buf r,
                              const hws_tfm_ln *ln, int r2, size_t r2_off, const hws_tfm_ln *ln2,
                              int rows, int E, float eps, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    const void *r2p = r2 < 0 ? nullptr : (const unsigned char *)bufp(c, r2) + r2_off * c->esize;
    return add_ln_steps(c, out, x, (int)r, ln, r2p, ln2, rows, E, eps, err);
}

static const hws_tfm_ops gpu_ops = {gpu_linear, gpu_linear_batched, gpu_attention, gpu_add_ln,
                                    gpu_add_ln2};

static void gpu_destroy(void *ctx) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (!c)
        return;
    if (c->exec)
        cudaGraphExecDestroy(c->exec);
    if (c->graph)
        cudaGraphDestroy(c->graph);
    for (int b = 0; b < HWS_BUF_COUNT; b++) {
        cudaFree(c->buf[b]);
        cudaFree(c->shadow[b]);
    }
    cudaFree(c->wdev);
    for (int i = 0; i < MAX_LANES; i++) {
        cudaFree(c->lane_ws[i]);
        if (i > 0 && c->lanes[i])
            cudaStreamDestroy(c->lanes[i]);
        if (c->join_ev[i])
            cudaEventDestroy(c->join_ev[i]);
    }
    if (c->fork_ev)
        cudaEventDestroy(c->fork_ev);
    if (c->lt)
        cublasLtDestroy(c->lt);
    if (c->ev0)
        cudaEventDestroy(c->ev0);
    if (c->ev1)
        cudaEventDestroy(c->ev1);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    delete c;
}

static hws_status setup(gpu_ctx *c, char *device, size_t device_len, hws_error *err) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "no CUDA GPU: %s",
                             e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    cudaDeviceProp prop;
    CUDA_TRY(cudaGetDeviceProperties(&prop, 0));
    snprintf(device, device_len, "%s", prop.name);
    if ((c->dt == HWS_TFM_BF16 || c->dt == HWS_TFM_TF32) && prop.major < 8)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED,
                             "%s needs compute capability 8.0 (%s is %d.%d)", dtype_name(c->dt),
                             prop.name, prop.major, prop.minor);
    c->pdl = prop.major >= 9 && !c->no_pdl; /* hws_tfm_options.no_pdl: launched plainly */
    CUDA_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CUDA_TRY(cudaEventCreate(&c->ev0));
    CUDA_TRY(cudaEventCreate(&c->ev1));
    LT_TRY(cublasLtCreate(&c->lt));
    c->ws_bytes = 32u << 20;
    c->lanes[0] = c->cur = c->stream;
    c->nlanes = 1;
    CUDA_TRY(cudaEventCreateWithFlags(&c->fork_ev, cudaEventDisableTiming));
    for (int i = 0; i < MAX_LANES; i++) {
        if (i > 0)
            CUDA_TRY(cudaStreamCreateWithFlags(&c->lanes[i], cudaStreamNonBlocking));
        CUDA_TRY(cudaEventCreateWithFlags(&c->join_ev[i], cudaEventDisableTiming));
        CUDA_TRY(cudaMalloc(&c->lane_ws[i], c->ws_bytes));
    }
    c->workspace = c->lane_ws[0];
    const hws_tfm_weights *w = c->w;
    CUDA_TRY(cudaMalloc(&c->wdev, w->n_floats * c->esize));
    hws_status fit = staging_fit(c, w->n_floats * c->esize, err);
    if (fit != HWS_OK)
        return fit;
    to_storage(c, w->data, w->n_floats);
    CUDA_TRY(cudaMemcpyAsync(c->wdev, c->staging.data(), w->n_floats * c->esize,
                             cudaMemcpyHostToDevice, c->stream));
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    for (int b = 0; b < HWS_BUF_COUNT; b++) {
        size_t bytes = buf_elems(c, b) * (b == HWS_BUF_OUT ? 4 : c->esize);
        CUDA_TRY(cudaMalloc(&c->buf[b], bytes));
        CUDA_TRY(cudaMemsetAsync(c->buf[b], 0, bytes, c->stream));
    }
    static const int streams[] = {HWS_BUF_SRC, HWS_BUF_TGT, HWS_BUF_X, HWS_BUF_Y};
    for (int i = 0; i < 4 && c->esize == 2; i++)
        CUDA_TRY(cudaMalloc(&c->shadow[streams[i]], buf_elems(c, streams[i]) * sizeof(float)));
    return HWS_OK;
}

static hws_status gpu_create(const hws_tfm_weights *w, int S, int N, hws_tfm_dtype dt,
                             const hws_tfm_options *opt, void **ctx, char *device,
                             size_t device_len, hws_error *err) {
    gpu_ctx *c = new (std::nothrow) gpu_ctx();
    if (!c)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    c->w = w;
    c->S = S;
    c->N = N;
    c->dt = dt;
    c->esize = dt == HWS_TFM_FP16 || dt == HWS_TFM_BF16 ? 2 : 4;
    /* hws_tfm_options.autotune: candidates timed per product (see engine.h) */
    c->tune_n = opt->autotune < 1 ? 1 : opt->autotune > MAX_TUNE ? MAX_TUNE : opt->autotune;
    c->no_pdl = opt->no_pdl != 0;
    hws_status st = setup(c, device, device_len, err);
    if (st != HWS_OK) {
        gpu_destroy(c);
        return st;
    }
    *ctx = c;
    return HWS_OK;
}

static hws_status gpu_capture_begin(void *ctx, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    CUDA_TRY(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
    c->capturing = true;
    return HWS_OK;
}

static hws_status gpu_capture_end(void *ctx, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    c->capturing = false;
    CUDA_TRY(cudaStreamEndCapture(c->stream, &c->graph));
    CUDA_TRY(cudaGraphInstantiate(&c->exec, c->graph, 0));
    return HWS_OK;
}

static hws_status gpu_buf_write(void *ctx, hws_tfm_buf b, const float *x, size_t n,
                                hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (n > buf_elems(c, b))
        return hws_error_set(err, HWS_ERR_INPUT, "%zu elements overrun buffer %d", n, (int)b);
    size_t bytes = n * c->esize;
    const void *from = x;
    if (c->shadow[b])
        CUDA_TRY(cudaMemcpyAsync(c->shadow[b], x, n * 4, cudaMemcpyHostToDevice, c->stream));
    if (b == HWS_BUF_OUT) {
        bytes = n * 4;
    } else {
        hws_status st = staging_fit(c, n * c->esize, err);
        if (st != HWS_OK)
            return st;
        to_storage(c, x, n);
        from = c->staging.data();
    }
    CUDA_TRY(cudaMemcpyAsync(c->buf[b], from, bytes, cudaMemcpyHostToDevice, c->stream));
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    return HWS_OK;
}

static hws_status gpu_buf_read(void *ctx, hws_tfm_buf b, float *x, size_t n, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (n > buf_elems(c, b))
        return hws_error_set(err, HWS_ERR_INPUT, "%zu elements overrun buffer %d", n, (int)b);
    if (b == HWS_BUF_OUT) {
        CUDA_TRY(cudaMemcpyAsync(x, c->buf[b], n * 4, cudaMemcpyDeviceToHost, c->stream));
        CUDA_TRY(cudaStreamSynchronize(c->stream));
        return HWS_OK;
    }
    hws_status st = staging_fit(c, n * c->esize, err);
    if (st != HWS_OK)
        return st;
    CUDA_TRY(cudaMemcpyAsync(c->staging.data(), c->buf[b], n * c->esize, cudaMemcpyDeviceToHost,
                             c->stream));
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    for (size_t i = 0; i < n; i++)
        x[i] = from_storage(c, c->staging.data(), i);
    return HWS_OK;
}

static hws_status gpu_set_input(void *ctx, const float *src, const float *tgt, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    size_t n = buf_elems(c, HWS_BUF_SRC);
    hws_status st = gpu_buf_write(ctx, HWS_BUF_SRC, src, n, err);
    return st == HWS_OK ? gpu_buf_write(ctx, HWS_BUF_TGT, tgt, n, err) : st;
}

static hws_status gpu_get_output(void *ctx, float *out, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    return gpu_buf_read(ctx, HWS_BUF_OUT, out, buf_elems(c, HWS_BUF_OUT), err);
}

static hws_status gpu_replay(void *ctx, int warmup, int reps, double *ms, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (!c->exec)
        return hws_error_set(err, HWS_ERR_RUNTIME, "no graph captured");
    for (int i = 0; i < warmup; i++)
        CUDA_TRY(cudaGraphLaunch(c->exec, c->stream));
    for (int i = 0; i < reps; i++) {
        CUDA_TRY(cudaEventRecord(c->ev0, c->stream));
        CUDA_TRY(cudaGraphLaunch(c->exec, c->stream));
        CUDA_TRY(cudaEventRecord(c->ev1, c->stream));
        CUDA_TRY(cudaEventSynchronize(c->ev1));
        float t = 0;
        CUDA_TRY(cudaEventElapsedTime(&t, c->ev0, c->ev1));
        if (ms)
            ms[i] = t;
    }
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    return HWS_OK;
}

static hws_status gpu_profile_begin(void *ctx, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    (void)err;
    c->profiling = true;
    memset(c->prof_ms, 0, sizeof c->prof_ms);
    memset(c->prof_n, 0, sizeof c->prof_n);
    return HWS_OK;
}

static hws_status gpu_profile_end(void *ctx, double ms[4], int n[4], hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    c->profiling = false;
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    memcpy(ms, c->prof_ms, sizeof c->prof_ms);
    memcpy(n, c->prof_n, sizeof c->prof_n);
    return HWS_OK;
}

/* The next ops run on lanes 1..n-1 as well as lane 0, each after the work queued so far. */
static hws_status gpu_fork(void *ctx, int n, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (n < 1 || n > MAX_LANES || c->nlanes != 1)
        return hws_error_set(err, HWS_ERR_INPUT, "cannot fork %d lanes", n);
    CUDA_TRY(cudaEventRecord(c->fork_ev, c->stream));
    for (int i = 1; i < n; i++)
        CUDA_TRY(cudaStreamWaitEvent(c->lanes[i], c->fork_ev, 0));
    c->nlanes = n;
    return HWS_OK;
}

/* The next ops go to lane i and see the buffers from row row0. */
static hws_status gpu_lane(void *ctx, int i, size_t row0, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (i < 0 || i >= c->nlanes || row0 >= (size_t)c->S * c->N)
        return hws_error_set(err, HWS_ERR_INPUT, "no lane %d from row %zu", i, row0);
    c->cur = c->lanes[i];
    c->workspace = c->lane_ws[i];
    c->row0 = row0;
    return HWS_OK;
}

/* Lane 0 waits for the others; the next ops run on it alone, from row 0. */
static hws_status gpu_join(void *ctx, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    int n = c->nlanes;
    c->nlanes = 1;
    gpu_lane(c, 0, 0, err);
    for (int i = 1; i < n; i++) {
        CUDA_TRY(cudaEventRecord(c->join_ev[i], c->lanes[i]));
        CUDA_TRY(cudaStreamWaitEvent(c->stream, c->join_ev[i], 0));
    }
    return HWS_OK;
}

static const hws_tfm_cuda_api api = {
    HWS_TFM_CUDA_ABI, gpu_create,    &gpu_ops,          gpu_capture_begin,
    gpu_capture_end,  gpu_set_input, gpu_replay,        gpu_get_output,
    gpu_buf_write,    gpu_buf_read,  gpu_profile_begin, gpu_profile_end,
    gpu_fork,         gpu_lane,      gpu_join,          gpu_destroy};

extern "C" const hws_tfm_cuda_api *hws_tfm_cuda_get_api(void) {
    return &api;
}
