/* hf_config.c - reads a Hugging Face config.json (and the safetensors index or file beside it)
 * into a hws_model_spec: llama, mistral, qwen2/3, mixtral, qwen3_moe, deepseek_v2/v3 (MLA),
 * gemma2/3 (text_config nesting), phi3, gpt_oss and falcon, with each family's defaults for the
 * keys its published configs leave out; a vision_config through hf_vision.c. Bad input is
 * HWS_ERR_INPUT naming the file and the key (or line and column for broken JSON). */
#include "format/hf_doc.h"
#include "format/model_readers.h"
#include "format/safetensors.h"
#include "util/file.h"
#include "util/json_keys.h"
#include "util/units.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HF_MAX_FILE_BYTES ((size_t)256 << 20) /* the index of a 671B model is ~9 MB */
#define HF_MAX_COUNT      1e9                 /* no dimension, layer or expert count comes near */

/* What a family's configs leave to the transformers class defaults. NA: no default. */
typedef struct {
    const char *model_type;
    int gated_mlp;             /* 1: gate, up and down matrices (SwiGLU/GeGLU) */
    int tie_embeddings;        /* tie_word_embeddings when the key is absent */
    double vocab_size;         /* vocab_size when absent */
    double max_context;        /* max_position_embeddings when absent */
    double sliding_window;     /* sliding_window when absent */
    double sliding_per_global; /* local layers per global layer when the config gives no pattern */
    double ffn_mult;           /* intermediate = ffn_mult * hidden when absent */
    double shared_experts;     /* shared experts per MoE layer when the config names none */
    double head_dim;           /* head_dim when absent (NA: hidden_size / heads) */
} hf_family;

