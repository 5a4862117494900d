/* test_plan.c - `hwscope plan`: the JSON document against the library's own figures, named
 * hardware and local GPUs, config.json input, and bad input (unknown model with close matches,
 * bad --gpus, bad formats) exiting 2 with the argument named. */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_matches_library(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--gpus", "1x H100 SXM 80GB", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.plan/1");
    hws_assert_json_str(doc, "model.name", "Llama-3.1-8B");
    hws_assert_json_num(doc, "options.ctx_tokens", 8192, 0);
    hws_assert_json_str(doc, "options.runtime", "transformers");
    /* vLLM's formula: 2 x 32 layers x 8 KV heads x 128 x 2 bytes x 8192 tokens = 1 GiB */
    hws_assert_json_num(doc, "memory.kv_bytes", 2.0 * 32 * 8 * 128 * 2 * 8192, 0);
    hws_plan_opts o;
    hws_memory mem;
    hws_error err;
    hws_plan_opts_default(&o);
    assert_int_equal(hws_memory_estimate(hws_model_catalog_find("Llama-3.1-8B"), &o, &mem, &err),
                     HWS_OK);
    hws_assert_json_num(doc, "memory.weights_bytes", mem.weights_bytes, 1);
    hws_assert_json_num(doc, "memory.total_bytes", mem.total_bytes, 1);
    hws_assert_json_str(doc, "placement.method", "single GPU");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "placement.fits")));
    hws_assert_json_num(doc, "placement.devices.0.n_layers", 32, 0);
    assert_true(cJSON_IsFalse(hws_json_at(doc, "devices.list.0.local")));
    assert_true(hws_json_at(doc, "prediction.decode_tokens_per_s")->valuedouble > 1);
    assert_true(strlen(hws_json_at(doc, "prediction.basis")->valuestring) > 20);
    assert_int_equal(cJSON_GetArraySize(hws_json_at(doc, "alternatives")), HWS_PLACE_COUNT);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

/* Multi-GPU: vLLM shards by tensor parallel; a 70B model does not fit one card but fits four. */
/* The default context is 8192 tokens, or the model's own maximum when that is smaller (Llama-2:
 * 4096), with no warning; a --ctx past the maximum is planned as asked, with a warning. */
static void default_context(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-2-70B", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_num(doc, "options.ctx_tokens", 4096, 0);
    assert_null(strstr(r.err, "warning"));
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-2-70B", "--ctx", "8192", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    doc = hws_run_json(&r);
    hws_assert_json_num(doc, "options.ctx_tokens", 8192, 0);
    hws_assert_contains(r.err, "warning: --ctx 8192 is beyond Llama-2-70B's context of 4096");
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void multi_gpu(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-2-70B", "--gpus", "4x RTX 4090", "--dtype", "int4",
                "--runtime", "vllm", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "placement.method", "tensor parallel");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "placement.fits")));
    assert_int_equal(cJSON_GetArraySize(hws_json_at(doc, "placement.devices")), 4);
    assert_true(cJSON_IsFalse(hws_json_at(doc, "alternatives.0.fits"))); /* single GPU */
    assert_true(hws_json_at(doc, "prediction.allreduce_ms_per_step")->valuedouble > 0);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

/* --gpus local: with a GPU, its free memory; without, why, and a plan for the CPU against the
 * RAM available now. */
