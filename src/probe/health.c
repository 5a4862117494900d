/* health.c - the health verdict of a probed GPU, with the reasons a user can act on: clocks held
 * back (throttling), a PCIe link below what card and slot allow, a power cap below the default,
 * ECC errors, memory other processes hold, a lost GPU, MIG slices. Pure: it reads only the facts
 * hws_probe_gpus gathered, so every rule is tested on scripted GPUs. */
#include "hwscope/probe.h"
#include "util/units.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Names of NVML's clocks-event reason bits (nvml.h, nvmlClocksEventReason*). */
static const struct {
    unsigned long long bit;
    const char *name;
    int slowdown; /* 1: clocks held below what the load asks for */
} clock_events[] = {
    {0x1, "gpu idle", 0},
    {0x2, "applications clocks setting", 0},
    {0x4, "sw power cap", 1},
    {0x8, "hw slowdown", 1},
    {0x10, "sync boost", 0},
    {0x20, "sw thermal slowdown", 1},
    {0x40, "hw thermal slowdown", 1},
    {0x80, "hw power brake", 1},
    {0x100, "display clock setting", 0},
};

void hws_clock_events_text(unsigned long long mask, int only_slowdowns, char *text, size_t len) {
    if (len == 0)
        return;
    text[0] = '\0';
    for (size_t i = 0; i < sizeof clock_events / sizeof clock_events[0]; i++) {
        if (!(mask & clock_events[i].bit) || (only_slowdowns && !clock_events[i].slowdown))
            continue;
        if (!only_slowdowns && clock_events[i].bit == 0x1)
            continue; /* "idle" is a state, not a reason clocks are held back */
        size_t used = strlen(text);
        snprintf(text + used, len - used, "%s%s", used ? ", " : "", clock_events[i].name);
    }
}

const char *hws_health_level_name(hws_health_level level) {
    static const char *const names[] = {"ok", "note", "warning", "lost"};
    return level <= HWS_HEALTH_LOST ? names[level] : "unknown";
}

static void add(hws_gpu_health *h, hws_health_level level, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(hws_gpu_health *h, hws_health_level level, const char *key, const char *fmt, ...) {
    if (h->count >= HWS_MAX_HEALTH_REASONS)
        return;
    hws_health_reason *r = &h->reasons[h->count++];
    va_list ap;
    r->level = level;
    snprintf(r->key, sizeof r->key, "%s", key);
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof r->text, fmt, ap);
    va_end(ap);
    if (level > h->level)
        h->level = level;
}

static const hws_mig_instance *largest_mig(const hws_gpu_info *g) {
    const hws_mig_instance *best = NULL;
    for (int i = 0; i < g->mig_count; i++)
        if (hws_known(g->mig[i].mem_total_bytes) &&
            (best == NULL || g->mig[i].mem_total_bytes > best->mem_total_bytes))
            best = &g->mig[i];
    return best;
}

double hws_gpu_usable_mem_bytes(const hws_gpu_info *g) {
    if (g->lost)
        return HWS_NA;
    const hws_mig_instance *m = g->mig_enabled == 1 ? largest_mig(g) : NULL;
    if (m != NULL)
        return hws_known(m->mem_free_bytes) ? m->mem_free_bytes : m->mem_total_bytes;
    return hws_known(g->mem_free_bytes) ? g->mem_free_bytes : g->mem_total_bytes;
}

double hws_gpu_device_mem_bytes(const hws_gpu_info *g) {
    if (g->lost)
        return HWS_NA;
    const hws_mig_instance *m = g->mig_enabled == 1 ? largest_mig(g) : NULL;
    return m != NULL ? m->mem_total_bytes : g->mem_total_bytes;
}

static void judge_clocks(const hws_gpu_info *g, hws_gpu_health *h) {
    char why[128];
    if (!hws_known(g->clock_event_reasons))
        return;
    hws_clock_events_text((unsigned long long)g->clock_event_reasons, 1, why, sizeof why);
    if (why[0] == '\0')
        return;
    if (hws_known(g->cur_sm_clock_mhz) && hws_known(g->max_sm_clock_mhz))
        add(h, HWS_HEALTH_WARN, "throttle", "clocks held back: %s (SM %.0f of %.0f MHz)", why,
            g->cur_sm_clock_mhz, g->max_sm_clock_mhz);
    else
        add(h, HWS_HEALTH_WARN, "throttle", "clocks held back: %s", why);
}

/* A narrower link is a fault (riser, slot, dirty contacts); a lower generation on an idle GPU
 * is the driver saving power and comes back under load. */
