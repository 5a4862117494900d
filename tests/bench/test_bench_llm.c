/* test_bench_llm.c - `hwscope bench llm` end to end on the engine's CPU backend with a tiny
 * Llama shape (tests/fixtures/models/tiny-llama): every output format's shape (md, csv, json
 * against docs/schemas/hwscope.bench_llm.1.json, jsonl), bad flags (exit 2 naming the flag,
 * empty stdout), a model that does not fit (exit 2 with the planner's breakdown), and the runs
 * saved beside the ceilings, read back, and switching `plan --runtime hwscope` to them. */
#include "hws_test.h"
#include "schema.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPU "NVIDIA H100 80GB HBM3"

/* A fresh ceilings path in a new temporary folder; the caller unlinks path and rmdirs dir. */
static void temp_ceilings(char *dir, size_t dn, char *path, size_t pn) {
    snprintf(dir, dn, "%s/hws-llm-XXXXXX", P_tmpdir);
    assert_non_null(mkdtemp(dir));
    snprintf(path, pn, "%s/ceilings.json", dir);
}

/* Runs bench llm on the tiny model on the CPU, small rows, with ceilings at path; save: the
 * runs are saved there (else --no-save). */
static void run_tiny(hws_run *r, const char *path, const char *out_fmt, bool save) {
    char env[1100];
    snprintf(env, sizeof env, "HWSCOPE_CEILINGS=%s", path);
    hws_run_cli(r, (const char *[]){env, NULL}, "bench", "llm", hws_fixture("models/tiny-llama"),
                "--device", "cpu", "--threads", "1", "-p", "8,16", "-n", "4", "-d", "0,8", "-r",
                "2", "-o", out_fmt, save ? "--reps" : "--no-save", save ? "2" : "--no-save", NULL);
}

