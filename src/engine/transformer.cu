/* transformer.cu - the CUDA backend of the Transformer engine: cuBLASLt products with bias and
 * ReLU epilogues, a fused flash-style attention kernel and a fused residual + LayerNorm kernel,
 * in FP32, TF32, FP16 or BF16; the forward pass is captured once into a CUDA Graph. No CUDA error
 * exits: each becomes an hws_status with the failing call named. */
#include "engine/backend.h"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

/* The module is opened with RTLD_LOCAL and links nothing of libhwscope: these two stand in for
 * hws_error_set and hws_tfm_dtype_name. */
static hws_status err_set(hws_error *err, hws_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static hws_status err_set(hws_error *err, hws_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
#define hws_error_set err_set

static const char *dtype_name(hws_tfm_dtype dt) {
    static const char *names[] = {"fp32", "tf32", "fp16", "bf16"};
    return names[dt];
}

#define CUDA_TRY(call)                                                                             \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return hws_error_set(err, HWS_ERR_RUNTIME, "%s: %s", #call, cudaGetErrorString(e_));   \
    } while (0)

#define LT_TRY(call)                                                                               \
    do {                                                                                           \
        cublasStatus_t s_ = (call);                                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                           \
            return hws_error_set(err, HWS_ERR_RUNTIME, "%s: cuBLAS status %d", #call, (int)s_);    \
    } while (0)

/* ---- element conversion ---- */
template <typename T> __host__ __device__ inline float to_f(T x);
template <> __host__ __device__ inline float to_f<float>(float x) {
    return x;
}
template <> __host__ __device__ inline float to_f<__half>(__half x) {
    return __half2float(x);
}
template <> __host__ __device__ inline float to_f<__nv_bfloat16>(__nv_bfloat16 x) {
    return __bfloat162float(x);
}
template <typename T> __host__ __device__ inline T from_f(float x);
template <> __host__ __device__ inline float from_f<float>(float x) {
    return x;
}
template <> __host__ __device__ inline __half from_f<__half>(float x) {
    return __float2half_rn(x);
}
template <> __host__ __device__ inline __nv_bfloat16 from_f<__nv_bfloat16>(float x) {
    return __float2bfloat16_rn(x);
}

/* ---- kernels ---- */
__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ inline float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

#define ATT_WARPS        4  /* query rows per block, one per warp */
#define ATT_TILE         32 /* keys per shared-memory tile, one per lane */
#define ATT_MAX_PER_LANE 8  /* head_dim <= 256 */

struct attn_params {
    const void *q, *k, *v;
    void *out;
    int ldq, ldk, ldv, ldo, Sq, Skv, N, nhead, hd;
    float scale;
};

/* Flash-style attention: block (query tile, batch*head); keys and values stream through shared
 * memory in tiles of 32 with an online softmax, so no score matrix is ever stored. */
template <typename T> __global__ void attention_kernel(attn_params p) {
    extern __shared__ float sm[];
    int hd = p.hd, kst = hd + 1;
    float *Ks = sm, *Vs = Ks + ATT_TILE * kst, *Qs = Vs + ATT_TILE * hd;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int n = blockIdx.y / p.nhead, h = blockIdx.y % p.nhead;
    int i = blockIdx.x * ATT_WARPS + warp;
    bool active = i < p.Sq;
    const T *Q = (const T *)p.q, *K = (const T *)p.k, *V = (const T *)p.v;
    float *qs = Qs + warp * hd;
    if (active)
        for (int d = lane; d < hd; d += 32)
            qs[d] = to_f(Q[((size_t)i * p.N + n) * p.ldq + h * hd + d]) * p.scale;
    float acc[ATT_MAX_PER_LANE] = {0};
    float m = -INFINITY, l = 0;
    for (int j0 = 0; j0 < p.Skv; j0 += ATT_TILE) {
        int nk = min(ATT_TILE, p.Skv - j0);
        __syncthreads();
        for (int x = threadIdx.x; x < nk * hd; x += blockDim.x) {
            int j = x / hd, d = x % hd;
            size_t row = (size_t)(j0 + j) * p.N + n;
            Ks[j * kst + d] = to_f(K[row * p.ldk + h * hd + d]);
            Vs[j * hd + d] = to_f(V[row * p.ldv + h * hd + d]);
        }
        __syncthreads();
        if (!active)
            continue;
        float s = -INFINITY;
        if (lane < nk) {
            s = 0;
            for (int d = 0; d < hd; d++)
                s += qs[d] * Ks[lane * kst + d];
        }
        float m_new = fmaxf(m, warp_max(s));
        float pr = lane < nk ? __expf(s - m_new) : 0.0f;
        float corr = __expf(m - m_new);
        l = l * corr + warp_sum(pr);
        m = m_new;
#pragma unroll
        for (int r = 0; r < ATT_MAX_PER_LANE; r++)
            acc[r] *= corr;
        for (int jj = 0; jj < nk; jj++) {
            float pj = __shfl_sync(0xffffffffu, pr, jj);
#pragma unroll
            for (int r = 0; r < ATT_MAX_PER_LANE; r++) {
                int d = lane + 32 * r;
                if (d < hd)
                    acc[r] += pj * Vs[jj * hd + d];
            }
        }
    }
    if (!active)
        return;
    T *O = (T *)p.out + ((size_t)i * p.N + n) * p.ldo + h * hd;
    float inv = 1.0f / l;
#pragma unroll
    for (int r = 0; r < ATT_MAX_PER_LANE; r++) {
        int d = lane + 32 * r;
        if (d < hd)
            O[d] = from_f<T>(acc[r] * inv);
    }
}

/* out = LayerNorm(x + res) * g + b, one warp per row of E; TO is T or float (the final norm).
 * In FP16/BF16 the residual streams also keep a float copy: xf (read instead of x when set) and
 * outf (written beside out when set), so rounding does not pile up along the residual path. */
template <typename T, typename TO>
__global__ void add_ln_kernel(TO *out, float *outf, const T *x, const float *xf, const T *res,
                              const T *g, const T *b, int rows, int E, float eps) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= rows)
        return;
    size_t base = (size_t)row * E;
    float sum = 0;
    for (int d = lane; d < E; d += 32)
        sum += (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f);
    float mean = warp_sum(sum) / E, var = 0;
    for (int d = lane; d < E; d += 32) {
        float v =
            (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f) - mean;
        var += v * v;
    }
    float rstd = rsqrtf(warp_sum(var) / E + eps);
    for (int d = lane; d < E; d += 32) {
        float v = (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f);
        float y = (v - mean) * rstd * to_f(g[d]) + to_f(b[d]);
        out[base + d] = from_f<TO>(y);
        if (outf)
            outf[base + d] = y;
    }
}

