/* memory.c - the memory a model needs on a GPU: weights at a format's real bits per weight, KV
 * cache (MHA/GQA/MQA, MLA, sliding windows) for context x batch, the activation peak of one
 * prefill chunk, and the CUDA context and runtime overheads, each with its basis stated. */
#include "hwscope/plan.h"

#include "hwscope/gguf.h"
#include "hwscope/llm.h"
#include "plan/engine_format.h"
#include "plan/shape.h"
#include "util/units.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Weight formats. bits_per_weight is what the format really stores per weight of the blocks,
 * scales and zero points included; embed_bits is what it keeps the embeddings and head in.
 * GGUF types come from gguf.h (llama.cpp's file types), see gguf_format. */
static const hws_weight_format weight_formats[] = {
    {"fp32", 32.0, 32.0, 32.0, "fp32", 0, "IEEE single precision"},
    {"fp16", 16.0, 16.0, 16.0, "fp16", 0, "IEEE half precision"},
    {"bf16", 16.0, 16.0, 16.0, "bf16", 0, "bfloat16, the usual checkpoint format"},
    {"fp8", 8.0, 16.0, 16.0, "fp8", 0, "FP8 E4M3 per-tensor scale; embeddings and head in BF16"},
    {"fp8-block", 8.0 + 32.0 / (128.0 * 128.0), 16.0, 16.0, "fp8", 0,
     "FP8 E4M3, one FP32 scale per 128x128 block (DeepSeek-V3/R1 checkpoints); embeddings and "
     "head in BF16"},
    {"int8", 8.0 + 16.0 / 4096.0, 16.0, 16.0, "int8", 0,
     "INT8 per-channel FP16 scale (W8A8/LLM.int8); embeddings and head in FP16"},
    {"int4", 4.0 + 16.0 / 128.0 + 4.0 / 128.0, 16.0, 16.0, "fp16", 0,
     "group-wise INT4 (AWQ/GPTQ, group 128, FP16 scale + 4-bit zero); embeddings/head FP16"},
    {"nf4", 4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0), 16.0, 16.0, "bf16", 0,
     "bitsandbytes NF4, block 64, double-quantised absmax; embeddings/head BF16"},
    {"fp4", 4.0 + 8.0 / 16.0, 16.0, 16.0, "fp4", 0,
     "NVFP4: E2M1, FP8 scale per 16; embeddings BF16"},
    {"mxfp4", 4.0 + 8.0 / 32.0, 16.0, 16.0, "fp4", 0,
     "MXFP4: E2M1, E8M0 scale per 32; embeddings and head BF16"},
    {"int4-bare", 4.0, 4.0, 4.0, "fp16", 0,
     "4 bits per weight and nothing else, embeddings too (the textbook 'params / 2')"},
};

