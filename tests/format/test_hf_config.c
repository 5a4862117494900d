/* test_hf_config.c - the config.json reader: published configs of each family read field by
 * field, the safetensors index and single-file sizes, and every error naming file and key. */
#include "hws_test.h"

#include "hwscope/model.h"
#include "format/model_readers.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void load(const char *fixture, hws_model_spec *m) {
    hws_error err = {{0}};
    char name[256];
    snprintf(name, sizeof name, "models/%s/config.json", fixture);
    hws_status st = hws_model_from_hf_config(hws_fixture(name), m, &err);
    if (st != HWS_OK)
        fail_msg("%s: %s", name, err.msg);
}

static void assert_na(double x) {
    assert_true(isnan(x));
}

static void test_llama2_70b(void **state) {
    (void)state;
    hws_model_spec m;
    load("Llama-2-70b-hf", &m);
    assert_string_equal(m.name, "Llama-2-70b-hf");
    assert_string_equal(m.family, "llama");
    hws_assert_contains(m.source, "models/Llama-2-70b-hf/config.json");
    assert_int_equal(m.hidden_size, 8192);
    assert_int_equal(m.n_layers, 80);
    assert_int_equal(m.n_heads, 64);
    assert_int_equal(m.n_kv_heads, 8);
    assert_int_equal(m.head_dim, 128); /* 8192 / 64: the config has no head_dim */
    assert_int_equal(m.intermediate_size, 28672);
    assert_int_equal(m.vocab_size, 32000);
    assert_int_equal(m.max_context, 4096);
    assert_int_equal(m.tie_embeddings, 0);
    assert_int_equal(m.gated_mlp, 1);
    assert_string_equal(m.file_weight_type, "F16");
    assert_na(m.n_experts);
    assert_na(m.n_experts_active);
    assert_na(m.kv_lora_rank);
    assert_na(m.sliding_window);
    assert_na(m.params_published);
    assert_na(m.file_weight_bytes); /* no index beside it */
}

static void test_llama31_8b_with_index(void **state) {
    (void)state;
    hws_model_spec m;
    load("Llama-3.1-8B", &m);
    assert_int_equal(m.hidden_size, 4096);
    assert_int_equal(m.n_layers, 32);
    assert_int_equal(m.n_kv_heads, 8);
    assert_int_equal(m.intermediate_size, 14336);
    assert_int_equal(m.vocab_size, 128256);
    assert_int_equal(m.max_context, 131072);
    assert_string_equal(m.file_weight_type, "BF16");
    /* metadata.total_size of model.safetensors.index.json: 8,030,261,248 params x 2 bytes */
    assert_true(m.file_weight_bytes == 16060522496.0);
}

static void test_mixtral(void **state) {
    (void)state;
    hws_model_spec m;
    load("Mixtral-8x7B-v0.1", &m);
    assert_string_equal(m.family, "mixtral");
    assert_int_equal(m.n_experts, 8);
    assert_int_equal(m.n_experts_active, 2);
    assert_int_equal(m.n_shared_experts, 0);
    assert_int_equal(m.moe_intermediate_size, 14336); /* experts are intermediate_size wide */
    assert_int_equal(m.n_dense_layers, 0);
    assert_int_equal(m.max_context, 32768);
    assert_na(m.sliding_window); /* "sliding_window": null */
}

static void test_deepseek_v3(void **state) {
    (void)state;
    hws_model_spec m;
    load("DeepSeek-V3", &m);
    assert_string_equal(m.family, "deepseek_v3");
    assert_int_equal(m.hidden_size, 7168);
    assert_int_equal(m.n_layers, 61);
    assert_int_equal(m.n_heads, 128);
    assert_int_equal(m.n_kv_heads, 128);
    assert_int_equal(m.kv_lora_rank, 512);
    assert_int_equal(m.q_lora_rank, 1536);
    assert_int_equal(m.qk_rope_head_dim, 64);
    assert_int_equal(m.qk_nope_head_dim, 128);
    assert_int_equal(m.v_head_dim, 128);
    assert_int_equal(m.head_dim, 192); /* nope + rope */
    assert_int_equal(m.n_experts, 256);
    assert_int_equal(m.n_experts_active, 8);
    assert_int_equal(m.n_shared_experts, 1);
    assert_int_equal(m.moe_intermediate_size, 2048);
    assert_int_equal(m.n_dense_layers, 3);
    assert_int_equal(m.intermediate_size, 18432);
    assert_int_equal(m.vocab_size, 129280);
    assert_int_equal(m.max_context, 163840);
    assert_string_equal(m.file_weight_type, "FP8"); /* quantization_config wins over torch_dtype */
}

