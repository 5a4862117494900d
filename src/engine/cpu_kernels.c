/* cpu_kernels.c - the CPU backend's fused kernels: bias + ReLU, residual + LayerNorm, softmax
 * and attention (direct for short sequences, OpenBLAS products for long ones). */
#include "engine/cpu_kernels.h"

#include <cblas.h>
#include <math.h>

typedef struct {
    float *y;
    const float *b;
    int n, relu;
} bias_job;

static void bias_rows(void *ctx, long r0, long r1) {
    const bias_job *j = ctx;
    for (long r = r0; r < r1; r++) {
        float *y = j->y + r * j->n;
        if (j->b)
            for (int i = 0; i < j->n; i++)
                y[i] += j->b[i];
        if (j->relu)
            for (int i = 0; i < j->n; i++)
                y[i] = y[i] > 0 ? y[i] : 0;
    }
}

void hws_cpu_bias_act(hws_pool *p, float *y, const float *b, long rows, int n, int relu) {
    bias_job j = {y, b, n, relu};
    if (b || relu)
        hws_pool_run(p, bias_rows, &j, rows);
}

typedef struct {
    float *out;
    const float *x, *res, *g, *beta;
    int E;
    float eps;
} ln_job;

static void ln_rows(void *ctx, long r0, long r1) {
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
static void attn_direct(void *ctx, long i0, long i1) {
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

static void softmax_rows(void *ctx, long r0, long r1) {
    const attn_job *j = ctx;
    for (long r = r0; r < r1; r++)
        softmax_row(j->scores + r * j->a->Skv, j->a->Skv);
}

/* Short sequences go the direct way, long ones through OpenBLAS products. */
static int direct(int Sq, int Skv) {
    return Sq < 32 || Skv < 32;
}

long hws_cpu_attention_scratch(int Sq, int Skv, int N, int nhead) {
    return direct(Sq, Skv) ? (long)N * nhead * Skv : (long)Sq * Skv;
}

void hws_cpu_attention(hws_pool *p, const hws_cpu_attn *a, float *scratch) {
    attn_job j = {a, scratch};
    if (direct(a->Sq, a->Skv)) {
        hws_pool_run(p, attn_direct, &j, (long)a->N * a->nhead);
        return;
    }
    int hd = a->head_dim, N = a->N;
    float scale = 1.0f / sqrtf((float)hd);
    for (int n = 0; n < N; n++)
        for (int h = 0; h < a->nhead; h++) {
            size_t off = (size_t)n, col = (size_t)h * hd;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, a->Sq, a->Skv, hd, scale,
                        a->q + off * a->ldq + col, N * a->ldq, a->k + off * a->ldk + col,
                        N * a->ldk, 0.0f, scratch, a->Skv);
            hws_pool_run(p, softmax_rows, &j, a->Sq);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, a->Sq, hd, a->Skv, 1.0f, scratch,
                        a->Skv, a->v + off * a->ldv + col, N * a->ldv, 0.0f,
                        a->out + off * a->ldo + col, N * a->ldo);
        }
}