/* Defaults from the transformers configuration classes (configuration_<type>.py). */
static const hf_family hf_families[] = {
    {"llama", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"mistral", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"mixtral", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"qwen2", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"qwen2_moe", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"qwen3", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"qwen3_moe", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"deepseek_v2", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"deepseek_v3", 1, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"phi3", 1, 0, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA, 0, HWS_NA},
    {"gpt_oss", 1, 0, HWS_NA, HWS_NA, HWS_NA, 1, HWS_NA, 0, HWS_NA},
    {"gemma", 1, 1, 256000, 8192, HWS_NA, HWS_NA, HWS_NA, 0, 256},
    {"gemma2", 1, 1, 256000, 8192, 4096, 1, HWS_NA, 0, 256},
    {"gemma3", 1, 1, 262208, 131072, 4096, 5, HWS_NA, 0, 256},
    {"gemma3_text", 1, 1, 262208, 131072, 4096, 5, HWS_NA, 0, 256},
    {"falcon", 0, 1, 65024, 2048, HWS_NA, HWS_NA, 4, 0, HWS_NA},
    {"gpt2", 0, 1, 50257, 1024, HWS_NA, HWS_NA, 4, 0, HWS_NA},
    {"gpt_neox", 0, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    {"phi", 0, 0, HWS_NA, HWS_NA, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA},
    /* Llama 4: one shared expert beside the routed ones in every MoE layer */
    {"llama4", 1, 0, 202048, 131072, HWS_NA, HWS_NA, HWS_NA, 1, 128},
    {"llama4_text", 1, 0, 202048, 131072, HWS_NA, HWS_NA, HWS_NA, 1, 128},
};

/* An unknown family: PretrainedConfig's tie default, gating guessed from the activation. */
static const hf_family hf_unknown = {"", -1, 1, HWS_NA, HWS_NA, HWS_NA, 0, HWS_NA, 0, HWS_NA};

/* The keys a config may give each count under, first the transformers name. */
static const char *const hf_hidden_keys[] = {"hidden_size", "n_embd", "d_model", "dim", NULL};
static const char *const hf_layers_keys[] = {"num_hidden_layers", "n_layer", "num_layers",
                                             "n_layers", NULL};
static const char *const hf_heads_keys[] = {"num_attention_heads", "n_head", "num_heads", "n_heads",
                                            NULL};
static const char *const hf_kv_heads_keys[] = {"num_key_value_heads", "num_kv_heads", "n_head_kv",
                                               "multi_query_group_num", NULL};
static const char *const hf_experts_keys[] = {"num_local_experts", "num_experts",
                                              "n_routed_experts", "moe_num_experts", NULL};
static const char *const hf_active_keys[] = {"num_experts_per_tok", "experts_per_token",
                                             "num_experts_per_token", "moe_top_k", NULL};
/* leading dense blocks: a count (DeepSeek), else the list of dense layers (Qwen MoE) */
static const char *const hf_dense_keys[] = {"first_k_dense_replace", "mlp_only_layers", NULL};

/* What a nested text_config leaves to its class's defaults: LlavaConfig builds a LlamaConfig from
 * the two keys llava-1.5's text_config gives (vocab_size, max_position_embeddings), the rest from
 * LlamaConfig() (configuration_llama.py). Top-level configs must name their shape. */
typedef struct {
    const char *model_type;
    double hidden_size, n_layers, n_heads, intermediate_size, vocab_size, max_context;
} hf_text_default;

static const hf_text_default hf_text_defaults[] = {
    {"llama", 4096, 32, 32, 11008, 32000, 2048},
};

static const hf_text_default *hf_text_default_find(const hf_doc *d, const char *text_type) {
    for (size_t i = 0; d->text != NULL && text_type != NULL &&
                       i < sizeof hf_text_defaults / sizeof hf_text_defaults[0];
         i++)
        if (strcmp(text_type, hf_text_defaults[i].model_type) == 0)
            return &hf_text_defaults[i];
    return NULL;
}

/* The legacy model_types the same classes served (Falcon's first configs, RWForCausalLM). */
static const char *const hf_legacy_types[][2] = {{"RefinedWeb", "falcon"},
                                                 {"RefinedWebModel", "falcon"}};

static const hf_family *hf_family_find(const char *model_type) {
    if (model_type == NULL)
        return &hf_unknown;
    for (size_t i = 0; i < sizeof hf_legacy_types / sizeof hf_legacy_types[0]; i++)
        if (strcmp(model_type, hf_legacy_types[i][0]) == 0)
            model_type = hf_legacy_types[i][1];
    for (size_t i = 0; i < sizeof hf_families / sizeof hf_families[0]; i++)
        if (strcmp(hf_families[i].model_type, model_type) == 0)
            return &hf_families[i];
    return &hf_unknown;
}

const cJSON *hws_hf_get(const hf_doc *d, const char *key, const char **where) {
    const cJSON *v = NULL;
    *where = "";
    if (d->text != NULL) {
        v = cJSON_GetObjectItemCaseSensitive(d->text, key);
        *where = d->text->string;
    }
    if (v == NULL || cJSON_IsNull(v)) {
        v = cJSON_GetObjectItemCaseSensitive(d->root, key);
        *where = "";
    }
    return v == NULL || cJSON_IsNull(v) ? NULL : v;
}

hws_status hws_hf_bad(const hf_doc *d, const char *where, const char *key, const char *what) {
    return HWS_FAIL(d->err, HWS_ERR_INPUT, "%s: key \"%s%s%s\": %s", d->path, where,
                    where[0] ? "." : "", key, what);
}

hws_status hws_hf_count(const hf_doc *d, const char *const *keys, double min, double *out) {
    for (; *keys != NULL; keys++) {
        const char *where;
        const cJSON *v = hws_hf_get(d, *keys, &where);
        if (v == NULL)
            continue;
        if (!cJSON_IsNumber(v))
            return hws_hf_bad(d, where, *keys, "expected a number");
        double x = v->valuedouble;
        if (!(x >= min && x <= HF_MAX_COUNT) || x != floor(x))
            return hws_hf_bad(d, where, *keys,
                              min > 0 ? "expected a whole number >= 1"
                                      : "expected a whole number >= 0");
        *out = x;
        return HWS_OK;
    }
    return HWS_OK;
}

hws_status hws_hf_bool(const hf_doc *d, const char *key, int *out) {
    const char *where;
    const cJSON *v = hws_hf_get(d, key, &where);
    if (v == NULL)
        return HWS_OK;
    if (!cJSON_IsBool(v))
        return hws_hf_bad(d, where, key, "expected true or false");
    *out = cJSON_IsTrue(v);
    return HWS_OK;
}

hws_status hws_hf_str(const hf_doc *d, const char *key, const char **out) {
    const char *where;
    const cJSON *v = hws_hf_get(d, key, &where);
    *out = NULL;
    if (v == NULL)
        return HWS_OK;
    if (!cJSON_IsString(v))
        return hws_hf_bad(d, where, key, "expected a string");
    *out = v->valuestring;
    return HWS_OK;
}

static void hf_copy_upper(char *dst, size_t n, const char *src) {
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < n; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = '\0';
}

/* Whether a folder's name says nothing of the model: "configs", "config", "model", a hub
 * snapshot's 40-hex commit. */
static int generic_folder(const char *name, size_t len) {
    static const char *const generic[] = {"configs", "config", "model", "models", "snapshots"};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (len == strlen(generic[i]) && strncasecmp(name, generic[i], len) == 0)
            return 1;
    size_t hex = 0;
    while (hex < len && isxdigit((unsigned char)name[hex]))
        hex++;
    return len == 40 && hex == len;
}

/* The model's name: the folder holding config.json ("Llama-2-70b-hf"); for a generic folder or
 * a file of another name, the config's _name_or_path, else the file's name without .json. */
static void hf_name(const hf_doc *d, const char *model_type, hws_model_spec *m) {
    const char *slash = strrchr(d->path, '/');
    const char *file = slash != NULL ? slash + 1 : d->path;
    int is_config = strcmp(file, "config.json") == 0;
    if (is_config && slash != NULL && slash > d->path) {
        const char *start = slash - 1;
        while (start > d->path && start[-1] != '/')
            start--;
        size_t len = (size_t)(slash - start);
        if (len > 0 && !(len == 1 && start[0] == '.') && !generic_folder(start, len)) {
            snprintf(m->name, sizeof m->name, "%.*s", (int)len, start);
            return;
        }
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d->root, "_name_or_path");
    if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
        const char *base = strrchr(v->valuestring, '/');
        snprintf(m->name, sizeof m->name, "%s", base != NULL ? base + 1 : v->valuestring);
        return;
    }
    size_t stem = strlen(file);
    if (stem > 5 && strcasecmp(file + stem - 5, ".json") == 0)
        stem -= 5;
    if (!is_config && stem > 0)
        snprintf(m->name, sizeof m->name, "%.*s", (int)stem, file);
    else
        snprintf(m->name, sizeof m->name, "%s", model_type != NULL ? model_type : "model");
}

