/* test_bench_transformer.c - `hwscope bench transformer` as users run it: bad flags exit 2 naming
 * the argument, a small CPU run prints the hwscope.bench.transformer/1 document, a missing GPU is
 * said, not fatal. Skipped while `hwscope bench` does not yet dispatch to the suite. */
#include "hws_test.h"

#include <string.h>

static int run(hws_run *r, const char *a1, const char *a2, const char *a3, const char *a4,
               const char *a5, const char *a6) {
    hws_run_cli(r, NULL, "bench", "transformer", a1, a2, a3, a4, a5, a6, NULL);
    if (strstr(r->err, "not built yet")) {
        print_message("skipped: this hwscope's `bench` does not dispatch to transformer yet\n");
        hws_run_free(r);
        return 0;
    }
    return 1;
}

static void expect_usage(const char *flag, const char *value, const char *want) {
    hws_run r;
    if (!run(&r, flag, value, NULL, NULL, NULL, NULL))
        skip();
    assert_int_equal(r.exit_code, 2);
    hws_assert_contains(r.err, want);
    hws_run_free(&r);
}

static void test_bad_flags(void **state) {
    (void)state;
    expect_usage("--device", "gpu", "--device: 'gpu'");
    expect_usage("--dtype", "fp8", "--dtype: 'fp8'");
    expect_usage("--shape", "1,2", "--shape: '1,2'");
    expect_usage("--shape", "1,2,12", "--shape: E=12");
    expect_usage("--threads", "-3", "--threads");
    expect_usage("--weights", "/nonexistent.safetensors", "/nonexistent.safetensors");
}

static void test_cpu_json(void **state) {
    (void)state;
    hws_run r;
    if (!run(&r, "--shape", "3,2,16", "--reps", "2", "--json", "--threads=2"))
        skip();
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.bench.transformer/1");
    hws_assert_json_num(doc, "shape.S", 3, 0);
    hws_assert_json_num(doc, "cpu.threads", 2, 0);
    assert_true(hws_json_at(doc, "cpu.ms")->valuedouble > 0);
    assert_int_equal(cJSON_GetArraySize(hws_json_at(doc, "cpu.samples_ms")), 2);
    hws_assert_json_num(doc, "guide.cpu_ms", 2300, 0);
    hws_assert_json_num(doc, "guide.speedup", 82, 0);
    /* four precisions; each either ran or says why not */
    const cJSON *gpu = hws_json_at(doc, "gpu");
    assert_int_equal(cJSON_GetArraySize(gpu), 4);
    const cJSON *g;
    cJSON_ArrayForEach(g, gpu) {
        const cJSON *err = cJSON_GetObjectItem(g, "error");
        assert_true(cJSON_IsString(err) || cJSON_IsNumber(cJSON_GetObjectItem(g, "ms")));
    }
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void test_text_and_weights(void **state) {
    (void)state;
    hws_run r;
    if (!run(&r, "--device", "cpu", "--shape", "2,3,64", "--weights",
             hws_fixture("transformer/golden.safetensors")))
        skip();
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "S=2 N=3 E=64");
    hws_assert_contains(r.out, "guide's GPU");
    hws_assert_contains(r.out, "S=1 (each attention sees one token), N=512");
    hws_run_free(&r);
}

/* --fold adds the folded path as rows of its own, its TFLOP/s over the fewer operations it
 * performs; without it every row does PyTorch's operations. */
static void test_fold_rows(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "transformer", "--device", "cpu", "--shape", "1,4,16", "--reps",
                "2", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    double flops = hws_json_at(doc, "flops")->valuedouble;
    hws_assert_json_num(doc, "cpu.flops_performed", flops, 0);
    assert_null(hws_json_at(doc, "cpu_folded"));
    assert_false(cJSON_IsTrue(hws_json_at(doc, "fold")));
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "bench", "transformer", "--device", "cpu", "--shape", "1,4,16", "--reps",
                "2", "--fold", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "fp32, folded");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "bench", "transformer", "--device", "cpu", "--shape", "1,4,16", "--reps",
                "2", "--fold", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    doc = hws_run_json(&r);
    assert_true(cJSON_IsTrue(hws_json_at(doc, "fold")));
    double folded = hws_json_at(doc, "cpu_folded.flops_performed")->valuedouble;
    assert_true(folded > 0 && folded < flops);
    double ms = hws_json_at(doc, "cpu_folded.ms")->valuedouble;
    hws_assert_json_num(doc, "cpu_folded.tflops", folded / (ms * 1e-3) / 1e12, 1e-9);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_cpu_json),
        cmocka_unit_test(test_text_and_weights),
        cmocka_unit_test(test_fold_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
