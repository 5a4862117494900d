/* llm_cpu.c - the CPU backend of the LLM engine: the ops of llm_backend.h on float activations,
 * linear layers stored in the model's format and dequantised row by row as they are read, split
 * over a pool of threads (small batches: own dot products; larger: OpenBLAS on tiles). A mixture
 * of experts runs each chosen expert once over the rows routed to it, gathered. */
#include "engine/llm_backend.h"
#include "engine/llm_moe.h"
#include "engine/llm_quant.h"
#include "engine/pool.h"
#include "probe/cgroup.h"
#include "util/units.h"

#include <cblas.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TILE_ROWS 64 /* output rows dequantised at a time for the OpenBLAS path */

typedef struct {
    int rows, cols;
    float *f;         /* non-linear weights, and every weight of a float model */
    void *q;          /* linear: uint16 (bf16/fp16), int8 or packed int4 codes */
    uint16_t *scales; /* int8/int4: [rows, cols / HWS_LLM_GROUP] fp16 */
} cpu_weight;

typedef struct {
    hws_llm_shape s;
    hws_llm_format fmt;
    int max_rows, max_batch, max_ctx;
    int qkv_w;     /* (n_heads + 2 n_kv_heads) head_dim */
    cpu_weight *w; /* [(n_layers + 1) * HWS_LLM_W_COUNT], global ones in the last layer slot */
    float *buf[HWS_LLM_BUF_COUNT];
    float *logits;            /* [max_rows, vocab] */
    float *k_cache, *v_cache; /* [n_layers][max_batch][n_kv_heads][max_ctx][head_dim] */
    float *inv_freq;
    int32_t *tokens, *seq, *pos;
    /* mixture of experts: the choice of each row, and the rows of one expert gathered */
    int32_t *sel_ids;     /* [max_rows, k] experts chosen */
    float *sel_w;         /* [max_rows, k] their weights */
    int32_t *moe_pick;    /* [max_rows k] (row, slot) pairs routed to the expert being run */
    float *moe_x, *moe_y; /* [max_rows k, max(d_model, 2 ffn)] its inputs and outputs */
    float *scratch;       /* per thread: TILE_ROWS * max(cols) + scores */
    size_t scratch_per_thread;
    hws_pool *pool;
    int avx2; /* the AVX2 + FMA + F16C decode products run here */
} cpu_ctx;

static cpu_weight *weight_of(cpu_ctx *c, int layer, hws_llm_weight w) {
    int l = layer < 0 ? c->s.n_layers : layer;
    return &c->w[(size_t)l * HWS_LLM_W_COUNT + w];
}

/* ---- AVX2 decode products: a weight row read once, in its format, for up to 8 rows of x ---- */

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))

/* 8 weights from p (format fmt, element e of the row) as floats; int formats unscaled. */
AVX2 static inline __m256 load8(hws_llm_format fmt, const void *p, size_t e) {
    switch (fmt) {
    case HWS_LLM_BF16: {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + e));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    case HWS_LLM_FP16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + e)));
    case HWS_LLM_INT8: {
        __m128i b = _mm_loadl_epi64((const __m128i *)((const int8_t *)p + e));
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    }
    default: { /* int4: element e of a group; bytes hold e and e + 16 */
        size_t g = e / HWS_LLM_GROUP, j = e % HWS_LLM_GROUP;
        const uint8_t *b = (const uint8_t *)p + g * HWS_LLM_GROUP / 2 + (j % 16);
        __m128i v = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)b));
        v = j >= 16 ? _mm_srli_epi16(v, 4) : v;
        v = _mm_sub_epi16(_mm_and_si128(v, _mm_set1_epi16(15)), _mm_set1_epi16(8));
        return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(v));
    }
    }
}

AVX2 static float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_hadd_ps(s, s);
    s = _mm_hadd_ps(s, s);
    return _mm_cvtss_f32(s);
}