static void test_gemma3_nested(void **state) {
    (void)state;
    hws_model_spec m;
    load("gemma-3-27b-it", &m);
    assert_string_equal(m.family, "gemma3");
    assert_int_equal(m.hidden_size, 5376);
    assert_int_equal(m.n_layers, 62);
    assert_int_equal(m.n_heads, 32);
    assert_int_equal(m.n_kv_heads, 16);
    assert_int_equal(m.head_dim, 128); /* given: not 5376 / 32 = 168 */
    assert_int_equal(m.intermediate_size, 21504);
    /* left to Gemma3TextConfig's defaults by the published file */
    assert_int_equal(m.vocab_size, 262208);
    assert_int_equal(m.max_context, 131072);
    assert_int_equal(m.tie_embeddings, 1);
    assert_int_equal(m.gated_mlp, 1);
    assert_int_equal(m.sliding_window, 1024);
    assert_int_equal(m.sliding_layers_per_global, 5);
    assert_string_equal(m.file_weight_type, "BF16"); /* torch_dtype at the top level */
}

static void test_qwen3_moe(void **state) {
    (void)state;
    hws_model_spec m;
    load("Qwen3-30B-A3B", &m);
    assert_int_equal(m.hidden_size, 2048);
    assert_int_equal(m.head_dim, 128); /* given, though 2048 / 32 = 64 */
    assert_int_equal(m.n_kv_heads, 4);
    assert_int_equal(m.n_experts, 128);
    assert_int_equal(m.n_experts_active, 8);
    assert_int_equal(m.moe_intermediate_size, 768);
    assert_int_equal(m.n_dense_layers, 0); /* mlp_only_layers: [] */
    assert_int_equal(m.n_shared_experts, 0);
    assert_na(m.sliding_window); /* use_sliding_window: false */
}

static void test_gpt_oss(void **state) {
    (void)state;
    hws_model_spec m;
    load("gpt-oss-20b", &m);
    assert_int_equal(m.n_experts, 32);
    assert_int_equal(m.n_experts_active, 4);
    assert_int_equal(m.moe_intermediate_size, 2880);
    assert_int_equal(m.head_dim, 64);
    assert_int_equal(m.sliding_window, 128);
    assert_int_equal(m.sliding_layers_per_global, 1); /* layer_types alternate */
    assert_int_equal(m.vocab_size, 201088);
    assert_string_equal(m.file_weight_type, "MXFP4");
}

static void test_falcon_mqa(void **state) {
    (void)state;
    hws_model_spec m;
    load("falcon-7b", &m);
    assert_int_equal(m.n_heads, 71);
    assert_int_equal(m.n_kv_heads, 1); /* multi_query */
    assert_int_equal(m.head_dim, 64);
    assert_int_equal(m.intermediate_size, 4 * 4544);
    assert_int_equal(m.gated_mlp, 0);
    assert_int_equal(m.tie_embeddings, 1);
    assert_int_equal(m.max_context, 2048);
}

static void test_phi3_and_mistral_sliding(void **state) {
    (void)state;
    hws_model_spec m;
    load("Phi-3-mini-4k-instruct", &m);
    assert_string_equal(m.name, "Phi-3-mini-4k-instruct");
    assert_int_equal(m.n_kv_heads, 32); /* MHA */
    assert_int_equal(m.vocab_size, 32064);
    assert_int_equal(m.sliding_window, 2047);
    assert_int_equal(m.sliding_layers_per_global, 0); /* every layer */
    load("Mistral-7B-v0.1", &m);
    assert_int_equal(m.sliding_window, 4096);
    assert_int_equal(m.sliding_layers_per_global, 0);
}

