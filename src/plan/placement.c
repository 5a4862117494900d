/* placement.c - the GPUs a plan is for (named hardware or this machine's), and where the model
 * goes on them: one GPU, a layer split balanced by memory (accelerate's device_map="auto"),
 * tensor parallel, equal pipeline stages, partial CPU offload spread over every GPU (llama.cpp
 * -ngl + --tensor-split), MoE expert offload (--n-cpu-moe / -ot exps=CPU), CPU only, or
 * DeepSpeed ZeRO-3; offloaded bytes checked against the host's RAM. */
#include "hwscope/plan.h"

#include "hwscope/probe.h"
#include "plan/shape.h"
#include "util/units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- devices ---------------------------------------------------------------------------- */

/* Vendors' "80 GB" of HBM/GDDR is 80 GiB; the driver keeps about 0.5% of it (an H100 80GB shows
 * 79.6 GiB through NVML, an RTX 4090 23.99 GiB). */
#define VENDOR_GB_USABLE (HWS_GIB / HWS_GB * 0.995)

static void device_from_spec(hws_device *d, const hws_gpu_spec *g) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", g->name);
    d->spec = g;
    d->mem_total_bytes = g->mem_bytes * VENDOR_GB_USABLE;
    d->mem_avail_bytes = d->mem_total_bytes;
    d->sm_count = g->sm_count;
}

void hws_devices_named(const hws_gpu_spec *g, int n, hws_device_set *out) {
    memset(out, 0, sizeof *out);
    hws_host_unknown(&out->host);
    for (int i = 0; i < n && i < HWS_PLAN_MAX_DEVICES; i++)
        device_from_spec(&out->dev[out->count++], g);
    snprintf(out->basis, sizeof out->basis, "named hardware %dx %s: total memory", n, g->name);
}

/* "4x RTX 4090" -> count 4, name "RTX 4090"; "RTX 4090" -> 1. Returns 0 when malformed. */
static int split_count(const char *part, int *count, char *name, size_t n) {
    const char *p = part;
    char *end;
    while (isspace((unsigned char)*p))
        p++;
    *count = 1;
    if (isdigit((unsigned char)*p)) {
        long c = strtol(p, &end, 10);
        const char *q = end;
        while (isspace((unsigned char)*q))
            q++;
        if (*q == 'x' || *q == 'X') {
            if (c < 1 || c > HWS_PLAN_MAX_DEVICES)
                return 0;
            *count = (int)c;
            p = q + 1;
        }
    }
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    if (len == 0 || len >= n)
        return 0;
    memcpy(name, p, len);
    name[len] = '\0';
    return 1;
}

/* Takes "through/with/via/over NVLink" (any case) off the end of a part; returns 1 when it was
 * there. */
static int strip_nvlink(char *part) {
    static const char *const joins[] = {" through", " with", " via", " over", " +", ""};
    char *at = strcasestr(part, "nvlink");
    if (at == NULL)
        return 0;
    *at = '\0';
    size_t len = strlen(part);
    while (len > 0 && isspace((unsigned char)part[len - 1]))
        part[--len] = '\0';
    for (size_t i = 0; i < sizeof joins / sizeof *joins; i++) {
        size_t k = strlen(joins[i]);
        if (k > 0 && len >= k && strcasecmp(part + len - k, joins[i]) == 0) {
            part[len - k] = '\0';
            break;
        }
    }
    return 1;
}

