// gemv.cu - the decode products of the LLM engine: y (+)= x W^T for 1-8 rows of x, weights in
// bf16/fp16, int8 or int4 (group-wise, dequantised in registers). Each warp streams R rows of W
// with 16-byte loads that bypass L1 (R x U of them in flight per lane), multiplies every row of
// x (read through L1) and reduces with warp shuffles: the weights are read once for all rows.
#include "engine/cuda/gemv_chunk.cuh"

#define GEMV_WARPS 4
// 16-bit rows at least this long are split over a block's warps. On the H100 (2026-12-06,
// Llama-3.1-8B decode, batch 1) splitting every 4096-wide row gave 171.7 tokens/s against
// 167.5 unsplit; the int formats lost (int4 271 against 337), so they are not split.
#define GEMV_LONG_ROW 4096

// KS warps share rows (each takes every KS-th run of 32 chunks; shared memory adds them up):
// long rows in shorter streams and more blocks. SWIGLU (R = 2): W is a gate-up weight stored
// in runs of 8 gate rows then their 8 up rows (llm_store); warp-row p takes gate row
// 16 (p / 8) + p % 8 and its up row 8 further, and writes act[b, 8 (p / 8) + p % 8] =
// silu(gate) up instead of y. A fused RMSNorm on either side (llm_gemv_out) takes B <= 2.
template <bool BF, int FMT, int B, int R, int U, int KS, bool SWIGLU>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_kernel(const uint8_t *__restrict__ W, const uint16_t *__restrict__ scales,
                const uint16_t *__restrict__ x, int ldx, llm_gemv_out o, int n, int k) {
    constexpr int E = chunk_of<FMT>::elems;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, slice = warp % KS;
    const int p = blockIdx.x * (GEMV_WARPS / KS) + warp / KS, step = 32 * KS;
    const int row0 = SWIGLU ? 16 * (p >> 3) + (p & 7) : p * R, row_step = SWIGLU ? 8 : 1;
    if (KS == 1 && row0 >= n)
        return;
    const int chunks = k / E, groups = k / HWS_LLM_GROUP;
    const size_t row_bytes = (size_t)chunks * 16;
    float sum[R][B];
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < B; b++)
            sum[r][b] = 0.0f;
    uint4 wv[R][U];
    float sc[R][U];
    // the first loads go out before waiting on the kernel before (weights do not depend on it)
    int c0 = lane + 32 * slice;
    load_chunks<FMT, R, U>(W, scales, row0, row_step, n, c0, step, chunks, row_bytes, groups, wv,
                           sc);
    // one or two rows: the residual this lane adds to and the norm's gammas before the wait, as
    // gemv_int4.cu does (llm_residual_in). H100, 2026-12-06, Llama-3.1-8B bf16 decode: 182.2 ->
    // 185.1 tokens/s
    constexpr bool EARLY = !SWIGLU && B <= 2;
    constexpr int B_EARLY = EARLY ? B : 1;
    const bool writes = lane == 0 && slice == 0;
    float y_old[R][B_EARLY], gamma[R];
#pragma unroll
    for (int r = 0; r < R; r++) {
        gamma[r] = 0.0f;
#pragma unroll
        for (int b = 0; b < B_EARLY; b++)
            y_old[r][b] = 0.0f;
        if (EARLY && writes && row0 + r < n) {
#pragma unroll
            for (int b = 0; b < B_EARLY; b++)
                y_old[r][b] = llm_residual_in(o, b, row0 + r);
            gamma[r] = llm_norm_gamma(o, row0 + r);
        }
    }
    pdl_wait();
    // the norm's scale now, its load beside the first products' (not after the reduction)
    float norm[B];
