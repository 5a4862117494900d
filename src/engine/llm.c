/* llm.c - the LLM engine: formats and shapes, the forward pass written once over a backend's op
 * table (llm_backend.h), and the runner that keeps each sequence's cache length. */
#include "engine/llm_backend.h"
#include "engine/llm_load.h"
#include "engine/llm_moe.h"
#include "engine/llm_quant.h"
#include "util/units.h"
#include "gpu/cuda_module.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hws_llm {
    const hws_llm_backend *be;
    void *ctx;
    hws_llm_shape shape;
    hws_llm_options opt;
    hws_llm_info info;
    int max_rows;
    int *len;                    /* [max_batch] tokens in each sequence's cache */
    int32_t *tokens, *seq, *pos; /* [max_rows] the rows of the run being set up */
    int last_rows; /* rows of the last forward pass; 0 before one, or when it failed */
};

static const char *const format_names[HWS_LLM_FORMAT_COUNT] = {"bf16", "fp16", "int8", "int4"};

const char *hws_llm_format_name(hws_llm_format f) {
    return (unsigned)f < HWS_LLM_FORMAT_COUNT ? format_names[f] : "?";
}

hws_status hws_llm_format_parse(const char *text, hws_llm_format *out, hws_error *err) {
    for (int f = 0; f < HWS_LLM_FORMAT_COUNT; f++)
        if (text && strcmp(text, format_names[f]) == 0) {
            *out = (hws_llm_format)f;
            return HWS_OK;
        }
    return hws_error_set(err, HWS_ERR_INPUT, "'%s' is no weight format (bf16, fp16, int8, int4)",
                         text ? text : "");
}

double hws_llm_format_bytes_per_weight(hws_llm_format f) {
    switch (f) {
    case HWS_LLM_INT8:
        return 1.0 + 2.0 / HWS_LLM_GROUP;
    case HWS_LLM_INT4:
        return 0.5 + 2.0 / HWS_LLM_GROUP;
    default:
        return 2.0;
    }
}

int hws_llm_format_grouped(hws_llm_format f) {
    return f == HWS_LLM_INT8 || f == HWS_LLM_INT4;
}

/* A whole, positive number of a spec, or 0 when it is unknown or not whole. */
static int whole(double v) {
    return hws_known(v) && v >= 1 && v <= 1e9 && v == floor(v) ? (int)v : 0;
}

