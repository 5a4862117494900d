/* llm_gguf.c - LLM weights from a GGUF file (llama.cpp's format): the tensor table read by the
 * planner's reader (hws_gguf), the data memory-mapped, each tensor dequantised to float (F32,
 * F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K) and handed to the backend, which stores it in the model's
 * format; Mixtral's experts read a slab at a time from llama.cpp's 3-D ffn_*_exps tensors.
 * llama.cpp's converter interleaves the RoPE pairs of Llama's q and k rows; they are put back in
 * Hugging Face order (rotate-half), which the engine uses. */
#include "engine/llm_load.h"
#include "engine/llm_quant.h"
#include "hwscope/gguf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define QK_K 256

static float f16_at(const uint8_t *p) {
    return hws_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

/* Q4_K and Q5_K: scale and min j (6 bits each) of the 12 packed bytes q. */
static void scale_min_k4(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

size_t hws_llm_gguf_block(int type, int *elems) {
    switch (type) {
    case HWS_GGML_F32:
        *elems = 1;
        return 4;
    case HWS_GGML_F16:
    case HWS_GGML_BF16:
        *elems = 1;
        return 2;
    case HWS_GGML_Q8_0:
        *elems = 32;
        return 34;
    case HWS_GGML_Q4_0:
        *elems = 32;
        return 18;
    case HWS_GGML_Q4_K:
        *elems = QK_K;
        return 144;
    case HWS_GGML_Q6_K:
        *elems = QK_K;
        return 210;
    default:
        *elems = 0;
        return 0;
    }
}

/* One block of type at p into y (elems of hws_llm_gguf_block). */
static void dequant_block(int type, const uint8_t *p, float *y) {
    switch (type) {
    case HWS_GGML_F32:
        memcpy(y, p, 4);
        break;
    case HWS_GGML_F16:
        y[0] = f16_at(p);
        break;
    case HWS_GGML_BF16:
        y[0] = hws_bf16_to_f32((uint16_t)(p[0] | p[1] << 8));
        break;
    case HWS_GGML_Q8_0: {
        float d = f16_at(p);
        for (int i = 0; i < 32; i++)
            y[i] = (float)(int8_t)p[2 + i] * d;
        break;
    }
    case HWS_GGML_Q4_0: {
        float d = f16_at(p);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((p[2 + j] & 15) - 8) * d;
            y[j + 16] = (float)((p[2 + j] >> 4) - 8) * d;
        }
        break;
    }
    case HWS_GGML_Q4_K: { /* d, dmin, 12 bytes of scales and mins, 128 bytes of nibbles */
        float d = f16_at(p), dmin = f16_at(p + 2);
        const uint8_t *sc = p + 4, *q = p + 16;
        for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
            int s1, m1, s2, m2;
            scale_min_k4(is, sc, &s1, &m1);
            scale_min_k4(is + 1, sc, &s2, &m2);
            for (int l = 0; l < 32; l++) {
                y[j + l] = d * (float)s1 * (float)(q[l] & 15) - dmin * (float)m1;
                y[j + 32 + l] = d * (float)s2 * (float)(q[l] >> 4) - dmin * (float)m2;
            }
        }
        break;
    }
    default: { /* Q6_K: 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, d */
        const uint8_t *ql = p, *qh = p + 128;
        const int8_t *sc = (const int8_t *)(p + 192);
        float d = f16_at(p + 208);
        for (int n = 0; n < QK_K; n += 128, ql += 64, qh += 32, sc += 8)
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[n + l] = d * (float)sc[is] * (float)q1;
                y[n + l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[n + l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[n + l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        break;
    }
    }
}

hws_status hws_llm_gguf_dequant(int type, const uint8_t *src, size_t n, float *out,
                                hws_error *err) {
    int elems;
    size_t bytes = hws_llm_gguf_block(type, &elems);
    if (bytes == 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED,
                             "ggml type %d is not read by the engine (F32, F16, BF16, Q8_0, Q4_0, "
                             "Q4_K, Q6_K are)",
                             type);
    if (n % (size_t)elems)
        return hws_error_set(err, HWS_ERR_INPUT, "%zu elements are not whole blocks of %d", n,
                             elems);
    for (size_t b = 0; b < n / (size_t)elems; b++)
        dequant_block(type, src + b * bytes, out + b * (size_t)elems);
    return HWS_OK;
}

/* Rows of each head back from llama.cpp's interleaved pairs to rotate-half order. */
static void unpermute_heads(float *w, int heads, int head_dim, int cols, float *tmp) {
    int half = head_dim / 2;
    for (int h = 0; h < heads; h++) {
        float *hw = w + (size_t)h * head_dim * cols;
        memcpy(tmp, hw, sizeof(float) * (size_t)head_dim * cols);
        for (int t = 0; t < 2; t++)
            for (int j = 0; j < half; j++)
                memcpy(hw + (size_t)(t * half + j) * cols, tmp + (size_t)(2 * j + t) * cols,
                       sizeof(float) * (size_t)cols);
    }
}

typedef struct {
    const hws_gguf *g;
    const uint8_t *data; /* the mapped data section */
    size_t data_len;
    const char *path;
    int llama_rope; /* q and k rows interleaved by the converter */
    int head_dim;
    int n_experts;
} gguf_src;

/* Tensor name, rows x cols (cols 0: a vector of rows) into out; of an expert (>= 0): its slab
 * of the tensor of every expert (ffn_*_exps: ggml dims cols, rows, n_experts). */
static hws_status read_tensor(const gguf_src *f, const char *name, int expert, int rows, int cols,
                              float *out, hws_error *err) {
    const hws_gguf_tensor *t = hws_gguf_tensor_find(f->g, name);
    if (!t)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: tensor '%s' is missing", f->path, name);
    uint64_t want_cols = cols ? (uint64_t)cols : (uint64_t)rows, want_rows = cols ? rows : 1;
    uint64_t slabs = expert >= 0 ? (uint64_t)f->n_experts : 1, all_rows = want_rows * slabs;
    if (t->dims[0] != want_cols || t->n_elements != want_cols * all_rows ||
        (expert >= 0 && (t->dims[1] != want_rows || (uint64_t)expert >= slabs)))
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: tensor '%s' is %llu x %llu, not the expected %llu x %llu%s",
                             f->path, name, (unsigned long long)t->dims[0],
                             (unsigned long long)(t->n_elements / (t->dims[0] ? t->dims[0] : 1)),
                             (unsigned long long)want_cols, (unsigned long long)all_rows,
                             expert >= 0 ? " (every expert's rows)" : "");
    if (t->offset > f->data_len || t->bytes > f->data_len - t->offset)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: tensor '%s' runs past the end of the file",
                             f->path, name);
    uint64_t n = t->n_elements / slabs, skip = 0;
    if (expert >= 0) { /* a slab is whole blocks of the type, or not read */
        int elems;
        size_t block = hws_llm_gguf_block(t->type, &elems);
        if (block == 0 || n % (uint64_t)elems)
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "%s: tensor '%s': an expert's rows are not whole blocks of ggml "
                                 "type %d",
                                 f->path, name, t->type);
        skip = (uint64_t)expert * (n / (uint64_t)elems) * block;
    }
    hws_status st = hws_llm_gguf_dequant(t->type, f->data + t->offset + skip, n, out, err);
    if (st != HWS_OK)
        return hws_error_set(err, st, "%s: tensor '%s': %s", f->path, name, err->msg);
    return HWS_OK;
}

