/* model.c - a model's parameter counts from its shapes, and the MODEL argument resolved to a
 * catalog row, a config.json or a GGUF file (unknown names get the closest catalog names). */
#include "hwscope/model.h"
#include "format/model_readers.h"
#include "plan/shape.h"

#include "util/file.h"
#include "util/units.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static double or0(double x) {
    return hws_known(x) ? x : 0.0;
}

double hws_shape_head_dim(const hws_model_spec *m) {
    if (hws_known(m->head_dim) && m->head_dim > 0)
        return m->head_dim;
    return m->n_heads > 0 ? m->hidden_size / m->n_heads : 0.0;
}

/* A count that, when known, must be a whole number in [lo, hi]. */
static bool count_ok(double v, double lo, double hi, const char *what, char *why, size_t n) {
    if (!hws_known(v) || (v >= lo && v <= hi && v == floor(v)))
        return true;
    snprintf(why, n, "%g is not a possible %s (%.0f to %.0f)", v, what, lo, hi);
    return false;
}

bool hws_model_shape_check(const hws_model_spec *m, hws_shape_field *field, char *why, size_t n) {
    const struct {
        hws_shape_field field;
        double value, lo, hi;
        const char *what;
    } ranges[] = {
        {HWS_SHAPE_LAYERS, m->n_layers, 1, HWS_MAX_LAYERS, "layer count"},
        {HWS_SHAPE_HIDDEN, m->hidden_size, 1, HWS_MAX_WIDTH, "hidden size"},
        {HWS_SHAPE_HEADS, m->n_heads, 1, HWS_MAX_WIDTH, "attention head count"},
        {HWS_SHAPE_KV_HEADS, m->n_kv_heads, 1, HWS_MAX_WIDTH, "KV head count"},
        {HWS_SHAPE_EXPERTS, m->n_experts, 0, HWS_MAX_WIDTH, "expert count"},
        {HWS_SHAPE_EXPERTS_ACTIVE, m->n_experts_active, 1, HWS_MAX_WIDTH, "active expert count"},
        {HWS_SHAPE_DENSE_LAYERS, m->n_dense_layers, 0, HWS_MAX_LAYERS, "dense block count"},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        *field = ranges[i].field;
        if (!count_ok(ranges[i].value, ranges[i].lo, ranges[i].hi, ranges[i].what, why, n))
            return false;
    }
    bool heads = hws_known(m->n_heads) && hws_known(m->n_kv_heads);
    *field = HWS_SHAPE_KV_HEADS;
    if (heads && m->n_kv_heads > m->n_heads) {
        snprintf(why, n, "%.0f exceeds the %.0f attention heads", m->n_kv_heads, m->n_heads);
        return false;
    }
    if (heads && fmod(m->n_heads, m->n_kv_heads) != 0) {
        snprintf(why, n, "%.0f does not divide the %.0f attention heads", m->n_kv_heads,
                 m->n_heads);
        return false;
    }
    *field = HWS_SHAPE_EXPERTS_ACTIVE;
    if (hws_known(m->n_experts_active) && m->n_experts_active > or0(m->n_experts)) {
        snprintf(why, n, "%.0f exceeds the %.0f experts", m->n_experts_active, or0(m->n_experts));
        return false;
    }
    *field = HWS_SHAPE_DENSE_LAYERS;
    if (hws_known(m->n_dense_layers) && hws_known(m->n_layers) && m->n_dense_layers > m->n_layers) {
        snprintf(why, n, "%.0f dense blocks exceed the %.0f layers", m->n_dense_layers,
                 m->n_layers);
        return false;
    }
    return true;
}

static int is_mla(const hws_model_spec *m) {
    return hws_known(m->kv_lora_rank) && m->kv_lora_rank > 0;
}

static int is_moe(const hws_model_spec *m) {
    return hws_known(m->n_experts) && m->n_experts > 0;
}

/* Attention projections of one block (no norms). */
static double attn_params(const hws_model_spec *m) {
    double h = m->hidden_size;
    if (is_mla(m)) {
        double qk = or0(m->qk_nope_head_dim) + or0(m->qk_rope_head_dim);
        double q = hws_known(m->q_lora_rank) && m->q_lora_rank > 0
                       ? h * m->q_lora_rank + m->q_lora_rank + m->q_lora_rank * m->n_heads * qk
                       : h * m->n_heads * qk;
        double kv_a = h * (m->kv_lora_rank + or0(m->qk_rope_head_dim)) + m->kv_lora_rank;
        double kv_b =
            m->kv_lora_rank * m->n_heads * (or0(m->qk_nope_head_dim) + or0(m->v_head_dim));
        return q + kv_a + kv_b + m->n_heads * or0(m->v_head_dim) * h;
    }
    double hd = hws_shape_head_dim(m);
    double kv = hws_known(m->n_kv_heads) ? m->n_kv_heads : m->n_heads;
    return 2.0 * h * m->n_heads * hd + 2.0 * h * kv * hd;
}