/* Other names people use for the same formats. */
static const struct {
    const char *alias, *name;
} weight_aliases[] = {
    {"float32", "fp32"},   {"f32", "fp32"},    {"float16", "fp16"}, {"half", "fp16"},
    {"bfloat16", "bf16"},  {"e4m3", "fp8"},    {"awq", "int4"},     {"gptq", "int4"},
    {"w4a16", "int4"},     {"w8a8", "int8"},   {"nvfp4", "fp4"},    {"q4", "int4-bare"},
    {"4bit", "int4-bare"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"},  {"Q3_K", "Q3_K_M"},
};

/* GGUF file types (llama.cpp's quantize mixes). gguf.h gives each one's whole-file bits per
 * weight as llama.cpp measured it on Llama-3-8B (8,030,261,248 weights, of which the output head
 * is 128256 x 4096), with the head in Q6_K (6.5625 bits) for every type below Q6_K. Taking that
 * head out gives the bits of the blocks and input embedding, which then carry over to a model of
 * any shape: LLaMA-2-70B Q4_K_M comes to 41.3 GB, its real file is 41.4 GB. */
#define REF_WEIGHTS  8030261248.0
#define REF_HEAD     (128256.0 * 4096.0)
#define GGUF_HEAD_Q6 6.5625
#define GGUF_TYPES   64

/* Filled once (gguf_formats_fill, under pthread_once), then only read: lookups from several
 * threads see one table, and nothing is written on a lookup. */
static hws_weight_format gguf_formats[GGUF_TYPES];
static pthread_once_t gguf_formats_once = PTHREAD_ONCE_INIT;

static void gguf_formats_fill(void) {
    for (int id = 0; id < GGUF_TYPES; id++) {
        double avg = hws_gguf_file_type_bits_per_weight(id);
        if (!hws_known(avg) || hws_gguf_file_type_name(id) == NULL)
            continue;
        hws_weight_format *f = &gguf_formats[id];
        double head = avg >= GGUF_HEAD_Q6 ? avg : GGUF_HEAD_Q6;
        f->name = hws_gguf_file_type_name(id);
        f->bits_per_weight = (avg * REF_WEIGHTS - head * REF_HEAD) / (REF_WEIGHTS - REF_HEAD);
        f->embed_bits = f->bits_per_weight;
        f->head_bits = head;
        f->compute = "fp16";
        f->gguf = 1;
        f->note = "GGUF (llama.cpp) file type; bits from gguf.h, output head in Q6_K";
    }
}

static const hws_weight_format *gguf_format(const char *name) {
    pthread_once(&gguf_formats_once, gguf_formats_fill);
    int id = hws_gguf_file_type_from_name(name);
    if (id < 0 || id >= GGUF_TYPES || gguf_formats[id].name == NULL)
        return NULL;
    return &gguf_formats[id];
}

const hws_weight_format *hws_weight_formats(size_t *count) {
    *count = sizeof weight_formats / sizeof weight_formats[0];
    return weight_formats;
}

const hws_weight_format *hws_weight_format_find(const char *name) {
    size_t n = sizeof weight_formats / sizeof weight_formats[0];
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof weight_aliases / sizeof weight_aliases[0]; i++)
        if (strcasecmp(name, weight_aliases[i].alias) == 0)
            name = weight_aliases[i].name;
    /* the lower-case precision names win over GGUF's F16/BF16 */
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(name, weight_formats[i].name) == 0)
            return &weight_formats[i];
    return gguf_format(name);
}

static const hws_kv_format kv_formats[] = {
    {"fp16", 2.0, "FP16 (vLLM's 'auto' for FP16 models; llama.cpp f16)"},
    {"bf16", 2.0, "BF16 (vLLM's 'auto' for BF16 models)"},
    {"fp32", 4.0, "FP32"},
    {"fp8", 1.0, "FP8 E4M3/E5M2 (vLLM kv_cache_dtype=fp8)"},
    {"q8_0", 34.0 / 32.0, "llama.cpp q8_0: 32 INT8 + FP16 scale"},
    {"q4_0", 18.0 / 32.0, "llama.cpp q4_0: 32 4-bit + FP16 scale"},
    {"q4", 18.0 / 32.0, "4-bit KV, as llama.cpp's q4_0 (4.5 bits)"},
    {"int4", 18.0 / 32.0, "4-bit KV, as llama.cpp's q4_0 (4.5 bits)"},
};

const hws_kv_format *hws_kv_format_find(const char *name) {
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof kv_formats / sizeof kv_formats[0]; i++)
        if (strcasecmp(name, kv_formats[i].name) == 0)
            return &kv_formats[i];
    return NULL;
}

static const char *const runtime_names[HWS_RUNTIME_COUNT] = {"transformers", "vllm", "llama.cpp",
                                                             "hwscope"};

const char *hws_runtime_name(hws_runtime rt) {
    return rt < HWS_RUNTIME_COUNT ? runtime_names[rt] : "unknown";
}

int hws_runtime_parse(const char *name) {
    for (int i = 0; i < HWS_RUNTIME_COUNT; i++)
        if (strcasecmp(name, runtime_names[i]) == 0)
            return i;
    if (strcasecmp(name, "hf") == 0)
        return HWS_RUNTIME_TRANSFORMERS;
    if (strcasecmp(name, "llamacpp") == 0 || strcasecmp(name, "llama-cpp") == 0)
        return HWS_RUNTIME_LLAMACPP;
    return -1;
}

void hws_plan_opts_default(hws_plan_opts *o) {
    memset(o, 0, sizeof *o);
    o->weights = NULL;
    o->kv = hws_kv_format_find("fp16");
    o->ctx_tokens = HWS_PLAN_DEFAULT_CTX;
    o->batch = 1;
    o->prompt_tokens = 512; /* llama-bench's pp512 */
    o->gen_tokens = 128;    /* llama-bench's tg128 */
    o->runtime = HWS_RUNTIME_TRANSFORMERS;
    o->vllm_gpu_mem_util = 0.90;
    o->depth_tokens = HWS_NA;
}

