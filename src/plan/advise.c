/* advise.c - hardware to buy or rent for a model: every catalog GPU x {1,2,4,8} x weight format,
 * the CPU hosts of data/cpus.tsv and the user's own CPU, placed and predicted, ranked by cost for
 * the target (renting by $/hour, buying by price with $/Mtok amortised); and the guide's budget
 * tree recomputed. */
#include "hwscope/plan.h"

#include "hwscope/catalog.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The formats tried when the user names none, each with the runtime that serves it. */
static const struct {
    const char *format;
    hws_runtime runtime;
} candidates[] = {
    {"bf16", HWS_RUNTIME_VLLM}, {"fp8", HWS_RUNTIME_VLLM},        {"int8", HWS_RUNTIME_VLLM},
    {"int4", HWS_RUNTIME_VLLM}, {"Q4_K_M", HWS_RUNTIME_LLAMACPP},
};

static const int counts[] = {1, 2, 4, 8};

static int push(hws_advice_list *l, const hws_advice *a) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        hws_advice *items = realloc(l->items, sizeof *items * (size_t)cap);
        if (items == NULL)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = *a;
    return 0;
}

/* Whether a GPU runs a format with a runtime: vLLM has no Apple backend (Apple runs llama.cpp
 * on Metal); FP8 and INT8 weights need the GPU's FP8 / INT8 tensor units. */
static int runs(hws_runtime rt, const hws_weight_format *f, const hws_gpu_spec *g) {
    if (rt == HWS_RUNTIME_VLLM && strcasecmp(g->segment, "apple") == 0)
        return 0;
    if (strcmp(f->compute, "fp8") == 0 && !hws_known(g->fp8_tflops))
        return 0;
    return strcmp(f->compute, "int8") != 0 || hws_known(g->int8_tops);
}

/* Appends "; why" (or the first why) to a->why. */
static void add_why(hws_advice *a, const char *why) {
    size_t len = strlen(a->why);
    snprintf(a->why + len, sizeof a->why - len, "%s%s", len ? "; " : "", why);
}

/* ok, or every reason it is not: a configuration that does not fit says only that; one that
 * fits lists each of unknown speed, too slow, no price and over budget that applies. */
static void judge(hws_advice *a, const hws_advise_opts *ao, const hws_placement *pl) {
    double speed = a->decode_tokens_per_s;
    char why[HWS_PLAN_BASIS_LEN];
    a->ok = 0;
    a->why[0] = '\0';
    if (!pl->fits) {
        if (a->cpu)
            snprintf(a->why, sizeof a->why, "does not fit: needs %.1f GB of RAM, %.1f GB there",
                     a->mem_needed_bytes / HWS_GB, a->mem_per_gpu_bytes / HWS_GB);
        else
            snprintf(a->why, sizeof a->why, "does not fit: needs %.1f GB per GPU, %.1f GB usable",
                     a->mem_needed_bytes / HWS_GB, a->mem_per_gpu_bytes / HWS_GB);
        return;
    }
    if (!hws_known(speed))
        add_why(a, "speed unknown (no bandwidth in the catalog)");
    else if (hws_known(ao->min_tokens_per_s) && speed < ao->min_tokens_per_s) {
        snprintf(why, sizeof why, "too slow: %.1f tokens/s < %.1f", speed, ao->min_tokens_per_s);
        add_why(a, why);
    }
    if (!hws_known(a->cost_usd))
        add_why(a,
                ao->rent ? "no hourly price in the catalog" : "no purchase price in the catalog");
    else if (hws_known(ao->budget_usd) && a->cost_usd > ao->budget_usd) {
        snprintf(why, sizeof why, "over budget: $%.2f%s > $%.2f", a->cost_usd,
                 ao->rent ? "/hour" : "", ao->budget_usd);
        add_why(a, why);
    }
    if (a->why[0] != '\0')
        return;
    a->ok = 1;
    snprintf(a->why, sizeof a->why, "%s, %s%s", hws_place_name(a->place),
             hws_runtime_name(a->runtime),
             a->cpu && hws_known(a->buy_usd) && a->buy_usd > 0
                 ? "; price is the CPU's alone (board and RAM extra)"
                 : "");
}

