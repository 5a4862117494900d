/* cpu_kernels.c - the CPU backend's fused kernels: bias + ReLU, residual + LayerNorm, softmax
 * and attention (direct for short sequences, OpenBLAS products for long ones). */
#include "engine/cpu_kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    float *y;
    const float *x, *w, *b;
    int rows, k, n, relu;
    int tr, tc; /* the output split into tr x tc tiles, one per pool thread */
} linear_job;

/* y[r0..r1, c0..c1) = x w^T over those rows and columns, then bias and ReLU while the tile is
 * still in cache. */
static void linear_tile(const linear_job *j, int r0, int r1, int c0, int c1) {
    int n = j->n, w = c1 - c0;
    if (r1 <= r0 || w <= 0)
        return;
    float *y = j->y + (size_t)r0 * n + c0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, w, j->k, 1.0f,
                j->x + (size_t)r0 * j->k, j->k, j->w + (size_t)c0 * j->k, j->k, 0.0f, y, n);
    for (int r = 0; r < r1 - r0; r++) {
        float *yr = y + (size_t)r * n;
        if (j->b)
            for (int i = 0; i < w; i++)
                yr[i] += j->b[c0 + i];
        if (j->relu)
            for (int i = 0; i < w; i++)
                yr[i] = yr[i] > 0 ? yr[i] : 0;
    }
}

static void bias_act_rows(void *ctx, long r0, long r1, int tid) {
    const linear_job *j = ctx;
    (void)tid;
    for (long r = r0; r < r1; r++) {
        float *yr = j->y + (size_t)r * j->n;
        for (int i = 0; i < j->n; i++) {
            float v = yr[i] + (j->b ? j->b[i] : 0.0f);
            yr[i] = j->relu && v < 0 ? 0 : v;
        }
    }
}

void hws_cpu_linear_blas(hws_pool *p, float *y, const float *x, const float *w, const float *b,
                         int rows, int k, int n, int relu) {
    linear_job j = {y, x, w, b, rows, k, n, relu, 1, 1};
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, k, 1.0f, x, k, w, k, 0.0f, y, n);
    if (b || relu)
        hws_pool_run(p, bias_act_rows, &j, rows);
}

/* Start of part i of len split into parts pieces, in multiples of 16 (a cache line of floats). */
static int split_at(int len, int parts, int i) {
    int units = (len + 15) / 16, at = (int)((long)units * i / parts) * 16;
    return at < len ? at : len;
}

static void linear_tiles(void *ctx, long t0, long t1, int tid) {
    const linear_job *j = ctx;
    (void)tid;
    for (long t = t0; t < t1; t++) {
        int ti = (int)(t / j->tc), tj = (int)(t % j->tc);
        linear_tile(j, split_at(j->rows, j->tr, ti), split_at(j->rows, j->tr, ti + 1),
                    split_at(j->n, j->tc, tj), split_at(j->n, j->tc, tj + 1));
    }
}

/* Each tile's single-threaded OpenBLAS call packs its rows of x and its columns of w: the
 * tr x tc split (tr * tc = tiles) with the least of that, rows/tr + n/tc, per tile. */
static void pick_tiles(int tiles, int rows, int n, int *tr, int *tc) {
    long best = -1;
    for (int a = 1; a <= tiles; a++) {
        if (tiles % a != 0)
            continue;
        long cost = (rows + a - 1) / a + (n + tiles / a - 1) / (tiles / a);
        if (best < 0 || cost < best) {
            best = cost;
            *tr = a;
            *tc = tiles / a;
        }
    }
}

void hws_cpu_linear(hws_pool *p, int tiles_per_thread, float *y, const float *x, const float *w,
                    const float *b, int rows, int k, int n, int relu) {
    linear_job j = {y, x, w, b, rows, k, n, relu, 1, 1};
    int m = tiles_per_thread;
    int tiles = hws_pool_threads(p) * (m < 1 ? 1 : m > 8 ? 8 : m);
    pick_tiles(tiles, rows, n, &j.tr, &j.tc);
    hws_pool_run(p, linear_tiles, &j, (long)j.tr * j.tc);
}

typedef struct {
    float *out;
    const float *x, *res, *g, *beta;
    int E;
    float eps;
} ln_job;

