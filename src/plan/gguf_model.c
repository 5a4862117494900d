/* gguf_model.c - a model spec from a GGUF header: the <arch>.* metadata llama.cpp writes
 * (block_count, embedding_length, attention.head_count ...), the vocabulary from the tokenizer
 * or the embedding tensor, and the exact weight bytes from the tensor table. */
#include "format/model_readers.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const hws_gguf *g;
    const char *arch;
    const char *path;
    hws_error *err;
} gguf_doc;

static hws_status bad_key(const gguf_doc *d, const hws_gguf_kv *kv, const char *what) {
    return HWS_FAIL(d->err, HWS_ERR_INPUT, "%s: offset %llu: key %s: %s", d->path,
                    (unsigned long long)kv->offset, kv->key, what);
}

static bool is_int(hws_gguf_value_type t) {
    return t <= HWS_GGUF_INT32 || t == HWS_GGUF_UINT64 || t == HWS_GGUF_INT64;
}

/* The key <arch>.<suffix> as a count in [min, 1e12]; an array of integers (one per layer) gives
 * its largest element. *out is left alone when the key is absent. */
static hws_status meta_count(const gguf_doc *d, const char *suffix, double min, double *out) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", d->arch, suffix);
    const hws_gguf_kv *kv = hws_gguf_find(d->g, key);
    if (kv == NULL)
        return HWS_OK;
    double v;
    if (is_int(kv->type) && kv->i >= 0) {
        v = (double)kv->u;
    } else if (kv->type == HWS_GGUF_ARRAY && kv->array_len > 0 && is_int(kv->array_type)) {
        uint64_t x, max = 0;
        for (uint64_t i = 0; hws_gguf_array_uint(kv, i, &x); i++)
            max = x > max ? x : max;
        v = (double)max;
    } else {
        return bad_key(d, kv, "expected a non-negative integer");
    }
    if (v < min || v > 1e12)
        return bad_key(d, kv, min > 0 ? "expected an integer >= 1" : "out of range");
    *out = v;
    return HWS_OK;
}

static hws_status meta_required(const gguf_doc *d, const char *suffix, double *out) {
    hws_status st = meta_count(d, suffix, 1, out);
    if (st == HWS_OK && !hws_known(*out))
        return HWS_FAIL(d->err, HWS_ERR_INPUT, "%s: key %s.%s: missing", d->path, d->arch, suffix);
    return st;
}

/* Multi-head latent attention (deepseek2 arch): ranks and the split of the query/key head. */
static hws_status mla(const gguf_doc *d, hws_model_spec *m) {
    hws_status st;
    double qk = HWS_NA, v = HWS_NA, q_rank = HWS_NA;
    if ((st = meta_count(d, "attention.kv_lora_rank", 1, &m->kv_lora_rank)) != HWS_OK ||
        !hws_known(m->kv_lora_rank))
        return st;
    if ((st = meta_count(d, "attention.q_lora_rank", 0, &q_rank)) ||
        (st = meta_count(d, "rope.dimension_count", 1, &m->qk_rope_head_dim)) ||
        (st = meta_count(d, "attention.key_length", 1, &qk)) ||
        (st = meta_count(d, "attention.key_length_mla", 1, &qk)) ||
        (st = meta_count(d, "attention.value_length", 1, &v)) ||
        (st = meta_count(d, "attention.value_length_mla", 1, &v)))
        return st;
    m->q_lora_rank = q_rank > 0 ? q_rank : HWS_NA; /* 0: queries not compressed */
    m->v_head_dim = v;
    if (hws_known(qk) && hws_known(m->qk_rope_head_dim) && qk > m->qk_rope_head_dim) {
        m->head_dim = qk;
        m->qk_nope_head_dim = qk - m->qk_rope_head_dim;
    }
    return HWS_OK;
}