/* The GGUF names of the parts of weight w of layer l and their rows (experts: of one expert,
 * a slab of llama.cpp's ffn_gate_exps / ffn_up_exps / ffn_down_exps). */
static int parts_of(void *src, const hws_llm_shape *s, int l, hws_llm_weight w, int expert,
                    char names[3][96], int rows[3]) {
    (void)src;
    (void)expert;
    static const char *const one[HWS_LLM_W_COUNT] = {[HWS_LLM_W_ATTN_NORM] = "attn_norm.weight",
                                                     [HWS_LLM_W_O] = "attn_output.weight",
                                                     [HWS_LLM_W_FFN_NORM] = "ffn_norm.weight",
                                                     [HWS_LLM_W_DOWN] = "ffn_down.weight",
                                                     [HWS_LLM_W_ROUTER] = "ffn_gate_inp.weight"};
    int q = s->n_heads * s->head_dim, kv = s->n_kv_heads * s->head_dim;
    rows[0] = rows[1] = rows[2] = 0;
    switch (w) {
    case HWS_LLM_W_QKV:
    case HWS_LLM_B_QKV: {
        const char *kind = w == HWS_LLM_B_QKV ? "bias" : "weight";
        snprintf(names[0], 96, "blk.%d.attn_q.%s", l, kind);
        snprintf(names[1], 96, "blk.%d.attn_k.%s", l, kind);
        snprintf(names[2], 96, "blk.%d.attn_v.%s", l, kind);
        rows[0] = q;
        rows[1] = rows[2] = kv;
        return 3;
    }
    case HWS_LLM_W_GATE_UP:
        snprintf(names[0], 96, "blk.%d.ffn_gate.weight", l);
        snprintf(names[1], 96, "blk.%d.ffn_up.weight", l);
        rows[0] = rows[1] = s->d_ff;
        return 2;
    case HWS_LLM_W_EXP_GATE_UP:
        snprintf(names[0], 96, "blk.%d.ffn_gate_exps.weight", l);
        snprintf(names[1], 96, "blk.%d.ffn_up_exps.weight", l);
        rows[0] = rows[1] = s->d_ff_expert;
        return 2;
    case HWS_LLM_W_EXP_DOWN:
        snprintf(names[0], 96, "blk.%d.ffn_down_exps.weight", l);
        rows[0] = s->d_model;
        return 1;
    case HWS_LLM_W_EMBED:
        snprintf(names[0], 96, "token_embd.weight");
        return 1;
    case HWS_LLM_W_OUT_NORM:
        snprintf(names[0], 96, "output_norm.weight");
        return 1;
    case HWS_LLM_W_OUTPUT:
        snprintf(names[0], 96, s->head_from_embed ? "token_embd.weight" : "output.weight");
        return 1;
    default:
        snprintf(names[0], 96, "blk.%d.%s", l, one[w]);
        return 1;
    }
}

