/* llm_cpu_gemv.c - the CPU backend's decode products (llm_cpu_gemv.h): a portable C version and
 * the AVX2 and AVX-512 versions generated from llm_cpu_gemv_body.h, chosen by cpuid. Decode
 * streams every weight once per token, so the vector versions aim at memory bandwidth: several
 * weight rows per pass over x (x stays in L1), independent accumulators per row, group scales
 * applied per group rather than per weight, and a software prefetch a few lines ahead. */
#include "engine/llm_cpu_gemv.h"

#include "engine/llm_quant.h"

#include <stddef.h>

#define GEMV_PREFETCH_BYTES 1024 /* how far ahead in a weight row the next lines are asked for */

/* Half-bytes one weight takes in format fmt. */
static inline int gemv_nibbles(hws_llm_format fmt) {
    return fmt == HWS_LLM_INT4 ? 1 : (fmt == HWS_LLM_INT8 ? 2 : 4);
}

static inline size_t gemv_row_bytes(hws_llm_format fmt, int cols) {
    return (size_t)cols * (size_t)gemv_nibbles(fmt) / 2;
}

/* Elements [e0, cols) of W[o] . x for a 16-bit format (the vector versions' leftover past the
 * last whole 32; all of it in the portable version). */
static float gemv_tail_dot(const hws_gemv_weight *w, long o, const float *x, size_t e0) {
    const uint16_t *p = (const uint16_t *)w->q + (size_t)o * (size_t)w->cols;
    float s = 0.0f;
    for (size_t e = e0; e < (size_t)w->cols; e++)
        s += (w->fmt == HWS_LLM_BF16 ? hws_bf16_to_f32(p[e]) : hws_f16_to_f32(p[e])) * x[e];
    return s;
}

/* y[r * ldy + o + i] (+)= sums[i * nx + r] */
static inline void gemv_store(float *y, size_t ldy, long o, int rows, int nx, const float *sums,
                              int accumulate) {
    for (int i = 0; i < rows; i++)
        for (int r = 0; r < nx; r++) {
            float *p = y + (size_t)r * ldy + (size_t)o + (size_t)i;
            *p = accumulate ? *p + sums[i * nx + r] : sums[i * nx + r];
        }
}

/* W[o] . x in plain C: group by group (int formats: codes times x, then the scale). */
static float portable_dot(const hws_gemv_weight *w, long o, const float *x) {
    if (w->fmt == HWS_LLM_BF16 || w->fmt == HWS_LLM_FP16)
        return gemv_tail_dot(w, o, x, 0);
    size_t groups = (size_t)w->cols / HWS_LLM_GROUP;
    const uint8_t *row = (const uint8_t *)w->q + (size_t)o * gemv_row_bytes(w->fmt, w->cols);
    float s = 0.0f;
    for (size_t g = 0; g < groups; g++) {
        const float *xg = x + g * HWS_LLM_GROUP;
        float t = 0.0f;
        if (w->fmt == HWS_LLM_INT8) {
            const int8_t *q = (const int8_t *)row + g * HWS_LLM_GROUP;
            for (int i = 0; i < HWS_LLM_GROUP; i++)
                t += (float)q[i] * xg[i];
        } else {
            const uint8_t *b = row + g * HWS_LLM_GROUP / 2;
            for (int j = 0; j < HWS_LLM_GROUP / 2; j++)
                t += (float)((b[j] & 15) - 8) * xg[j] +
                     (float)((b[j] >> 4) - 8) * xg[j + HWS_LLM_GROUP / 2];
        }
        s += t * hws_f16_to_f32(w->scales[(size_t)o * groups + g]);
    }
    return s;
}