#pragma unroll
    for (int b = 0; b < B; b++)
        norm[b] = llm_norm_scale(o, b, k);
    for (;;) {
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + step * u;
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
        c0 += step * U;
        if (c0 >= chunks)
            break;
        load_chunks<FMT, R, U>(W, scales, row0, row_step, n, c0, step, chunks, row_bytes, groups,
                               wv, sc);
    }
    pdl_launch();
    __shared__ float part[KS > 1 ? GEMV_WARPS : 1][R][B];
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < B; b++) {
            float v = sum[r][b];
#pragma unroll
            for (int o = 16; o > 0; o >>= 1)
                v += __shfl_xor_sync(0xffffffffu, v, o);
            sum[r][b] = v;
            if (KS > 1 && lane == 0)
                part[KS > 1 ? warp : 0][r][b] = v;
        }
    if (KS > 1)
        __syncthreads();
    if (!writes)
        return;
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int b = 0; b < B; b++) {
#pragma unroll
            for (int s = 1; s < KS; s++)
                sum[r][b] += part[warp + s][r][b];
            sum[r][b] *= norm[b];
        }
    if constexpr (SWIGLU) {
#pragma unroll
        for (int b = 0; b < B; b++)
            if (row0 < n)
                o.act[(size_t)b * o.ld_act + 8 * (p >> 3) + (p & 7)] =
                    swiglu_act<BF>(sum[0][b], sum[R - 1][b]);
    } else {
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
            for (int b = 0; b < B; b++) {
                float v = sum[r][b];
                if (row0 + r < n) {
                    int i = row0 + r;
                    v += EARLY ? y_old[r][EARLY ? b : 0] : llm_residual_in(o, b, i);
                    o.y[(size_t)b * o.ldy + i] = v;
                    llm_norm_put<BF>(o, b, i, v, EARLY ? gamma[r] : llm_norm_gamma(o, i));
                }
            }
    }
}

// d (+)= a b for one m16n8k16 tensor-core product with float accumulation: a holds row g of A
// (rows g + 8 are zero), b column g of B, d row g (d[2], d[3] belong to the zero rows).
template <bool BF>
__device__ __forceinline__ void mma_16816(float (&d)[4], uint32_t a0, uint32_t a2, uint32_t b0,
                                          uint32_t b1) {
    if (BF)
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
                     "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a0), "r"(0u), "r"(a2), "r"(0u), "r"(b0), "r"(b1));
    else
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, "
                     "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a0), "r"(0u), "r"(a2), "r"(0u), "r"(b0), "r"(b1));
}

// Batch rows 3-8 of 16-bit weights on the tensor cores: y[b, r] = x[b] . W[r] with the B rows
// of x as the rows of A (padded to 16) and 8 rows of W as the columns of B. A block takes 8
// rows of W; its four warps take every fourth 32-element slice of k. Lane (g, c) streams 16
// bytes of row g (elements 8c..8c+7 of the slice) and reads the same elements of x row g:
// since a dot product does not care in which order k is summed, those 8 elements fill the k
// slots {2c, 2c+1, 2c+8, 2c+9} of two products, the same slots in A and in B. The four warps'
// results are added in shared memory.
#define MMA_U 4 // 16-byte loads in flight per lane
template <bool BF, int B>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
    gemv_mma_kernel(const uint8_t *__restrict__ W, const uint16_t *__restrict__ x, int ldx,
                    float *__restrict__ y, int ldy, int n, int k, int accumulate) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, c = lane & 3;
    const int row0 = blockIdx.x * 8, iters = k / 32;
    const size_t row_bytes = (size_t)k * 2;
    const uint8_t *wr = W + (size_t)min(row0 + g, n - 1) * row_bytes + (size_t)c * 16;
    uint4 wv[MMA_U];
#pragma unroll
    for (int u = 0; u < MMA_U; u++) {
        int i = warp + GEMV_WARPS * u;
        wv[u] = i < iters ? ld_stream(wr + (size_t)i * 64) : make_uint4(0, 0, 0, 0);
    }
    pdl_wait();
    const uint16_t *xr = x + (size_t)(g < B ? g : 0) * ldx + c * 8;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i0 = warp; i0 < iters; i0 += GEMV_WARPS * MMA_U) {
#pragma unroll
        for (int u = 0; u < MMA_U; u++) {
            int i = i0 + GEMV_WARPS * u;
            if (i < iters) {
                uint4 xv =
                    g < B ? __ldg((const uint4 *)(xr + (size_t)i * 32)) : make_uint4(0, 0, 0, 0);
                mma_16816<BF>(acc, xv.x, xv.y, wv[u].x, wv[u].y);
                mma_16816<BF>(acc, xv.z, xv.w, wv[u].z, wv[u].w);
            }
        }
#pragma unroll
        for (int u = 0; u < MMA_U; u++) {
            int i = i0 + GEMV_WARPS * (MMA_U + u);
            wv[u] = i < iters ? ld_stream(wr + (size_t)i * 64) : make_uint4(0, 0, 0, 0);
        }
    }
    pdl_launch();
    __shared__ float part[GEMV_WARPS][32][2];
    part[warp][lane][0] = acc[0];
    part[warp][lane][1] = acc[1];
    __syncthreads();
    if (warp != 0 || g >= B)
        return;
    float v[2] = {0.0f, 0.0f};
