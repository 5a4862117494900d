/* test_llm_saved.c - what the planner takes from runs saved beside the ceilings: the hwscope
 * runtime's prefill fitted in waves of tiles where the GPU's SM count is known (and in FLOPs,
 * saying why, where it is not or the runs predate wave FLOPs: an old file still loads), and
 * transformers runs (bench/scripts/llm_vs_peers.py save) fitting `plan --runtime transformers`
 * on that machine: the median host cost per block per phase and cache, named in the basis; the
 * built-in constants with their provenance where none are saved. */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* a and b within tol of each other (cmocka 1.1 has no double assert) */
#define assert_near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

#define H100 "NVIDIA H100 80GB HBM3"

typedef struct {
    char dir[256], path[512], env[600];
} temp_file;

static void temp_open(temp_file *t) {
    snprintf(t->dir, sizeof t->dir, "%s/hws-saved-XXXXXX", P_tmpdir);
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/ceilings.json", t->dir);
    snprintf(t->env, sizeof t->env, "HWSCOPE_CEILINGS=%s", t->path);
}

static void temp_close(const temp_file *t) {
    char lock[600];
    snprintf(lock, sizeof lock, "%s.lock", t->path);
    unlink(t->path);
    unlink(lock);
    rmdir(t->dir);
}

/* `hwscope plan Llama-3.1-8B --gpus "1x GPU" --json` plus flags (NULL-terminated, at most 4):
 * the document, which the caller deletes. */
static cJSON *plan_json(const temp_file *t, const char *gpu, const char *a, const char *b,
                        const char *c, const char *d) {
    char gpus[96];
    snprintf(gpus, sizeof gpus, "1x %s", gpu);
    hws_run r;
    hws_run_cli(&r, (const char *[]){t->env, NULL}, "plan", "Llama-3.1-8B", "--gpus", gpus,
                "--json", a, b, c, d, NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_run_free(&r);
    return doc;
}

static const char *basis_of(const cJSON *doc) {
    return hws_json_at(doc, "prediction.basis")->valuestring;
}

/* A cleared run of a model with `layers` blocks; every figure unknown. */
static hws_llm_measured run_of(const char *runtime, const char *variant, const char *model,
                               int layers) {
    hws_llm_measured r;
    memset(&r, 0, sizeof r);
    snprintf(r.runtime, sizeof r.runtime, "%s", runtime);
    snprintf(r.variant, sizeof r.variant, "%s", variant);
    snprintf(r.model, sizeof r.model, "%s", model);
    snprintf(r.device, sizeof r.device, "cuda");
    snprintf(r.format, sizeof r.format, "bf16");
    snprintf(r.measured_at, sizeof r.measured_at, "2026-12-06T08:09:25Z");
    r.batch = 1;
    r.layers = layers;
    r.prefill_tokens_per_s = r.decode_tokens_per_s = r.decode_bytes_per_step = HWS_NA;
    r.prefill_flops_per_token = r.prefill_wave_flops_per_token = HWS_NA;
    return r;
}

/* Two hwscope prefill runs of format with plain and wave FLOPs, saved for gpu. */
static void save_engine_prefills(const temp_file *t, const char *gpu, bool waves,
                                 const char *format) {
    hws_llm_measured runs[2];
    for (int i = 0; i < 2; i++) {
        runs[i] = run_of("hwscope", "", i ? "b" : "a", 16 * (i + 1));
        snprintf(runs[i].format, sizeof runs[i].format, "%s", format);
        runs[i].prompt_tokens = 512;
        runs[i].prefill_flops_per_token = 1e10 * (i + 1);
        runs[i].prefill_wave_flops_per_token = waves ? 1.2e10 * (i + 1) : HWS_NA;
        runs[i].prefill_tokens_per_s = 30000.0 / (i + 1);
    }
    hws_error err;
    assert_int_equal(hws_llm_measured_save(t->path, gpu, runs, 2, &err), HWS_OK);
}

/* H100 (132 SMs in the catalog): the prefill is fitted and predicted in waves of tiles. */
static void engine_prefill_in_waves(void **state) {
    (void)state;
    temp_file t;
    temp_open(&t);
    save_engine_prefills(&t, H100, true, "bf16");
    cJSON *doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "hwscope", NULL, NULL);
    hws_assert_contains(basis_of(doc), "in waves of tiles over 132 SMs");
    hws_assert_contains(basis_of(doc), "its products in whole waves of output tiles");
    double plain = hws_json_at(doc, "prediction.prefill_flops_per_token")->valuedouble;
    assert_true(hws_json_at(doc, "prediction.prefill_wave_flops_per_token")->valuedouble > plain);
    hws_assert_json_num(doc, "prediction.inputs.sm_count", 132, 0);
    cJSON_Delete(doc);
    temp_close(&t);
}

/* GB200: no SM count in the catalog; the same runs fit the prefill in FLOPs, and the basis
 * says why. */
