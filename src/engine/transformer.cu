/* transformer.cu - the CUDA backend of the Transformer engine: cuBLASLt products with bias and
 * ReLU epilogues, a fused flash-style attention kernel and a fused residual + LayerNorm kernel,
 * in FP32, TF32, FP16 or BF16; the forward pass is captured once into a CUDA Graph. No CUDA error
 * exits: each becomes an hws_status with the failing call named. */
#include "engine/backend.h"
#include "gpu/cuda_check.cuh"

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <vector>

/* The module is opened with RTLD_LOCAL and links nothing of libhwscope: hws_gpu_errorf
 * (gpu/cuda_check.cuh) stands in for hws_error_set. */
#define hws_error_set hws_gpu_errorf

static const char *dtype_name(hws_tfm_dtype dt) {
    static const char *names[] = {"fp32", "tf32", "fp16", "bf16"};
    return names[dt];
}

#define CUDA_TRY HWS_CUDA_RET
#define LT_TRY   HWS_CUBLAS_RET

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
/* Programmatic dependent launch (Hopper): a kernel launched with it may start while the one before
 * it still runs, so each kernel first waits for its predecessor's results (a no-op when launched
 * without it), and says when its own are written so that the next may start. */
__device__ inline void grid_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ inline void grid_done() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

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

#define ATT_WARPS 4  /* warps per block */
#define ATT_ROWS  4  /* query rows per warp in the tiled kernel */
#define ATT_TILE  32 /* keys per shared-memory tile, one per lane */

struct attn_params {
    const void *q, *k, *v;
    void *out;
    int ldq, ldk, ldv, ldo, Sq, Skv, N, nhead, hd;
    float scale;
};

/* Address of element d of head h at sequence position s, batch n, in a sequence-first view. */
template <typename T>
__device__ inline const T *row_at(const void *base, int ld, int s, int n, int N, int h, int hd) {
    return (const T *)base + ((size_t)s * N + n) * ld + h * hd;
}

/* Short key sequences (Skv <= 32, e.g. the guide's S=1): one warp per (query, batch, head) row;
 * scores by warp reductions, softmax over the lanes, values read coalesced. PL = ceil(hd/32). */
template <typename T, int PL> __global__ void attention_short_kernel(attn_params p) {
    grid_wait();
    int lane = threadIdx.x % 32;
    long g = (long)blockIdx.x * ATT_WARPS + threadIdx.x / 32;
    if (g >= (long)p.Sq * p.N * p.nhead)
        return;
    int h = (int)(g % p.nhead), n = (int)(g / p.nhead % p.N), i = (int)(g / p.nhead / p.N);
    const T *q = row_at<T>(p.q, p.ldq, i, n, p.N, h, p.hd);
    float qv[PL];
#pragma unroll
    for (int r = 0; r < PL; r++) {
        int d = lane + 32 * r;
        qv[r] = d < p.hd ? to_f(q[d]) * p.scale : 0.0f;
    }
    float mine = -INFINITY; /* lane j keeps the score of key j */
    for (int j = 0; j < p.Skv; j++) {
        const T *k = row_at<T>(p.k, p.ldk, j, n, p.N, h, p.hd);
        float s = 0;
#pragma unroll
        for (int r = 0; r < PL; r++) {
            int d = lane + 32 * r;
            if (d < p.hd)
                s += qv[r] * to_f(k[d]);
        }
        s = warp_sum(s);
        if (lane == j)
            mine = s;
    }
    float m = warp_max(mine);
    float e = lane < p.Skv ? __expf(mine - m) : 0.0f;
    float inv = 1.0f / warp_sum(e);
    float acc[PL] = {};
    for (int j = 0; j < p.Skv; j++) {
        float pj = __shfl_sync(0xffffffffu, e, j) * inv;
        const T *v = row_at<T>(p.v, p.ldv, j, n, p.N, h, p.hd);
#pragma unroll
        for (int r = 0; r < PL; r++) {
            int d = lane + 32 * r;
            if (d < p.hd)
                acc[r] += pj * to_f(v[d]);
        }
    }
    T *o = (T *)p.out + ((size_t)i * p.N + n) * p.ldo + h * p.hd;
#pragma unroll
    for (int r = 0; r < PL; r++) {
        int d = lane + 32 * r;
        if (d < p.hd)
            o[d] = from_f<T>(acc[r]);
    }
    grid_done();
}

