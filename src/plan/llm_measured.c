/* llm_measured.c - the runs `hwscope bench llm` saves beside a device's ceilings (the entry's
 * "llm" array of hwscope.ceilings/1), and those of Hugging Face transformers that
 * bench/scripts/llm_vs_peers.py saves there, read back with bounds; and what the hwscope and
 * transformers runtimes' predictions take from them.
 *
 * An entry, one per runtime, variant, model, device, format, batch, depth, prompt and gen:
 *   {"runtime": "hwscope", "model": "Llama-3.1-8B", "device": "cuda", "format": "bf16",
 *    "batch": 1, "depth": 0, "prompt_tokens": 512, "gen_tokens": 128,
 *    "prefill_tokens_per_s": 9100.5, "decode_tokens_per_s": 170.2,
 *    "decode_bytes_per_step": 1.6e10, "prefill_flops_per_token": 1.5e10,
 *    "prefill_wave_flops_per_token": 1.6e10, "layers": 32,
 *    "measured_at": "2026-12-06T05:00:00Z"}
 * A transformers run adds "variant" ("eager": the default dynamic cache, or "static") to its
 * decode runs and "host" (the CPU its Python ran on). Readers of older files see no "llm" key
 * and nothing changes for them; runs saved before "runtime", "variant",
 * "prefill_wave_flops_per_token" and "host" existed read as hwscope runs without them. */
#include "hwscope/plan.h"

#include "plan/ceilings.h"
#include "plan/engine_format.h"
#include "util/units.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 10485760.0 /* the planner's own bound on a context */
#define MAX_BATCH  65536.0

/* One string field of an entry, copied with its bound; false when missing or too long. */
static bool str_field(const cJSON *o, const char *key, char *buf, size_t n) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
        return false;
    snprintf(buf, n, "%s", v->valuestring);
    return true;
}

/* A whole number in [lo, hi]; false when missing or out of range. */
static bool int_field(const cJSON *o, const char *key, double lo, double hi, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble))
        return false;
    *out = (int)v->valuedouble;
    return true;
}

/* A positive finite number, or HWS_NA when null or absent; false when anything else. */
static bool num_field(const cJSON *o, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = HWS_NA;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
        return false;
    *out = v->valuedouble;
    return true;
}

/* Whether key is absent (older files) or null (not known). */
static bool no_value(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v == NULL || cJSON_IsNull(v);
}

/* An optional string field: absent or null gives def; false when anything else or too long. */
static bool opt_str_field(const cJSON *o, const char *key, const char *def, char *buf, size_t n) {
    if (no_value(o, key)) {
        snprintf(buf, n, "%s", def);
        return true;
    }
    return str_field(o, key, buf, n);
}

bool hws_llm_measured_parse(const cJSON *o, hws_llm_measured *r) {
    memset(r, 0, sizeof *r);
    return cJSON_IsObject(o) &&
           opt_str_field(o, "runtime", "hwscope", r->runtime, sizeof r->runtime) &&
           opt_str_field(o, "variant", "", r->variant, sizeof r->variant) &&
           opt_str_field(o, "host", "", r->host, sizeof r->host) &&
           str_field(o, "model", r->model, sizeof r->model) &&
           str_field(o, "device", r->device, sizeof r->device) &&
           str_field(o, "format", r->format, sizeof r->format) &&
           int_field(o, "batch", 1, MAX_BATCH, &r->batch) &&
           int_field(o, "depth", 0, MAX_TOKENS, &r->depth) &&
           int_field(o, "prompt_tokens", 0, MAX_TOKENS, &r->prompt_tokens) &&
           int_field(o, "gen_tokens", 0, MAX_TOKENS, &r->gen_tokens) &&
           num_field(o, "prefill_tokens_per_s", &r->prefill_tokens_per_s) &&
           num_field(o, "decode_tokens_per_s", &r->decode_tokens_per_s) &&
           num_field(o, "decode_bytes_per_step", &r->decode_bytes_per_step) &&
           num_field(o, "prefill_flops_per_token", &r->prefill_flops_per_token) &&
           num_field(o, "prefill_wave_flops_per_token", &r->prefill_wave_flops_per_token) &&
           (int_field(o, "layers", 1, 100000, &r->layers) || no_value(o, "layers")) &&
           (str_field(o, "measured_at", r->measured_at, sizeof r->measured_at) ||
            (r->measured_at[0] = '\0', true));
}

