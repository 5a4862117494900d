/* test_multimodal.c - vision towers and Llama 4's interleaved MoE through the planner: the memory
 * holds the tower (16 bits whatever the text weights' format), decode never reads it, placements
 * put it beside the input embedding, only every second Maverick block carries experts, and the
 * catalog rows agree with the published configs. */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static hws_model_spec config(const char *fixture) {
    hws_model_spec m;
    hws_error err = {{0}};
    char name[256];
    snprintf(name, sizeof name, "models/%s/config.json", fixture);
    if (hws_model_from_hf_config(hws_fixture(name), &m, &err) != HWS_OK)
        fail_msg("%s: %s", name, err.msg);
    return m;
}

/* The memory of m in `format` (NULL: the file's or bf16) under runtime rt; *o gets the options. */
static hws_memory plan_memory(const hws_model_spec *m, const char *format, hws_runtime rt,
                              hws_plan_opts *o) {
    hws_memory mem;
    hws_error err = {{0}};
    hws_plan_opts_default(o);
    o->weights = format != NULL ? hws_weight_format_find(format) : NULL;
    o->runtime = rt;
    assert_int_equal(hws_memory_estimate(m, o, &mem, &err), HWS_OK);
    return mem;
}

static hws_memory estimate(const hws_model_spec *m, const char *format, hws_runtime rt) {
    hws_plan_opts o;
    return plan_memory(m, format, rt, &o);
}

static void assert_close(double got, double want, double rel, const char *what) {
    if (!(fabs(got - want) <= rel * fabs(want) + 1e-6))
        fail_msg("%s: got %.6g, want %.6g", what, got, want);
}