static int count_char(const char *s, char c) {
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* json: the schema; one record per row (pp8, pp16, tg4, tg4@d8), each with its samples, and the
 * mean the samples give. */
static void json_document(void **state) {
    (void)state;
    char dir[256], path[512];
    temp_ceilings(dir, sizeof dir, path, sizeof path);
    hws_run r;
    run_tiny(&r, path, "json", false);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    cJSON *schema = hws_schema_load("hwscope.bench_llm.1.json");
    hws_assert_schema(schema, doc);
    const cJSON *recs = hws_json_at(doc, "records");
    assert_int_equal(cJSON_GetArraySize(recs), 4);
    const char *tests[] = {"pp8", "pp16", "tg4", "tg4@d8"};
    for (int i = 0; i < 4; i++) {
        const cJSON *rec = cJSON_GetArrayItem(recs, i);
        hws_assert_json_str(rec, "test", tests[i]);
        hws_assert_json_str(rec, "device", "cpu");
        hws_assert_json_str(rec, "model", "tiny-llama");
        const cJSON *s = hws_json_at(rec, "samples_tokens_per_s");
        assert_int_equal(cJSON_GetArraySize(s), 2);
        double mean =
            (cJSON_GetArrayItem(s, 0)->valuedouble + cJSON_GetArrayItem(s, 1)->valuedouble) / 2;
        hws_assert_json_num(rec, "tokens_per_s", mean, mean * 1e-9);
        assert_true(mean > 0);
    }
    hws_assert_json_num(cJSON_GetArrayItem(recs, 3), "depth", 8, 0);
    /* CPU decode rows have a bound: the host's memory bandwidth over the bytes of a step */
    for (int i = 2; i < 4; i++) {
        const cJSON *rec = cJSON_GetArrayItem(recs, i);
        assert_true(hws_json_at(rec, "bound_tokens_per_s")->valuedouble > 0);
        hws_assert_contains(hws_json_at(rec, "bound_basis")->valuestring, "host memory");
    }
    hws_assert_json_num(cJSON_GetArrayItem(recs, 0), "n_prompt", 8, 0);
    assert_true(hws_json_at(cJSON_GetArrayItem(recs, 0), "ttft_ms")->valuedouble > 0);
    assert_true(hws_json_at(doc, "fingerprint.cpu") != NULL);
    assert_int_equal(access(path, F_OK), -1); /* --no-save */
    cJSON_Delete(schema);
    cJSON_Delete(doc);
    hws_run_free(&r);
    rmdir(dir);
}

/* md: header, rule and one line per row, all with the same number of cells; csv: a header and
 * one line per row with as many commas outside quotes; jsonl: one JSON object per line. */
static void text_formats(void **state) {
    (void)state;
    char dir[256], path[512];
    temp_ceilings(dir, sizeof dir, path, sizeof path);
    hws_run r;
    run_tiny(&r, path, "md", false);
    assert_int_equal(r.exit_code, 0);
    char *line = r.out, *next;
    int rows = 0, pipes = -1;
    for (; line != NULL && *line == '|'; line = next) {
        next = strchr(line, '\n');
        assert_non_null(next);
        *next++ = '\0';
        if (pipes < 0)
            pipes = count_char(line, '|');
        assert_int_equal(count_char(line, '|'), pipes);
        rows++;
    }
    assert_int_equal(rows, 2 + 4);
    hws_run_free(&r);

    run_tiny(&r, path, "csv", false);
    assert_int_equal(r.exit_code, 0);
    int lines = 0, commas = -1;
    for (line = r.out; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        assert_non_null(next);
        *next++ = '\0';
        int c = 0, quoted = 0;
        for (const char *p = line; *p; p++) {
            quoted ^= *p == '"';
            c += *p == ',' && !quoted;
        }
        if (commas < 0)
            commas = c;
        assert_int_equal(c, commas);
        lines++;
    }
    assert_int_equal(lines, 1 + 4);
    hws_run_free(&r);

    run_tiny(&r, path, "jsonl", false);
    assert_int_equal(r.exit_code, 0);
    lines = 0;
    for (line = r.out; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        assert_non_null(next);
        *next++ = '\0';
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        assert_non_null(hws_json_at(o, "fingerprint.build_commit"));
        assert_non_null(hws_json_at(o, "samples_tokens_per_s"));
        cJSON_Delete(o);
        lines++;
    }
    assert_int_equal(lines, 4);
    hws_run_free(&r);
    rmdir(dir);
}

/* Bad flags: exit 2, empty stdout, the flag named. */
static void bad_flags(void **state) {
    (void)state;
    const char *cases[][3] = {
        {"-p", "1,,2", "-p"},
        {"-n", "x", "-n"},
        {"-d", "5,", "-d"},
        {"-b", "0", "-b"},
        {"-o", "xml", "-o"},
        {"--dtype", "int8", "--dtype"},
        {"--quant", "bf16", "--quant"},
        {"--device", "tpu", "--device"},
        {"-r", "0", "--reps"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hws_run r;
        hws_run_cli(&r, NULL, "bench", "llm", hws_fixture("models/tiny-llama"), "--device", "cpu",
                    cases[i][0], cases[i][1], NULL);
        hws_assert_bad_input(&r, cases[i][2]);
        hws_run_free(&r);
    }
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "llm", hws_fixture("models/tiny-llama"), "--device", "cpu", "-p",
                "0", "-n", "0", NULL);
    hws_assert_bad_input(&r, "nothing to run");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "bench", "llm", "No-Such-Model-9B", "--device", "cpu", NULL);
    hws_assert_bad_input(&r, "No-Such-Model-9B");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "bench", "llm", "Llama-3.1-8B", "--device", "cpu", "--load", NULL);
    hws_assert_bad_input(&r, "--load");
    hws_run_free(&r);
    /* --load of a folder with no weights: the engine refuses the file, exit 2 */
    hws_run_cli(&r, NULL, "bench", "llm", hws_fixture("models/tiny-llama"), "--device", "cpu",
                "--load", "--no-save", NULL);
    hws_assert_bad_input(&r, "safetensors");
    hws_run_free(&r);
}

/* A model far larger than any CI machine's memory is refused before anything is allocated:
 * exit 2 with the planner's breakdown. */
static void too_big(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "bench", "llm", "Llama-3.1-405B", "--device", "cpu", NULL);
    hws_assert_bad_input(&r, "does not fit");
    hws_assert_contains(r.err, "weights");
    hws_assert_contains(r.err, "KV cache");
    hws_run_free(&r);
}

/* Mixtral-8x7B in bf16 (93 GB) on the scripted H100 (34.5 GB free): the engine runs the shape,
 * so the refusal is the planner's breakdown of what does not fit, exit 2, nothing allocated. */
