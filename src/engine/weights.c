/* weights.c - nn.Transformer's parameters: their state_dict names and shapes, seeded random
 * values, and loading from a safetensors file exported from PyTorch. */
#include "format/safetensors.h"
#include "hwscope/engine.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One parameter: where its pointer goes, its name and shape ([out, in] or [n]), and the fan-in
 * of its layer for random init (0: LayerNorm gamma, -1: LayerNorm beta). */
typedef struct {
    const float **slot;
    char name[96];
    int64_t dims[2];
    int ndim;
    int fan_in;
} param;

typedef struct {
    param *p;
    int n, cap;
} param_list;

static int add(param_list *l, const float **slot, const char *prefix, const char *name, int64_t d0,
               int64_t d1, int fan_in) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        param *p = realloc(l->p, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        l->p = p;
        l->cap = cap;
    }
    param *p = &l->p[l->n++];
    p->slot = slot;
    int len = snprintf(p->name, sizeof p->name, "%s%s", prefix, name);
    if (len < 0 || (size_t)len >= sizeof p->name)
        return -1; /* a state_dict name longer than the table holds */
    p->dims[0] = d0;
    p->dims[1] = d1;
    p->ndim = d1 ? 2 : 1;
    p->fan_in = fan_in;
    return 0;
}

static int add_lin(param_list *l, hws_tfm_lin *lin, const char *prefix, const char *w,
                   const char *b, int out, int in) {
    return add(l, &lin->w, prefix, w, out, in, in) | add(l, &lin->b, prefix, b, out, 0, in);
}

static int add_ln(param_list *l, hws_tfm_ln *ln, const char *prefix, const char *name, int E) {
    char g[64], b[64];
    snprintf(g, sizeof g, "%s.weight", name);
    snprintf(b, sizeof b, "%s.bias", name);
    return add(l, &ln->g, prefix, g, E, 0, 0) | add(l, &ln->b, prefix, b, E, 0, -1);
}

static int add_mha(param_list *l, hws_tfm_mha *m, const char *prefix, const char *name, int E) {
    char iw[64], ib[64], ow[64], ob[64];
    snprintf(iw, sizeof iw, "%s.in_proj_weight", name);
    snprintf(ib, sizeof ib, "%s.in_proj_bias", name);
    snprintf(ow, sizeof ow, "%s.out_proj.weight", name);
    snprintf(ob, sizeof ob, "%s.out_proj.bias", name);
    return add_lin(l, &m->in, prefix, iw, ib, 3 * E, E) | add_lin(l, &m->out, prefix, ow, ob, E, E);
}

/* Lists every parameter of w in state_dict order. */
static int list_params(hws_tfm_weights *w, param_list *l) {
    const hws_tfm_config *c = &w->cfg;
    int E = c->d_model, F = c->d_ff, rc = 0;
    char prefix[64];
    for (int dec = 0; dec < 2; dec++) {
        int n = dec ? c->n_dec : c->n_enc;
        for (int i = 0; i < n; i++) {
            hws_tfm_layer *y = dec ? &w->dec[i] : &w->enc[i];
            snprintf(prefix, sizeof prefix, "%s.layers.%d.", dec ? "decoder" : "encoder", i);
            rc |= add_mha(l, &y->sa, prefix, "self_attn", E);
            if (dec)
                rc |= add_mha(l, &y->ca, prefix, "multihead_attn", E);
            rc |= add_lin(l, &y->l1, prefix, "linear1.weight", "linear1.bias", F, E);
            rc |= add_lin(l, &y->l2, prefix, "linear2.weight", "linear2.bias", E, F);
            rc |= add_ln(l, &y->n1, prefix, "norm1", E) | add_ln(l, &y->n2, prefix, "norm2", E);
            if (dec)
                rc |= add_ln(l, &y->n3, prefix, "norm3", E);
        }
        rc |=
            add_ln(l, dec ? &w->dec_norm : &w->enc_norm, dec ? "decoder." : "encoder.", "norm", E);
    }
    return rc;
}