hws_status hws_devices_parse(const char *spec, hws_device_set *out, hws_error *err) {
    char buf[512], name[128], nvlink_note[256] = "";
    memset(out, 0, sizeof *out);
    if (spec == NULL || strlen(spec) >= sizeof buf)
        return hws_error_set(err, HWS_ERR_INPUT, "--gpus: empty or too long");
    snprintf(buf, sizeof buf, "%s", spec);
    hws_host_unknown(&out->host);
    if (strcasecmp(spec, "cpu") == 0 || strcasecmp(spec, "none") == 0) {
        out->cpu_only = 1;
        snprintf(out->basis, sizeof out->basis, "no GPU: the model runs on the CPU (llama.cpp)");
        return HWS_OK;
    }
    char *save = NULL;
    for (char *part = strtok_r(buf, ",+", &save); part; part = strtok_r(NULL, ",+", &save)) {
        int count;
        int nvlink = strip_nvlink(part);
        if (!split_count(part, &count, name, sizeof name))
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "--gpus: '%s' is not 'NAME' or 'Nx NAME' (N in 1..%d)", part,
                                 HWS_PLAN_MAX_DEVICES);
        const hws_gpu_spec *g;
        char which[512];
        int matched = hws_gpu_catalog_resolve(name, &g, which, sizeof which);
        if (g == NULL && matched > 1)
            return hws_error_set(err, HWS_ERR_INPUT, "--gpus: '%s' could be any of %s: which one?",
                                 name, which);
        if (g == NULL)
            g = hws_gpu_catalog_find(name);
        if (g == NULL) {
            char near[256];
            size_t n;
            const hws_gpu_spec *rows = hws_gpu_catalog(&n);
            hws_near_names(name, rows, n, sizeof *rows, near, sizeof near);
            return hws_error_set(err, HWS_ERR_INPUT, "--gpus: unknown GPU '%s'%s%s%s", name,
                                 near[0] ? " (close matches: " : "", near, near[0] ? ")" : "");
        }
        if (!hws_known(g->mem_bytes) || g->mem_bytes <= 0)
            return hws_error_set(err, HWS_ERR_INPUT, "--gpus: '%s': memory size unknown", name);
        if (nvlink && strstr(g->interconnect, "NVLink") == NULL)
            snprintf(nvlink_note, sizeof nvlink_note,
                     "; %s has no NVLink: peer traffic goes over PCIe (%.0f GB/s each way), so "
                     "tensor parallel pays each all-reduce at PCIe speed",
                     g->name, hws_known(g->interconnect_gbps) ? g->interconnect_gbps / 2 : 32.0);
        if (out->count + count > HWS_PLAN_MAX_DEVICES)
            return hws_error_set(err, HWS_ERR_INPUT, "--gpus: '%s': more than %d GPUs", spec,
                                 HWS_PLAN_MAX_DEVICES);
        for (int i = 0; i < count; i++)
            device_from_spec(&out->dev[out->count++], g);
    }
    if (out->count == 0)
        return hws_error_set(err, HWS_ERR_INPUT, "--gpus: '%s' names no GPU", spec);
    snprintf(out->basis, sizeof out->basis,
             "named hardware '%s': fit judged against total memory (vendor GB read as GiB, less "
             "0.5%% the driver keeps)%s",
             spec, nvlink_note);
    return HWS_OK;
}

hws_status hws_devices_from_gpus(const hws_gpu_list *list, hws_device_set *out, hws_error *err) {
    memset(out, 0, sizeof *out);
    hws_host_unknown(&out->host);
    if (list->count == 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "no local GPU: %s",
                             list->why_none[0] ? list->why_none : "none found");
    for (int i = 0; i < list->count && out->count < HWS_PLAN_MAX_DEVICES; i++) {
        const hws_gpu_info *g = &list->gpus[i];
        if (g->lost)
            continue; /* nothing runs on a GPU that fell off the bus */
        hws_device *d = &out->dev[out->count++];
        snprintf(d->name, sizeof d->name, "%s", g->name);
        d->spec = hws_gpu_catalog_find(g->name);
        d->local = 1;
        /* in MIG mode a process sees one slice: judge against the largest */
        d->mem_total_bytes = hws_gpu_device_mem_bytes(g);
        d->mem_avail_bytes = hws_gpu_usable_mem_bytes(g);
        d->sm_count = d->spec != NULL ? d->spec->sm_count : HWS_NA; /* the driver's, else */
        if (hws_known(g->sm_count) && g->sm_count > 0)
            d->sm_count = g->sm_count;
    }
    if (out->count == 0)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "no usable local GPU: every one is lost");
    snprintf(out->basis, sizeof out->basis,
             "local GPUs: fit judged against memory free now (NVML)");
    return HWS_OK;
}

