// gemv_int4.cu - the 4-bit decode product of the LLM engine for one or two rows of x on the
// tensor cores: y[b, r] (+)= x[b] . W[r] with W group-wise int4 (HWS_LLM_GROUP = 32 codes + 8
// per fp16 scale, Q4_0's byte order). The per-element path of gemv.cu spends about four
// instructions on each weight (unpack, convert, subtract, FMA) and stalls on them at half the
// copy bandwidth; here eight codes become four bf16 pairs (128 + code) with three shifts and
// four LOP3s, one mma.m16n8k16 multiplies 256 of them, and the 136 offset comes off once per
// group as 136 times the group's sum of x. On the H100 (2026-12-06, Llama-3.1-8B int4) decode
// went from 337 to 368 tokens/s at batch 1 and from 456 to 669 at batch 2.
//
// A block of WARPS warps takes 16 rows of W, each warp every WARPS-th slice of 128 columns (four
// groups); shared memory adds the warps up. Lane (g, c) loads group c of the slice for rows g and g
// + 8 (16 bytes each) as its part of A (the mma's k order is free, so each lane keeps its group's
// codes in the order they unpack). The columns of B are (x row b, group j) for n = 4 b + j: B is x
// where the lane that supplies column n is the one whose A k-slots hold group j, and zero
// elsewhere, so C[r, n] is row r's dot over group j alone and each can take its own scale. Two rows
// of x fill all eight columns. SWIGLU: W is a gate-up weight in runs of 8 gate rows then their 8 up
// rows (llm_store), so a lane holds a gate row and its up row and writes SwiGLU's activation into
// act instead of y.
#include "engine/cuda/gemv_chunk.cuh"

#define I4_U           4          // slices in flight per warp
#define I4_SLICE       128        // columns per slice: four groups
#define I4_MAX_X_BYTES (96 << 10) // x in shared memory at most (k up to 24576 for two rows)

// Four bf16 pairs (128 + code) of the eight codes in word w: elements (0, 2), (16, 18), (1, 3),
// (17, 19) of the word's four bytes (byte j: element j low, element j + 16 high). The 128 + 8
// offset is taken off after the products, as 136 times the group's sum of x.
__device__ __forceinline__ void int4_word_to_bf16(uint32_t w, uint32_t (&out)[4]) {
    const uint32_t magic = 0x43004300u, mask = 0x000f000fu;
#pragma unroll
    for (int i = 0; i < 4; i++) // (w >> 4 i & mask) | magic: 0xEA is a & b | c
        asm("lop3.b32 %0, %1, %2, %3, 0xEA;"
            : "=r"(out[i])
            : "r"(w >> (4 * i)), "r"(mask), "r"(magic));
}

__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                               uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
        "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Slice i's codes of rows lo and hi for lane c, and the two fp16 scales of each row its C
// columns need (groups 4 i + 2 (c % 2) and the next; zero past k's end).
struct int4_slice {
    uint4 lo, hi;
    uint32_t s_lo, s_hi;
};

__device__ __forceinline__ int4_slice load_slice(const uint8_t *w_lo, const uint8_t *w_hi,
                                                 const uint16_t *s_lo, const uint16_t *s_hi, int i,
                                                 int slices, int groups, int c) {
    int4_slice v = {make_uint4(0, 0, 0, 0), make_uint4(0, 0, 0, 0), 0u, 0u};
    if (i < slices && 4 * i + c < groups) {
        v.lo = ld_stream(w_lo + (size_t)i * 64);
        v.hi = ld_stream(w_hi + (size_t)i * 64);
    }
    if (i < slices && 4 * i + 2 * (c & 1) < groups) {
        v.s_lo = __ldg((const uint32_t *)(s_lo + 4 * i));
        v.s_hi = __ldg((const uint32_t *)(s_hi + 4 * i));
    }
    return v;
}

// x (B rows of k) is staged in shared memory first (the weights' first loads already in flight),
// each group of 32 already in the order of the B fragments its supplying lane passes (x words X
// = pairs of elements; fragment pair q = 4 word + 2 half: the low (half 0) or high (half 1)
// elements of X[2 word], X[2 word + 1], then of X[8 + 2 word], X[9 + 2 word]), with each group's
// sum of x beside it.
#define I4_ZERO_WORDS 16 // a run of zero words, the B of the lanes that supply none

