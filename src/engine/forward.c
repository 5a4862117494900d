/* forward.c - nn.Transformer's forward pass (post-LayerNorm, eval mode), written once over a
 * backend's operations; also the model's sizes and operation count. */
#include "engine/backend.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

hws_tfm_config hws_tfm_config_default(void) {
    return (hws_tfm_config){512, 8, 6, 6, 2048, 1e-5f};
}

hws_status hws_tfm_config_check(const hws_tfm_config *cfg, hws_error *err) {
    if (cfg->d_model < 1 || cfg->d_model > 65536)
        return hws_error_set(err, HWS_ERR_INPUT, "d_model %d is not in 1..65536", cfg->d_model);
    if (cfg->nhead < 1 || cfg->d_model % cfg->nhead != 0)
        return hws_error_set(err, HWS_ERR_INPUT, "nhead %d does not divide d_model %d", cfg->nhead,
                             cfg->d_model);
    if (cfg->d_model / cfg->nhead > 256)
        return hws_error_set(err, HWS_ERR_INPUT, "head size %d is over 256",
                             cfg->d_model / cfg->nhead);
    if (cfg->n_enc < 0 || cfg->n_enc > 1024 || cfg->n_dec < 0 || cfg->n_dec > 1024)
        return hws_error_set(err, HWS_ERR_INPUT, "layer counts %d, %d are not in 0..1024",
                             cfg->n_enc, cfg->n_dec);
    if (cfg->d_ff < 1 || cfg->d_ff > 1 << 20)
        return hws_error_set(err, HWS_ERR_INPUT, "dim_feedforward %d is not in 1..1048576",
                             cfg->d_ff);
    if (!(cfg->ln_eps > 0))
        return hws_error_set(err, HWS_ERR_INPUT, "LayerNorm eps must be positive");
    return HWS_OK;
}

int hws_tfm_buf_width(const hws_tfm_config *cfg, hws_tfm_buf b) {
    switch (b) {
    case HWS_BUF_QKV:
        return 3 * cfg->d_model;
    case HWS_BUF_KV:
        return 2 * cfg->d_model * (cfg->n_dec > 1 ? cfg->n_dec : 1);
    case HWS_BUF_FF:
        return cfg->d_ff;
    default:
        return cfg->d_model;
    }
}

double hws_tfm_flops(const hws_tfm_config *cfg, int S, int N) {
    double T = (double)S * N, E = cfg->d_model, F = cfg->d_ff;
    double attn = 4.0 * N * (double)S * S * E; /* scores and weighted sum, all heads */
    double ffn = 2.0 * T * (2.0 * E * F);
    double enc = 2.0 * T * 4.0 * E * E + attn + ffn;
    double dec = 2.0 * T * 8.0 * E * E + 2.0 * attn + ffn;
    return cfg->n_enc * enc + cfg->n_dec * dec;
}

double hws_tfm_flops_run(const hws_tfm_config *cfg, int S, int N, const hws_tfm_options *opt) {
    if (!hws_tfm_folds(opt, S))
        return hws_tfm_flops(cfg, S, N);
    /* folded: no attention; each self-attention block is one E x E map (vo), and each decoder
     * layer's cross-attention one E x E map of the encoder's output (the vo maps themselves are
     * made once, with the weights) */
    double T = (double)S * N, E = cfg->d_model, F = cfg->d_ff;
    double ffn = 2.0 * T * (2.0 * E * F);
    double enc = 2.0 * T * E * E + ffn;
    double dec = 2.0 * 2.0 * T * E * E + ffn;
    return cfg->n_enc * enc + cfg->n_dec * dec;
}

typedef struct {
    const hws_tfm_ops *ops;
    void *ctx;
    const hws_tfm_config *cfg;
    int S, N, rows;
    int one_key; /* S == 1: every attention sees one key, so its output is that key's value */
    hws_error *err;
} fwd;

/* ATT = attention(q of QKV or TMP, k and v of kv) for self- or cross-attention. */
static hws_status attend(fwd *f, hws_tfm_view q, hws_tfm_view k, hws_tfm_view v) {
    int E = f->cfg->d_model;
    hws_tfm_attn_args a = {
        q, k, v, HWS_BUF_ATT, f->S, f->S, f->N, f->cfg->nhead, E / f->cfg->nhead};
    return f->ops->attention(f->ctx, &a, f->err);
}

static hws_status add_ln(fwd *f, hws_tfm_buf out, hws_tfm_buf x, int r, const hws_tfm_ln *ln) {
    return f->ops->add_ln(f->ctx, out, x, r, ln, f->rows, f->cfg->d_model, f->cfg->ln_eps, f->err);
}

