/* llm_load.c - LLM weights from a Hugging Face folder: every *.safetensors file in it (one file
 * or shards), tensors found by their transformers names, converted to float and handed to the
 * backend, which stores them in the model's format. Also the config.json fields the planner's
 * model spec does not carry (RoPE base and scaling, norm epsilon, biases). */
#include "engine/llm_load.h"
#include "format/safetensors.h"
#include "hwscope/gguf.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SHARDS 256

typedef struct {
    hws_safetensors st[MAX_SHARDS];
    int n;
    int n_experts; /* of the shape being read */
} shards;

/* The folder of path: path itself when a directory, else its parent. */
static hws_status folder_of(const char *path, char *dir, size_t n, hws_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: no such file or folder", path);
    int len = snprintf(dir, n, "%s", path);
    if (len < 0 || (size_t)len >= n)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: path too long", path);
    if (!S_ISDIR(sb.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, n, ".");
    }
    return HWS_OK;
}

static int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

static void shards_close(shards *sh) {
    for (int i = 0; i < sh->n; i++)
        hws_safetensors_close(&sh->st[i]);
    sh->n = 0;
}

static hws_status shards_open(const char *dir, shards *sh, hws_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: cannot open the folder", dir);
    hws_status st = HWS_OK;
    struct dirent *e;
    while (st == HWS_OK && (e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, ".safetensors"))
            continue;
        if (sh->n == MAX_SHARDS) {
            st = hws_error_set(err, HWS_ERR_INPUT, "%s: more than %d safetensors files", dir,
                               MAX_SHARDS);
            break;
        }
        char file[PATH_MAX];
        int len = snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof file)
            st = hws_error_set(err, HWS_ERR_INPUT, "%s: path too long", dir);
        else if ((st = hws_safetensors_open(file, &sh->st[sh->n], err)) == HWS_OK)
            sh->n++;
    }
    closedir(d);
    if (st == HWS_OK && sh->n == 0)
        st = hws_error_set(err, HWS_ERR_INPUT, "%s: no .safetensors file", dir);
    if (st != HWS_OK)
        shards_close(sh);
    return st;
}

/* The shard holding tensor name, or NULL. */
static const hws_safetensors *shard_of(const shards *sh, const char *name) {
    for (int i = 0; i < sh->n; i++)
        if (hws_safetensors_find(&sh->st[i], name))
            return &sh->st[i];
    return NULL;
}

/* Reads tensor name of rows x cols (cols 0: a vector of rows) into out; of an expert (>= 0)
 * from a 3-D file tensor (transformers 5's fused experts): its slab of [n_experts, rows, cols]. */
static hws_status read_part(void *src, hws_llm_weight w, int part, int expert, const char *name,
                            int rows, int cols, float *out, hws_error *err) {
    (void)w;
    (void)part;
    const shards *sh = src;
    const hws_safetensors *st = shard_of(sh, name);
    if (!st)
        return hws_error_set(err, HWS_ERR_INPUT, "tensor '%s' is in no safetensors file", name);
    const hws_st_tensor *t = hws_safetensors_find(st, name);
    if (expert >= 0 && t->ndim == 3) {
        int64_t dims[3] = {sh->n_experts, rows, cols};
        return hws_safetensors_read_slab(st, name, expert, 3, dims, out, err);
    }
    int64_t dims[2] = {rows, cols};
    return hws_safetensors_read(st, name, cols ? 2 : 1, dims, out, err);
}

/* Mixtral's experts as transformers 4 saves them (block_sparse_moe, an nn.Linear per expert:
 * w1 gate, w3 up, w2 down) or, when the file has them, transformers 5's fused [n_experts, ...]
 * tensors (mlp.experts.gate_up_proj: gate rows then up rows; mlp.experts.down_proj). */
static int expert_parts(const shards *sh, const hws_llm_shape *s, int l, hws_llm_weight w,
                        int expert, char names[3][96], int rows[3]) {
    char fused[96];
    snprintf(fused, sizeof fused, "model.layers.%d.mlp.experts.gate_up_proj", l);
    int v5 = shard_of(sh, fused) != NULL;
    if (w == HWS_LLM_W_ROUTER) {
        snprintf(names[0], 96, "model.layers.%d.%s.gate.weight", l,
                 v5 ? "mlp" : "block_sparse_moe");
        return 1;
    }
    if (v5) {
        snprintf(names[0], 96, "model.layers.%d.mlp.experts.%s", l,
                 w == HWS_LLM_W_EXP_GATE_UP ? "gate_up_proj" : "down_proj");
        rows[0] = w == HWS_LLM_W_EXP_GATE_UP ? 2 * s->d_ff_expert : s->d_model;
        return 1;
    }
    const char *p = "model.layers.%d.block_sparse_moe.experts.%d.w%d.weight";
    if (w == HWS_LLM_W_EXP_DOWN) {
        snprintf(names[0], 96, p, l, expert, 2);
        rows[0] = s->d_model;
        return 1;
    }
    snprintf(names[0], 96, p, l, expert, 1);
    snprintf(names[1], 96, p, l, expert, 3);
    rows[0] = rows[1] = s->d_ff_expert;
    return 2;
}