static double or_default(double v, double d) {
    return hws_known(v) && v > 0 ? v : d;
}

/* $ per million generated tokens: renting, the hourly price over the tokens of an hour; buying,
 * the price amortised over its life at the utilisation, plus energy while generating. */
static void price_tokens(hws_advice *a, const hws_advise_opts *ao, double power_w) {
    double per_hour_tokens = a->decode_tokens_per_s * 3600.0;
    if (ao->rent) {
        a->usd_per_mtok = a->usd_per_hour / per_hour_tokens * 1e6;
        return;
    }
    double life_h = or_default(ao->life_years, HWS_ADVISE_LIFE_YEARS) * 8766.0;
    double util = or_default(ao->utilisation, HWS_ADVISE_UTILISATION);
    double kwh = or_default(ao->usd_per_kwh, HWS_ADVISE_USD_PER_KWH);
    double energy = hws_known(power_w) ? power_w / 1e3 * kwh : 0;
    a->usd_per_mtok = (a->buy_usd / life_h / util + energy) / per_hour_tokens * 1e6;
}

/* All the GPUs bought serve the model: one GPU alone, or tensor parallel, else a layer split
 * (CPU offload is no advice). llama.cpp splits by layers (its default --split-mode layer), so
 * its GPUs take turns and add memory, not bandwidth. When nothing fits, the placement that came
 * closest. */
static void place(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                  const hws_device_set *devs, hws_placement *pl) {
    static const hws_place_kind multi[] = {HWS_PLACE_TENSOR_PARALLEL, HWS_PLACE_LAYER_SPLIT};
    hws_placement *try = malloc(sizeof *try);
    if (devs->count == 1 || try == NULL) {
        hws_placement_compute(m, o, mem, devs, HWS_PLACE_SINGLE, pl);
        free(try);
        return;
    }
    int have = 0;
    size_t first = o->runtime == HWS_RUNTIME_LLAMACPP ? 1 : 0;
    for (size_t k = first; k < sizeof multi / sizeof multi[0]; k++) {
        hws_placement_compute(m, o, mem, devs, multi[k], try);
        if (!try->possible)
            continue;
        if (!have || (try->fits && !pl->fits) ||
            (!pl->fits && hws_placement_largest_need(try) < hws_placement_largest_need(pl)))
            *pl = *try;
        have = 1;
        if (pl->fits)
            break;
    }
    if (!have)
        hws_placement_compute(m, o, mem, devs, HWS_PLACE_LAYER_SPLIT, pl);
    free(try);
}

static void evaluate(const hws_model_spec *m, const hws_plan_opts *base, const hws_advise_opts *ao,
                     const hws_ceilings_set *ceilings, const hws_gpu_spec *g, int n,
                     const hws_weight_format *f, hws_runtime rt, hws_advice *a) {
    hws_plan_opts o = *base;
    hws_memory mem;
    hws_device_set devs;
    hws_placement pl;
    hws_predict_inputs in;
    hws_prediction pred;
    hws_error err;
    o.weights = f;
    o.runtime = rt;
    memset(a, 0, sizeof *a);
    a->gpu = g;
    snprintf(a->name, sizeof a->name, "%s", g->name);
    a->count = n;
    a->weights = f;
    a->runtime = rt;
    hws_devices_named(g, n, &devs);
    if (hws_memory_estimate(m, &o, &mem, &err) != HWS_OK) {
        snprintf(a->why, sizeof a->why, "%.200s", err.msg);
        return;
    }
    place(m, &o, &mem, &devs, &pl);
    a->place = pl.kind;
    a->mem_per_gpu_bytes = pl.load[0].avail_bytes;
    a->mem_needed_bytes = hws_placement_largest_need(&pl);
    hws_predict_inputs_from(&o, &mem, &devs, ceilings, &in);
    hws_prediction_compute(m, &o, &mem, &pl, &in, &pred);
    a->decode_tokens_per_s = pred.decode_tokens_per_s;
    a->prefill_tokens_per_s = pred.prefill_tokens_per_s;
    a->buy_usd = hws_known(g->price_usd) ? n * g->price_usd : HWS_NA;
    a->usd_per_hour = hws_known(g->cloud_usd_per_hour) ? n * g->cloud_usd_per_hour : HWS_NA;
    a->cost_usd = ao->rent ? a->usd_per_hour : a->buy_usd;
    price_tokens(a, ao, hws_known(g->tdp_w) ? n * g->tdp_w : HWS_NA);
    judge(a, ao, &pl);
}