double hws_plan_default_ctx(const hws_model_spec *m) {
    if (hws_known(m->max_context) && m->max_context < HWS_PLAN_DEFAULT_CTX)
        return m->max_context;
    return HWS_PLAN_DEFAULT_CTX;
}

/* ---- KV cache --------------------------------------------------------------------------- */

static int is_mla(const hws_model_spec *m) {
    return hws_known(m->kv_lora_rank) && m->kv_lora_rank > 0;
}

double hws_kv_layer_bytes_per_token(const hws_model_spec *m, double kv_bytes_per_elem) {
    if (is_mla(m)) /* DeepSeek MLA caches the compressed latent plus the shared RoPE key */
        return (m->kv_lora_rank + (hws_known(m->qk_rope_head_dim) ? m->qk_rope_head_dim : 0)) *
               kv_bytes_per_elem;
    double kv = hws_known(m->n_kv_heads) && m->n_kv_heads > 0 ? m->n_kv_heads : m->n_heads;
    return 2.0 * kv * hws_shape_head_dim(m) * kv_bytes_per_elem;
}

double hws_kv_layer_tokens(const hws_model_spec *m, int layer, double ctx) {
    if (!hws_known(m->sliding_window) || m->sliding_window <= 0 || m->sliding_window >= ctx)
        return ctx;
    double k = m->sliding_layers_per_global;
    /* k local layers then one global (Gemma 3: k = 5, layers 5, 11, ... are global); k = 0 or
     * unknown: every layer slides (Mistral 7B v0.1) */
    if (hws_known(k) && k > 0 && (layer + 1) % ((int)k + 1) == 0)
        return ctx;
    return m->sliding_window;
}

double hws_kv_runtime_bytes_per_token(const hws_model_spec *m, const hws_plan_opts *o) {
    if (is_mla(m) && o->runtime == HWS_RUNTIME_TRANSFORMERS) {
        double nope = hws_known(m->qk_nope_head_dim) ? m->qk_nope_head_dim : 0;
        double rope = hws_known(m->qk_rope_head_dim) ? m->qk_rope_head_dim : 0;
        double v = hws_known(m->v_head_dim) ? m->v_head_dim : nope;
        return m->n_heads * (nope + rope + v) * o->kv->bytes_per_elem;
    }
    return hws_kv_layer_bytes_per_token(m, o->kv->bytes_per_elem);
}

/* Whether every layer slides (no global layer between them). */
static int all_sliding(const hws_model_spec *m) {
    return !hws_known(m->sliding_layers_per_global) || m->sliding_layers_per_global <= 0;
}

double hws_kv_runtime_tokens(const hws_model_spec *m, const hws_plan_opts *o, int layer,
                             double ctx) {
    if (o->runtime == HWS_RUNTIME_LLAMACPP && all_sliding(m))
        return ctx;
    return hws_kv_layer_tokens(m, layer, ctx);
}

double hws_kv_layer_bytes(const hws_model_spec *m, const hws_plan_opts *o, int layer) {
    return hws_kv_runtime_bytes_per_token(m, o) *
           hws_kv_runtime_tokens(m, o, layer, o->ctx_tokens) * o->batch;
}

static double kv_total(const hws_model_spec *m, const hws_plan_opts *o) {
    double sum = 0;
    for (int i = 0; i < (int)m->n_layers; i++)
        sum += hws_kv_layer_bytes(m, o, i);
    return sum;
}