/* out[r] = W[o] . x[r] for r < rows (<= 8); k a multiple of 8 (and of the group when int). */
AVX2 static void dot_rows(const cpu_ctx *c, const cpu_weight *w, int o, const float *x, int rows,
                          float *out) {
    size_t k = (size_t)w->cols;
    int grouped = c->fmt == HWS_LLM_INT8 || c->fmt == HWS_LLM_INT4;
    size_t row_elems = c->fmt == HWS_LLM_INT4 ? k / 2 : k;
    const char *base =
        (const char *)w->q +
        (size_t)o * row_elems * (c->fmt == HWS_LLM_BF16 || c->fmt == HWS_LLM_FP16 ? 2 : 1);
    __m256 acc[8];
    for (int r = 0; r < 8; r++)
        acc[r] = _mm256_setzero_ps();
    size_t step = grouped ? HWS_LLM_GROUP : 8;
    for (size_t e0 = 0; e0 < k; e0 += step) {
        __m256 d = grouped ? _mm256_set1_ps(hws_f16_to_f32(
                                 w->scales[(size_t)o * (k / HWS_LLM_GROUP) + e0 / HWS_LLM_GROUP]))
                           : _mm256_set1_ps(1.0f);
        for (size_t e = e0; e < e0 + step; e += 8) {
            __m256 wv = _mm256_mul_ps(load8(c->fmt, base, e), d);
            for (int r = 0; r < rows; r++)
                acc[r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + (size_t)r * k + e), acc[r]);
        }
    }
    for (int r = 0; r < rows; r++)
        out[r] = hsum(acc[r]);
}

static int have_avx2(void) {
    unsigned a, b, c, d; /* F16C: CPUID.1:ECX bit 29 (clang's builtin does not name it) */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1u);
}
#else
static void dot_rows(const cpu_ctx *c, const cpu_weight *w, int o, const float *x, int rows,
                     float *out) {
    (void)c, (void)w, (void)o, (void)x, (void)rows, (void)out;
}
static int have_avx2(void) {
    return 0;
}
#endif

static int buf_width(const cpu_ctx *c, hws_llm_buf b) {
    return hws_llm_buf_width(&c->s, b);
}

/* Row o of a weight as floats. */
static void dequant_row(const cpu_ctx *c, const cpu_weight *w, int o, float *out) {
    size_t n = (size_t)w->cols;
    if (w->f) {
        memcpy(out, w->f + (size_t)o * n, n * sizeof *out);
        return;
    }
    size_t groups = n / HWS_LLM_GROUP;
    switch (c->fmt) {
    case HWS_LLM_BF16:
    case HWS_LLM_FP16: {
        const uint16_t *p = (const uint16_t *)w->q + (size_t)o * n;
        for (size_t i = 0; i < n; i++)
            out[i] = c->fmt == HWS_LLM_BF16 ? hws_bf16_to_f32(p[i]) : hws_f16_to_f32(p[i]);
        break;
    }
    case HWS_LLM_INT8: {
        const int8_t *p = (const int8_t *)w->q + (size_t)o * n;
        for (size_t g = 0; g < groups; g++) {
            float d = hws_f16_to_f32(w->scales[(size_t)o * groups + g]);
            for (int i = 0; i < HWS_LLM_GROUP; i++)
                out[g * HWS_LLM_GROUP + i] = (float)p[g * HWS_LLM_GROUP + i] * d;
        }
        break;
    }
    default: { /* int4 */
        const uint8_t *p = (const uint8_t *)w->q + (size_t)o * n / 2;
        for (size_t g = 0; g < groups; g++) {
            float d = hws_f16_to_f32(w->scales[(size_t)o * groups + g]);
            const uint8_t *b = p + g * HWS_LLM_GROUP / 2;
            for (int j = 0; j < HWS_LLM_GROUP / 2; j++) {
                out[g * HWS_LLM_GROUP + j] = (float)((b[j] & 15) - 8) * d;
                out[g * HWS_LLM_GROUP + j + HWS_LLM_GROUP / 2] = (float)((b[j] >> 4) - 8) * d;
            }
        }
        break;
    }
    }
}