static void ln_rows(void *ctx, long r0, long r1, int tid) {
    (void)tid;
    const ln_job *j = ctx;
    int E = j->E;
    for (long r = r0; r < r1; r++) {
        const float *x = j->x + r * E, *res = j->res ? j->res + r * E : NULL;
        float *out = j->out + r * E;
        float sum = 0;
        for (int i = 0; i < E; i++) {
            float v = res ? x[i] + res[i] : x[i];
            out[i] = v;
            sum += v;
        }
        float mean = sum / E, var = 0;
        for (int i = 0; i < E; i++)
            var += (out[i] - mean) * (out[i] - mean);
        float rstd = 1.0f / sqrtf(var / E + j->eps);
        for (int i = 0; i < E; i++)
            out[i] = (out[i] - mean) * rstd * j->g[i] + j->beta[i];
    }
}

void hws_cpu_add_ln(hws_pool *p, float *out, const float *x, const float *res, const float *g,
                    const float *beta, long rows, int E, float eps) {
    ln_job j = {out, x, res, g, beta, E, eps};
    hws_pool_run(p, ln_rows, &j, rows);
}

/* softmax over each row of n floats, in place */
static void softmax_row(float *s, int n) {
    float m = s[0], sum = 0;
    for (int j = 1; j < n; j++)
        m = s[j] > m ? s[j] : m;
    for (int j = 0; j < n; j++) {
        s[j] = expf(s[j] - m);
        sum += s[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < n; j++)
        s[j] *= inv;
}

static float dot(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int u = 0; u < 8; u++)
            acc[u] += a[i + u] * b[i + u];
    float s = 0;
    for (; i < n; i++)
        s += a[i] * b[i];
    for (int u = 0; u < 8; u++)
        s += acc[u];
    return s;
}

typedef struct {
    const hws_cpu_attn *a;
    float *scores; /* for the product path: Sq*Skv */
} attn_job;

/* Direct path: one item per (batch, head); scores of one query row at a time. */
static void attn_direct(void *ctx, long i0, long i1, int tid) {
    (void)tid;
    const attn_job *job = ctx;
    const hws_cpu_attn *a = job->a;
    int hd = a->head_dim, N = a->N;
    float scale = 1.0f / sqrtf((float)hd);
    for (long it = i0; it < i1; it++) {
        int n = (int)(it / a->nhead), h = (int)(it % a->nhead);
        float *s = job->scores + it * a->Skv;
        for (int i = 0; i < a->Sq; i++) {
            const float *q = a->q + ((size_t)i * N + n) * a->ldq + h * hd;
            for (int j = 0; j < a->Skv; j++)
                s[j] = dot(q, a->k + ((size_t)j * N + n) * a->ldk + h * hd, hd) * scale;
            softmax_row(s, a->Skv);
            float *o = a->out + ((size_t)i * N + n) * a->ldo + h * hd;
            for (int d = 0; d < hd; d++)
                o[d] = 0;
            for (int j = 0; j < a->Skv; j++) {
                const float *v = a->v + ((size_t)j * N + n) * a->ldv + h * hd;
                for (int d = 0; d < hd; d++)
                    o[d] += s[j] * v[d];
            }
        }
    }
}

/* Short sequences go the direct way, long ones through OpenBLAS products. */
static int direct(int Sq, int Skv) {
    return Sq < 32 || Skv < 32;
}

long hws_cpu_attention_scratch(int Sq, int Skv, int N, int nhead, int threads) {
    return direct(Sq, Skv) ? (long)N * nhead * Skv : (long)threads * Sq * Skv;
}

/* Product path: one item per (batch, head), scores in the thread's own scratch. */
static void attn_products(void *ctx, long i0, long i1, int tid) {
    const attn_job *j = ctx;
    const hws_cpu_attn *a = j->a;
    int hd = a->head_dim, N = a->N;
    float scale = 1.0f / sqrtf((float)hd), *s = j->scores + (size_t)tid * a->Sq * a->Skv;
    for (long it = i0; it < i1; it++) {
        size_t n = (size_t)(it / a->nhead), col = (size_t)(it % a->nhead) * hd;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, a->Sq, a->Skv, hd, scale,
                    a->q + n * a->ldq + col, N * a->ldq, a->k + n * a->ldk + col, N * a->ldk, 0.0f,
                    s, a->Skv);
        for (int r = 0; r < a->Sq; r++)
            softmax_row(s + (size_t)r * a->Skv, a->Skv);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, a->Sq, hd, a->Skv, 1.0f, s, a->Skv,
                    a->v + n * a->ldv + col, N * a->ldv, 0.0f, a->out + n * a->ldo + col,
                    N * a->ldo);
    }
}

void hws_cpu_attention(hws_pool *p, const hws_cpu_attn *a, float *scratch) {
    attn_job j = {a, scratch};
    hws_pool_run(p, direct(a->Sq, a->Skv) ? attn_direct : attn_products, &j, (long)a->N * a->nhead);
}