/* A CPU host alone: llama.cpp with the weights in its RAM (Q4_K_M unless the user named one). */
static void evaluate_cpu(const hws_model_spec *m, const hws_plan_opts *base,
                         const hws_advise_opts *ao, const hws_ceilings_set *ceilings,
                         const hws_host *host, int own, hws_advice *a) {
    hws_plan_opts o = *base;
    hws_memory mem;
    hws_device_set devs;
    hws_placement *pl = malloc(sizeof *pl);
    hws_predict_inputs in;
    hws_prediction pred;
    hws_error err;
    memset(a, 0, sizeof *a);
    if (pl == NULL) {
        snprintf(a->why, sizeof a->why, "out of memory");
        return;
    }
    if (o.weights == NULL)
        o.weights = hws_weight_format_find("Q4_K_M");
    o.runtime = HWS_RUNTIME_LLAMACPP;
    a->cpu = 1;
    a->count = 1;
    a->weights = o.weights;
    a->runtime = o.runtime;
    a->place = HWS_PLACE_CPU_ONLY;
    snprintf(a->name, sizeof a->name, "%s", own ? "your CPU" : host->name);
    memset(&devs, 0, sizeof devs);
    devs.cpu_only = 1;
    devs.host = *host;
    if (hws_memory_estimate(m, &o, &mem, &err) != HWS_OK) {
        snprintf(a->why, sizeof a->why, "%.200s", err.msg);
        free(pl);
        return;
    }
    hws_placement_compute(m, &o, &mem, &devs, HWS_PLACE_CPU_ONLY, pl);
    a->mem_needed_bytes = pl->cpu_bytes;
    a->mem_per_gpu_bytes = host->mem_bytes;
    hws_predict_inputs_from(&o, &mem, &devs, ceilings, &in);
    hws_prediction_compute(m, &o, &mem, pl, &in, &pred);
    a->decode_tokens_per_s = pred.decode_tokens_per_s;
    a->prefill_tokens_per_s = pred.prefill_tokens_per_s;
    a->buy_usd = own ? 0 : host->price_usd;
    a->usd_per_hour = own ? HWS_NA : host->usd_per_hour;
    a->cost_usd = ao->rent ? a->usd_per_hour : a->buy_usd;
    price_tokens(a, ao, HWS_NA);
    judge(a, ao, pl);
    free(pl);
}

/* ok first, cheapest first, faster first on a tie; then the rest by cost. */
static int cmp_advice(const void *pa, const void *pb) {
    const hws_advice *a = pa, *b = pb;
    if (a->ok != b->ok)
        return b->ok - a->ok;
    double ca = hws_known(a->cost_usd) ? a->cost_usd : 1e300;
    double cb = hws_known(b->cost_usd) ? b->cost_usd : 1e300;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    double sa = hws_known(a->decode_tokens_per_s) ? a->decode_tokens_per_s : 0;
    double sb = hws_known(b->decode_tokens_per_s) ? b->decode_tokens_per_s : 0;
    return sa > sb ? -1 : (sa < sb ? 1 : 0);
}

