/* tfm_matmul.cu - the Transformer engine's cuBLASLt products with bias and ReLU epilogues: their
 * descriptors, the plans chosen per product shape and the optional autotune. */
#include "engine/cuda/tfm_context.cuh"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <algorithm>

static cudaDataType_t data_type(hws_tfm_dtype dt) {
    return dt == HWS_TFM_FP16 ? CUDA_R_16F : dt == HWS_TFM_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

static unsigned alignment(const void *p) {
    unsigned a = 256;
    while (a > 1 && ((uintptr_t)p % a) != 0)
        a >>= 1;
    return a;
}

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

hws_status tfm_matmul_run(gpu_ctx *c, const mm_args &m, hws_error *err) {
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