static void kv_basis(const hws_model_spec *m, const hws_plan_opts *o, char *buf, size_t n) {
    int len;
    double kv = hws_known(m->n_kv_heads) && m->n_kv_heads > 0 ? m->n_kv_heads : m->n_heads;
    if (is_mla(m) && o->runtime == HWS_RUNTIME_TRANSFORMERS)
        len = snprintf(buf, n,
                       "MLA, transformers caches full K and V: %.0f heads x (%.0f + %.0f + %.0f) "
                       "x %.0f layers x %g B",
                       m->n_heads, m->qk_nope_head_dim, m->qk_rope_head_dim, m->v_head_dim,
                       m->n_layers, o->kv->bytes_per_elem);
    else if (is_mla(m))
        len = snprintf(buf, n, "MLA: (kv_lora_rank %.0f + rope %.0f) x %.0f layers x %g B",
                       m->kv_lora_rank, m->qk_rope_head_dim, m->n_layers, o->kv->bytes_per_elem);
    else
        len = snprintf(buf, n, "%s: 2 x %.0f layers x %.0f kv_heads x %.0f head_dim x %g B",
                       kv == m->n_heads ? "MHA" : (kv == 1 ? "MQA" : "GQA"), m->n_layers, kv,
                       hws_shape_head_dim(m), o->kv->bytes_per_elem);
    len += snprintf(buf + len, n - (size_t)len, " (%s) per token x %.0f ctx x %.0f batch",
                    o->kv->name, o->ctx_tokens, o->batch);
    if (hws_known(m->sliding_window) && m->sliding_window > 0 &&
        m->sliding_window < o->ctx_tokens) {
        if (o->runtime == HWS_RUNTIME_LLAMACPP && all_sliding(m))
            snprintf(buf + len, n - (size_t)len,
                     "; llama.cpp keeps the whole context (no SWA cache for every-layer windows)");
        else
            snprintf(buf + len, n - (size_t)len, "; sliding layers keep %.0f", m->sliding_window);
    }
}

/* ---- overheads and activations ---------------------------------------------------------- */

/* Per-runtime constants, each stated. */
static const struct {
    double cuda_context_bytes; /* CUDA context + cuBLAS/cuDNN handles, per GPU */
    double runtime_bytes;      /* the runtime's own, per GPU */
    double chunk_tokens;       /* tokens prefilled at once (NA: the whole prompt x batch) */
    double act_elem_bytes;     /* bytes per activation element */
    const char *basis;
} runtime_mem[HWS_RUNTIME_COUNT] = {
    [HWS_RUNTIME_TRANSFORMERS] = {0.72 * HWS_GIB, 0.35 * HWS_GIB, HWS_NA, 2.0,
                                  "CUDA context + cuBLAS 0.72 GiB and caching-allocator slack "
                                  "0.35 GiB (measured, PyTorch 2.11 on H100); whole prompt "
                                  "prefilled at once"},
    [HWS_RUNTIME_VLLM] = {0.72 * HWS_GIB, 0.50 * HWS_GIB, 8192, 2.0,
                          "CUDA context 0.72 GiB (PyTorch), CUDA graphs 0.50 GiB; only "
                          "gpu_memory_utilization x total is usable; 8192-token prefill chunks "
                          "(max_num_batched_tokens)"},
    [HWS_RUNTIME_LLAMACPP] = {0.30 * HWS_GIB, 0.0, 512, 4.0,
                              "CUDA context + cuBLAS 0.30 GiB; compute buffer for n_ubatch 512 "
                              "(FP32 activations, flash attention on)"},
    [HWS_RUNTIME_HWSCOPE] = {0.50 * HWS_GIB, 0.10 * HWS_GIB, HWS_NA, 2.0,
                             "CUDA context + cuBLASLt 0.50 GiB, decode scratch and graph 0.10 "
                             "GiB (estimates; bench llm reports its own peak); whole prompt "
                             "prefilled at once"},
};

static double moe_width(const hws_model_spec *m) {
    double w = m->intermediate_size;
    if (hws_known(m->n_experts) && m->n_experts > 0) {
        double e = (hws_known(m->n_experts_active) ? m->n_experts_active : 1) +
                   (hws_known(m->n_shared_experts) ? m->n_shared_experts : 0);
        double per = hws_known(m->moe_intermediate_size) ? m->moe_intermediate_size : w;
        if (e * per > w)
            w = e * per;
    }
    return w;
}

/* Peak of one prefill chunk: residual, normed input, attention output and q/k/v (about 4 x
 * hidden), the MLP's gate, up and product (3 x width), at the runtime's element size, plus the
 * FP32 logits of the last token of each sequence. Flash/SDPA attention: no ctx^2 score matrix. */
