/* test_golden.c - hwscope's Transformer against PyTorch: a small nn.Transformer's weights,
 * inputs and outputs recorded on a GPU by bench/scripts/transformer_golden.py
 * (tests/fixtures/transformer/golden.safetensors). The CPU must match PyTorch's float64 output
 * within 1e-4; on a GPU, FP32 within 1e-4, TF32 and FP16 within 1e-2; BF16 within 2e-2 of the
 * float64 output of the model with BF16-rounded weights (S > 1), and about as close to the exact
 * output as PyTorch's own BF16 run (rounding the weights alone costs 0.03 there). */
#include "hws_test.h"

#include "format/safetensors.h"
#include "engine_ref.h"
#include "hwscope/engine.h"

#include <stdio.h>
#include <stdlib.h>

static const char *cases[] = {"a", "b", "c"};

typedef struct {
    int S, N, E;
    float *src, *want;
} golden_case;

static void load_case(const hws_safetensors *st, const char *c, int E, golden_case *g) {
    char name[64];
    snprintf(name, sizeof name, "golden.%s.src", c);
    const hws_st_tensor *t = hws_safetensors_find(st, name);
    assert_non_null(t);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[2], E);
    g->S = (int)t->shape[0];
    g->N = (int)t->shape[1];
    g->E = E;
    size_t n = t->numel;
    g->src = malloc(n * sizeof(float));
    g->want = malloc(n * sizeof(float));
    hws_error err;
    assert_int_equal(hws_safetensors_read(st, name, 3, t->shape, g->src, &err), HWS_OK);
    snprintf(name, sizeof name, "golden.%s.out", c);
    assert_int_equal(hws_safetensors_read(st, name, 3, t->shape, g->want, &err), HWS_OK);
}

typedef struct {
    hws_safetensors st;
    hws_tfm_weights *w;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    const char *path = hws_fixture("transformer/golden.safetensors");
    hws_error err;
    hws_tfm_config cfg = hws_tfm_config_default();
    if (hws_safetensors_open(path, &f->st, &err) != HWS_OK ||
        hws_tfm_weights_load(path, &cfg, &f->w, &err) != HWS_OK) {
        print_message("%s\n", err.msg);
        hws_safetensors_close(&f->st);
        free(f);
        return -1;
    }
    assert_int_equal(cfg.d_model, 64);
    assert_int_equal(cfg.nhead, 2);
    assert_int_equal(cfg.n_enc, 2);
    assert_int_equal(cfg.n_dec, 2);
    assert_int_equal(cfg.d_ff, 128);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    if (!f)
        return 0;
    hws_safetensors_close(&f->st);
    hws_tfm_weights_free(f->w);
    free(f);
    return 0;
}

static void test_cpu_matches_pytorch(void **state) {
    fixture *f = *state;
    for (int c = 0; c < 3; c++) {
        golden_case g;
        load_case(&f->st, cases[c], f->w->cfg.d_model, &g);
        size_t n = (size_t)g.S * g.N * g.E;
        float *out = malloc(n * sizeof *out);
        hws_tfm_cpu *cpu;
        hws_error err;
        assert_int_equal(hws_tfm_cpu_new(f->w, g.S, g.N, 2, NULL, &cpu, &err), HWS_OK);
        assert_int_equal(hws_tfm_cpu_forward(cpu, g.src, g.src, out, &err), HWS_OK);
        double e = max_abs_diff(out, g.want, n);
        print_message("golden case %s (S=%d N=%d): CPU fp32 max abs error %.3g\n", cases[c], g.S,
                      g.N, e);
        assert_true(e < 1e-4);
        hws_tfm_cpu_free(cpu);
        free(out), free(g.src), free(g.want);
    }
}

/* max |out - golden.<case>.<name>|, or -1 when the fixture has no such tensor */
static double err_vs(const hws_safetensors *st, const char *c, const char *name,
                     const golden_case *g, const float *out) {
    char key[64];
    snprintf(key, sizeof key, "golden.%s.%s", c, name);
    size_t n = (size_t)g->S * g->N * g->E;
    float *ref = malloc(n * sizeof *ref);
    hws_error err;
    int64_t dims[3] = {g->S, g->N, g->E};
    double e = -1;
    if (hws_safetensors_find(st, key) &&
        hws_safetensors_read(st, key, 3, dims, ref, &err) == HWS_OK)
        e = max_abs_diff(out, ref, n);
    free(ref);
    return e;
}

