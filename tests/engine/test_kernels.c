/* test_kernels.c - each engine kernel against the plain C reference on random shapes, odd sizes
 * included: the CPU kernels always, the CUDA backend's operations (every precision) when a GPU
 * is there (skipped, saying why, when not). */
#include "hws_test.h"

#include "engine/backend.h"
#include "engine/cpu_kernels.h"
#include "engine_ref.h"
#include "gpu/cuda_module.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *rnd(size_t n, uint64_t seed) {
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    hws_tfm_fill_uniform(x, n, seed);
    return x;
}

static void count_visits(void *ctx, long b, long e, int tid) {
    unsigned char *seen = ctx;
    (void)tid;
    for (long i = b; i < e; i++)
        seen[i]++; /* pieces are disjoint, so no two threads write one element */
}

/* The pool hands every index of each job to exactly one call, job after job, with and without
 * spinning between jobs (spin rounds 0: workers sleep at once). */
static void test_pool_covers_each_index_once(void **state) {
    (void)state;
    enum { MAXN = 1000 };
    static unsigned char seen[MAXN];
    for (int spin = 0; spin < 2; spin++) {
        hws_pool *p = hws_pool_new(4, spin ? -1 : 0);
        assert_non_null(p);
        for (int r = 0; r < 3000; r++) {
            long n = 1 + (r * 37) % (MAXN - 1);
            memset(seen, 0, sizeof seen);
            hws_pool_run(p, count_visits, seen, n);
            for (long i = 0; i < MAXN; i++)
                if (seen[i] != (i < n))
                    fail_msg("job %d of %ld: index %ld visited %d times", r, n, i, seen[i]);
        }
        hws_pool_free(p);
    }
}

static void test_cpu_linear(void **state) {
    (void)state;
    hws_pool *p = hws_pool_new(3, -1);
    assert_non_null(p);
    /* {rows, k, n}: fewer columns than threads, odd sizes, the guide's sizes */
    int shapes[][3] = {{1, 1, 1}, {7, 13, 2}, {33, 129, 65}, {512, 512, 1536}};
    for (int s = 0; s < 4; s++) {
        int rows = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        for (int relu = 0; relu < 2; relu++) {
            float *x = rnd((size_t)rows * k, 1 + s), *w = rnd((size_t)n * k, 2 + s),
                  *b = relu ? rnd((size_t)n, 3 + s) : NULL;
            float *want = malloc((size_t)rows * n * sizeof *want),
                  *got = malloc((size_t)rows * n * sizeof *got);
            ref_linear(want, x, w, b, rows, k, n, relu);
            hws_cpu_linear(p, 1, got, x, w, b, rows, k, n, relu);
            assert_true(max_abs_diff(got, want, (size_t)rows * n) < 1e-4);
            free(x), free(w), free(b), free(want), free(got);
        }
    }
    hws_pool_free(p);
}

static void test_cpu_add_ln(void **state) {
    (void)state;
    hws_pool *p = hws_pool_new(4, -1);
    assert_non_null(p);
    int shapes[][2] = {{1, 8}, {5, 37}, {65, 512}};
    for (int s = 0; s < 3; s++) {
        int rows = shapes[s][0], E = shapes[s][1];
        size_t n = (size_t)rows * E;
        float *x = rnd(n, 10 + s), *r = rnd(n, 20 + s), *g = rnd((size_t)E, 30 + s),
              *b = rnd((size_t)E, 40 + s), *want = malloc(n * sizeof *want),
              *out = malloc(n * sizeof *out);
        ref_add_ln(want, x, r, g, b, rows, E, 1e-5f);
        hws_cpu_add_ln(p, x, x, r, g, b, rows, E, 1e-5f); /* in place, as the engine does */
        assert_true(max_abs_diff(x, want, n) < 1e-5);
        ref_add_ln(want, r, NULL, g, b, rows, E, 1e-5f);
        hws_cpu_add_ln(p, out, r, NULL, g, b, rows, E, 1e-5f);
        assert_true(max_abs_diff(out, want, n) < 1e-5);
        free(x), free(r), free(g), free(b), free(want), free(out);
    }
    hws_pool_free(p);
}

/* {Sq, Skv, N, heads, head_dim}: direct path (short) and OpenBLAS path (>= 32) */
static const int attn_shapes[][5] = {{1, 1, 5, 3, 7},    {3, 5, 2, 2, 13},   {1, 9, 4, 1, 64},
                                     {33, 40, 2, 3, 16}, {64, 64, 1, 8, 64}, {40, 1, 3, 2, 5}};