#pragma unroll
    for (int w = 0; w < GEMV_WARPS; w++) {
        v[0] += part[w][lane][0];
        v[1] += part[w][lane][1];
    }
#pragma unroll
    for (int j = 0; j < 2; j++) {
        int r = row0 + 2 * c + j;
        if (r < n) {
            float *yo = y + (size_t)g * ldy + r;
            *yo = accumulate ? *yo + v[j] : v[j];
        }
    }
}

template <bool BF, int FMT, int B>
static void launch(const llm_dev_weight *w, const uint16_t *x, int ldx, const llm_gemv_out &o,
                   cudaStream_t stream) {
    float *y = o.y;
    int ldy = o.ldy, accumulate = o.accumulate;
    if (FMT == 0 && B > 2 && w->cols % 32 == 0) { // the tensor-core kernel
        llm_launch(gemv_mma_kernel<BF, B>, dim3((unsigned)((w->rows + 7) / 8)),
                   dim3(GEMV_WARPS * 32), 0, stream, (const uint8_t *)w->q, x, ldx, y, ldy, w->rows,
                   w->cols, accumulate);
        return;
    }
    // rows per warp R (x read and unpacked once for R rows) and loads in flight per row U
    constexpr int R = B <= 2 ? (FMT == 0 ? 1 : 2) : (B <= 4 ? 2 : 4);
    constexpr int U = B <= 2 ? (FMT == 0 ? 8 : 4) : (B <= 4 ? 2 : 1);
    int ks = FMT == 0 && w->cols >= GEMV_LONG_ROW ? GEMV_WARPS : 1; // warps per row
    // split rows take 4 loads a lane at a time: 4096 wide, the whole row (fewer registers, more
    // blocks an SM). H100, 2026-12-06, Llama-3.1-8B's four bf16 products of 32 layers in a
    // graph: 37.69 against 37.99 us a product at batch 1, 38.86 against 39.15 at batch 2
    // (bench/results/llm-h100-2026-12-06-session4, gemvbench)
    constexpr int U_SPLIT = U < 4 ? U : 4;
    const uint8_t *q = (const uint8_t *)w->q;
    int rows_per_block = GEMV_WARPS / ks * R;
    dim3 grid((unsigned)((w->rows + rows_per_block - 1) / rows_per_block));
    auto kernel = ks == 1 ? gemv_kernel<BF, FMT, B, R, U, 1, false>
                          : gemv_kernel<BF, FMT, B, R, U_SPLIT, GEMV_WARPS, false>;
    llm_launch(kernel, grid, dim3(GEMV_WARPS * 32), 0, stream, q, (const uint16_t *)w->scales, x,
               ldx, o, w->rows, w->cols);
}

// The gate-up product of one or two rows with SwiGLU's activation into o.act: R = 2 (a gate
// row and its up row per warp-row), the same loads in flight as launch's.
template <bool BF, int FMT, int B>
static void launch_swiglu(const llm_dev_weight *w, const uint16_t *x, int ldx,
                          const llm_gemv_out &o, cudaStream_t stream) {
    constexpr int U = 4;
    int ks = FMT == 0 && w->cols >= GEMV_LONG_ROW ? GEMV_WARPS : 1;
    unsigned pairs = (unsigned)(w->rows / 2), per_block = (unsigned)(GEMV_WARPS / ks);
    auto kernel = ks == 1 ? gemv_kernel<BF, FMT, B, 2, U, 1, true>
                          : gemv_kernel<BF, FMT, B, 2, U, GEMV_WARPS, true>;
    llm_launch(kernel, dim3((pairs + per_block - 1) / per_block), dim3(GEMV_WARPS * 32), 0, stream,
               (const uint8_t *)w->q, (const uint16_t *)w->scales, x, ldx, o, w->rows, w->cols);
}

template <bool BF, int FMT>
static void launch_rows(int rows, const llm_dev_weight *w, const uint16_t *x, int ldx,
                        const llm_gemv_out &o, cudaStream_t stream) {
    if (o.act) // rows <= LLM_FUSED_ROWS (llm_gemv_to)
        return rows == 1 ? launch_swiglu<BF, FMT, 1>(w, x, ldx, o, stream)
                         : launch_swiglu<BF, FMT, 2>(w, x, ldx, o, stream);
    switch (rows) {
    case 1:
        return launch<BF, FMT, 1>(w, x, ldx, o, stream);
    case 2:
        return launch<BF, FMT, 2>(w, x, ldx, o, stream);
    case 3:
        return launch<BF, FMT, 3>(w, x, ldx, o, stream);
    case 4:
        return launch<BF, FMT, 4>(w, x, ldx, o, stream);
    case 5:
        return launch<BF, FMT, 5>(w, x, ldx, o, stream);
    case 6:
        return launch<BF, FMT, 6>(w, x, ldx, o, stream);
    case 7:
        return launch<BF, FMT, 7>(w, x, ldx, o, stream);
    default:
        return launch<BF, FMT, 8>(w, x, ldx, o, stream);
    }
}