/* Local layers per global one: a per-layer pattern when the file has one, else the arch's. */
static void sliding_pattern(const gguf_doc *d, hws_model_spec *m) {
    char key[160];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", d->arch);
    const hws_gguf_kv *kv = hws_gguf_find(d->g, key);
    uint64_t x, sliding = 0, global = 0;
    for (uint64_t i = 0; kv != NULL && hws_gguf_array_uint(kv, i, &x); i++) {
        if (x)
            sliding++;
        else
            global++;
    }
    if (sliding + global > 0) {
        m->sliding_layers_per_global = global > 0 ? (double)sliding / (double)global : 0;
        return;
    }
    if (kv != NULL && is_int(kv->type) && kv->u >= 1 && kv->u < 1000) {
        m->sliding_layers_per_global = (double)(kv->u - 1); /* every n-th layer global */
        return;
    }
    static const struct {
        const char *arch;
        double per_global;
    } known[] = {{"gemma3", 5}, {"gemma2", 1}, {"gpt-oss", 1}, {"cohere2", 3}};
    m->sliding_layers_per_global = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].arch, d->arch) == 0)
            m->sliding_layers_per_global = known[i].per_global;
}

/* Gated MLP: a gate matrix in the table (dense, experts or shared experts), or phi3's fused
 * gate+up. */
static int gated(const gguf_doc *d) {
    if (strcmp(d->arch, "phi3") == 0)
        return 1;
    for (size_t i = 0; i < hws_gguf_tensor_count(d->g); i++) {
        const char *n = hws_gguf_tensor_at(d->g, i)->name;
        if (strstr(n, ".ffn_gate.") || strstr(n, ".ffn_gate_exps.") ||
            strstr(n, ".ffn_gate_shexp.") || strstr(n, ".ffn_gate_up"))
            return 1;
    }
    return 0;
}

/* Whether the table holds a shared expert's matrices (ffn_*_shexp). */
static int has_shared_expert(const gguf_doc *d) {
    for (size_t i = 0; i < hws_gguf_tensor_count(d->g); i++)
        if (strstr(hws_gguf_tensor_at(d->g, i)->name, "_shexp.") != NULL)
            return 1;
    return 0;
}

/* general.file_type's name, else the tensor type holding the most bytes. */
static void weight_type(const gguf_doc *d, hws_model_spec *m) {
    const hws_gguf_kv *kv = hws_gguf_find(d->g, "general.file_type");
    if (kv != NULL && is_int(kv->type) && kv->i >= 0 && kv->i < 1 << 20) {
        const char *name = hws_gguf_file_type_name((int)kv->i);
        if (name != NULL)
            snprintf(m->file_weight_type, sizeof m->file_weight_type, "%s", name);
        else
            snprintf(m->file_weight_type, sizeof m->file_weight_type, "ftype %d", (int)kv->i);
        return;
    }
    uint64_t bytes[HWS_GGML_TYPE_COUNT] = {0};
    int best = -1;
    for (size_t i = 0; i < hws_gguf_tensor_count(d->g); i++) {
        const hws_gguf_tensor *t = hws_gguf_tensor_at(d->g, i);
        bytes[t->type] += t->bytes; /* the reader accepted only known types */
        if (best < 0 || bytes[t->type] > bytes[best])
            best = t->type;
    }
    if (best >= 0)
        snprintf(m->file_weight_type, sizeof m->file_weight_type, "%s", hws_ggml_type_name(best));
}

static void vocab(const gguf_doc *d, hws_model_spec *m) {
    const hws_gguf_kv *tokens = hws_gguf_find(d->g, "tokenizer.ggml.tokens");
    const hws_gguf_tensor *embd = hws_gguf_tensor_find(d->g, "token_embd.weight");
    if (tokens != NULL && tokens->type == HWS_GGUF_ARRAY && tokens->array_len > 0)
        m->vocab_size = (double)tokens->array_len;
    else if (embd != NULL && embd->n_dims == 2)
        m->vocab_size = (double)embd->dims[1];
}