hws_status hws_devices_local(hws_device_set *out, hws_error *err) {
    memset(out, 0, sizeof *out);
    hws_gpu_list *list = calloc(1, sizeof *list);
    if (list == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    hws_status st = hws_probe_gpus(list, err);
    if (st == HWS_OK)
        st = hws_devices_from_gpus(list, out, err);
    free(list);
    return st;
}

/* ---- placement -------------------------------------------------------------------------- */

static const char *const place_names[HWS_PLACE_COUNT] = {
    "single GPU",  "layer split",    "tensor parallel", "pipeline",
    "CPU offload", "expert offload", "CPU only",        "ZeRO-3"};

const char *hws_place_name(hws_place_kind k) {
    return k < HWS_PLACE_COUNT ? place_names[k] : "unknown";
}

/* What a device offers: free or total memory; vLLM uses only gpu_memory_utilization x total. */
static double device_avail(const hws_plan_opts *o, const hws_device *d) {
    double avail = d->mem_avail_bytes;
    if (o->runtime == HWS_RUNTIME_VLLM && hws_known(d->mem_total_bytes)) {
        double cap = o->vllm_gpu_mem_util * d->mem_total_bytes;
        if (cap < avail)
            avail = cap;
    }
    return avail;
}

static void load_init(hws_device_load *l, const hws_plan_opts *o, const hws_memory *mem,
                      const hws_device *d) {
    memset(l, 0, sizeof *l);
    l->activation_bytes = mem->activation_bytes;
    l->overhead_bytes = mem->cuda_context_bytes + mem->runtime_bytes;
    l->avail_bytes = device_avail(o, d);
}

static void load_add_layer(hws_device_load *l, const hws_model_spec *m, const hws_plan_opts *o,
                           const hws_memory *mem, int layer) {
    if (l->n_layers == 0)
        l->first_layer = layer;
    l->n_layers++;
    l->weights_bytes += hws_layer_weights_bytes(mem, layer);
    l->kv_bytes += hws_kv_layer_bytes(m, o, layer);
}

/* Input embedding (and a vision tower, which feeds it) on the first device; the head on the
 * last (with the embedding when tied). */
static void load_ends(hws_placement *pl, const hws_memory *mem) {
    hws_device_load *first = &pl->load[0], *last = &pl->load[pl->ndev - 1];
    first->has_embeddings = 1;
    first->weights_bytes += mem->input_embed_bytes + mem->vision_bytes;
    if (mem->head_tied) {
        first->has_head = 1;
        first->weights_bytes += mem->final_norm_bytes;
    } else {
        last->has_head = 1;
        last->weights_bytes += mem->head_bytes + mem->final_norm_bytes;
    }
}

/* vLLM reserves gpu_memory_utilization x the card's total whatever other processes hold, and
 * will not start when that much is not free now (local GPUs). It takes the total from CUDA,
 * which offers ~1-2% less than NVML's total: that much is allowed for. The plan says so and
 * launches with the utilisation that is free (the fit was judged against free memory). */
#define VLLM_TOTAL_SLACK 0.02

static void vllm_utilisation(const hws_plan_opts *o, const hws_device_set *devs,
                             hws_placement *pl) {
    pl->gpu_mem_util = o->vllm_gpu_mem_util;
    if (o->runtime != HWS_RUNTIME_VLLM)
        return;
    int worst = -1;
    double lowest = 1;
    for (int i = 0; i < pl->ndev && i < devs->count; i++) {
        const hws_device *d = &devs->dev[i];
        double share = d->mem_avail_bytes / d->mem_total_bytes;
        if (d->local && hws_known(share) && share < lowest) {
            lowest = share;
            worst = i;
        }
    }
    if (worst < 0 || lowest >= o->vllm_gpu_mem_util - VLLM_TOTAL_SLACK)
        return;
    const hws_device *d = &devs->dev[worst];
    pl->gpu_mem_util = floor((lowest - VLLM_TOTAL_SLACK) * 100) / 100;
    snprintf(pl->note, sizeof pl->note,
             "vLLM at --gpu-memory-utilization %.2f refuses to start here: it reserves %.1f GiB "
             "of GPU %d, where %.1f GiB is free; launched with %.2f",
             o->vllm_gpu_mem_util, o->vllm_gpu_mem_util * d->mem_total_bytes / HWS_GIB, worst,
             d->mem_avail_bytes / HWS_GIB, pl->gpu_mem_util);
}

static void finish(hws_placement *pl) {
    pl->fits = pl->possible;
    if (pl->cpu_bytes > 0 && hws_known(pl->host_avail_bytes) && pl->host_avail_bytes > 0 &&
        pl->cpu_bytes > pl->host_avail_bytes) {
        pl->fits = 0;
        snprintf(pl->why, sizeof pl->why, "host RAM: needs %.1f GiB, has %.1f GiB",
                 pl->cpu_bytes / HWS_GIB, pl->host_avail_bytes / HWS_GIB);
    }
    for (int i = 0; i < pl->ndev; i++) {
        hws_device_load *l = &pl->load[i];
        l->total_bytes = l->weights_bytes + l->kv_bytes + l->activation_bytes + l->overhead_bytes;
        l->fits = l->total_bytes <= l->avail_bytes;
        if (!l->fits && pl->fits) {
            pl->fits = 0;
            snprintf(pl->why, sizeof pl->why, "GPU %d needs %.1f GiB, has %.1f GiB", i,
                     l->total_bytes / HWS_GIB, l->avail_bytes / HWS_GIB);
        }
    }
}

static double layer_cost(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                         int layer) {
    return hws_layer_weights_bytes(mem, layer) + hws_kv_layer_bytes(m, o, layer);
}

static void place_single(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                         const hws_device_set *devs, hws_placement *pl) {
    pl->ndev = 1;
    pl->possible = 1;
    load_init(&pl->load[0], o, mem, &devs->dev[0]);
    for (int i = 0; i < (int)m->n_layers; i++)
        load_add_layer(&pl->load[0], m, o, mem, i);
    load_ends(pl, mem);
}

/* Layers in order, each device taking a share of the blocks proportional to the memory it has
 * left after its fixed parts (what accelerate's get_balanced_memory does with max_memory). */
static void place_split(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                        const hws_device_set *devs, hws_placement *pl, int equal) {
    int n = devs->count, nl = (int)m->n_layers;
    double room[HWS_PLAN_MAX_DEVICES], sum_room = 0, sum_cost = 0;
    pl->ndev = n;
    pl->possible = nl >= n;
    if (!pl->possible)
        snprintf(pl->why, sizeof pl->why, "%d layers for %d GPUs", nl, n);
    for (int d = 0; d < n; d++) {
        load_init(&pl->load[d], o, mem, &devs->dev[d]);
        room[d] =
            pl->load[d].avail_bytes - pl->load[d].activation_bytes - pl->load[d].overhead_bytes;
        room[d] -= d == 0 ? mem->input_embed_bytes + mem->vision_bytes : 0;
        room[d] -= d == n - 1 ? mem->head_bytes : 0;
        room[d] = room[d] > 0 ? room[d] : 0;
        sum_room += room[d];
    }
    for (int i = 0; i < nl; i++)
        sum_cost += layer_cost(m, o, mem, i);
    int d = 0;
    double cum = 0;
    for (int i = 0; i < nl; i++) {
        double c = layer_cost(m, o, mem, i);
        double share = sum_room > 0 ? sum_cost * room[d] / sum_room : sum_cost / n;
        int quota = nl / n + (d < nl % n);
        int full = equal ? pl->load[d].n_layers >= quota : cum + c > room[d] || cum + c / 2 > share;
        /* every later device needs at least one layer; the last takes what is left */
        int must = nl - i <= n - 1 - d;
        if (d < n - 1 && pl->load[d].n_layers > 0 && (full || must)) {
            d++;
            cum = 0;
        }
        load_add_layer(&pl->load[d], m, o, mem, i);
        cum += c;
    }
    load_ends(pl, mem);
}

static int same_gpus(const hws_device_set *devs) {
    for (int i = 1; i < devs->count; i++)
        if (strcmp(devs->dev[i].name, devs->dev[0].name) != 0)
            return 0;
    return 1;
}

static void place_tp(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                     const hws_device_set *devs, hws_placement *pl) {
    int n = devs->count;
    double heads = m->n_heads;
    double kv = hws_known(m->n_kv_heads) && m->n_kv_heads > 0 ? m->n_kv_heads : heads;
    int mla = hws_known(m->kv_lora_rank) && m->kv_lora_rank > 0;
    pl->ndev = n;
    pl->possible = 1;
    if (n < 2) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "tensor parallel needs 2 or more GPUs");
    } else if (!same_gpus(devs)) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "tensor parallel needs identical GPUs");
    } else if (fmod(heads, n) != 0) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "%.0f attention heads do not divide by %d GPUs", heads,
                 n);
    } else if (!mla && fmod(kv, n) != 0 && fmod(n, kv) != 0) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "%.0f KV heads and %d GPUs: neither divides the other",
                 kv, n);
    }
    /* each GPU holds 1/n of every matrix (vocab-parallel embedding and head); KV heads split,
     * replicated when fewer than GPUs (vLLM); MLA's latent cache is whole on every GPU */
    double kv_share = mla ? 1.0 : (kv >= n ? 1.0 / n : 1.0 / kv);
    for (int d = 0; d < n; d++) {
        hws_device_load *l = &pl->load[d];
        load_init(l, o, mem, &devs->dev[d]);
        l->first_layer = 0;
        l->n_layers = (int)m->n_layers;
        l->weights_bytes = mem->weights_bytes / n;
        l->kv_bytes = mem->kv_bytes * kv_share;
        l->has_embeddings = l->has_head = 1;
    }
}