static void test_cpu_attention(void **state) {
    (void)state;
    hws_pool *p = hws_pool_new(3, -1);
    assert_non_null(p);
    for (size_t s = 0; s < sizeof attn_shapes / sizeof attn_shapes[0]; s++) {
        int Sq = attn_shapes[s][0], Skv = attn_shapes[s][1], N = attn_shapes[s][2],
            H = attn_shapes[s][3], hd = attn_shapes[s][4], E = H * hd;
        /* q inside a packed [rows, 3E] block, k and v in a [rows, 2E] one, like the engine */
        float *q = rnd((size_t)Sq * N * 3 * E, 50 + s), *kv = rnd((size_t)Skv * N * 2 * E, 60 + s);
        float *want = malloc((size_t)Sq * N * E * sizeof *want);
        float *out = malloc((size_t)Sq * N * E * sizeof *out);
        float *scratch = malloc((size_t)hws_cpu_attention_scratch(Sq, Skv, N, H, 3) * sizeof *out);
        ref_attention(want, E, q, 3 * E, kv, 2 * E, kv + E, 2 * E, Sq, Skv, N, H, hd);
        hws_cpu_attn a = {q, kv, kv + E, out, 3 * E, 2 * E, 2 * E, E, Sq, Skv, N, H, hd};
        hws_cpu_attention(p, &a, scratch);
        double e = max_abs_diff(out, want, (size_t)Sq * N * E);
        if (e >= 1e-5)
            print_message("attention %d,%d,%d,%d,%d: max abs error %g\n", Sq, Skv, N, H, hd, e);
        assert_true(e < 1e-5);
        free(q), free(kv), free(want), free(out), free(scratch);
    }
    hws_pool_free(p);
}

/* ---- CUDA: the backend's operations on its own buffers ---- */
static const hws_tfm_cuda_api *cuda_api(void) {
    hws_error err;
    hws_tfm_cuda_get_api_fn get;
    *(void **)&get = hws_cuda_module_sym("hws_tfm_cuda_get_api", &err);
    if (!get)
        print_message("CUDA kernels skipped: %s\n", err.msg);
    return get ? get() : NULL;
}

/* tolerance relative to the reference's magnitude, per precision */
static const double gpu_tol[] = {2e-5, 5e-3, 5e-3, 3e-2};

static double rel_err(const float *got, const float *want, size_t n) {
    double m = 1;
    for (size_t i = 0; i < n; i++)
        m = fabs(want[i]) > m ? fabs(want[i]) : m;
    return max_abs_diff(got, want, n) / m;
}

