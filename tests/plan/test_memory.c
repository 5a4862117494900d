/* test_memory.c - the memory model: parameter counts against published ones, weights at each
 * format's real size, KV cache by the vLLM and DeepSeek formulas, and the places other planners
 * go wrong (GQA counted as MHA, KV ignored, full context assumed, MoE miscounted). */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "format/model_readers.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static hws_model_spec model(const char *name) {
    const hws_model_spec *m = hws_model_catalog_find(name);
    if (m == NULL)
        fail_msg("catalog has no '%s'", name);
    return *m;
}

static hws_memory estimate_rt(const hws_model_spec *m, const char *format, const char *kv,
                              double ctx, double batch, hws_runtime rt) {
    hws_plan_opts o;
    hws_memory mem;
    hws_error err = {{0}};
    hws_plan_opts_default(&o);
    o.weights = format ? hws_weight_format_find(format) : NULL;
    if (format != NULL)
        assert_non_null(o.weights);
    o.kv = hws_kv_format_find(kv);
    assert_non_null(o.kv);
    o.ctx_tokens = ctx;
    o.batch = batch;
    o.runtime = rt;
    assert_int_equal(hws_memory_estimate(m, &o, &mem, &err), HWS_OK);
    return mem;
}

static hws_memory estimate(const hws_model_spec *m, const char *format, const char *kv, double ctx,
                           double batch) {
    return estimate_rt(m, format, kv, ctx, batch, HWS_RUNTIME_TRANSFORMERS);
}

static void assert_within(double got, double want, double rel, const char *what) {
    if (!(fabs(got / want - 1.0) <= rel))
        fail_msg("%s: got %.4g, want %.4g within %.1f%%", what, got, want, rel * 100);
}