/* ---- the backend context ---- */
struct gpu_ctx {
    const hws_tfm_weights *w;
    int S, N;
    hws_tfm_dtype dt;
    size_t esize; /* bytes per stored element */
    void *wdev;   /* weights in the storage type */
    void *buf[HWS_BUF_COUNT];
    float *shadow[HWS_BUF_COUNT]; /* float copies of the residual streams in FP16/BF16 */
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *workspace;
    size_t ws_bytes;
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    cudaEvent_t ev0, ev1;
    std::vector<unsigned char> staging;
};

static const void *wdev(const gpu_ctx *c, const float *host) {
    return (const unsigned char *)c->wdev + (size_t)(host - c->w->data) * c->esize;
}

static size_t buf_elems(const gpu_ctx *c, int b) {
    const hws_tfm_config *cfg = &c->w->cfg;
    int width = b == HWS_BUF_QKV  ? 3 * cfg->d_model
                : b == HWS_BUF_KV ? 2 * cfg->d_model
                : b == HWS_BUF_FF ? cfg->d_ff
                                  : cfg->d_model;
    return (size_t)c->S * c->N * width;
}

static cudaDataType_t data_type(hws_tfm_dtype dt) {
    return dt == HWS_TFM_FP16 ? CUDA_R_16F : dt == HWS_TFM_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/* Host floats -> the storage type, into c->staging. */
static void to_storage(gpu_ctx *c, const float *x, size_t n) {
    c->staging.resize(n * c->esize);
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

static unsigned alignment(const void *p) {
    unsigned a = 256;
    while (a > 1 && ((uintptr_t)p % a) != 0)
        a >>= 1;
    return a;
}

/* y = x w^T + b (+ReLU) as cuBLASLt's column-major D[n, rows] = W^T[n, k] X[k, rows]. */
static hws_status matmul(gpu_ctx *c, void *y, const void *x, int rows, int k, int n, const void *w,
                         const void *b, int relu, hws_error *err) {
    cudaDataType_t ty = data_type(c->dt);
    cublasComputeType_t ct =
        c->dt == HWS_TFM_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    hws_status st = HWS_OK;
    cublasOperation_t tA = CUBLAS_OP_T, tB = CUBLAS_OP_N;
    cublasLtEpilogue_t epi = b ? (relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                               : (relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
    float alpha = 1, beta = 0;
    cublasLtMatmulHeuristicResult_t h;
    int found = 0;
    unsigned aligns[4] = {alignment(w), alignment(x), alignment(y), alignment(y)};
    cublasStatus_t s = cublasLtMatmulDescCreate(&op, ct, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &tA, sizeof tA);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tB, sizeof tB);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (s == CUBLAS_STATUS_SUCCESS && b)
        s = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &b, sizeof b);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&la, ty, k, n, k);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&lb, ty, k, rows, k);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&lc, ty, n, rows, n);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceCreate(&pref);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                 &c->ws_bytes, sizeof c->ws_bytes);
    const cublasLtMatmulPreferenceAttributes_t align_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4 && s == CUBLAS_STATUS_SUCCESS; i++)
        s = cublasLtMatmulPreferenceSetAttribute(pref, align_attr[i], &aligns[i], sizeof aligns[i]);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulAlgoGetHeuristic(c->lt, op, la, lb, lc, lc, pref, 1, &h, &found);
    if (s == CUBLAS_STATUS_SUCCESS && found == 0)
        s = CUBLAS_STATUS_NOT_SUPPORTED;
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmul(c->lt, op, &alpha, w, la, x, lb, &beta, y, lc, y, lc, &h.algo,
                           c->workspace, c->ws_bytes, c->stream);
    if (s != CUBLAS_STATUS_SUCCESS)
        st = hws_error_set(err, HWS_ERR_RUNTIME, "cuBLASLt product %dx%dx%d (%s): status %d", rows,
                           n, k, dtype_name(c->dt), (int)s);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatmulDescDestroy(op);
    return st;
}

