/* llm.h - a decoder-only LLM inference engine (Llama 2/3, Qwen2/2.5, Mistral, Mixtral /
 * Qwen3-MoE shapes) with a CPU and a CUDA backend, used by `hwscope bench llm` to measure prefill
 * and decode tokens/s on this machine and to hold the planner's predictions to them.
 *
 * The forward pass is written once over a small op table (src/engine/llm_backend.h); each
 * backend implements the ops. Weights are seeded random (speed does not depend on values) or
 * read from a Hugging Face folder (safetensors) or a GGUF file.
 *
 * Example (64 tokens of prompt, then 16 greedy decode steps of one sequence):
 *   hws_llm_shape shape; hws_llm_shape_from_spec(spec, &shape, &err);
 *   hws_llm_options opt = hws_llm_options_default();   (CUDA, bf16, batch 1, seed 42)
 *   hws_llm *m; hws_llm_new(&shape, &opt, &m, &err);
 *   hws_llm_prefill(m, 0, prompt, 64, logits, &err);
 *   for (...) { next = argmax(logits); hws_llm_decode(m, 1, &next, logits, &err); }
 *   hws_llm_free(m); */
#ifndef HWSCOPE_LLM_H
#define HWSCOPE_LLM_H

#include "hwscope/hwscope.h"
#include "hwscope/model.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the weights of the linear layers are stored on the device (embeddings and norms stay
 * 16-bit). Group-wise formats keep one scale per group of consecutive input elements. */
typedef enum {
    HWS_LLM_BF16,
    HWS_LLM_FP16,
    HWS_LLM_INT8, /* int8 weight-only, one scale per group */
    HWS_LLM_INT4, /* 4-bit group-wise, dequantised in the kernel */
    HWS_LLM_FORMAT_COUNT
} hws_llm_format;

HWS_API const char *hws_llm_format_name(hws_llm_format f); /* "bf16", "fp16", "int8", "int4" */
/* HWS_ERR_INPUT naming the text when it is no format. */
HWS_API hws_status hws_llm_format_parse(const char *text, hws_llm_format *out, hws_error *err);
/* Bytes per weight of the linear layers in a format, scales included (bf16: 2). */
HWS_API double hws_llm_format_bytes_per_weight(hws_llm_format f);
/* Whether weights in format f are group-wise codes with an FP16 scale per group (int8, int4).
 * The engine then also reads a tied embedding's head through its own copy in f. */
HWS_API int hws_llm_format_grouped(hws_llm_format f);

/* The shape the engine runs: whole numbers, checked. */
typedef struct {
    int n_layers;
    int d_model;
    int n_heads;    /* query heads */
    int n_kv_heads; /* divides n_heads */
    int head_dim;
    int d_ff;  /* dense MLP width (SwiGLU: gate, up, down) */
    int vocab; /* rows of the embedding and of the output head */
    int tie_embeddings;
    /* set by the engine (hws_llm_new, hws_llm_cost): the output head is its own quantised copy
     * of the tied embedding (int8/int4; tie_embeddings is then 0 in the engine's shape) */
    int head_from_embed;
    int qkv_bias;       /* Qwen2: q, k and v projections have biases */
    int sliding_window; /* tokens; 0 when every layer attends to the whole cache */
    /* mixture of experts: 0 when dense */
    int n_experts;      /* routed experts per layer (Mixtral: 8) */
    int n_experts_used; /* experts each token uses (Mixtral: 2) */
    int d_ff_expert;    /* an expert's SwiGLU width */
    float rms_eps;
    float rope_theta;
    /* Llama 3 RoPE scaling; rope_factor 0 when none */
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_original_max_pos;
} hws_llm_shape;

/* The engine's shape of a planner model (catalog row, config.json or GGUF header):
 * HWS_ERR_UNSUPPORTED naming what the engine cannot run (MLA, a non-gated MLP, ...). */
HWS_API hws_status hws_llm_shape_from_spec(const hws_model_spec *m, hws_llm_shape *out,
                                           hws_error *err);
/* The shape of a model file: hws_model_resolve's spec, then the config.json fields the spec does
 * not carry (rope_theta, rms_norm_eps, llama3 rope_scaling, attention_bias, use_sliding_window)
 * when path is (in) a Hugging Face folder. */
HWS_API hws_status hws_llm_shape_from_file(const char *path, hws_llm_shape *out, hws_error *err);
/* HWS_ERR_INPUT naming the field when the shape cannot describe a model. */
HWS_API hws_status hws_llm_shape_check(const hws_llm_shape *s, hws_error *err);

typedef enum { HWS_LLM_CPU, HWS_LLM_CUDA } hws_llm_device;

typedef struct {
    hws_llm_device device;
    int gpu;               /* CUDA device index */
    hws_llm_format format; /* of the linear layers */
    int max_batch;         /* sequences decoded together (1..) */
    int max_ctx;           /* tokens of KV cache per sequence */
    int threads;           /* CPU backend: <= 0 means every usable core */
    uint64_t seed;         /* random weights */
    const char *weights;   /* NULL: random; else a Hugging Face folder or a .gguf file */
} hws_llm_options;

