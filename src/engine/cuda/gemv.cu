// gemv.cu - the decode products of the LLM engine: y (+)= x W^T for 1-8 rows of x, weights in
// bf16/fp16, int8 or int4 (group-wise, dequantised in registers). Each warp streams R rows of W
// with 16-byte loads that bypass L1 (R x U of them in flight per lane), multiplies every row of
// x (read through L1) and reduces with warp shuffles: the weights are read once for all rows.
#include "engine/cuda/gemv_chunk.cuh"

#define GEMV_WARPS 4

template <bool BF, int FMT, int B, int R, int U>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_kernel(const uint8_t *__restrict__ W, const uint16_t *__restrict__ scales,
                const uint16_t *__restrict__ x, int ldx, float *__restrict__ y, int ldy, int n,
                int k, int accumulate) {
    constexpr int E = chunk_of<FMT>::elems;
    const int lane = threadIdx.x & 31;
    const int row0 = (blockIdx.x * GEMV_WARPS + (threadIdx.x >> 5)) * R;
    if (row0 >= n)
        return;
    const int chunks = k / E, groups = k / HWS_LLM_GROUP;
    const size_t row_bytes = (size_t)chunks * 16;
    float sum[R][B];
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < B; b++)
            sum[r][b] = 0.0f;
    for (int c0 = lane; c0 < chunks; c0 += 32 * U) {
        uint4 wv[R][U];
        float sc[R][U];
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
            for (int u = 0; u < U; u++) {
                int row = row0 + r < n ? row0 + r : n - 1;
                load_chunk<FMT>(W, scales, (size_t)row, row_bytes, groups, c0 + 32 * u, chunks,
                                wv[r][u], sc[r][u]);
            }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + 32 * u;
            if (c >= chunks)
                break;
#pragma unroll
            for (int b = 0; b < B; b++) {
                const uint16_t *xp = x + (size_t)b * ldx + (size_t)c * E;
#pragma unroll
                for (int r = 0; r < R; r++)
                    sum[r][b] = fmaf(chunk_dot<BF, FMT>(wv[r][u], xp), sc[r][u], sum[r][b]);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < B; b++) {
            float v = sum[r][b];
#pragma unroll
            for (int o = 16; o > 0; o >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, o);
            if (lane == 0 && row0 + r < n) {
                float *yo = y + (size_t)b * ldy + row0 + r;
                *yo = accumulate ? *yo + v : v;
            }
        }
}

template <bool BF, int FMT, int B>
static void launch(const llm_dev_weight *w, const uint16_t *x, int ldx, float *y, int ldy,
                   int accumulate, cudaStream_t stream) {
    constexpr int R = FMT == 0 ? 1 : 2, U = FMT == 0 ? 4 : 2;
    int blocks = (w->rows + GEMV_WARPS * R - 1) / (GEMV_WARPS * R);
    gemv_kernel<BF, FMT, B, R, U><<<blocks, GEMV_WARPS * 32, 0, stream>>>(
        (const uint8_t *)w->q, w->scales, x, ldx, y, ldy, w->rows, w->cols, accumulate);
}

template <bool BF, int FMT>
static void launch_rows(int rows, const llm_dev_weight *w, const uint16_t *x, int ldx, float *y,
                        int ldy, int accumulate, cudaStream_t stream) {
    switch (rows) {
    case 1:
        return launch<BF, FMT, 1>(w, x, ldx, y, ldy, accumulate, stream);
    case 2:
        return launch<BF, FMT, 2>(w, x, ldx, y, ldy, accumulate, stream);
    case 3:
        return launch<BF, FMT, 3>(w, x, ldx, y, ldy, accumulate, stream);
    case 4:
        return launch<BF, FMT, 4>(w, x, ldx, y, ldy, accumulate, stream);
    case 5:
        return launch<BF, FMT, 5>(w, x, ldx, y, ldy, accumulate, stream);
    case 6:
        return launch<BF, FMT, 6>(w, x, ldx, y, ldy, accumulate, stream);
    case 7:
        return launch<BF, FMT, 7>(w, x, ldx, y, ldy, accumulate, stream);
    default:
        return launch<BF, FMT, 8>(w, x, ldx, y, ldy, accumulate, stream);
    }
}

hws_status llm_gemv(llm_cuda *c, float *y, int ldy, const uint16_t *x, int ldx, int rows,
                    const llm_dev_weight *w, int accumulate, hws_error *err) {
    for (int r0 = 0; r0 < rows; r0 += 8) {
        int n = rows - r0 < 8 ? rows - r0 : 8;
        const uint16_t *xr = x + (size_t)r0 * ldx;
        float *yr = y + (size_t)r0 * ldy;
        if (w->fmt == HWS_LLM_INT8)
            launch_rows<true, 1>(n, w, xr, ldx, yr, ldy, accumulate, c->stream);
        else if (w->fmt == HWS_LLM_INT4)
            launch_rows<true, 2>(n, w, xr, ldx, yr, ldy, accumulate, c->stream);
        else if (c->bf16)
            launch_rows<true, 0>(n, w, xr, ldx, yr, ldy, accumulate, c->stream);
        else
            launch_rows<false, 0>(n, w, xr, ldx, yr, ldy, accumulate, c->stream);
    }
    return hws_cuda_status(cudaGetLastError(), "gemv kernel launch", err);
}

// ---- dequantisation of a weight to 16-bit (for cuBLASLt) ----

template <int FMT>
__global__ void dequant_kernel(const uint8_t *q, const uint16_t *scales, uint16_t *out,
                               size_t groups) {
    size_t g = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= groups)
        return;
    float d = __half2float(__ushort_as_half(scales[g]));
    uint16_t *o = out + g * HWS_LLM_GROUP;
    for (int i = 0; i < HWS_LLM_GROUP; i++) {
        int v;
        if (FMT == 1) {
            v = (int8_t)q[g * HWS_LLM_GROUP + i];
        } else {
            uint8_t b = q[g * HWS_LLM_GROUP / 2 + (i % 16)];
            v = (i < 16 ? b & 15 : b >> 4) - 8;
        }
        o[i] = f_act<true>((float)v * d);
    }
}

hws_status llm_dequant(llm_cuda *c, const llm_dev_weight *w, hws_error *err) {
    size_t groups = (size_t)w->rows * w->cols / HWS_LLM_GROUP;
    unsigned blocks = (unsigned)((groups + 255) / 256);
    if (w->fmt == HWS_LLM_INT8)
        dequant_kernel<1>
            <<<blocks, 256, 0, c->stream>>>((const uint8_t *)w->q, w->scales, c->dequant, groups);
    else
        dequant_kernel<2>
            <<<blocks, 256, 0, c->stream>>>((const uint8_t *)w->q, w->scales, c->dequant, groups);
    return hws_cuda_status(cudaGetLastError(), "dequant kernel launch", err);
}

hws_status llm_linear(llm_cuda *c, float *y, int ldy, const uint16_t *x, int ldx, int rows,
                      const llm_dev_weight *w, int accumulate, hws_error *err) {
    if (rows <= 8)
        return llm_gemv(c, y, ldy, x, ldx, rows, w, accumulate, err);
    const uint16_t *w16 = (const uint16_t *)w->q;
    if (w->fmt == HWS_LLM_INT8 || w->fmt == HWS_LLM_INT4) {
        hws_status st = llm_dequant(c, w, err);
        if (st != HWS_OK)
            return st;
        w16 = c->dequant;
    }
    return llm_gemm_run(c->gemm, c->stream, c->bf16, y, ldy, x, ldx, w16, rows, w->rows, w->cols,
                        accumulate, err);
}