static hws_status gpu_linear(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k, int n,
                             const float *w, const float *b, int relu, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    return matmul(c, c->buf[y], c->buf[x], rows, k, n, wdev(c, w), b ? wdev(c, b) : nullptr, relu,
                  err);
}

static size_t attn_smem(int hd) {
    return (size_t)(ATT_TILE * (hd + 1) + ATT_TILE * hd + ATT_WARPS * hd) * sizeof(float);
}

template <typename T> static cudaError_t launch_attention(const attn_params &p, cudaStream_t s) {
    dim3 grid((p.Sq + ATT_WARPS - 1) / ATT_WARPS, p.N * p.nhead);
    size_t smem = attn_smem(p.hd);
    cudaError_t e = cudaFuncSetAttribute(attention_kernel<T>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess)
        return e;
    attention_kernel<T><<<grid, ATT_WARPS * 32, smem, s>>>(p);
    return cudaGetLastError();
}

static hws_status gpu_attention(void *ctx, const hws_tfm_attn_args *a, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    if (a->head_dim > 32 * ATT_MAX_PER_LANE)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "head size %d is over %d", a->head_dim,
                             32 * ATT_MAX_PER_LANE);
    const unsigned char *q = (const unsigned char *)c->buf[a->q.buf] + a->q.col * c->esize;
    const unsigned char *k = (const unsigned char *)c->buf[a->k.buf] + a->k.col * c->esize;
    const unsigned char *v = (const unsigned char *)c->buf[a->v.buf] + a->v.col * c->esize;
    attn_params p = {q,           k,
                     v,           c->buf[a->out],
                     a->q.ld,     a->k.ld,
                     a->v.ld,     a->nhead * a->head_dim,
                     a->Sq,       a->Skv,
                     a->N,        a->nhead,
                     a->head_dim, 1.0f / sqrtf((float)a->head_dim)};
    if (a->N * a->nhead > 65535)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "batch x heads %d is too large",
                             a->N * a->nhead);
    cudaError_t e = c->dt == HWS_TFM_FP16   ? launch_attention<__half>(p, c->stream)
                    : c->dt == HWS_TFM_BF16 ? launch_attention<__nv_bfloat16>(p, c->stream)
                                            : launch_attention<float>(p, c->stream);
    CUDA_TRY(e);
    return HWS_OK;
}

