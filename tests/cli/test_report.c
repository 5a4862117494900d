/* test_report.c - `hwscope` (the report): the one-screen summary with and without GPUs, and what
 * runs here judged against the free memory of a scripted H100 (fake NVML). */
#include "hws_test.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *report_json(const char *const *env) {
    hws_run r;
    hws_run_cli(&r, env, "report", "--json", "--no-bench", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    cJSON *schema = hws_schema_load("hwscope.report.1.json");
    hws_assert_schema(schema, doc);
    cJSON_Delete(schema);
    hws_run_free(&r);
    return doc;
}

static void test_no_gpu(void **state) {
    (void)state;
    const char *env[] = {"HWSCOPE_NVML_LIB=/nonexistent", "HWSCOPE_CUDA_LIB=/nonexistent", NULL};
    hws_run r;
    hws_run_cli(&r, env, "--no-bench", NULL); /* no command at all: the report */
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "CPU     ");
    hws_assert_contains(r.out, "GPUs    none: NVIDIA driver (NVML) not found");
    /* no GPU: what runs on the CPU alone (llama.cpp), the GPU columns say why not */
    hws_assert_contains(r.out, "What runs here");
    hws_assert_contains(r.out, "CPU alone");
    hws_assert_contains(r.out, "no GPU");
    hws_run_free(&r);
    cJSON *doc = report_json(env);
    hws_assert_json_str(doc, "runs_here.models.0.model", "Llama-3.2-3B");
    hws_assert_json_null(doc, "runs_here.models.0.on_gpus");
    hws_assert_json_str(doc, "runs_here.models.0.runs.0.why_not", "no GPU");
    hws_assert_json_str(doc, "runs_here.models.0.basis", "none fits");
    hws_assert_json_num(doc, "gpus.count", 0, 0);
    cJSON_Delete(doc);
}

static void test_h100_runs_here(void **state) {
    (void)state;
    static char nvml[1024], cuda[1024], gpus[1024];
    snprintf(nvml, sizeof nvml, "HWSCOPE_NVML_LIB=%s", getenv("HWSCOPE_FAKE_NVML"));
    snprintf(cuda, sizeof cuda, "HWSCOPE_CUDA_LIB=%s", getenv("HWSCOPE_FAKE_CUDA"));
    snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s/gpus/h100-1.txt", getenv("HWSCOPE_FIXTURES"));
    const char *env[] = {nvml, cuda, gpus, "HWSCOPE_CEILINGS=/nonexistent/ceilings.json", NULL};
    cJSON *doc = report_json(env);
    const double free_bytes = 34474033152.0; /* the script's free memory */
    int fitting = 0, not_fitting = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, hws_json_at(doc, "runs_here.models")) {
        const char *name = cJSON_GetStringValue(hws_json_at(row, "model"));
        double need = hws_json_at(row, "need_bytes_per_gpu")->valuedouble;
        if (cJSON_IsTrue(hws_json_at(row, "fits"))) {
            if (need > free_bytes)
                fail_msg("%s: placed needing %.1f GB on a GPU with %.1f GB free", name, need / 1e9,
                         free_bytes / 1e9);
            assert_true(hws_json_at(row, "decode_tokens_per_s")->valuedouble > 0);
            hws_assert_json_str(row, "basis", "datasheet");
            fitting++;
        } else {
            /* even the smallest format needs more than the GPU has */
            assert_true(need > free_bytes);
            hws_assert_json_null(row, "weights");
            not_fitting++;
        }
    }
    /* 8B in bf16 takes ~19 GB: it fits; 70B needs ~46 GB even at Q4_K_M: it does not */
    hws_assert_json_str(doc, "runs_here.models.1.model", "Llama-3.1-8B");
    hws_assert_json_str(doc, "runs_here.models.1.weights", "bf16");
    hws_assert_json_str(doc, "runs_here.models.1.placement", "single GPU");
    assert_true(fitting >= 4);
    assert_true(not_fitting >= 1);
    cJSON_Delete(doc);
}

static void test_bad_usage(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "--frob", NULL);
    hws_assert_bad_input(&r, "unknown option '--frob'");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_gpu),
        cmocka_unit_test(test_h100_runs_here),
        cmocka_unit_test(test_bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