static void activations(const hws_model_spec *m, const hws_plan_opts *o, hws_memory *mem) {
    double chunk = runtime_mem[o->runtime].chunk_tokens;
    double prompt = o->prompt_tokens * o->batch;
    if (!hws_known(chunk) || chunk > prompt)
        chunk = prompt;
    if (o->runtime == HWS_RUNTIME_VLLM) /* vLLM profiles a full max_num_batched_tokens batch */
        chunk = runtime_mem[o->runtime].chunk_tokens;
    double per_token = 4.0 * m->hidden_size + 3.0 * moe_width(m);
    mem->prefill_chunk_tokens = chunk;
    mem->activation_bytes =
        chunk * per_token * runtime_mem[o->runtime].act_elem_bytes + o->batch * m->vocab_size * 4.0;
    snprintf(mem->activation_basis, sizeof mem->activation_basis,
             "%.0f tokens x (4 x hidden %.0f + 3 x MLP width %.0f) x %.0f B + FP32 logits of "
             "%.0f sequence(s) x vocab %.0f",
             chunk, m->hidden_size, moe_width(m), runtime_mem[o->runtime].act_elem_bytes, o->batch,
             m->vocab_size);
}

/* ---- weights ---------------------------------------------------------------------------- */

const hws_weight_format *hws_checkpoint_format(const hws_model_spec *m, int *experts_only) {
    const char *t = m->file_weight_type;
    *experts_only = 0;
    if (strcasecmp(t, "MXFP4") == 0) {
        *experts_only = hws_known(m->n_experts) && m->n_experts > 0;
        return hws_weight_format_find("mxfp4");
    }
    if (strcasecmp(t, "FP8") == 0)
        return hws_weight_format_find("fp8-block");
    if (strncasecmp(t, "BITSAN", 6) == 0 && strstr(t, "INT4") != NULL)
        return hws_weight_format_find("nf4");
    if (strstr(t, "-INT4") != NULL)
        return hws_weight_format_find("int4");
    if (strstr(t, "-INT8") != NULL)
        return hws_weight_format_find("int8");
    return NULL;
}

/* Bits a vision tower is stored in: 16 unless the format is wider (fp32). Runtimes keep it
 * out of weight quantisation (llama.cpp's separate mmproj file, AWQ/GPTQ/FP8 ignore lists). */
static double vision_bits(const hws_weight_format *f) {
    return f->embed_bits > 16.0 ? f->embed_bits : 16.0;
}

hws_llm_format hws_engine_format(const hws_plan_opts *o, const hws_weight_format *f) {
    static const hws_llm_format widths[] = {HWS_LLM_BF16, HWS_LLM_INT8, HWS_LLM_INT4};
    hws_llm_format own, best = HWS_LLM_BF16;
    hws_error err;
    if (o->runtime != HWS_RUNTIME_HWSCOPE || f == NULL)
        return HWS_LLM_FORMAT_COUNT;
    if (hws_llm_format_parse(f->name, &own, &err) == HWS_OK)
        return own;
    for (size_t i = 1; i < sizeof widths / sizeof widths[0]; i++)
        if (fabs(8.0 * hws_llm_format_bytes_per_weight(widths[i]) - f->bits_per_weight) <
            fabs(8.0 * hws_llm_format_bytes_per_weight(best) - f->bits_per_weight))
            best = widths[i];
    return best == HWS_LLM_BF16 && strcmp(f->compute, "fp16") == 0 ? HWS_LLM_FP16 : best;
}

/* How the hwscope engine stores f's weights in its format ef, into note (n bytes). */
static void engine_note(const hws_weight_format *f, hws_llm_format ef, char *note, size_t n) {
    const char *how = hws_llm_format_grouped(ef)
                          ? "group-wise codes + FP16 scales, the head too (a copy if tied)"
                          : "16 bits a weight";
    if (strcmp(f->name, hws_llm_format_name(ef)) == 0)
        snprintf(note, n, "as the hwscope engine stores it: %s", how);
    else
        snprintf(note, n, "the hwscope engine's %s, nearest in bits: %s", hws_llm_format_name(ef),
                 how);
}