hws_status hws_llm_measured_load(const char *path, const char *device_name,
                                 const hws_gpu_spec *spec, hws_llm_measured *out, int cap, int *n,
                                 hws_error *err) {
    hws_ceilings_set *set;
    const hws_llm_measured *runs;
    *n = 0;
    hws_status st = hws_ceilings_set_load(path, &set, err);
    if (st != HWS_OK)
        return st;
    int saved = hws_ceilings_set_runs(set, device_name, spec, &runs);
    for (int i = 0; i < saved && *n < cap; i++)
        out[(*n)++] = runs[i];
    hws_ceilings_set_free(set);
    if (*n == 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s: no hwscope bench llm runs for '%s'",
                             path, device_name ? device_name : "?");
    return HWS_OK;
}

/* The runtime of a run: "hwscope" when not set. */
static const char *runtime_of(const hws_llm_measured *r) {
    return r->runtime[0] != '\0' ? r->runtime : "hwscope";
}

static bool same_run(const cJSON *o, const hws_llm_measured *r) {
    hws_llm_measured s;
    return hws_llm_measured_parse(o, &s) && strcmp(s.runtime, runtime_of(r)) == 0 &&
           strcmp(s.variant, r->variant) == 0 && strcmp(s.model, r->model) == 0 &&
           strcmp(s.device, r->device) == 0 && strcmp(s.format, r->format) == 0 &&
           s.batch == r->batch && s.depth == r->depth && s.prompt_tokens == r->prompt_tokens &&
           s.gen_tokens == r->gen_tokens;
}