void hws_tfm_weights_free(hws_tfm_weights *w) {
    if (!w)
        return;
    free(w->enc);
    free(w->dec);
    free(w->data);
    free(w);
}

/* Allocates w for cfg with every pointer set into one buffer; the list of parameters in l. */
static hws_status weights_alloc(const hws_tfm_config *cfg, hws_tfm_weights **out, param_list *l,
                                hws_error *err) {
    hws_status s = hws_tfm_config_check(cfg, err);
    if (s != HWS_OK)
        return s;
    hws_tfm_weights *w = calloc(1, sizeof *w);
    if (w) {
        w->cfg = *cfg;
        w->enc = calloc((size_t)cfg->n_enc + 1, sizeof *w->enc);
        w->dec = calloc((size_t)cfg->n_dec + 1, sizeof *w->dec);
    }
    *l = (param_list){0};
    if (!w || !w->enc || !w->dec || list_params(w, l) != 0) {
        hws_tfm_weights_free(w);
        free(l->p);
        *l = (param_list){0};
        hws_error_set(err, HWS_ERR_NOMEM, "out of memory for the weights");
        return HWS_ERR_NOMEM;
    }
    for (int i = 0; i < l->n; i++)
        w->n_floats += (size_t)l->p[i].dims[0] * (l->p[i].ndim == 2 ? l->p[i].dims[1] : 1);
    size_t params = w->n_floats, E = (size_t)cfg->d_model;
    w->n_floats += ((size_t)cfg->n_enc + 2 * (size_t)cfg->n_dec) * (E * E + E); /* vo maps */
    w->data = malloc(w->n_floats * sizeof(float));
    if (!w->data) {
        size_t n = w->n_floats;
        hws_tfm_weights_free(w);
        free(l->p);
        *l = (param_list){0};
        hws_error_set(err, HWS_ERR_NOMEM, "out of memory for %zu weights", n);
        return HWS_ERR_NOMEM;
    }
    size_t off = 0;
    for (int i = 0; i < l->n; i++) {
        *l->p[i].slot = w->data + off;
        off += (size_t)l->p[i].dims[0] * (l->p[i].ndim == 2 ? l->p[i].dims[1] : 1);
    }
    /* vo maps: encoder layers', then each decoder layer's self- and cross-attention (evenly
     * apart, so the decoder's can be one batched product) */
    for (int i = 0; i < cfg->n_enc + cfg->n_dec; i++)
        for (int m = 0; m < (i < cfg->n_enc ? 1 : 2); m++) {
            hws_tfm_layer *y = i < cfg->n_enc ? &w->enc[i] : &w->dec[i - cfg->n_enc];
            hws_tfm_lin *vo = m ? &y->ca.vo : &y->sa.vo;
            vo->w = w->data + params;
            vo->b = vo->w + E * E;
            params += E * E + E;
        }
    *out = w;
    return HWS_OK;
}

/* m.vo = out_proj after the value projection: w = W_out W_v, b = W_out b_v + b_out. */
static void fold_vo(hws_tfm_mha *m, int E) {
    const float *wv = m->in.w + (size_t)2 * E * E, *bv = m->in.b + 2 * E;
    float *w = (float *)m->vo.w, *b = (float *)m->vo.b;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, E, E, E, 1.0f, m->out.w, E, wv, E, 0.0f,
                w, E);
    memcpy(b, m->out.b, (size_t)E * sizeof *b);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, E, E, 1.0f, m->out.w, E, bv, 1, 1.0f, b, 1);
}

