/* llm_cpu_gemm.c - the CPU backend's prefill products (llm_cpu_gemm.h): a portable C version and
 * the AVX2 and AVX-512 versions generated from llm_cpu_gemm_body.h, chosen by the caller from
 * hws_gemv_isa_best(), and the AMX bf16 tile version where the CPU has it. Prefill multiplies every
 * weight by many rows of activations, so these aim at the cores' FMA units: a block of weight rows
 * is widened to floats once (a panel of HWS_GEMM_KC columns, in L2), and each tile of rows of X (in
 * L1) times 4 panel rows keeps GM_MR x 4 vector sums in registers. */
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
    size_t groups = (size_t)w->cols / HWS_LLM_GROUP; /* int formats: row o's scales */
    for (size_t e = e0; e < e1; e++) {
        switch (w->fmt) {
        case HWS_LLM_BF16:
            out[e - e0] = hws_bf16_to_f32(((const uint16_t *)(const void *)row)[e]);
            break;
        case HWS_LLM_FP16:
            out[e - e0] = hws_f16_to_f32(((const uint16_t *)(const void *)row)[e]);
            break;
        case HWS_LLM_INT8:
            out[e - e0] = (float)(int8_t)row[e] *
                          hws_f16_to_f32(w->scales[(size_t)o * groups + e / HWS_LLM_GROUP]);
            break;
        default: { /* int4: byte j of a group holds element j (low nibble) and j + 16 (high) */
            size_t g = e / HWS_LLM_GROUP, j = e % HWS_LLM_GROUP;
            uint8_t b = row[g * HWS_LLM_GROUP / 2 + j % (HWS_LLM_GROUP / 2)];
            int code = j < HWS_LLM_GROUP / 2 ? b & 15 : b >> 4;
            out[e - e0] = (float)(code - 8) * hws_f16_to_f32(w->scales[(size_t)o * groups + g]);
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

#include <cpuid.h>

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
#define GM_STEP              avx2_step
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
#undef GM_STEP
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
#define GM_STEP              avx512_step
#define GM_TILE              avx512_tile
#define GM_RANGE             avx512_range
#define GM_ENTRY             avx512_rows
#include "engine/llm_cpu_gemm_body.h"

/* ---- AMX bf16 tiles: 32 W rows x 32 X rows a step, in four 16 x 16 float tiles ---- */

#if !defined(HWS_GEMM_NO_AMX)
#include <sys/syscall.h>
#include <unistd.h>

#define AMX_FN                                                                                     \
    __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,"       \
                          "f16c")))
#define AMX_REQ_XCOMP_PERM    0x1023 /* arch_prctl: ask for an extended state component */
#define AMX_XFEATURE_TILEDATA 18     /* the tile data state */
#define AMX_BLOCK_ELEMS       512    /* uint16 of one packed 16-row x 32-column block of X */

/* The tile configuration (palette 1): every tile 16 rows of 64 bytes. */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_config;

int hws_gemm_amx_available(void) {
    unsigned a, b, c, d;
    if (!hws_gemv_isa_available(HWS_GEMV_AVX512) || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    int tiles = (d >> 22 & 1u) && (d >> 24 & 1u); /* AMX-BF16, AMX-TILE */
    if (!tiles || !__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a >> 5 & 1u)) /* AVX512_BF16 */
        return 0;
    return syscall(SYS_arch_prctl, AMX_REQ_XCOMP_PERM, AMX_XFEATURE_TILEDATA) == 0;
}

size_t hws_gemm_amx_x_elems(int nx, int cols) {
    return (size_t)(nx + HWS_GEMM_AMX_ROWS - 1) / HWS_GEMM_AMX_ROWS * HWS_GEMM_AMX_ROWS *
           (size_t)cols;
}

size_t hws_gemm_amx_scratch_floats(int cols) {
    return 4 * 256 + (size_t)HWS_GEMM_AMX_ROWS * (size_t)cols / 2;
}

/* Block (g, kb) of 16 rows x 32 columns at xp + (g * cols / 32 + kb) * AMX_BLOCK_ELEMS holds the
 * pair of columns (2p, 2p + 1) of row n as dword p * 16 + n: the B tiles' layout. */
AMX_FN void hws_gemm_amx_pack_x(const float *x, size_t ldx, int nx, int cols, long g0, long g1,
                                uint16_t *xp) {
    size_t kblocks = (size_t)cols / 32;
    __m512i at =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(16));
    for (long g = g0; g < g1; g++)
        for (size_t kb = 0; kb < kblocks; kb++) {
            int *blk = (int *)(void *)(xp + ((size_t)g * kblocks + kb) * AMX_BLOCK_ELEMS);
            for (int n = 0; n < 16; n++) {
                long r = g * 16 + n;
                __m512i pairs = _mm512_setzero_si512();
                if (r < nx) {
                    const float *xr = x + (size_t)r * ldx + kb * 32;
                    pairs =
                        (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(xr + 16), _mm512_loadu_ps(xr));
                }
                _mm512_i32scatter_epi32(blk + n, at, pairs, 4);
            }
        }
}

/* W rows [o0, o0 + 32) as bf16 rows of w->cols: each row read front to back (what the hardware
 * prefetchers follow; the tiles' loads take 16 rows at once), the other formats widened. */
AMX_FN static void amx_panel(const hws_gemv_weight *w, long o0, uint16_t *panel) {
    size_t k = (size_t)w->cols, rb = gemm_row_bytes(w->fmt, w->cols), groups = k / HWS_LLM_GROUP;
    for (int i = 0; i < HWS_GEMM_AMX_ROWS; i++) {
        const uint8_t *row = (const uint8_t *)w->q + (size_t)(o0 + i) * rb;
        if (w->fmt == HWS_LLM_BF16) {
            memcpy(panel + (size_t)i * k, row, rb);
            continue;
        }
        for (size_t e = 0; e < k; e += 32) {
            __m512 v[2];
            avx512_load32(w->fmt, row, e, v);
            if (w->fmt == HWS_LLM_INT8 || w->fmt == HWS_LLM_INT4) {
                float d = hws_f16_to_f32(w->scales[(size_t)(o0 + i) * groups + e / 32]);
                __m512 dv = _mm512_set1_ps(d);
                __m512 off = _mm512_set1_ps(w->fmt == HWS_LLM_INT4 ? -8.0f * d : 0.0f);
                v[0] = _mm512_fmadd_ps(v[0], dv, off);
                v[1] = _mm512_fmadd_ps(v[1], dv, off);
            }
            _mm512_storeu_si512(panel + (size_t)i * k + e,
                                (__m512i)_mm512_cvtne2ps_pbh(v[1], v[0]));
        }
    }
}

AMX_FN void hws_gemm_amx_rows(const hws_gemv_weight *w, long o0, const uint16_t *xp, int nx,
                              float *y, size_t ldy, int accumulate, float *scratch) {
    size_t k = (size_t)w->cols, kblocks = k / 32, astride = 2 * k;
    float *cbuf = scratch; /* the four float tiles, 16 x 16 each */
    uint16_t *a = (uint16_t *)(void *)(scratch + 4 * 256);
    amx_panel(w, o0, a);
    __asm__ volatile("" ::: "memory"); /* the panel stored before GCC's tile-load asm */
    amx_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    /* all 64 bytes an input of the asm (GCC 12's _tile_loadconfig names only the first 8) */
    __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
    /* tile 2 ai + bj: W rows o0 + 16 ai + m (its rows) times X rows g 16 + 16 bj + n (columns) */
    __m512i column =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(16));
    for (int g = 0; g < nx; g += HWS_GEMM_AMX_ROWS) {
        const uint16_t *b0 = xp + (size_t)g / 16 * kblocks * AMX_BLOCK_ELEMS;
        const uint16_t *b1 = b0 + kblocks * AMX_BLOCK_ELEMS;
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
        for (size_t kb = 0; kb < kblocks; kb++) {
            _tile_loadd(4, a + kb * 32, astride);
            _tile_loadd(5, a + 16 * k + kb * 32, astride);
            _tile_loadd(6, b0 + kb * AMX_BLOCK_ELEMS, 64);
            _tile_loadd(7, b1 + kb * AMX_BLOCK_ELEMS, 64);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
        }
        _tile_stored(0, cbuf, 64);
        _tile_stored(1, cbuf + 256, 64);
        _tile_stored(2, cbuf + 512, 64);
        _tile_stored(3, cbuf + 768, 64);
        for (int bj = 0; bj < 2; bj++)
            for (int n = 0; n < 16 && g + 16 * bj + n < nx; n++) {
                float *yr = y + (size_t)(g + 16 * bj + n) * ldy + o0;
                for (int ai = 0; ai < 2; ai++) {
                    __m512 v = _mm512_i32gather_ps(column, cbuf + (2 * ai + bj) * 256 + n, 4);
                    if (accumulate)
                        v = _mm512_add_ps(v, _mm512_loadu_ps(yr + 16 * ai));
                    _mm512_storeu_ps(yr + 16 * ai, v);
                }
            }
    }
    _tile_release();
}
#endif

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
#define HWS_GEMM_NO_AMX
void hws_gemm_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate, float *scratch) {
    (void)isa;
    portable_rows(w, o0, o1, x, ldx, nx, y, ldy, accumulate, scratch);
}
#endif

#if defined(HWS_GEMM_NO_AMX) /* no AMX on this CPU family, or this build left it out */
int hws_gemm_amx_available(void) {
    return 0;
}
size_t hws_gemm_amx_x_elems(int nx, int cols) {
    (void)nx;
    (void)cols;
    return 0;
}
size_t hws_gemm_amx_scratch_floats(int cols) {
    (void)cols;
    return 0;
}
void hws_gemm_amx_pack_x(const float *x, size_t ldx, int nx, int cols, long g0, long g1,
                         uint16_t *xp) {
    (void)x, (void)ldx, (void)nx, (void)cols, (void)g0, (void)g1, (void)xp;
}
void hws_gemm_amx_rows(const hws_gemv_weight *w, long o0, const uint16_t *xp, int nx, float *y,
                       size_t ldy, int accumulate, float *scratch) {
    (void)w, (void)o0, (void)xp, (void)nx, (void)y, (void)ldy, (void)accumulate, (void)scratch;
}
#endif