/* Writes text as <tmpdir>/<model>/config.json and reads it back; returns the status. */
static hws_status parse_text(const char *text, hws_model_spec *m, hws_error *err) {
    return hws_hf_config_parse(text, strlen(text), "dir/config.json", m, err);
}

static void expect_error(const char *text, const char *needle) {
    hws_model_spec m;
    hws_error err = {{0}};
    assert_int_equal(parse_text(text, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "dir/config.json");
    hws_assert_contains(err.msg, needle);
    assert_na(m.hidden_size); /* nothing half-filled */
}

static void test_errors_name_key(void **state) {
    (void)state;
    const char *base = "\"num_hidden_layers\": 2, \"num_attention_heads\": 4";
    char buf[512];
    snprintf(buf, sizeof buf, "{\"hidden_size\": \"big\", %s}", base);
    expect_error(buf, "key \"hidden_size\": expected a number");
    snprintf(buf, sizeof buf, "{\"hidden_size\": -5, %s}", base);
    expect_error(buf, "key \"hidden_size\"");
    snprintf(buf, sizeof buf, "{\"hidden_size\": 64.5, %s}", base);
    expect_error(buf, "key \"hidden_size\": expected a whole number");
    snprintf(buf, sizeof buf, "{\"hidden_size\": 1e300, %s}", base);
    expect_error(buf, "key \"hidden_size\"");
    expect_error("{\"num_hidden_layers\": 2, \"num_attention_heads\": 4}",
                 "\"hidden_size\": missing");
    expect_error("{\"hidden_size\": 64, \"num_attention_heads\": 4}",
                 "\"num_hidden_layers\": missing");
    snprintf(buf, sizeof buf, "{\"hidden_size\": 64, %s, \"num_key_value_heads\": 8}", base);
    expect_error(buf, "key \"num_key_value_heads\": 8 exceeds");
    snprintf(buf, sizeof buf, "{\"hidden_size\": 64, %s, \"tie_word_embeddings\": 1}", base);
    expect_error(buf, "key \"tie_word_embeddings\": expected true or false");
    snprintf(buf, sizeof buf, "{\"hidden_size\": 64, %s, \"torch_dtype\": 16}", base);
    expect_error(buf, "key \"torch_dtype\"");
    snprintf(buf, sizeof buf,
             "{\"hidden_size\": 64, %s, \"num_local_experts\": 4, "
             "\"num_experts_per_tok\": 9}",
             base);
    expect_error(buf, "exceeds the 4 experts");
    snprintf(buf, sizeof buf,
             "{\"hidden_size\": 64, %s, \"layer_types\": 3, \"sliding_window\": 4}", base);
    expect_error(buf, "key \"layer_types\"");
    snprintf(buf, sizeof buf, "{\"hidden_size\": 64, %s, \"quantization_config\": 7}", base);
    expect_error(buf, "key \"quantization_config\"");
    expect_error("{\"model_type\": \"gemma3\", \"text_config\": {\"hidden_size\": true, "
                 "\"num_hidden_layers\": 2, \"num_attention_heads\": 4}}",
                 "key \"text_config.hidden_size\"");
    expect_error("{\"text_config\": []}", "key \"text_config\"");
    expect_error("{\"model_type\": 3}", "key \"model_type\"");
}

static void test_errors_syntax(void **state) {
    (void)state;
    expect_error("{\n  \"hidden_size\": 64,\n  oops\n}", "line 3");
    expect_error("[1, 2]", "expected a JSON object");
    expect_error("", "not valid JSON");
    /* not NUL-terminated: the parser must stop at len */
    hws_model_spec m;
    hws_error err = {{0}};
    assert_int_equal(hws_hf_config_parse("{\"a\": 1}", 5, "dir/config.json", &m, &err),
                     HWS_ERR_INPUT);
}

static void test_minimal_defaults(void **state) {
    (void)state;
    hws_model_spec m;
    hws_error err = {{0}};
    assert_int_equal(parse_text("{\"hidden_size\": 64, \"num_hidden_layers\": 2, "
                                "\"num_attention_heads\": 4, \"hidden_act\": \"gelu\"}",
                                &m, &err),
                     HWS_OK);
    assert_int_equal(m.n_kv_heads, 4); /* missing: MHA */
    assert_int_equal(m.head_dim, 16);
    assert_int_equal(m.gated_mlp, 0); /* unknown family, gelu */
    assert_string_equal(m.name, "dir");
    assert_na(m.vocab_size);
    assert_na(m.intermediate_size);
    assert_int_equal(parse_text("{\"hidden_size\": 64, \"num_hidden_layers\": 2, "
                                "\"num_attention_heads\": 4, \"hidden_act\": \"silu\"}",
                                &m, &err),
                     HWS_OK);
    assert_int_equal(m.gated_mlp, 1); /* unknown family, silu */
}

/* A temporary folder holding a config.json and what the test puts beside it. */
static void write_file(const char *dir, const char *name, const void *data, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hws_write_file(path, data, len);
}

static void test_siblings(void **state) {
    (void)state;
    char dir[] = "/tmp/hws_hfXXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *cfg = "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4}";
    write_file(dir, "config.json", cfg, strlen(cfg));
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    hws_model_spec m;
    hws_error err = {{0}};

    /* one model.safetensors: its size less the 8-byte length and the header */
    unsigned char st[8 + 16 + 100] = {16};
    write_file(dir, "model.safetensors", st, sizeof st);
    assert_int_equal(hws_model_from_hf_config(path, &m, &err), HWS_OK);
    assert_true(m.file_weight_bytes == 100);
    st[0] = 200; /* header longer than the file */
    write_file(dir, "model.safetensors", st, sizeof st);
    assert_int_equal(hws_model_from_hf_config(path, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "model.safetensors: offset 0");

    /* an index wins over the single file */
    const char *bad = "{\"metadata\": {\"total_size\": \"many\"}}";
    write_file(dir, "model.safetensors.index.json", bad, strlen(bad));
    assert_int_equal(hws_model_from_hf_config(path, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "model.safetensors.index.json: key \"metadata.total_size\"");
    const char *none = "{\"metadata\": {}, \"weight_map\": {}}";
    write_file(dir, "model.safetensors.index.json", none, strlen(none));
    assert_int_equal(hws_model_from_hf_config(path, &m, &err), HWS_OK);
    assert_na(m.file_weight_bytes);

    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

static void test_missing_file(void **state) {
    (void)state;
    hws_model_spec m;
    hws_error err = {{0}};
    assert_int_equal(hws_model_from_hf_config("/nonexistent/config.json", &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "/nonexistent/config.json");
    const char *dir = hws_fixture("models/Llama-3.1-8B");
    assert_int_equal(hws_model_from_hf_config(dir, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "not a regular file");
}

/* A model folder whose "/config.json" would not fit the path buffer is named as too long, not
 * silently cut to another path. */
static void test_folder_path_too_long(void **state) {
    (void)state;
    char path[4096] = "/tmp/hws_long_XXXXXX";
    assert_non_null(mkdtemp(path));
    size_t len = strlen(path), base = len;
    while (len < 4088) { /* nested folders: the whole is below PATH_MAX, + "/config.json" above */
        size_t part = 4088 - len - 1 < 200 ? 4088 - len - 1 : 200;
        path[len++] = '/';
        memset(path + len, 'a', part);
        len += part;
        path[len] = '\0';
        assert_int_equal(mkdir(path, 0755), 0);
    }
    hws_model_spec m;
    hws_error err = {{0}};
    assert_int_equal(hws_model_resolve(path, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "folder path too long");
    while (len > base) {
        assert_int_equal(rmdir(path), 0);
        while (path[--len] != '/')
            ;
        path[len] = '\0';
    }
    assert_int_equal(rmdir(path), 0);
}

/* Real but odd configs: the original Falcon-40B (RWForCausalLM, legacy keys) in a folder named
 * "configs" is named after its _name_or_path; a file of another name after the file; heads that
 * do not divide into the key/value groups are an error naming the key. */
static void test_odd_configs(void **state) {
    (void)state;
    static const char falcon[] =
        "{\"architectures\": [\"RWForCausalLM\"], \"model_type\": \"RefinedWeb\", \"hidden_size\": "
        "8192, \"n_head\": 128, \"n_head_kv\": 8, \"n_layer\": 60, \"vocab_size\": 65024, "
        "\"parallel_attn\": true, \"_name_or_path\": \"tiiuae/falcon-40b\"}";
    hws_model_spec m;
    hws_error err = {{0}};
    assert_int_equal(hws_hf_config_parse(falcon, strlen(falcon), "x/configs/config.json", &m, &err),
                     HWS_OK);
    assert_string_equal(m.name, "falcon-40b");
    assert_true(m.n_heads == 128 && m.n_kv_heads == 8 && m.n_layers == 60);
    assert_true(m.intermediate_size == 4 * 8192 && !m.gated_mlp);
    assert_int_equal(hws_hf_config_parse(falcon, strlen(falcon), "x/falcon.json", &m, &err),
                     HWS_OK);
    assert_string_equal(m.name, "falcon-40b");
    static const char plain[] = "{\"model_type\": \"llama\", \"hidden_size\": 64, "
                                "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                                "\"intermediate_size\": 128, \"vocab_size\": 100}";
    assert_int_equal(
        hws_hf_config_parse(plain, strlen(plain), "x/configs/tiny-llama.json", &m, &err), HWS_OK);
    assert_string_equal(m.name, "tiny-llama");
    assert_string_equal(m.warning, ""); /* llama's class says its MLP: nothing guessed */
    /* a family hwscope does not know, with no hidden_act: read as ungated, and said so */
    static const char mystery[] = "{\"model_type\": \"mystery\", \"hidden_size\": 64, "
                                  "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                                  "\"intermediate_size\": 128, \"vocab_size\": 100}";
    assert_int_equal(hws_hf_config_parse(mystery, strlen(mystery), "x/m/config.json", &m, &err),
                     HWS_OK);
    assert_false(m.gated_mlp);
    hws_assert_contains(m.warning, "no hidden_act");
    assert_int_equal(hws_hf_config_parse(falcon, strlen(falcon), "x/falcon.json", &m, &err),
                     HWS_OK);
    assert_string_equal(m.warning, ""); /* falcon's class says its MLP: nothing guessed */
    expect_error("{\"model_type\": \"llama\", \"hidden_size\": 4096, \"num_hidden_layers\": 32, "
                 "\"num_attention_heads\": 32, \"num_key_value_heads\": 6, "
                 "\"intermediate_size\": 11008, \"vocab_size\": 32000}",
                 "does not divide");
}

/* ---- vision-language models and Llama 4 ------------------------------------------------- */

/* Whether x, in billions, rounds to the published whole or two-decimal figure `published`. */
static void assert_rounds_to(double x, double published, double step, const char *what) {
    if (fabs(round(x / 1e9 / step) * step - published) > step / 4)
        fail_msg("%s: %.4fB does not round to the published %.2fB", what, x / 1e9, published);
}

/* llava-1.5-7b: Vicuna-7B (LlamaConfig defaults under a two-key text_config), CLIP ViT-L/14 at
 * 336 px and LLaVA's two-layer projector. Counted by hand from modeling_clip.py and
 * modeling_llava.py: CLIP 24 x 12,596,224 per layer + class 1,024 + patch 3 x 14^2 x 1,024 =
 * 602,112 + 577 positions x 1,024 = 590,848 + pre/post LayerNorms 4,096 = 303,507,456; projector
 * 1,024 x 4,096 + 4,096 + 4,096^2 + 4,096 = 20,979,712; Llama-2-7B with a 32,064 vocabulary
 * 6,738,939,904. The Hub lists 7.06B parameters (huggingface.co/llava-hf/llava-1.5-7b-hf,
 * safetensors). */
static void test_llava(void **state) {
    (void)state;
    hws_model_spec m;
    load("llava-1.5-7b-hf", &m);
    assert_string_equal(m.family, "llava");
    assert_int_equal(m.hidden_size, 4096); /* LlamaConfig() defaults */
    assert_int_equal(m.n_layers, 32);
    assert_int_equal(m.n_heads, 32);
    assert_int_equal(m.n_kv_heads, 32);
    assert_int_equal(m.intermediate_size, 11008);
    assert_int_equal(m.vocab_size, 32064); /* given */
    assert_int_equal(m.max_context, 4096);
    assert_int_equal(m.tie_embeddings, 0);
    assert_true(m.vision_params == 303507456.0 + 20979712.0);
    assert_true(hws_model_params(&m) == 6738939904.0 + 303507456.0 + 20979712.0);
    assert_rounds_to(hws_model_params(&m), 7.06, 0.01, "llava-1.5-7b");
    /* the vision tower is not read per decoded token */
    hws_model_spec text = m;
    text.vision_params = HWS_NA;
    assert_true(hws_model_active_params(&m) == hws_model_active_params(&text));
    assert_string_equal(m.warning, "");
}

/* Gemma 3 12B: SigLIP so400m at 896 px (no pooling head), mm_input_projection 1,152 x 3,840 and
 * its RMSNorm; head_dim left to Gemma3TextConfig's 256. The Gemma 3 technical report (arXiv
 * 2503.19786, table 1) gives 417M vision encoder + 1,012M embedding + 10,759M non-embedding =
 * 12.19B; the Hub lists 12.2B (google/gemma-3-12b-it). 27B: 417M + 1,416M + 25,600M = 27.43B. */
static void test_gemma3_vision(void **state) {
    (void)state;
    hws_model_spec m;
    load("gemma-3-12b-it", &m);
    assert_int_equal(m.head_dim, 256); /* not 3840 / 16 = 240 */
    assert_int_equal(m.sliding_window, 1024);
    /* SigLIP: 27 x 15,239,504 + patch 678,528 + 4,096 positions x 1,152 + post-norm 2,304 */
    double tower = 27 * 15239504.0 + 678528.0 + 4096 * 1152.0 + 2304.0;
    assert_true(m.vision_params == tower + 1152.0 * 3840 + 1152);
    assert_true(fabs(tower / 417e6 - 1) < 0.005);
    assert_rounds_to(hws_model_params(&m), 12.19, 0.01, "gemma-3-12b");
    load("gemma-3-27b-it", &m);
    assert_rounds_to(hws_model_params(&m), 27.43, 0.01, "gemma-3-27b");
}

/* Llama 4: 48 blocks, routed experts intermediate_size (8,192) wide plus one shared expert in
 * each MoE block, dense blocks intermediate_size_mlp (16,384) wide, every block MoE on Scout and
 * every second one (1, 3, ... 47) on Maverick; a 34-layer ViT with its pixel-shuffle adapter and a
 * 4,096 x 5,120 projector. Meta's model card (github.com/meta-llama/llama-models,
 * models/llama4/MODEL_CARD.md): Scout 17B active / 109B total, Maverick 17B active / 400B total;
 * the Hub lists 109B and 402B (meta-llama/Llama-4-Scout-17B-16E, -Maverick-17B-128E). */
static void test_llama4(void **state) {
    (void)state;
    hws_model_spec scout, mav;
    load("Llama-4-Scout-17B-16E", &scout);
    load("Llama-4-Maverick-17B-128E", &mav);
    assert_string_equal(scout.family, "llama4");
    assert_int_equal(scout.n_experts, 16);
    assert_int_equal(mav.n_experts, 128);
    assert_int_equal(scout.n_experts_active, 1);
    assert_int_equal(scout.n_shared_experts, 1); /* Llama4TextMoe's shared_expert */
    assert_int_equal(scout.moe_intermediate_size, 8192);
    assert_int_equal(scout.intermediate_size, 16384);
    assert_int_equal(scout.moe_layer_step, 1);
    assert_int_equal(mav.moe_layer_step, 2);
    /* chunked attention: 3 chunked layers per global (NoPE) one, 8192 tokens */
    assert_int_equal(scout.sliding_window, 8192);
    assert_int_equal(scout.sliding_layers_per_global, 3);
    /* vision: 34 x 23,807,872 + patch 827,904 + class 1,408 + 577 positions x 1,408 + two
     * LayerNorms 5,632 + adapter 5,632 x 4,096 + 4,096^2, projector 4,096 x 5,120 */
    double vision = 34 * 23807872.0 + 827904 + 1408 + 577 * 1408.0 + 5632 + 5632 * 4096.0 +
                    4096 * 4096.0 + 4096 * 5120.0;
    assert_true(scout.vision_params == vision && mav.vision_params == vision);
    double s = hws_model_params(&scout), v = hws_model_params(&mav);
    assert_rounds_to(s, 109, 1, "Llama-4-Scout (card and Hub)");
    assert_rounds_to(v, 402, 1, "Llama-4-Maverick (Hub)");
    assert_true(fabs(v / 400e9 - 1) < 0.005); /* the card's 400B */
    /* active: the card counts both embedding matrices; hwscope leaves the input lookup out */
    double lookup = scout.vocab_size * scout.hidden_size;
    assert_rounds_to(hws_model_active_params(&scout) + lookup, 17, 1, "Scout active");
    assert_rounds_to(hws_model_active_params(&mav) + lookup, 17, 1, "Maverick active");
    assert_string_equal(scout.warning, "");
}

/* Towers and projectors not known here: estimated or left out, and said so. */
static void test_vision_unknown(void **state) {
    (void)state;
    hws_model_spec m;
    hws_error err = {{0}};
    static const char odd[] =
        "{\"model_type\": \"mystery_vl\", \"text_config\": {\"model_type\": \"llama\", "
        "\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
        "\"intermediate_size\": 128, \"vocab_size\": 100}, \"vision_config\": {\"model_type\": "
        "\"odd_vit\", \"hidden_size\": 32, \"intermediate_size\": 64, \"num_hidden_layers\": 2}}";
    assert_int_equal(hws_hf_config_parse(odd, strlen(odd), "x/odd/config.json", &m, &err), HWS_OK);
    /* 2 plain ViT layers of width 32 (biases, two LayerNorms) and the final LayerNorm */
    assert_true(m.vision_params ==
                2 * (4 * (32 * 32 + 32) + 4 * 32 + (32 * 64 + 64) + (64 * 32 + 32)) + 2 * 32);
    hws_assert_contains(m.warning, "odd_vit");
    hws_assert_contains(m.warning, "estimate");
    hws_assert_contains(m.warning, "mystery_vl projector");
    static const char bare[] = "{\"model_type\": \"llava\", \"text_config\": {\"model_type\": "
                               "\"llama\"}, \"vision_config\": {\"model_type\": \"pixtral\"}}";
    assert_int_equal(hws_hf_config_parse(bare, strlen(bare), "x/bare/config.json", &m, &err),
                     HWS_OK);
    assert_na(m.vision_params);
    hws_assert_contains(m.warning, "left out of the plan");
    expect_error("{\"model_type\": \"llava\", \"text_config\": {\"model_type\": \"llama\"}, "
                 "\"vision_config\": 3}",
                 "key \"vision_config\": expected an object");
    expect_error("{\"model_type\": \"llava\", \"text_config\": {\"model_type\": \"llama\"}, "
                 "\"vision_config\": {\"patch_size\": 0}}",
                 "key \"vision_config.patch_size\"");
    expect_error("{\"model_type\": \"llama4\", \"text_config\": {\"hidden_size\": 64, "
                 "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_local_experts\": 4, "
                 "\"interleave_moe_layer_step\": 0}}",
                 "key \"text_config.interleave_moe_layer_step\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama2_70b),
        cmocka_unit_test(test_llama31_8b_with_index),
        cmocka_unit_test(test_mixtral),
        cmocka_unit_test(test_deepseek_v3),
        cmocka_unit_test(test_gemma3_nested),
        cmocka_unit_test(test_qwen3_moe),
        cmocka_unit_test(test_gpt_oss),
        cmocka_unit_test(test_falcon_mqa),
        cmocka_unit_test(test_phi3_and_mistral_sliding),
        cmocka_unit_test(test_errors_name_key),
        cmocka_unit_test(test_errors_syntax),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_siblings),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_odd_configs),
        cmocka_unit_test(test_folder_path_too_long),
        cmocka_unit_test(test_llava),
        cmocka_unit_test(test_gemma3_vision),
        cmocka_unit_test(test_llama4),
        cmocka_unit_test(test_vision_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