/* The parts of weight w of layer l: transformers names and their rows (a joined weight has
 * several, stacked). Returns the count. */
static int parts_of(void *src, const hws_llm_shape *s, int l, hws_llm_weight w, int expert,
                    char names[3][96], int rows[3]) {
    if (w == HWS_LLM_W_ROUTER || hws_llm_weight_is_experts(w))
        return expert_parts(src, s, l, w, expert, names, rows);
    const char *p3[3] = {NULL, NULL, NULL};
    int qr = s->n_heads * s->head_dim, kr = s->n_kv_heads * s->head_dim;
    int r3[3] = {0, 0, 0}, n = 1;
    switch (w) {
    case HWS_LLM_W_ATTN_NORM:
        p3[0] = "input_layernorm.weight";
        break;
    case HWS_LLM_W_QKV:
    case HWS_LLM_B_QKV: {
        int bias = w == HWS_LLM_B_QKV;
        p3[0] = bias ? "self_attn.q_proj.bias" : "self_attn.q_proj.weight";
        p3[1] = bias ? "self_attn.k_proj.bias" : "self_attn.k_proj.weight";
        p3[2] = bias ? "self_attn.v_proj.bias" : "self_attn.v_proj.weight";
        r3[0] = qr;
        r3[1] = r3[2] = kr;
        n = 3;
        break;
    }
    case HWS_LLM_W_O:
        p3[0] = "self_attn.o_proj.weight";
        break;
    case HWS_LLM_W_FFN_NORM:
        p3[0] = "post_attention_layernorm.weight";
        break;
    case HWS_LLM_W_GATE_UP:
        p3[0] = "mlp.gate_proj.weight";
        p3[1] = "mlp.up_proj.weight";
        r3[0] = r3[1] = s->d_ff;
        n = 2;
        break;
    case HWS_LLM_W_DOWN:
        p3[0] = "mlp.down_proj.weight";
        break;
    case HWS_LLM_W_EMBED:
        snprintf(names[0], 96, "model.embed_tokens.weight");
        break;
    case HWS_LLM_W_OUT_NORM:
        snprintf(names[0], 96, "model.norm.weight");
        break;
    default:
        snprintf(names[0], 96, s->head_from_embed ? "model.embed_tokens.weight" : "lm_head.weight");
        break;
    }
    for (int i = 0; i < n; i++) {
        if (p3[i])
            snprintf(names[i], 96, "model.layers.%d.%s", l, p3[i]);
        rows[i] = r3[i];
    }
    return n;
}

hws_status hws_llm_load_weights(const char *path, const hws_llm_shape *s, const hws_llm_backend *be,
                                void *ctx, hws_error *err) {
    if (ends_with(path, ".gguf"))
        return hws_llm_load_gguf(path, s, be, ctx, err);
    char dir[PATH_MAX];
    hws_status st = folder_of(path, dir, sizeof dir, err);
    shards *sh = st == HWS_OK ? calloc(1, sizeof *sh) : NULL;
    if (st != HWS_OK)
        return st;
    if (!sh)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    if ((st = shards_open(dir, sh, err)) != HWS_OK) {
        free(sh);
        return st;
    }
    sh->n_experts = s->n_experts;
    st = hws_llm_load_each(s, be, ctx, parts_of, read_part, sh, err);
    shards_close(sh);
    free(sh);
    return st;
}

/* Weight w of layer l (of expert `expert`, or -1) read part by part into out; the floats read. */
static hws_status load_parts(const hws_llm_shape *s, int l, hws_llm_weight w, int expert,
                             hws_llm_part_names names_of, hws_llm_read_part read, void *src,
                             float *out, size_t *at, hws_error *err) {
    int rows, cols;
    hws_llm_weight_dims(s, w, &rows, &cols);
    if (expert >= 0)
        rows /= s->n_experts;
    char names[3][96];
    int prow[3] = {0, 0, 0};
    int n = names_of(src, s, l, w, expert, names, prow), vector = rows == 1;
    hws_status st = HWS_OK;
    for (int i = 0; i < n && st == HWS_OK; i++) {
        int pr = n == 1 && expert < 0 ? (vector ? cols : rows) : prow[i];
        st = read(src, w, i, expert, names[i], pr, vector ? 0 : cols, out + *at, err);
        *at += (size_t)pr * (vector ? 1 : cols);
    }
    return st;
}