static void portable_rows(const hws_gemv_weight *w, long o0, long o1, const float *x, size_t ldx,
                          int nx, float *y, size_t ldy, int accumulate) {
    for (long o = o0; o < o1; o++) {
        float sums[HWS_GEMV_MAX_X];
        for (int r = 0; r < nx; r++)
            sums[r] = portable_dot(w, o, x + (size_t)r * ldx);
        gemv_store(y, ldy, o, 1, nx, sums, accumulate);
    }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include "engine/llm_cpu_simd.h"

#define GEMV_WINDOW_GROUPS 512 /* columns are taken this many groups of 32 at a time */

/* ---- AVX2 + FMA + F16C: 8 floats a vector ---- */

#define GV_FN           AVX2_FN
#define GV_VEC          __m256
#define GV_LANES        8
#define GV_PER32        4
#define GV_ZERO()       _mm256_setzero_ps()
#define GV_LOADX(p)     _mm256_loadu_ps(p)
#define GV_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define GV_MUL(a, b)    _mm256_mul_ps(a, b)
#define GV_ADD(a, b)    _mm256_add_ps(a, b)
#define GV_SET1(f)      _mm256_set1_ps(f)
#define GV_HSUM(v)      avx2_hsum(v)
#define GV_LOAD32       avx2_load32
#define GV_BLOCK        avx2_block
#define GV_WINDOW       avx2_window
#define GV_RANGE        avx2_range
#define GV_ENTRY        avx2_rows
#include "engine/llm_cpu_gemv_body.h"
#undef GV_FN
#undef GV_VEC
#undef GV_LANES
#undef GV_PER32
#undef GV_ZERO
#undef GV_LOADX
#undef GV_FMA
#undef GV_MUL
#undef GV_ADD
#undef GV_ADD
#undef GV_SET1
#undef GV_HSUM
#undef GV_LOAD32
#undef GV_BLOCK
#undef GV_WINDOW
#undef GV_WINDOW
#undef GV_RANGE
#undef GV_ENTRY

/* ---- AVX-512 F/BW/VL: 16 floats a vector ---- */

#define GV_FN           AVX512_FN
#define GV_VEC          __m512
#define GV_LANES        16
#define GV_PER32        2
#define GV_ZERO()       _mm512_setzero_ps()
#define GV_LOADX(p)     _mm512_loadu_ps(p)
#define GV_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define GV_MUL(a, b)    _mm512_mul_ps(a, b)
#define GV_ADD(a, b)    _mm512_add_ps(a, b)
#define GV_SET1(f)      _mm512_set1_ps(f)
#define GV_HSUM(v)      _mm512_reduce_add_ps(v)
#define GV_LOAD32       avx512_load32
#define GV_BLOCK        avx512_block
#define GV_WINDOW       avx512_window
#define GV_RANGE        avx512_range
#define GV_ENTRY        avx512_rows
#include "engine/llm_cpu_gemv_body.h"

static int have_f16c(void) {
    unsigned a, b, c, d; /* CPUID.1:ECX bit 29 (clang's builtin does not name it) */
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1u);
}

int hws_gemv_isa_available(hws_gemv_isa isa) {
    switch (isa) {
    case HWS_GEMV_PORTABLE:
        return 1;
    case HWS_GEMV_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && have_f16c();
    case HWS_GEMV_AVX512:
        return hws_gemv_isa_available(HWS_GEMV_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    default:
        return 0;
    }
}

void hws_gemv_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate) {
    if (isa == HWS_GEMV_AVX512)
        avx512_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate);
    else if (isa == HWS_GEMV_AVX2)
        avx2_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate);
    else
        portable_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate);
}
#else
int hws_gemv_isa_available(hws_gemv_isa isa) {
    return isa == HWS_GEMV_PORTABLE;
}

void hws_gemv_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate) {
    (void)isa;
    portable_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate);
}
#endif

hws_gemv_isa hws_gemv_isa_best(void) {
    for (int i = HWS_GEMV_ISA_COUNT - 1; i > 0; i--)
        if (hws_gemv_isa_available((hws_gemv_isa)i))
            return (hws_gemv_isa)i;
    return HWS_GEMV_PORTABLE;
}

const char *hws_gemv_isa_name(hws_gemv_isa isa) {
    static const char *const names[HWS_GEMV_ISA_COUNT] = {"portable C", "AVX2", "AVX-512"};
    return isa >= 0 && isa < HWS_GEMV_ISA_COUNT ? names[isa] : "?";
}