static void test_gpu_matches_pytorch(void **state) {
    fixture *f = *state;
    static const double tol[] = {1e-4, 1e-2, 1e-2, 1e-2};
    for (int dt = 0; dt < 4; dt++)
        for (int c = 0; c < 3; c++) {
            golden_case g;
            load_case(&f->st, cases[c], f->w->cfg.d_model, &g);
            size_t n = (size_t)g.S * g.N * g.E;
            float *out = malloc(n * sizeof *out);
            hws_tfm_gpu *gpu;
            hws_error err;
            hws_status st = hws_tfm_gpu_new(f->w, g.S, g.N, (hws_tfm_dtype)dt, NULL, &gpu, &err);
            if (st == HWS_ERR_UNSUPPORTED) {
                print_message("GPU golden check skipped: %s\n", err.msg);
                free(out), free(g.src), free(g.want);
                skip();
            }
            assert_int_equal(st, HWS_OK);
            assert_int_equal(hws_tfm_gpu_forward(gpu, g.src, g.src, out, &err), HWS_OK);
            double e = max_abs_diff(out, g.want, n);
            int half = dt == HWS_TFM_FP16 || dt == HWS_TFM_BF16;
            const char *torch_name = dt == HWS_TFM_BF16 ? "torch_bf16" : "torch_fp16";
            const char *rounded_name = dt == HWS_TFM_BF16 ? "ref_wbf16" : "ref_wfp16";
            double torch_e = half ? err_vs(&f->st, cases[c], torch_name, &g, g.want) : -1;
            double e_rounded = half ? err_vs(&f->st, cases[c], rounded_name, &g, out) : -1;
            print_message("golden case %s (S=%d N=%d): CUDA %s max abs error %.3g", cases[c], g.S,
                          g.N, hws_tfm_dtype_name(dt), e);
            if (half)
                print_message(" (PyTorch's own %s run: %.3g; vs float64 with weights rounded to "
                              "%s: %.3g)",
                              hws_tfm_dtype_name(dt), torch_e, hws_tfm_dtype_name(dt), e_rounded);
            print_message(" on %s\n", hws_tfm_gpu_device(gpu));
            if (dt == HWS_TFM_BF16) {
                /* rounding the weights to BF16 alone moves the output by about 0.03 here, so
                 * 1e-2 of the exact output is out of reach: the bar is PyTorch's own BF16 run,
                 * and 2e-2 of the float64 run of the BF16-rounded weights */
                assert_true(torch_e < 0 || e < 1.25 * torch_e);
                /* on the folded path (S=1, opt.fold) the engine would round the folded maps vo,
                 * not v and out alone, so the rounded-weights model would not be the one it runs
                 * (on the CPU, BF16 folded weights alone sit 0.018 from it, but 0.028 from the
                 * exact output against 0.031 for separately rounded ones); these runners take
                 * the default, general path */
                assert_true(e_rounded < 0 || hws_tfm_folds(NULL, g.S) || e_rounded < 2e-2);
            } else {
                assert_true(e < tol[dt]);
                assert_true(e_rounded < 0 || e_rounded < tol[dt]);
            }
            hws_tfm_gpu_free(gpu);
            free(out), free(g.src), free(g.want);
        }
}

/* out = the model on src at S=1 (one key per attention) on the CPU, or on the GPU in FP32
 * (HWS_ERR_UNSUPPORTED when there is none) with lanes graph branches, through the one-key
 * shortcut (the fold option) or, with general, the general path. */
static hws_status run_one_key_lanes(const hws_tfm_weights *w, int N, int gpu, int general,
                                    int lanes, const float *src, float *out) {
    hws_error err;
    hws_status st;
    hws_tfm_options opt = hws_tfm_options_default();
    opt.fold = !general;
    opt.lanes = lanes;
    if (gpu) {
        hws_tfm_gpu *g = NULL;
        st = hws_tfm_gpu_new(w, 1, N, HWS_TFM_FP32, &opt, &g, &err);
        if (st == HWS_OK)
            st = hws_tfm_gpu_forward(g, src, src, out, &err);
        hws_tfm_gpu_free(g);
    } else {
        hws_tfm_cpu *c = NULL;
        st = hws_tfm_cpu_new(w, 1, N, 2, &opt, &c, &err);
        if (st == HWS_OK)
            st = hws_tfm_cpu_forward(c, src, src, out, &err);
        hws_tfm_cpu_free(c);
    }
    return st;
}

