/* llm_cpu.c - the CPU backend of the LLM engine: the ops of llm_backend.h on float activations,
 * linear layers stored in the model's format and dequantised row by row as they are read, split
 * over a pool of threads (small batches: the decode products of llm_cpu_gemv.c on contiguous
 * shares of the rows; larger: the prefill products of llm_cpu_gemm.c on blocks of rows, or
 * OpenBLAS on dequantised tiles where the CPU runs no vector version of them). The embedding table
 * is kept in 16 bits (bf16, fp16 for fp16 models), as the CUDA backend keeps it, so a tied output
 * head streams 2 bytes a weight. A mixture of experts runs each chosen expert once over the rows
 * routed to it, gathered. */
#include "engine/llm_backend.h"
#include "engine/llm_cpu_gemm.h"
#include "engine/llm_cpu_gemv.h"
#include "engine/llm_moe.h"
#include "engine/llm_quant.h"
#include "engine/pool.h"
#include "probe/cgroup.h"
#include "util/units.h"

#include <cblas.h>
#include <math.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TILE_ROWS 64 /* output rows dequantised at a time for the OpenBLAS path */
/* Decode products: the rows cut into SHARES_PER_THREAD shares a thread (whole runs of GEMV_UNIT
 * rows each), taken as threads come free. */
#define GEMV_UNIT         16
#define SHARES_PER_THREAD 4

typedef struct {
    int rows, cols;
    hws_llm_format fmt; /* of q */
    float *f;           /* norms and biases */
    void *q;            /* linear: bf16/fp16, int8 or packed int4 codes; the embedding: 16-bit */
    uint16_t *scales;   /* int8/int4: [rows, cols / HWS_LLM_GROUP] fp16 */
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
    int32_t *routes;      /* [n_layers][max_rows][k] the same, every layer's (get_routes) */
    float *sel_w;         /* [max_rows, k] their weights */
    int32_t *moe_pick;    /* [max_rows k] (row, slot) pairs routed to the expert being run */
    float *moe_x, *moe_y; /* [max_rows k, max(d_model, 2 ffn)] its inputs and outputs */
    float *scratch;       /* per thread: TILE_ROWS * max(cols) + scores */
    size_t scratch_per_thread;
    hws_pool *pool;
    int threads;      /* the pool's, the caller included */
    hws_gemv_isa isa; /* the decode and prefill products' version for this CPU */
    int amx;          /* prefill products of HWS_GEMM_AMX_ROWS rows and more in AMX tiles */
    uint16_t *xpack;  /* AMX: x packed for the tiles, hws_gemm_amx_x_elems(max_rows, cols) */
} cpu_ctx;

static cpu_weight *weight_of(cpu_ctx *c, int layer, hws_llm_weight w) {
    int l = layer < 0 ? c->s.n_layers : layer;
    return &c->w[(size_t)l * HWS_LLM_W_COUNT + w];
}

static int buf_width(const cpu_ctx *c, hws_llm_buf b) {
    return hws_llm_buf_width(&c->s, b);
}

/* A linear weight as the products take it. */
static hws_gemv_weight gemv_weight_of(const cpu_weight *w) {
    return (hws_gemv_weight){w->fmt, w->rows, w->cols, w->q, w->scales};
}

/* Row o of a weight as floats. */
static void dequant_row(const cpu_weight *w, int o, float *out) {
    size_t n = (size_t)w->cols;
    if (w->f) {
        memcpy(out, w->f + (size_t)o * n, n * sizeof *out);
        return;
    }
    hws_gemv_weight gw = gemv_weight_of(w);
    hws_gemv_weight_row(&gw, o, 0, n, out);
}

typedef struct {
    cpu_weight *w;
    const float *x;
} store_job;