hws_status llm_gemv_to(llm_cuda *c, const llm_gemv_out &o, const uint16_t *x, int ldx, int rows,
                       const llm_dev_weight *w, hws_error *err) {
    if ((o.act || o.norm_h || o.norm_sums_in) && rows > LLM_FUSED_ROWS)
        return hws_gpu_errorf(err, HWS_ERR_RUNTIME,
                              "the SwiGLU and RMSNorm products take 1-2 rows, not %d", rows);
    for (int r0 = 0; r0 < rows; r0 += 8) {
        int n = rows - r0 < 8 ? rows - r0 : 8;
        const uint16_t *xr = x + (size_t)r0 * ldx;
        llm_gemv_out on = o;
        on.y = o.y ? o.y + (size_t)r0 * o.ldy : nullptr;
        if (llm_gemv_int4_fits(w, n)) {
            hws_status st = llm_gemv_int4(c, on, xr, ldx, n, w, err);
            if (st != HWS_OK)
                return st;
        } else if (w->fmt == HWS_LLM_INT8)
            launch_rows<true, 1>(n, w, xr, ldx, on, c->stream);
        else if (w->fmt == HWS_LLM_INT4)
            launch_rows<true, 2>(n, w, xr, ldx, on, c->stream);
        else if (c->bf16)
            launch_rows<true, 0>(n, w, xr, ldx, on, c->stream);
        else
            launch_rows<false, 0>(n, w, xr, ldx, on, c->stream);
    }
    return hws_cuda_status(cudaGetLastError(), "gemv kernel launch", err);
}

hws_status llm_gemv(llm_cuda *c, float *y, int ldy, const uint16_t *x, int ldx, int rows,
                    const llm_dev_weight *w, int accumulate, hws_error *err) {
    llm_gemv_out o = {};
    o.y = y;
    o.ldy = ldy;
    o.accumulate = accumulate;
    return llm_gemv_to(c, o, x, ldx, rows, w, err);
}

// ---- dequantisation of a weight to 16-bit (for cuBLASLt) ----

// A thread per 8 consecutive elements (one 16-byte store).
template <int FMT>
__global__ void dequant_kernel(const uint8_t *q, const uint16_t *scales, uint16_t *out,
                               size_t octets) {
    size_t o = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= octets)
        return;
    size_t e0 = o * 8, g = e0 / HWS_LLM_GROUP;
    int j0 = (int)(e0 % HWS_LLM_GROUP);
    float d = __half2float(__ushort_as_half(scales[g]));
    uint16_t v[8];
    if (FMT == 1) {
        uint2 b = *(const uint2 *)(q + e0);
        const int8_t *c = (const int8_t *)&b;
#pragma unroll
        for (int i = 0; i < 8; i++)
            v[i] = f_act<true>((float)c[i] * d);
    } else {
        uint2 b = *(const uint2 *)(q + g * HWS_LLM_GROUP / 2 + (j0 % 16));
        const uint8_t *c = (const uint8_t *)&b;
#pragma unroll
        for (int i = 0; i < 8; i++)
            v[i] = f_act<true>((float)((j0 < 16 ? c[i] & 15 : c[i] >> 4) - 8) * d);
    }
    *(uint4 *)(out + e0) = *(const uint4 *)v;
}

hws_status llm_dequant(llm_cuda *c, const llm_dev_weight *w, hws_error *err) {
    size_t octets = (size_t)w->rows * w->cols / 8;
    unsigned blocks = (unsigned)((octets + 255) / 256);
    const uint8_t *q = (const uint8_t *)w->q;
    if (w->fmt == HWS_LLM_INT8)
        dequant_kernel<1><<<blocks, 256, 0, c->stream>>>(q, w->scales, c->dequant, octets);
    else
        dequant_kernel<2><<<blocks, 256, 0, c->stream>>>(q, w->scales, c->dequant, octets);
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