static void engine_prefill_without_sm_count(void **state) {
    (void)state;
    temp_file t;
    temp_open(&t);
    save_engine_prefills(&t, "GB200 186GB", true, "bf16");
    cJSON *doc = plan_json(&t, "GB200 186GB", "--runtime", "hwscope", NULL, NULL);
    hws_assert_contains(basis_of(doc), "measured by hwscope bench llm on this machine");
    hws_assert_contains(basis_of(doc), "prefill in FLOPs, not waves of tiles: the GPU's SM count "
                                       "is unknown");
    assert_true(cJSON_IsNull(hws_json_at(doc, "prediction.prefill_wave_flops_per_token")));
    assert_null(strstr(basis_of(doc), "its products in whole waves"));
    cJSON_Delete(doc);
    temp_close(&t);
}

/* `bench llm` saves runs by the engine's format: a GGUF type planned on the engine takes the runs
 * of the format the engine runs it in (Q4_K_M: int4), and none of another (Q8_0: int8). */
static void engine_runs_of_the_engine_format(void **state) {
    (void)state;
    temp_file t;
    temp_open(&t);
    save_engine_prefills(&t, H100, true, "int4");
    cJSON *doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "hwscope", "--quant", "Q4_K_M");
    hws_assert_contains(basis_of(doc), "measured by hwscope bench llm on this machine");
    hws_assert_contains(basis_of(doc), "prefill run(s) of int4");
    cJSON_Delete(doc);
    doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "hwscope", "--quant", "Q8_0");
    assert_null(strstr(basis_of(doc), "measured by hwscope bench llm"));
    hws_assert_contains(basis_of(doc), "its int8 decode products at");
    cJSON_Delete(doc);
    temp_close(&t);
}

/* A file written before runtime, variant and wave FLOPs were saved: its runs load as hwscope
 * runs, and the prefill fit falls back to FLOPs. */
static void old_file_loads(void **state) {
    (void)state;
    temp_file t;
    temp_open(&t);
    FILE *f = fopen(t.path, "w");
    assert_non_null(f);
    fprintf(f, "{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"" H100 "\", "
               "\"mem_bw_gbps\": 3000, \"bf16_tflops\": 800, \"llm\": [");
    for (int i = 0; i < 2; i++)
        fprintf(f,
                "%s{\"model\": \"m%d\", \"device\": \"cuda\", \"format\": \"bf16\", \"batch\": 1, "
                "\"depth\": 0, \"prompt_tokens\": 512, \"gen_tokens\": 0, "
                "\"prefill_tokens_per_s\": %d, \"decode_tokens_per_s\": null, "
                "\"decode_bytes_per_step\": null, \"prefill_flops_per_token\": %d, "
                "\"layers\": %d, \"measured_at\": \"2026-12-06T05:00:00Z\"}",
                i ? ", " : "", i, 30000 / (i + 1), 10000000 * (i + 1), 16 * (i + 1));
    fprintf(f, "]}]}\n");
    fclose(f);
    hws_llm_measured runs[4];
    int n = 0;
    hws_error err;
    assert_int_equal(hws_llm_measured_load(t.path, H100, NULL, runs, 4, &n, &err), HWS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(runs[0].runtime, "hwscope");
    assert_string_equal(runs[0].variant, "");
    assert_false(hws_known(runs[0].prefill_wave_flops_per_token));
    assert_true(hws_known(runs[1].prefill_flops_per_token));
    cJSON *doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "hwscope", NULL, NULL);
    hws_assert_contains(basis_of(doc), "prefill in FLOPs, not waves of tiles: runs saved without "
                                       "wave FLOPs");
    cJSON_Delete(doc);
    temp_close(&t);
}

/* Transformers runs of three models: prefill per block 0.6, 0.7 and 0.8 ms (median 0.7); eager
 * decode per block 0.5, 0.6 and 2.0 ms (median 0.6: one slow shape does not move it); static
 * 0.9 ms. Plus one hwscope run, which the transformers fit leaves alone. */
static void save_transformers(const temp_file *t) {
    const int layers[3] = {16, 32, 28};
    const double prefill_ms[3] = {0.6, 0.7, 0.8}, eager_ms[3] = {0.5, 0.6, 2.0};
    hws_llm_measured runs[10];
    int n = 0;
    for (int i = 0; i < 3; i++) {
        char model[16];
        snprintf(model, sizeof model, "m%d", i);
        hws_llm_measured *p = &runs[n++];
        *p = run_of("transformers", "", model, layers[i]);
        snprintf(p->host, sizeof p->host, "Test CPU (16 logical CPUs)");
        p->prompt_tokens = 512;
        p->prefill_flops_per_token = 1e9; /* a GPU that would take far less */
        p->prefill_tokens_per_s = 512 / (layers[i] * prefill_ms[i] * 1e-3);
        hws_llm_measured *d = &runs[n++];
        *d = run_of("transformers", "eager", model, layers[i]);
        d->depth = 512;
        d->gen_tokens = 24;
        d->decode_bytes_per_step = 1e9;
        d->decode_tokens_per_s = 1 / (layers[i] * eager_ms[i] * 1e-3);
        hws_llm_measured *s = &runs[n++];
        *s = *d;
        snprintf(s->variant, sizeof s->variant, "static");
        s->decode_tokens_per_s = 1 / (layers[i] * 0.9e-3);
    }
    runs[n] = run_of("hwscope", "", "m0", 16);
    runs[n].prompt_tokens = 512;
    runs[n].prefill_flops_per_token = 1e10;
    runs[n++].prefill_tokens_per_s = 30000;
    hws_error err;
    assert_int_equal(hws_llm_measured_save(t->path, H100, runs, n, &err), HWS_OK);
}