/* Stores rows x cols floats into a weight in the context's format. */
static void store_weight(const cpu_ctx *c, cpu_weight *w, const float *x) {
    size_t n = (size_t)w->rows * w->cols;
    if (w->f) {
        memcpy(w->f, x, n * sizeof *x);
        return;
    }
    if (c->fmt == HWS_LLM_BF16 || c->fmt == HWS_LLM_FP16) {
        uint16_t *q = w->q;
        for (size_t i = 0; i < n; i++)
            q[i] = c->fmt == HWS_LLM_BF16 ? hws_f32_to_bf16(x[i]) : hws_f32_to_f16(x[i]);
        return;
    }
    int int8 = c->fmt == HWS_LLM_INT8;
    for (size_t g = 0; g < n / HWS_LLM_GROUP; g++) {
        const float *v = x + g * HWS_LLM_GROUP;
        uint16_t d = hws_llm_group_scale(v, HWS_LLM_GROUP, int8 ? 127.0f : 7.0f);
        w->scales[g] = d;
        if (int8) {
            for (int i = 0; i < HWS_LLM_GROUP; i++)
                ((int8_t *)w->q)[g * HWS_LLM_GROUP + i] =
                    (int8_t)hws_llm_quant_code(v[i], d, -127, 127);
        } else {
            uint8_t *b = (uint8_t *)w->q + g * HWS_LLM_GROUP / 2;
            for (int j = 0; j < HWS_LLM_GROUP / 2; j++)
                b[j] = (uint8_t)((hws_llm_quant_code(v[j], d, -8, 7) + 8) |
                                 (hws_llm_quant_code(v[j + HWS_LLM_GROUP / 2], d, -8, 7) + 8) << 4);
        }
    }
}

static void destroy(void *ctx) {
    cpu_ctx *c = ctx;
    if (!c)
        return;
    if (c->w)
        for (int i = 0; i < (c->s.n_layers + 1) * HWS_LLM_W_COUNT; i++) {
            free(c->w[i].f);
            free(c->w[i].q);
            free(c->w[i].scales);
        }
    free(c->w);
    for (int b = 0; b < HWS_LLM_BUF_COUNT; b++)
        free(c->buf[b]);
    free(c->logits);
    free(c->k_cache);
    free(c->v_cache);
    free(c->inv_freq);
    free(c->tokens);
    free(c->seq);
    free(c->pos);
    free(c->scratch);
    free(c->sel_ids);
    free(c->sel_w);
    free(c->moe_pick);
    free(c->moe_x);
    free(c->moe_y);
    if (c->pool)
        hws_pool_free(c->pool);
    free(c);
}

/* CPUs this process may use: its affinity mask, cut to the cgroup's CPU quota (rounded up). */
static int usable_cores(void) {
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                         : sysconf(_SC_NPROCESSORS_ONLN);
    double quota = hws_cgroup_cpu_quota();
    if (hws_known(quota) && quota > 0 && ceil(quota) < (double)n)
        n = (long)ceil(quota);
    return n < 1 ? 1 : (n > 256 ? 256 : (int)n);
}

