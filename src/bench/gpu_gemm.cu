// gpu_gemm.cu - matrix products through cuBLASLt at each precision, timed with CUDA events and
// checked against a plain reference kernel on a sample of output elements.
#include "bench/gpu_common.cuh"

#include <cmath>
#include <cstring>
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <unistd.h>

#define WORKSPACE_BYTES (64u << 20)
#define CHECK_SAMPLES   256
#define MAX_ALGOS       4

// Layouts, column-major throughout: B is K x N (ldb K), C is M x N (ldc M). A is M x K (lda M,
// op N; the "NN" form PyTorch's A @ B gives cuBLAS) for the float types, or stored K x M with
// op T (the "TN" form cuBLASLt needs for FP8 and INT8). So C[m + n*M] = sum_k A(m, k) *
// B[k + n*K] with A(m, k) = A[m + k*M] (NN) or A[k + m*K] (TN).
typedef struct {
    cudaDataType_t ab, cd, scale;
    cublasComputeType_t compute;
    size_t ab_size, cd_size;
    bool tn;
} dtype_info;

static const dtype_info dtypes[HWS_GPU_DTYPES] = {
    [HWS_GPU_FP32] = {CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 4, 4, false},
    [HWS_GPU_TF32] = {CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4, 4,
                      false},
    [HWS_GPU_FP16] = {CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F, 2, 2, false},
    [HWS_GPU_BF16] = {CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, 2, 2, false},
    [HWS_GPU_FP8] = {CUDA_R_8F_E4M3, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, 1, 2, true},
    [HWS_GPU_INT8] = {CUDA_R_8I, CUDA_R_32I, CUDA_R_32I, CUBLAS_COMPUTE_32I, 1, 4, true},
};