/* x_out = ln(x + out_proj(ATT)) */
static hws_status project_add_ln(fwd *f, const hws_tfm_lin *out, hws_tfm_buf x, hws_tfm_buf x_out,
                                 const hws_tfm_ln *ln) {
    int E = f->cfg->d_model;
    hws_status st =
        f->ops->linear(f->ctx, HWS_BUF_TMP, HWS_BUF_ATT, f->rows, E, E, out->w, out->b, 0, f->err);
    return st == HWS_OK ? add_ln(f, x_out, x, HWS_BUF_TMP, ln) : st;
}

/* x_out = ln(x + self_attn(x)). With one key the softmax weight is exactly 1, so queries and
 * keys cannot change the output: the block is the folded map vo (value then output projection). */
static hws_status self_block(fwd *f, const hws_tfm_mha *m, hws_tfm_buf x, hws_tfm_buf x_out,
                             const hws_tfm_ln *ln) {
    int E = f->cfg->d_model;
    hws_status st;
    if (f->one_key) {
        st = f->ops->linear(f->ctx, HWS_BUF_TMP, x, f->rows, E, E, m->vo.w, m->vo.b, 0, f->err);
        return st == HWS_OK ? add_ln(f, x_out, x, HWS_BUF_TMP, ln) : st;
    }
    st = f->ops->linear(f->ctx, HWS_BUF_QKV, x, f->rows, E, 3 * E, m->in.w, m->in.b, 0, f->err);
    if (st == HWS_OK)
        st = attend(f, (hws_tfm_view){HWS_BUF_QKV, 3 * E, 0, 0},
                    (hws_tfm_view){HWS_BUF_QKV, 3 * E, E, 0},
                    (hws_tfm_view){HWS_BUF_QKV, 3 * E, 2 * E, 0});
    return st == HWS_OK ? project_add_ln(f, &m->out, x, x_out, ln) : st;
}

/* The distance in floats between the decoder layers' copies of the weight pointer at byte
 * offset member of hws_tfm_layer (layer i's at i times it from layer 0's), or -1 when they are
 * not evenly laid out. */
static long even_stride(const hws_tfm_weights *w, size_t member) {
    const float *p0 = *(const float *const *)((const char *)&w->dec[0] + member);
    long d = 0;
    for (int i = 1; i < w->cfg.n_dec; i++) {
        const float *p = *(const float *const *)((const char *)&w->dec[i] + member);
        if (i == 1)
            d = (long)(p - p0);
        if (p != p0 + i * d)
            return -1;
    }
    return d;
}

#define DEC_STRIDE(w, field) even_stride(w, offsetof(hws_tfm_layer, field))

/* The decoder's cross-attention inputs from the encoder's output MEM, for every layer in one
 * batched product (the layers' weights lie evenly apart in hws_tfm_weights, checked):
 * KV[i] = MEM in_proj[k, v]^T of layer i. With one key the cross-attention output does not
 * depend on the decoder at all: KV[i] is that output, MEM vo^T of layer i. */
static hws_status cross_kv(fwd *f, const hws_tfm_weights *w) {
    int E = f->cfg->d_model, n = f->cfg->n_dec;
    const hws_tfm_mha *ca = &w->dec[0].ca;
    long ws = f->one_key ? DEC_STRIDE(w, ca.vo.w) : DEC_STRIDE(w, ca.in.w);
    long bs = f->one_key ? DEC_STRIDE(w, ca.vo.b) : DEC_STRIDE(w, ca.in.b);
    if (ws < 0 || bs < 0)
        return hws_error_set(f->err, HWS_ERR_RUNTIME, "decoder weights are not evenly laid out");
    if (f->one_key)
        return f->ops->linear_batched(f->ctx, HWS_BUF_KV, HWS_BUF_MEM, f->rows, E, E, ca->vo.w, ws,
                                      ca->vo.b, bs, n, f->err);
    return f->ops->linear_batched(f->ctx, HWS_BUF_KV, HWS_BUF_MEM, f->rows, E, 2 * E,
                                  ca->in.w + (size_t)E * E, ws, ca->in.b + E, bs, n, f->err);
}

/* Both attention sub-layers of decoder layer i with one key: Y = n2(n1(y + self_attn(y)) +
 * cross_attn), the cross-attention output being KV[i] from cross_kv. */
static hws_status one_key_dec_attn(fwd *f, const hws_tfm_layer *l, int i, hws_tfm_buf y) {
    int E = f->cfg->d_model;
    hws_status st =
        f->ops->linear(f->ctx, HWS_BUF_TMP, y, f->rows, E, E, l->sa.vo.w, l->sa.vo.b, 0, f->err);
    return st == HWS_OK ? f->ops->add_ln2(f->ctx, HWS_BUF_Y, y, HWS_BUF_TMP, &l->n1, HWS_BUF_KV,
                                          (size_t)i * f->rows * E, &l->n2, f->rows, E,
                                          f->cfg->ln_eps, f->err)
                        : st;
}