static void moe_too_big_for_gpu(void **state) {
    (void)state;
    if (getenv("HWSCOPE_FAKE_NVML") == NULL)
        skip();
    static char nvml[1024], cuda[1024], gpus[1024];
    snprintf(nvml, sizeof nvml, "HWSCOPE_NVML_LIB=%s", getenv("HWSCOPE_FAKE_NVML"));
    snprintf(cuda, sizeof cuda, "HWSCOPE_CUDA_LIB=%s", getenv("HWSCOPE_FAKE_CUDA"));
    snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s/gpus/h100-1.txt", getenv("HWSCOPE_FIXTURES"));
    const char *env[] = {nvml, cuda, gpus, NULL};
    hws_run r;
    hws_run_cli(&r, env, "bench", "llm", "Mixtral-8x7B-v0.1", "-p", "512", "-n", "64", NULL);
    hws_assert_bad_input(&r, "does not fit");
    hws_assert_contains(r.err, "Mixtral-8x7B-v0.1");
    hws_assert_contains(r.err, "weights");
    hws_assert_contains(r.err, "KV cache");
    hws_run_free(&r);
}

/* The runs are saved beside the ceilings and read back; a second save of the same rows
 * replaces them, and another device's entry is kept. */
static void save_round_trip(void **state) {
    (void)state;
    char dir[256], path[512];
    temp_ceilings(dir, sizeof dir, path, sizeof path);
    hws_write_file(path,
                   "{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"Other\", "
                   "\"mem_bw_gbps\": 100}]}",
                   strlen("{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"Other\", "
                          "\"mem_bw_gbps\": 100}]}"));
    hws_run r;
    for (int pass = 0; pass < 2; pass++) {
        run_tiny(&r, path, "json", true);
        assert_int_equal(r.exit_code, 0);
        hws_assert_contains(r.err, "saved 4 run(s)");
        cJSON *doc = hws_run_json(&r);
        const char *dev = hws_json_at(doc, "records.0.device_name")->valuestring;
        hws_llm_measured runs[16];
        int n = 0;
        hws_error err;
        assert_int_equal(hws_llm_measured_load(path, dev, NULL, runs, 16, &n, &err), HWS_OK);
        assert_int_equal(n, 4);
        assert_string_equal(runs[0].model, "tiny-llama");
        assert_string_equal(runs[0].device, "cpu");
        assert_int_equal(runs[0].prompt_tokens, 8);
        assert_true(runs[0].prefill_tokens_per_s > 0);
        assert_true(!hws_known(runs[0].decode_tokens_per_s));
        assert_int_equal(runs[3].depth, 8);
        assert_true(runs[3].decode_tokens_per_s > 0);
        hws_ceilings c;
        assert_int_equal(hws_ceilings_load(path, "Other", NULL, &c, &err), HWS_OK);
        assert_true(c.mem_bw_gbps == 100);
        cJSON_Delete(doc);
        hws_run_free(&r);
    }
    unlink(path);
    rmdir(dir);
}

/* Saved runs with a bound the file can hold: out-of-range entries are skipped, not trusted;
 * a malformed file is HWS_ERR_INPUT. */
static void load_bounds(void **state) {
    (void)state;
    const char *text = "{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"" GPU "\", "
                       "\"llm\": [{\"model\": \"m\", \"device\": \"cuda\", \"format\": \"bf16\", "
                       "\"batch\": 1, \"depth\": 0, \"prompt_tokens\": 512, \"gen_tokens\": 0, "
                       "\"prefill_tokens_per_s\": 9000},"
                       "{\"model\": \"m\", \"device\": \"cuda\", \"format\": \"bf16\", "
                       "\"batch\": -3, \"depth\": 0, \"prompt_tokens\": 1, \"gen_tokens\": 1},"
                       "{\"model\": \"m\", \"device\": \"cuda\", \"format\": \"bf16\", "
                       "\"batch\": 1, \"depth\": 0, \"prompt_tokens\": 0, \"gen_tokens\": 128, "
                       "\"decode_tokens_per_s\": -5}, 7, \"x\"]}]}";
    const char *path = hws_temp_file(text);
    hws_llm_measured runs[4];
    int n = 0;
    hws_error err;
    assert_int_equal(hws_llm_measured_load(path, GPU, NULL, runs, 4, &n, &err), HWS_OK);
    assert_int_equal(n, 1);
    assert_true(runs[0].prefill_tokens_per_s == 9000);
    unlink(path);
    path = hws_temp_file("{\"gpus\": 3}");
    assert_int_equal(hws_llm_measured_load(path, GPU, NULL, runs, 4, &n, &err), HWS_ERR_INPUT);
    unlink(path);
    /* the ceilings file's one strict reader: an "llm" that is no array, or anything after the
     * document, is a malformed file */
    const char *bad[] = {"{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"" GPU
                         "\", \"llm\": 7}]}",
                         "{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"" GPU
                         "\", \"llm\": []}]} {}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        path = hws_temp_file(bad[i]);
        assert_int_equal(hws_llm_measured_load(path, GPU, NULL, runs, 4, &n, &err), HWS_ERR_INPUT);
        unlink(path);
    }
}