// A thread per half group: words 8q .. 8q + 7 of its permuted order from X[4q .. 4q + 3] and
// X[8 + 4q .. 8 + 4q + 3]. Each thread loads the x of I4_STAGE_RUN half groups before it
// permutes and stores any: one L2 round trip a run, where the down product's 14336 columns
// took four one after the other (H100, 2026-12-06, Llama-3.1-8B int4 decode: 438.7 -> 442.2
// tokens/s with runs of 2; runs of 3 or 4 no better).
#define I4_STAGE_RUN 2

__device__ __forceinline__ void stage_x(const uint16_t *__restrict__ x, int ldx, int rows, int k,
                                        uint4 *x_perm, float *x_sum, int threads) {
    const int groups = k / HWS_LLM_GROUP, total = rows * groups * 2;
    for (int t0 = 0; t0 < total; t0 += threads * I4_STAGE_RUN) { // whole warps: the shuffle
        uint4 u[I4_STAGE_RUN], v[I4_STAGE_RUN];
#pragma unroll
        for (int r = 0; r < I4_STAGE_RUN; r++) {
            int t = min(t0 + r * threads + (int)threadIdx.x, total - 1), q = t & 1, gi = t >> 1;
            const uint4 *src = (const uint4 *)(x + (size_t)(gi / groups) * ldx +
                                               (size_t)(gi % groups) * HWS_LLM_GROUP);
            if (t0 + r * threads < total) {
                u[r] = src[q];
                v[r] = src[2 + q];
            }
        }
#pragma unroll
        for (int r = 0; r < I4_STAGE_RUN; r++) {
            if (t0 + r * threads >= total)
                break;
            int t = t0 + r * threads + (int)threadIdx.x, q = t & 1, gi = t >> 1;
            const uint32_t lo[4] = {u[r].x, u[r].y, u[r].z, u[r].w},
                           hi[4] = {v[r].x, v[r].y, v[r].z, v[r].w};
            uint32_t out[8];
            float sum = 0.0f;
#pragma unroll
            for (int w = 0; w < 2; w++) { // word 2q + w: X[4q + 2w], X[4q + 2w + 1] and 8 further
#pragma unroll
                for (int half = 0; half < 2; half++) {
                    unsigned sel = half ? 0x7632u : 0x5410u;
                    out[4 * w + 2 * half] = __byte_perm(lo[2 * w], lo[2 * w + 1], sel);
                    out[4 * w + 2 * half + 1] = __byte_perm(hi[2 * w], hi[2 * w + 1], sel);
                }
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    float2 a = unpack2<true>(lo[2 * w + j]), c = unpack2<true>(hi[2 * w + j]);
                    sum += a.x + a.y + c.x + c.y;
                }
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            if (t >= total)
                continue;
            uint4 *dst = x_perm + (size_t)gi * 4 + 2 * q;
            dst[0] = make_uint4(out[0], out[1], out[2], out[3]);
            dst[1] = make_uint4(out[4], out[5], out[6], out[7]);
            if (q == 0)
                x_sum[gi] = sum;
        }
    }
}