static void transformers_fitted_on_this_machine(void **state) {
    (void)state;
    temp_file t;
    temp_open(&t);
    cJSON *doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "transformers", NULL, NULL);
    hws_assert_contains(basis_of(doc), "fitted on one lent H100 host"); /* nothing saved yet */
    cJSON_Delete(doc);
    save_transformers(&t);
    /* Llama-3.1-8B, 32 blocks: host-bound at 0.6 ms per block decode, 0.7 per block prefill */
    doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "transformers", NULL, NULL);
    hws_assert_contains(basis_of(doc), "transformers measured on this machine");
    hws_assert_contains(basis_of(doc), "host Test CPU (16 logical CPUs)");
    hws_assert_contains(basis_of(doc), "dynamic cache, median of 3 run(s)");
    hws_assert_json_num(doc, "prediction.decode_tokens_per_s", 1 / (32 * 0.6e-3), 0.01);
    hws_assert_json_num(doc, "prediction.prefill_tokens_per_s", 512 / (32 * 0.7e-3), 0.5);
    hws_assert_json_str(doc, "prediction.decode_bound", "host");
    cJSON_Delete(doc);
    doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "transformers", "--cache", "static");
    hws_assert_contains(basis_of(doc), "static cache, median of 3 run(s)");
    hws_assert_json_num(doc, "prediction.decode_tokens_per_s", 1 / (32 * 0.9e-3), 0.01);
    cJSON_Delete(doc);
    /* the hwscope runtime counts its own run only */
    doc = plan_json(&t, "H100 SXM 80GB", "--runtime", "hwscope", NULL, NULL);
    hws_assert_contains(basis_of(doc), "0 decode run(s) at batch 0 and 1 prefill run(s)");
    cJSON_Delete(doc);
    /* another GPU has nothing saved: the built-in constants */
    doc = plan_json(&t, "A100 SXM 80GB", "--runtime", "transformers", NULL, NULL);
    hws_assert_contains(basis_of(doc), "fitted on one lent H100 host");
    cJSON_Delete(doc);
    temp_close(&t);
}

/* The runtime and the variant are part of a run's key: eager and static runs of one shape are
 * two runs, a hwscope run of the same shape a third, and saving one again replaces it. */
static void save_keys(void **state) {
    (void)state;
    temp_file t;
    temp_open(&t);
    hws_llm_measured runs[3] = {run_of("transformers", "eager", "m", 32),
                                run_of("transformers", "static", "m", 32),
                                run_of("hwscope", "", "m", 32)};
    for (int i = 0; i < 3; i++) {
        runs[i].gen_tokens = 24;
        runs[i].decode_tokens_per_s = 10.0 * (i + 1);
    }
    hws_error err;
    assert_int_equal(hws_llm_measured_save(t.path, H100, runs, 3, &err), HWS_OK);
    runs[1].decode_tokens_per_s = 99;
    assert_int_equal(hws_llm_measured_save(t.path, H100, &runs[1], 1, &err), HWS_OK);
    hws_llm_measured back[8];
    int n = 0;
    assert_int_equal(hws_llm_measured_load(t.path, H100, NULL, back, 8, &n, &err), HWS_OK);
    assert_int_equal(n, 3);
    int statics = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(back[i].variant, "static") == 0) {
            statics++;
            assert_string_equal(back[i].runtime, "transformers");
            assert_near(back[i].decode_tokens_per_s, 99, 1e-9);
        }
    assert_int_equal(statics, 1);
    temp_close(&t);
}

static void cache_flag_checked(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--cache", "paged", NULL);
    assert_int_equal(r.exit_code, 2);
    hws_assert_contains(r.err, "--cache");
    assert_string_equal(r.out, "");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--runtime", "vllm", "--cache", "static", NULL);
    assert_int_equal(r.exit_code, 2);
    assert_string_equal(r.out, "");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(engine_prefill_in_waves),
        cmocka_unit_test(engine_prefill_without_sm_count),
        cmocka_unit_test(engine_runs_of_the_engine_format),
        cmocka_unit_test(old_file_loads),
        cmocka_unit_test(transformers_fitted_on_this_machine),
        cmocka_unit_test(save_keys),
        cmocka_unit_test(cache_flag_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