/* Long sequences, flash-style: block = ATT_WARPS*ATT_ROWS query rows of one (batch, head); keys
 * and values stream through shared memory 32 at a time with an online softmax, so no score
 * matrix is stored; each key tile serves all the block's rows. */
template <typename T, int PL> __global__ void attention_tiled_kernel(attn_params p) {
    extern __shared__ float sm[];
    grid_wait();
    int hd = p.hd, kst = hd + 1;
    float *Ks = sm, *Vs = Ks + ATT_TILE * kst, *Qs = Vs + ATT_TILE * hd;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int n = blockIdx.y / p.nhead, h = blockIdx.y % p.nhead;
    int i0 = blockIdx.x * ATT_WARPS * ATT_ROWS;
    for (int x = threadIdx.x; x < ATT_WARPS * ATT_ROWS * hd; x += blockDim.x) {
        int r = x / hd, d = x % hd, i = i0 + r;
        Qs[x] = i < p.Sq ? to_f(row_at<T>(p.q, p.ldq, i, n, p.N, h, hd)[d]) * p.scale : 0.0f;
    }
    const float *qs = Qs + warp * ATT_ROWS * hd;
    float acc[ATT_ROWS][PL] = {}, m[ATT_ROWS], l[ATT_ROWS] = {};
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++)
        m[r] = -INFINITY;
    for (int j0 = 0; j0 < p.Skv; j0 += ATT_TILE) {
        int nk = min(ATT_TILE, p.Skv - j0);
        __syncthreads(); /* the last tile is used up (and Qs is written, the first time) */
        for (int x = threadIdx.x; x < nk * hd; x += blockDim.x) {
            int j = x / hd, d = x % hd;
            Ks[j * kst + d] = to_f(row_at<T>(p.k, p.ldk, j0 + j, n, p.N, h, hd)[d]);
            Vs[j * hd + d] = to_f(row_at<T>(p.v, p.ldv, j0 + j, n, p.N, h, hd)[d]);
        }
        __syncthreads();
        float s[ATT_ROWS] = {};
        if (lane < nk)
            for (int d = 0; d < hd; d++) {
                float kd = Ks[lane * kst + d];
#pragma unroll
                for (int r = 0; r < ATT_ROWS; r++)
                    s[r] += qs[r * hd + d] * kd;
            }
        float pr[ATT_ROWS];
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            float sr = lane < nk ? s[r] : -INFINITY;
            float m_new = fmaxf(m[r], warp_max(sr));
            pr[r] = lane < nk ? __expf(sr - m_new) : 0.0f;
            float corr = __expf(m[r] - m_new);
            l[r] = l[r] * corr + warp_sum(pr[r]);
            m[r] = m_new;
#pragma unroll
            for (int c = 0; c < PL; c++)
                acc[r][c] *= corr;
        }
        for (int jj = 0; jj < nk; jj++) {
            float v[PL];
#pragma unroll
            for (int c = 0; c < PL; c++) {
                int d = lane + 32 * c;
                v[c] = d < hd ? Vs[jj * hd + d] : 0.0f;
            }
#pragma unroll
            for (int r = 0; r < ATT_ROWS; r++) {
                float pj = __shfl_sync(0xffffffffu, pr[r], jj);
#pragma unroll
                for (int c = 0; c < PL; c++)
                    acc[r][c] += pj * v[c];
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        int i = i0 + warp * ATT_ROWS + r;
        if (i >= p.Sq)
            continue;
        T *o = (T *)p.out + ((size_t)i * p.N + n) * p.ldo + h * hd;
#pragma unroll
        for (int c = 0; c < PL; c++) {
            int d = lane + 32 * c;
            if (d < hd)
                o[d] = from_f<T>(acc[r][c] / l[r]);
        }
    }
    grid_done();
}

/* out = LayerNorm(x + res) * g + b, one warp per row of E; TO is T or float (the final norm).
 * In FP16/BF16 the residual streams also keep a float copy: xf (read instead of x when set) and
 * outf (written beside out when set), so rounding does not pile up along the residual path. */