static void weights(const hws_model_spec *m, const hws_plan_opts *o, hws_memory *mem) {
    const hws_weight_format *f = o->weights;
    double embed_p = hws_shape_embed_params(m);
    double embeds = m->tie_embeddings ? embed_p : 2.0 * embed_p;
    double dense_p = hws_shape_dense_block_params(m);
    double moe_p = hws_known(m->n_experts) && m->n_experts > 0
                       ? hws_shape_moe_block_params(m, m->n_experts)
                       : 0.0;
    double moe_active_p = moe_p > 0 ? hws_shape_moe_block_params(m, m->n_experts_active) : 0.0;
    double per_expert_p = moe_p > 0 && m->n_experts > m->n_experts_active
                              ? (moe_p - moe_active_p) / (m->n_experts - m->n_experts_active)
                              : 0.0;
    double experts_p = per_expert_p * (moe_p > 0 ? m->n_experts : 0);
    double active_experts_p = per_expert_p * (moe_p > 0 ? m->n_experts_active : 0);
    int first_moe = hws_shape_first_moe_layer(m);
    double n_moe = moe_p > 0 ? hws_shape_moe_layers(m) : 0;
    double n_dense = m->n_layers - n_moe;
    double blocks_p = n_dense * dense_p + n_moe * moe_p + m->hidden_size;
    double active_blocks_p = n_dense * dense_p + n_moe * moe_active_p + m->hidden_size;
    double vision_p = hws_known(m->vision_params) ? m->vision_params : 0.0;
    double bits, ebits, hbits, xbits, vbits; /* blocks, embedding, head, routed experts, vision */
    int head_tied = m->tie_embeddings;       /* the head is the embedding matrix itself */
    int experts_only = 0;
    int file_bytes = hws_known(m->file_weight_bytes);
    /* the file's exact bytes beat the format its config names; that beats bf16 */
    const hws_weight_format *shipped =
        f == NULL && !file_bytes ? hws_checkpoint_format(m, &experts_only) : NULL;
    if (f == NULL && file_bytes) {
        /* the file's own bytes: every part at the file's average bits */
        bits = ebits = hbits = xbits = vbits =
            m->file_weight_bytes * 8.0 / (blocks_p + embeds + vision_p);
        snprintf(mem->weights_basis, sizeof mem->weights_basis,
                 "file: %.0f bytes (%s), %.3f bits per weight on average", m->file_weight_bytes,
                 m->file_weight_type[0] ? m->file_weight_type : "as stored", bits);
    } else if (shipped != NULL && experts_only) {
        const hws_weight_format *bf16 = hws_weight_format_find("bf16");
        bits = ebits = hbits = vbits = bf16->bits_per_weight;
        xbits = shipped->bits_per_weight;
        snprintf(mem->weights_basis, sizeof mem->weights_basis,
                 "checkpoint %s: %.4gB routed-expert params x %.4g bits (%s), the other %.4gB "
                 "params in BF16",
                 m->file_weight_type, n_moe * experts_p / 1e9, xbits, shipped->note,
                 (blocks_p + embeds - n_moe * experts_p) / 1e9);
    } else {
        if (f == NULL)
            f = shipped != NULL ? shipped : hws_weight_format_find("bf16");
        bits = xbits = f->bits_per_weight;
        ebits = f->embed_bits;
        hbits = m->tie_embeddings ? ebits : f->head_bits;
        vbits = vision_bits(f);
        /* the engine: its format's bytes in the blocks and the head, the embedding in 16 bits */
        hws_llm_format ef = hws_engine_format(o, f);
        char engine[110]; /* the most the basis has room for */
        const char *note = f->note;
        if (ef != HWS_LLM_FORMAT_COUNT) {
            bits = xbits = 8.0 * hws_llm_format_bytes_per_weight(ef);
            ebits = 8.0 * hws_llm_format_bytes_per_weight(HWS_LLM_BF16);
            /* int8/int4: a tied embedding's quantised copy is the head (hws_llm_cost) */
            head_tied = m->tie_embeddings && !hws_llm_format_grouped(ef);
            hbits = head_tied ? ebits : bits;
            if (hws_llm_format_grouped(ef) || strcmp(f->name, hws_llm_format_name(ef)) != 0) {
                engine_note(f, ef, engine, sizeof engine);
                note = engine;
            }
        }
        mem->weights_format = f;
        snprintf(mem->weights_basis, sizeof mem->weights_basis,
                 "%s%s: %.4gB block params x %.4g bits + %.4gB embedding/head params x "
                 "%.4g/%.4g bits (%s)",
                 shipped ? "checkpoint's quantization_config: " : "", f->name, blocks_p / 1e9, bits,
                 embeds / 1e9, ebits, hbits, note);
    }
    double moe_block_bytes = (moe_p - experts_p) * bits / 8.0 + experts_p * xbits / 8.0;
    double moe_active_bytes =
        (moe_active_p - active_experts_p) * bits / 8.0 + active_experts_p * xbits / 8.0;
    mem->params = blocks_p + embeds + vision_p;
    mem->active_params = active_blocks_p + embed_p;
    mem->vision_bytes = vision_p * vbits / 8.0;
    mem->input_embed_bytes = embed_p * ebits / 8.0;
    mem->head_tied = head_tied;
    mem->head_bytes = head_tied ? 0.0 : embed_p * hbits / 8.0;
    mem->embed_bytes = mem->input_embed_bytes + mem->head_bytes;
    mem->dense_block_bytes = dense_p * bits / 8.0;
    mem->moe_block_bytes = moe_p > 0 ? moe_block_bytes : 0.0;
    mem->first_moe_layer = first_moe;
    mem->moe_layer_step = hws_shape_moe_step(m);
    mem->n_moe_layers = (int)n_moe;
    if (moe_p > 0 && m->n_experts > m->n_experts_active)
        mem->expert_bytes = per_expert_p * xbits / 8;
    mem->final_norm_bytes = m->hidden_size * bits / 8.0;
    double blocks_bytes = n_dense * mem->dense_block_bytes + n_moe * mem->moe_block_bytes;
    mem->weights_bytes =
        blocks_bytes + mem->final_norm_bytes + mem->embed_bytes + mem->vision_bytes;
    mem->layer_weights_bytes = blocks_bytes / m->n_layers;
    /* every block's active part and the head (the tied one is the input matrix, read whole);
     * the vision tower runs on images at prefill, not per decoded token */
    mem->active_weights_bytes =
        n_dense * mem->dense_block_bytes + n_moe * (moe_p > 0 ? moe_active_bytes : 0.0) +
        mem->final_norm_bytes + (head_tied ? mem->input_embed_bytes : mem->head_bytes);
    if (vision_p > 0)
        snprintf(mem->vision_basis, sizeof mem->vision_basis,
                 "vision tower + projector: %.4gB params x %.4g bits%s", vision_p / 1e9, vbits,
                 f != NULL && vbits > f->bits_per_weight
                     ? " (kept in 16 bits: llama.cpp's mmproj file is F16, quantised checkpoints "
                       "leave the vision tower unquantised)"
                     : "");
}