template <int B, bool SWIGLU, int WARPS>
__global__ void __launch_bounds__(WARPS * 32)
    gemv_int4_kernel(const uint8_t *__restrict__ W, const uint16_t *__restrict__ scales,
                     const uint16_t *__restrict__ x, int ldx, llm_gemv_out o, int n, int k) {
    extern __shared__ uint4 x_shared[]; // zero words, x [B][k / 8] permuted, sums [B][groups]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, c = lane & 3;
    const int groups = k / HWS_LLM_GROUP, slices = (groups + 3) / 4;
    const int row_lo = min((int)blockIdx.x * 16 + g, n - 1), row_hi = min(row_lo + 8, n - 1);
    const size_t row_bytes = (size_t)k / 2;
    const uint8_t *w_lo = W + (size_t)row_lo * row_bytes + c * 16,
                  *w_hi = W + (size_t)row_hi * row_bytes + c * 16;
    // its C columns 2c, 2c + 1: x row c / 2, groups 2 (c % 2) and 2 (c % 2) + 1
    const uint16_t *s_lo = scales + (size_t)row_lo * groups + 2 * (c & 1),
                   *s_hi = scales + (size_t)row_hi * groups + 2 * (c & 1);
    int4_slice ws[I4_U];
#pragma unroll
    for (int u = 0; u < I4_U; u++)
        ws[u] = load_slice(w_lo, w_hi, s_lo, s_hi, warp + WARPS * u, slices, groups, c);
    uint4 *x_perm = x_shared + I4_ZERO_WORDS / 4;
    float *x_sum = (float *)(x_perm + (size_t)B * k / 8);
    if (threadIdx.x < I4_ZERO_WORDS / 4)
        x_shared[threadIdx.x] = make_uint4(0, 0, 0, 0);
    // what the epilogue reads besides the sums, before the wait (llm_residual_in says why it
    // may): the residual's rows this lane adds to and their norm gammas. H100, 2026-12-06,
    // Llama-3.1-8B int4 decode: 438.7 -> 458.2 tokens/s (the o product's epilogue 1.5 us a layer
    // shorter, the down product's 1.4; bench/results/llm-h100-2026-12-06-session6, call 4).
    const int b = c >> 1, r_lo = blockIdx.x * 16 + g;
    const bool writes = warp == 0 && !(c & 1) && b < B;
    float y_old[2] = {0.0f, 0.0f}, gamma[2] = {0.0f, 0.0f};
#pragma unroll
    for (int h = 0; h < 2; h++)
        if (!SWIGLU && writes && r_lo + 8 * h < n) {
            y_old[h] = llm_residual_in(o, b, r_lo + 8 * h);
            gamma[h] = llm_norm_gamma(o, r_lo + 8 * h);
        }
    pdl_wait();
    // the norm's scale (the whole warp) now, its load beside x's staging and not after the
    // reduction: H100, 2026-12-06, Llama-3.1-8B int4 decode 418.8 -> 424.9 tokens/s
    float norm[B];
#pragma unroll
    for (int bb = 0; bb < B; bb++)
        norm[bb] = llm_norm_scale(o, bb, k);
    // the next kernel may start (its weight loads) as soon as our last wave runs: H100,
    // 2026-12-06, Llama-3.1-8B int4 decode 371 -> 385 tokens/s (gemv.cu's kernels, which
    // launch theirs after the loop, lost 0.5 % in bf16 that way)
    pdl_launch();
    stage_x(x, ldx, B, k, x_perm, x_sum, WARPS * 32);
    __syncthreads();
    // this lane supplies column g of B (x row g / 4, group g % 4) when that group is its own;
    // the others read zeros
    const bool supplies = (g & 3) == c && (g >> 2) < B;
    const uint4 *xs = supplies ? x_perm + (size_t)(g >> 2) * (k / 8) + c * 4 : x_shared;
    const int xs_step = supplies ? I4_SLICE / 8 : 0;
    // its groups' sums of x: row c / 2, groups 4 i + 2 (c % 2) and the next
    // (B = 1: lanes c >= 2 hold the unused columns 4-7 and read row 0's)
    const float *sums = x_sum + (size_t)min(c >> 1, B - 1) * groups + 2 * (c & 1);
    float sum[4] = {0.0f, 0.0f, 0.0f, 0.0f}; // rows g, g, g + 8, g + 8
    for (int i0 = warp; i0 < slices; i0 += WARPS * I4_U) {
#pragma unroll
        for (int u = 0; u < I4_U; u++) {
            int i = i0 + WARPS * u;
            if (i >= slices)
                break;
            // two chains of products (words 0-1, 2-3) for the tensor pipe's latency
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f}, acc2[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            const uint32_t lo[4] = {ws[u].lo.x, ws[u].lo.y, ws[u].lo.z, ws[u].lo.w};
            const uint32_t hi[4] = {ws[u].hi.x, ws[u].hi.y, ws[u].hi.z, ws[u].hi.w};
            const uint4 *xb = xs + (size_t)i * xs_step;
#pragma unroll
            for (int word = 0; word < 4; word++) {
                uint32_t a_lo[4], a_hi[4];
                int4_word_to_bf16(lo[word], a_lo);
                int4_word_to_bf16(hi[word], a_hi);
                // a past k's end: codes 0 read as 128, against zero x
                uint4 bx = (4 * i + c < groups || !supplies) ? xb[word] : make_uint4(0, 0, 0, 0);
                const uint32_t a0[4] = {a_lo[0], a_hi[0], a_lo[1], a_hi[1]};
                const uint32_t a1[4] = {a_lo[2], a_hi[2], a_lo[3], a_hi[3]};
                float(&d)[4] = word < 2 ? acc : acc2;
                mma_bf16_16816(d, a0, bx.x, bx.y);
                mma_bf16_16816(d, a1, bx.z, bx.w);
            }
            // the products were of 128 + code: take 136 (128 + 8) x's group sums off; the
            // scales of groups past k's end are zero, and so are their products
            float2 sx = make_float2(0.0f, 0.0f);
            if (4 * i + 2 * (c & 1) < groups)
                sx = *(const float2 *)(sums + 4 * i);
            __half2 h_lo, h_hi;
            memcpy(&h_lo, &ws[u].s_lo, 4);
            memcpy(&h_hi, &ws[u].s_hi, 4);
            float2 f_lo = __half22float2(h_lo), f_hi = __half22float2(h_hi);
            sum[0] = fmaf(fmaf(-136.0f, sx.x, acc[0] + acc2[0]), f_lo.x, sum[0]);
            sum[1] = fmaf(fmaf(-136.0f, sx.y, acc[1] + acc2[1]), f_lo.y, sum[1]);
            sum[2] = fmaf(fmaf(-136.0f, sx.x, acc[2] + acc2[2]), f_hi.x, sum[2]);
            sum[3] = fmaf(fmaf(-136.0f, sx.y, acc[3] + acc2[3]), f_hi.y, sum[3]);
            ws[u] = load_slice(w_lo, w_hi, s_lo, s_hi, i + WARPS * I4_U, slices, groups, c);
        }
    }
    // lane c holds x row c / 2 over half of the groups for rows g and g + 8; its neighbour c ^ 1
    // the other half
    float v_lo = sum[0] + sum[1], v_hi = sum[2] + sum[3];
    v_lo += __shfl_xor_sync(0xffffffffu, v_lo, 1);
    v_hi += __shfl_xor_sync(0xffffffffu, v_hi, 1);
    __shared__ float part[WARPS][32][2];
    part[warp][lane][0] = v_lo;
    part[warp][lane][1] = v_hi;
    __syncthreads();
    if (!writes)
        return;
#pragma unroll
    for (int w = 1; w < WARPS; w++) {
        v_lo += part[w][lane][0];
        v_hi += part[w][lane][1];
    }
    v_lo *= b ? norm[B - 1] : norm[0];
    v_hi *= b ? norm[B - 1] : norm[0];
    if (SWIGLU) {
        if (r_lo < n)
            o.act[(size_t)b * o.ld_act + blockIdx.x * 8 + g] = swiglu_act<true>(v_lo, v_hi);
        return;
    }
    float *yo = o.y + (size_t)b * o.ldy;
    const float v[2] = {v_lo, v_hi};
#pragma unroll
    for (int h = 0; h < 2; h++) {
        int r = r_lo + 8 * h;
        if (r < n) {
            float y_new = y_old[h] + v[h];
            yo[r] = y_new;
            llm_norm_put<true>(o, b, r, y_new, gamma[h]);
        }
    }
}