template <typename T, typename TO>
__global__ void add_ln_kernel(TO *out, float *outf, const T *x, const float *xf, const T *res,
                              const T *g, const T *b, int rows, int E, float eps) {
    grid_wait();
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
    grid_done();
}

/* gamma g and beta b of a LayerNorm, as the lane's VPL values of each. */
template <typename T, int VPL>
__device__ inline void load_gb(float *gv, float *bv, int lane, int E, const T *g, const T *b) {
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        gv[i] = d < E ? to_f(g[d]) : 0.0f;
        bv[i] = d < E ? to_f(b[d]) : 0.0f;
    }
}

/* LayerNorm of v (VPL values per lane, a row of E over the warp) with the lane's gamma gv and beta
 * bv, in place. */
template <int VPL>
__device__ inline void warp_ln(float *v, int lane, int E, const float *gv, const float *bv,
                               float eps) {
    float sum = 0;
#pragma unroll
    for (int i = 0; i < VPL; i++)
        sum += v[i];
    float mean = warp_sum(sum) / E, var = 0;
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        float c = lane + 32 * i < E ? v[i] - mean : 0.0f;
        var += c * c;
    }
    float rstd = rsqrtf(warp_sum(var) / E + eps);
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        v[i] = d < E ? (v[i] - mean) * rstd * gv[i] + bv[i] : 0.0f;
    }
}

/* add_ln_kernel for rows of E <= 32*VPL, the row kept in registers (x and res read once); with
 * g2 set, a second residual + LayerNorm follows: out = LN2(LN(x + res) + res2). */
template <typename T, typename TO, int VPL>
__global__ void add_ln_reg_kernel(TO *out, float *outf, const T *x, const float *xf, const T *res,
                                  const T *g, const T *b, const T *res2, const T *g2, const T *b2,
                                  int rows, int E, float eps) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    float gv[VPL], bv[VPL];
    load_gb<T, VPL>(gv, bv, lane, E, g, b); /* weights: read while the step before finishes */
    grid_wait();
    if (row >= rows)
        return;
    size_t base = (size_t)row * E;
    float v[VPL];
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        v[i] = d < E ? (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f)
                     : 0.0f;
    }
    warp_ln<VPL>(v, lane, E, gv, bv, eps);
    if (g2) {
#pragma unroll
        for (int i = 0; i < VPL; i++) {
            int d = lane + 32 * i;
            v[i] += d < E && res2 ? to_f(res2[base + d]) : 0.0f;
        }
        load_gb<T, VPL>(gv, bv, lane, E, g2, b2);
        warp_ln<VPL>(v, lane, E, gv, bv, eps);
    }
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        if (d < E) {
            out[base + d] = from_f<TO>(v[i]);
            if (outf)
                outf[base + d] = v[i];
        }
    }
    grid_done();
}

/* Where and how a kernel is launched: with pdl, as a programmatic dependent launch. */
struct launch_on {
    cudaStream_t s;
    bool pdl;
};

template <typename... P, typename... A>
static cudaError_t launch(launch_on on, dim3 grid, dim3 block, size_t smem, void (*k)(P...),
                          A... args) {
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = on.s;
    cfg.attrs = attr;
    cfg.numAttrs = on.pdl ? 1 : 0;
    return cudaLaunchKernelEx(&cfg, k, args...);
}

/* ---- the backend context ---- */
#define MAX_LANES 4
#define MAX_TUNE  32 /* concurrent branches of the graph, each running its own rows */

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
    std::vector<struct mm_plan> plans; /* products' chosen algorithms, filled before capture */
    int tune_n; /* cuBLASLt candidates timed per product shape (1: the heuristic's first) */
    bool capturing, profiling;
    bool pdl; /* own kernels as programmatic dependent launches (compute capability 9.0 on) */
    double prof_ms[4];
    int prof_n[4];
};

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