static hws_status run_one_key(const hws_tfm_weights *w, int N, int gpu, int general,
                              const float *src, float *out) {
    return run_one_key_lanes(w, N, gpu, general, 1, src, out);
}

/* With one key, attention blocks run as the folded value-and-output map (vo): the same output
 * as queries, keys, softmax and the two projections, on random weights of several shapes. */
static void test_one_key_matches_general(void **state) {
    (void)state;
    static const hws_tfm_config cfgs[] = {{64, 2, 2, 3, 96, 1e-5f},
                                          {48, 3, 1, 1, 40, 1e-5f},
                                          {520, 4, 1, 2, 40, 1e-5f},
                                          {1040, 8, 1, 2, 32, 1e-5f}};
    for (int gpu = 0; gpu < 2; gpu++)
        for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
            hws_tfm_weights *w;
            hws_error err;
            assert_int_equal(hws_tfm_weights_random(&cfgs[i], 7 + i, &w, &err), HWS_OK);
            int N = 9, E = cfgs[i].d_model;
            size_t n = (size_t)N * E;
            float *src = malloc(n * sizeof *src), *a = malloc(n * sizeof *a),
                  *b = malloc(n * sizeof *b);
            hws_tfm_fill_uniform(src, n, 3);
            hws_status st = run_one_key(w, N, gpu, 0, src, a);
            if (gpu && st == HWS_ERR_UNSUPPORTED) {
                print_message("GPU one-key check skipped\n");
            } else {
                assert_int_equal(st, HWS_OK);
                assert_int_equal(run_one_key(w, N, gpu, 1, src, b), HWS_OK);
                double e = max_abs_diff(a, b, n);
                print_message("%s one-key path vs general, E=%d: max abs difference %.3g\n",
                              gpu ? "CUDA fp32" : "CPU", E, e);
                assert_true(e < 1e-4);
            }
            free(src), free(a), free(b);
            hws_tfm_weights_free(w);
        }
}

/* At S=1 the CUDA Graph can run the batch in slices as concurrent branches (lanes): each slice
 * must give what one chain gives, for the general and the one-key path, slices even or not. */
static void test_gpu_lanes_match_one_chain(void **state) {
    (void)state;
    static const hws_tfm_config cfg = {64, 2, 2, 3, 96, 1e-5f};
    hws_tfm_weights *w;
    hws_error err;
    assert_int_equal(hws_tfm_weights_random(&cfg, 11, &w, &err), HWS_OK);
    int N = 10;
    size_t n = (size_t)N * cfg.d_model;
    float *src = malloc(n * sizeof *src), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    hws_tfm_fill_uniform(src, n, 5);
    for (int general = 0; general < 2; general++) {
        hws_status st = run_one_key_lanes(w, N, 1, general, 1, src, a);
        if (st == HWS_ERR_UNSUPPORTED) {
            print_message("GPU lanes check skipped\n");
            break;
        }
        assert_int_equal(st, HWS_OK);
        hws_tfm_gpu *g = NULL;
        hws_tfm_options three = hws_tfm_options_default();
        three.lanes = 3;
        assert_int_equal(hws_tfm_gpu_new(w, 1, N, HWS_TFM_FP32, &three, &g, &err), HWS_OK);
        assert_int_equal(hws_tfm_gpu_lanes(g), 3);
        hws_tfm_gpu_free(g);
        assert_int_equal(run_one_key_lanes(w, N, 1, general, 3, src, b), HWS_OK);
        double e = max_abs_diff(a, b, n);
        print_message("CUDA fp32 %s path, 3 lanes vs 1: max abs difference %.3g\n",
                      general ? "general" : "one-key", e);
        assert_true(e < 1e-5);
    }
    free(src), free(a), free(b);
    hws_tfm_weights_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_matches_pytorch),
        cmocka_unit_test(test_gpu_matches_pytorch),
        cmocka_unit_test(test_one_key_matches_general),
        cmocka_unit_test(test_gpu_lanes_match_one_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