/* What device d has for blocks after its fixed parts (activations, context, runtime). */
static double device_room(const hws_placement *pl, int d) {
    const hws_device_load *l = &pl->load[d];
    double room = l->avail_bytes - l->activation_bytes - l->overhead_bytes;
    return room > 0 ? room : 0;
}

/* Packs blocks [first_layer, nl) onto the GPUs in order, each GPU filling its room (blocks cost
 * weights + KV, less `host_part` of each MoE block that stays in host RAM); the last device takes
 * the last blocks. Returns the most blocks that fit: packing a suffix in order, greedily from the
 * back, is optimal. */
static int pack_suffix(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                       hws_placement *pl, double moe_host_bytes, int cpu_moe_below, int fill) {
    int nl = (int)m->n_layers, d = pl->ndev - 1, placed = 0;
    double used = 0;
    for (int i = nl - 1; i >= 0 && d >= 0; i--) {
        double c = layer_cost(m, o, mem, i);
        if (i < cpu_moe_below && hws_layer_is_moe(mem, i))
            c -= moe_host_bytes;
        while (d >= 0 && used + c > device_room(pl, d)) {
            d--;
            used = 0;
        }
        if (d < 0)
            break;
        used += c;
        placed++;
        if (fill) {
            hws_device_load *l = &pl->load[d];
            l->first_layer = i;
            l->n_layers++;
            l->weights_bytes += c - hws_kv_layer_bytes(m, o, i);
            l->kv_bytes += hws_kv_layer_bytes(m, o, i);
        }
    }
    return placed;
}