/* Groups [g0, g1) of HWS_LLM_GROUP elements of a weight from floats, in its format. */
static void store_part(void *arg, long g0, long g1, int tid) {
    (void)tid;
    const store_job *j = arg;
    cpu_weight *w = j->w;
    size_t n = (size_t)w->rows * w->cols;
    if (w->fmt == HWS_LLM_BF16 || w->fmt == HWS_LLM_FP16) {
        uint16_t *q = w->q;
        size_t end = (size_t)g1 * HWS_LLM_GROUP < n ? (size_t)g1 * HWS_LLM_GROUP : n;
        for (size_t i = (size_t)g0 * HWS_LLM_GROUP; i < end; i++)
            q[i] = w->fmt == HWS_LLM_BF16 ? hws_f32_to_bf16(j->x[i]) : hws_f32_to_f16(j->x[i]);
        return;
    }
    int int8 = w->fmt == HWS_LLM_INT8;
    for (size_t g = (size_t)g0; g < (size_t)g1; g++) {
        const float *v = j->x + g * HWS_LLM_GROUP;
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

/* Stores rows x cols floats into a weight in its format, spread over the pool. */
static void store_weight(const cpu_ctx *c, cpu_weight *w, const float *x) {
    size_t n = (size_t)w->rows * w->cols;
    if (w->f) {
        memcpy(w->f, x, n * sizeof *x);
        return;
    }
    store_job j = {w, x};
    hws_pool_run(c->pool, store_part, &j, (long)((n + HWS_LLM_GROUP - 1) / HWS_LLM_GROUP));
}

/* Memory for a weight that decode streams: big ones on 2 MiB boundaries and asked for as
 * transparent huge pages (fewer TLB misses while streaming; where THP is "madvise"). free()s. */
static void *alloc_streamed(size_t bytes) {
    size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge)
        return malloc(bytes);
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only: without it, 4 KiB pages */
#endif
    return p;
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
    free(c->xpack);
    free(c->sel_ids);
    free(c->routes);
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
            if (hws_llm_weight_is_linear((hws_llm_weight)w)) {
                cw->fmt = c->fmt;
            } else if (w == HWS_LLM_W_EMBED) {
                cw->fmt = c->fmt == HWS_LLM_FP16 ? HWS_LLM_FP16 : HWS_LLM_BF16;
            } else {
                ok = (cw->f = malloc(n * sizeof(float))) != NULL;
                continue;
            }
            size_t bytes = cw->fmt == HWS_LLM_INT8 ? n : (cw->fmt == HWS_LLM_INT4 ? n / 2 : 2 * n);
            ok = (cw->q = alloc_streamed(bytes)) != NULL;
            if (ok && cw->fmt >= HWS_LLM_INT8)
                ok = (cw->scales = malloc(n / HWS_LLM_GROUP * 2)) != NULL;
        }
    for (int b = 0; ok && b < HWS_LLM_BUF_COUNT; b++)
        ok = (c->buf[b] = calloc((size_t)max_rows * buf_width(c, b) + 1, sizeof(float))) != NULL;
    size_t picks = (size_t)max_rows * hws_llm_ffn_slots(s) + 1;
    size_t moe_w = (size_t)(s->d_model > 2 * ffn ? s->d_model : 2 * ffn);
    if (ok && s->n_experts > 0)
        ok = (c->sel_ids = calloc(picks, 4)) && (c->sel_w = calloc(picks, 4)) &&
             (c->moe_pick = calloc(picks, 4)) && (c->moe_x = calloc(picks * moe_w, 4)) &&
             (c->moe_y = calloc(picks * moe_w, 4)) &&
             (c->routes = calloc(picks * (size_t)s->n_layers, 4));
    size_t cache = (size_t)s->n_layers * o->max_batch * s->n_kv_heads * o->max_ctx * s->head_dim;
    int threads = o->threads > 0 ? o->threads : usable_cores();
    c->scratch_per_thread = (size_t)TILE_ROWS * max_cols + (size_t)o->max_ctx;
    if (c->scratch_per_thread < hws_gemm_scratch_floats())
        c->scratch_per_thread = hws_gemm_scratch_floats();
    c->amx = hws_gemm_amx_available() && max_rows >= HWS_GEMM_AMX_ROWS;
    if (c->amx && c->scratch_per_thread < hws_gemm_amx_scratch_floats(max_cols))
        c->scratch_per_thread = hws_gemm_amx_scratch_floats(max_cols);
    if (ok && c->amx)
        ok = (c->xpack = malloc(hws_gemm_amx_x_elems(max_rows, max_cols) * 2)) != NULL;
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
    c->threads = threads;
    c->isa = hws_gemv_isa_best();
    openblas_set_num_threads(1); /* the pool's threads call it, each on its own tile */
    memcpy(c->inv_freq, rope_inv_freq, (size_t)s->head_dim / 2 * sizeof(float));
    info->kv_bytes_per_token = 2.0 * s->n_layers * s->n_kv_heads * s->head_dim * sizeof(float);
    info->device_bytes_peak = info->weight_bytes + 2.0 * (double)cache * sizeof(float);
    snprintf(info->device_name, sizeof info->device_name, "CPU (%d threads)", threads);
    if (c->isa != HWS_GEMV_PORTABLE)
        snprintf(info->backend, sizeof info->backend, "cpu (own %s kernels%s)",
                 hws_gemv_isa_name(c->isa), c->amx ? "; AMX bf16 tiles for prefill" : "");
    else
        snprintf(info->backend, sizeof info->backend,
                 "cpu (own portable C kernels; OpenBLAS's %s kernels for prefill)",
                 openblas_get_corename());
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
        dequant_row(e, c->tokens[r], c->buf[HWS_LLM_BUF_X] + (size_t)r * c->s.d_model);
    return HWS_OK;
}