/* Attention heads: query, key/value (GQA, MQA, falcon's flags) and the per-head width. */
static hws_status hf_attention(const hf_doc *d, const hf_family *fam, hws_model_spec *m) {
    hws_status st;
    if ((st = hws_hf_count(d, hf_kv_heads_keys, 1, &m->n_kv_heads)) != HWS_OK)
        return st;
    if (!hws_known(m->n_kv_heads)) {
        /* falcon's multi_query defaults to true; elsewhere a missing key means MHA */
        int mq = strcmp(fam->model_type, "falcon") == 0, new_arch = 0;
        if ((st = hws_hf_bool(d, "multi_query", &mq)) != HWS_OK ||
            (st = hws_hf_bool(d, "new_decoder_architecture", &new_arch)) != HWS_OK)
            return st;
        m->n_kv_heads = mq && !new_arch ? 1 : m->n_heads;
    }
    /* multi-head latent attention (DeepSeek-V2/V3) */
    if ((st = hws_hf_count(d, (const char *[]){"kv_lora_rank", NULL}, 1, &m->kv_lora_rank)) !=
        HWS_OK)
        return st;
    if (hws_known(m->kv_lora_rank)) {
        if ((st = hws_hf_count(d, (const char *[]){"q_lora_rank", NULL}, 1, &m->q_lora_rank)) ||
            (st = hws_hf_count(d, (const char *[]){"qk_rope_head_dim", NULL}, 1,
                               &m->qk_rope_head_dim)) ||
            (st = hws_hf_count(d, (const char *[]){"qk_nope_head_dim", NULL}, 1,
                               &m->qk_nope_head_dim)) ||
            (st = hws_hf_count(d, (const char *[]){"v_head_dim", NULL}, 1, &m->v_head_dim)))
            return st;
        /* the query/key head is the no-rope and rope parts together (192 for DeepSeek-V3);
         * a head_dim key in such configs is the rope part only */
        if (hws_known(m->qk_rope_head_dim) && hws_known(m->qk_nope_head_dim)) {
            m->head_dim = m->qk_rope_head_dim + m->qk_nope_head_dim;
            return HWS_OK;
        }
    }
    if ((st = hws_hf_count(d, (const char *[]){"head_dim", NULL}, 1, &m->head_dim)) != HWS_OK)
        return st;
    if (!hws_known(m->head_dim))
        m->head_dim = hws_known(fam->head_dim) ? fam->head_dim : m->hidden_size / m->n_heads;
    return HWS_OK;
}

