/* test_prefill_waves.c - the prefill's block products counted in whole waves of output tiles over
 * the SMs (src/plan/prefill_waves.c): a shape whose tiles fill every wave costs its plain FLOPs,
 * one whose last wave is part-empty costs more, a narrow model loses more than a wide one on an
 * H100's 132 SMs, tensor parallelism keeps the plain FLOPs, and what cannot be counted (no SM
 * count, MoE) is NA. */
#include "hws_test.h"

#include "hwscope/model.h"
#include "plan/shape.h"
#include "util/units.h"

#include <math.h>
#include <string.h>

/* a and b within tol of each other (cmocka 1.1 has no double assert) */
#define assert_near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* A catalog model's spec, to change. */
static hws_model_spec catalog_model(const char *name) {
    const hws_model_spec *m = hws_model_catalog_find(name);
    assert_non_null(m);
    return *m;
}

/* A small dense shape: qkv 3072 (8 + 2 x 8 heads of 128), o 1024, gate+up 4096, down 1024
 * columns: at 128 rows they are 24, 8, 32 and 8 tiles of 128 x 128. */
static hws_model_spec small_shape(void) {
    hws_model_spec m = catalog_model("Llama-3.1-8B");
    m.hidden_size = 1024;
    m.n_heads = 8;
    m.n_kv_heads = 8;
    m.head_dim = 128;
    m.intermediate_size = 2048;
    m.gated_mlp = 1;
    m.n_layers = 2;
    return m;
}

/* The plain FLOPs of small_shape's products over rows tokens, all blocks. */
static double small_plain(double rows) {
    return 2.0 * 2.0 * rows * (3072.0 * 1024 + 1024.0 * 1024 + 4096.0 * 1024 + 1024.0 * 2048);
}

static void full_waves_cost_plain_flops(void **state) {
    (void)state;
    hws_model_spec m = small_shape();
    double plain;
    /* 8 SMs: 24, 8, 32 and 8 tiles are 3, 1, 4 and 1 full waves */
    double waves = hws_prefill_wave_flops(&m, 128, 8, 1, &plain);
    assert_near(plain, small_plain(128), 1);
    assert_near(waves, plain, 1);
}

static void part_waves_cost_more(void **state) {
    (void)state;
    hws_model_spec m = small_shape();
    double plain;
    /* 16 SMs: 24 tiles take 2 waves of 16 (room for 32), 8 tiles one wave half empty (or 16
     * narrow tiles at 0.75 of the rate): more than the plain FLOPs */
    double waves = hws_prefill_wave_flops(&m, 128, 16, 1, &plain);
    assert_near(plain, small_plain(128), 1);
    assert_true(waves > plain * 1.05);
    /* and never less than the plain FLOPs, however many SMs */
    for (int sms = 1; sms <= 256; sms *= 2)
        assert_true(hws_prefill_wave_flops(&m, 128, sms, 1, &plain) >= plain * (1 - 1e-12));
}

/* The study's finding: a 512-token prefill of Qwen2.5-1.5B leaves most of an H100's 132 SMs
 * idle in its narrow products; Llama-3.1-8B's products fill nearly whole waves. */
static void narrow_model_loses_more(void **state) {
    (void)state;
    hws_model_spec narrow = catalog_model("Qwen2.5-1.5B"), wide = catalog_model("Llama-3.1-8B");
    double plain_n, plain_w;
    double waves_n = hws_prefill_wave_flops(&narrow, 512, 132, 1, &plain_n);
    double waves_w = hws_prefill_wave_flops(&wide, 512, 132, 1, &plain_w);
    assert_true(waves_n / plain_n > 1.2);
    assert_true(waves_w / plain_w < 1.1);
    assert_true(waves_w / plain_w >= 1.0);
}

/* Tensor parallel: each GPU's share counted in waves, the plain FLOPs of the group the same. */
static void tensor_parallel_keeps_flops(void **state) {
    (void)state;
    hws_model_spec m = catalog_model("Llama-3.1-8B");
    double plain1, plain2;
    double w1 = hws_prefill_wave_flops(&m, 512, 132, 1, &plain1);
    double w2 = hws_prefill_wave_flops(&m, 512, 132, 2, &plain2);
    assert_near(plain2, plain1, plain1 * 1e-12);
    assert_true(w2 >= plain2);
    assert_true(w1 >= plain1);
}

static void unknown_is_na(void **state) {
    (void)state;
    hws_model_spec m = catalog_model("Llama-3.1-8B"), moe = catalog_model("Mixtral-8x7B-v0.1");
    double plain = 0;
    assert_false(hws_known(hws_prefill_wave_flops(&m, 512, HWS_NA, 1, &plain)));
    assert_false(hws_known(plain));
    assert_false(hws_known(hws_prefill_wave_flops(&m, 512, 0, 1, &plain)));
    assert_false(hws_known(hws_prefill_wave_flops(&moe, 512, 132, 1, &plain)));
    assert_false(hws_known(plain));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_waves_cost_plain_flops),
        cmocka_unit_test(part_waves_cost_more),
        cmocka_unit_test(narrow_model_loses_more),
        cmocka_unit_test(tensor_parallel_keeps_flops),
        cmocka_unit_test(unknown_is_na),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
