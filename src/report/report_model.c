/* report_model.c - builds the report: probes the machine, judges each GPU's health, takes the
 * quick measurement (or reuses figures saved for this hardware within a day), and plans the
 * default models in each format on the GPUs, on GPUs + CPU offload and on the CPU alone. */
#include "report/figures.h"
#include "report/report_model.h"
#include "hwscope/model.h"
#include "util/file.h"
#include "util/units.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Popular models from 1B to 70B, dense and MoE (catalog names), in the order the report lists
 * them (the first eight as the report always had them). */
static const char *const default_models[] = {
    "Llama-3.2-3B",      "Llama-3.1-8B",  "Qwen2.5-14B", "Qwen3-30B-A3B", "Qwen2.5-32B",
    "Mixtral-8x7B-v0.1", "Llama-3.1-70B", "Qwen2.5-72B", "Llama-3.2-1B",
};

/* The formats users run, with the runtime each is usually run with and where it may go. */
static const struct {
    const char *format;
    hws_runtime runtime;
    int on_cpu; /* 1: a GGUF type llama.cpp also runs with offload and on the CPU alone */
} formats[HWS_REPORT_MAX_FORMATS] = {
    /* best quality first */
    {"bf16", HWS_RUNTIME_VLLM, 0},       {"fp8", HWS_RUNTIME_VLLM, 0},
    {"Q8_0", HWS_RUNTIME_LLAMACPP, 1},   {"int4", HWS_RUNTIME_VLLM, 0},
    {"Q4_K_M", HWS_RUNTIME_LLAMACPP, 1},
};

const char *hws_target_name(hws_target t) {
    static const char *const names[HWS_TARGET_COUNT] = {"GPUs", "GPUs + CPU", "CPU"};
    return t < HWS_TARGET_COUNT ? names[t] : "unknown";
}