static void local_gpus(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Qwen2.5-7B", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    const cJSON *list = hws_json_at(doc, "devices.list");
    if (cJSON_GetArraySize(list) == 0) {
        assert_true(cJSON_IsString(hws_json_at(doc, "devices.error")));
        hws_assert_json_str(doc, "placement.method", "CPU only");
        assert_true(hws_json_at(doc, "placement.host_avail_bytes")->valuedouble > 0);
    } else {
        assert_true(cJSON_IsTrue(hws_json_at(doc, "devices.list.0.local")));
        assert_true(hws_json_at(doc, "devices.list.0.mem_avail_bytes")->valuedouble <=
                    hws_json_at(doc, "devices.list.0.mem_total_bytes")->valuedouble);
        assert_true(cJSON_IsObject(hws_json_at(doc, "placement")));
    }
    assert_true(hws_json_at(doc, "memory.total_bytes")->valuedouble > 15e9);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

/* Runs `hwscope plan MODEL --json ARGS...` with the fake NVML playing back a GPU script. */
static cJSON *plan_on_fake(const char *script, const char *model, const char *a1, const char *a2) {
    static char nvml[1024], cuda[1024], gpus[1024];
    snprintf(nvml, sizeof nvml, "HWSCOPE_NVML_LIB=%s", getenv("HWSCOPE_FAKE_NVML"));
    snprintf(cuda, sizeof cuda, "HWSCOPE_CUDA_LIB=%s", getenv("HWSCOPE_FAKE_CUDA"));
    snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s/gpus/%s.txt", getenv("HWSCOPE_FIXTURES"),
             script);
    const char *env[] = {nvml, cuda, gpus, NULL};
    hws_run r;
    hws_run_cli(&r, env, "plan", model, "--json", a1, a2, NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_run_free(&r);
    return doc;
}

/* The scripted H100 has 34.5 GB free of 85.5 GB: a 65 GB model does not fit it now, though it
 * fits the same GPU named as hardware; 8 idle H100s take a 70B model by tensor parallel. */
static void local_free_memory(void **state) {
    (void)state;
    if (getenv("HWSCOPE_FAKE_NVML") == NULL)
        skip();
    cJSON *doc = plan_on_fake("h100-1", "Qwen2.5-32B", "--gpus", "local");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "devices.list.0.local")));
    hws_assert_json_num(doc, "devices.list.0.mem_avail_bytes", 34474033152.0, 0);
    hws_assert_json_str(doc, "devices.list.0.catalog_name", "H100 SXM 80GB");
    assert_true(cJSON_IsFalse(hws_json_at(doc, "alternatives.0.fits")));
    hws_assert_json_str(doc, "placement.method", "CPU offload");
    cJSON_Delete(doc);
    doc = plan_on_fake("h100-1", "Qwen2.5-32B", "--gpus", "H100 SXM 80GB");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "placement.fits")));
    cJSON_Delete(doc);
    doc = plan_on_fake("h100-8", "Llama-2-70B", "--runtime", "vllm");
    assert_int_equal(cJSON_GetArraySize(hws_json_at(doc, "devices.list")), 8);
    hws_assert_json_str(doc, "placement.method", "tensor parallel");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "placement.fits")));
    cJSON_Delete(doc);
}

static void config_json_input(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", hws_fixture("models/Llama-3.1-8B"), "--gpus", "RTX 4090",
                "--quant", "Q4_K_M", "--kv-dtype", "q8_0", "--ctx", "32768", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "options.weights", "Q4_K_M");
    hws_assert_json_str(doc, "options.runtime", "llama.cpp");
    hws_assert_json_num(doc, "memory.kv_bytes", 2.0 * 32 * 8 * 128 * 34.0 / 32 * 32768, 1);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void human_output(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Mixtral-8x7B-v0.1", "--gpus", "2x H100 SXM 80GB", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "KV cache");
    hws_assert_contains(r.out, "placement");
    hws_assert_contains(r.out, "decode tok/s");
    hws_assert_contains(r.out, "basis:");
    /* the devices' basis on its own line after a blank one, not a cleaned-out newline (U+FFFD) */
    hws_assert_contains(r.out, "\n\nnamed hardware '2x");
    assert_null(strstr(r.out, "\xef\xbf\xbd"));
    hws_run_free(&r);
}

/* --gpus cpu plans the CPU against the named host's RAM; --ram sets the host's RAM, and offload
 * that does not fit it is refused with the reason; --host names a CPU of data/cpus.tsv. */