static void init_loads(const hws_plan_opts *o, const hws_memory *mem, const hws_device_set *devs,
                       hws_placement *pl) {
    pl->ndev = devs->count;
    pl->possible = 1;
    pl->host_avail_bytes = devs->host.mem_bytes;
    for (int d = 0; d < devs->count; d++)
        load_init(&pl->load[d], o, mem, &devs->dev[d]);
}

/* The head on the last GPU when every block is on a GPU and it fits there. */
static double place_head(const hws_memory *mem, hws_placement *pl) {
    hws_device_load *last = &pl->load[pl->ndev - 1];
    double head =
        (mem->head_tied ? mem->input_embed_bytes : mem->head_bytes) + mem->final_norm_bytes;
    if (last->weights_bytes + last->kv_bytes + head <= device_room(pl, pl->ndev - 1)) {
        last->has_head = 1;
        last->weights_bytes += head;
    }
    return head;
}

static double gpu_part(const hws_placement *pl) {
    double sum = 0;
    for (int d = 0; d < pl->ndev; d++)
        sum += pl->load[d].weights_bytes + pl->load[d].kv_bytes;
    return sum;
}

/* llama.cpp -ngl N --tensor-split: the last N blocks on the GPUs (split in order, as many as fit
 * on each), the rest and the input embedding in host memory; the head goes to the last GPU once
 * every block is on one and it fits. accelerate's device_map="auto" with max_memory fills the
 * GPUs the same way (from the front): the same count of blocks stays on the CPU. */
static void place_offload(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                          const hws_device_set *devs, hws_placement *pl) {
    int nl = (int)m->n_layers;
    init_loads(o, mem, devs, pl);
    int on_gpu = pack_suffix(m, o, mem, pl, 0, 0, 1);
    if (on_gpu == nl)
        place_head(mem, pl);
    pl->cpu_layers = nl - on_gpu;
    pl->cpu_bytes = mem->weights_bytes + mem->kv_bytes - gpu_part(pl);
    if (on_gpu == 0) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "not one layer fits on the GPUs");
    }
}

