/* test_bench.c - benchmark statistics and verdicts, and `hwscope bench` run for real: the CPU
 * suites in quick mode (plausible figures, products correct), GPU suites waived without a GPU,
 * bad usage exiting 2, JSON parsed back. */
#include "hws_test.h"
#include "hwscope/bench.h"

#include <math.h>
#include <string.h>

static hws_bench_record record_with(const double *samples, int n) {
    hws_bench_record r;
    memset(&r, 0, sizeof r);
    r.nsamples = n;
    if (n > 0)
        memcpy(r.samples, samples, (size_t)n * sizeof samples[0]);
    r.datasheet = r.theoretical = r.check_err = r.check_tol = NAN;
    r.state = HWS_BENCH_OK;
    r.headline = true;
    hws_bench_stats(&r);
    return r;
}

static void test_stats(void **state) {
    (void)state;
    hws_bench_record r = record_with((const double[]){5, 1, 4, 2, 3}, 5);
    assert_float_equal(r.median, 3, 1e-12);
    assert_float_equal(r.min, 1, 1e-12);
    assert_float_equal(r.max, 5, 1e-12);
    assert_float_equal(r.spread_pct, 4.0 / 3 * 100, 1e-9);
    r = record_with((const double[]){10, 40, 20, 30}, 4);
    assert_float_equal(r.median, 25, 1e-12);
    r = record_with(NULL, 0);
    assert_true(isnan(r.median));
}

/* median 50 against a peak of 100: fraction 0.5 */
static hws_verdict judge(double datasheet, double theoretical, double expected, bool headline) {
    hws_bench_record r = record_with((const double[]){50, 50, 50}, 3);
    r.datasheet = datasheet;
    r.theoretical = theoretical;
    r.headline = headline;
    hws_bench_judge(&r, expected);
    return r.verdict;
}

static void test_verdicts(void **state) {
    (void)state;
    assert_int_equal(judge(100, NAN, 0.4, true), HWS_VERDICT_NORMAL);
    assert_int_equal(judge(100, NAN, 0.6, true), HWS_VERDICT_LOW);
    assert_int_equal(judge(100, NAN, 1.2, true), HWS_VERDICT_SUSPECT); /* below expected / 2 */
    assert_int_equal(judge(NAN, 100, 0.4, true), HWS_VERDICT_NORMAL);  /* theory when no sheet */
    assert_int_equal(judge(40, NAN, 0.4, true), HWS_VERDICT_SUSPECT);  /* above the peak */
    assert_int_equal(judge(100, 40, 0.4, true), HWS_VERDICT_SUSPECT);  /* above theory */
    assert_int_equal(judge(NAN, NAN, 0.4, true), HWS_VERDICT_NONE);    /* nothing to compare */
    assert_int_equal(judge(100, NAN, 0.4, false), HWS_VERDICT_NONE);   /* a sweep point */
    hws_bench_record r = record_with((const double[]){50}, 1);
    r.datasheet = 100;
    hws_bench_judge(&r, 0.4);
    assert_float_equal(r.frac_datasheet, 0.5, 1e-12);
    assert_true(isnan(r.frac_theoretical));
}

static void test_suites(void **state) {
    (void)state;
    const char *good[] = {"cpu", "mem", "gemm", "pcie", "gpu", "all"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(hws_bench_suite_known(good[i]));
    assert_false(hws_bench_suite_known("transformer"));
    assert_false(hws_bench_suite_known(""));
    assert_false(hws_bench_suite_known("cpu "));
    hws_bench_options o = hws_bench_defaults();
    hws_bench_result *r = NULL;
    hws_error err;
    assert_int_equal(hws_bench_run((const char *[]){"cpus"}, 1, &o, &r, &err), HWS_ERR_INPUT);
    assert_null(r);
    hws_assert_contains(err.msg, "cpus");
}

static const cJSON *record(const cJSON *doc, const char *key) {
    const cJSON *rec;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItem(doc, "records")) {
        const cJSON *k = cJSON_GetObjectItem(rec, "key");
        if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
            return rec;
    }
    fail_msg("no record %s", key);
    return NULL;
}

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A measured record: median within [lo, hi], samples consistent with min/median/max. */
static void assert_measured(const cJSON *rec, double lo, double hi) {
    assert_string_equal(str_of(rec, "state"), "ok");
    double med = num_of(rec, "median");
    assert_true(med >= lo && med <= hi);
    assert_true(num_of(rec, "min") <= med && med <= num_of(rec, "max"));
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(rec, "samples")) >= 3);
    assert_non_null(hws_json_at(rec, "fingerprint.hwscope_version"));
    assert_true(cJSON_IsString(hws_json_at(rec, "fingerprint.build_commit")));
    assert_true(cJSON_IsString(hws_json_at(rec, "fingerprint.time_utc")));
}