hws_status hws_llm_shape_from_spec(const hws_model_spec *m, hws_llm_shape *out, hws_error *err) {
    if (hws_known(m->kv_lora_rank) && m->kv_lora_rank > 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED,
                             "%s: multi-head latent attention is not run by the engine", m->name);
    if (!m->gated_mlp)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED,
                             "%s: the engine runs gated (SwiGLU) MLPs only", m->name);
    int moe = hws_known(m->n_experts) && m->n_experts > 0;
    if (moe && ((hws_known(m->n_shared_experts) && m->n_shared_experts > 0) ||
                (hws_known(m->n_dense_layers) && m->n_dense_layers > 0) ||
                (hws_known(m->moe_layer_step) && m->moe_layer_step > 1) ||
                (strcmp(m->family, "mixtral") != 0 && strcmp(m->family, "llama") != 0)))
        return hws_error_set(err, HWS_ERR_UNSUPPORTED,
                             "%s: the engine runs Mixtral-style mixtures of experts only (every "
                             "layer routed, no shared experts, family mixtral or llama), not %s",
                             m->name, m->family);
    if (hws_known(m->sliding_layers_per_global) && m->sliding_layers_per_global > 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED,
                             "%s: interleaved local and global attention is not run by the engine",
                             m->name);
    hws_llm_shape s;
    memset(&s, 0, sizeof s);
    s.n_layers = whole(m->n_layers);
    s.d_model = whole(m->hidden_size);
    s.n_heads = whole(m->n_heads);
    s.n_kv_heads = hws_known(m->n_kv_heads) ? whole(m->n_kv_heads) : s.n_heads;
    s.head_dim =
        hws_known(m->head_dim) ? whole(m->head_dim) : (s.n_heads ? s.d_model / s.n_heads : 0);
    s.d_ff = whole(m->intermediate_size);
    s.vocab = whole(m->vocab_size);
    s.tie_embeddings = m->tie_embeddings != 0;
    s.sliding_window = hws_known(m->sliding_window) ? whole(m->sliding_window) : 0;
    if (moe) {
        s.n_experts = whole(m->n_experts);
        s.n_experts_used = hws_known(m->n_experts_active) ? whole(m->n_experts_active) : 0;
        s.d_ff_expert =
            hws_known(m->moe_intermediate_size) ? whole(m->moe_intermediate_size) : s.d_ff;
    }
    /* What the spec does not carry, by family (config.json values override when loading). */
    s.rms_eps = 1e-5f;
    s.rope_theta = 10000.0f;
    if (strcmp(m->family, "qwen2") == 0) {
        s.qkv_bias = 1;
        s.rms_eps = 1e-6f;
        s.rope_theta = 1000000.0f;
    } else if ((strcmp(m->family, "mistral") == 0 && !s.sliding_window) ||
               strcmp(m->family, "mixtral") == 0) {
        s.rope_theta = 1000000.0f;
    } else if (strcmp(m->family, "llama") == 0 && s.vocab >= 128000) { /* Llama 3 */
        s.rope_theta = 500000.0f;
        if (hws_known(m->max_context) && m->max_context > 8192) { /* 3.1 and later */
            s.rope_factor = 8.0f;
            s.rope_low_freq_factor = 1.0f;
            s.rope_high_freq_factor = 4.0f;
            s.rope_original_max_pos = 8192;
        }
    }
    hws_status st = hws_llm_shape_check(&s, err);
    if (st != HWS_OK)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s: %s", m->name, err->msg);
    *out = s;
    return HWS_OK;
}

hws_status hws_llm_shape_check(const hws_llm_shape *s, hws_error *err) {
    const struct {
        const char *name;
        int v;
    } pos[] = {{"n_layers", s->n_layers}, {"d_model", s->d_model},
               {"n_heads", s->n_heads},   {"n_kv_heads", s->n_kv_heads},
               {"head_dim", s->head_dim}, {"d_ff", s->d_ff},
               {"vocab", s->vocab}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v < 1 || pos[i].v > (1 << 22))
            return hws_error_set(err, HWS_ERR_INPUT, "shape: %s = %d is out of range", pos[i].name,
                                 pos[i].v);
    if (s->n_heads % s->n_kv_heads)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "shape: n_kv_heads = %d does not divide n_heads = %d", s->n_kv_heads,
                             s->n_heads);
    if (s->head_dim % 2 || s->head_dim > 256)
        return hws_error_set(err, HWS_ERR_INPUT, "shape: head_dim = %d is not even and <= 256",
                             s->head_dim);
    if (s->n_heads / s->n_kv_heads > 16)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "shape: more than 16 query heads per key/value head (%d)",
                             s->n_heads / s->n_kv_heads);
    if (s->n_experts != 0 &&
        (s->n_experts < 1 || s->n_experts > HWS_LLM_MAX_EXPERTS || s->n_experts_used < 1 ||
         s->n_experts_used > s->n_experts || s->d_ff_expert < 1 || s->d_ff_expert > (1 << 22)))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "shape: mixture of experts needs 1 <= n_experts <= %d, 1 <= "
                             "n_experts_used <= n_experts and d_ff_expert >= 1 (have %d, %d, %d)",
                             HWS_LLM_MAX_EXPERTS, s->n_experts, s->n_experts_used, s->d_ff_expert);
    if (s->sliding_window < 0)
        return hws_error_set(err, HWS_ERR_INPUT, "shape: sliding_window = %d is negative",
                             s->sliding_window);
    if (!(s->rms_eps > 0.0f) || !(s->rope_theta > 1.0f) || !(s->rope_factor >= 0.0f))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "shape: rms_eps, rope_theta or rope_factor is "
                             "out of range");
    if (s->rope_factor > 0.0f &&
        (!(s->rope_high_freq_factor > s->rope_low_freq_factor) || s->rope_original_max_pos < 1))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "shape: llama3 RoPE scaling needs "
                             "high_freq_factor > low_freq_factor and "
                             "original_max_position_embeddings");
    return HWS_OK;
}