hws_status hws_advise(const hws_model_spec *m, const hws_plan_opts *o, const hws_advise_opts *ao,
                      hws_advice_list *out, hws_error *err) {
    size_t ngpu;
    const hws_gpu_spec *gpus = hws_gpu_catalog(&ngpu);
    memset(out, 0, sizeof *out);
    /* the saved ceilings, read once for every configuration below */
    char path[HWS_CEILINGS_PATH_BYTES];
    hws_ceilings_set *ceilings = NULL;
    hws_error why = {""};
    hws_status read = hws_ceilings_path(path, sizeof path)
                          ? hws_ceilings_set_load(path, &ceilings, &why)
                          : HWS_ERR_UNSUPPORTED;
    if (read != HWS_OK && read != HWS_ERR_UNSUPPORTED)
        snprintf(out->ceilings_warning, sizeof out->ceilings_warning, "%s", why.msg);
    for (size_t i = 0; i < ngpu; i++) {
        const hws_gpu_spec *g = &gpus[i];
        if (!hws_known(g->mem_bytes) || g->mem_bytes <= 0)
            continue;
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            if (counts[c] > 1 && strcasecmp(g->segment, "apple") == 0)
                continue;
            size_t nf = o->weights != NULL ? 1 : sizeof candidates / sizeof candidates[0];
            for (size_t k = 0; k < nf; k++) {
                const hws_weight_format *f =
                    o->weights != NULL ? o->weights : hws_weight_format_find(candidates[k].format);
                hws_runtime rt = o->weights != NULL ? o->runtime : candidates[k].runtime;
                if (f == NULL || !runs(rt, f, g))
                    continue;
                hws_advice a;
                evaluate(m, o, ao, ceilings, g, counts[c], f, rt, &a);
                if (push(out, &a) != 0) {
                    hws_ceilings_set_free(ceilings);
                    hws_advice_list_free(out);
                    return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
                }
            }
        }
    }
    size_t ncpu;
    const hws_cpu_row *cpus = hws_cpu_catalog(&ncpu);
    for (size_t i = 0; i <= ncpu; i++) {
        hws_host host;
        if (i == ncpu && ao->host == NULL)
            break;
        if (i < ncpu && hws_host_named(cpus[i].name, &host, err) != HWS_OK)
            continue;
        hws_advice a;
        evaluate_cpu(m, o, ao, ceilings, i < ncpu ? &host : ao->host, i == ncpu, &a);
        if (push(out, &a) != 0) {
            hws_ceilings_set_free(ceilings);
            hws_advice_list_free(out);
            return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        }
    }
    hws_ceilings_set_free(ceilings);
    if (out->n > 0)
        qsort(out->items, (size_t)out->n, sizeof *out->items, cmp_advice);
    return HWS_OK;
}

/* How far a configuration that does not work is from working: 0 for one that fits (then the
 * cheaper the nearer), else its need over what it has. */
static double miss_distance(const hws_advice *a) {
    if (a->mem_needed_bytes <= a->mem_per_gpu_bytes && a->mem_needed_bytes > 0)
        return 0;
    return a->mem_per_gpu_bytes > 0 ? a->mem_needed_bytes / a->mem_per_gpu_bytes : 1e300;
}

const hws_advice *hws_advice_near_miss(const hws_advice_list *l, const char *name) {
    const hws_advice *best = NULL;
    for (int i = 0; i < l->n; i++) {
        const hws_advice *a = &l->items[i];
        if (strcmp(a->name, name) != 0)
            continue;
        double d = miss_distance(a), bd = best ? miss_distance(best) : 0;
        double c = hws_known(a->cost_usd) ? a->cost_usd : 1e300;
        double bc = best && hws_known(best->cost_usd) ? best->cost_usd : 1e300;
        if (best == NULL || d < bd ||
            (d == bd && (a->count < best->count || (a->count == best->count && c < bc))))
            best = a;
    }
    return best;
}

const char *hws_budget_tree_explained(void) {
    return "The guide's budget tree: under $1,000 it buys an RTX 3060 12GB or RTX 4060 Ti "
           "16GB, at $1,000-2,000 an RTX 4090 or a used RTX 3090, for a workstation an RTX "
           "A6000 or RTX 6000 Ada, in the datacenter an A100 or H100. Each tier below is "
           "recomputed for this model: hwscope's cheapest working configuration in that price "
           "range (or class of hardware), and whether the guide's own pick works there.";
}

