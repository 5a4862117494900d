/* test_report_runs.c - the report's "what runs here" and quick figures on scripted GPUs (1, 8,
 * MIG, throttled + lost, degraded A100 without FP8), checked field by field in JSON (against the
 * schema) and in text; --models, --ctx, --runtime; bad flags exit 2 naming them. */
#include "hws_test.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The scripted GPUs in the recorded lent H100 host (its /proc and /sys: 125 GiB of RAM
 * available), so what fits beside the CPU does not follow the RAM free on the test machine. */
static const char *const *gpu_host_env(const char *script, const char *extra) {
    static char root[1024];
    static const char *env[8];
    const char *const *fake = hws_fake_gpu_env(script, extra);
    int n = 0;
    snprintf(root, sizeof root, "HWSCOPE_SYSROOT=%s", hws_fixture("machines/h100-host"));
    env[n++] = root;
    for (int i = 0; fake[i] != NULL && n < 7; i++)
        env[n++] = fake[i];
    env[n] = NULL;
    return env;
}

static cJSON *report(const char *script, const char *a, const char *b, const char *c) {
    hws_run r;
    hws_run_cli(&r, gpu_host_env(script, "HWSCOPE_CEILINGS=/nonexistent-dir/ceilings.json"),
                "report", "--json", "--no-bench", a, b, c, NULL);
    if (r.exit_code != 0)
        fail_msg("report on %s: exit %d: %s", script, r.exit_code, r.err);
    cJSON *doc = hws_run_json(&r);
    cJSON *schema = hws_schema_load("hwscope.report.1.json");
    hws_assert_schema(schema, doc);
    cJSON_Delete(schema);
    hws_run_free(&r);
    hws_assert_json_str(doc, "schema", "hwscope.report/1");
    hws_assert_json_str(doc, "measured.state", "skipped");
    return doc;
}

/* The model named name in runs_here.models. */
static const cJSON *model(const cJSON *doc, const char *name) {
    const cJSON *m;
    cJSON_ArrayForEach(m, hws_json_at(doc, "runs_here.models")) {
        if (strcmp(cJSON_GetStringValue(hws_json_at(m, "model")), name) == 0)
            return m;
    }
    fail_msg("no model %s in the report", name);
    return NULL;
}

/* The run of a model in weights on target. */
static const cJSON *run(const cJSON *m, const char *weights, const char *target) {
    const cJSON *r;
    cJSON_ArrayForEach(r, hws_json_at(m, "runs")) {
        if (strcmp(cJSON_GetStringValue(hws_json_at(r, "weights")), weights) == 0 &&
            strcmp(cJSON_GetStringValue(hws_json_at(r, "target")), target) == 0)
            return r;
    }
    fail_msg("no run %s on %s", weights, target);
    return NULL;
}

static void test_one_h100(void **state) {
    (void)state;
    cJSON *d = report("h100-1", NULL, NULL, NULL);
    /* the default set spans 1B to 72B, dense and MoE */
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "runs_here.models")), 9);
    const cJSON *small = model(d, "Llama-3.2-1B"), *moe = model(d, "Qwen3-30B-A3B");
    assert_true(hws_json_at(small, "params")->valuedouble < 1.5e9);
    assert_true(cJSON_IsTrue(hws_json_at(moe, "moe")));
    /* 8B in bf16 on the GPU (19.4 GB of 34.5 GB free); every format x target was planned */
    const cJSON *m8 = model(d, "Llama-3.1-8B");
    hws_assert_json_str(m8, "on_gpus.weights", "bf16");
    hws_assert_json_str(m8, "on_gpus.runtime", "vllm");
    hws_assert_json_str(m8, "on_gpus.placement", "single GPU");
    hws_assert_json_num(m8, "on_gpus.gpus", 1, 0);
    hws_assert_json_str(m8, "on_gpus.basis", "datasheet");
    assert_true(hws_json_at(m8, "on_gpus.prefill_tokens_per_s")->valuedouble >
                hws_json_at(m8, "on_gpus.decode_tokens_per_s")->valuedouble);
    assert_int_equal(cJSON_GetArraySize(hws_json_at(m8, "runs")), 9); /* 5 + 2 + 2 */
    /* llama.cpp on the CPU alone: everything in host RAM, no GPU */
    const cJSON *cpu = run(m8, "Q4_K_M", "CPU");
    assert_true(cJSON_IsTrue(hws_json_at(cpu, "tried")));
    hws_assert_json_str(cpu, "runtime", "llama.cpp");
    hws_assert_json_num(cpu, "gpus", 0, 0);
    if (cJSON_IsTrue(hws_json_at(cpu, "fits"))) {
        hws_assert_json_str(cpu, "placement", "CPU only");
        assert_true(hws_json_at(cpu, "host_bytes")->valuedouble > 4e9);
    }
    /* 70B: not on the 32 GiB free, but split with the CPU (llama.cpp offload) */
    const cJSON *m70 = model(d, "Llama-3.1-70B");
    assert_true(cJSON_IsFalse(hws_json_at(m70, "fits")));
    hws_assert_json_null(m70, "on_gpus");
    const cJSON *off = run(m70, "Q4_K_M", "GPUs + CPU");
    hws_assert_json_str(off, "placement", "CPU offload");
    assert_true(hws_json_at(off, "gpu_bytes")->valuedouble <= 34474033152.0);
    assert_true(hws_json_at(off, "host_bytes")->valuedouble > 0);
    cJSON_Delete(d);
}

