/* llm_backend.h - what an LLM backend implements: a small op table over named activation buffers
 * and named weights, plus the calls around it (create, weights in, rows in, logits out). The
 * forward pass (llm.c) is written once over the ops; the CPU backend runs them as they come, the
 * CUDA backend may capture a decode step into a CUDA Graph and replay it.
 *
 * Rows: a run processes `rows` tokens; row r is token tokens[r] of sequence seq[r] at position
 * pos[r] (set_rows). Decode: row b is sequence b. Prefill: every row is one sequence, positions
 * in order. Every op reads positions from the backend's copy, so a captured graph is replayed
 * for another step by set_rows alone.
 *
 * Weights: the linear layers ([out, in] row-major, y = W x) are stored in the model's format;
 * embeddings, norms and biases in 16-bit (CPU: float). q, k and v are one matrix (rows q then k
 * then v), gate and up are one (rows gate then up).
 *
 * Mixture of experts (n_experts > 0, Mixtral): the dense gate/up and down are absent; a router
 * [n_experts, d_model] gives each row's expert logits, route keeps the n_experts_used best
 * (softmax over those), and the experts' weights are one stacked matrix each (expert e's rows
 * at e * rows-per-expert), of which only the chosen experts' rows are read. The FFN buffers hold
 * one slot per chosen expert: GU is [rows, slots, 2 ffn] and ACT [rows, slots, ffn]. */
#ifndef HWSCOPE_ENGINE_LLM_BACKEND_H
#define HWSCOPE_ENGINE_LLM_BACKEND_H

#include "hwscope/llm.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Activation buffers, [rows, width]. */
typedef enum {
    HWS_LLM_BUF_X,      /* [rows, d_model] residual stream (float) */
    HWS_LLM_BUF_H,      /* [rows, d_model] normed residual (the linear layers' input) */
    HWS_LLM_BUF_QKV,    /* [rows, (n_heads + 2 n_kv_heads) head_dim] (float) */
    HWS_LLM_BUF_ATT,    /* [rows, n_heads head_dim] attention output */
    HWS_LLM_BUF_GU,     /* [rows, slots, 2 ffn] gate then up (float) */
    HWS_LLM_BUF_ACT,    /* [rows, slots, ffn] silu(gate) * up */
    HWS_LLM_BUF_ROUTER, /* [rows, n_experts] router logits (float; MoE only) */
    HWS_LLM_BUF_COUNT
} hws_llm_buf;

/* Width of one FFN (a dense MLP's d_ff, an expert's d_ff_expert) and the FFN slots of a row (1,
 * or the experts each token uses). */
static inline int hws_llm_ffn_width(const hws_llm_shape *s) {
    return s->n_experts > 0 ? s->d_ff_expert : s->d_ff;
}
static inline int hws_llm_ffn_slots(const hws_llm_shape *s) {
    return s->n_experts > 0 ? s->n_experts_used : 1;
}

/* Floats (elements) per row of a buffer. */
static inline int hws_llm_buf_width(const hws_llm_shape *s, hws_llm_buf b) {
    switch (b) {
    case HWS_LLM_BUF_QKV:
        return (s->n_heads + 2 * s->n_kv_heads) * s->head_dim;
    case HWS_LLM_BUF_ATT:
        return s->n_heads * s->head_dim;
    case HWS_LLM_BUF_GU:
        return 2 * hws_llm_ffn_width(s) * hws_llm_ffn_slots(s);
    case HWS_LLM_BUF_ACT:
        return hws_llm_ffn_width(s) * hws_llm_ffn_slots(s);
    case HWS_LLM_BUF_ROUTER:
        return s->n_experts;
    default:
        return s->d_model;
    }
}

/* Weights: per layer (layer >= 0) or global (layer -1). */
typedef enum {
    HWS_LLM_W_ATTN_NORM,   /* [d_model] */
    HWS_LLM_W_QKV,         /* [(n_heads + 2 n_kv_heads) head_dim, d_model], linear */
    HWS_LLM_B_QKV,         /* [(n_heads + 2 n_kv_heads) head_dim] (qkv_bias only) */
    HWS_LLM_W_O,           /* [d_model, n_heads head_dim], linear */
    HWS_LLM_W_FFN_NORM,    /* [d_model] */
    HWS_LLM_W_GATE_UP,     /* [2 d_ff, d_model], linear (dense only) */
    HWS_LLM_W_DOWN,        /* [d_model, d_ff], linear (dense only) */
    HWS_LLM_W_ROUTER,      /* [n_experts, d_model], linear (MoE only) */
    HWS_LLM_W_EXP_GATE_UP, /* [n_experts 2 d_ff_expert, d_model], linear: per expert gate, up */
    HWS_LLM_W_EXP_DOWN,    /* [n_experts d_model, d_ff_expert], linear */
    HWS_LLM_W_EMBED,       /* global [vocab, d_model] */
    HWS_LLM_W_OUT_NORM,    /* global [d_model] */
    HWS_LLM_W_OUTPUT,      /* global [vocab, d_model], linear; absent when tie_embeddings */
    HWS_LLM_W_COUNT
} hws_llm_weight;