static hws_status create(const hws_llm_shape *s, const hws_llm_options *o, int max_rows,
                         const float *rope_inv_freq, void **out, hws_llm_info *info,
                         hws_error *err) {
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    c->s = *s;
    c->fmt = o->format;
    c->max_rows = max_rows;
    c->max_batch = o->max_batch;
    c->max_ctx = o->max_ctx;
    c->qkv_w = (s->n_heads + 2 * s->n_kv_heads) * s->head_dim;
    int ok = 1;
    c->w = calloc((size_t)(s->n_layers + 1) * HWS_LLM_W_COUNT, sizeof *c->w);
    ok = c->w != NULL;
    int ffn = hws_llm_ffn_width(s), max_cols = s->d_ff > s->d_model ? s->d_ff : s->d_model;
    if (max_cols < s->n_heads * s->head_dim)
        max_cols = s->n_heads * s->head_dim;
    if (max_cols < ffn)
        max_cols = ffn;
    for (int l = -1; ok && l < s->n_layers; l++)
        for (int w = 0; ok && w < HWS_LLM_W_COUNT; w++) {
            if ((l < 0) != (w >= HWS_LLM_W_EMBED))
                continue;
            cpu_weight *cw = weight_of(c, l, (hws_llm_weight)w);
            hws_llm_weight_dims(s, (hws_llm_weight)w, &cw->rows, &cw->cols);
            size_t n = (size_t)cw->rows * cw->cols;
            if (n == 0)
                continue;
            if (!hws_llm_weight_is_linear((hws_llm_weight)w)) {
                ok = (cw->f = malloc(n * sizeof(float))) != NULL;
            } else {
                size_t bytes =
                    c->fmt == HWS_LLM_INT8 ? n : (c->fmt == HWS_LLM_INT4 ? n / 2 : 2 * n);
                ok = (cw->q = malloc(bytes)) != NULL;
                if (ok && c->fmt >= HWS_LLM_INT8)
                    ok = (cw->scales = malloc(n / HWS_LLM_GROUP * 2)) != NULL;
            }
        }
    for (int b = 0; ok && b < HWS_LLM_BUF_COUNT; b++)
        ok = (c->buf[b] = calloc((size_t)max_rows * buf_width(c, b) + 1, sizeof(float))) != NULL;
    size_t picks = (size_t)max_rows * hws_llm_ffn_slots(s) + 1;
    size_t moe_w = (size_t)(s->d_model > 2 * ffn ? s->d_model : 2 * ffn);
    if (ok && s->n_experts > 0)
        ok = (c->sel_ids = calloc(picks, 4)) && (c->sel_w = calloc(picks, 4)) &&
             (c->moe_pick = calloc(picks, 4)) && (c->moe_x = calloc(picks * moe_w, 4)) &&
             (c->moe_y = calloc(picks * moe_w, 4));
    size_t cache = (size_t)s->n_layers * o->max_batch * s->n_kv_heads * o->max_ctx * s->head_dim;
    int threads = o->threads > 0 ? o->threads : usable_cores();
    c->scratch_per_thread = (size_t)TILE_ROWS * max_cols + (size_t)o->max_ctx;
    if (ok)
        ok = (c->logits = malloc((size_t)max_rows * s->vocab * sizeof(float))) &&
             (c->k_cache = calloc(cache, sizeof(float))) &&
             (c->v_cache = calloc(cache, sizeof(float))) &&
             (c->inv_freq = malloc((size_t)s->head_dim / 2 * sizeof(float))) &&
             (c->tokens = calloc((size_t)max_rows, 4)) && (c->seq = calloc((size_t)max_rows, 4)) &&
             (c->pos = calloc((size_t)max_rows, 4)) &&
             (c->scratch = malloc((size_t)threads * c->scratch_per_thread * sizeof(float))) &&
             (c->pool = hws_pool_new(threads, -1));
    if (!ok) {
        destroy(c);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory for the model on the CPU");
    }
    c->avx2 = have_avx2();
    openblas_set_num_threads(1); /* the pool's threads call it, each on its own tile */
    memcpy(c->inv_freq, rope_inv_freq, (size_t)s->head_dim / 2 * sizeof(float));
    info->kv_bytes_per_token = 2.0 * s->n_layers * s->n_kv_heads * s->head_dim * sizeof(float);
    info->device_bytes_peak = info->weight_bytes + 2.0 * (double)cache * sizeof(float);
    snprintf(info->device_name, sizeof info->device_name, "CPU (%d threads)", threads);
    snprintf(info->backend, sizeof info->backend, "cpu (own kernels, OpenBLAS for prefill)");
    *out = c;
    return HWS_OK;
}

