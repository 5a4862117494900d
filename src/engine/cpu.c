/* cpu.c - the CPU backend: OpenBLAS for the matrix products, the fused kernels of cpu_kernels.c
 * for the rest, and the forward pass of forward.c over them. One set of threads (the pool) runs
 * everything: OpenBLAS is kept single-threaded and each thread takes a tile of each product,
 * because OpenBLAS's own threads spin between calls and fight the pool's for the cores (on the
 * 16-core H100 host the forward took 630 ms with both sets of 16 threads, 470 ms with the pool
 * cut to the caller alone). */
#include "engine/backend.h"
#include "engine/cpu_kernels.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hws_tfm_cpu {
    const hws_tfm_weights *w;
    int S, N;
    hws_pool *pool;
    float *buf[HWS_BUF_COUNT]; /* SRC, TGT and OUT point at the caller's arrays */
    float *scratch;
    int blas_threads; /* products: one multi-threaded OpenBLAS call (else tiles on the pool) */
    int tiles;        /* tiles per thread of a product on the pool */
    int fold;         /* attention blocks as folded maps (hws_tfm_options.fold) */
    int blas_threads_before; /* OpenBLAS's thread count before this runner, put back on free */
};

/* y = x w^T + b (+ReLU) the configured way. */
static void product(hws_tfm_cpu *c, float *y, const float *x, const float *w, const float *b,
                    int rows, int k, int n, int relu) {
    if (c->blas_threads)
        hws_cpu_linear_blas(c->pool, y, x, w, b, rows, k, n, relu);
    else
        hws_cpu_linear(c->pool, c->tiles, y, x, w, b, rows, k, n, relu);
}

static hws_status cpu_linear(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k, int n,
                             const float *w, const float *b, int relu, hws_error *err) {
    hws_tfm_cpu *c = ctx;
    (void)err;
    product(c, c->buf[y], c->buf[x], w, b, rows, k, n, relu);
    return HWS_OK;
}

static hws_status cpu_linear_batched(void *ctx, hws_tfm_buf y, hws_tfm_buf x, int rows, int k,
                                     int n, const float *w, size_t w_stride, const float *b,
                                     size_t b_stride, int count, hws_error *err) {
    hws_tfm_cpu *c = ctx;
    (void)err;
    for (int i = 0; i < count; i++)
        product(c, c->buf[y] + (size_t)i * rows * n, c->buf[x], w + i * w_stride,
                b ? b + i * b_stride : NULL, rows, k, n, 0);
    return HWS_OK;
}

static hws_status cpu_attention(void *ctx, const hws_tfm_attn_args *a, hws_error *err) {
    hws_tfm_cpu *c = ctx;
    (void)err;
    hws_cpu_attn k = {c->buf[a->q.buf] + a->q.off + a->q.col,
                      c->buf[a->k.buf] + a->k.off + a->k.col,
                      c->buf[a->v.buf] + a->v.off + a->v.col,
                      c->buf[a->out],
                      a->q.ld,
                      a->k.ld,
                      a->v.ld,
                      a->nhead * a->head_dim,
                      a->Sq,
                      a->Skv,
                      a->N,
                      a->nhead,
                      a->head_dim};
    hws_cpu_attention(c->pool, &k, c->scratch);
    return HWS_OK;
}

/* out = LayerNorm(x + r at element r_off) */
static void add_ln_at(hws_tfm_cpu *c, hws_tfm_buf out, hws_tfm_buf x, int r, size_t r_off,
                      const hws_tfm_ln *ln, int rows, int E, float eps) {
    hws_cpu_add_ln(c->pool, c->buf[out], c->buf[x], r >= 0 ? c->buf[r] + r_off : NULL, ln->g, ln->b,
                   rows, E, eps);
}

static hws_status cpu_add_ln(void *ctx, hws_tfm_buf out, hws_tfm_buf x, int r, const hws_tfm_ln *ln,
                             int rows, int E, float eps, hws_error *err) {
    (void)err;
    add_ln_at(ctx, out, x, r, 0, ln, rows, E, eps);
    return HWS_OK;
}