static cJSON *run_json(const hws_llm_measured *r) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    const struct {
        const char *key;
        double v;
    } nums[] = {
        {"batch", r->batch},
        {"depth", r->depth},
        {"prompt_tokens", r->prompt_tokens},
        {"gen_tokens", r->gen_tokens},
        {"prefill_tokens_per_s", r->prefill_tokens_per_s},
        {"decode_tokens_per_s", r->decode_tokens_per_s},
        {"decode_bytes_per_step", r->decode_bytes_per_step},
        {"prefill_flops_per_token", r->prefill_flops_per_token},
        /* 0 (a caller that cleared the struct) is unknown, as for layers */
        {"prefill_wave_flops_per_token",
         r->prefill_wave_flops_per_token > 0 ? r->prefill_wave_flops_per_token : HWS_NA},
        {"layers", r->layers > 0 ? r->layers : HWS_NA},
    };
    const struct {
        const char *key, *v;
        bool optional; /* left out when "" */
    } strs[] = {
        {"runtime", runtime_of(r), false}, {"variant", r->variant, true},
        {"host", r->host, true},           {"model", r->model, false},
        {"device", r->device, false},      {"format", r->format, false},
    };
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof strs / sizeof strs[0]; i++)
        ok = (strs[i].optional && strs[i].v[0] == '\0') ||
             cJSON_AddStringToObject(o, strs[i].key, strs[i].v) != NULL;
    for (size_t i = 0; ok && i < sizeof nums / sizeof nums[0]; i++)
        ok = (hws_known(nums[i].v) ? cJSON_AddNumberToObject(o, nums[i].key, nums[i].v)
                                   : cJSON_AddNullToObject(o, nums[i].key)) != NULL;
    if (!ok || cJSON_AddStringToObject(o, "measured_at", r->measured_at) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

typedef struct {
    const hws_llm_measured *runs;
    int n;
} save_arg;

/* The runs into an entry's "llm" array: replace the same run, else append; the oldest go
 * when there are more than HWS_LLM_MEASURED_MAX. */
static int edit_llm(cJSON *g, const void *arg) {
    const save_arg *a = arg;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(g, "llm");
    if (!cJSON_IsArray(list)) {
        list = cJSON_CreateArray();
        if (list == NULL)
            return -1;
        hws_ceilings_put(g, "llm", list);
    }
    for (int i = 0; i < a->n; i++) {
        cJSON *item = run_json(&a->runs[i]), *old;
        if (item == NULL)
            return -1;
        int at = 0, found = -1;
        cJSON_ArrayForEach(old, list) {
            if (found < 0 && same_run(old, &a->runs[i]))
                found = at;
            at++;
        }
        if (found >= 0) {
            cJSON_ReplaceItemInArray(list, found, item);
        } else {
            cJSON_AddItemToArray(list, item);
            while (cJSON_GetArraySize(list) > HWS_LLM_MEASURED_MAX)
                cJSON_DeleteItemFromArray(list, 0);
        }
    }
    return 0;
}

hws_status hws_llm_measured_save(const char *path, const char *device_name,
                                 const hws_llm_measured *runs, int n, hws_error *err) {
    save_arg a = {runs, n};
    return hws_ceilings_update(path, device_name, edit_llm, &a, err);
}

/* ---- the fit ---------------------------------------------------------------------------- */

/* Least squares of y = x / eff + c over k points (c >= 0): the fraction of a ceiling reached
 * and a fixed cost. One size only, or a fit whose slope or intercept says nothing, gives c = 0
 * and the mean ratio. False when there is no point. */
static bool fit_line(const double *x, const double *y, int k, double *eff, double *c) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < k; i++)
        sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
    if (k == 0 || sxx <= 0)
        return false;
    double det = k * sxx - sx * sx, slope = HWS_NA;
    *c = 0;
    if (k > 1 && det > 1e-12 * sxx * k) {
        slope = (k * sxy - sx * sy) / det;
        *c = (sy - slope * sx) / k;
    }
    if (!hws_known(slope) || slope <= 0 || *c < 0) {
        slope = sxy / sxx;
        *c = 0;
    }
    *eff = 1.0 / slope;
    return true;
}

/* Least squares of y = x / eff + layers * b over k points (no constant: the per-step costs that
 * do not grow with the bytes or FLOPs are the blocks' kernel chains). False unless the layer
 * counts differ and both terms come out positive. */
static bool fit_layers(const double *x, const double *l, const double *y, int k, double *eff,
                       double *b) {
    double sxx = 0, sxl = 0, sll = 0, sxy = 0, sly = 0;
    for (int i = 0; i < k; i++) {
        if (!(l[i] > 0))
            return false;
        sxx += x[i] * x[i], sxl += x[i] * l[i], sll += l[i] * l[i];
        sxy += x[i] * y[i], sly += l[i] * y[i];
    }
    double det = sxx * sll - sxl * sxl;
    if (k < 3 || !(det > 1e-9 * sxx * sll))
        return false;
    double a = (sxy * sll - sly * sxl) / det, per_layer = (sly * sxx - sxy * sxl) / det;
    if (!(a > 0) || !(per_layer >= 0))
        return false;
    *eff = 1.0 / a;
    *b = per_layer;
    return true;
}

/* The FLOPs per token a prefill point counts: plain, or with the products in whole waves. */
static double prefill_flops(const hws_llm_measured *r, bool waves) {
    return waves ? r->prefill_wave_flops_per_token : r->prefill_flops_per_token;
}

/* The runs as points of one phase: decode x = bytes per step / bandwidth, y = step seconds, at
 * one batch size (a kernel reads weights at another rate for 8 rows than for 1); prefill x =
 * prompt FLOPs (or wave FLOPs) / matrix FLOP/s, y = prefill seconds; l the runs' layer counts
 * (0 unknown). Returns how many. */