/* The shared shape check (hws_model_shape_check), its fault named by this file's key. */
static hws_status check_shape(const gguf_doc *d, const hws_model_spec *m) {
    static const char *const keys[HWS_SHAPE_FIELDS] = {
        [HWS_SHAPE_LAYERS] = "block_count",
        [HWS_SHAPE_HIDDEN] = "embedding_length",
        [HWS_SHAPE_HEADS] = "attention.head_count",
        [HWS_SHAPE_KV_HEADS] = "attention.head_count_kv",
        [HWS_SHAPE_EXPERTS] = "expert_count",
        [HWS_SHAPE_EXPERTS_ACTIVE] = "expert_used_count",
        [HWS_SHAPE_DENSE_LAYERS] = "leading_dense_block_count",
    };
    hws_shape_field field;
    char why[160];
    if (hws_model_shape_check(m, &field, why, sizeof why))
        return HWS_OK;
    return HWS_FAIL(d->err, HWS_ERR_INPUT, "%s: key %s.%s: %s", d->path, d->arch, keys[field], why);
}

static hws_status fill(const gguf_doc *d, hws_model_spec *m) {
    hws_status st;
    if ((st = meta_required(d, "embedding_length", &m->hidden_size)) ||
        (st = meta_required(d, "block_count", &m->n_layers)) ||
        (st = meta_required(d, "attention.head_count", &m->n_heads)) ||
        (st = meta_count(d, "attention.head_count_kv", 0, &m->n_kv_heads)) ||
        (st = meta_count(d, "feed_forward_length", 0, &m->intermediate_size)) ||
        (st = meta_count(d, "context_length", 1, &m->max_context)) ||
        (st = meta_count(d, "vocab_size", 1, &m->vocab_size)) ||
        (st = meta_count(d, "attention.sliding_window", 0, &m->sliding_window)) || (st = mla(d, m)))
        return st;
    if (!hws_known(m->n_kv_heads) || m->n_kv_heads == 0)
        m->n_kv_heads = m->n_heads;
    if (!hws_known(m->head_dim) &&
        (st = meta_count(d, "attention.key_length", 1, &m->head_dim)) != HWS_OK)
        return st;
    if (!hws_known(m->head_dim))
        m->head_dim = m->hidden_size / m->n_heads;
    if (hws_known(m->sliding_window) && m->sliding_window > 0) {
        sliding_pattern(d, m);
    } else if (strcmp(d->arch, "llama4") == 0) {
        /* llama.cpp's llama4: chunked attention, 8192 tokens, on 3 of every 4 layers (fixed in
         * llama-model.cpp, not written to the file) */
        m->sliding_window = 8192;
        m->sliding_layers_per_global = 3;
    } else {
        m->sliding_window = HWS_NA;
    }

    double experts = HWS_NA;
    if ((st = meta_count(d, "expert_count", 0, &experts)) != HWS_OK)
        return st;
    if (hws_known(experts) && experts > 0) {
        m->n_experts = experts;
        m->n_dense_layers = 0;
        m->moe_intermediate_size = m->intermediate_size;
        if ((st = meta_count(d, "expert_used_count", 1, &m->n_experts_active)) ||
            (st = meta_count(d, "expert_shared_count", 0, &m->n_shared_experts)) ||
            (st = meta_count(d, "expert_feed_forward_length", 1, &m->moe_intermediate_size)) ||
            (st = meta_count(d, "leading_dense_block_count", 0, &m->n_dense_layers)) ||
            (st = meta_count(d, "interleave_moe_layer_step", 1, &m->moe_layer_step)))
            return st;
        if (!hws_known(m->n_shared_experts)) /* llama4 has one and writes no count: its tensors */
            m->n_shared_experts = has_shared_expert(d) ? 1 : 0;
    }
    if ((st = check_shape(d, m)) != HWS_OK)
        return st;
    vocab(d, m);
    m->tie_embeddings = hws_gguf_tensor_find(d->g, "output.weight") == NULL;
    m->gated_mlp = gated(d);
    /* a header without tensors (vocab only) states no weight size: unknown, not 0 */
    double bytes = (double)hws_gguf_tensor_bytes_total(d->g);
    m->file_weight_bytes = bytes > 0 ? bytes : HWS_NA;
    weight_type(d, m);
    return HWS_OK;
}

