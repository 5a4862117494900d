/* llm_cpu_simd.h - x86-64 vector pieces the CPU backend's decode (llm_cpu_gemv.c) and prefill
 * (llm_cpu_gemm.c) products share: the target attributes of their two vector versions, fp16
 * scales as floats, and 32 weights of a row in any of the engine's formats as float vectors
 * (the int codes unscaled; int4's as stored, 0..15). Included by those files only, inside their
 * `#if defined(__x86_64__)`. */
#ifndef HWSCOPE_ENGINE_LLM_CPU_SIMD_H
#define HWSCOPE_ENGINE_LLM_CPU_SIMD_H

#include "hwscope/llm.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* n fp16 scales as floats, 8 at a time. */
__attribute__((target("avx,f16c"))) static inline void gemv_scales(const uint16_t *h, size_t n,
                                                                   float *out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++)
        out[i] = _cvtsh_ss(h[i]);
}

#define AVX2_FN __attribute__((target("avx2,fma,f16c")))

AVX2_FN static inline __m256 avx2_int8x8(__m128i b) { /* 8 signed bytes as floats */
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
}

AVX2_FN static inline __attribute__((always_inline)) void
avx2_load32(hws_llm_format fmt, const uint8_t *row, size_t e, __m256 v[4]) {
    switch (fmt) {
    case HWS_LLM_BF16:
        for (int i = 0; i < 4; i++) {
            __m128i h = _mm_loadu_si128((const __m128i *)(row + 2 * (e + 8 * (size_t)i)));
            v[i] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        }
        break;
    case HWS_LLM_FP16:
        for (int i = 0; i < 4; i++)
            v[i] =
                _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * (e + 8 * (size_t)i))));
        break;
    case HWS_LLM_INT8:
        for (int i = 0; i < 4; i++)
            v[i] = avx2_int8x8(_mm_loadl_epi64((const __m128i *)(row + e + 8 * (size_t)i)));
        break;
    default: { /* int4: byte j holds element j (low nibble) and j + 16 (high) */
        __m256i b0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + e / 2)));
        __m256i b1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + e / 2 + 8)));
        __m256i m = _mm256_set1_epi32(15);
        v[0] = _mm256_cvtepi32_ps(_mm256_and_si256(b0, m));
        v[1] = _mm256_cvtepi32_ps(_mm256_and_si256(b1, m));
        v[2] = _mm256_cvtepi32_ps(_mm256_srli_epi32(b0, 4));
        v[3] = _mm256_cvtepi32_ps(_mm256_srli_epi32(b1, 4));
        break;
    }
    }
}

AVX2_FN static inline float avx2_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

AVX512_FN static inline __m512 avx512_int8x16(__m128i b) { /* 16 signed bytes as floats */
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
}

AVX512_FN static inline __attribute__((always_inline)) void
avx512_load32(hws_llm_format fmt, const uint8_t *row, size_t e, __m512 v[2]) {
    switch (fmt) {
    case HWS_LLM_BF16:
        for (int i = 0; i < 2; i++) {
            __m256i h = _mm256_loadu_si256((const __m256i *)(row + 2 * (e + 16 * (size_t)i)));
            v[i] = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
        }
        break;
    case HWS_LLM_FP16:
        for (int i = 0; i < 2; i++)
            v[i] = _mm512_cvtph_ps(
                _mm256_loadu_si256((const __m256i *)(row + 2 * (e + 16 * (size_t)i))));
        break;
    case HWS_LLM_INT8:
        for (int i = 0; i < 2; i++)
            v[i] = avx512_int8x16(_mm_loadu_si128((const __m128i *)(row + e + 16 * (size_t)i)));
        break;
    default: { /* int4: 16 bytes as 16 dwords, low nibbles elements 0-15, high ones 16-31 */
        __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(row + e / 2)));
        v[0] = _mm512_cvtepi32_ps(_mm512_and_si512(b, _mm512_set1_epi32(15)));
        v[1] = _mm512_cvtepi32_ps(_mm512_srli_epi32(b, 4));
        break;
    }
    }
}

#endif
