/* model_catalog.c - the built-in model catalog (data/models.tsv) plus a user's rows on top. */
#include "hwscope/model.h"
#include "format/model_readers.h"
#include "format/tsv.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

extern const char hws_data_models_tsv[];
extern const unsigned long hws_data_models_tsv_len;

#define M(member, column, unit_size, unit, help)                                                   \
    HWS_COL_NUM(hws_model_spec, member, column, unit_size, unit, help)

/* The field table of a model: the columns of data/models.tsv, and the exact weight bytes and
 * format a file states (unknown in catalog rows, which is what blanking through this table gives
 * them). */
static const hws_field model_fields[] = {
    HWS_COL_STR(hws_model_spec, name, "name", "catalog name"),
    HWS_COL_STR(hws_model_spec, family, "family", "config.json model_type"),
    M(params_published, "params_b", 1e9, "billion", "parameters the model card publishes"),
    M(hidden_size, "hidden_size", 1, "", "hidden_size (d_model)"),
    M(n_layers, "n_layers", 1, "", "num_hidden_layers"),
    M(n_heads, "n_heads", 1, "", "num_attention_heads (query heads)"),
    M(n_kv_heads, "n_kv_heads", 1, "", "num_key_value_heads (1 = MQA)"),
    M(head_dim, "head_dim", 1, "", "head_dim, or hidden_size / n_heads"),
    M(intermediate_size, "intermediate_size", 1, "", "dense MLP width"),
    M(vocab_size, "vocab_size", 1, "", "vocab_size"),
    M(max_context, "max_context", 1, "tokens", "max_position_embeddings"),
    HWS_COL_BOOL(hws_model_spec, tie_embeddings, "tie_embeddings", "tie_word_embeddings"),
    HWS_COL_BOOL(hws_model_spec, gated_mlp, "gated_mlp", "1: SwiGLU/GeGLU (3 matrices)"),
    M(n_experts, "n_experts", 1, "", "routed experts per MoE layer"),
    M(n_experts_active, "n_experts_active", 1, "", "routed experts per token"),
    M(n_shared_experts, "n_shared_experts", 1, "", "shared (always used) experts"),
    M(moe_intermediate_size, "moe_intermediate_size", 1, "", "width of one expert's MLP"),
    M(n_dense_layers, "n_dense_layers", 1, "", "leading dense-MLP layers (first_k_dense_replace)"),
    M(moe_layer_step, "moe_layer_step", 1, "",
      "after those, layer i is MoE when (i + 1) % step == 0 (interleave_moe_layer_step)"),
    M(kv_lora_rank, "kv_lora_rank", 1, "", "MLA latent KV width"),
    M(q_lora_rank, "q_lora_rank", 1, "", "MLA latent query width"),
    M(qk_rope_head_dim, "qk_rope_head_dim", 1, "", "MLA rotary part of a query/key head"),
    M(qk_nope_head_dim, "qk_nope_head_dim", 1, "", "MLA non-rotary part of a query/key head"),
    M(v_head_dim, "v_head_dim", 1, "", "MLA value head width"),
    M(sliding_window, "sliding_window", 1, "tokens", "sliding attention window"),
    M(sliding_layers_per_global, "sliding_layers_per_global", 1, "",
      "sliding layers per full-attention layer (0: all slide)"),
    M(vision_params, "vision_params_b", 1e9, "billion",
      "vision tower + multimodal projector parameters (n/a: text only)"),
    M(file_weight_bytes, "file_weight_bytes", 1, "bytes",
      "exact bytes of the weights as a file stores them"),
    HWS_COL_STR(hws_model_spec, file_weight_type, "checkpoint",
                "quantisation the published checkpoint ships in (MXFP4, FP8; n/a: none)"),
    HWS_COL_STR(hws_model_spec, source, "source", "where the figures come from"),
};

/* The shared shape check (hws_model_shape_check), its fault named by the catalog's column. */
static const char *check_row(const void *row, char *why, size_t n) {
    static const char *const columns[HWS_SHAPE_FIELDS] = {
        [HWS_SHAPE_LAYERS] = "n_layers",
        [HWS_SHAPE_HIDDEN] = "hidden_size",
        [HWS_SHAPE_HEADS] = "n_heads",
        [HWS_SHAPE_KV_HEADS] = "n_kv_heads",
        [HWS_SHAPE_EXPERTS] = "n_experts",
        [HWS_SHAPE_EXPERTS_ACTIVE] = "n_experts_active",
        [HWS_SHAPE_DENSE_LAYERS] = "n_dense_layers",
    };
    hws_shape_field field;
    return hws_model_shape_check(row, &field, why, n) ? NULL : columns[field];
}

const hws_field_table hws_model_spec_table = {
    model_fields, sizeof model_fields / sizeof *model_fields, sizeof(hws_model_spec), check_row};

void hws_model_spec_blank(hws_model_spec *m) {
    hws_record_blank(&hws_model_spec_table, m);
}

static hws_tsv_catalog catalog = {&hws_model_spec_table,
                                  hws_data_models_tsv,
                                  &hws_data_models_tsv_len,
                                  "data/models.tsv",
                                  {0},
                                  false};

hws_status hws_model_catalog_load(const char *user_path, hws_error *err) {
    return hws_tsv_catalog_load(&catalog, user_path, err);
}

const hws_model_spec *hws_model_catalog(size_t *count) {
    return hws_tsv_catalog_rows(&catalog, count);
}

/* Length of name without a trailing variant tag ("-Instruct", "-chat-hf", "-it" ...), which
 * names the same shapes as the base model. */
static size_t base_len(const char *name) {
    static const char *const tags[] = {"-hf", "-chat", "-instruct", "-it", "-base", "-pt"};
    size_t n = strlen(name);
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
            size_t t = strlen(tags[i]);
            if (n > t && strncasecmp(name + n - t, tags[i], t) == 0) {
                n -= t;
                again = true;
            }
        }
    }
    return n;
}

/* Finds name exactly (case-insensitive), then without a Hugging Face "org/" prefix, then with
 * variant tags dropped on both sides ("meta-llama/Llama-2-7b-chat-hf" finds "Llama-2-7B"). */
const hws_model_spec *hws_model_catalog_find(const char *name) {
    size_t count;
    const hws_model_spec *rows = hws_model_catalog(&count);
    if (name == NULL)
        return NULL;
    const char *slash = strrchr(name, '/');
    const char *bare = slash ? slash + 1 : name;
    size_t bare_len = base_len(bare);
    const hws_model_spec *loose = NULL;
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(rows[i].name, name) == 0 || strcasecmp(rows[i].name, bare) == 0)
            return &rows[i];
        if (loose == NULL && base_len(rows[i].name) == bare_len &&
            strncasecmp(rows[i].name, bare, bare_len) == 0)
            loose = &rows[i];
    }
    return loose;
}