static hws_status set_weight(void *ctx, int layer, hws_llm_weight w, const float *data,
                             hws_error *err) {
    cpu_ctx *c = ctx;
    cpu_weight *cw = weight_of(c, layer, w);
    if (cw->rows == 0)
        return hws_error_set(err, HWS_ERR_INPUT, "weight %d of layer %d does not exist", (int)w,
                             layer);
    store_weight(c, cw, data);
    return HWS_OK;
}

typedef struct {
    float *x;
    uint64_t seed;
    float scale, offset;
} fill_job;

static void fill_part(void *arg, long b, long e, int tid) {
    (void)tid;
    const fill_job *j = arg;
    for (long i = b; i < e; i++)
        j->x[i] = j->offset + j->scale * hws_llm_uniform((uint64_t)i, j->seed);
}

static hws_status fill_weight(void *ctx, int layer, hws_llm_weight w, uint64_t seed, float scale,
                              float offset, hws_error *err) {
    cpu_ctx *c = ctx;
    cpu_weight *cw = weight_of(c, layer, w);
    size_t n = (size_t)cw->rows * cw->cols;
    float *x = malloc(n * sizeof *x);
    if (!x)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    fill_job j = {x, seed, scale, offset};
    hws_pool_run(c->pool, fill_part, &j, (long)n);
    hws_status st = set_weight(ctx, layer, w, x, err);
    free(x);
    return st;
}

static hws_status set_rows(void *ctx, int rows, const int32_t *tokens, const int32_t *seq,
                           const int32_t *pos, hws_error *err) {
    cpu_ctx *c = ctx;
    if (rows < 1 || rows > c->max_rows)
        return hws_error_set(err, HWS_ERR_INPUT, "%d rows (1-%d)", rows, c->max_rows);
    memcpy(c->tokens, tokens, (size_t)rows * 4);
    memcpy(c->seq, seq, (size_t)rows * 4);
    memcpy(c->pos, pos, (size_t)rows * 4);
    return HWS_OK;
}

/* ---- ops ---- */

static hws_status op_embed(void *ctx, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    const cpu_weight *e = weight_of(c, -1, HWS_LLM_W_EMBED);
    for (int r = 0; r < rows; r++)
        memcpy(c->buf[HWS_LLM_BUF_X] + (size_t)r * c->s.d_model,
               e->f + (size_t)c->tokens[r] * c->s.d_model, (size_t)c->s.d_model * sizeof(float));
    return HWS_OK;
}

static void rmsnorm_rows(const cpu_ctx *c, float *out, const float *x, const float *g, int rows) {
    int d = c->s.d_model;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        double ss = 0;
        for (int i = 0; i < d; i++)
            ss += (double)xr[i] * xr[i];
        float inv = 1.0f / sqrtf((float)(ss / d) + c->s.rms_eps);
        for (int i = 0; i < d; i++)
            out[(size_t)r * d + i] = xr[i] * inv * g[i];
    }
}

static hws_status op_rmsnorm(void *ctx, int layer, hws_llm_weight w, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    rmsnorm_rows(c, c->buf[HWS_LLM_BUF_H], c->buf[HWS_LLM_BUF_X], weight_of(c, layer, w)->f, rows);
    return HWS_OK;
}

typedef struct {
    cpu_ctx *c;
    const cpu_weight *w;
    float *y;
    const float *x;
    int rows, accumulate;
    size_t ldy; /* floats between rows of y */
} linear_job;

/* Output rows [o0, o1) of y = x W^T: tiles of dequantised rows, each multiplied by every row of
 * x (own loop for a few rows, OpenBLAS for more). */