/* Every catalog model: parameters from the shapes within 1% of the published count. */
static void params_match_published(void **state) {
    (void)state;
    size_t n;
    const hws_model_spec *rows = hws_model_catalog(&n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double p = hws_model_params(&rows[i]);
        if (!hws_known(rows[i].params_published))
            continue;
        if (fabs(p / rows[i].params_published - 1.0) > 0.01) {
            print_message("%s: computed %.3fB, published %.3fB (%+.2f%%)\n", rows[i].name, p / 1e9,
                          rows[i].params_published / 1e9, (p / rows[i].params_published - 1) * 100);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* The guide's LLaMA-2-70B: 138 GB at FP16, 34.5 GB of bare 4-bit weights, and the real 4-bit
 * formats each at their own size. */
static void llama2_70b_weights(void **state) {
    (void)state;
    hws_model_spec m = model("Llama-2-70B");
    assert_within(estimate(&m, "fp16", "fp16", 8192, 1).weights_bytes, 138e9, 0.02, "fp16");
    assert_within(estimate(&m, "int4-bare", "fp16", 8192, 1).weights_bytes, 34.5e9, 0.02,
                  "bare 4-bit");
    double gw = estimate(&m, "int4", "fp16", 8192, 1).weights_bytes;
    assert_within(gw, 36.5e9, 0.02, "group-wise int4");
    assert_true(gw > 36e9 && gw < 37e9);
    double q4km = estimate(&m, "Q4_K_M", "fp16", 8192, 1).weights_bytes;
    assert_within(q4km, 41.5e9, 0.02, "Q4_K_M");
    assert_true(q4km > 41e9 && q4km < 42e9);
    /* every real 4-bit format is bigger than the bare figure, and the GGUF ladder is ordered */
    const char *ladder[] = {"Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "fp16"};
    for (size_t i = 1; i < sizeof ladder / sizeof ladder[0]; i++)
        assert_true(estimate(&m, ladder[i - 1], "fp16", 8192, 1).weights_bytes <
                    estimate(&m, ladder[i], "fp16", 8192, 1).weights_bytes);
}

/* GQA: vLLM's 2 x layers x kv_heads x head_dim x bytes per token, and the MHA version of the
 * same model holds heads / kv_heads times more (counting GQA as MHA is a classic error). */
static void kv_gqa_vllm_formula(void **state) {
    (void)state;
    hws_model_spec m = model("Llama-3.1-8B");
    hws_memory mem = estimate(&m, "bf16", "fp16", 8192, 1);
    double want = 2.0 * m.n_layers * m.n_kv_heads * m.head_dim * 2.0;
    assert_true(mem.kv_bytes_per_token == want);
    assert_true(mem.kv_bytes == want * 8192);
    hws_model_spec mha = m;
    mha.n_kv_heads = m.n_heads;
    hws_memory mmha = estimate(&mha, "bf16", "fp16", 8192, 1);
    assert_true(mmha.kv_bytes == mem.kv_bytes * m.n_heads / m.n_kv_heads);
    hws_model_spec mqa = m;
    mqa.n_kv_heads = 1;
    assert_true(estimate(&mqa, "bf16", "fp16", 8192, 1).kv_bytes == mem.kv_bytes / m.n_kv_heads);
}

/* MLA: DeepSeek's (kv_lora_rank + qk_rope_head_dim) x layers x bytes per token, as vLLM and
 * llama.cpp cache it; transformers caches the full K and V (DeepSeek-V2-Lite at 8k context:
 * 2.26 GB, not 0.25 GB). */
static void kv_mla_deepseek_formula(void **state) {
    (void)state;
    hws_model_spec lite = model("DeepSeek-V2-Lite");
    hws_plan_opts full;
    hws_memory kv;
    hws_error err = {{0}};
    hws_plan_opts_default(&full);
    assert_int_equal(hws_memory_estimate(&lite, &full, &kv, &err), HWS_OK);
    assert_within(kv.kv_bytes, 2.26e9, 0.01, "DeepSeek-V2-Lite transformers KV at 8k");
    full.runtime = HWS_RUNTIME_VLLM;
    assert_int_equal(hws_memory_estimate(&lite, &full, &kv, &err), HWS_OK);
    assert_within(kv.kv_bytes, (512.0 + 64) * 27 * 2 * 8192, 1e-9, "latent KV");
    hws_model_spec m = model("DeepSeek-V3");
    hws_memory mem = estimate_rt(&m, "fp8", "bf16", 4096, 2, HWS_RUNTIME_VLLM);
    double want = (m.kv_lora_rank + m.qk_rope_head_dim) * m.n_layers * 2.0;
    assert_true(mem.kv_bytes_per_token == want);
    assert_true(mem.kv_bytes == want * 4096 * 2);
    /* far smaller than the same heads cached the GQA way */
    hws_model_spec plain = m;
    plain.kv_lora_rank = HWS_NA;
    assert_true(estimate(&plain, "fp8", "bf16", 4096, 2).kv_bytes > 10 * mem.kv_bytes);
}

/* KV scales with context and batch, at the KV precision; fp8 halves it, 4-bit is 4.5 bits. */
static void kv_precision_ctx_batch(void **state) {
    (void)state;
    hws_model_spec m = model("Llama-3.1-70B");
    double fp16 = estimate(&m, "bf16", "fp16", 8192, 1).kv_bytes;
    assert_true(estimate(&m, "bf16", "fp8", 8192, 1).kv_bytes == fp16 / 2);
    assert_true(estimate(&m, "bf16", "q4", 8192, 1).kv_bytes == fp16 * 18.0 / 64.0);
    assert_true(estimate(&m, "bf16", "fp16", 16384, 1).kv_bytes == 2 * fp16);
    assert_true(estimate(&m, "bf16", "fp16", 8192, 4).kv_bytes == 4 * fp16);
}

/* The KV cache is part of the total, and at a long context it dominates a small model. */
static void kv_not_ignored(void **state) {
    (void)state;
    hws_model_spec m = model("Llama-3.1-8B");
    hws_memory mem = estimate(&m, "bf16", "fp16", 131072, 1);
    assert_true(mem.kv_bytes >= 16 * HWS_GIB);
    assert_true(mem.total_bytes >=
                mem.weights_bytes + mem.kv_bytes + mem.activation_bytes + mem.cuda_context_bytes);
    assert_true(mem.cuda_context_bytes > 0 && mem.activation_bytes > 0);
}

/* The default context is the stated practical one, not the model's maximum. */
static void default_ctx_not_max(void **state) {
    (void)state;
    hws_plan_opts o;
    hws_plan_opts_default(&o);
    assert_true(o.ctx_tokens == HWS_PLAN_DEFAULT_CTX && o.ctx_tokens == 8192);
    hws_model_spec m = model("Llama-3.1-8B");
    assert_true(m.max_context > o.ctx_tokens);
    hws_memory mem;
    hws_error err;
    assert_int_equal(hws_memory_estimate(&m, &o, &mem, &err), HWS_OK);
    assert_true(mem.kv_bytes == mem.kv_bytes_per_token * 8192);
}

/* MoE: every expert counts for memory, only the active ones for bytes read per token. */
static void moe_counts(void **state) {
    (void)state;
    hws_model_spec m = model("Mixtral-8x7B-v0.1");
    hws_memory mem = estimate(&m, "bf16", "fp16", 8192, 1);
    assert_within(mem.params, 46.7e9, 0.01, "Mixtral params");
    assert_within(mem.active_params, 12.9e9, 0.02, "Mixtral active params");
    assert_within(mem.weights_bytes, mem.params * 2, 0.001, "all experts in memory");
    assert_true(mem.active_weights_bytes < 0.3 * mem.weights_bytes);
    hws_model_spec q = model("Qwen3-30B-A3B");
    hws_memory mq = estimate(&q, "bf16", "fp16", 8192, 1);
    assert_within(mq.active_params, 3.3e9, 0.1, "Qwen3-30B-A3B active");
    assert_true(mq.expert_bytes > 0);
}

/* Sliding-window layers keep only the window. */
static void sliding_window(void **state) {
    (void)state;
    hws_model_spec g = model("Gemma-3-27B");
    hws_model_spec full = g;
    full.sliding_window = HWS_NA;
    double w = estimate(&g, "bf16", "fp16", 32768, 1).kv_bytes;
    double f = estimate(&full, "bf16", "fp16", 32768, 1).kv_bytes;
    /* 5 of 6 layers keep 1024 tokens: a little over 1/6 of the full cache */
    assert_true(w < f / 5 && w > f / 6);
    hws_model_spec mis = model("Mistral-7B-v0.1");
    assert_true(estimate(&mis, "bf16", "fp16", 32768, 1).kv_bytes ==
                estimate(&mis, "bf16", "fp16", mis.sliding_window, 1).kv_bytes);
    /* llama.cpp has no SWA cache for a model whose every layer slides: the whole context */
    hws_memory cpp = estimate_rt(&mis, "Q4_K_M", "fp16", 32768, 1, HWS_RUNTIME_LLAMACPP);
    assert_within(cpp.kv_bytes, 2.0 * 32 * 8 * 128 * 2 * 32768, 1e-9, "llama.cpp Mistral KV");
    assert_non_null(strstr(cpp.kv_basis, "whole context"));
    /* ... but keeps the window where sliding and global layers interleave (Gemma 3, iSWA) */
    assert_within(estimate_rt(&g, "Q4_K_M", "fp16", 32768, 1, HWS_RUNTIME_LLAMACPP).kv_bytes, w,
                  1e-9, "llama.cpp Gemma 3 KV");
}

/* A model file's own bytes are used as they are when no format is asked. */
static void file_bytes_used(void **state) {
    (void)state;
    hws_model_spec m = model("Llama-3.2-1B");
    m.file_weight_bytes = 2.471e9;
    hws_memory mem = estimate(&m, NULL, "fp16", 8192, 1);
    assert_within(mem.weights_bytes, 2.471e9, 1e-9, "file bytes");
    assert_true(strstr(mem.weights_basis, "file") != NULL);
}

static void formats_found(void **state) {
    (void)state;
    const char *names[] = {"fp32", "FP16",   "bf16",   "fp8",  "int8", "int4", "awq",    "Q8_0",
                           "q6_k", "Q5_K_M", "Q4_K_M", "Q4_0", "Q3_K", "Q2_K", "IQ2_XS", "nf4"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(hws_weight_format_find(names[i]));
    assert_null(hws_weight_format_find("int3"));
    assert_null(hws_kv_format_find("fp7"));
    assert_true(hws_runtime_parse("llama.cpp") == HWS_RUNTIME_LLAMACPP);
    assert_true(hws_runtime_parse("tensorrt") == -1);
}

static void bad_model_rejected(void **state) {
    (void)state;
    hws_model_spec m = model("Llama-3.2-1B");
    m.n_layers = HWS_NA;
    hws_plan_opts o;
    hws_memory mem;
    hws_error err = {{0}};
    hws_plan_opts_default(&o);
    assert_int_equal(hws_memory_estimate(&m, &o, &mem, &err), HWS_ERR_INPUT);
    assert_non_null(strstr(err.msg, "Llama-3.2-1B"));
}

/* Checkpoints that ship quantised are planned at their real bytes: gpt-oss (MXFP4 experts, BF16
 * attention) fits one 80 GB GPU, DeepSeek-V3 (128x128-block FP8) is ~0.67 TB, not 1.3 TB. */
static void checkpoint_quantised(void **state) {
    (void)state;
    hws_model_spec big = model("gpt-oss-120b");
    hws_memory mem = estimate(&big, NULL, "fp16", 8192, 1);
    assert_true(mem.weights_bytes > 60e9 && mem.weights_bytes < 70e9);
    assert_true(mem.weights_bytes < estimate(&big, "bf16", "fp16", 8192, 1).weights_bytes / 3);
    assert_non_null(strstr(mem.weights_basis, "MXFP4"));
    hws_device_set h100;
    hws_placement pl;
    hws_plan_opts o;
    hws_plan_opts_default(&o);
    hws_devices_named(hws_gpu_catalog_find("H100 SXM 80GB"), 1, &h100);
    hws_placement_compute(&big, &o, &mem, &h100, HWS_PLACE_SINGLE, &pl);
    assert_true(pl.fits);
    hws_model_spec small = model("gpt-oss-20b");
    assert_true(estimate(&small, NULL, "fp16", 8192, 1).weights_bytes < 16e9);
    hws_model_spec ds = model("DeepSeek-V3");
    mem = estimate(&ds, NULL, "fp16", 8192, 1);
    assert_within(mem.weights_bytes, 671e9 + 2 * 129280.0 * 7168, 0.01, "DeepSeek-V3 FP8");
    /* a config's quantization_config: AWQ bits, bitsandbytes 4-bit, compressed-tensors */
    static const char *const configs[][2] = {
        {"\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 128}",
         "int4"},
        {"\"quantization_config\": {\"quant_method\": \"bitsandbytes\", \"load_in_4bit\": true}",
         "nf4"},
        {"\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"config_groups\": "
         "{\"group_0\": {\"weights\": {\"num_bits\": 8}}}}",
         "int8"},
        {"\"torch_dtype\": \"bfloat16\"", NULL},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        char text[1024];
        hws_model_spec m;
        hws_error err = {{0}};
        int experts_only;
        snprintf(text, sizeof text,
                 "{\"model_type\": \"llama\", \"hidden_size\": 4096, \"num_hidden_layers\": 32, "
                 "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"intermediate_size\": "
                 "14336, \"vocab_size\": 128256, \"hidden_act\": \"silu\", %s}",
                 configs[i][0]);
        assert_int_equal(hws_hf_config_parse(text, strlen(text), "q/config.json", &m, &err),
                         HWS_OK);
        const hws_weight_format *f = hws_checkpoint_format(&m, &experts_only);
        if (configs[i][1] == NULL) {
            assert_null(f);
            continue;
        }
        assert_non_null(f);
        assert_string_equal(f->name, configs[i][1]);
        assert_false(experts_only);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_match_published), cmocka_unit_test(llama2_70b_weights),
        cmocka_unit_test(kv_gqa_vllm_formula),    cmocka_unit_test(kv_mla_deepseek_formula),
        cmocka_unit_test(kv_precision_ctx_batch), cmocka_unit_test(kv_not_ignored),
        cmocka_unit_test(default_ctx_not_max),    cmocka_unit_test(moe_counts),
        cmocka_unit_test(sliding_window),         cmocka_unit_test(file_bytes_used),
        cmocka_unit_test(formats_found),          cmocka_unit_test(bad_model_rejected),
        cmocka_unit_test(checkpoint_quantised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