/* A part, with Llama's q and k rows put back in rotate-half order. */
static hws_status read_part(void *src, hws_llm_weight w, int part, int expert, const char *name,
                            int rows, int cols, float *out, hws_error *err) {
    const gguf_src *f = src;
    hws_status st = read_tensor(f, name, expert, rows, cols, out, err);
    if (st == HWS_OK && f->llama_rope && w == HWS_LLM_W_QKV && part < 2) {
        float *tmp = malloc((size_t)f->head_dim * cols * sizeof *tmp);
        if (!tmp)
            return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        unpermute_heads(out, rows / f->head_dim, f->head_dim, cols, tmp);
        free(tmp);
    }
    return st;
}

hws_status hws_llm_load_gguf(const char *path, const hws_llm_shape *s, const hws_llm_backend *be,
                             void *ctx, hws_error *err) {
    hws_gguf *g;
    hws_status st = hws_gguf_open(path, &g, err);
    if (st != HWS_OK)
        return st;
    int fd = open(path, O_RDONLY);
    struct stat sb;
    void *map = MAP_FAILED;
    if (fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size > 0)
        map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (fd >= 0)
        close(fd);
    if (map == MAP_FAILED) {
        hws_gguf_close(g);
        return hws_error_set(err, HWS_ERR_INPUT, "%s: cannot map the file", path);
    }
    uint64_t off = hws_gguf_data_offset(g);
    const char *arch = hws_gguf_get_str(g, "general.architecture");
    gguf_src f = {g,
                  (const uint8_t *)map + off,
                  off <= (uint64_t)sb.st_size ? (size_t)((uint64_t)sb.st_size - off) : 0,
                  path,
                  arch && strcmp(arch, "llama") == 0,
                  s->head_dim,
                  s->n_experts};
    st = hws_llm_load_each(s, be, ctx, parts_of, read_part, &f, err);
    munmap(map, (size_t)sb.st_size);
    hws_gguf_close(g);
    return st;
}