static hws_status cpu_add_ln2(void *ctx, hws_tfm_buf out, hws_tfm_buf x, hws_tfm_buf r,
                              const hws_tfm_ln *ln, int r2, size_t r2_off, const hws_tfm_ln *ln2,
                              int rows, int E, float eps, hws_error *err) {
    (void)err;
    add_ln_at(ctx, out, x, (int)r, 0, ln, rows, E, eps);
    add_ln_at(ctx, out, out, r2, r2_off, ln2, rows, E, eps);
    return HWS_OK;
}

static const hws_tfm_ops cpu_ops = {cpu_linear, cpu_linear_batched, cpu_attention, cpu_add_ln,
                                    cpu_add_ln2};

char *hws_tfm_cpu_blas(char *buf, size_t n) {
    snprintf(buf, n, "%s (kernels for %s)", openblas_get_config(), openblas_get_corename());
    return buf;
}

const char *hws_tfm_cpu_blas_core(void) {
    return openblas_get_corename();
}

int hws_tfm_cpu_threads(const hws_tfm_cpu *c) {
    return hws_pool_threads(c->pool);
}

void hws_tfm_cpu_free(hws_tfm_cpu *c) {
    if (!c)
        return;
    for (int b = HWS_BUF_X; b < HWS_BUF_OUT; b++)
        free(c->buf[b]);
    free(c->scratch);
    hws_pool_free(c->pool);
    if (c->blas_threads_before > 0)
        openblas_set_num_threads(c->blas_threads_before);
    free(c);
}

hws_status hws_tfm_cpu_new(const hws_tfm_weights *w, int S, int N, int threads,
                           const hws_tfm_options *opt, hws_tfm_cpu **out, hws_error *err) {
    hws_tfm_options o = opt ? *opt : hws_tfm_options_default();
    if (S < 1 || N < 1 || (long)S * N > (1L << 24))
        return hws_error_set(err, HWS_ERR_INPUT, "shape S=%d, N=%d is out of range", S, N);
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    hws_tfm_cpu *c = calloc(1, sizeof *c);
    if (!c)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    c->w = w;
    c->S = S;
    c->N = N;
    c->fold = o.fold;
    c->tiles = o.cpu_tiles < 1 ? 1 : o.cpu_tiles > 8 ? 8 : o.cpu_tiles;
    c->pool = hws_pool_new(threads, o.spin_rounds == 0  ? -1
                                    : o.spin_rounds < 0 ? 0
                                                        : o.spin_rounds);
    int ok = c->pool != NULL;
    size_t rows = (size_t)S * N;
    for (int b = HWS_BUF_X; b < HWS_BUF_OUT && ok; b++)
        ok = (c->buf[b] = malloc(rows * hws_tfm_buf_width(&w->cfg, b) * sizeof(float))) != NULL;
    long scratch = hws_cpu_attention_scratch(S, S, N, w->cfg.nhead, threads);
    ok = ok && (c->scratch = malloc((size_t)scratch * sizeof(float))) != NULL;
    if (!ok) {
        hws_tfm_cpu_free(c);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory for S=%d, N=%d", S, N);
    }
    /* cpu_blas_threads: OpenBLAS's own threads run each product (to compare); else the pool's
     * threads call it, each on its own tile */
    c->blas_threads = o.cpu_blas_threads ? threads : 0;
    c->blas_threads_before = openblas_get_num_threads();
    openblas_set_num_threads(c->blas_threads ? c->blas_threads : 1);
    *out = c;
    return HWS_OK;
}

hws_status hws_tfm_cpu_forward(hws_tfm_cpu *c, const float *src, const float *tgt, float *out,
                               hws_error *err) {
    c->buf[HWS_BUF_SRC] = (float *)src; /* read only */
    c->buf[HWS_BUF_TGT] = (float *)tgt;
    c->buf[HWS_BUF_OUT] = out;
    return hws_tfm_run(c->w, c->S, c->N, c->fold, &cpu_ops, c, err);
}