/* Rows (out) and columns (in) of a weight; a vector is 1 x n. 0 when the shape has none.
 * (Inline: the CUDA module links nothing of libhwscope.) */
static inline void hws_llm_weight_dims(const hws_llm_shape *s, hws_llm_weight w, int *rows,
                                       int *cols) {
    int qkv = (s->n_heads + 2 * s->n_kv_heads) * s->head_dim;
    int r = 1, c = s->d_model, moe = s->n_experts > 0, ne = s->n_experts;
    switch (w) {
    case HWS_LLM_W_QKV:
        r = qkv;
        break;
    case HWS_LLM_B_QKV:
        c = s->qkv_bias ? qkv : 0;
        break;
    case HWS_LLM_W_O:
        r = s->d_model;
        c = s->n_heads * s->head_dim;
        break;
    case HWS_LLM_W_GATE_UP:
        r = moe ? 0 : 2 * s->d_ff;
        break;
    case HWS_LLM_W_DOWN:
        r = moe ? 0 : s->d_model;
        c = s->d_ff;
        break;
    case HWS_LLM_W_ROUTER:
        r = ne;
        break;
    case HWS_LLM_W_EXP_GATE_UP:
        r = ne * 2 * s->d_ff_expert;
        break;
    case HWS_LLM_W_EXP_DOWN:
        r = ne * s->d_model;
        c = s->d_ff_expert;
        break;
    case HWS_LLM_W_EMBED:
        r = s->vocab;
        break;
    case HWS_LLM_W_OUTPUT:
        r = s->tie_embeddings ? 0 : s->vocab;
        break;
    default: /* norms */
        break;
    }
    *rows = c ? r : 0;
    *cols = r ? c : 0;
}

/* 1 when the weight is a linear layer (stored in the model's format). */
static inline int hws_llm_weight_is_linear(hws_llm_weight w) {
    return w == HWS_LLM_W_QKV || w == HWS_LLM_W_O || w == HWS_LLM_W_GATE_UP ||
           w == HWS_LLM_W_DOWN || w == HWS_LLM_W_OUTPUT || w == HWS_LLM_W_ROUTER ||
           w == HWS_LLM_W_EXP_GATE_UP || w == HWS_LLM_W_EXP_DOWN;
}

/* 1 when the weight is the experts' stack (rows = n_experts x rows per expert). */
static inline int hws_llm_weight_is_experts(hws_llm_weight w) {
    return w == HWS_LLM_W_EXP_GATE_UP || w == HWS_LLM_W_EXP_DOWN;
}

/* Elements of the largest weight (a buffer for any one of them). */
static inline size_t hws_llm_largest_weight(const hws_llm_shape *s) {
    size_t biggest = 0;
    for (int w = 0; w < HWS_LLM_W_COUNT; w++) {
        int r, c;
        hws_llm_weight_dims(s, (hws_llm_weight)w, &r, &c);
        biggest = (size_t)r * c > biggest ? (size_t)r * c : biggest;
    }
    return biggest;
}

/* The seed of a weight's random values (a function of the model seed, layer and weight). */
uint64_t hws_llm_weight_seed(uint64_t seed, int layer, hws_llm_weight w);
/* Random init of a weight: value = offset + scale * uniform(-1, 1). */
void hws_llm_weight_init(const hws_llm_shape *s, hws_llm_weight w, float *scale, float *offset);

/* RoPE inverse frequencies (head_dim / 2 floats) with llama3 scaling applied. */
void hws_llm_rope_freqs(const hws_llm_shape *s, float *inv_freq);