static void test_eight_h100(void **state) {
    (void)state;
    cJSON *d = report("h100-8", NULL, NULL, NULL);
    const cJSON *m70 = model(d, "Llama-3.1-70B");
    hws_assert_json_str(m70, "weights", "bf16"); /* 141 GB over 8 GPUs */
    assert_true(hws_json_at(m70, "on_gpus.gpus")->valuedouble >= 2);
    assert_true(hws_json_at(m70, "need_bytes_per_gpu")->valuedouble < 79.1 * 1073741824.0);
    cJSON_Delete(d);
}

/* GPU 5 of h100-8 is MIG; this script is one H100 in MIG mode: a 40 GiB slice, not 80. */
static void test_mig_slice(void **state) {
    (void)state;
    cJSON *d = report("mig", NULL, NULL, NULL);
    const cJSON *m = model(d, "Qwen3-30B-A3B"); /* 61 GB in bf16: an 80 GB card would hold it */
    const cJSON *bf16 = run(m, "bf16", "GPUs");
    assert_true(cJSON_IsFalse(hws_json_at(bf16, "fits")));
    hws_assert_contains(cJSON_GetStringValue(hws_json_at(bf16, "why_not")), "has 36.0 GiB");
    hws_assert_json_str(m, "weights", "fp8");
    cJSON_Delete(d);
}

static void test_lost_gpu_unused(void **state) {
    (void)state;
    const char *scripts[] = {"gpu-lost", "throttled"};
    for (int s = 0; s < 2; s++) {
        cJSON *d = report(scripts[s], NULL, NULL, NULL);
        const cJSON *m;
        cJSON_ArrayForEach(m, hws_json_at(d, "runs_here.models")) {
            const cJSON *r;
            cJSON_ArrayForEach(r, hws_json_at(m, "runs")) {
                assert_true(hws_json_at(r, "gpus")->valuedouble <= 1); /* GPU 1 is lost */
            }
        }
        cJSON_Delete(d);
    }
}

static void test_no_fp8_on_a100(void **state) {
    (void)state;
    cJSON *d = report("pcie-degraded", NULL, NULL, NULL);
    const cJSON *fp8 = run(model(d, "Llama-3.1-8B"), "fp8", "GPUs");
    assert_true(cJSON_IsFalse(hws_json_at(fp8, "tried")));
    hws_assert_json_str(fp8, "why_not", "no FP8 units (compute capability 8.9+ needed)");
    cJSON_Delete(d);
}

static void test_choices(void **state) {
    (void)state;
    cJSON *d = report("h100-1", "--models=Llama-3.1-8B,Qwen3-30B-A3B", "--ctx=4096",
                      "--runtime=llama.cpp");
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "runs_here.models")), 2);
    hws_assert_json_str(d, "runs_here.models.0.model", "Llama-3.1-8B");
    hws_assert_json_num(d, "runs_here.models.0.ctx_tokens", 4096, 0);
    hws_assert_json_str(d, "runs_here.models.0.runs.0.runtime", "llama.cpp");
    cJSON_Delete(d);
    const struct {
        const char *a, *b, *want;
    } bad[] = {
        {"--models", "Nope-7B", "'Nope-7B' is not in the model catalog"},
        {"--bench", "--no-bench", "--bench and --no-bench contradict each other"},
        {"--runtime", "ollama", "--runtime: 'ollama' is not vllm, llama.cpp or transformers"},
        {"--ctx", "0", "--ctx: '0' is not an integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hws_run r;
        hws_run_cli(&r, hws_fake_gpu_env("h100-1", NULL), "report", bad[i].a, bad[i].b, NULL);
        hws_assert_bad_input(&r, bad[i].want);
        hws_run_free(&r);
    }
}

static void test_text(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, gpu_host_env("h100-1", "COLUMNS=200"), "report", "--no-bench", NULL);
    assert_int_equal(r.exit_code, 0);
    const char *want[] = {
        "What runs here",
        "model                  params  on the GPUs",
        "GPUs + CPU offload",
        "CPU alone",
        "Llama-3.1-8B            8.0 B  bf16 161 tok/s",
        "Recommended: the best format that fits, GPUs first",
        "Llama-3.1-70B      Q8_0     llama.cpp  CPU offload", /* 125 GiB of host RAM */
        "skipped: --no-bench and no figures saved for this hardware within a day",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        hws_assert_contains(r.out, want[i]);
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_h100),       cmocka_unit_test(test_eight_h100),
        cmocka_unit_test(test_mig_slice),      cmocka_unit_test(test_lost_gpu_unused),
        cmocka_unit_test(test_no_fp8_on_a100), cmocka_unit_test(test_choices),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