static cudaDataType_t data_type(hws_tfm_dtype dt) {
    return dt == HWS_TFM_FP16 ? CUDA_R_16F : dt == HWS_TFM_BF16 ? CUDA_R_16BF : CUDA_R_32F;
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

static unsigned alignment(const void *p) {
    unsigned a = 256;
    while (a > 1 && ((uintptr_t)p % a) != 0)
        a >>= 1;
    return a;
}

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

/* cuBLASLt's descriptors of one product, as the column-major D[n, rows] = W^T[n, k] X[k, rows]. */
struct mm_desc {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    ~mm_desc() {
        cublasLtMatmulPreferenceDestroy(pref);
        cublasLtMatrixLayoutDestroy(la);
        cublasLtMatrixLayoutDestroy(lb);
        cublasLtMatrixLayoutDestroy(lc);
        cublasLtMatmulDescDestroy(op);
    }
};

static cublasStatus_t batch_layout(cublasLtMatrixLayout_t l, int count, long long stride) {
    if (count <= 1)
        return CUBLAS_STATUS_SUCCESS;
    cublasStatus_t s = cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                        &count, sizeof count);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                             &stride, sizeof stride);
    return s;
}

static cublasStatus_t describe(const gpu_ctx *c, const mm_args &m, const unsigned align[4],
                               mm_desc &d) {
    cudaDataType_t ty = data_type(c->dt);
    cublasComputeType_t ct =
        c->dt == HWS_TFM_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    cublasOperation_t tA = CUBLAS_OP_T, tB = CUBLAS_OP_N;
    cublasLtEpilogue_t epi = m.b ? (m.relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                                 : (m.relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
    cublasStatus_t s = cublasLtMatmulDescCreate(&d.op, ct, CUDA_R_32F);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &tA, sizeof tA);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &tB, sizeof tB);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi);
    if (s == CUBLAS_STATUS_SUCCESS && m.b)
        s = cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &m.b,
                                           sizeof m.b);
    if (s == CUBLAS_STATUS_SUCCESS && m.b && m.count > 1)
        s = cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE,
                                           &m.b_stride, sizeof m.b_stride);
    long long y_stride = (long long)m.rows * m.n;
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&d.la, ty, m.k, m.n, m.k);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = batch_layout(d.la, m.count, m.w_stride);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&d.lb, ty, m.k, m.rows, m.k);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = batch_layout(d.lb, m.count, 0);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatrixLayoutCreate(&d.lc, ty, m.n, m.rows, m.n);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = batch_layout(d.lc, m.count, y_stride);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceCreate(&d.pref);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                 &c->ws_bytes, sizeof c->ws_bytes);
    const cublasLtMatmulPreferenceAttributes_t align_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4 && s == CUBLAS_STATUS_SUCCESS; i++)
        s = cublasLtMatmulPreferenceSetAttribute(d.pref, align_attr[i], &align[i], sizeof align[i]);
    return s;
}

static cublasStatus_t run_mm(gpu_ctx *c, const mm_args &m, const mm_desc &d,
                             const cublasLtMatmulAlgo_t *algo) {
    float alpha = 1, beta = 0;
    return cublasLtMatmul(c->lt, d.op, &alpha, m.w, d.la, m.x, d.lb, &beta, m.y, d.lc, m.y, d.lc,
                          algo, c->workspace, c->ws_bytes, c->cur);
}

/* Times the heuristic's candidates (up to tune_n) on the real operands and keeps the fastest: small
 * products such as the guide's (512 rows) leave most of the GPU idle with the first choice. */
static cublasStatus_t tune(gpu_ctx *c, const mm_args &m, const mm_desc &d,
                           const cublasLtMatmulHeuristicResult_t *h, int found,
                           cublasLtMatmulAlgo_t *best) {
    float best_ms = INFINITY;
    for (int i = 0; i < found; i++) {
        if (h[i].state != CUBLAS_STATUS_SUCCESS ||
            run_mm(c, m, d, &h[i].algo) != CUBLAS_STATUS_SUCCESS)
            continue;
        float ms = INFINITY;
        if (cudaEventRecord(c->ev0, c->cur) == cudaSuccess) {
            for (int r = 0; r < 5; r++)
                run_mm(c, m, d, &h[i].algo);
            if (cudaEventRecord(c->ev1, c->cur) != cudaSuccess ||
                cudaEventSynchronize(c->ev1) != cudaSuccess ||
                cudaEventElapsedTime(&ms, c->ev0, c->ev1) != cudaSuccess)
                ms = INFINITY;
        }
        if (ms < best_ms || i == 0) {
            best_ms = ms < best_ms ? ms : best_ms;
            *best = h[i].algo;
        }
    }
    return cudaGetLastError() == cudaSuccess ? CUBLAS_STATUS_SUCCESS
                                             : CUBLAS_STATUS_EXECUTION_FAILED;
}

