/* model.h - the shape of a language model as the planner needs it: the fields of a Hugging Face
 * config.json, normalised, plus exact weight bytes when a file gave them.
 *
 * Models come from the built-in catalog (data/models.tsv), a user catalog file, a Hugging Face
 * config.json (with model.safetensors.index.json beside it for the exact size) or a GGUF file's
 * header. Unknown numbers are HWS_NA. */
#ifndef HWSCOPE_MODEL_H
#define HWSCOPE_MODEL_H

#include "hwscope/fields.h"
#include "hwscope/hwscope.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[64];           /* "Llama-2-70B" */
    char family[32];         /* "llama", "mixtral", "qwen2", "deepseek_v3", "gemma3" ... */
    char source[256];        /* where the figures come from (URL of config.json, file path) */
    double params_published; /* parameter count the authors publish; NA if none */
    double hidden_size;      /* d_model */
    double n_layers;
    double n_heads;           /* query heads */
    double n_kv_heads;        /* key/value heads: = n_heads MHA, < n_heads GQA, 1 MQA */
    double head_dim;          /* per head; hidden_size / n_heads unless the config says */
    double intermediate_size; /* dense MLP width */
    double vocab_size;
    double max_context; /* max_position_embeddings */
    int tie_embeddings; /* 1 when the output head shares the embedding matrix */
    int gated_mlp;      /* 1 for SwiGLU/GeGLU (3 matrices), 0 for 2-matrix MLPs */
    /* mixture of experts (NA when dense) */
    double n_experts;        /* routed experts per MoE layer */
    double n_experts_active; /* routed experts used per token */
    double n_shared_experts;
    double moe_intermediate_size;
    double n_dense_layers; /* leading layers with a dense MLP (DeepSeek first_k_dense_replace) */
    double moe_layer_step; /* after those, layer i is MoE when (i + 1) % step == 0 (Llama 4
                            * interleave_moe_layer_step: Maverick 2, Scout 1; Qwen MoE
                            * decoder_sparse_step); NA or 1: every layer */
    /* multi-head latent attention (DeepSeek-V2/V3; NA otherwise) */
    double kv_lora_rank;
    double q_lora_rank;
    double qk_rope_head_dim;
    double qk_nope_head_dim;
    double v_head_dim;
    /* sliding-window attention (NA when none) */
    double sliding_window;            /* tokens */
    double sliding_layers_per_global; /* e.g. 5 for Gemma 3 (5 local : 1 global); 0 = all sliding */
    /* vision-language models: parameters of the vision tower (ViT layers, patch and position
     * embeddings, its adapter) and the multimodal projector into the text model; NA when text
     * only. Counted in the total and in memory, never read per decoded text token. */
    double vision_params;
    /* from a file: exact bytes of the weights as stored (safetensors index total_size or the
     * GGUF tensor table), NA for catalog models */
    double file_weight_bytes;
    char file_weight_type[16]; /* "BF16", "Q4_K_M" ... as the file states */
    /* what the reader guessed and the user should know ("" when nothing, "; "-separated): a
     * config with no hidden_act read as an ungated MLP, a vision tower estimated or left out */
    char warning[512];
} hws_model_spec;

/* The fields of hws_model_spec: the catalog's columns (data/models.tsv) and the file facts. */
extern HWS_API const hws_field_table hws_model_spec_table;

HWS_API hws_status hws_model_catalog_load(const char *user_path, hws_error *err);
HWS_API const hws_model_spec *hws_model_catalog(size_t *count);
HWS_API const hws_model_spec *hws_model_catalog_find(const char *name);
/* Reads a config.json (and model.safetensors.index.json beside it when present). */
HWS_API hws_status hws_model_from_hf_config(const char *path, hws_model_spec *out, hws_error *err);
/* Reads a GGUF file's header: metadata and tensor table (exact bytes per tensor). */
HWS_API hws_status hws_model_from_gguf(const char *path, hws_model_spec *out, hws_error *err);
/* MODEL argument of plan/advise: a catalog name, a config.json path (or a folder holding one),
 * or a .gguf file. */
HWS_API hws_status hws_model_resolve(const char *arg, hws_model_spec *out, hws_error *err);
/* Parameter count computed from the shapes (all experts and the vision tower counted). */
HWS_API double hws_model_params(const hws_model_spec *m);
/* Parameters used per decoded token (MoE: shared + active experts only; dense: all but the
 * embedding lookup count as read; a vision tower is not). */
HWS_API double hws_model_active_params(const hws_model_spec *m);

#ifdef __cplusplus
}
#endif

#endif