/* Derives every vo map once the parameters are in. */
static void fold_all(hws_tfm_weights *w) {
    for (int i = 0; i < w->cfg.n_enc; i++)
        fold_vo(&w->enc[i].sa, w->cfg.d_model);
    for (int i = 0; i < w->cfg.n_dec; i++) {
        fold_vo(&w->dec[i].sa, w->cfg.d_model);
        fold_vo(&w->dec[i].ca, w->cfg.d_model);
    }
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void hws_tfm_fill_uniform(float *x, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((double)(splitmix(&s) >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

hws_status hws_tfm_weights_random(const hws_tfm_config *cfg, uint64_t seed, hws_tfm_weights **out,
                                  hws_error *err) {
    param_list l;
    hws_status s = weights_alloc(cfg, out, &l, err);
    if (s != HWS_OK)
        return s;
    for (int i = 0; i < l.n; i++) {
        const param *p = &l.p[i];
        float *x = (float *)*p->slot;
        size_t n = (size_t)p->dims[0] * (p->ndim == 2 ? p->dims[1] : 1);
        hws_tfm_fill_uniform(x, n, seed * 1000003u + (uint64_t)i);
        float scale = p->fan_in > 0 ? 1.0f / sqrtf((float)p->fan_in) : 0.1f;
        for (size_t j = 0; j < n; j++)
            x[j] = x[j] * scale + (p->fan_in == 0 ? 1.0f : 0.0f);
    }
    fold_all(*out);
    free(l.p);
    return HWS_OK;
}

/* Reads an integer from the file's metadata into *v when present. */
static hws_status meta_int(const hws_safetensors *st, const char *key, int *v, hws_error *err) {
    const char *s = hws_safetensors_meta(st, key);
    if (!s)
        return HWS_OK;
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || *end || x < 0 || x > 1 << 20)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: __metadata__ '%s': '%.32s' is not a size",
                             st->label, key, s);
    *v = (int)x;
    return HWS_OK;
}

/* Sizes the tensors imply: d_model and d_ff from layer 0, layer counts by probing names. */
static void infer_sizes(const hws_safetensors *st, hws_tfm_config *cfg) {
    const hws_st_tensor *t = hws_safetensors_find(st, "encoder.norm.weight");
    if (t && t->ndim == 1 && t->shape[0] > 0 && t->shape[0] <= 65536)
        cfg->d_model = (int)t->shape[0];
    t = hws_safetensors_find(st, "encoder.layers.0.linear1.weight");
    if (t && t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= 1 << 20)
        cfg->d_ff = (int)t->shape[0];
    for (int dec = 0; dec < 2; dec++) {
        int n = 0;
        char name[96];
        for (;; n++) {
            snprintf(name, sizeof name, "%s.layers.%d.norm1.weight", dec ? "decoder" : "encoder",
                     n);
            if (!hws_safetensors_find(st, name) || n >= 1024)
                break;
        }
        *(dec ? &cfg->n_dec : &cfg->n_enc) = n;
    }
}

hws_status hws_tfm_weights_load(const char *path, hws_tfm_config *cfg, hws_tfm_weights **out,
                                hws_error *err) {
    hws_safetensors st;
    hws_status s = hws_safetensors_open(path, &st, err);
    if (s != HWS_OK)
        return s;
    infer_sizes(&st, cfg);
    static const char *keys[] = {"d_model", "nhead", "num_encoder_layers", "num_decoder_layers",
                                 "dim_feedforward"};
    int *vals[] = {&cfg->d_model, &cfg->nhead, &cfg->n_enc, &cfg->n_dec, &cfg->d_ff};
    for (int i = 0; i < 5 && s == HWS_OK; i++)
        s = meta_int(&st, keys[i], vals[i], err);
    hws_error why;
    if (s == HWS_OK && hws_tfm_config_check(cfg, &why) != HWS_OK)
        s = hws_error_set(err, HWS_ERR_INPUT, "%s: %s", path, why.msg);
    param_list l = {0};
    if (s == HWS_OK)
        s = weights_alloc(cfg, out, &l, err);
    for (int i = 0; i < l.n && s == HWS_OK; i++)
        s = hws_safetensors_read(&st, l.p[i].name, l.p[i].ndim, l.p[i].dims, (float *)*l.p[i].slot,
                                 err);
    if (s != HWS_OK && l.p) {
        hws_tfm_weights_free(*out);
        *out = NULL;
    } else if (s == HWS_OK) {
        fold_all(*out);
    }
    free(l.p);
    hws_safetensors_close(&st);
    return s;
}
