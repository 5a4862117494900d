/* llm_cpu_gemm.c - the CPU backend's prefill products (llm_cpu_gemm.h): a portable C version and
 * the AVX2 and AVX-512 versions generated from llm_cpu_gemm_body.h, chosen by the caller from
 * hws_gemv_isa_best(). Prefill multiplies every weight by many rows of activations, so these aim
 * at the cores' FMA units: a block of weight rows is widened to floats once (a panel of
 * HWS_GEMM_KC columns, in L2), and each tile of rows of X (in L1) times 4 panel rows keeps
 * GM_MR x 4 vector sums in registers. */
#include "engine/llm_cpu_gemm.h"

#include "engine/llm_quant.h"

#include <stddef.h>
#include <string.h>

/* Bytes of one row of W in format fmt. */
static inline size_t gemm_row_bytes(hws_llm_format fmt, int cols) {
    return fmt == HWS_LLM_INT4 ? (size_t)cols / 2
                               : (fmt == HWS_LLM_INT8 ? (size_t)cols : 2 * (size_t)cols);
}

void hws_gemv_weight_row(const hws_gemv_weight *w, long o, size_t e0, size_t e1, float *out) {
    const uint8_t *row = (const uint8_t *)w->q + (size_t)o * gemm_row_bytes(w->fmt, w->cols);
    const uint16_t *sc =
        w->scales ? w->scales + (size_t)o * ((size_t)w->cols / HWS_LLM_GROUP) : NULL;
    for (size_t e = e0; e < e1; e++) {
        switch (w->fmt) {
        case HWS_LLM_BF16:
            out[e - e0] = hws_bf16_to_f32(((const uint16_t *)(const void *)row)[e]);
            break;
        case HWS_LLM_FP16:
            out[e - e0] = hws_f16_to_f32(((const uint16_t *)(const void *)row)[e]);
            break;
        case HWS_LLM_INT8:
            out[e - e0] = (float)(int8_t)row[e] * hws_f16_to_f32(sc[e / HWS_LLM_GROUP]);
            break;
        default: { /* int4: byte j of a group holds element j (low nibble) and j + 16 (high) */
            size_t g = e / HWS_LLM_GROUP, j = e % HWS_LLM_GROUP;
            uint8_t b = row[g * HWS_LLM_GROUP / 2 + j % (HWS_LLM_GROUP / 2)];
            int code = j < HWS_LLM_GROUP / 2 ? b & 15 : b >> 4;
            out[e - e0] = (float)(code - 8) * hws_f16_to_f32(sc[g]);
            break;
        }
        }
    }
}

size_t hws_gemm_scratch_floats(void) {
    return (size_t)HWS_GEMM_MAX_BLOCK * HWS_GEMM_KC;
}

/* Plain C: each weight row as floats (a panel's worth of columns), then its dot with every row
 * of x. */
static void portable_rows(const hws_gemv_weight *w, long o0, long o1, const float *x, size_t ldx,
                          int nx, float *y, size_t ldy, int accumulate, float *scratch) {
    for (size_t kc = 0; kc < (size_t)w->cols; kc += HWS_GEMM_KC) {
        size_t kcn = (size_t)w->cols - kc < HWS_GEMM_KC ? (size_t)w->cols - kc : HWS_GEMM_KC;
        int add = accumulate || kc > 0;
        for (long o = o0; o < o1; o++) {
            hws_gemv_weight_row(w, o, kc, kc + kcn, scratch);
            for (int r = 0; r < nx; r++) {
                const float *xr = x + (size_t)r * ldx + kc;
                float s = 0.0f, *yr = y + (size_t)r * ldy + o;
                for (size_t e = 0; e < kcn; e++)
                    s += scratch[e] * xr[e];
                *yr = add ? *yr + s : s;
            }
        }
    }
}

#if defined(__x86_64__)
#include "engine/llm_cpu_simd.h"

#define GM_UNROLL _Pragma("GCC unroll 8")

/* ---- AVX2 + FMA + F16C: 8 floats a vector, tiles of 3 rows of X ---- */

AVX2_FN static inline __m256 avx2_load_first(const float *p, int n) {
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
}

/* Lane sums of a, b, c, d: pairs interleaved and added, then the 128-bit halves. */
AVX2_FN static inline __m128 avx2_fold4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 ab = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
    __m256 cd = _mm256_add_ps(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
    __m256 s = _mm256_add_ps(_mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm256_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

#define GM_FN                AVX2_FN
#define GM_VEC               __m256
#define GM_LANES             8
#define GM_PER32             4
#define GM_MR                3
#define GM_ZERO()            _mm256_setzero_ps()
#define GM_LOAD(p)           _mm256_loadu_ps(p)
#define GM_STORE(p, v)       _mm256_storeu_ps(p, v)
#define GM_FMA(a, b, c)      _mm256_fmadd_ps(a, b, c)
#define GM_SET1(f)           _mm256_set1_ps(f)
#define GM_LOAD_FIRST(p, n)  avx2_load_first(p, n)
#define GM_FOLD4(a, b, c, d) avx2_fold4(a, b, c, d)
#define GM_LOAD32            avx2_load32
#define GM_PANEL             avx2_panel
#define GM_TILE              avx2_tile
#define GM_RANGE             avx2_range
#define GM_ENTRY             avx2_rows
#include "engine/llm_cpu_gemm_body.h"
#undef GM_FN
#undef GM_VEC
#undef GM_LANES
#undef GM_PER32
#undef GM_MR
#undef GM_ZERO
#undef GM_LOAD
#undef GM_STORE
#undef GM_FMA
#undef GM_SET1
#undef GM_LOAD_FIRST
#undef GM_FOLD4
#undef GM_LOAD32
#undef GM_PANEL
#undef GM_TILE
#undef GM_RANGE
#undef GM_ENTRY

/* ---- AVX-512 F/BW/VL: 16 floats a vector, tiles of 6 rows of X ---- */

AVX512_FN static inline __m128 avx512_fold4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    __m512 s = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(s),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

#define GM_FN                AVX512_FN
#define GM_VEC               __m512
#define GM_LANES             16
#define GM_PER32             2
#define GM_MR                6
#define GM_ZERO()            _mm512_setzero_ps()
#define GM_LOAD(p)           _mm512_loadu_ps(p)
#define GM_STORE(p, v)       _mm512_storeu_ps(p, v)
#define GM_FMA(a, b, c)      _mm512_fmadd_ps(a, b, c)
#define GM_SET1(f)           _mm512_set1_ps(f)
#define GM_LOAD_FIRST(p, n)  _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), p)
#define GM_FOLD4(a, b, c, d) avx512_fold4(a, b, c, d)
#define GM_LOAD32            avx512_load32
#define GM_PANEL             avx512_panel
#define GM_TILE              avx512_tile
#define GM_RANGE             avx512_range
#define GM_ENTRY             avx512_rows
#include "engine/llm_cpu_gemm_body.h"

void hws_gemm_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate, float *scratch) {
    if (isa == HWS_GEMV_AVX512)
        avx512_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate, scratch);
    else if (isa == HWS_GEMV_AVX2)
        avx2_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate, scratch);
    else
        portable_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate, scratch);
}
#else
void hws_gemm_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate, float *scratch) {
    (void)isa;
    portable_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate, scratch);
}
#endif