typedef struct {
    const cpu_ctx *c;
    float *out;
    const float *x, *g;
} rmsnorm_job;

/* Rows [r0, r1) of an RMSNorm. */
static void rmsnorm_part(void *arg, long r0, long r1, int tid) {
    (void)tid;
    const rmsnorm_job *j = arg;
    int d = j->c->s.d_model;
    for (long r = r0; r < r1; r++) {
        const float *xr = j->x + (size_t)r * d;
        double ss = 0;
        for (int i = 0; i < d; i++)
            ss += (double)xr[i] * xr[i];
        float inv = 1.0f / sqrtf((float)(ss / d) + j->c->s.rms_eps);
        for (int i = 0; i < d; i++)
            j->out[(size_t)r * d + i] = xr[i] * inv * j->g[i];
    }
}

/* Rows of a decode step on the caller alone (too little work to hand out), more over the pool. */
static void run_rows(const cpu_ctx *c, hws_pool_fn fn, void *job, int rows) {
    if (rows <= HWS_GEMV_MAX_X)
        fn(job, 0, rows, 0);
    else
        hws_pool_run(c->pool, fn, job, rows);
}

static void rmsnorm_rows(const cpu_ctx *c, float *out, const float *x, const float *g, int rows) {
    rmsnorm_job j = {c, out, x, g};
    run_rows(c, rmsnorm_part, &j, rows);
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
    size_t ldy;  /* floats between rows of y */
    long shares; /* decode products: the row range cut into this many shares */
    int amx;     /* prefill products: through the AMX tiles, x packed in c->xpack */
} linear_job;

/* Tiles [t0, t1) (TILE_ROWS output rows each) of y = x W^T for more than HWS_GEMV_MAX_X rows of
 * x: each tile's rows dequantised, then multiplied by every row of x through OpenBLAS (a whole
 * tile a call, so x is packed once per tile). */
static void linear_part(void *arg, long t0, long t1, int tid) {
    const linear_job *j = arg;
    int k = j->w->cols;
    float *tile = j->c->scratch + (size_t)tid * j->c->scratch_per_thread;
    for (long t = t0; t < t1; t++) {
        long o0 = t * TILE_ROWS;
        int nt = (int)(j->w->rows - o0 < TILE_ROWS ? j->w->rows - o0 : TILE_ROWS);
        for (int i = 0; i < nt; i++)
            dequant_row(j->w, (int)o0 + i, tile + (size_t)i * k);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->rows, nt, k, 1.0f, j->x, k, tile, k,
                    j->accumulate ? 1.0f : 0.0f, j->y + o0, (int)j->ldy);
    }
}

/* Rows of one share of a decode product: shares are contiguous runs of whole 16-row units (64
 * bytes of each output row, so no two threads write one cache line), as equal as the units allow,
 * so every share streams about the same bytes; a few shares a thread, so the threads that come
 * free first take the work of one the host holds up. */
static void share_rows(long rows, long shares, long share, long *o0, long *o1) {
    long units = (rows + GEMV_UNIT - 1) / GEMV_UNIT;
    *o0 = units * share / shares * GEMV_UNIT;
    *o1 = units * (share + 1) / shares * GEMV_UNIT;
    *o1 = *o1 < rows ? *o1 : rows;
}