typedef struct {
    /* X[r] = embedding row tokens[r] */
    hws_status (*embed)(void *ctx, int rows, hws_error *err);
    /* H = RMSNorm(X) * weight w of layer */
    hws_status (*rmsnorm)(void *ctx, int layer, hws_llm_weight w, int rows, hws_error *err);
    /* y[rows, out] (= or +=, accumulate) x[rows, in] W^T for linear weight w of layer */
    hws_status (*linear)(void *ctx, hws_llm_buf y, hws_llm_buf x, int rows, int layer,
                         hws_llm_weight w, int accumulate, hws_error *err);
    /* QKV of layer: bias added (qkv_bias), RoPE on q and k at pos[r], k and v written into the
     * cache of seq[r] at pos[r] */
    hws_status (*rope_cache)(void *ctx, int layer, int rows, hws_error *err);
    /* ATT[r] = softmax(q k^T / sqrt(head_dim)) v over the cache of seq[r], positions up to
     * pos[r] (and after pos[r] - sliding_window) */
    hws_status (*attention)(void *ctx, int layer, int rows, hws_error *err);
    /* ACT = silu(gate) * up of each FFN slot of GU (1 slot, or n_experts_used) */
    hws_status (*swiglu)(void *ctx, int rows, hws_error *err);
    /* logits of rows row0..row0+n-1: output head over RMSNorm(X) */
    hws_status (*logits)(void *ctx, int row0, int n, hws_error *err);
    /* MoE: from the ROUTER logits of each row, the n_experts_used best experts (ties: the lower
     * index) and their weights (softmax over the chosen logits), kept by the backend for
     * experts (hws_llm_route_row); the chosen experts are also kept per layer, for get_routes,
     * so every layer's choice of the last forward pass can be read after it */
    hws_status (*route)(void *ctx, int layer, int rows, hws_error *err);
    /* MoE, w = HWS_LLM_W_EXP_GATE_UP: GU[r, slot j] = W_e H[r] for e the row's j-th expert;
     * w = HWS_LLM_W_EXP_DOWN: X[r] += sum over j of p[r, j] W_e ACT[r, slot j]. Reads only the
     * chosen experts' rows (a batch: their union). */
    hws_status (*experts)(void *ctx, int layer, hws_llm_weight w, int rows, hws_error *err);
} hws_llm_ops;

typedef hws_status (*hws_llm_forward_fn)(void *arg, hws_error *err);

/* A backend. The CUDA module returns one from "hws_llm_cuda_get_api" with abi set. */
#define HWS_LLM_BACKEND_ABI 4
typedef struct {
    int abi;
    const hws_llm_ops *ops;
    /* Allocates weights (uninitialised), the KV cache for max_batch x max_ctx tokens and
     * activations for max_rows rows; fills info's byte counts and names. */
    hws_status (*create)(const hws_llm_shape *s, const hws_llm_options *o, int max_rows,
                         const float *rope_inv_freq, void **ctx, hws_llm_info *info,
                         hws_error *err);
    /* Weight w of layer from floats (rows x cols of hws_llm_weight_dims), converted to its
     * storage. */
    hws_status (*set_weight)(void *ctx, int layer, hws_llm_weight w, const float *data,
                             hws_error *err);
    /* Weight w of layer filled with offset + scale * hws_llm_uniform(i, seed), converted. */
    hws_status (*fill_weight)(void *ctx, int layer, hws_llm_weight w, uint64_t seed, float scale,
                              float offset, hws_error *err);
    hws_status (*set_rows)(void *ctx, int rows, const int32_t *tokens, const int32_t *seq,
                           const int32_t *pos, hws_error *err);
    /* Runs fn(arg), which calls ops for `rows` rows. With graph != 0 the backend may capture
     * the calls once per (rows) and replay them for later steps instead of calling fn. */
    hws_status (*run)(void *ctx, int rows, int graph, hws_llm_forward_fn fn, void *arg,
                      hws_error *err);
    /* n rows of logits (vocab floats each) from the last logits op. */
    hws_status (*get_logits)(void *ctx, int n, float *out, hws_error *err);
    /* MoE: out[layer * k + j]: the j-th expert row chose in each layer of the last forward
     * pass (k = n_experts_used; row < that pass's rows, checked by the caller). */
    hws_status (*get_routes)(void *ctx, int row, int32_t *out, hws_error *err);
    /* Optional (NULL: none): on = 1 times each op alone from now; on = 0 stops and fills out. */
    hws_status (*profile)(void *ctx, int on, hws_llm_profile *out, hws_error *err);
    void (*destroy)(void *ctx);
} hws_llm_backend;

typedef const hws_llm_backend *(*hws_llm_cuda_get_api_fn)(void);

extern const hws_llm_backend hws_llm_cpu_backend;

#ifdef __cplusplus
}
#endif

#endif