// k a multiple of 64: each lane's pair of scales is one aligned word. (Sending one row of the
// narrow q/k/v and o products of an 8B model back to gemv.cu's per-element kernel measured
// 349 against 352 tokens/s on the H100, 2026-12-06: this kernel takes them all.)
bool llm_gemv_int4_fits(const llm_dev_weight *w, int rows) {
    return w->fmt == HWS_LLM_INT4 && rows <= 2 && w->cols % (2 * HWS_LLM_GROUP) == 0 &&
           (size_t)rows * w->cols * 2 <= I4_MAX_X_BYTES;
}

hws_status llm_gemv_int4(llm_cuda *c, const llm_gemv_out &o, const uint16_t *x, int ldx, int rows,
                         const llm_dev_weight *w, hws_error *err) {
    // 8 warps a block where 4 would leave the GPU short of warps (fewer than ~4 blocks of 16
    // rows per SM on an H100)
    unsigned tiles = (unsigned)((w->rows + 15) / 16);
    bool wide = tiles < 512, swiglu = o.act != nullptr;
    auto kernel =
        rows == 1
            ? (swiglu ? (wide ? gemv_int4_kernel<1, true, 8> : gemv_int4_kernel<1, true, 4>)
                      : (wide ? gemv_int4_kernel<1, false, 8> : gemv_int4_kernel<1, false, 4>))
            : (swiglu ? (wide ? gemv_int4_kernel<2, true, 8> : gemv_int4_kernel<2, true, 4>)
                      : (wide ? gemv_int4_kernel<2, false, 8> : gemv_int4_kernel<2, false, 4>));
    size_t x_bytes = I4_ZERO_WORDS * 4 + (size_t)rows * w->cols * 2 +
                     (size_t)rows * (w->cols / HWS_LLM_GROUP) * 4;
    cudaError_t e =
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)x_bytes);
    if (e == cudaSuccess)
        e = llm_launch(kernel, dim3(tiles), dim3((wide ? 8 : 4) * 32), x_bytes, c->stream,
                       (const uint8_t *)w->q, w->scales, x, ldx, o, w->rows, w->cols);
    return hws_cuda_status(e, "int4 gemv kernel launch", err);
}
