// gemv_chunk.cuh - the inner step of the LLM engine's weight-streaming products (gemv.cu, and
// the experts' products of moe.cu): a 16-byte load of weights that bypasses L1, and its dot with
// the same elements of a 16-bit activation row, in each weight format.
#ifndef HWSCOPE_ENGINE_CUDA_GEMV_CHUNK_CUH
#define HWSCOPE_ENGINE_CUDA_GEMV_CHUNK_CUH

#include "engine/cuda/llm_cuda.cuh"

static __device__ __forceinline__ uint4 ld_stream(const void *p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
        : "l"(p));
    return v;
}

template <bool BF> __device__ __forceinline__ float2 unpack2(uint32_t u) {
    if (BF)
        return make_float2(__uint_as_float(u << 16), __uint_as_float(u & 0xffff0000u));
    __half2 h;
    memcpy(&h, &u, 4);
    return __half22float2(h);
}

// Elements of W in one 16-byte load, by format (0: 16-bit, 1: int8, 2: int4).
template <int FMT> struct chunk_of {
    static constexpr int elems = FMT == 0 ? 8 : (FMT == 1 ? 16 : 32);
};

// Dot of one 16-byte chunk of W (elements e0.. of a row) with the same elements of x (unscaled
// for the int formats).
template <bool BF, int FMT>
__device__ __forceinline__ float chunk_dot(uint4 wv, const uint16_t *xp) {
    const uint32_t w4[4] = {wv.x, wv.y, wv.z, wv.w};
    float s = 0.0f;
    if (FMT == 0) {
        uint4 xv = __ldg((const uint4 *)xp);
        const uint32_t x4[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float2 a = unpack2<BF>(w4[i]), b = unpack2<BF>(x4[i]);
            s = fmaf(a.x, b.x, s);
            s = fmaf(a.y, b.y, s);
        }
    } else if (FMT == 1) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            uint4 xv = __ldg((const uint4 *)xp + h);
            const uint32_t x4[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
                uint32_t wq = w4[2 * h + i / 2] >> (16 * (i % 2));
                float2 b = unpack2<BF>(x4[i]);
                s = fmaf((float)(int8_t)(wq & 0xff), b.x, s);
                s = fmaf((float)(int8_t)((wq >> 8) & 0xff), b.y, s);
            }
        }
    } else {
        // byte j of the group: element j (low nibble) and j + 16 (high nibble)
#pragma unroll
        for (int half = 0; half < 2; half++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                uint4 xv = __ldg((const uint4 *)xp + 2 * half + h); // elements 16 half + 8 h ..
                const uint32_t x4[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int byte = 8 * h + 2 * i; // element pair (byte, byte + 1) of this half
                    uint32_t word = w4[byte / 4] >> (8 * (byte % 4));
                    uint32_t n0 = half ? (word >> 4) & 15 : word & 15;
                    uint32_t n1 = half ? (word >> 12) & 15 : (word >> 8) & 15;
                    float2 b = unpack2<BF>(x4[i]);
                    s = fmaf((float)((int)n0 - 8), b.x, s);
                    s = fmaf((float)((int)n1 - 8), b.y, s);
                }
            }
        }
    }
    return s;
}

// Chunk c (16 bytes) of row `row` of a weight of row_bytes per row, and its group's scale (1 for
// the 16-bit formats, which have no scales); zeros past the row's `chunks`.
template <int FMT>
__device__ __forceinline__ void load_chunk(const uint8_t *W, const uint16_t *scales, size_t row,
                                           size_t row_bytes, int groups, int c, int chunks,
                                           uint4 &wv, float &sc) {
    wv = make_uint4(0, 0, 0, 0);
    sc = 1.0f;
    if (c >= chunks)
        return;
    wv = ld_stream(W + row * row_bytes + (size_t)c * 16);
    if (FMT != 0)
        sc = __half2float(__ushort_as_half(
            __ldg(scales + row * groups + c * chunk_of<FMT>::elems / HWS_LLM_GROUP)));
}

#endif