/* y = ln(y + cross_attn(y, keys and values KV[layer])) */
static hws_status cross_block(fwd *f, const hws_tfm_mha *m, int layer, const hws_tfm_ln *ln) {
    int E = f->cfg->d_model;
    size_t off = (size_t)layer * f->rows * 2 * E;
    hws_status st =
        f->ops->linear(f->ctx, HWS_BUF_TMP, HWS_BUF_Y, f->rows, E, E, m->in.w, m->in.b, 0, f->err);
    if (st == HWS_OK)
        st = attend(f, (hws_tfm_view){HWS_BUF_TMP, E, 0, 0},
                    (hws_tfm_view){HWS_BUF_KV, 2 * E, 0, off},
                    (hws_tfm_view){HWS_BUF_KV, 2 * E, E, off});
    return st == HWS_OK ? project_add_ln(f, &m->out, HWS_BUF_Y, HWS_BUF_Y, ln) : st;
}

/* x = ln(x + linear2(relu(linear1(x)))); with last set (a stack's last layer), its final norm
 * follows in the same step: out = last(ln(x + ...)). */
static hws_status ff_block(fwd *f, const hws_tfm_layer *l, hws_tfm_buf x, const hws_tfm_ln *ln,
                           const hws_tfm_ln *last, hws_tfm_buf out) {
    int E = f->cfg->d_model, F = f->cfg->d_ff;
    hws_status st =
        f->ops->linear(f->ctx, HWS_BUF_FF, x, f->rows, E, F, l->l1.w, l->l1.b, 1, f->err);
    if (st == HWS_OK)
        st = f->ops->linear(f->ctx, HWS_BUF_TMP, HWS_BUF_FF, f->rows, F, E, l->l2.w, l->l2.b, 0,
                            f->err);
    if (st != HWS_OK)
        return st;
    if (last)
        return f->ops->add_ln2(f->ctx, out, x, HWS_BUF_TMP, ln, -1, 0, last, f->rows, E,
                               f->cfg->ln_eps, f->err);
    return add_ln(f, x, x, HWS_BUF_TMP, ln);
}

hws_tfm_options hws_tfm_options_default(void) {
    return (hws_tfm_options){0};
}

int hws_tfm_folds(const hws_tfm_options *opt, int S) {
    return S == 1 && opt != NULL && opt->fold;
}

hws_status hws_tfm_run(const hws_tfm_weights *w, int S, int N, int fold, const hws_tfm_ops *ops,
                       void *ctx, hws_error *err) {
    const hws_tfm_config *cfg = &w->cfg;
    fwd f = {ops, ctx, cfg, S, N, S * N, S == 1 && fold, err};
    /* the first sub-layer reads SRC (TGT) and writes X (Y), so the inputs are never written */
    hws_tfm_buf x = HWS_BUF_SRC;
    hws_status st = HWS_OK;
    for (int i = 0; i < cfg->n_enc && st == HWS_OK; i++) {
        const hws_tfm_layer *l = &w->enc[i];
        st = self_block(&f, &l->sa, x, HWS_BUF_X, &l->n1);
        x = HWS_BUF_X;
        if (st == HWS_OK)
            st = ff_block(&f, l, x, &l->n2, i == cfg->n_enc - 1 ? &w->enc_norm : NULL, HWS_BUF_MEM);
    }
    if (st == HWS_OK && cfg->n_enc == 0)
        st = add_ln(&f, HWS_BUF_MEM, x, -1, &w->enc_norm);
    if (st == HWS_OK && cfg->n_dec > 0)
        st = cross_kv(&f, w);
    hws_tfm_buf y = HWS_BUF_TGT;
    for (int i = 0; i < cfg->n_dec && st == HWS_OK; i++) {
        const hws_tfm_layer *l = &w->dec[i];
        if (f.one_key)
            st = one_key_dec_attn(&f, l, i, y);
        else
            st = self_block(&f, &l->sa, y, HWS_BUF_Y, &l->n1);
        y = HWS_BUF_Y;
        if (st == HWS_OK && !f.one_key)
            st = cross_block(&f, &l->ca, i, &l->n2);
        if (st == HWS_OK)
            st = ff_block(&f, l, y, &l->n3, i == cfg->n_dec - 1 ? &w->dec_norm : NULL, HWS_BUF_OUT);
    }
    return st == HWS_OK && cfg->n_dec == 0 ? add_ln(&f, HWS_BUF_OUT, y, -1, &w->dec_norm) : st;
}