static int points(const hws_llm_measured *r, int n, bool prefill, bool waves, int batch,
                  double ceiling, double *x, double *l, double *y) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (prefill && hws_known(r[i].prefill_tokens_per_s) &&
            hws_known(prefill_flops(&r[i], waves)) && r[i].prompt_tokens > 0) {
            x[k] = r[i].prompt_tokens * prefill_flops(&r[i], waves) / ceiling;
            l[k] = r[i].layers;
            y[k++] = r[i].prompt_tokens / r[i].prefill_tokens_per_s;
        } else if (!prefill && hws_known(r[i].decode_tokens_per_s) &&
                   hws_known(r[i].decode_bytes_per_step) && r[i].batch == batch) {
            x[k] = r[i].decode_bytes_per_step / ceiling;
            l[k] = r[i].layers;
            y[k++] = r[i].batch / r[i].decode_tokens_per_s;
        }
    }
    return k;
}

/* One phase's fit: per block where the runs say how many blocks they had (and differ), else
 * a fixed cost per step or prefill. */
static bool fit_phase(const double *x, const double *l, const double *y, int k, double *eff,
                      double *per_layer_s, double *fixed_s) {
    *per_layer_s = 0;
    *fixed_s = 0;
    return k > 0 && (fit_layers(x, l, y, k, eff, per_layer_s) || fit_line(x, y, k, eff, fixed_s));
}

/* The format the saved runs of the plan are of: for the hwscope engine, the one it runs the plan's
 * weights in (hws_engine_format: `bench llm` saves runs by the engine's format, and the planner
 * counts the engine's bytes); for a peer, the plan's format; bf16 when the plan names none. */
static const char *runs_format(const hws_plan_opts *o) {
    hws_llm_format ef = hws_engine_format(o, o->weights);
    if (ef != HWS_LLM_FORMAT_COUNT)
        return hws_llm_format_name(ef);
    return o->weights != NULL ? o->weights->name : "bf16";
}

/* The saved runs of one runtime on this device: its CUDA runs of the plan's format (a copy the
 * caller frees; NULL when none) and the newest measured_at and host among them. */
static hws_llm_measured *runs_of(const hws_plan_opts *o, const hws_device *dev,
                                 const hws_ceilings_set *set, const char *runtime, int *k,
                                 char last[32], char host[64]) {
    const hws_llm_measured *saved;
    int n = hws_ceilings_set_runs(set, dev->name, dev->spec, &saved);
    const char *fmt = runs_format(o);
    hws_llm_measured *runs = n > 0 ? malloc((size_t)n * sizeof *runs) : NULL;
    *k = 0;
    last[0] = host[0] = '\0';
    for (int i = 0; runs != NULL && i < n; i++)
        if (strcmp(saved[i].runtime, runtime) == 0 && strcmp(saved[i].device, "cuda") == 0 &&
            strcasecmp(saved[i].format, fmt) == 0) {
            if (strcmp(saved[i].measured_at, last) > 0) {
                snprintf(last, 32, "%s", saved[i].measured_at);
                snprintf(host, 64, "%s", saved[i].host);
            }
            runs[(*k)++] = saved[i];
        }
    if (*k == 0) {
        free(runs);
        return NULL;
    }
    return runs;
}

/* The hwscope engine: efficiencies and fixed costs fitted by least squares; prefill both in
 * FLOPs and, where every run has them and the GPU's SMs are known, in waves of tiles. */