template <typename T>
static cudaError_t launch_add_ln(gpu_ctx *c, hws_tfm_buf out, const void *x, const float *xf,
                                 const void *r, const hws_tfm_ln *ln, int rows, int E, float eps) {
    int per_block = 4;
    dim3 grid((rows + per_block - 1) / per_block);
    const T *g = (const T *)wdev(c, ln->g), *b = (const T *)wdev(c, ln->b);
    if (out == HWS_BUF_OUT)
        add_ln_kernel<T, float><<<grid, per_block * 32, 0, c->stream>>>(
            (float *)c->buf[out], nullptr, (const T *)x, xf, (const T *)r, g, b, rows, E, eps);
    else
        add_ln_kernel<T, T><<<grid, per_block * 32, 0, c->stream>>>(
            (T *)c->buf[out], c->shadow[out], (const T *)x, xf, (const T *)r, g, b, rows, E, eps);
    return cudaGetLastError();
}

static hws_status gpu_add_ln(void *ctx, hws_tfm_buf out, hws_tfm_buf x, int r, const hws_tfm_ln *ln,
                             int rows, int E, float eps, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
    const void *xp = c->buf[x], *rp = r >= 0 ? c->buf[r] : nullptr;
    const float *xf = c->shadow[x];
    cudaError_t e =
        c->dt == HWS_TFM_FP16   ? launch_add_ln<__half>(c, out, xp, xf, rp, ln, rows, E, eps)
        : c->dt == HWS_TFM_BF16 ? launch_add_ln<__nv_bfloat16>(c, out, xp, xf, rp, ln, rows, E, eps)
                                : launch_add_ln<float>(c, out, xp, xf, rp, ln, rows, E, eps);
    CUDA_TRY(e);
    return HWS_OK;
}

static const hws_tfm_ops gpu_ops = {gpu_linear, gpu_attention, gpu_add_ln};

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
    cudaFree(c->workspace);
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
    CUDA_TRY(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CUDA_TRY(cudaEventCreate(&c->ev0));
    CUDA_TRY(cudaEventCreate(&c->ev1));
    LT_TRY(cublasLtCreate(&c->lt));
    c->ws_bytes = 32u << 20;
    CUDA_TRY(cudaMalloc(&c->workspace, c->ws_bytes));
    const hws_tfm_weights *w = c->w;
    CUDA_TRY(cudaMalloc(&c->wdev, w->n_floats * c->esize));
    to_storage(c, w->data, w->n_floats);
    CUDA_TRY(cudaMemcpyAsync(c->wdev, c->staging.data(), w->n_floats * c->esize,
                             cudaMemcpyHostToDevice, c->stream));
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    for (int b = 0; b < HWS_BUF_COUNT; b++)
        CUDA_TRY(cudaMalloc(&c->buf[b], buf_elems(c, b) * (b == HWS_BUF_OUT ? 4 : c->esize)));
    static const int streams[] = {HWS_BUF_SRC, HWS_BUF_TGT, HWS_BUF_X, HWS_BUF_Y};
    for (int i = 0; i < 4 && c->esize == 2; i++)
        CUDA_TRY(cudaMalloc(&c->shadow[streams[i]], buf_elems(c, streams[i]) * sizeof(float)));
    return HWS_OK;
}

static hws_status gpu_create(const hws_tfm_weights *w, int S, int N, hws_tfm_dtype dt, void **ctx,
                             char *device, size_t device_len, hws_error *err) {
    gpu_ctx *c = new (std::nothrow) gpu_ctx();
    if (!c)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    c->w = w;
    c->S = S;
    c->N = N;
    c->dt = dt;
    c->esize = dt == HWS_TFM_FP16 || dt == HWS_TFM_BF16 ? 2 : 4;
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
    return HWS_OK;
}

static hws_status gpu_capture_end(void *ctx, hws_error *err) {
    gpu_ctx *c = (gpu_ctx *)ctx;
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
    c->staging.resize(n * c->esize);
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

static const hws_tfm_cuda_api api = {HWS_TFM_CUDA_ABI, gpu_create,    &gpu_ops,   gpu_capture_begin,
                                     gpu_capture_end,  gpu_set_input, gpu_replay, gpu_get_output,
                                     gpu_buf_write,    gpu_buf_read,  gpu_destroy};

extern "C" const hws_tfm_cuda_api *hws_tfm_cuda_get_api(void) {
    return &api;
}