static bool same_plan(const mm_plan &p, const mm_args &m, const unsigned align[4]) {
    return p.rows == m.rows && p.k == m.k && p.n == m.n && p.relu == m.relu &&
           p.bias == (m.b != nullptr) && p.count == m.count && p.w_stride == m.w_stride &&
           p.b_stride == m.b_stride && !memcmp(p.align, align, sizeof p.align);
}

static hws_status matmul_run(gpu_ctx *c, const mm_args &m, hws_error *err);

/* Runs one product (timed as step kind 0, or 1 when batched, in profiling mode). */
static hws_status matmul(gpu_ctx *c, const mm_args &m, hws_error *err) {
    prof_start(c);
    return prof_stop(c, m.count > 1 ? 1 : 0, matmul_run(c, m, err));
}

static hws_status matmul_run(gpu_ctx *c, const mm_args &m, hws_error *err) {
    unsigned align[4] = {alignment(m.w), alignment(m.x), alignment(m.y), alignment(m.y)};
    if (m.count > 1) /* every batch's start must be as aligned */
        align[0] = std::min(align[0], alignment((const void *)(uintptr_t)(m.w_stride * c->esize)));
    mm_desc d;
    cublasStatus_t s = describe(c, m, align, d);
    const mm_plan *plan = nullptr;
    for (const mm_plan &p : c->plans)
        if (same_plan(p, m, align))
            plan = &p;
    cublasLtMatmulAlgo_t algo;
    if (s == CUBLAS_STATUS_SUCCESS && plan) {
        algo = plan->algo;
    } else if (s == CUBLAS_STATUS_SUCCESS) {
        cublasLtMatmulHeuristicResult_t h[MAX_TUNE];
        int found = 0, want = !c->capturing ? c->tune_n : 1;
        s = cublasLtMatmulAlgoGetHeuristic(c->lt, d.op, d.la, d.lb, d.lc, d.lc, d.pref, want, h,
                                           &found);
        if (s == CUBLAS_STATUS_SUCCESS && found == 0)
            s = CUBLAS_STATUS_NOT_SUPPORTED;
        algo = h[0].algo;
        if (s == CUBLAS_STATUS_SUCCESS && want > 1)
            s = tune(c, m, d, h, found, &algo);
        if (s == CUBLAS_STATUS_SUCCESS) {
            mm_plan p = {m.rows,
                         m.k,
                         m.n,
                         m.relu,
                         m.b != nullptr,
                         m.count,
                         m.w_stride,
                         m.b_stride,
                         {align[0], align[1], align[2], align[3]},
                         algo};
            try {
                c->plans.push_back(p);
            } catch (...) { /* unkept, the plan is only asked for again */
            }
        }
    }
    if (s == CUBLAS_STATUS_SUCCESS)
        s = run_mm(c, m, d, &algo);
    if (s != CUBLAS_STATUS_SUCCESS)
        return hws_error_set(err, HWS_ERR_RUNTIME, "cuBLASLt product %dx%dx%d x%d (%s): status %d",
                             m.rows, m.n, m.k, m.count, dtype_name(c->dt), (int)s);
    return HWS_OK;
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

static size_t attn_smem(int hd) {
    return (size_t)(ATT_TILE * (hd + 1) + ATT_TILE * hd + ATT_WARPS * ATT_ROWS * hd) *
           sizeof(float);
}

template <typename T, int PL>
static cudaError_t launch_attention_pl(const attn_params &p, launch_on s) {
    if (p.Skv <= 32) {
        long rows = (long)p.Sq * p.N * p.nhead;
        return launch(s, dim3((unsigned)((rows + ATT_WARPS - 1) / ATT_WARPS)), dim3(ATT_WARPS * 32),
                      0, attention_short_kernel<T, PL>, p);
    }
    int per_block = ATT_WARPS * ATT_ROWS;
    dim3 grid((p.Sq + per_block - 1) / per_block, p.N * p.nhead);
    size_t smem = attn_smem(p.hd);
    cudaError_t e = cudaFuncSetAttribute(attention_tiled_kernel<T, PL>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess)
        return e;
    return launch(s, grid, dim3(ATT_WARPS * 32), smem, attention_tiled_kernel<T, PL>, p);
}

/* Picks the kernel instance for the head size: PL = ceil(hd / 32) rounded up to 2, 4 or 8. */
template <typename T> static cudaError_t launch_attention(const attn_params &p, launch_on s) {
    if (p.hd <= 64)
        return launch_attention_pl<T, 2>(p, s);
    if (p.hd <= 128)
        return launch_attention_pl<T, 4>(p, s);
    return launch_attention_pl<T, 8>(p, s);
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
    cudaError_t e = c->dt == HWS_TFM_FP16   ? launch_attention<__half>(p, on)
                    : c->dt == HWS_TFM_BF16 ? launch_attention<__nv_bfloat16>(p, on)
                                            : launch_attention<float>(p, on);
    CUDA_TRY(e);
    return prof_stop(c, 2, HWS_OK);
}

/* The inputs of one residual + LayerNorm step, or two (see add_ln_reg_kernel) when g2 is set. */
template <typename T> struct ln_in {
    const T *x;
    const float *xf;
    const T *r, *g, *b, *r2, *g2, *b2;
};

/* The kernel for rows of E: registers up to 1024, else the looping one (twice for two steps). */
template <typename T, typename TO, int VPL>
static cudaError_t ln_reg(launch_on s, TO *out, float *outf, const ln_in<T> &a, int rows, int E,
                          float eps) {
    int per_block = 4;
    return launch(s, dim3((rows + per_block - 1) / per_block), dim3(per_block * 32), 0,
                  add_ln_reg_kernel<T, TO, VPL>, out, outf, a.x, a.xf, a.r, a.g, a.b, a.r2, a.g2,
                  a.b2, rows, E, eps);
}

template <typename T, typename TO>
static cudaError_t ln_launch(launch_on s, TO *out, float *outf, const ln_in<T> &a, int rows, int E,
                             float eps) {
    if (E <= 256)
        return ln_reg<T, TO, 8>(s, out, outf, a, rows, E, eps);
    if (E <= 512)
        return ln_reg<T, TO, 16>(s, out, outf, a, rows, E, eps);
    if (E <= 1024)
        return ln_reg<T, TO, 32>(s, out, outf, a, rows, E, eps);
    int per_block = 4;
    dim3 grid((rows + per_block - 1) / per_block), block(per_block * 32);
    cudaError_t e = launch(s, grid, block, 0, add_ln_kernel<T, TO>, out, outf, a.x, a.xf, a.r, a.g,
                           a.b, rows, E, eps);
    if (e != cudaSuccess || !a.g2)
        return e;
    /* the second step reads the first's output (its float copy when kept, or out itself when
     * that is the float output) */
    const float *xf2 = outf ? outf : sizeof(TO) == sizeof(float) ? (const float *)out : nullptr;
    return launch(s, grid, block, 0, add_ln_kernel<T, TO>, out, outf, (const T *)out, xf2, a.r2,
                  a.g2, a.b2, rows, E, eps);
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
        return ln_launch<T, float>(on, (float *)bufp(c, out), nullptr, a, rows, E, eps);
    return ln_launch<T, T>(on, (T *)bufp(c, out), shadowp(c, out), a, rows, E, eps);
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
    /* HWSCOPE_ENGINE_PDL=0: own kernels launched plainly */
    const char *pdl_env = getenv("HWSCOPE_ENGINE_PDL");
    c->pdl = prop.major >= 9 && !(pdl_env && !strcmp(pdl_env, "0"));
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
    /* HWSCOPE_ENGINE_AUTOTUNE: candidates to time per product (0 or 1: cuBLASLt's first, the
     * default: on an H100 the candidates fastest alone made the graph slower, fp16 general path
     * 0.509 ms with 8 and 0.510 with 32 vs 0.494 with the first) */
    const char *tune_env = getenv("HWSCOPE_ENGINE_AUTOTUNE");
    c->tune_n = tune_env && *tune_env ? atoi(tune_env) : 1;
    c->tune_n = c->tune_n < 1 ? 1 : c->tune_n > MAX_TUNE ? MAX_TUNE : c->tune_n;
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