/* Mixture of experts: routed, active and shared experts, their width, leading dense layers and
 * the step between MoE layers. Llama 4 names the expert width intermediate_size and the dense
 * layers' width intermediate_size_mlp. */
static hws_status hf_experts(const hf_doc *d, const hf_family *fam, hws_model_spec *m) {
    hws_status st;
    double experts = HWS_NA, dense_width = HWS_NA;
    if ((st = hws_hf_count(d, hf_experts_keys, 0, &experts)) != HWS_OK)
        return st;
    if (!hws_known(experts) || experts == 0)
        return HWS_OK; /* dense */
    m->n_experts = experts;
    m->n_shared_experts = fam->shared_experts;
    m->n_dense_layers = 0;
    m->moe_intermediate_size = m->intermediate_size;
    if ((st = hws_hf_count(d, hf_active_keys, 1, &m->n_experts_active)) ||
        (st = hws_hf_count(d, (const char *[]){"n_shared_experts", "num_shared_experts", NULL}, 0,
                           &m->n_shared_experts)) ||
        (st = hws_hf_count(d, (const char *[]){"moe_intermediate_size", NULL}, 1,
                           &m->moe_intermediate_size)) ||
        (st = hws_hf_count(d, (const char *[]){"intermediate_size_mlp", NULL}, 1, &dense_width)) ||
        (st = hws_hf_count(
             d, (const char *[]){"interleave_moe_layer_step", "decoder_sparse_step", NULL}, 1,
             &m->moe_layer_step)) ||
        (st = hws_hf_count(d, (const char *[]){"first_k_dense_replace", NULL}, 0,
                           &m->n_dense_layers)))
        return st;
    if (hws_known(dense_width))
        m->intermediate_size = dense_width;
    const char *where;
    const cJSON *dense = hws_hf_get(d, "mlp_only_layers", &where); /* qwen MoE */
    if (dense != NULL && !cJSON_IsArray(dense))
        return hws_hf_bad(d, where, "mlp_only_layers", "expected an array");
    if (dense != NULL && m->n_dense_layers == 0)
        m->n_dense_layers = cJSON_GetArraySize(dense);
    return HWS_OK;
}

/* Sliding-window attention: the window and how many local layers come per global one. */
static hws_status hf_sliding(const hf_doc *d, const hf_family *fam, hws_model_spec *m) {
    hws_status st;
    int use = 1;
    if ((st = hws_hf_bool(d, "use_sliding_window", &use)) != HWS_OK)
        return st;
    double window = fam->sliding_window, pattern = HWS_NA;
    if ((st = hws_hf_count(d, (const char *[]){"sliding_window", NULL}, 0, &window)) ||
        (st = hws_hf_count(d, (const char *[]){"sliding_window_pattern", NULL}, 1, &pattern)))
        return st;
    const char *where;
    const cJSON *types = hws_hf_get(d, "layer_types", &where);
    if (types != NULL && !cJSON_IsArray(types))
        return hws_hf_bad(d, where, "layer_types", "expected an array");
    double sliding = 0, global = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, types) {
        if (!cJSON_IsString(t))
            return hws_hf_bad(d, where, "layer_types", "expected an array of strings");
        if (strcmp(t->valuestring, "sliding_attention") == 0)
            sliding++;
        else
            global++;
    }
    double chunk = HWS_NA, nope_every = 4;
    if ((st = hws_hf_count(d, (const char *[]){"attention_chunk_size", NULL}, 1, &chunk)) ||
        (st = hws_hf_count(d, (const char *[]){"no_rope_layer_interval", NULL}, 1, &nope_every)))
        return st;
    if ((!hws_known(window) || window == 0) && types == NULL && hws_known(chunk) &&
        nope_every > 1) {
        /* Llama 4's chunked attention: RoPE layers attend within chunks of attention_chunk_size
         * tokens, every no_rope_layer_interval-th layer (NoPE) to the whole context; the
         * runtimes keep one chunk on the others (vLLM's chunked local attention, llama.cpp's
         * chunked iSWA cache, transformers' HybridChunkedCache): a window, for the cache */
        m->sliding_window = chunk;
        m->sliding_layers_per_global = nope_every - 1;
        return HWS_OK;
    }
    if (!use || !hws_known(window) || window == 0 || (types != NULL && sliding == 0))
        return HWS_OK; /* no sliding window */
    m->sliding_window = window;
    if (types != NULL)
        m->sliding_layers_per_global = global > 0 ? sliding / global : 0;
    else if (hws_known(pattern))
        m->sliding_layers_per_global = pattern - 1;
    else
        m->sliding_layers_per_global =
            hws_known(fam->sliding_per_global) ? fam->sliding_per_global : 0;
    return HWS_OK;
}