void hws_advice_list_free(hws_advice_list *l) {
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ---- the guide's budget tree ------------------------------------------------------------ */

/* The guide's tiers: the first two by price, the last two by class of hardware. */
static const struct {
    const char *tier;
    double max_usd;
    const char *segment; /* NULL: any GPU within the price range */
    const char *guide_pick;
    const char *gpus[2]; /* catalog names of the guide's picks */
} guide_tiers[HWS_BUDGET_TIERS] = {
    {"< $1,000",
     1000,
     NULL,
     "RTX 3060 12GB / RTX 4060 Ti 16GB",
     {"RTX 3060 12GB", "RTX 4060 Ti 16GB"}},
    {"$1,000-2,000", 2000, NULL, "RTX 4090 / used RTX 3090", {"RTX 4090", "RTX 3090"}},
    {"workstation",
     HWS_NA,
     "workstation",
     "RTX A6000 / RTX 6000 Ada",
     {"RTX A6000", "RTX 6000 Ada"}},
    {"datacenter", HWS_NA, "datacenter", "A100 / H100", {"A100 SXM 80GB", "H100 SXM 80GB"}},
};

static int is_guide_gpu(const hws_advice *a, int t) {
    if (a->gpu == NULL)
        return 0;
    for (int k = 0; k < 2; k++)
        if (strcasecmp(a->name, guide_tiers[t].gpus[k]) == 0)
            return 1;
    return 0;
}

/* Price tiers: above the tier below's ceiling and within this one's; class tiers: the segment. */
static int in_tier(const hws_advice *a, int t) {
    if (!hws_known(a->buy_usd) || a->gpu == NULL)
        return 0;
    if (guide_tiers[t].segment != NULL)
        return strcasecmp(a->gpu->segment, guide_tiers[t].segment) == 0;
    double lo = t > 0 ? guide_tiers[t - 1].max_usd : 0;
    return a->buy_usd > lo && a->buy_usd <= guide_tiers[t].max_usd;
}

void hws_advise_budget_tree(const hws_advice_list *l, hws_budget_tier tiers[HWS_BUDGET_TIERS]) {
    for (int t = 0; t < HWS_BUDGET_TIERS; t++) {
        hws_budget_tier *b = &tiers[t];
        const hws_advice *guide_ok = NULL, *guide_any = NULL;
        memset(b, 0, sizeof *b);
        b->tier = guide_tiers[t].tier;
        b->max_usd = guide_tiers[t].max_usd;
        b->guide_pick = guide_tiers[t].guide_pick;
        /* cheapest ok by purchase price within the tier (the list may be ranked by $/hour) */
        for (int i = 0; i < l->n; i++) {
            const hws_advice *a = &l->items[i];
            if (a->ok && in_tier(a, t) && (b->pick == NULL || a->buy_usd < b->pick->buy_usd))
                b->pick = a;
            /* the guide's GPU alone, in its most compact format: the fairest "why not" */
            if (is_guide_gpu(a, t) && a->count == 1 &&
                (guide_any == NULL || a->mem_needed_bytes < guide_any->mem_needed_bytes))
                guide_any = a;
            if (is_guide_gpu(a, t) && a->ok && in_tier(a, t) &&
                (guide_ok == NULL || a->buy_usd < guide_ok->buy_usd))
                guide_ok = a;
        }
        b->agrees = guide_ok != NULL;
        if (guide_ok != NULL && b->pick == guide_ok)
            snprintf(b->note, sizeof b->note, "agrees: %dx %s, %s", guide_ok->count, guide_ok->name,
                     guide_ok->weights->name);
        else if (guide_ok != NULL)
            snprintf(b->note, sizeof b->note, "agrees (%dx %s, %s works); cheapest is %dx %s, %s",
                     guide_ok->count, guide_ok->name, guide_ok->weights->name, b->pick->count,
                     b->pick->name, b->pick->weights->name);
        else if (b->pick != NULL)
            snprintf(b->note, sizeof b->note,
                     "corrected: the guide's pick fails (%.100s); %dx %s, %s "
                     "works",
                     guide_any ? guide_any->why : "not in the catalog", b->pick->count,
                     b->pick->name, b->pick->weights->name);
        else
            snprintf(b->note, sizeof b->note,
                     "corrected: nothing in this tier meets the target "
                     "(guide's pick: %.100s)",
                     guide_any ? guide_any->why : "not in the catalog");
    }
}