HWS_API hws_llm_options hws_llm_options_default(void);

typedef struct hws_llm hws_llm;

/* Builds the weights (random or read), uploads them in opt->format and allocates the KV cache
 * for max_batch sequences of max_ctx tokens. A model that does not fit is HWS_ERR_INPUT saying
 * how many bytes it needs and how many are free. */
HWS_API hws_status hws_llm_new(const hws_llm_shape *shape, const hws_llm_options *opt,
                               hws_llm **out, hws_error *err);
HWS_API void hws_llm_free(hws_llm *m);

/* Runs n tokens of sequence seq through the model, appending to its KV cache; logits (vocab
 * floats, may be NULL) receives the last token's. Returns when the work is done. */
HWS_API hws_status hws_llm_prefill(hws_llm *m, int seq, const int32_t *tokens, int n, float *logits,
                                   hws_error *err);
/* One decode step of sequences 0..batch-1, token tokens[b] for sequence b; logits (batch*vocab
 * floats, may be NULL) receives each next-token distribution. Returns when the work is done. */
HWS_API hws_status hws_llm_decode(hws_llm *m, int batch, const int32_t *tokens, float *logits,
                                  hws_error *err);
/* Mixture of experts: the experts row `row` of the last forward pass chose in each layer
 * (experts[layer * n_experts_used + j], best first; n_layers * n_experts_used values): the last
 * prefill's rows are its last chunk's (at most 512 tokens, row r the chunk's r-th), a decode
 * step's are its sequences. HWS_ERR_INPUT for a dense model or a row that pass did not have
 * (none before a pass, or after one that failed). So a reference can be run on the same routing
 * as the engine. */
HWS_API hws_status hws_llm_routes(hws_llm *m, int row, int32_t *experts, hws_error *err);
/* Sets every sequence's cache length to len tokens (0: empty), so a benchmark repeats a run. */
HWS_API hws_status hws_llm_truncate(hws_llm *m, int len, hws_error *err);

/* What a run costs, for the bound beside each speed. */
typedef struct {
    double weight_bytes;           /* all weights as stored on the device */
    double decode_bytes_per_token; /* weights read per decode step (MoE: the routed experts
                                    * max_batch rows read, n (1 - (1 - k/n)^max_batch) of n
                                    * when each picks k uniformly), KV cache excluded */
    double kv_bytes_per_token;     /* KV cache bytes one token adds (all layers) */
    double flops_per_token;        /* matrix products, 2 per multiply-add, attention excluded */
    double device_bytes_peak;      /* device memory the engine holds (weights, cache, scratch) */
    char device_name[128];         /* "NVIDIA H100 80GB HBM3", or the CPU model */
    char backend[128];             /* "cuda (cuBLASLt + own kernels, CUDA Graph decode)", ... */
} hws_llm_info;

HWS_API void hws_llm_get_info(const hws_llm *m, hws_llm_info *out);
/* The byte and FLOP counts of hws_llm_info (weight_bytes, decode_bytes_per_token,
 * kv_bytes_per_token at 16 bits, flops_per_token) of a shape in a format, decoding max_batch
 * sequences, without building the model; names and peak left empty. */
HWS_API void hws_llm_cost(const hws_llm_shape *s, hws_llm_format f, int max_batch,
                          hws_llm_info *out);

/* Where a decode step's time goes: each op run alone and timed (CUDA events), summed by kind. */
#define HWS_LLM_OP_KINDS 11
typedef struct {
    double ms[HWS_LLM_OP_KINDS];    /* milliseconds of the step in ops of each kind */
    double bytes[HWS_LLM_OP_KINDS]; /* weight bytes those ops read (linear kinds and logits) */
    int count[HWS_LLM_OP_KINDS];    /* ops of each kind */
} hws_llm_profile;

/* "embed", "rmsnorm", "linear_qkv", "linear_o", "linear_gate_up", "linear_down", "rope_cache",
 * "attention", "swiglu", "logits", "route" (MoE: the router and the choice of experts; the
 * experts' products count as linear_gate_up and linear_down). */
HWS_API const char *hws_llm_op_kind_name(int kind);
/* One decode step like hws_llm_decode (the caches advance), op by op, timed into out;
 * HWS_ERR_UNSUPPORTED on a backend that cannot time its ops (the CPU). */
HWS_API hws_status hws_llm_profile_decode(hws_llm *m, int batch, const int32_t *tokens,
                                          hws_llm_profile *out, hws_error *err);
/* The same for hws_llm_prefill of n tokens of sequence seq. */
HWS_API hws_status hws_llm_profile_prefill(hws_llm *m, int seq, const int32_t *tokens, int n,
                                           hws_llm_profile *out, hws_error *err);

#ifdef __cplusplus
}
#endif

#endif
