// gemm.cu - the prefill products of the LLM engine through cuBLASLt: y[m, n] (fp32) = or +=
// x[m, k] W[n, k]^T with 16-bit x and W, fp32 accumulation. The algorithm of each shape is asked
// of the heuristic once, timed among its first candidates (autotune) and kept.
#include "engine/cuda/llm_cuda.cuh"

#include <cstdlib>
#include <cstring>

#define GEMM_PLANS      64
#define GEMM_CANDIDATES 4
#define GEMM_WORKSPACE  (32u << 20)

struct gemm_plan {
    int m, n, k, bf16, accumulate;
    cublasLtMatmulAlgo_t algo;
};

struct llm_gemm {
    cublasLtHandle_t lt;
    void *workspace;
    gemm_plan plans[GEMM_PLANS];
    int n_plans;
};

hws_status llm_gemm_new(llm_gemm **out, hws_error *err) {
    llm_gemm *g = (llm_gemm *)calloc(1, sizeof *g);
    if (!g)
        return hws_gpu_fail(err, "gemm", "out of host memory");
    hws_status st = hws_cublas_status(cublasLtCreate(&g->lt), "cublasLtCreate", err);
    if (st == HWS_OK)
        st =
            hws_cuda_status(cudaMalloc(&g->workspace, GEMM_WORKSPACE), "cudaMalloc workspace", err);
    if (st != HWS_OK) {
        llm_gemm_free(g);
        return st;
    }
    *out = g;
    return HWS_OK;
}

void llm_gemm_free(llm_gemm *g) {
    if (!g)
        return;
    if (g->workspace)
        cudaFree(g->workspace);
    if (g->lt)
        cublasLtDestroy(g->lt);
    free(g);
}

// The descriptors of one product (column-major view: D[n, m] = W^T[n, k] x^T[k, m]).
struct gemm_desc {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    ~gemm_desc() {
        if (op)
            cublasLtMatmulDescDestroy(op);
        if (a)
            cublasLtMatrixLayoutDestroy(a);
        if (b)
            cublasLtMatrixLayoutDestroy(b);
        if (c)
            cublasLtMatrixLayoutDestroy(c);
    }
};

static hws_status describe(gemm_desc *d, int bf16, int m, int n, int k, int ldx, int ldy,
                           hws_error *err) {
    cudaDataType_t t = bf16 ? CUDA_R_16BF : CUDA_R_16F;
    cublasOperation_t trans = CUBLAS_OP_T;
    HWS_CUBLAS_RET(cublasLtMatmulDescCreate(&d->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    HWS_CUBLAS_RET(
        cublasLtMatmulDescSetAttribute(d->op, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
    HWS_CUBLAS_RET(cublasLtMatrixLayoutCreate(&d->a, t, k, n, k));
    HWS_CUBLAS_RET(cublasLtMatrixLayoutCreate(&d->b, t, k, m, ldx));
    HWS_CUBLAS_RET(cublasLtMatrixLayoutCreate(&d->c, CUDA_R_32F, n, m, ldy));
    return HWS_OK;
}

// Times each of the heuristic's first candidates once (after a warm-up) and keeps the fastest.
static hws_status autotune(llm_gemm *g, cudaStream_t stream, const gemm_desc &d,
                           const cublasLtMatmulHeuristicResult_t *cand, int n_cand, float *y,
                           const uint16_t *x, const uint16_t *w, int *best, hws_error *err) {
    float zero = 0.0f, one = 1.0f;
    *best = 0;
    if (n_cand == 1)
        return HWS_OK;
    cudaEvent_t e0, e1;
    HWS_CUDA_RET(cudaEventCreate(&e0));
    HWS_CUDA_RET(cudaEventCreate(&e1));
    float best_ms = 1e30f;
    hws_status st = HWS_OK;
    for (int i = 0; i < n_cand && st == HWS_OK; i++) {
        for (int rep = 0; rep < 2 && st == HWS_OK; rep++) {
            st = hws_cuda_status(cudaEventRecord(e0, stream), "cudaEventRecord", err);
            if (st == HWS_OK)
                st = hws_cublas_status(cublasLtMatmul(g->lt, d.op, &one, w, d.a, x, d.b, &zero, y,
                                                      d.c, y, d.c, &cand[i].algo, g->workspace,
                                                      GEMM_WORKSPACE, stream),
                                       "cublasLtMatmul (autotune)", err);
            if (st == HWS_OK)
                st = hws_cuda_status(cudaEventRecord(e1, stream), "cudaEventRecord", err);
            if (st == HWS_OK)
                st = hws_cuda_status(cudaEventSynchronize(e1), "cudaEventSynchronize", err);
        }
        float ms = 0;
        if (st == HWS_OK && cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess && ms < best_ms) {
            best_ms = ms;
            *best = i;
        }
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return st;
}

hws_status llm_gemm_run(llm_gemm *g, cudaStream_t stream, int bf16, float *y, int ldy,
                        const uint16_t *x, int ldx, const uint16_t *w, int m, int n, int k,
                        int accumulate, hws_error *err) {
    gemm_desc d;
    hws_status st = describe(&d, bf16, m, n, k, ldx, ldy, err);
    if (st != HWS_OK)
        return st;
    gemm_plan *plan = nullptr;
    for (int i = 0; i < g->n_plans && !plan; i++) {
        gemm_plan *p = &g->plans[i];
        if (p->m == m && p->n == n && p->k == k && p->bf16 == bf16 && p->accumulate == accumulate)
            plan = p;
    }
    if (!plan) {
        cublasLtMatmulPreference_t pref;
        HWS_CUBLAS_RET(cublasLtMatmulPreferenceCreate(&pref));
        uint64_t ws = GEMM_WORKSPACE;
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                             sizeof ws);
        cublasLtMatmulHeuristicResult_t cand[GEMM_CANDIDATES];
        int found = 0;
        cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(g->lt, d.op, d.a, d.b, d.c, d.c, pref,
                                                          GEMM_CANDIDATES, cand, &found);
        cublasLtMatmulPreferenceDestroy(pref);
        if (s != CUBLAS_STATUS_SUCCESS || found == 0)
            return hws_gpu_fail(err, "cublasLtMatmulAlgoGetHeuristic", "no algorithm");
        int best = 0;
        cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
        cudaStreamIsCapturing(stream, &cap);
        if (!accumulate && cap == cudaStreamCaptureStatusNone) // y is scratch: time on it
            st = autotune(g, stream, d, cand, found, y, x, w, &best, err);
        if (st != HWS_OK)
            return st;
        plan = &g->plans[g->n_plans < GEMM_PLANS ? g->n_plans++ : GEMM_PLANS - 1];
        *plan = gemm_plan{m, n, k, bf16, accumulate, cand[best].algo};
    }
    float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    return hws_cublas_status(cublasLtMatmul(g->lt, d.op, &alpha, w, d.a, x, d.b, &beta, y, d.c, y,
                                            d.c, &plan->algo, g->workspace, GEMM_WORKSPACE, stream),
                             "cublasLtMatmul", err);
}