hws_llm_options hws_llm_options_default(void) {
    hws_llm_options o;
    memset(&o, 0, sizeof o);
    o.device = HWS_LLM_CUDA;
    o.format = HWS_LLM_BF16;
    o.max_batch = 1;
    o.max_ctx = 4096;
    o.seed = 42;
    return o;
}

uint64_t hws_llm_weight_seed(uint64_t seed, int layer, hws_llm_weight w) {
    return seed * 1000003u + (uint64_t)(layer + 1) * 64u + (uint64_t)w;
}

void hws_llm_weight_init(const hws_llm_shape *s, hws_llm_weight w, float *scale, float *offset) {
    int rows, cols;
    hws_llm_weight_dims(s, w, &rows, &cols);
    *offset = 0.0f;
    if (hws_llm_weight_is_linear(w)) { /* unit variance out of unit variance in */
        *scale = sqrtf(3.0f / (float)(cols > 0 ? cols : 1));
    } else if (w == HWS_LLM_B_QKV) {
        *scale = 0.1f;
    } else if (w == HWS_LLM_W_EMBED) {
        *scale = 1.0f;
    } else { /* norms near 1 */
        *scale = 0.1f;
        *offset = 1.0f;
    }
}

void hws_llm_rope_freqs(const hws_llm_shape *s, float *inv_freq) {
    int half = s->head_dim / 2;
    for (int i = 0; i < half; i++) {
        double f = pow((double)s->rope_theta, -2.0 * i / s->head_dim);
        if (s->rope_factor > 0.0f) { /* llama3: stretch the low frequencies, keep the high */
            double low_wavelen = s->rope_original_max_pos / (double)s->rope_low_freq_factor;
            double high_wavelen = s->rope_original_max_pos / (double)s->rope_high_freq_factor;
            double wavelen = 2.0 * M_PI / f;
            if (wavelen > low_wavelen) {
                f /= s->rope_factor;
            } else if (wavelen >= high_wavelen) {
                double smooth = (s->rope_original_max_pos / wavelen - s->rope_low_freq_factor) /
                                (s->rope_high_freq_factor - s->rope_low_freq_factor);
                f = (1.0 - smooth) * f / s->rope_factor + smooth * f;
            }
        }
        inv_freq[i] = (float)f;
    }
}

/* ---- the forward pass ---- */

typedef struct {
    hws_llm *m;
    int rows;
    int logit_row0, logit_rows;
} forward_args;