static double mlp_params(const hws_model_spec *m, double width) {
    return (m->gated_mlp ? 3.0 : 2.0) * m->hidden_size * width;
}

int hws_shape_first_moe_layer(const hws_model_spec *m) {
    if (!is_moe(m))
        return (int)m->n_layers;
    double dense = or0(m->n_dense_layers);
    return (int)(dense < m->n_layers ? dense : m->n_layers);
}

int hws_shape_moe_step(const hws_model_spec *m) {
    double step = m->moe_layer_step;
    if (!hws_known(step) || step < 1)
        return 1;
    return step > HWS_MAX_LAYERS ? HWS_MAX_LAYERS + 1 : (int)step; /* beyond: no MoE block */
}

int hws_shape_layer_is_moe(int layer, int first_moe, int step) {
    return layer >= first_moe && (layer + 1) % (step >= 1 ? step : 1) == 0;
}

int hws_shape_moe_layers(const hws_model_spec *m) {
    int first = hws_shape_first_moe_layer(m), step = hws_shape_moe_step(m), count = 0;
    for (int i = first; i < (int)m->n_layers; i++)
        count += hws_shape_layer_is_moe(i, first, step);
    return count;
}

double hws_shape_dense_block_params(const hws_model_spec *m) {
    return attn_params(m) + 2.0 * m->hidden_size + mlp_params(m, m->intermediate_size);
}

double hws_shape_moe_block_params(const hws_model_spec *m, double experts) {
    double w =
        hws_known(m->moe_intermediate_size) ? m->moe_intermediate_size : m->intermediate_size;
    double router = m->hidden_size * or0(m->n_experts);
    return attn_params(m) + 2.0 * m->hidden_size +
           (experts + or0(m->n_shared_experts)) * mlp_params(m, w) + router;
}

double hws_shape_embed_params(const hws_model_spec *m) {
    return m->vocab_size * m->hidden_size;
}

/* Every block plus the final norm, with `experts` routed experts counted per MoE block. */
static double block_params(const hws_model_spec *m, double experts) {
    double moe = hws_shape_moe_layers(m);
    double dense = m->n_layers - moe;
    return dense * hws_shape_dense_block_params(m) + moe * hws_shape_moe_block_params(m, experts) +
           m->hidden_size;
}

double hws_model_params(const hws_model_spec *m) {
    if (!hws_known(m->hidden_size) || !hws_known(m->n_layers) || !hws_known(m->n_heads) ||
        !hws_known(m->vocab_size) || !hws_known(m->intermediate_size))
        return HWS_NA;
    double head = m->tie_embeddings ? 0.0 : hws_shape_embed_params(m);
    return hws_shape_embed_params(m) + head + block_params(m, is_moe(m) ? m->n_experts : 0.0) +
           or0(m->vision_params);
}

double hws_model_active_params(const hws_model_spec *m) {
    double all = hws_model_params(m);
    if (!hws_known(all))
        return HWS_NA;
    /* The input embedding is a lookup of one row per token; a tied head is read in full. */
    double head = hws_shape_embed_params(m);
    double active = is_moe(m) ? or0(m->n_experts_active) : 0.0;
    return head + block_params(m, active);
}

/* ---- MODEL argument --------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Levenshtein distance, case-insensitive, of strings up to 63 chars (longer: truncated). */
static int edit_distance(const char *a, const char *b) {
    int prev[64], cur[64];
    int na = (int)strlen(a), nb = (int)strlen(b);
    na = na > 63 ? 63 : na;
    nb = nb > 63 ? 63 : nb;
    for (int j = 0; j <= nb; j++)
        prev[j] = j;
    for (int i = 1; i <= na; i++) {
        cur[0] = i;
        for (int j = 1; j <= nb; j++) {
            int sub = prev[j - 1] +
                      (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(nb + 1));
    }
    return prev[nb];
}

static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0)
        return 0;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