static void linear_part(void *arg, long o0, long o1, int tid) {
    const linear_job *j = arg;
    int k = j->w->cols;
    if (j->rows < 8 && j->c->avx2 && !j->w->f && k % 8 == 0) {
        for (long o = o0; o < o1; o++) {
            float s[8];
            dot_rows(j->c, j->w, (int)o, j->x, j->rows, s);
            for (int r = 0; r < j->rows; r++) {
                float *yo = j->y + (size_t)r * j->ldy + o;
                *yo = j->accumulate ? *yo + s[r] : s[r];
            }
        }
        return;
    }
    float *tile = j->c->scratch + (size_t)tid * j->c->scratch_per_thread;
    for (long t0 = o0; t0 < o1; t0 += TILE_ROWS) {
        int nt = (int)(o1 - t0 < TILE_ROWS ? o1 - t0 : TILE_ROWS);
        for (int i = 0; i < nt; i++)
            dequant_row(j->c, j->w, (int)t0 + i, tile + (size_t)i * k);
        if (j->rows >= 8) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->rows, nt, k, 1.0f, j->x, k,
                        tile, k, j->accumulate ? 1.0f : 0.0f, j->y + t0, (int)j->ldy);
            continue;
        }
        for (int r = 0; r < j->rows; r++)
            for (int i = 0; i < nt; i++) {
                const float *a = j->x + (size_t)r * k, *b = tile + (size_t)i * k;
                float s = 0.0f;
                for (int e = 0; e < k; e++)
                    s += a[e] * b[e];
                float *yo = j->y + (size_t)r * j->ldy + t0 + i;
                *yo = j->accumulate ? *yo + s : s;
            }
    }
}

static void linear_run(cpu_ctx *c, const cpu_weight *w, float *y, size_t ldy, const float *x,
                       int rows, int accumulate) {
    linear_job j = {c, w, y, x, rows, accumulate, ldy};
    hws_pool_run(c->pool, linear_part, &j, w->rows);
}

static hws_status op_linear(void *ctx, hws_llm_buf y, hws_llm_buf x, int rows, int layer,
                            hws_llm_weight w, int accumulate, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    const cpu_weight *cw = weight_of(c, layer, w);
    linear_run(c, cw, c->buf[y], (size_t)buf_width(c, y), c->buf[x], rows, accumulate);
    return HWS_OK;
}

static size_t cache_at(const cpu_ctx *c, int layer, int seq, int kvh, int pos) {
    return ((((size_t)layer * c->max_batch + seq) * c->s.n_kv_heads + kvh) * c->max_ctx + pos) *
           c->s.head_dim;
}

static void rope(const cpu_ctx *c, float *v, int pos) {
    int half = c->s.head_dim / 2;
    for (int i = 0; i < half; i++) {
        float a = (float)pos * c->inv_freq[i], cs = cosf(a), sn = sinf(a);
        float x0 = v[i], x1 = v[i + half];
        v[i] = x0 * cs - x1 * sn;
        v[i + half] = x1 * cs + x0 * sn;
    }
}

static hws_status op_rope_cache(void *ctx, int layer, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    int hd = c->s.head_dim, nh = c->s.n_heads, nkv = c->s.n_kv_heads;
    const cpu_weight *bias = weight_of(c, layer, HWS_LLM_B_QKV);
    for (int r = 0; r < rows; r++) {
        float *q = c->buf[HWS_LLM_BUF_QKV] + (size_t)r * c->qkv_w;
        if (bias->f)
            for (int i = 0; i < c->qkv_w; i++)
                q[i] += bias->f[i];
        for (int h = 0; h < nh + nkv; h++)
            rope(c, q + (size_t)h * hd, c->pos[r]);
        for (int h = 0; h < nkv; h++) {
            size_t at = cache_at(c, layer, c->seq[r], h, c->pos[r]);
            memcpy(c->k_cache + at, q + (size_t)(nh + h) * hd, (size_t)hd * sizeof(float));
            memcpy(c->v_cache + at, q + (size_t)(nh + nkv + h) * hd, (size_t)hd * sizeof(float));
        }
    }
    return HWS_OK;
}