static void judge_pcie(const hws_gpu_info *g, hws_gpu_health *h) {
    if (!hws_known(g->pcie_gen_cur) || !hws_known(g->pcie_gen_max) ||
        !hws_known(g->pcie_width_cur) || !hws_known(g->pcie_width_max))
        return;
    bool narrow = g->pcie_width_cur < g->pcie_width_max;
    bool slow = g->pcie_gen_cur < g->pcie_gen_max;
    if (!narrow && !slow)
        return;
    bool idle = hws_known(g->util_gpu_pct) && g->util_gpu_pct == 0;
    hws_health_level level = narrow || !idle ? HWS_HEALTH_WARN : HWS_HEALTH_NOTE;
    add(h, level, "pcie_link", "PCIe gen%.0f x%.0f, below the card's gen%.0f x%.0f%s",
        g->pcie_gen_cur, g->pcie_width_cur, g->pcie_gen_max, g->pcie_width_max,
        level == HWS_HEALTH_NOTE ? " (idle: may be power saving; check under load)"
                                 : ": host<->device copies and offload run slower");
}

static void judge_power(const hws_gpu_info *g, hws_gpu_health *h) {
    if (!hws_known(g->power_limit_w) || !hws_known(g->default_power_limit_w) ||
        g->power_limit_w >= g->default_power_limit_w - 1)
        return;
    add(h, HWS_HEALTH_WARN, "power_cap", "power limit %.0f W, below the default %.0f W (%.0f%%)",
        g->power_limit_w, g->default_power_limit_w,
        g->power_limit_w / g->default_power_limit_w * 100);
}

static void judge_ecc(const hws_gpu_info *g, hws_gpu_health *h) {
    if (hws_known(g->ecc_errors_uncorrected) && g->ecc_errors_uncorrected > 0)
        add(h, HWS_HEALTH_WARN, "ecc",
            "%.0f uncorrected ECC error(s) since the driver loaded: memory is failing",
            g->ecc_errors_uncorrected);
    else if (hws_known(g->ecc_errors_corrected) && g->ecc_errors_corrected > 0)
        add(h, HWS_HEALTH_NOTE, "ecc", "%.0f corrected ECC error(s) since the driver loaded",
            g->ecc_errors_corrected);
}

/* Memory held by processes: a model must fit beside them. */
static void judge_processes(const hws_gpu_info *g, hws_gpu_health *h) {
    double held = 0;
    int known = 0;
    char names[96] = "";
    for (int i = 0; i < g->nprocs; i++) {
        if (!hws_known(g->procs[i].used_bytes))
            continue;
        held += g->procs[i].used_bytes;
        known++;
        size_t used = strlen(names);
        if (used < sizeof names - 1)
            snprintf(names + used, sizeof names - used, "%s%s %.1f GiB", used ? ", " : "",
                     g->procs[i].name[0] ? g->procs[i].name : "?",
                     g->procs[i].used_bytes / HWS_GIB);
    }
    if (g->nprocs <= 0)
        return;
    char free_text[32];
    hws_fmt_gib(free_text, sizeof free_text, g->mem_free_bytes);
    if (known == 0)
        add(h, HWS_HEALTH_WARN, "processes", "%d other process(es) on it; %s free", g->nprocs,
            free_text);
    else
        add(h, HWS_HEALTH_WARN, "processes", "%d other process(es) hold %.1f GiB (%s); %s free",
            g->nprocs, held / HWS_GIB, names, free_text);
}

static void judge_mig(const hws_gpu_info *g, hws_gpu_health *h) {
    if (g->mig_enabled != 1)
        return;
    const hws_mig_instance *m = largest_mig(g);
    if (m == NULL) {
        add(h, HWS_HEALTH_WARN, "mig", "MIG on but no instance made: nothing can run on it");
        return;
    }
    char slice[32];
    hws_fmt_gib(slice, sizeof slice, m->mem_total_bytes);
    add(h, HWS_HEALTH_NOTE, "mig",
        "MIG on: %d instance(s), the largest %s; a process sees one slice, not the whole card",
        g->mig_count, slice);
}

void hws_gpu_health_judge(const hws_gpu_info *g, hws_gpu_health *out) {
    memset(out, 0, sizeof *out);
    if (g->lost) {
        add(out, HWS_HEALTH_LOST, "lost",
            "fell off the bus or stopped answering (NVML: GPU is lost); its facts are n/a; "
            "reset it or reboot");
        return;
    }
    judge_clocks(g, out);
    judge_pcie(g, out);
    judge_power(g, out);
    judge_ecc(g, out);
    judge_processes(g, out);
    judge_mig(g, out);
}