/* The weight bits a quantization_config states: "bits" (AWQ, GPTQ), bitsandbytes'
 * load_in_4bit/load_in_8bit, or compressed-tensors' first config group's weights.num_bits. */
static const cJSON *quant_bits(const cJSON *q) {
    static const cJSON four = {.type = cJSON_Number, .valuedouble = 4, .valueint = 4};
    static const cJSON eight = {.type = cJSON_Number, .valuedouble = 8, .valueint = 8};
    const cJSON *bits = cJSON_GetObjectItemCaseSensitive(q, "bits");
    if (cJSON_IsNumber(bits))
        return bits;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "load_in_4bit")))
        return &four;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "load_in_8bit")))
        return &eight;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(q, "config_groups");
    const cJSON *first = cJSON_IsObject(groups) ? groups->child : NULL;
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(first, "weights"),
                                            "num_bits");
}

/* file_weight_type: the quantisation the config declares, else its torch_dtype. */
static hws_status hf_weight_type(const hf_doc *d, hws_model_spec *m) {
    hws_status st;
    const char *where;
    const cJSON *q = hws_hf_get(d, "quantization_config", &where);
    if (q != NULL) {
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(q, "quant_method");
        const cJSON *bits = quant_bits(q);
        if (!cJSON_IsObject(q) || (method != NULL && !cJSON_IsString(method)))
            return hws_hf_bad(d, where, "quantization_config",
                              "expected an object with quant_method");
        if (method != NULL) {
            char upper[16];
            hf_copy_upper(upper, sizeof upper, method->valuestring);
            if (cJSON_IsNumber(bits) && bits->valuedouble >= 1 && bits->valuedouble <= 64)
                snprintf(m->file_weight_type, sizeof m->file_weight_type, "%.6s-INT%d", upper,
                         (int)bits->valuedouble);
            else
                snprintf(m->file_weight_type, sizeof m->file_weight_type, "%s", upper);
            return HWS_OK;
        }
    }
    static const char *const dtypes[][2] = {{"bfloat16", "BF16"}, {"float16", "F16"},
                                            {"half", "F16"},      {"float32", "F32"},
                                            {"float", "F32"},     {"float8_e4m3fn", "FP8"}};
    const char *dtype;
    if ((st = hws_hf_str(d, "torch_dtype", &dtype)) != HWS_OK)
        return st;
    if (dtype == NULL && (st = hws_hf_str(d, "dtype", &dtype)) != HWS_OK)
        return st;
    if (dtype == NULL)
        return HWS_OK;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtype, dtypes[i][0]) == 0) {
            snprintf(m->file_weight_type, sizeof m->file_weight_type, "%s", dtypes[i][1]);
            return HWS_OK;
        }
    hf_copy_upper(m->file_weight_type, sizeof m->file_weight_type, dtype);
    return HWS_OK;
}

/* Whether an unknown family's MLP is gated, from its activation. */
static hws_status hf_gated_by_activation(const hf_doc *d, hws_model_spec *m) {
    const char *act = NULL;
    hws_status st;
    if ((st = hws_hf_str(d, "hidden_act", &act)) != HWS_OK)
        return st;
    if (act == NULL && (st = hws_hf_str(d, "hidden_activation", &act)) != HWS_OK)
        return st;
    m->gated_mlp = act != NULL && (strcmp(act, "silu") == 0 || strcmp(act, "swiglu") == 0 ||
                                   strcmp(act, "swish") == 0 || strcmp(act, "geglu") == 0);
    if (act == NULL)
        snprintf(m->warning, sizeof m->warning,
                 "%s has no hidden_act: its MLP is taken as ungated (2 matrices, not SwiGLU's 3)",
                 d->path);
    return HWS_OK;
}

/* The first of keys present in the config (for messages), else keys[0]. */
static const char *hf_present(const hf_doc *d, const char *const *keys, const char **where) {
    for (size_t i = 0; keys[i] != NULL; i++)
        if (hws_hf_get(d, keys[i], where) != NULL)
            return keys[i];
    *where = "";
    return keys[0];
}