typedef struct {
    cpu_ctx *c;
    int layer;
} attn_job;

/* (row, head) pairs [i0, i1): scores over the cache, softmax, values. */
static void attention_part(void *arg, long i0, long i1, int tid) {
    const attn_job *j = arg;
    cpu_ctx *c = j->c;
    int hd = c->s.head_dim, nh = c->s.n_heads, group = nh / c->s.n_kv_heads;
    float *score = c->scratch + (size_t)tid * c->scratch_per_thread;
    float scale = 1.0f / sqrtf((float)hd);
    for (long i = i0; i < i1; i++) {
        int r = (int)(i / nh), h = (int)(i % nh), p = c->pos[r];
        int start =
            c->s.sliding_window > 0 && p >= c->s.sliding_window ? p - c->s.sliding_window + 1 : 0;
        const float *q = c->buf[HWS_LLM_BUF_QKV] + (size_t)r * c->qkv_w + (size_t)h * hd;
        float mx = -INFINITY;
        for (int t = start; t <= p; t++) {
            const float *k = c->k_cache + cache_at(c, j->layer, c->seq[r], h / group, t);
            float s = 0.0f;
            for (int e = 0; e < hd; e++)
                s += q[e] * k[e];
            score[t - start] = s * scale;
            mx = fmaxf(mx, s * scale);
        }
        float sum = 0.0f;
        for (int t = start; t <= p; t++)
            sum += score[t - start] = expf(score[t - start] - mx);
        float *o = c->buf[HWS_LLM_BUF_ATT] + (size_t)r * nh * hd + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof *o);
        for (int t = start; t <= p; t++) {
            const float *v = c->v_cache + cache_at(c, j->layer, c->seq[r], h / group, t);
            float pr = score[t - start] / sum;
            for (int e = 0; e < hd; e++)
                o[e] += pr * v[e];
        }
    }
}

static hws_status op_attention(void *ctx, int layer, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    attn_job j = {c, layer};
    hws_pool_run(c->pool, attention_part, &j, (long)rows * c->s.n_heads);
    return HWS_OK;
}

static hws_status op_swiglu(void *ctx, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    int f = hws_llm_ffn_width(&c->s);
    for (int r = 0; r < rows * hws_llm_ffn_slots(&c->s); r++) { /* a row per FFN slot */
        const float *gu = c->buf[HWS_LLM_BUF_GU] + (size_t)r * 2 * f;
        float *a = c->buf[HWS_LLM_BUF_ACT] + (size_t)r * f;
        for (int i = 0; i < f; i++)
            a[i] = gu[i] / (1.0f + expf(-gu[i])) * gu[f + i];
    }
    return HWS_OK;
}

static hws_status op_logits(void *ctx, int row0, int n, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    float *h = c->buf[HWS_LLM_BUF_H];
    rmsnorm_rows(c, h, c->buf[HWS_LLM_BUF_X] + (size_t)row0 * c->s.d_model,
                 weight_of(c, -1, HWS_LLM_W_OUT_NORM)->f, n);
    const cpu_weight *out =
        weight_of(c, -1, c->s.tie_embeddings ? HWS_LLM_W_EMBED : HWS_LLM_W_OUTPUT);
    linear_run(c, out, c->logits, (size_t)c->s.vocab, h, n, 0);
    return HWS_OK;
}

static hws_status op_route(void *ctx, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    int n = c->s.n_experts, k = c->s.n_experts_used;
    for (int r = 0; r < rows; r++)
        hws_llm_route_row(c->buf[HWS_LLM_BUF_ROUTER] + (size_t)r * n, n, k, c->sel_ids + r * k,
                          c->sel_w + r * k);
    return HWS_OK;
}