void hws_report_opts_default(hws_report_opts *o) {
    memset(o, 0, sizeof *o);
    o->ctx_tokens = HWS_NA;
    o->runtime = -1;
    o->bench = HWS_BENCH_AUTO;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The folder figures are saved in: opts, else the ceilings file's. "" when none fits. */
static void figures_dir(const hws_report_opts *o, char *dir, size_t n) {
    char path[HWS_CEILINGS_PATH_BYTES];
    dir[0] = '\0';
    if (o->figures_dir != NULL) {
        snprintf(dir, n, "%s", o->figures_dir);
        return;
    }
    if (o->ceilings_path != NULL)
        snprintf(path, sizeof path, "%s", o->ceilings_path);
    else if (!hws_ceilings_path(path, sizeof path))
        return;
    snprintf(dir, n, "%s", dirname(path));
}

static bool load_saved(hws_report *r, const char *file) {
    char *text = NULL;
    size_t len = 0;
    hws_error err;
    if (hws_file_read(file, 1 << 20, &text, &len, &err) != HWS_OK)
        return false;
    bool ok = hws_report_figures_parse(text, len, r->fingerprint_id, (double)time(NULL),
                                       24 * 3600.0, r, &err) == HWS_OK;
    free(text);
    if (ok)
        snprintf(r->bench_note, sizeof r->bench_note, "saved %s (less than a day old): %s",
                 r->bench_time_utc, file);
    return ok;
}

/* Runs the quick suites (memory and matrix products, CPU and GPU) and keeps the figures. */
static void measure(const hws_report_opts *o, hws_report *r, const char *file) {
    const char *suites[] = {"mem", "gemm"};
    hws_bench_options bo = hws_bench_defaults();
    hws_bench_result *b = NULL;
    hws_error err = {""};
    bo.quick = true;
    bo.progress = o->progress;
    bo.progress_arg = o->progress_arg;
    double t0 = now_s();
    if (hws_bench_run(suites, 2, &bo, &b, &err) != HWS_OK) {
        snprintf(r->bench_state, sizeof r->bench_state, "failed");
        snprintf(r->bench_note, sizeof r->bench_note, "the quick measurement failed: %.200s",
                 err.msg);
        return;
    }
    r->bench_seconds = now_s() - t0;
    hws_report_figures_from_bench(b, r);
    snprintf(r->bench_state, sizeof r->bench_state, "measured");
    snprintf(r->bench_time_utc, sizeof r->bench_time_utc, "%s", b->fingerprint.time_utc);
    char path[HWS_CEILINGS_PATH_BYTES];
    hws_ceilings c;
    if (o->ceilings_path != NULL)
        snprintf(path, sizeof path, "%s", o->ceilings_path);
    bool have_path = o->ceilings_path != NULL || hws_ceilings_path(path, sizeof path);
    const char *saved = "";
    if (file[0] != '\0' && hws_report_figures_save(r, file, &err) == HWS_OK) {
        saved = file;
        /* the planner plans with what was measured, as after `hwscope bench` */
        if (have_path && hws_bench_ceilings(b, &c))
            hws_ceilings_save(path, b->fingerprint.bench_gpu_name, &c, &err);
    }
    snprintf(r->bench_note, sizeof r->bench_note,
             "measured now in %.1f s (quick mem + gemm)%s%.180s", r->bench_seconds,
             saved[0] ? "; saved to " : "; not saved", saved);
    hws_bench_result_free(b);
}

static void quick_figures(const hws_report_opts *o, hws_report *r) {
    char dir[PATH_MAX] = "", file[PATH_MAX + 64] = "";
    figures_dir(o, dir, sizeof dir);
    if (dir[0] != '\0') {
        if (o->figures_dir == NULL && o->ceilings_path == NULL)
            mkdir(dir, 0755); /* the default cache folder on a first run; a named one must exist */
        hws_report_figures_file(r, dir, file, sizeof file);
    }
    r->bench_seconds = HWS_NA;
    if (o->bench != HWS_BENCH_FORCE && file[0] != '\0' && load_saved(r, file)) {
        snprintf(r->bench_state, sizeof r->bench_state, "saved");
        return;
    }
    if (o->bench == HWS_BENCH_SKIP) {
        snprintf(r->bench_state, sizeof r->bench_state, "skipped");
        snprintf(r->bench_note, sizeof r->bench_note,
                 "--no-bench and no figures saved for this hardware within a day");
        return;
    }
    measure(o, r, file);
}

/* fp8 weights need FP8 matrix units (compute capability 8.9+) on every GPU. */
static bool format_runs_on(const char *format, const hws_device_set *devs) {
    if (strcmp(format, "fp8") != 0)
        return true;
    for (int i = 0; i < devs->count; i++)
        if (devs->dev[i].spec == NULL || !hws_known(devs->dev[i].spec->fp8_tflops))
            return false;
    return devs->count > 0;
}

static bool gpu_only(hws_place_kind k) {
    return k == HWS_PLACE_SINGLE || k == HWS_PLACE_LAYER_SPLIT || k == HWS_PLACE_TENSOR_PARALLEL ||
           k == HWS_PLACE_PIPELINE;
}

/* Plans one model in one format on one target into run. */
static void plan_run(const hws_report_opts *o, const hws_report *r, const hws_model_spec *m,
                     double ctx, int f, hws_target target, const hws_ceilings_set *ceil,
                     hws_report_run *run) {
    hws_plan_opts po;
    hws_memory mem;
    hws_error err = {""};
    memset(run, 0, sizeof *run);
    run->format = formats[f].format;
    run->target = target;
    run->gpu_bytes = run->host_bytes = HWS_NA;
    run->prefill_tokens_per_s = run->decode_tokens_per_s = HWS_NA;
    run->decode_bytes_per_step = run->prefill_flops_per_token = HWS_NA;
    hws_plan_opts_default(&po);
    po.weights = hws_weight_format_find(formats[f].format);
    po.runtime =
        target != HWS_TARGET_GPU || o->runtime < 0 ? formats[f].runtime : (hws_runtime)o->runtime;
    if (target != HWS_TARGET_GPU)
        po.runtime = HWS_RUNTIME_LLAMACPP; /* offload and CPU alone: llama.cpp */
    po.ctx_tokens = ctx;
    run->runtime = hws_runtime_name(po.runtime);
    const hws_device_set *devs = target == HWS_TARGET_CPU ? &r->cpu_set : &r->gpus_set;
    if (target != HWS_TARGET_CPU && r->gpus_set.count == 0) {
        snprintf(run->why, sizeof run->why, "no GPU");
        return;
    }
    if (!formats[f].on_cpu && target != HWS_TARGET_GPU)
        return; /* vLLM formats do not offload to the CPU */
    if (target == HWS_TARGET_GPU && !format_runs_on(run->format, devs)) {
        snprintf(run->why, sizeof run->why, "no FP8 units (compute capability 8.9+ needed)");
        return;
    }
    if (po.weights == NULL || hws_memory_estimate(m, &po, &mem, &err) != HWS_OK) {
        snprintf(run->why, sizeof run->why, "%.150s", err.msg[0] ? err.msg : "unknown format");
        return;
    }
    run->tried = 1;
    hws_placement *pl = calloc(1, sizeof *pl);
    if (pl == NULL) {
        snprintf(run->why, sizeof run->why, "out of memory");
        return;
    }
    hws_place_kind kind;
    if (target == HWS_TARGET_CPU) {
        kind = HWS_PLACE_CPU_ONLY;
        hws_placement_compute(m, &po, &mem, devs, kind, pl);
    } else if (target == HWS_TARGET_OFFLOAD) {
        kind = m->n_experts > 0 ? HWS_PLACE_EXPERT_OFFLOAD : HWS_PLACE_CPU_OFFLOAD;
        hws_placement_compute(m, &po, &mem, devs, kind, pl);
        if (!pl->fits && kind == HWS_PLACE_EXPERT_OFFLOAD) {
            kind = HWS_PLACE_CPU_OFFLOAD;
            hws_placement_compute(m, &po, &mem, devs, kind, pl);
        }
    } else {
        kind = hws_placement_best(m, &po, &mem, devs, pl);
        if (!gpu_only(kind)) {
            kind = HWS_PLACE_SINGLE; /* say why the GPUs alone do not hold it */
            hws_placement_compute(m, &po, &mem, devs, kind, pl);
            if (devs->count > 1)
                hws_placement_compute(m, &po, &mem, devs, kind = HWS_PLACE_LAYER_SPLIT, pl);
        }
    }
    snprintf(run->placement, sizeof run->placement, "%s", hws_place_name(kind));
    run->fits = pl->fits;
    run->ngpus = pl->ndev;
    run->gpu_bytes = pl->ndev > 0 ? hws_placement_largest_need(pl) : HWS_NA;
    run->host_bytes = pl->cpu_bytes > 0 ? pl->cpu_bytes : 0; /* none left on the host */
    if (!pl->fits) {
        snprintf(run->why, sizeof run->why, "%.150s", pl->why[0] ? pl->why : "does not fit");
    } else {
        hws_predict_inputs in;
        hws_prediction pred;
        hws_predict_inputs_from(&po, &mem, devs, ceil, &in);
        hws_prediction_compute(m, &po, &mem, pl, &in, &pred);
        run->prefill_tokens_per_s = pred.prefill_tokens_per_s;
        run->decode_tokens_per_s = pred.decode_tokens_per_s;
        run->decode_bytes_per_step = pred.decode_bytes_per_step;
        run->prefill_flops_per_token = pred.prefill_flops_per_token;
        run->bound = pred.decode_bound;
        snprintf(run->basis, sizeof run->basis, "%s",
                 in.measured ? "measured ceilings" : "datasheet");
    }
    free(pl);
}

/* The recommendation on each target: the first format, best quality first, that fits. */
static void best_runs(hws_report_model *m) {
    for (int t = 0; t < HWS_TARGET_COUNT; t++) {
        m->best[t] = -1;
        for (int i = 0; i < m->nruns && m->best[t] < 0; i++)
            if ((int)m->runs[i].target == t && m->runs[i].fits)
                m->best[t] = i;
    }
}

static void plan_all(const hws_report_opts *o, hws_report *r, const hws_model_spec *const *specs,
                     int n) {
    hws_ceilings_set *ceil = NULL;
    hws_error err;
    char path[HWS_CEILINGS_PATH_BYTES];
    if (o->ceilings_path != NULL)
        snprintf(path, sizeof path, "%s", o->ceilings_path);
    if (o->ceilings_path != NULL || hws_ceilings_path(path, sizeof path))
        hws_ceilings_set_load(path, &ceil, &err); /* none saved: the datasheet */
    for (int i = 0; i < n; i++) {
        hws_report_model *rm = &r->models[r->nmodels++];
        const hws_model_spec *m = specs[i];
        rm->name = m->name;
        rm->params = hws_model_params(m);
        rm->active_params = hws_model_active_params(m);
        rm->moe = m->n_experts > 0;
        rm->ctx_tokens = hws_known(o->ctx_tokens) ? o->ctx_tokens : hws_plan_default_ctx(m);
        for (int t = 0; t < HWS_TARGET_COUNT; t++)
            for (int f = 0; f < HWS_REPORT_MAX_FORMATS; f++) {
                if (!formats[f].on_cpu && t != HWS_TARGET_GPU)
                    continue;
                plan_run(o, r, m, rm->ctx_tokens, f, (hws_target)t, ceil, &rm->runs[rm->nruns++]);
            }
        best_runs(rm);
    }
    hws_ceilings_set_free(ceil);
}

hws_status hws_report_build(const hws_report_opts *o, hws_report **out, hws_error *err) {
    const hws_model_spec *specs[HWS_REPORT_MAX_MODELS];
    int n = o->nmodels > 0 ? o->nmodels : (int)(sizeof default_models / sizeof default_models[0]);
    *out = NULL;
    for (int i = 0; i < n && i < HWS_REPORT_MAX_MODELS; i++) {
        const char *name = o->nmodels > 0 ? o->models[i] : default_models[i];
        specs[i] = hws_model_catalog_find(name);
        if (specs[i] == NULL)
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "--models: '%s' is not in the model catalog (hwscope catalog "
                                 "models)",
                                 name);
    }
    hws_report *r = calloc(1, sizeof *r);
    if (r == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    hws_status st = hws_probe_cpu(&r->cpu, err);
    if (st == HWS_OK)
        st = hws_probe_mem(&r->mem, err);
    if (st == HWS_OK)
        st = hws_probe_gpus(&r->gpus, err);
    if (st != HWS_OK) {
        free(r);
        return st;
    }
    for (int i = 0; i < r->gpus.count; i++)
        hws_gpu_health_judge(&r->gpus.gpus[i], &r->health[i]);
    hws_fingerprint_fill(&r->fingerprint, &r->cpu, &r->gpus);
    hws_fingerprint_id(&r->fingerprint, r->fingerprint_id);
    quick_figures(o, r);
    hws_error gerr = {""};
    double host_bw = HWS_NA;
    for (int i = 0; i < r->nfigures; i++)
        if (r->figures[i].device < 0 && strcmp(r->figures[i].what, "memory bandwidth") == 0)
            host_bw = r->figures[i].measured;
    if (hws_devices_from_gpus(&r->gpus, &r->gpus_set, &gerr) != HWS_OK) {
        memset(&r->gpus_set, 0, sizeof r->gpus_set);
        snprintf(r->why_no_gpu, sizeof r->why_no_gpu, "%s", gerr.msg);
    }
    hws_host_from_probe(&r->mem, &r->cpu, host_bw, &r->gpus_set.host);
    memset(&r->cpu_set, 0, sizeof r->cpu_set);
    r->cpu_set.cpu_only = 1;
    r->cpu_set.host = r->gpus_set.host;
    snprintf(r->fit_basis, sizeof r->fit_basis, "%s; host: %s",
             r->gpus_set.count > 0 ? r->gpus_set.basis : "no GPU", r->gpus_set.host.basis);
    plan_all(o, r, specs, n);
    *out = r;
    return HWS_OK;
}

void hws_report_free(hws_report *r) {
    free(r);
}