/* Shares [s0, s1) of y = x W^T for up to HWS_GEMV_MAX_X rows of x. */
static void gemv_part(void *arg, long s0, long s1, int tid) {
    (void)tid;
    const linear_job *j = arg;
    const cpu_weight *w = j->w;
    hws_gemv_weight gw = gemv_weight_of(w);
    for (long sh = s0; sh < s1; sh++) {
        long o0, o1;
        share_rows(w->rows, j->shares, sh, &o0, &o1);
        if (o0 < o1)
            hws_gemv_rows(j->c->isa, &gw, o0, o1, j->x, (size_t)w->cols, j->rows, j->y, j->ldy,
                          j->accumulate);
    }
}

/* Groups [g0, g1) of 16 rows of x packed for the AMX tiles. */
static void amx_pack_part(void *arg, long g0, long g1, int tid) {
    (void)tid;
    const linear_job *j = arg;
    hws_gemm_amx_pack_x(j->x, (size_t)j->w->cols, j->rows, j->w->cols, g0, g1, j->c->xpack);
}

/* Blocks [b0, b1) of HWS_GEMM_MAX_BLOCK output rows of y = x W^T for more than HWS_GEMV_MAX_X
 * rows of x: through the AMX tiles (x packed; a whole block is one step of them), else (and a
 * last block of fewer rows) through the float products. */
_Static_assert(HWS_GEMM_MAX_BLOCK == HWS_GEMM_AMX_ROWS, "a block is one AMX step");
static void gemm_part(void *arg, long b0, long b1, int tid) {
    const linear_job *j = arg;
    const cpu_weight *w = j->w;
    hws_gemv_weight gw = gemv_weight_of(w);
    float *scratch = j->c->scratch + (size_t)tid * j->c->scratch_per_thread;
    for (long b = b0; b < b1; b++) {
        long o0 = b * HWS_GEMM_MAX_BLOCK;
        long o1 = o0 + HWS_GEMM_MAX_BLOCK < w->rows ? o0 + HWS_GEMM_MAX_BLOCK : w->rows;
        if (j->amx && o1 - o0 == HWS_GEMM_AMX_ROWS)
            hws_gemm_amx_rows(&gw, o0, j->c->xpack, j->rows, j->y, j->ldy, j->accumulate, scratch);
        else
            hws_gemm_rows(j->c->isa, &gw, o0, o1, j->x, (size_t)w->cols, j->rows, j->y, j->ldy,
                          j->accumulate, scratch);
    }
}

/* y = x W^T (+ y): up to HWS_GEMV_MAX_X rows of x through the decode products; more through the
 * AMX tiles where the CPU has them (HWS_GEMM_AMX_ROWS rows and more), else the prefill products,
 * or OpenBLAS where this CPU runs no vector version of them. */