static void cpu_and_host(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--quant", "Q4_K_M", "--gpus", "cpu", "--host",
                "EPYC 9654", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "placement.method", "CPU only");
    assert_true(cJSON_IsTrue(hws_json_at(doc, "placement.fits")));
    hws_assert_json_num(doc, "devices.host.mem_bw_gbps", 460.8, 1e-9);
    assert_true(hws_json_at(doc, "prediction.decode_tokens_per_s")->valuedouble > 1);
    hws_assert_contains(hws_json_at(doc, "placement.launch")->valuestring, "-ngl 0");
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-405B", "--quant", "Q4_K_M", "--gpus", "RTX 4090",
                "--ram", "24", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    doc = hws_run_json(&r);
    assert_true(cJSON_IsFalse(hws_json_at(doc, "placement.fits")));
    hws_assert_contains(hws_json_at(doc, "placement.why")->valuestring, "host RAM");
    hws_assert_json_null(doc, "prediction.decode_tokens_per_s");
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--gpus", "cpu", "--host", "Z80", NULL);
    hws_assert_bad_input(&r, "--host: unknown CPU host 'Z80'");
    hws_run_free(&r);
}

/* Hugging Face ids: a catalog model by its repo, one outside the catalog from the local hub
 * cache ($HF_HOME/hub, the snapshot refs/main names), else how to get its config. */
static void hf_ids(void **state) {
    (void)state;
    char home[256], dir[384], cmd[1400], env_home[300];
    snprintf(home, sizeof home, "%s.hf", hws_temp_file(""));
    snprintf(dir, sizeof dir, "%s/hub/models--Qwen--Qwen2.5-7B-Instruct-AWQ", home);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/refs %s/snapshots/abc123 && printf abc123 > %s/refs/main", dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/snapshots/abc123/config.json", dir);
    FILE *f = fopen(cmd, "w");
    assert_non_null(f);
    fputs("{\"model_type\": \"qwen2\", \"hidden_size\": 3584, \"num_hidden_layers\": 28, "
          "\"num_attention_heads\": 28, \"num_key_value_heads\": 4, \"intermediate_size\": 18944, "
          "\"vocab_size\": 152064, \"hidden_act\": \"silu\", \"tie_word_embeddings\": false, "
          "\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 128}}",
          f);
    fclose(f);
    snprintf(env_home, sizeof env_home, "HF_HOME=%s", home);
    const char *env[] = {env_home, NULL};
    hws_run r;
    hws_run_cli(&r, env, "plan", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--gpus", "RTX 4090", "--json",
                NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "model.name", "Qwen2.5-7B-Instruct-AWQ");
    hws_assert_json_str(doc, "options.weights", "AWQ-INT4");
    assert_true(hws_json_at(doc, "memory.weights_bytes")->valuedouble < 7e9); /* 4-bit, not bf16 */
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, env, "plan", "mistralai/Mistral-Small-24B-Instruct-2501", NULL);
    hws_assert_bad_input(&r, "huggingface-cli download mistralai/Mistral-Small-24B-Instruct-2501");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "meta-llama/Llama-3.1-8B", "--gpus", "RTX 4090", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    doc = hws_run_json(&r);
    hws_assert_json_str(doc, "model.name", "Llama-3.1-8B");
    cJSON_Delete(doc);
    hws_run_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    assert_int_equal(system(cmd), 0);
}

static void bad_input(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-3-8b", NULL);
    hws_assert_bad_input(&r, "unknown model 'Llama-3-8b'");
    hws_assert_contains(r.err, "Llama-3.1-8B");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--gpus", "2x RTX 9999", "--json", NULL);
    hws_assert_bad_input(&r, "--gpus");
    hws_assert_contains(r.err, "RTX 9999");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--dtype", "int3", NULL);
    hws_assert_bad_input(&r, "--dtype");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--kv-dtype", "fp7", NULL);
    hws_assert_bad_input(&r, "--kv-dtype");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--runtime", "tgi", NULL);
    hws_assert_bad_input(&r, "--runtime: 'tgi'");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "/nonexistent/config.json", NULL);
    hws_assert_bad_input(&r, "/nonexistent/config.json");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", NULL);
    hws_assert_bad_input(&r, "MODEL");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_matches_library),
        cmocka_unit_test(default_context),
        cmocka_unit_test(multi_gpu),
        cmocka_unit_test(local_gpus),
        cmocka_unit_test(local_free_memory),
        cmocka_unit_test(config_json_input),
        cmocka_unit_test(human_output),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(cpu_and_host),
        cmocka_unit_test(hf_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
