// gemv_chunk.cuh - the inner step of the LLM engine's weight-streaming products (gemv.cu, and
// the experts' products of moe.cu): 16-byte loads of weights that bypass L1, and their dot with
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

// Byte k of u as a float of value 2^23 + byte (a PRMT into the magic exponent; no I2F, which
// runs at a sixteenth of the FMA rate).
static __device__ __forceinline__ float byte_magic(uint32_t u, int k) {
    return __uint_as_float(__byte_perm(u, 0x4B000000u, 0x7540u + (unsigned)k));
}

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
        // int8 codes q: (q ^ 0x80) is q + 128 unsigned; magic - (2^23 + 128) = q
#pragma unroll
        for (int h = 0; h < 2; h++) {
            uint4 xv = __ldg((const uint4 *)xp + h);
            const uint32_t x4[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
            for (int i = 0; i < 4; i++) {
                uint32_t u = w4[2 * h + i / 2] ^ 0x80808080u;
                int k0 = 2 * (i % 2);
                float2 b = unpack2<BF>(x4[i]);
                s = fmaf(byte_magic(u, k0) - 8388736.0f, b.x, s);
                s = fmaf(byte_magic(u, k0 + 1) - 8388736.0f, b.y, s);
            }
        }
    } else {
        // int4: byte j of the group holds element j (low nibble) and j + 16 (high nibble),
        // each code + 8; magic - (2^23 + 8) = code - 8
#pragma unroll
        for (int half = 0; half < 2; half++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                uint4 xv = __ldg((const uint4 *)xp + 2 * half + h); // elements 16 half + 8 h ..
                const uint32_t x4[4] = {xv.x, xv.y, xv.z, xv.w};
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int byte = 8 * h + 2 * i; // element pair (byte, byte + 1) of this half
                    uint32_t word = w4[byte / 4];
                    uint32_t nib = (half ? word >> 4 : word) & 0x0f0f0f0fu;
                    float2 b = unpack2<BF>(x4[i]);
                    s = fmaf(byte_magic(nib, byte % 4) - 8388616.0f, b.x, s);
                    s = fmaf(byte_magic(nib, byte % 4 + 1) - 8388616.0f, b.y, s);
                }
            }
        }
    }
    return s;
}

// Chunks c0, c0 + step, ... c0 + step (U - 1) of rows row0, row0 + row_step, ... (R of them;
// zero past the end).
template <int FMT, int R, int U>
__device__ __forceinline__ void
load_chunks(const uint8_t *__restrict__ W, const uint16_t *__restrict__ scales, int row0,
            int row_step, int n, int c0, int step, int chunks, size_t row_bytes, int groups,
            uint4 (&wv)[R][U], float (&sc)[R][U]) {
    constexpr int E = chunk_of<FMT>::elems;
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + step * u, row = min(row0 + r * row_step, n - 1);
            wv[r][u] = make_uint4(0, 0, 0, 0);
            sc[r][u] = 1.0f;
            if (c < chunks) {
                wv[r][u] = ld_stream(W + (size_t)row * row_bytes + (size_t)c * 16);
                if (FMT != 0)
                    sc[r][u] = __half2float(__ushort_as_half(
                        __ldg(scales + (size_t)row * groups + c * E / HWS_LLM_GROUP)));
            }
        }
}

#endif