static void linear_run(cpu_ctx *c, const cpu_weight *w, float *y, size_t ldy, const float *x,
                       int rows, int accumulate) {
    long units = (w->rows + GEMV_UNIT - 1) / GEMV_UNIT;
    linear_job j = {c, w, y, x, rows, accumulate, ldy, SHARES_PER_THREAD * c->threads, 0};
    j.shares = j.shares < units ? j.shares : units;
    j.amx = c->amx && rows >= HWS_GEMM_AMX_ROWS && w->cols % 32 == 0;
    if (rows <= HWS_GEMV_MAX_X) {
        hws_pool_run(c->pool, gemv_part, &j, j.shares);
    } else if (c->isa != HWS_GEMV_PORTABLE) {
        if (j.amx) /* groups of 16 rows, up to a whole step of HWS_GEMM_AMX_ROWS */
            hws_pool_run(c->pool, amx_pack_part, &j,
                         (rows + HWS_GEMM_AMX_ROWS - 1) / HWS_GEMM_AMX_ROWS * 2);
        hws_pool_run(c->pool, gemm_part, &j,
                     (w->rows + HWS_GEMM_MAX_BLOCK - 1) / HWS_GEMM_MAX_BLOCK);
    } else {
        hws_pool_run(c->pool, linear_part, &j, (w->rows + TILE_ROWS - 1) / TILE_ROWS);
    }
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

/* Rotates v (head_dim floats) by the angles whose cosines and sines are cs and sn. */
static void rope(const cpu_ctx *c, float *v, const float *cs, const float *sn) {
    int half = c->s.head_dim / 2;
    for (int i = 0; i < half; i++) {
        float x0 = v[i], x1 = v[i + half];
        v[i] = x0 * cs[i] - x1 * sn[i];
        v[i + half] = x1 * cs[i] + x0 * sn[i];
    }
}

typedef struct {
    cpu_ctx *c;
    int layer;
} layer_job;

/* Rows [r0, r1): q/k/v bias, RoPE on q and k, k and v into the cache. */
static void rope_cache_part(void *arg, long r0, long r1, int tid) {
    const layer_job *j = arg;
    cpu_ctx *c = j->c;
    int hd = c->s.head_dim, nh = c->s.n_heads, nkv = c->s.n_kv_heads;
    const cpu_weight *bias = weight_of(c, j->layer, HWS_LLM_B_QKV);
    float *cs = c->scratch + (size_t)tid * c->scratch_per_thread, *sn = cs + hd / 2;
    for (long r = r0; r < r1; r++) {
        float *q = c->buf[HWS_LLM_BUF_QKV] + (size_t)r * c->qkv_w;
        if (bias->f)
            for (int i = 0; i < c->qkv_w; i++)
                q[i] += bias->f[i];
        for (int i = 0; i < hd / 2; i++) { /* angles once for all heads */
            float a = (float)c->pos[r] * c->inv_freq[i];
            cs[i] = cosf(a);
            sn[i] = sinf(a);
        }
        for (int h = 0; h < nh + nkv; h++)
            rope(c, q + (size_t)h * hd, cs, sn);
        for (int h = 0; h < nkv; h++) {
            size_t at = cache_at(c, j->layer, c->seq[r], h, c->pos[r]);
            memcpy(c->k_cache + at, q + (size_t)(nh + h) * hd, (size_t)hd * sizeof(float));
            memcpy(c->v_cache + at, q + (size_t)(nh + nkv + h) * hd, (size_t)hd * sizeof(float));
        }
    }
}

static hws_status op_rope_cache(void *ctx, int layer, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    layer_job j = {c, layer};
    run_rows(c, rope_cache_part, &j, rows);
    return HWS_OK;
}

/* (row, head) pairs [i0, i1): scores over the cache, softmax, values. */
static void attention_part(void *arg, long i0, long i1, int tid) {
    const layer_job *j = arg;
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
    layer_job j = {c, layer};
    hws_pool_run(c->pool, attention_part, &j, (long)rows * c->s.n_heads);
    return HWS_OK;
}

/* FFN rows [r0, r1) (a row per FFN slot): act = silu(gate) * up. */
static void swiglu_part(void *arg, long r0, long r1, int tid) {
    (void)tid;
    const cpu_ctx *c = arg;
    int f = hws_llm_ffn_width(&c->s);
    for (long r = r0; r < r1; r++) {
        const float *gu = c->buf[HWS_LLM_BUF_GU] + (size_t)r * 2 * f;
        float *a = c->buf[HWS_LLM_BUF_ACT] + (size_t)r * f;
        for (int i = 0; i < f; i++)
            a[i] = gu[i] / (1.0f + expf(-gu[i])) * gu[f + i];
    }
}

static hws_status op_swiglu(void *ctx, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    run_rows(c, swiglu_part, c, rows * hws_llm_ffn_slots(&c->s));
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

static hws_status op_route(void *ctx, int layer, int rows, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    int n = c->s.n_experts, k = c->s.n_experts_used;
    int32_t *log = c->routes + (size_t)layer * c->max_rows * k;
    for (int r = 0; r < rows; r++)
        hws_llm_route_row(c->buf[HWS_LLM_BUF_ROUTER] + (size_t)r * n, n, k, c->sel_ids + r * k,
                          c->sel_w + r * k);
    memcpy(log, c->sel_ids, (size_t)rows * k * sizeof *log);
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

static hws_status get_routes(void *ctx, int row, int32_t *out, hws_error *err) {
    (void)err;
    cpu_ctx *c = ctx;
    size_t k = (size_t)c->s.n_experts_used;
    for (int l = 0; l < c->s.n_layers; l++)
        memcpy(out + l * k, c->routes + ((size_t)l * c->max_rows + row) * k, k * sizeof *out);
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
    .get_routes = get_routes,
    .destroy = destroy,
};