/* plan --runtime hwscope: the engine's own row until runs are saved for the GPU, then the
 * runs (basis "measured by hwscope bench llm on this machine"), and the decode prediction
 * follows what was saved. */
static void runtime_basis_switch(void **state) {
    (void)state;
    char dir[256], path[512], env[600];
    temp_ceilings(dir, sizeof dir, path, sizeof path);
    snprintf(env, sizeof env, "HWSCOPE_CEILINGS=%s", path);
    hws_run r;
    hws_run_cli(&r, (const char *[]){env, NULL}, "plan", "Llama-3.1-8B", "--runtime", "hwscope",
                "--gpus", "1x H100 SXM 80GB", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "options.runtime", "hwscope");
    hws_assert_contains(hws_json_at(doc, "prediction.basis")->valuestring,
                        "its H100 runs of 2026-12-06");
    assert_null(strstr(hws_json_at(doc, "prediction.basis")->valuestring, "bench llm on this"));
    double stated = hws_json_at(doc, "prediction.decode_tokens_per_s")->valuedouble;
    double bytes = hws_json_at(doc, "prediction.decode_bytes_per_step")->valuedouble;
    cJSON_Delete(doc);
    hws_run_free(&r);
    /* two saved runs on the H100 row: 100 and 50 tokens/s at bytes and 2 x bytes per step */
    hws_llm_measured runs[2];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < 2; i++) {
        snprintf(runs[i].model, sizeof runs[i].model, "m%d", i);
        snprintf(runs[i].device, sizeof runs[i].device, "cuda");
        snprintf(runs[i].format, sizeof runs[i].format, "bf16");
        runs[i].batch = 1;
        runs[i].gen_tokens = 128;
        runs[i].prefill_tokens_per_s = runs[i].prefill_flops_per_token = HWS_NA;
        runs[i].decode_tokens_per_s = 100.0 / (i + 1);
        runs[i].decode_bytes_per_step = bytes * (i + 1);
    }
    hws_error err;
    assert_int_equal(hws_llm_measured_save(path, "H100 SXM 80GB", runs, 2, &err), HWS_OK);
    hws_run_cli(&r, (const char *[]){env, NULL}, "plan", "Llama-3.1-8B", "--runtime", "hwscope",
                "--gpus", "1x H100 SXM 80GB", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    doc = hws_run_json(&r);
    hws_assert_contains(hws_json_at(doc, "prediction.basis")->valuestring,
                        "measured by hwscope bench llm on this machine");
    double measured = hws_json_at(doc, "prediction.decode_tokens_per_s")->valuedouble;
    assert_true(measured != stated);
    hws_assert_json_num(doc, "prediction.decode_tokens_per_s", 100.0, 2.0);
    cJSON_Delete(doc);
    hws_run_free(&r);
    unlink(path);
    rmdir(dir);
}

/* Plans Llama-3.1-8B for the hwscope runtime on an H100 at batch b with ceilings at env; the
 * prediction object (the caller deletes *doc). */