/* The catalog rows are the published configs: same shapes, same counts. */
static void catalog_rows_match_configs(void **state) {
    (void)state;
    const char *pairs[][2] = {{"Llama-4-Scout-17B-16E", "Llama-4-Scout-17B-16E"},
                              {"Llama-4-Maverick-17B-128E", "Llama-4-Maverick-17B-128E"},
                              {"Gemma-3-12B", "gemma-3-12b-it"},
                              {"Gemma-3-27B", "gemma-3-27b-it"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const hws_model_spec *row = hws_model_catalog_find(pairs[i][0]);
        assert_non_null(row);
        hws_model_spec m = config(pairs[i][1]);
        assert_close(hws_model_params(row), hws_model_params(&m), 1e-9, pairs[i][0]);
        assert_close(hws_model_active_params(row), hws_model_active_params(&m), 1e-9, pairs[i][1]);
        assert_close(row->vision_params, m.vision_params, 1e-9, "vision");
        assert_true(row->sliding_window == m.sliding_window &&
                    row->sliding_layers_per_global == m.sliding_layers_per_global);
        /* the published count, within 1% (params_match_published checks every row) */
        assert_close(hws_model_params(row), row->params_published, 0.01, pairs[i][0]);
    }
    assert_non_null(hws_model_catalog_find("meta-llama/Llama-4-Scout-17B-16E-Instruct"));
}

/* The tower is in memory at 16 bits (32 at fp32), whatever the blocks are in, and never in the
 * bytes a decoded token reads. */
static void vision_memory(void **state) {
    (void)state;
    hws_model_spec m = config("llava-1.5-7b-hf"), text = m;
    text.vision_params = HWS_NA;
    const char *formats[] = {"bf16", "int4", "Q4_K_M", "fp8", "fp32"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        hws_runtime rt = i == 2 ? HWS_RUNTIME_LLAMACPP : HWS_RUNTIME_VLLM;
        hws_memory v = estimate(&m, formats[i], rt), t = estimate(&text, formats[i], rt);
        double bytes = strcmp(formats[i], "fp32") == 0 ? 4.0 : 2.0;
        assert_close(v.vision_bytes, m.vision_params * bytes, 1e-12, formats[i]);
        assert_true(t.vision_bytes == 0);
        assert_close(v.weights_bytes - t.weights_bytes, v.vision_bytes, 1e-9, "weights");
        assert_close(v.params - t.params, m.vision_params, 1e-12, "params");
        assert_true(v.active_params == t.active_params);
        assert_true(v.active_weights_bytes == t.active_weights_bytes);
        assert_close(v.total_bytes - t.total_bytes, v.vision_bytes, 1e-9, "total");
        hws_assert_contains(v.vision_basis, "vision tower");
    }
    /* a file's exact bytes (a float16 safetensors index) cover the tower too */
    m.file_weight_bytes = 2.0 * hws_model_params(&m);
    hws_memory f = estimate(&m, NULL, HWS_RUNTIME_TRANSFORMERS);
    assert_close(f.weights_bytes, m.file_weight_bytes, 1e-9, "file bytes");
    assert_close(f.vision_bytes, 2.0 * m.vision_params, 1e-9, "file vision bytes");
}

/* n identical named-style GPUs with `bytes` each. */
static hws_device_set gpus(int n, double bytes) {
    hws_device_set s;
    memset(&s, 0, sizeof s);
    s.count = n;
    for (int i = 0; i < n; i++) {
        snprintf(s.dev[i].name, sizeof s.dev[i].name, "test GPU");
        s.dev[i].mem_total_bytes = s.dev[i].mem_avail_bytes = bytes;
    }
    hws_host_unknown(&s.host);
    return s;
}

/* The tower sits with the input embedding on the first GPU; every byte is placed once. */
static void vision_placement(void **state) {
    (void)state;
    hws_model_spec m = config("gemma-3-27b-it");
    hws_plan_opts o;
    hws_memory mem = plan_memory(&m, NULL, HWS_RUNTIME_TRANSFORMERS, &o);
    hws_device_set two = gpus(2, 40 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&m, &o, &mem, &two, HWS_PLACE_LAYER_SPLIT, &pl);
    assert_true(pl.possible);
    assert_close(pl.load[0].weights_bytes + pl.load[1].weights_bytes, mem.weights_bytes, 1e-9,
                 "split weights");
    double blocks0 = 0;
    for (int i = 0; i < pl.load[0].n_layers; i++)
        blocks0 += hws_layer_weights_bytes(&mem, i);
    /* Gemma ties its head to the embedding: the final norm comes along */
    assert_close(pl.load[0].weights_bytes,
                 blocks0 + mem.input_embed_bytes + mem.final_norm_bytes + mem.vision_bytes, 1e-12,
                 "GPU 0: blocks, embedding, vision");
    hws_placement_compute(&m, &o, &mem, &two, HWS_PLACE_SINGLE, &pl);
    assert_close(pl.load[0].weights_bytes, mem.weights_bytes, 1e-9, "single");
    hws_placement_compute(&m, &o, &mem, &two, HWS_PLACE_TENSOR_PARALLEL, &pl);
    assert_close(pl.load[0].weights_bytes * 2, mem.weights_bytes, 1e-9, "tensor parallel");
    hws_launch_command(&m, &o, &two, &pl, pl.launch, sizeof pl.launch);
    hws_assert_contains(pl.launch, "AutoModelForImageTextToText");
}

/* Maverick: blocks 1, 3, ... 47 carry 128 experts + 1 shared, the others a dense MLP 16384 wide;
 * the blocks, norms, embeddings and tower add up to the weights. */
static void maverick_layers(void **state) {
    (void)state;
    hws_model_spec mav = config("Llama-4-Maverick-17B-128E"),
                   scout = config("Llama-4-Scout-17B-16E");
    hws_memory m = estimate(&mav, "bf16", HWS_RUNTIME_VLLM);
    hws_memory s = estimate(&scout, "bf16", HWS_RUNTIME_VLLM);
    assert_int_equal(m.n_moe_layers, 24);
    assert_int_equal(s.n_moe_layers, 48);
    double sum = 0;
    for (int i = 0; i < 48; i++) {
        assert_int_equal(hws_layer_is_moe(&m, i), i % 2 == 1);
        assert_true(hws_layer_is_moe(&s, i));
        sum += hws_layer_weights_bytes(&m, i);
    }
    assert_close(sum + m.final_norm_bytes + m.embed_bytes + m.vision_bytes, m.weights_bytes, 1e-12,
                 "Maverick parts");
    /* a dense block: attention 62,914,560 + norms 10,240 + 3 x 5120 x 16384 */
    assert_close(m.dense_block_bytes, 2.0 * (62914560.0 + 10240 + 3.0 * 5120 * 16384), 1e-12,
                 "dense block");
    /* both read one routed + one shared expert per MoE block: the same bytes per token within
     * 1% (Meta: 17B active each), though Maverick holds 3.7x Scout's weights */
    assert_close(m.active_weights_bytes, s.active_weights_bytes, 0.01, "active bytes");
    assert_close(m.active_weights_bytes, 2.0 * m.active_params, 1e-9, "active = params x 2");
    assert_true(m.weights_bytes > 3.6 * s.weights_bytes);
}

/* Expert offload of Maverick counts only the MoE blocks' experts in host RAM, and llama.cpp's
 * --n-cpu-moe names the block boundary below them. */
static void maverick_expert_offload(void **state) {
    (void)state;
    hws_model_spec mav = config("Llama-4-Maverick-17B-128E");
    hws_plan_opts o;
    hws_memory mem = plan_memory(&mav, "Q4_K_M", HWS_RUNTIME_LLAMACPP, &o);
    hws_device_set one = gpus(1, 80 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&mav, &o, &mem, &one, HWS_PLACE_EXPERT_OFFLOAD, &pl);
    assert_true(pl.possible);
    assert_true(pl.cpu_moe_layers > 0 && pl.cpu_moe_layers <= 24);
    int below = 0;
    for (int i = 0; i < pl.cpu_moe_below; i++)
        below += hws_layer_is_moe(&mem, i);
    assert_int_equal(below, pl.cpu_moe_layers);
    assert_close(pl.cpu_bytes,
                 pl.cpu_moe_layers * 128 * mem.expert_bytes + mem.input_embed_bytes +
                     mem.vision_bytes,
                 1e-9, "host bytes");
    char want[64];
    if (pl.cpu_moe_below >= 48)
        snprintf(want, sizeof want, "-ot exps=CPU");
    else
        snprintf(want, sizeof want, "--n-cpu-moe %d", pl.cpu_moe_below);
    hws_assert_contains(pl.launch, want);
    hws_assert_contains(pl.launch, "--mmproj");
}

/* Decode reads the same bytes for Scout and Maverick at batch 1 on the same GPUs; prefill of
 * text never streams the tower. */
static void decode_follows_active(void **state) {
    (void)state;
    hws_model_spec models[2] = {config("Llama-4-Scout-17B-16E"),
                                config("Llama-4-Maverick-17B-128E")};
    double bytes[2];
    for (int k = 0; k < 2; k++) {
        hws_plan_opts o;
        hws_memory mem = plan_memory(&models[k], "fp8", HWS_RUNTIME_VLLM, &o);
        hws_device_set devs;
        hws_devices_named(hws_gpu_catalog_find("H100 SXM 80GB"), 8, &devs);
        hws_placement pl;
        hws_predict_inputs in;
        hws_prediction pred;
        hws_placement_compute(&models[k], &o, &mem, &devs, HWS_PLACE_TENSOR_PARALLEL, &pl);
        assert_true(pl.fits);
        hws_predict_inputs_fill(&o, &mem, &devs, "/nonexistent/ceilings.json", &in);
        hws_prediction_compute(&models[k], &o, &mem, &pl, &in, &pred);
        bytes[k] = pred.decode_bytes_per_step;
        assert_true(bytes[k] >= mem.active_weights_bytes && bytes[k] < mem.weights_bytes / 3);
    }
    assert_close(bytes[1], bytes[0], 0.01, "decode bytes Scout vs Maverick");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalog_rows_match_configs), cmocka_unit_test(vision_memory),
        cmocka_unit_test(vision_placement),           cmocka_unit_test(maverick_layers),
        cmocka_unit_test(maverick_expert_offload),    cmocka_unit_test(decode_follows_active),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