/* MoE expert offload: every block on the GPUs with the routed experts of blocks below
 * n_cpu_moe in host RAM; the smallest n_cpu_moe that fits (llama.cpp --n-cpu-moe; all of them
 * is -ot exps=CPU). Attention, shared experts, KV and the head stay on the GPUs. */
static void place_experts(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                          const hws_device_set *devs, hws_placement *pl) {
    int nl = (int)m->n_layers;
    double routed = mem->expert_bytes * (hws_known(m->n_experts) ? m->n_experts : 0);
    init_loads(o, mem, devs, pl);
    if (routed <= 0) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "not a mixture-of-experts model");
        return;
    }
    int n_cpu = mem->first_moe_layer;
    while (n_cpu < nl && pack_suffix(m, o, mem, pl, routed, n_cpu, 0) < nl)
        n_cpu++;
    pack_suffix(m, o, mem, pl, routed, n_cpu, 1);
    place_head(mem, pl);
    pl->cpu_moe_below = n_cpu;
    for (int i = 0; i < n_cpu; i++)
        pl->cpu_moe_layers += hws_layer_is_moe(mem, i);
    pl->cpu_bytes = mem->weights_bytes + mem->kv_bytes - gpu_part(pl);
    if (pack_suffix(m, o, mem, pl, routed, n_cpu, 0) < nl) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "attention and KV alone do not fit on the GPUs");
    }
}

/* No GPU: everything in host RAM, with llama.cpp's compute buffer beside it. */
static void place_cpu_only(const hws_memory *mem, const hws_device_set *devs, hws_placement *pl) {
    pl->ndev = 0;
    pl->possible = 1;
    pl->host_avail_bytes = devs->host.mem_bytes;
    pl->cpu_bytes = mem->weights_bytes + mem->kv_bytes + mem->activation_bytes;
}

/* DeepSpeed ZeRO-3 inference: each GPU keeps 1/n of every block and, each forward, gathers the
 * block it runs (and prefetches the next) from the others; each GPU serves its own share of
 * the batch with its own KV cache. */
static void place_zero3(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                        const hws_device_set *devs, hws_placement *pl) {
    int n = devs->count;
    init_loads(o, mem, devs, pl);
    if (n < 2) {
        pl->possible = 0;
        snprintf(pl->why, sizeof pl->why, "ZeRO-3 needs 2 or more GPUs");
        return;
    }
    double seqs = ceil(o->batch / n);
    double largest = mem->moe_block_bytes > mem->dense_block_bytes ? mem->moe_block_bytes
                                                                   : mem->dense_block_bytes;
    for (int d = 0; d < n; d++) {
        hws_device_load *l = &pl->load[d];
        l->first_layer = 0;
        l->n_layers = (int)m->n_layers;
        l->weights_bytes = mem->weights_bytes / n + 2 * largest; /* shard + gathered blocks */
        l->kv_bytes = mem->kv_bytes / o->batch * seqs;
        l->has_embeddings = l->has_head = 1;
    }
}