/* A model split by gguf-split ("name-00001-of-00003.gguf", split.count 3): the bytes of the
 * tensors of every shard. A shard that is missing leaves the size unknown (HWS_NA); one that is
 * broken is an error naming it. */
static hws_status split_bytes(const gguf_doc *d, hws_model_spec *m) {
    const hws_gguf_kv *count = hws_gguf_find(d->g, "split.count");
    if (count == NULL || !is_int(count->type) || count->u <= 1)
        return HWS_OK;
    size_t len = strlen(d->path);
    const size_t suffix = strlen("-00001-of-00002.gguf");
    unsigned no, of;
    char extra;
    m->file_weight_bytes = HWS_NA;
    if (len < suffix ||
        sscanf(d->path + len - suffix, "-%5u-of-%5u.gguf%c", &no, &of, &extra) != 2 ||
        of != count->u)
        return HWS_OK; /* not named as gguf-split names shards: the others cannot be found */
    double total = 0;
    for (unsigned i = 1; i <= of; i++) {
        char shard[4096];
        snprintf(shard, sizeof shard, "%.*s-%05u-of-%05u.gguf", (int)(len - suffix), d->path, i,
                 of);
        if (i == no) {
            total += (double)hws_gguf_tensor_bytes_total(d->g);
            continue;
        }
        if (access(shard, F_OK) != 0)
            return HWS_OK;
        hws_gguf *g;
        hws_status st = hws_gguf_open(shard, &g, d->err);
        if (st != HWS_OK)
            return st;
        total += (double)hws_gguf_tensor_bytes_total(g);
        hws_gguf_close(g);
    }
    m->file_weight_bytes = total;
    return HWS_OK;
}

hws_status hws_model_from_gguf_header(const hws_gguf *g, const char *path, hws_model_spec *out,
                                      hws_error *err) {
    hws_model_spec_blank(out);
    const hws_gguf_kv *arch = hws_gguf_find(g, "general.architecture");
    const hws_gguf_kv *split = hws_gguf_find(g, "split.no");
    if (arch == NULL && split != NULL && is_int(split->type) && split->u > 0)
        return HWS_FAIL(err, HWS_ERR_INPUT,
                        "%s: offset %llu: shard %llu of a split model: give the first shard, "
                        "which holds the metadata",
                        path, (unsigned long long)split->offset, (unsigned long long)split->u + 1);
    if (arch == NULL || arch->type != HWS_GGUF_STRING || arch->str_len == 0)
        return HWS_FAIL(err, HWS_ERR_INPUT, "%s: offset %llu: key general.architecture: %s", path,
                        (unsigned long long)(arch != NULL ? arch->offset : 24),
                        arch != NULL ? "expected a non-empty string" : "missing");
    gguf_doc d = {g, arch->str, path, err};
    snprintf(out->family, sizeof out->family, "%s", arch->str);
    snprintf(out->source, sizeof out->source, "%s", path);
    const char *name = hws_gguf_get_str(g, "general.name");
    if (name != NULL && name[0] != '\0') {
        snprintf(out->name, sizeof out->name, "%s", name);
    } else {
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        size_t len = strlen(base);
        if (len > 5 && strcmp(base + len - 5, ".gguf") == 0)
            len -= 5;
        snprintf(out->name, sizeof out->name, "%.*s", (int)len, base);
    }
    hws_status st = fill(&d, out);
    if (st != HWS_OK)
        hws_model_spec_blank(out);
    return st;
}

hws_status hws_model_from_gguf(const char *path, hws_model_spec *out, hws_error *err) {
    hws_gguf *g;
    hws_model_spec_blank(out);
    hws_status st = hws_gguf_open(path, &g, err);
    if (st != HWS_OK)
        return st;
    st = hws_model_from_gguf_header(g, path, out, err);
    if (st == HWS_OK) {
        gguf_doc d = {g, out->family, path, err};
        st = split_bytes(&d, out);
    }
    hws_gguf_close(g);
    if (st != HWS_OK)
        hws_model_spec_blank(out);
    return st;
}