hws_status hws_llm_load_each(const hws_llm_shape *s, const hws_llm_backend *be, void *ctx,
                             hws_llm_part_names names_of, hws_llm_read_part read, void *src,
                             hws_error *err) {
    float *buf = malloc(hws_llm_largest_weight(s) * sizeof *buf);
    hws_status st = buf ? HWS_OK : hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    for (int l = -1; l < s->n_layers && st == HWS_OK; l++)
        for (int w = 0; w < HWS_LLM_W_COUNT && st == HWS_OK; w++) {
            int rows, cols;
            hws_llm_weight_dims(s, (hws_llm_weight)w, &rows, &cols);
            if ((l < 0) != (w >= HWS_LLM_W_EMBED) || rows == 0)
                continue;
            int experts = hws_llm_weight_is_experts((hws_llm_weight)w) ? s->n_experts : 0;
            size_t at = 0;
            for (int e = experts ? 0 : -1; e < experts && st == HWS_OK; e++)
                st = load_parts(s, l, (hws_llm_weight)w, e, names_of, read, src, buf, &at, err);
            if (st == HWS_OK)
                st = be->set_weight(ctx, l, (hws_llm_weight)w, buf, err);
        }
    free(buf);
    return st;
}

/* A number of a config.json object, or def when absent or not a number. */
static double json_num(const cJSON *o, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* A GGUF's RoPE base and norm epsilon (<arch>.rope.freq_base, <arch>.attention.
 * layer_norm_rms_epsilon) over the spec's shape s. */
static hws_status gguf_shape(const char *path, hws_llm_shape *s, hws_llm_shape *out,
                             hws_error *err) {
    hws_gguf *g;
    hws_status st = hws_gguf_open(path, &g, err);
    if (st != HWS_OK)
        return st;
    const char *arch = hws_gguf_get_str(g, "general.architecture");
    char key[128];
    snprintf(key, sizeof key, "%s.rope.freq_base", arch ? arch : "");
    const hws_gguf_kv *kv = hws_gguf_find(g, key);
    if (kv && kv->f > 1.0)
        s->rope_theta = (float)kv->f;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch ? arch : "");
    kv = hws_gguf_find(g, key);
    if (kv && kv->f > 0.0)
        s->rms_eps = (float)kv->f;
    hws_gguf_close(g);
    st = hws_llm_shape_check(s, err);
    if (st == HWS_OK)
        *out = *s;
    return st;
}

hws_status hws_llm_shape_from_file(const char *path, hws_llm_shape *out, hws_error *err) {
    hws_model_spec spec;
    hws_status st = hws_model_resolve(path, &spec, err);
    hws_llm_shape s;
    if (st == HWS_OK)
        st = hws_llm_shape_from_spec(&spec, &s, err);
    if (st != HWS_OK)
        return st;
    if (ends_with(path, ".gguf"))
        return gguf_shape(path, &s, out, err);
    char dir[PATH_MAX], file[PATH_MAX + 16];
    struct stat sb;
    if (stat(path, &sb) != 0) { /* a catalog name: the spec is all there is */
        *out = s;
        return HWS_OK;
    }
    if ((st = folder_of(path, dir, sizeof dir, err)) != HWS_OK)
        return st;
    snprintf(file, sizeof file, "%s/config.json", dir);
    char *text;
    size_t len;
    if (hws_file_read(file, 1 << 20, &text, &len, err) != HWS_OK) { /* a GGUF: spec only */
        *out = s;
        return HWS_OK;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: not JSON", file);
    /* transformers 5 keeps rope_theta and the scaling in rope_parameters */
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, "rope_parameters");
    s.rope_theta = (float)json_num(root, "rope_theta", json_num(rp, "rope_theta", s.rope_theta));
    s.rms_eps = (float)json_num(root, "rms_norm_eps", s.rms_eps);
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(root, "attention_bias");
    if (cJSON_IsBool(bias))
        s.qkv_bias = cJSON_IsTrue(bias);
    const cJSON *use_sw = cJSON_GetObjectItemCaseSensitive(root, "use_sliding_window");
    if (cJSON_IsBool(use_sw) && !cJSON_IsTrue(use_sw))
        s.sliding_window = 0;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (!sc || cJSON_IsNull(sc))
        sc = rp;
    const cJSON *type = sc ? cJSON_GetObjectItemCaseSensitive(sc, "rope_type") : NULL;
    if (sc && !type) /* older configs: "type" */
        type = cJSON_GetObjectItemCaseSensitive(sc, "type");
    const char *type_name = cJSON_GetStringValue(type); /* NULL unless a string */
    if (!type_name)
        type_name = "";
    s.rope_factor = 0.0f;
    if (strcmp(type_name, "llama3") == 0) {
        s.rope_factor = (float)json_num(sc, "factor", 8.0);
        s.rope_low_freq_factor = (float)json_num(sc, "low_freq_factor", 1.0);
        s.rope_high_freq_factor = (float)json_num(sc, "high_freq_factor", 4.0);
        s.rope_original_max_pos = (int)json_num(sc, "original_max_position_embeddings", 8192);
    } else if (type_name[0] != '\0' && strcmp(type_name, "default") != 0) {
        st = hws_error_set(err, HWS_ERR_UNSUPPORTED,
                           "%s: rope_scaling other than llama3 is not run by the engine", file);
    }
    cJSON_Delete(root);
    if (st == HWS_OK)
        st = hws_llm_shape_check(&s, err);
    if (st == HWS_OK)
        *out = s;
    return st;
}