void hws_placement_compute(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                           const hws_device_set *devs, hws_place_kind kind, hws_placement *pl) {
    memset(pl, 0, sizeof *pl);
    pl->kind = kind;
    pl->tp = pl->pp = 1;
    pl->host_avail_bytes = devs->host.mem_bytes;
    if (kind == HWS_PLACE_CPU_ONLY && m->n_layers >= 1) {
        place_cpu_only(mem, devs, pl);
        pl->cpu_layers = (int)m->n_layers;
        finish(pl);
        hws_launch_command(m, o, devs, pl, pl->launch, sizeof pl->launch);
        return;
    }
    if (devs->count < 1 || !(m->n_layers >= 1)) {
        snprintf(pl->why, sizeof pl->why, "no GPU");
        return;
    }
    switch (kind) {
    case HWS_PLACE_SINGLE:
        place_single(m, o, mem, devs, pl);
        break;
    case HWS_PLACE_LAYER_SPLIT:
    case HWS_PLACE_PIPELINE:
        if (devs->count < 2) {
            pl->ndev = 1;
            snprintf(pl->why, sizeof pl->why, "%s needs 2 or more GPUs", hws_place_name(kind));
            return;
        }
        place_split(m, o, mem, devs, pl, kind == HWS_PLACE_PIPELINE);
        break;
    case HWS_PLACE_TENSOR_PARALLEL:
        place_tp(m, o, mem, devs, pl);
        break;
    case HWS_PLACE_CPU_OFFLOAD:
        place_offload(m, o, mem, devs, pl);
        break;
    case HWS_PLACE_EXPERT_OFFLOAD:
        place_experts(m, o, mem, devs, pl);
        break;
    case HWS_PLACE_ZERO3:
        place_zero3(m, o, mem, devs, pl);
        break;
    default:
        snprintf(pl->why, sizeof pl->why, "unknown placement");
        return;
    }
    if (kind == HWS_PLACE_TENSOR_PARALLEL)
        pl->tp = pl->ndev;
    if (kind == HWS_PLACE_PIPELINE || kind == HWS_PLACE_LAYER_SPLIT)
        pl->pp = pl->ndev;
    if (pl->possible) {
        finish(pl);
        vllm_utilisation(o, devs, pl);
        hws_launch_command(m, o, devs, pl, pl->launch, sizeof pl->launch);
    }
}

double hws_placement_largest_need(const hws_placement *pl) {
    double most = 0;
    for (int i = 0; i < pl->ndev; i++)
        most = pl->load[i].total_bytes > most ? pl->load[i].total_bytes : most;
    return most;
}

hws_place_kind hws_placement_best(const hws_model_spec *m, const hws_plan_opts *o,
                                  const hws_memory *mem, const hws_device_set *devs,
                                  hws_placement *out) {
    /* vLLM shards by tensor parallel; transformers and llama.cpp split by layers; then what
     * keeps the most on the GPUs: expert offload (MoE), layer offload over every GPU, CPU only */
    static const hws_place_kind multi_tp[] = {HWS_PLACE_TENSOR_PARALLEL, HWS_PLACE_LAYER_SPLIT,
                                              HWS_PLACE_PIPELINE,        HWS_PLACE_EXPERT_OFFLOAD,
                                              HWS_PLACE_CPU_OFFLOAD,     HWS_PLACE_CPU_ONLY};
    static const hws_place_kind multi_ls[] = {HWS_PLACE_LAYER_SPLIT, HWS_PLACE_TENSOR_PARALLEL,
                                              HWS_PLACE_PIPELINE,    HWS_PLACE_EXPERT_OFFLOAD,
                                              HWS_PLACE_CPU_OFFLOAD, HWS_PLACE_CPU_ONLY};
    static const hws_place_kind one[] = {HWS_PLACE_SINGLE, HWS_PLACE_EXPERT_OFFLOAD,
                                         HWS_PLACE_CPU_OFFLOAD, HWS_PLACE_CPU_ONLY};
    static const hws_place_kind none[] = {HWS_PLACE_CPU_ONLY};
    const hws_place_kind *order = devs->count < 1                  ? none
                                  : devs->count < 2                ? one
                                  : o->runtime == HWS_RUNTIME_VLLM ? multi_tp
                                                                   : multi_ls;
    int norder = devs->count < 1 ? 1 : devs->count < 2 ? 4 : 6;
    hws_place_kind fallback = order[0];
    int host_known = hws_known(devs->host.mem_bytes) && devs->host.mem_bytes > 0;
    for (int i = 0; i < norder; i++) {
        /* beside GPUs, CPU only is offered only against a host RAM that is known */
        if (order[i] == HWS_PLACE_CPU_ONLY && devs->count > 0 && !host_known)
            continue;
        hws_placement_compute(m, o, mem, devs, order[i], out);
        if (out->fits)
            return order[i];
        /* nothing fits: the offload that keeps the most on the GPUs says how far off it is */
        if ((order[i] == HWS_PLACE_EXPERT_OFFLOAD || order[i] == HWS_PLACE_CPU_OFFLOAD) &&
            out->possible && fallback != HWS_PLACE_EXPERT_OFFLOAD &&
            fallback != HWS_PLACE_CPU_OFFLOAD)
            fallback = order[i];
    }
    hws_placement_compute(m, o, mem, devs, fallback, out);
    return fallback;
}