/* The shared shape check (hws_model_shape_check), its fault named by this config's key. */
static hws_status hf_check_shape(const hf_doc *d, const hws_model_spec *m) {
    static const char *const *keys[HWS_SHAPE_FIELDS] = {
        [HWS_SHAPE_LAYERS] = hf_layers_keys,      [HWS_SHAPE_HIDDEN] = hf_hidden_keys,
        [HWS_SHAPE_HEADS] = hf_heads_keys,        [HWS_SHAPE_KV_HEADS] = hf_kv_heads_keys,
        [HWS_SHAPE_EXPERTS] = hf_experts_keys,    [HWS_SHAPE_EXPERTS_ACTIVE] = hf_active_keys,
        [HWS_SHAPE_DENSE_LAYERS] = hf_dense_keys,
    };
    hws_shape_field field;
    char why[160];
    if (hws_model_shape_check(m, &field, why, sizeof why))
        return HWS_OK;
    const char *where;
    const char *key = hf_present(d, keys[field], &where);
    const cJSON *first_k = hws_hf_get(d, "first_k_dense_replace", &where);
    if (field == HWS_SHAPE_DENSE_LAYERS && !(cJSON_IsNumber(first_k) && first_k->valuedouble > 0))
        key = hf_present(d, (const char *const[]){"mlp_only_layers", NULL}, &where);
    else if (field == HWS_SHAPE_DENSE_LAYERS)
        key = "first_k_dense_replace";
    return hws_hf_bad(d, where, key, why);
}

static hws_status hf_fill(const hf_doc *d, hws_model_spec *m) {
    hws_status st;
    const char *root_type = NULL, *text_type = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d->root, "model_type");
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsString(v))
        return hws_hf_bad(d, "", "model_type", "expected a string");
    root_type = v != NULL && cJSON_IsString(v) ? v->valuestring : NULL;
    if (d->text != NULL) {
        v = cJSON_GetObjectItemCaseSensitive(d->text, "model_type");
        text_type = v != NULL && cJSON_IsString(v) ? v->valuestring : NULL;
    }
    const hf_family *fam = hf_family_find(text_type != NULL ? text_type : root_type);
    if (fam == &hf_unknown)
        fam = hf_family_find(root_type);
    snprintf(m->family, sizeof m->family, "%s", root_type != NULL ? root_type : "");
    snprintf(m->source, sizeof m->source, "%s", d->path);
    hf_name(d, root_type, m);

    const hf_text_default *td = hf_text_default_find(d, text_type);
    if (td != NULL) {
        m->hidden_size = td->hidden_size;
        m->n_layers = td->n_layers;
        m->n_heads = td->n_heads;
    }
    const char *const *required[] = {hf_hidden_keys, hf_layers_keys, hf_heads_keys};
    double *fields[] = {&m->hidden_size, &m->n_layers, &m->n_heads};
    for (int i = 0; i < 3; i++) {
        if ((st = hws_hf_count(d, required[i], 1, fields[i])) != HWS_OK)
            return st;
        if (!hws_known(*fields[i]))
            return HWS_FAIL(d->err, HWS_ERR_INPUT, "%s: key \"%s\": missing", d->path,
                            required[i][0]);
    }
    if ((st = hf_attention(d, fam, m)) != HWS_OK)
        return st;

    m->intermediate_size = td != NULL ? td->intermediate_size : fam->ffn_mult * m->hidden_size;
    m->vocab_size = td != NULL ? td->vocab_size : fam->vocab_size;
    m->max_context = td != NULL ? td->max_context : fam->max_context;
    m->tie_embeddings = fam->tie_embeddings;
    if ((st = hws_hf_count(
             d,
             (const char *[]){"intermediate_size", "ffn_hidden_size", "n_inner", "ffn_dim", NULL},
             1, &m->intermediate_size)) ||
        (st = hws_hf_count(d, (const char *[]){"vocab_size", "padded_vocab_size", "n_vocab", NULL},
                           1, &m->vocab_size)) ||
        (st = hws_hf_count(d,
                           (const char *[]){"max_position_embeddings", "n_positions",
                                            "max_sequence_length", "seq_length", NULL},
                           1, &m->max_context)) ||
        (st = hws_hf_bool(d, "tie_word_embeddings", &m->tie_embeddings)))
        return st;
    if (fam->gated_mlp >= 0)
        m->gated_mlp = fam->gated_mlp;
    else if ((st = hf_gated_by_activation(d, m)) != HWS_OK)
        return st;
    if ((st = hf_experts(d, fam, m)) || (st = hf_sliding(d, fam, m)) ||
        (st = hf_weight_type(d, m)) || (st = hws_hf_vision(d, root_type, m)))
        return st;
    return hf_check_shape(d, m);
}