/* Expert e's rows of a stacked experts' weight, as a weight of its own. */
static cpu_weight expert_view(const cpu_ctx *c, const cpu_weight *all, int e) {
    cpu_weight v = *all;
    v.rows = all->rows / c->s.n_experts;
    size_t elems = (size_t)v.rows * v.cols * e;
    size_t bytes =
        c->fmt == HWS_LLM_INT8 ? elems : (c->fmt == HWS_LLM_INT4 ? elems / 2 : 2 * elems);
    v.q = (char *)all->q + bytes;
    if (all->scales)
        v.scales = all->scales + elems / HWS_LLM_GROUP;
    return v;
}

/* Each expert that some row chose, run once over those rows (gathered, then scattered back:
 * gate/up into the row's slot, down added to the residual at the row's weight). */
static hws_status op_experts(void *ctx, int layer, hws_llm_weight w, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    const cpu_weight *all = weight_of(c, layer, w);
    int k = c->s.n_experts_used, down = w == HWS_LLM_W_EXP_DOWN, cols = all->cols;
    int per = all->rows / c->s.n_experts,
        ldx = buf_width(c, down ? HWS_LLM_BUF_ACT : HWS_LLM_BUF_H);
    int ldgu = buf_width(c, HWS_LLM_BUF_GU);
    const float *x = c->buf[down ? HWS_LLM_BUF_ACT : HWS_LLM_BUF_H];
    for (int e = 0; e < c->s.n_experts; e++) {
        int m = 0;
        for (int rj = 0; rj < rows * k; rj++) {
            if (c->sel_ids[rj] != e)
                continue;
            const float *xr = x + (size_t)(rj / k) * ldx + (down ? (size_t)(rj % k) * cols : 0);
            memcpy(c->moe_x + (size_t)m * cols, xr, (size_t)cols * sizeof(float));
            c->moe_pick[m++] = rj;
        }
        if (m == 0)
            continue;
        cpu_weight view = expert_view(c, all, e);
        linear_run(c, &view, c->moe_y, (size_t)per, c->moe_x, m, 0);
        for (int i = 0; i < m; i++) {
            int rj = c->moe_pick[i];
            const float *y = c->moe_y + (size_t)i * per;
            if (down) {
                float *xr = c->buf[HWS_LLM_BUF_X] + (size_t)(rj / k) * c->s.d_model,
                      p = c->sel_w[rj];
                for (int o = 0; o < per; o++)
                    xr[o] += p * y[o];
            } else {
                memcpy(c->buf[HWS_LLM_BUF_GU] + (size_t)(rj / k) * ldgu + (size_t)(rj % k) * per, y,
                       (size_t)per * sizeof(float));
            }
        }
    }
    return HWS_OK;
}

static hws_status run(void *ctx, int rows, int graph, hws_llm_forward_fn fn, void *arg,
                      hws_error *err) {
    (void)ctx;
    (void)rows;
    (void)graph;
    return fn(arg, err);
}

static hws_status get_logits(void *ctx, int n, float *out, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    memcpy(out, c->logits, (size_t)n * c->s.vocab * sizeof(float));
    return HWS_OK;
}

static const hws_llm_ops cpu_ops = {
    .embed = op_embed,
    .rmsnorm = op_rmsnorm,
    .linear = op_linear,
    .rope_cache = op_rope_cache,
    .attention = op_attention,
    .swiglu = op_swiglu,
    .logits = op_logits,
    .route = op_route,
    .experts = op_experts,
};

const hws_llm_backend hws_llm_cpu_backend = {
    .abi = HWS_LLM_BACKEND_ABI,
    .ops = &cpu_ops,
    .create = create,
    .set_weight = set_weight,
    .fill_weight = fill_weight,
    .set_rows = set_rows,
    .run = run,
    .get_logits = get_logits,
    .destroy = destroy,
};