static const cJSON *plan_hwscope(const char *env, const char *batch, cJSON **doc) {
    hws_run r;
    hws_run_cli(&r, (const char *[]){env, NULL}, "plan", "Llama-3.1-8B", "--runtime", "hwscope",
                "--gpus", "1x H100 SXM 80GB", "--batch", batch, "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    *doc = hws_run_json(&r);
    hws_run_free(&r);
    return hws_json_at(*doc, "prediction");
}

/* Saved runs at batch 1 and 8: a plan at batch 8 is fitted on the batch-8 run only (a decode
 * kernel reads weights at another rate for 8 rows than for 1), one at batch 1 on the other. */
static void runtime_fit_per_batch(void **state) {
    (void)state;
    char dir[256], path[512], env[600];
    temp_ceilings(dir, sizeof dir, path, sizeof path);
    snprintf(env, sizeof env, "HWSCOPE_CEILINGS=%s", path);
    cJSON *doc1, *doc8;
    double bytes1 =
        hws_json_at(plan_hwscope(env, "1", &doc1), "decode_bytes_per_step")->valuedouble;
    double bytes8 =
        hws_json_at(plan_hwscope(env, "8", &doc8), "decode_bytes_per_step")->valuedouble;
    cJSON_Delete(doc1);
    cJSON_Delete(doc8);
    hws_llm_measured runs[2];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < 2; i++) {
        snprintf(runs[i].model, sizeof runs[i].model, "Llama-3.1-8B");
        snprintf(runs[i].device, sizeof runs[i].device, "cuda");
        snprintf(runs[i].format, sizeof runs[i].format, "bf16");
        runs[i].batch = i == 0 ? 1 : 8;
        runs[i].gen_tokens = 128;
        runs[i].prefill_tokens_per_s = runs[i].prefill_flops_per_token = HWS_NA;
        runs[i].decode_tokens_per_s = i == 0 ? 150 : 800;
        runs[i].decode_bytes_per_step = i == 0 ? bytes1 : bytes8;
    }
    hws_error err;
    assert_int_equal(hws_llm_measured_save(path, GPU, runs, 2, &err), HWS_OK);
    const cJSON *p1 = plan_hwscope(env, "1", &doc1), *p8 = plan_hwscope(env, "8", &doc8);
    hws_assert_json_num(p1, "decode_tokens_per_s", 150, 1);
    hws_assert_json_num(p8, "decode_tokens_per_s", 800, 5);
    hws_assert_contains(hws_json_at(p8, "basis")->valuestring, "at batch 8");
    cJSON_Delete(doc1);
    cJSON_Delete(doc8);
    unlink(path);
    rmdir(dir);
}

/* Runs that say how many blocks their models had: the fit takes a cost per block beside the
 * bandwidth term. Three made-up models read b, 2b and 3b bytes per step with 16, 40 and 24
 * blocks, timed as if at 0.9 of the plan's bandwidth plus 30 us per block; the plan of
 * Llama-3.1-8B (32 blocks) must give that law back, and the basis must name the per-block
 * cost. */
static void runtime_fit_per_block(void **state) {
    (void)state;
    char dir[256], path[512], env[600];
    temp_ceilings(dir, sizeof dir, path, sizeof path);
    snprintf(env, sizeof env, "HWSCOPE_CEILINGS=%s", path);
    cJSON *doc;
    const cJSON *pred = plan_hwscope(env, "1", &doc);
    double bytes = hws_json_at(pred, "decode_bytes_per_step")->valuedouble;
    double bw = hws_json_at(doc, "prediction.inputs.mem_bw_gbps")->valuedouble * 1e9;
    cJSON_Delete(doc);
    const int layers[3] = {16, 40, 24};
    hws_llm_measured runs[3];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < 3; i++) {
        snprintf(runs[i].model, sizeof runs[i].model, "m%d", i);
        snprintf(runs[i].device, sizeof runs[i].device, "cuda");
        snprintf(runs[i].format, sizeof runs[i].format, "bf16");
        runs[i].batch = 1;
        runs[i].gen_tokens = 128;
        runs[i].layers = layers[i];
        runs[i].prefill_tokens_per_s = runs[i].prefill_flops_per_token = HWS_NA;
        runs[i].decode_bytes_per_step = bytes * (i + 1);
        runs[i].decode_tokens_per_s = 1.0 / (bytes * (i + 1) / (bw * 0.9) + layers[i] * 30e-6);
    }
    hws_error err;
    assert_int_equal(hws_llm_measured_save(path, GPU, runs, 3, &err), HWS_OK);
    pred = plan_hwscope(env, "1", &doc);
    hws_assert_json_num(pred, "decode_tokens_per_s", 1.0 / (bytes / (bw * 0.9) + 32 * 30e-6), 0.5);
    hws_assert_contains(hws_json_at(pred, "basis")->valuestring, "+ 30.0 us/block decode");
    cJSON_Delete(doc);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_document),
        cmocka_unit_test(text_formats),
        cmocka_unit_test(bad_flags),
        cmocka_unit_test(too_big),
        cmocka_unit_test(moe_too_big_for_gpu),
        cmocka_unit_test(save_round_trip),
        cmocka_unit_test(load_bounds),
        cmocka_unit_test(runtime_basis_switch),
        cmocka_unit_test(runtime_fit_per_batch),
        cmocka_unit_test(runtime_fit_per_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