/* Runs linear, attention and add_ln for one model shape in one precision. Returns 0 if skipped. */
static int gpu_case(const hws_tfm_cuda_api *api, int E, int H, int F, int S, int N,
                    hws_tfm_dtype dt) {
    hws_tfm_config cfg = {E, H, 1, 2, F, 1e-5f};
    hws_tfm_weights *w;
    hws_error err;
    assert_int_equal(hws_tfm_weights_random(&cfg, 7, &w, &err), HWS_OK);
    void *ctx;
    char dev[128];
    hws_tfm_options opt = hws_tfm_options_default();
    hws_status st = api->create(w, S, N, dt, &opt, &ctx, dev, sizeof dev, &err);
    if (st == HWS_ERR_UNSUPPORTED) {
        print_message("CUDA kernels skipped: %s\n", err.msg);
        hws_tfm_weights_free(w);
        return 0;
    }
    assert_int_equal(st, HWS_OK);
    int rows = S * N, hd = E / H;
    size_t nE = (size_t)rows * E;
    float *x = rnd(nE, 1), *qkv = rnd((size_t)rows * 3 * E, 2), *tmp = rnd(nE, 3);
    float *want = malloc((size_t)rows * (F > 3 * E ? F : 3 * E) * sizeof *want);
    float *got = malloc((size_t)rows * (F > 3 * E ? F : 3 * E) * sizeof *got);
    const hws_tfm_layer *l = &w->dec[0];
    /* the round trip into the precision is part of the reference */
    assert_int_equal(api->buf_write(ctx, HWS_BUF_X, x, nE, &err), HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_X, x, nE, &err), HWS_OK);
    assert_int_equal(
        api->ops->linear(ctx, HWS_BUF_FF, HWS_BUF_X, rows, E, F, l->l1.w, l->l1.b, 1, &err),
        HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_FF, got, (size_t)rows * F, &err), HWS_OK);
    ref_linear(want, x, l->l1.w, l->l1.b, rows, E, F, 1);
    double e_lin = rel_err(got, want, (size_t)rows * F);
    /* cross-attention keys and values of both decoder layers in one batched product: slices
     * of in_proj, as the decoder uses them */
    size_t ws = (size_t)(w->dec[1].ca.in.w - w->dec[0].ca.in.w);
    size_t bs = (size_t)(w->dec[1].ca.in.b - w->dec[0].ca.in.b);
    const float *kvw = l->ca.in.w - ws + (size_t)E * E, *kvb = l->ca.in.b - bs + E; /* layer 0 */
    assert_int_equal(api->ops->linear_batched(ctx, HWS_BUF_KV, HWS_BUF_X, rows, E, 2 * E, kvw, ws,
                                              kvb, bs, 2, &err),
                     HWS_OK);
    float *kv = malloc((size_t)rows * 4 * E * sizeof *kv);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_KV, kv, (size_t)rows * 4 * E, &err), HWS_OK);
    for (int layer = 0; layer < 2; layer++) {
        ref_linear(want, x, kvw + layer * ws, kvb + layer * bs, rows, E, 2 * E, 0);
        e_lin = fmax(e_lin, rel_err(kv + (size_t)layer * rows * 2 * E, want, (size_t)rows * 2 * E));
    }

    assert_int_equal(api->buf_write(ctx, HWS_BUF_QKV, qkv, (size_t)rows * 3 * E, &err), HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_QKV, qkv, (size_t)rows * 3 * E, &err), HWS_OK);
    hws_tfm_attn_args a = {{HWS_BUF_QKV, 3 * E, 0, 0},
                           {HWS_BUF_QKV, 3 * E, E, 0},
                           {HWS_BUF_QKV, 3 * E, 2 * E, 0},
                           HWS_BUF_ATT,
                           S,
                           S,
                           N,
                           H,
                           hd};
    assert_int_equal(api->ops->attention(ctx, &a, &err), HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_ATT, got, nE, &err), HWS_OK);
    ref_attention(want, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, S, S, N, H, hd);
    double e_att = rel_err(got, want, nE);
    /* cross-attention: keys and values from the second layer's block of KV */
    size_t off = (size_t)rows * 2 * E;
    a.k = (hws_tfm_view){HWS_BUF_KV, 2 * E, 0, off};
    a.v = (hws_tfm_view){HWS_BUF_KV, 2 * E, E, off};
    assert_int_equal(api->ops->attention(ctx, &a, &err), HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_ATT, got, nE, &err), HWS_OK);
    ref_attention(want, E, qkv, 3 * E, kv + off, 2 * E, kv + off + E, 2 * E, S, S, N, H, hd);
    e_att = fmax(e_att, rel_err(got, want, nE));

    assert_int_equal(api->buf_write(ctx, HWS_BUF_TMP, tmp, nE, &err), HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_TMP, tmp, nE, &err), HWS_OK);
    assert_int_equal(
        api->ops->add_ln(ctx, HWS_BUF_OUT, HWS_BUF_X, HWS_BUF_TMP, &l->n1, rows, E, 1e-5f, &err),
        HWS_OK);
    assert_int_equal(api->buf_read(ctx, HWS_BUF_OUT, got, nE, &err), HWS_OK);
    ref_add_ln(want, x, tmp, l->n1.g, l->n1.b, rows, E, 1e-5f);
    double e_ln = rel_err(got, want, nE);
    print_message("CUDA %s on %s, E=%d H=%d F=%d S=%d N=%d: relative max error linear %.2g, "
                  "attention %.2g, add+LayerNorm %.2g\n",
                  hws_tfm_dtype_name(dt), dev, E, H, F, S, N, e_lin, e_att, e_ln);
    assert_true(e_lin < gpu_tol[dt] * (dt == HWS_TFM_FP32 ? 1 : 2));
    assert_true(e_att < gpu_tol[dt]);
    assert_true(e_ln < gpu_tol[dt] * 4);
    api->destroy(ctx);
    free(x), free(qkv), free(tmp), free(want), free(got), free(kv);
    hws_tfm_weights_free(w);
    return 1;
}

static void test_gpu_ops(void **state) {
    (void)state;
    const hws_tfm_cuda_api *api = cuda_api();
    if (!api)
        skip();
    /* {E, heads, d_ff, S, N}: odd widths; head sizes 8, 32, 64, 128 and 130 (each register
     * layout of both attention kernels: short sequences <= 32 keys and tiled longer ones);
     * S=1 like the guide's call */
    static const int shapes[][5] = {{24, 3, 40, 5, 3},   {64, 2, 128, 37, 2},  {520, 4, 72, 33, 1},
                                    {520, 4, 72, 3, 2},  {384, 3, 64, 40, 1},  {384, 3, 64, 2, 3},
                                    {512, 8, 64, 70, 1}, {512, 8, 2048, 1, 64}};
    for (int dt = 0; dt < 4; dt++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            if (!gpu_case(api, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4],
                          (hws_tfm_dtype)dt))
                skip();
}

int main(void) {
    openblas_set_num_threads(1); /* as the CPU backend runs it: the pool's threads call it */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_covers_each_index_once),
        cmocka_unit_test(test_cpu_linear),
        cmocka_unit_test(test_cpu_add_ln),
        cmocka_unit_test(test_cpu_attention),
        cmocka_unit_test(test_gpu_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