static void test_cpu_quick_json(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "cpu", "--quick", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_null(strstr(r.err, "[")); /* no progress when not a tty */
    hws_assert_contains(r.err, "no ceilings saved: they are saved per GPU");
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.bench/1");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "quick")));
    const char *kernels[] = {"cpu.stream.copy", "cpu.stream.scale", "cpu.stream.add",
                             "cpu.stream.triad"};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *rec = record(doc, kernels[i]);
        assert_measured(rec, 0.1, 1e5); /* GB/s */
        assert_true(cJSON_IsTrue(hws_json_at(rec, "check.passed")));
        assert_string_equal(str_of(rec, "unit"), "GB/s");
        if (cJSON_IsNull(hws_json_at(rec, "theoretical"))) /* no peak: the note says why */
            hws_assert_contains(str_of(rec, "cause"), "no peak: ");
    }
    const cJSON *sgemm = record(doc, "cpu.gemm.fp32");
    assert_measured(sgemm, 0.05, 1e6); /* GFLOP/s */
    assert_true(cJSON_IsTrue(hws_json_at(sgemm, "check.passed")));
    assert_true(num_of(hws_json_at(sgemm, "check"), "max_rel_err") <= 1e-4);
    const cJSON *bf16 = record(doc, "cpu.gemm.bf16");
    if (strcmp(str_of(bf16, "state"), "waived") == 0)
        hws_assert_contains(str_of(bf16, "reason"), "sbgemm");
    else
        assert_true(cJSON_IsTrue(hws_json_at(bf16, "check.passed")));
    assert_null(hws_json_at(doc, "records.0.gpu_state")); /* CPU records have no GPU state */
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void test_cpu_table(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "mem", "--quick", "--no-save", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "cpu.stream.triad");
    hws_assert_contains(r.out, "verdict");
    assert_null(strstr(r.out, "cpu.gemm.fp32")); /* mem runs no products */
    hws_run_free(&r);
}

/* Without a GPU (CI) each GPU benchmark is waived with the reason and the run exits 0; with one,
 * the records are measured and every product passed its check. */
static void test_gpu_waived_or_correct(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "gpu", "--quick", "--json", "--no-save", NULL);
    cJSON *doc = hws_run_json(&r);
    const cJSON *rec;
    int n = 0;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItem(doc, "records")) {
        const char *st = str_of(rec, "state");
        assert_int_equal(strncmp(str_of(rec, "key"), "gpu.", 4), 0);
        if (strcmp(st, "waived") == 0) {
            assert_non_null(str_of(rec, "reason"));
        } else {
            assert_string_equal(st, "ok");
            const cJSON *passed = hws_json_at(rec, "check.passed");
            assert_true(cJSON_IsNull(passed) || cJSON_IsTrue(passed));
        }
        n++;
    }
    assert_true(n >= 11);
    if (strcmp(str_of(record(doc, "gpu.d2d"), "state"), "waived") == 0) {
        assert_int_equal(r.exit_code, 0);
        assert_non_null(str_of(doc, "gpu_note"));
        hws_assert_contains(r.err, "waived");
    }
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void test_bad_usage(void **state) {
    (void)state;
    const char *bad[][2] = {{"--bogus", NULL},
                            {"cpux", NULL},
                            {"--device", "-1"},
                            {"--device", "abc"},
                            {"--quick", "pcie2"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hws_run r;
        hws_run_cli(&r, NULL, "bench", bad[i][0], bad[i][1], NULL);
        hws_assert_bad_input(&r, "hwscope bench");
        hws_run_free(&r);
    }
}

static void test_help(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "--help", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "--quick");
    hws_assert_contains(r.out, "transformer");
    hws_run_free(&r);
}

/* `bench ... transformer` belongs to cmd_bench_transformer, not to the suite parser. */
static void test_transformer_dispatch(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "transformer", "--help", NULL);
    assert_null(strstr(r.err, "is not a suite"));
    assert_null(strstr(r.err, "unknown option"));
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_suites),
        cmocka_unit_test(test_cpu_quick_json),
        cmocka_unit_test(test_cpu_table),
        cmocka_unit_test(test_gpu_waived_or_correct),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_transformer_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