int hws_layer_is_moe(const hws_memory *mem, int layer) {
    return mem->moe_block_bytes > 0 &&
           hws_shape_layer_is_moe(layer, mem->first_moe_layer, mem->moe_layer_step);
}

double hws_layer_weights_bytes(const hws_memory *mem, int layer) {
    return hws_layer_is_moe(mem, layer) ? mem->moe_block_bytes : mem->dense_block_bytes;
}

static int shape_known(const hws_model_spec *m) {
    return hws_known(m->hidden_size) && m->hidden_size > 0 && hws_known(m->n_layers) &&
           m->n_layers >= 1 && m->n_layers <= 4096 && hws_known(m->n_heads) && m->n_heads > 0 &&
           hws_known(m->vocab_size) && m->vocab_size > 0 && hws_known(m->intermediate_size);
}

hws_status hws_memory_estimate(const hws_model_spec *m, const hws_plan_opts *o, hws_memory *mem,
                               hws_error *err) {
    memset(mem, 0, sizeof *mem);
    if (!shape_known(m))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "model '%s': hidden_size, layers, heads, vocab or MLP width unknown",
                             m->name);
    if (o->kv == NULL || !(o->ctx_tokens >= 1) || !(o->batch >= 1) || !(o->prompt_tokens >= 1) ||
        o->runtime >= HWS_RUNTIME_COUNT)
        return hws_error_set(err, HWS_ERR_INPUT, "plan options: kv format, ctx, batch or runtime");
    weights(m, o, mem);
    mem->kv_bytes_per_token = hws_kv_runtime_bytes_per_token(m, o) * m->n_layers;
    mem->kv_bytes = kv_total(m, o);
    kv_basis(m, o, mem->kv_basis, sizeof mem->kv_basis);
    activations(m, o, mem);
    mem->cuda_context_bytes = runtime_mem[o->runtime].cuda_context_bytes;
    mem->runtime_bytes = runtime_mem[o->runtime].runtime_bytes;
    snprintf(mem->overhead_basis, sizeof mem->overhead_basis, "%s: %s",
             hws_runtime_name(o->runtime), runtime_mem[o->runtime].basis);
    mem->total_bytes = mem->weights_bytes + mem->kv_bytes + mem->activation_bytes +
                       mem->cuda_context_bytes + mem->runtime_bytes;
    return HWS_OK;
}