#define HWS_LT_TRY(call)                                                                           \
    do {                                                                                           \
        cublasStatus_t s_ = (call);                                                                \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                         \
            st = hws_gpu_fail(err, #call, cublasLtGetStatusString(s_));                            \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

__device__ static inline void store(float *p, float v) {
    *p = v;
}
__device__ static inline void store(__half *p, float v) {
    *p = __float2half(v);
}
__device__ static inline void store(__nv_bfloat16 *p, float v) {
    *p = __float2bfloat16(v);
}
__device__ static inline void store(__nv_fp8_e4m3 *p, float v) {
    *p = __nv_fp8_e4m3(v);
}
__device__ static inline void store(int8_t *p, float v) {
    *p = (int8_t)__float2int_rn(v * 16.0f); // integers in [-16, 16]
}

__device__ static inline double load(const float *p) {
    return *p;
}
__device__ static inline double load(const __half *p) {
    return __half2float(*p);
}
__device__ static inline double load(const __nv_bfloat16 *p) {
    return __bfloat162float(*p);
}
__device__ static inline double load(const __nv_fp8_e4m3 *p) {
    return (float)*p;
}
__device__ static inline double load(const int8_t *p) {
    return *p;
}
__device__ static inline double load(const int32_t *p) {
    return *p;
}

template <typename T> __global__ void fill(T *p, size_t n, uint64_t seed) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        store(&p[i], hws_hash_uniform(i, seed));
}

// One thread per sampled element: the exact product of the stored inputs, in double.
template <typename TA, typename TC>
__global__ void reference(const TA *a, const TA *b, const TC *c, int m, int n, int k, bool tn,
                          int samples, double *ref, double *got) {
    int s = blockIdx.x * blockDim.x + threadIdx.x;
    if (s >= samples)
        return;
    int row = (int)((hws_hash_uniform(2 * (uint64_t)s, 99) + 1.0f) * 0.5f * m) % m;
    int col = (int)((hws_hash_uniform(2 * (uint64_t)s + 1, 99) + 1.0f) * 0.5f * n) % n;
    size_t a_row = tn ? (size_t)k : 1, a_k = tn ? 1 : (size_t)m;
    double sum = 0;
    for (int i = 0; i < k; i++)
        sum += load(&a[row * a_row + i * a_k]) * load(&b[(size_t)col * k + i]);
    ref[s] = sum;
    got[s] = load(&c[(size_t)col * m + row]);
}

template <typename TA, typename TC>
static cudaError_t launch_fill_check(void *a, void *b, void *c, int m, int n, int k, bool tn,
                                     bool check, double *ref, double *got, cudaStream_t stream) {
    if (!check) {
        fill<TA><<<1024, 256, 0, stream>>>((TA *)a, (size_t)m * k, 11);
        fill<TA><<<1024, 256, 0, stream>>>((TA *)b, (size_t)n * k, 12);
    } else {
        reference<TA, TC><<<(CHECK_SAMPLES + 127) / 128, 128, 0, stream>>>(
            (const TA *)a, (const TA *)b, (const TC *)c, m, n, k, tn, CHECK_SAMPLES, ref, got);
    }
    return cudaGetLastError();
}

// Fills A and B with random values (check false) or computes the sampled reference (true).
static cudaError_t fill_or_check(hws_gpu_dtype dt, void *a, void *b, void *c, int m, int n, int k,
                                 bool check, double *ref, double *got, cudaStream_t s) {
    bool tn = dtypes[dt].tn;
    switch (dt) {
    case HWS_GPU_FP32:
    case HWS_GPU_TF32:
        return launch_fill_check<float, float>(a, b, c, m, n, k, tn, check, ref, got, s);
    case HWS_GPU_FP16:
        return launch_fill_check<__half, __half>(a, b, c, m, n, k, tn, check, ref, got, s);
    case HWS_GPU_BF16:
        return launch_fill_check<__nv_bfloat16, __nv_bfloat16>(a, b, c, m, n, k, tn, check, ref,
                                                               got, s);
    case HWS_GPU_FP8:
        return launch_fill_check<__nv_fp8_e4m3, __nv_bfloat16>(a, b, c, m, n, k, tn, check, ref,
                                                               got, s);
    default:
        return launch_fill_check<int8_t, int32_t>(a, b, c, m, n, k, tn, check, ref, got, s);
    }
}

typedef struct {
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc;
    void *a, *b, *c, *ws;
    const void *alpha, *beta;
    cudaStream_t stream;
} gemm_job;

static cublasStatus_t gemm_once(const gemm_job *j, const cublasLtMatmulAlgo_t *algo) {
    return cublasLtMatmul(j->lt, j->op, j->alpha, j->a, j->la, j->b, j->lb, j->beta, j->c, j->lc,
                          j->c, j->lc, algo, j->ws, WORKSPACE_BYTES, j->stream);
}

// Times `reps` runs of one algorithm into ms; a failing algorithm returns its status.
static hws_status time_algo(const gemm_job *j, const cublasLtMatmulAlgo_t *algo, int warmup,
                            int reps, double *ms, hws_error *err) {
    hws_status st = HWS_OK;
    hws_gpu_timer t;
    t.n = 0;
    for (int i = 0; i < warmup; i++)
        HWS_LT_TRY(gemm_once(j, algo));
    HWS_CUDA_TRY(hws_gpu_timer_init(&t, reps));
    for (int i = 0; i < reps; i++) {
        HWS_CUDA_TRY(cudaEventRecord(t.start[i], j->stream));
        HWS_LT_TRY(gemm_once(j, algo));
        HWS_CUDA_TRY(cudaEventRecord(t.stop[i], j->stream));
    }
    HWS_CUDA_TRY(hws_gpu_timer_read(&t, ms));
done:
    hws_gpu_timer_free(&t);
    return st;
}

static double fastest(const double *ms, int n) {
    double best = ms[0];
    for (int i = 1; i < n; i++)
        best = ms[i] < best ? ms[i] : best;
    return best;
}

// Sets up descriptors and layouts for the TN product of dtype dt.
static hws_status describe(gemm_job *j, hws_gpu_dtype dt, int m, int n, int k, hws_error *err) {
    hws_status st = HWS_OK;
    const dtype_info *d = &dtypes[dt];
    cublasOperation_t ta = d->tn ? CUBLAS_OP_T : CUBLAS_OP_N, tb = CUBLAS_OP_N;
    HWS_LT_TRY(cublasLtMatmulDescCreate(&j->op, d->compute, d->scale));
    HWS_LT_TRY(cublasLtMatmulDescSetAttribute(j->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    HWS_LT_TRY(cublasLtMatmulDescSetAttribute(j->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    if (d->tn)
        HWS_LT_TRY(cublasLtMatrixLayoutCreate(&j->la, d->ab, k, m, k));
    else
        HWS_LT_TRY(cublasLtMatrixLayoutCreate(&j->la, d->ab, m, k, m));
    HWS_LT_TRY(cublasLtMatrixLayoutCreate(&j->lb, d->ab, k, n, k));
    HWS_LT_TRY(cublasLtMatrixLayoutCreate(&j->lc, d->cd, m, n, m));
done:
    return st;
}

// Picks the fastest of the heuristic's first MAX_ALGOS algorithms (2 timed runs each).
static hws_status pick_algo(gemm_job *j, cublasLtMatmulAlgo_t *best, char *note, size_t note_len,
                            hws_error *err) {
    hws_status st = HWS_OK;
    cublasLtMatmulPreference_t pref = nullptr;
    cublasLtMatmulHeuristicResult_t res[MAX_ALGOS];
    int found = 0, chosen = -1;
    size_t ws = WORKSPACE_BYTES;
    double best_ms = INFINITY;
    HWS_LT_TRY(cublasLtMatmulPreferenceCreate(&pref));
    HWS_LT_TRY(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                    &ws, sizeof ws));
    HWS_LT_TRY(cublasLtMatmulAlgoGetHeuristic(j->lt, j->op, j->la, j->lb, j->lc, j->lc, pref,
                                              MAX_ALGOS, res, &found));
    for (int i = 0; i < found; i++) {
        double ms[2];
        hws_error ignored;
        if (res[i].state != CUBLAS_STATUS_SUCCESS)
            continue;
        if (found == 1) { // nothing to choose between
            chosen = i;
            break;
        }
        if (time_algo(j, &res[i].algo, 1, 2, ms, &ignored) != HWS_OK)
            continue;
        if (fastest(ms, 2) < best_ms) {
            best_ms = fastest(ms, 2);
            chosen = i;
        }
    }
    if (chosen < 0) {
        st = hws_gpu_fail(err, "cublasLtMatmulAlgoGetHeuristic", "no algorithm ran for this shape");
        goto done;
    }
    *best = res[chosen].algo;
    if (note != nullptr)
        snprintf(note, note_len, "cuBLASLt heuristic algo %d of %d", chosen + 1, found);
done:
    if (pref != nullptr)
        cublasLtMatmulPreferenceDestroy(pref);
    return st;
}

static void check_result(const double *ref, const double *got, hws_gpu_check *check) {
    double sq = 0, worst = 0;
    for (int i = 0; i < CHECK_SAMPLES; i++)
        sq += ref[i] * ref[i];
    double rms = sqrt(sq / CHECK_SAMPLES);
    for (int i = 0; i < CHECK_SAMPLES; i++) {
        double e = fabs(got[i] - ref[i]);
        if (!(e <= worst)) // NaN counts as the worst error
            worst = e;
    }
    check->checked = CHECK_SAMPLES;
    check->max_rel_err = rms > 0 ? worst / rms : (worst == 0 ? 0 : INFINITY);
}

hws_status hws_gpu_gemm_run(int device, hws_gpu_dtype dt, int m, int n, int k, int warmup, int reps,
                            int settle_ms, double *ms, hws_gpu_check *check, char *algo_note,
                            size_t note_len, hws_error *err) {
    hws_status st = HWS_OK;
    gemm_job j;
    cublasLtMatmulAlgo_t algo;
    const float alpha_f = 1, beta_f = 0;
    const int32_t alpha_i = 1, beta_i = 0;
    double *dev_ref = nullptr, *dev_got = nullptr;
    double ref[CHECK_SAMPLES], got[CHECK_SAMPLES];
    const dtype_info *d;
    memset(&j, 0, sizeof j);
    memset(check, 0, sizeof *check);
    if (dt < 0 || dt >= HWS_GPU_DTYPES || m < 1 || n < 1 || k < 1 || reps < 1 ||
        reps > HWS_GPU_MAX_REPS)
        return hws_gpu_fail(err, "gemm", "bad arguments");
    d = &dtypes[dt];
    j.alpha = dt == HWS_GPU_INT8 ? (const void *)&alpha_i : (const void *)&alpha_f;
    j.beta = dt == HWS_GPU_INT8 ? (const void *)&beta_i : (const void *)&beta_f;
    HWS_CUDA_TRY(cudaSetDevice(device));
    HWS_CUDA_TRY(cudaStreamCreateWithFlags(&j.stream, cudaStreamNonBlocking));
    HWS_LT_TRY(cublasLtCreate(&j.lt));
    HWS_CUDA_TRY(cudaMalloc(&j.a, (size_t)m * k * d->ab_size));
    HWS_CUDA_TRY(cudaMalloc(&j.b, (size_t)n * k * d->ab_size));
    HWS_CUDA_TRY(cudaMalloc(&j.c, (size_t)m * n * d->cd_size));
    HWS_CUDA_TRY(cudaMalloc(&j.ws, WORKSPACE_BYTES));
    HWS_CUDA_TRY(cudaMalloc(&dev_ref, 2 * CHECK_SAMPLES * sizeof(double)));
    dev_got = dev_ref + CHECK_SAMPLES;
    HWS_CUDA_TRY(fill_or_check(dt, j.a, j.b, j.c, m, n, k, false, nullptr, nullptr, j.stream));
    if ((st = describe(&j, dt, m, n, k, err)) != HWS_OK)
        goto done;
    if ((st = pick_algo(&j, &algo, algo_note, note_len, err)) != HWS_OK)
        goto done;
    HWS_CUDA_TRY(cudaStreamSynchronize(j.stream));
    if (settle_ms > 0) // let the power average fall back after the algorithm search
        usleep((useconds_t)settle_ms * 1000);
    if ((st = time_algo(&j, &algo, warmup, reps, ms, err)) != HWS_OK)
        goto done;
    HWS_CUDA_TRY(cudaMemsetAsync(j.c, 0xff, (size_t)m * n * d->cd_size, j.stream));
    HWS_LT_TRY(gemm_once(&j, &algo));
    HWS_CUDA_TRY(fill_or_check(dt, j.a, j.b, j.c, m, n, k, true, dev_ref, dev_got, j.stream));
    HWS_CUDA_TRY(cudaMemcpyAsync(ref, dev_ref, sizeof ref, cudaMemcpyDeviceToHost, j.stream));
    HWS_CUDA_TRY(cudaMemcpyAsync(got, dev_got, sizeof got, cudaMemcpyDeviceToHost, j.stream));
    HWS_CUDA_TRY(cudaStreamSynchronize(j.stream));
    check_result(ref, got, check);
done:
    if (j.stream != nullptr)
        cudaStreamSynchronize(j.stream);
    if (j.la != nullptr)
        cublasLtMatrixLayoutDestroy(j.la);
    if (j.lb != nullptr)
        cublasLtMatrixLayoutDestroy(j.lb);
    if (j.lc != nullptr)
        cublasLtMatrixLayoutDestroy(j.lc);
    if (j.op != nullptr)
        cublasLtMatmulDescDestroy(j.op);
    if (j.lt != nullptr)
        cublasLtDestroy(j.lt);
    cudaFree(j.a);
    cudaFree(j.b);
    cudaFree(j.c);
    cudaFree(j.ws);
    cudaFree(dev_ref);
    if (j.stream != nullptr)
        cudaStreamDestroy(j.stream);
    return st;
}