static hws_status forward(void *arg, hws_error *err) {
    const forward_args *a = arg;
    const hws_llm_ops *op = a->m->be->ops;
    void *c = a->m->ctx;
    int n = a->rows, moe = a->m->shape.n_experts > 0;
    hws_status st = op->embed(c, n, err);
    for (int l = 0; l < a->m->shape.n_layers && st == HWS_OK; l++) {
        if (st == HWS_OK)
            st = op->rmsnorm(c, l, HWS_LLM_W_ATTN_NORM, n, err);
        if (st == HWS_OK)
            st = op->linear(c, HWS_LLM_BUF_QKV, HWS_LLM_BUF_H, n, l, HWS_LLM_W_QKV, 0, err);
        if (st == HWS_OK)
            st = op->rope_cache(c, l, n, err);
        if (st == HWS_OK)
            st = op->attention(c, l, n, err);
        if (st == HWS_OK)
            st = op->linear(c, HWS_LLM_BUF_X, HWS_LLM_BUF_ATT, n, l, HWS_LLM_W_O, 1, err);
        if (st == HWS_OK)
            st = op->rmsnorm(c, l, HWS_LLM_W_FFN_NORM, n, err);
        if (st == HWS_OK)
            st =
                moe ? op->linear(c, HWS_LLM_BUF_ROUTER, HWS_LLM_BUF_H, n, l, HWS_LLM_W_ROUTER, 0,
                                 err)
                    : op->linear(c, HWS_LLM_BUF_GU, HWS_LLM_BUF_H, n, l, HWS_LLM_W_GATE_UP, 0, err);
        if (st == HWS_OK && moe)
            st = op->route(c, l, n, err);
        if (st == HWS_OK && moe)
            st = op->experts(c, l, HWS_LLM_W_EXP_GATE_UP, n, err);
        if (st == HWS_OK)
            st = op->swiglu(c, n, err);
        if (st == HWS_OK)
            st = moe ? op->experts(c, l, HWS_LLM_W_EXP_DOWN, n, err)
                     : op->linear(c, HWS_LLM_BUF_X, HWS_LLM_BUF_ACT, n, l, HWS_LLM_W_DOWN, 1, err);
    }
    if (st == HWS_OK && a->logit_rows > 0)
        st = op->logits(c, a->logit_row0, a->logit_rows, err);
    return st;
}

/* ---- the runner ---- */

/* Experts of n that a batch of b rows reads in a step when each row routes to k of them
 * uniformly: n (1 - (1 - k/n)^b), the planner's count (src/plan/predict.c). k for one row. */
static double experts_read(int n, int k, int b) {
    return n > 0 ? n * (1.0 - pow(1.0 - (double)k / n, b)) : 0.0;
}

/* The shape the engine runs in format f: an int8/int4 model reads its output head every token,
 * and a tied one would read it as the 16-bit embedding; the engine keeps a quantised copy of it
 * as the head instead (the embedding stays 16-bit for the lookups), as llama.cpp's Q4_K_M/Q8_0
 * files quantise token_embd. Llama-3.2-1B int4: 1.07 GB read per token -> 0.69 GB. */
static hws_llm_shape engine_shape(const hws_llm_shape *s, hws_llm_format f) {
    hws_llm_shape e = *s;
    if (e.tie_embeddings && hws_llm_format_grouped(f)) {
        e.tie_embeddings = 0;
        e.head_from_embed = 1;
    }
    return e;
}

void hws_llm_cost(const hws_llm_shape *shape, hws_llm_format f, int max_batch, hws_llm_info *info) {
    const hws_llm_shape engine = engine_shape(shape, f), *s = &engine;
    double linear = 0, linear_read = 0, linear_used = 0, other = 0;
    double read_share =
        s->n_experts > 0 ? experts_read(s->n_experts, s->n_experts_used, max_batch) / s->n_experts
                         : 1.0;
    double used_share = s->n_experts > 0 ? (double)s->n_experts_used / s->n_experts : 1.0;
    for (int w = 0; w < HWS_LLM_W_COUNT; w++) {
        int rows, cols;
        hws_llm_weight_dims(s, (hws_llm_weight)w, &rows, &cols);
        double n = (double)rows * cols * (w >= HWS_LLM_W_EMBED ? 1 : s->n_layers);
        int experts = hws_llm_weight_is_experts((hws_llm_weight)w);
        if (hws_llm_weight_is_linear((hws_llm_weight)w)) {
            linear += n;
            linear_read += experts ? n * read_share : n;
            linear_used += experts ? n * used_share : n;
        } else {
            other += n;
        }
    }
    int vr, vc;
    hws_llm_weight_dims(s, HWS_LLM_W_EMBED, &vr, &vc);
    double bpw = hws_llm_format_bytes_per_weight(f);
    double embed = (double)vr * vc;
    memset(info, 0, sizeof *info);
    info->weight_bytes = linear * bpw + other * 2.0;
    /* a decode step reads every linear layer (of the experts, those the batch routes to), the
     * tied head when tied, the norms and one embedding row */
    info->decode_bytes_per_token = linear_read * bpw + (other - embed) * 2.0 +
                                   (s->tie_embeddings ? embed * 2.0 : 0) + vc * 2.0;
    info->flops_per_token = 2.0 * (linear_used + (s->tie_embeddings ? embed : 0));
    info->kv_bytes_per_token = 2.0 * s->n_layers * s->n_kv_heads * s->head_dim * 2.0;
}