static void apply_engine(const hws_plan_opts *o, const hws_device *dev, hws_llm_measured *runs,
                         int k, const char *last, hws_predict_inputs *in) {
    const char *fmt = runs_format(o);
    int batch = 0; /* the saved decode batch nearest the plan's (ratio), the smaller on a tie */
    for (int i = 0; i < k; i++) {
        double d = fabs(log(runs[i].batch / o->batch)), best = fabs(log(batch / o->batch));
        if (hws_known(runs[i].decode_tokens_per_s) &&
            (batch == 0 || d < best || (d == best && runs[i].batch < batch)))
            batch = runs[i].batch;
    }
    double *x = malloc(3 * (size_t)(k + 1) * sizeof *x), *l = x != NULL ? x + k + 1 : NULL,
           *y = x != NULL ? l + k + 1 : NULL;
    double bw_eff = 0, c_s = 0, d_layer_s = 0, mm_eff = 0, p_s = 0, p_layer_s = 0;
    double w_eff = 0, w_s = 0, w_layer_s = 0, mm = in->matmul_tflops * 1e12;
    int nd = x != NULL ? points(runs, k, false, false, batch, in->mem_bw_gbps * 1e9, x, l, y) : 0;
    if (!fit_phase(x, l, y, nd, &bw_eff, &d_layer_s, &c_s))
        nd = 0;
    int np = x != NULL ? points(runs, k, true, false, 0, mm, x, l, y) : 0;
    if (!fit_phase(x, l, y, np, &mm_eff, &p_layer_s, &p_s))
        np = 0;
    int nw = x != NULL && hws_known(in->sm_count) ? points(runs, k, true, true, 0, mm, x, l, y) : 0;
    if (nw != np || !fit_phase(x, l, y, nw, &w_eff, &w_layer_s, &w_s))
        nw = 0;
    free(x);
    if (nd == 0 && np == 0)
        return;
    if (nd > 0) {
        in->bw_eff = bw_eff;
        in->step_overhead_us = c_s * 1e6;
        in->decode_layer_overhead_us = 0; /* in the fitted step time */
        in->block_serial_us = d_layer_s * 1e6;
    }
    if (np > 0) {
        in->mm_eff = mm_eff;
        in->layer_overhead_us = 0;
        in->prefill_overhead_us = p_s * 1e6;
        in->prefill_block_us = p_layer_s * 1e6;
    }
    char waves[160] = "";
    if (nw > 0) {
        in->wave_mm_eff = w_eff;
        in->wave_prefill_overhead_us = w_s * 1e6;
        in->wave_prefill_block_us = w_layer_s * 1e6;
        snprintf(waves, sizeof waves,
                 "; in waves of tiles over %.0f SMs: x %.2f + %.0f us + %.1f us/block",
                 in->sm_count, w_eff, w_s * 1e6, w_layer_s * 1e6);
    } else if (np > 0) {
        snprintf(waves, sizeof waves, "; prefill in FLOPs, not waves of tiles: %s",
                 hws_known(in->sm_count) ? "runs saved without wave FLOPs"
                                         : "the GPU's SM count is unknown");
    }
    snprintf(in->basis, sizeof in->basis,
             "measured by hwscope bench llm on this machine (%s, %d decode run(s) at batch %d "
             "and %d prefill run(s) of %s, last %s): %.0f GB/s x %.2f + %.0f us/step + %.1f "
             "us/block decode, %.0f TFLOP/s x %.2f + %.0f us + %.1f us/block prefill%s",
             dev->name, nd, batch, np, fmt, last[0] ? last : "undated", in->mem_bw_gbps, in->bw_eff,
             in->step_overhead_us, in->block_serial_us, in->matmul_tflops, in->mm_eff,
             in->prefill_overhead_us, in->prefill_block_us, waves);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A host-bound runtime's cost per block in one phase: the median over its runs of seconds per
 * block, among the runs the GPU alone would have finished sooner (at gpu_rate bytes or FLOP/s,
 * the stated efficiency applied). The median, not a least-squares line: eager PyTorch runs one
 * shape now and then far slower (a sliding-window cache path, a slow kernel choice), and one such
 * run must not move the others. Decode runs of one variant only. NA when none; *k how many. */
static double median_per_block(const hws_llm_measured *r, int n, bool prefill, const char *variant,
                               double gpu_rate, int *k) {
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    *k = 0;
    for (int i = 0; v != NULL && i < n; i++) {
        double t, work;
        if (prefill && hws_known(r[i].prefill_tokens_per_s) && r[i].prompt_tokens > 0) {
            t = r[i].prompt_tokens / r[i].prefill_tokens_per_s;
            work = r[i].prompt_tokens * r[i].prefill_flops_per_token;
        } else if (!prefill && hws_known(r[i].decode_tokens_per_s) &&
                   strcmp(r[i].variant, variant) == 0) {
            t = r[i].batch / r[i].decode_tokens_per_s;
            work = r[i].decode_bytes_per_step;
        } else {
            continue;
        }
        if (r[i].layers > 0 && (!hws_known(work) || work / gpu_rate < t))
            v[(*k)++] = t / r[i].layers;
    }
    double med = HWS_NA;
    if (*k > 0) {
        qsort(v, (size_t)*k, sizeof *v, cmp_double);
        med = *k % 2 ? v[*k / 2] : (v[*k / 2 - 1] + v[*k / 2]) / 2;
    }
    free(v);
    return med;
}

/* Hugging Face transformers, eager PyTorch: host-bound, so each phase takes the slower of the
 * host's cost per block (measured on this machine) and the GPU at the stated efficiencies.
 * Decode from the runs of the plan's cache: generate()'s default dynamic one ("eager" runs) or
 * cache_implementation="static" (a cache update and mask of another cost per block). */
static void apply_transformers(const hws_plan_opts *o, const hws_device *dev,
                               const hws_llm_measured *runs, int k, const char *last,
                               const char *host, hws_predict_inputs *in) {
    int np, nd;
    const char *variant = o->static_cache ? "static" : "eager";
    double p = median_per_block(runs, k, true, "", in->matmul_tflops * 1e12 * in->mm_eff, &np);
    double d = median_per_block(runs, k, false, variant, in->mem_bw_gbps * 1e9 * in->bw_eff, &nd);
    if (np == 0 && nd == 0)
        return;
    if (np > 0)
        in->layer_overhead_us = p * 1e6;
    if (nd > 0) {
        in->decode_layer_overhead_us = d * 1e6;
        in->step_overhead_us = in->block_serial_us = 0;
    }
    snprintf(in->basis, sizeof in->basis,
             "transformers measured on this machine (%s, host %s, last %s): %.0f us/block "
             "prefill (median of %d run(s)), %.0f us/block decode (%s cache, median of %d "
             "run(s)), each phase the slower of that and the GPU at %.0f GB/s x %.2f, %.0f "
             "TFLOP/s x %.2f",
             dev->name, host[0] ? host : "not saved", last[0] ? last : "undated",
             in->layer_overhead_us, np, in->decode_layer_overhead_us,
             o->static_cache ? "static" : "dynamic", nd, in->mem_bw_gbps, in->bw_eff,
             in->matmul_tflops, in->mm_eff);
}

void hws_llm_measured_apply(const hws_plan_opts *o, const hws_device *dev,
                            const hws_ceilings_set *set, hws_predict_inputs *in) {
    bool engine = o->runtime == HWS_RUNTIME_HWSCOPE;
    if ((!engine && o->runtime != HWS_RUNTIME_TRANSFORMERS) || !hws_known(in->mem_bw_gbps) ||
        !hws_known(in->matmul_tflops))
        return;
    char last[32], host[64];
    int k;
    hws_llm_measured *runs =
        runs_of(o, dev, set, engine ? "hwscope" : "transformers", &k, last, host);
    if (runs == NULL)
        return;
    if (engine)
        apply_engine(o, dev, runs, k, last, in);
    else
        apply_transformers(o, dev, runs, k, last, host, in);
    free(runs);
}