void hws_near_names(const char *arg, const void *rows, size_t count, size_t stride, char *buf,
                    size_t n) {
    const char *best[3] = {NULL, NULL, NULL};
    int score[3] = {1 << 30, 1 << 30, 1 << 30};
    for (size_t i = 0; i < count; i++) {
        const char *name = (const char *)rows + i * stride;
        int d = edit_distance(arg, name);
        if (contains_ci(name, arg) || contains_ci(arg, name))
            d = d / 4;
        for (int k = 0; k < 3; k++) {
            if (d < score[k]) {
                for (int j = 2; j > k; j--) {
                    score[j] = score[j - 1];
                    best[j] = best[j - 1];
                }
                score[k] = d;
                best[k] = name;
                break;
            }
        }
    }
    buf[0] = '\0';
    size_t len = 0;
    for (int k = 0; k < 3 && best[k] != NULL && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", k ? ", " : "", best[k]);
}

/* The catalog row whose source is the Hugging Face repo `id` ("meta-llama/Llama-3.1-8B"). */
static const hws_model_spec *catalog_by_hf_id(const char *id) {
    size_t count;
    const hws_model_spec *rows = hws_model_catalog(&count);
    char want[256];
    if (snprintf(want, sizeof want, "huggingface.co/%s/", id) >= (int)sizeof want)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (strcasestr(rows[i].source, want) != NULL)
            return &rows[i];
    return NULL;
}

/* The Hugging Face hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
static void hf_hub_dir(char *buf, size_t n) {
    const char *hub = getenv("HF_HUB_CACHE"), *home = getenv("HF_HOME");
    if (hub != NULL && hub[0] != '\0')
        snprintf(buf, n, "%s", hub);
    else if (home != NULL && home[0] != '\0')
        snprintf(buf, n, "%s/hub", home);
    else
        snprintf(buf, n, "%s/.cache/huggingface/hub", getenv("HOME") ? getenv("HOME") : ".");
}

/* config.json of repo `id` in the hub cache: the snapshot refs/main names, else any snapshot
 * holding one. 1 when found (path filled). */
static int hf_cached_config(const char *hub, const char *id, char *path, size_t n) {
    char repo[1024], ref[128] = "";
    const char *slash = strchr(id, '/');
    if (slash == NULL || snprintf(repo, sizeof repo, "%s/models--%.*s--%s", hub, (int)(slash - id),
                                  id, slash + 1) >= (int)sizeof repo)
        return 0;
    char refs[1100];
    snprintf(refs, sizeof refs, "%s/refs/main", repo);
    char *text; /* the bounded, non-blocking reader: a FIFO there does not hang the plan */
    size_t len;
    hws_error ignored;
    if (hws_file_read(refs, sizeof ref - 1, &text, &len, &ignored) == HWS_OK) {
        snprintf(ref, sizeof ref, "%.*s", (int)strcspn(text, "\r\n"), text);
        free(text);
    }
    struct stat st;
    if (ref[0] != '\0' && strchr(ref, '/') == NULL &&
        snprintf(path, n, "%s/snapshots/%s/config.json", repo, ref) < (int)n &&
        stat(path, &st) == 0)
        return 1;
    char snaps[1100];
    snprintf(snaps, sizeof snaps, "%s/snapshots", repo);
    DIR *d = opendir(snaps);
    if (d == NULL)
        return 0;
    int found = 0;
    for (struct dirent *e = readdir(d); e != NULL && !found; e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        found = snprintf(path, n, "%s/%s/config.json", snaps, e->d_name) < (int)n &&
                stat(path, &st) == 0;
    }
    closedir(d);
    return found;
}

/* A Hugging Face id: "org/name", one slash, no path that exists. */
static int looks_like_hf_id(const char *arg) {
    const char *slash = strchr(arg, '/');
    return slash != NULL && slash != arg && slash[1] != '\0' && strchr(slash + 1, '/') == NULL &&
           arg[0] != '.';
}

hws_status hws_model_resolve(const char *arg, hws_model_spec *out, hws_error *err) {
    struct stat st;
    if (arg == NULL || arg[0] == '\0')
        return hws_error_set(err, HWS_ERR_INPUT, "no model given");
    /* a folder is a Hugging Face checkpoint, whatever its name ends with ("x.gguf", "x.gguf.d") */
    bool exists = stat(arg, &st) == 0;
    if (ends_with(arg, ".gguf") && !(exists && S_ISDIR(st.st_mode)))
        return hws_model_from_gguf(arg, out, err);
    if (exists && S_ISDIR(st.st_mode)) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/config.json", arg) >= (int)sizeof path)
            return hws_error_set(err, HWS_ERR_INPUT, "%.64s...: folder path too long", arg);
        return hws_model_from_hf_config(path, out, err);
    }
    if (ends_with(arg, ".json") || exists)
        return hws_model_from_hf_config(arg, out, err);
    if (looks_like_hf_id(arg)) {
        const hws_model_spec *row = catalog_by_hf_id(arg);
        char hub[1024], path[2048];
        if (row != NULL) {
            *out = *row;
            return HWS_OK;
        }
        hf_hub_dir(hub, sizeof hub);
        if (!hf_cached_config(hub, arg, path, sizeof path))
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "unknown model '%s': not in the catalog nor in the Hugging Face "
                                 "cache (%s); `huggingface-cli download %s config.json` fetches "
                                 "its config, or pass a folder holding config.json",
                                 arg, hub, arg);
        hws_status st = hws_model_from_hf_config(path, out, err);
        if (st == HWS_OK)
            snprintf(out->name, sizeof out->name, "%s", strchr(arg, '/') + 1);
        return st;
    }
    const hws_model_spec *row = hws_model_catalog_find(arg);
    if (row != NULL) {
        *out = *row;
        return HWS_OK;
    }
    char near[256];
    size_t count;
    const hws_model_spec *rows = hws_model_catalog(&count);
    hws_near_names(arg, rows, count, sizeof *rows, near, sizeof near);
    if (near[0] != '\0')
        return hws_error_set(err, HWS_ERR_INPUT, "unknown model '%s' (close matches: %s)", arg,
                             near);
    return hws_error_set(err, HWS_ERR_INPUT, "unknown model '%s'", arg);
}