static const hws_llm_backend *backend_for(hws_llm_device d, hws_error *err) {
    if (d == HWS_LLM_CPU)
        return &hws_llm_cpu_backend;
    hws_llm_cuda_get_api_fn get;
    *(void **)&get = hws_cuda_module_sym("hws_llm_cuda_get_api", err);
    if (!get)
        return NULL;
    const hws_llm_backend *be = get();
    if (!be || be->abi != HWS_LLM_BACKEND_ABI) {
        hws_error_set(err, HWS_ERR_UNSUPPORTED,
                      "the CUDA module's LLM engine is of another "
                      "version");
        return NULL;
    }
    return be;
}

/* Every weight seeded random. */
static hws_status fill_random(hws_llm *m, hws_error *err) {
    hws_status st = HWS_OK;
    for (int l = -1; l < m->shape.n_layers && st == HWS_OK; l++)
        for (int w = 0; w < HWS_LLM_W_COUNT && st == HWS_OK; w++) {
            int global = w >= HWS_LLM_W_EMBED, rows, cols;
            hws_llm_weight_dims(&m->shape, (hws_llm_weight)w, &rows, &cols);
            if ((l < 0) != global || rows == 0)
                continue;
            /* a head copied from the embedding gets the embedding's values */
            hws_llm_weight as = w == HWS_LLM_W_OUTPUT && m->shape.head_from_embed
                                    ? HWS_LLM_W_EMBED
                                    : (hws_llm_weight)w;
            float scale, offset;
            hws_llm_weight_init(&m->shape, as, &scale, &offset);
            st = m->be->fill_weight(m->ctx, l, (hws_llm_weight)w,
                                    hws_llm_weight_seed(m->opt.seed, l, as), scale, offset, err);
        }
    return st;
}

hws_status hws_llm_new(const hws_llm_shape *shape, const hws_llm_options *opt, hws_llm **out,
                       hws_error *err) {
    hws_status st = hws_llm_shape_check(shape, err);
    if (st != HWS_OK)
        return st;
    if ((unsigned)opt->format >= HWS_LLM_FORMAT_COUNT || opt->max_batch < 1 ||
        opt->max_batch > 1024 || opt->max_ctx < 1 || opt->max_ctx > (1 << 20))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "options: format, max_batch (1-1024) or max_ctx "
                             "(1-1048576) out of range");
    if (opt->format >= HWS_LLM_INT8 &&
        (shape->d_model % HWS_LLM_GROUP || hws_llm_ffn_width(shape) % HWS_LLM_GROUP ||
         (shape->n_heads * shape->head_dim) % HWS_LLM_GROUP))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "format %s needs d_model, d_ff (d_ff_expert) and n_heads*head_dim "
                             "divisible by %d",
                             hws_llm_format_name(opt->format), HWS_LLM_GROUP);
    const hws_llm_backend *be = backend_for(opt->device, err);
    if (!be)
        return HWS_ERR_UNSUPPORTED;
    hws_llm *m = calloc(1, sizeof *m);
    if (!m)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    m->be = be;
    m->shape = engine_shape(shape, opt->format);
    m->opt = *opt;
    m->opt.weights = NULL; /* not kept: the caller's string */
    /* rows of one run: a decode batch, or a prefill chunk of up to 512 tokens */
    m->max_rows = opt->max_ctx < 512 ? opt->max_ctx : 512;
    if (m->max_rows < opt->max_batch)
        m->max_rows = opt->max_batch;
    hws_llm_cost(&m->shape, opt->format, opt->max_batch, &m->info);
    m->len = calloc((size_t)opt->max_batch, sizeof *m->len);
    m->tokens = calloc((size_t)m->max_rows, sizeof *m->tokens);
    m->seq = calloc((size_t)m->max_rows, sizeof *m->seq);
    m->pos = calloc((size_t)m->max_rows, sizeof *m->pos);
    float *freqs = malloc((size_t)shape->head_dim / 2 * sizeof *freqs);
    if (!m->len || !m->tokens || !m->seq || !m->pos || !freqs) {
        free(freqs);
        hws_llm_free(m);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    }
    hws_llm_rope_freqs(shape, freqs);
    st = be->create(&m->shape, &m->opt, m->max_rows, freqs, &m->ctx, &m->info, err);
    free(freqs);
    if (st == HWS_OK)
        st = opt->weights ? hws_llm_load_weights(opt->weights, &m->shape, be, m->ctx, err)
                          : fill_random(m, err);
    if (st != HWS_OK) {
        hws_llm_free(m);
        return st;
    }
    *out = m;
    return HWS_OK;
}