/* The line and column of byte offset off in text, for a JSON syntax error. */
static void hf_line_col(const char *text, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static hws_status hf_parse_json(const char *text, size_t len, const char *path, cJSON **out,
                                hws_error *err) {
    size_t off;
    bool trailing;
    *out = hws_json_parse_whole(text, len, &off, &trailing);
    if (*out == NULL) {
        int line, col;
        hf_line_col(text, off, &line, &col);
        return HWS_FAIL(err, HWS_ERR_INPUT, "%s: line %d, column %d (byte %zu): %s", path, line,
                        col, off, trailing ? "more after the JSON document" : "not valid JSON");
    }
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return HWS_FAIL(err, HWS_ERR_INPUT, "%s: byte 0: expected a JSON object", path);
    }
    return HWS_OK;
}

hws_status hws_hf_config_parse(const char *text, size_t len, const char *path, hws_model_spec *out,
                               hws_error *err) {
    hws_model_spec_blank(out);
    cJSON *root;
    hws_status st = hf_parse_json(text, len, path, &root, err);
    if (st != HWS_OK)
        return st;
    hf_doc d = {root, NULL, path, err};
    static const char *const nests[] = {"text_config", "llm_config"};
    for (size_t i = 0; i < 2 && d.text == NULL; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, nests[i]);
        if (t != NULL && !cJSON_IsNull(t) && !cJSON_IsObject(t)) {
            cJSON_Delete(root);
            return HWS_FAIL(err, HWS_ERR_INPUT, "%s: key \"%s\": expected an object", path,
                            nests[i]);
        }
        if (cJSON_IsObject(t))
            d.text = t;
    }
    st = hf_fill(&d, out);
    cJSON_Delete(root);
    if (st != HWS_OK)
        hws_model_spec_blank(out);
    return st;
}

hws_status hws_hf_index_parse(const char *text, size_t len, const char *path, double *bytes,
                              hws_error *err) {
    cJSON *root;
    *bytes = HWS_NA;
    hws_status st = hf_parse_json(text, len, path, &root, err);
    if (st != HWS_OK)
        return st;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(meta, "total_size");
    if (meta != NULL && !cJSON_IsNull(meta) && !cJSON_IsObject(meta))
        st = HWS_FAIL(err, HWS_ERR_INPUT, "%s: key \"metadata\": expected an object", path);
    else if (total != NULL &&
             (!cJSON_IsNumber(total) || !(total->valuedouble >= 0) || total->valuedouble > 1e16))
        st = HWS_FAIL(err, HWS_ERR_INPUT, "%s: key \"metadata.total_size\": expected a byte count",
                      path);
    else if (total != NULL)
        *bytes = total->valuedouble;
    cJSON_Delete(root);
    return st;
}

hws_status hws_model_from_hf_config(const char *path, hws_model_spec *out, hws_error *err) {
    char *text;
    size_t len;
    hws_model_spec_blank(out);
    hws_status st = hws_file_read(path, HF_MAX_FILE_BYTES, &text, &len, err);
    if (st != HWS_OK)
        return st;
    st = hws_hf_config_parse(text, len, path, out, err);
    free(text);
    if (st != HWS_OK)
        return st;

    /* the weights beside it: a sharded checkpoint's index, else one model.safetensors */
    char sibling[4096];
    const char *slash = strrchr(path, '/');
    int dir_len = slash != NULL ? (int)(slash - path + 1) : 0;
    snprintf(sibling, sizeof sibling, "%.*smodel.safetensors.index.json", dir_len, path);
    if (hws_file_exists(sibling)) {
        if ((st = hws_file_read(sibling, HF_MAX_FILE_BYTES, &text, &len, err)) != HWS_OK)
            return st;
        st = hws_hf_index_parse(text, len, sibling, &out->file_weight_bytes, err);
        free(text);
        return st;
    }
    snprintf(sibling, sizeof sibling, "%.*smodel.safetensors", dir_len, path);
    return hws_safetensors_data_bytes(sibling, &out->file_weight_bytes, err);
}