void hws_llm_free(hws_llm *m) {
    if (!m)
        return;
    if (m->ctx)
        m->be->destroy(m->ctx);
    free(m->len);
    free(m->tokens);
    free(m->seq);
    free(m->pos);
    free(m);
}

/* Runs the rows set up in m->tokens/seq/pos; logits of rows lrow0.. (lrows of them). */
static hws_status run_rows(hws_llm *m, int rows, int graph, int lrow0, int lrows, hws_error *err) {
    m->last_rows = 0; /* a pass that fails leaves no routes to read */
    hws_status st = m->be->set_rows(m->ctx, rows, m->tokens, m->seq, m->pos, err);
    forward_args a = {m, rows, lrow0, lrows};
    if (st == HWS_OK)
        st = m->be->run(m->ctx, rows, graph, forward, &a, err);
    if (st == HWS_OK)
        m->last_rows = rows;
    return st;
}

static hws_status check_tokens(const hws_llm *m, const int32_t *tokens, int n, hws_error *err) {
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= m->shape.vocab)
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "token %d (%ld) is outside the vocabulary "
                                 "of %d",
                                 (int)tokens[i], (long)i, m->shape.vocab);
    return HWS_OK;
}

hws_status hws_llm_prefill(hws_llm *m, int seq, const int32_t *tokens, int n, float *logits,
                           hws_error *err) {
    if (seq < 0 || seq >= m->opt.max_batch || n < 1)
        return hws_error_set(err, HWS_ERR_INPUT, "prefill: sequence %d of %d, %d tokens", seq,
                             m->opt.max_batch, n);
    if (n > m->opt.max_ctx - m->len[seq])
        return hws_error_set(err, HWS_ERR_INPUT,
                             "prefill: %d tokens after %d do not fit the cache of %d", n,
                             m->len[seq], m->opt.max_ctx);
    hws_status st = check_tokens(m, tokens, n, err);
    for (int done = 0; done < n && st == HWS_OK;) {
        int rows = n - done < m->max_rows ? n - done : m->max_rows;
        for (int r = 0; r < rows; r++) {
            m->tokens[r] = tokens[done + r];
            m->seq[r] = seq;
            m->pos[r] = m->len[seq] + r;
        }
        int last = done + rows == n;
        st = run_rows(m, rows, 0, rows - 1, last && logits ? 1 : 0, err);
        if (st == HWS_OK)
            m->len[seq] += rows;
        done += rows;
    }
    if (st == HWS_OK && logits)
        st = m->be->get_logits(m->ctx, 1, logits, err);
    return st;
}

/* One decode step; graph: the backend may replay a captured step. */
static hws_status decode_step(hws_llm *m, int batch, const int32_t *tokens, float *logits,
                              int graph, hws_error *err) {
    if (batch < 1 || batch > m->opt.max_batch)
        return hws_error_set(err, HWS_ERR_INPUT, "decode: batch %d is not 1-%d", batch,
                             m->opt.max_batch);
    hws_status st = check_tokens(m, tokens, batch, err);
    for (int b = 0; b < batch && st == HWS_OK; b++) {
        if (m->len[b] >= m->opt.max_ctx)
            return hws_error_set(err, HWS_ERR_INPUT, "decode: sequence %d's cache of %d is full", b,
                                 m->opt.max_ctx);
        m->tokens[b] = tokens[b];
        m->seq[b] = b;
        m->pos[b] = m->len[b];
    }
    if (st == HWS_OK)
        st = run_rows(m, batch, graph, 0, batch, err);
    for (int b = 0; b < batch && st == HWS_OK; b++)
        m->len[b]++;
    if (st == HWS_OK && logits)
        st = m->be->get_logits(m->ctx, batch, logits, err);
    return st;
}

hws_status hws_llm_decode(hws_llm *m, int batch, const int32_t *tokens, float *logits,
                          hws_error *err) {
    return decode_step(m, batch, tokens, logits, 1, err);
}

hws_status hws_llm_routes(hws_llm *m, int row, int32_t *experts, hws_error *err) {
    if (m->shape.n_experts == 0)
        return hws_error_set(err, HWS_ERR_INPUT, "routes: the model is dense (no experts)");
    if (row < 0 || row >= m->last_rows)
        return hws_error_set(err, HWS_ERR_INPUT, "routes: row %d of a forward pass of %d rows", row,
                             m->last_rows);
    return m->be->get_routes(m->ctx, row, experts, err);
}

const char *hws_llm_op_kind_name(int kind) {
    static const char *const names[HWS_LLM_OP_KINDS] = {
        "embed",      "rmsnorm",   "linear_qkv", "linear_o", "linear_gate_up", "linear_down",
        "rope_cache", "attention", "swiglu",     "logits",   "route"};
    return kind >= 0 && kind < HWS_LLM_OP_KINDS ? names[kind] : "?";
}

/* Runs decode (tokens for batch sequences) or, with seq >= 0, a prefill of n tokens of seq, op
 * by op, timed into out. */
static hws_status profile_run(hws_llm *m, int seq, int n, const int32_t *tokens,
                              hws_llm_profile *out, hws_error *err) {
    if (!m->be->profile)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "this backend cannot time its ops");
    memset(out, 0, sizeof *out);
    hws_status st = m->be->profile(m->ctx, 1, NULL, err);
    if (st == HWS_OK)
        st = seq >= 0 ? hws_llm_prefill(m, seq, tokens, n, NULL, err)
                      : decode_step(m, n, tokens, NULL, 0, err);
    hws_error end_err;
    hws_status end = m->be->profile(m->ctx, 0, out, &end_err); /* stops even when the run failed */
    if (st == HWS_OK && end != HWS_OK)
        st = hws_error_set(err, end, "%s", end_err.msg);
    return st;
}

hws_status hws_llm_profile_decode(hws_llm *m, int batch, const int32_t *tokens,
                                  hws_llm_profile *out, hws_error *err) {
    return profile_run(m, -1, batch, tokens, out, err);
}

hws_status hws_llm_profile_prefill(hws_llm *m, int seq, const int32_t *tokens, int n,
                                   hws_llm_profile *out, hws_error *err) {
    if (seq < 0)
        return hws_error_set(err, HWS_ERR_INPUT, "prefill: sequence %d", seq);
    return profile_run(m, seq, n, tokens, out, err);
}

hws_status hws_llm_truncate(hws_llm *m, int len, hws_error *err) {
    if (len < 0 || len > m->opt.max_ctx)
        return hws_error_set(err, HWS_ERR_INPUT, "truncate: %d is not 0-%d tokens", len,
                             m->opt.max_ctx);
    for (int b = 0; b < m->opt.max_batch; b++)
        if (m->len[b] > len)
            m->len[b] = len;
    return HWS_OK;
}

void hws_llm_get_info(const hws_llm *m, hws_llm_info *out) {
    *out = m->info;
}
