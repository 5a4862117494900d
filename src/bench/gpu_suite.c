/* gpu_suite.c - GPU benchmarks as descriptors over the CUDA module: device-to-device and
 * host<->device copies, cuBLASLt matrix products per precision; peaks from the catalog and from
 * clocks x SMs, an NVML sampler thread, and the likely cause of a low figure. */
#include "bench/bench_int.h"
#include "gpu/cuda_module.h"
#include "util/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
/* NVML clock-event bits that do not mean a slowdown: GPU idle, application clocks setting,
 * display clock setting. */
#define CLOCK_EVENTS_BENIGN (0x1 | 0x2 | 0x100)

/* Dense tensor (and FP32 vector) operations per SM per clock, by compute capability, FP32
 * accumulate. Derived from the vendors' dense peaks / (SMs x boost clock): V100 125 TFLOP/s
 * FP16, T4 65, A100 312, A6000 155, L40S 362, H100 SXM 989, B200 2250. GeForce parts run
 * FP16/BF16/TF32 with FP32 accumulate at half these rates; the table assumes full rate. INT8
 * in OP. 0 = no tensor path for the precision. */
typedef struct {
    int cc; /* major * 10 + minor, the row applies from this cc on */
    const char *arch;
    double per_sm_clk[HWS_GPU_DTYPES]; /* FP32, TF32, FP16, BF16, FP8, INT8 */
} arch_rates;

static const arch_rates arch_table[] = {
    {70, "Volta", {128, 0, 1024, 0, 0, 0}},
    {75, "Turing", {128, 0, 1024, 0, 0, 2048}},
    {80, "Ampere GA100", {128, 1024, 2048, 2048, 0, 4096}},
    {86, "Ampere GA10x", {256, 512, 1024, 1024, 0, 2048}},
    {89, "Ada", {256, 512, 1024, 1024, 2048, 2048}},
    {90, "Hopper", {256, 2048, 4096, 4096, 8192, 8192}},
    {100, "Blackwell GB100", {256, 4096, 8192, 8192, 16384, 16384}},
    {120, "Blackwell GB20x", {256, 512, 1024, 1024, 2048, 2048}},
};

static const char *const dtype_names[HWS_GPU_DTYPES] = {"fp32", "tf32", "fp16",
                                                        "bf16", "fp8",  "int8"};
/* Sampled-check tolerance (max error / rms of the reference) and the fraction of the datasheet
 * a healthy GPU reaches, per precision. */
static const double dtype_tol[HWS_GPU_DTYPES] = {1e-4, 1e-2, 1e-2, 2e-2, 2e-2, 0};
static const double dtype_expected[HWS_GPU_DTYPES] = {0.6, 0.5, 0.6, 0.6, 0.5, 0.45};

static const arch_rates *arch_of(const hws_gpu_dev_props *p) {
    const arch_rates *best = NULL;
    int cc = p->cc_major * 10 + p->cc_minor;
    for (size_t i = 0; i < sizeof arch_table / sizeof arch_table[0]; i++)
        if (arch_table[i].cc <= cc)
            best = &arch_table[i];
    return best;
}

/* ---- opening the GPU side and the NVML sampler ---- */

static const hws_gpu_bench_table *table_override;

void hws_bench_use_gpu_table(const hws_gpu_bench_table *table) {
    table_override = table;
}

static void *sampler_main(void *arg) {
    hws_bench_ctx *ctx = arg;
    int period_us = 20000;
    int taken = 0; /* samples this thread added (res->nsamples is read under the lock only) */
    while (!atomic_load(&ctx->stop)) {
        hws_gpu_sample s;
        hws_error err;
        if (hws_gpu_sample_read(ctx->opt->device, &s, &err) == HWS_OK) {
            hws_bench_sample b = {hws_bench_now(ctx),
                                  ctx->opt->device,
                                  s.sm_clock_mhz,
                                  s.mem_clock_mhz,
                                  s.power_w,
                                  s.temperature_c,
                                  s.util_gpu_pct,
                                  s.clock_event_reasons,
                                  ""};
            snprintf(b.clock_event_text, sizeof b.clock_event_text, "%s", s.clock_event_text);
            pthread_mutex_lock(&ctx->lock);
            hws_bench_result *r = ctx->res;
            hws_bench_sample *grown = realloc(r->samples, (size_t)(r->nsamples + 1) * sizeof b);
            if (grown != NULL) {
                r->samples = grown;
                r->samples[r->nsamples++] = b;
                taken++;
            }
            pthread_mutex_unlock(&ctx->lock);
        } else if (taken == 0) {
            return NULL; /* NVML not readable: no sampling at all */
        }
        usleep((useconds_t)period_us);
    }
    return NULL;
}

/* Probe facts, read before this process opens a CUDA context, so the GPU's process list shows
 * only others. */
void hws_gpu_ctx_probe(hws_bench_ctx *ctx) {
    hws_error err;
    ctx->gpus = calloc(1, sizeof *ctx->gpus);
    if (ctx->gpus != NULL && hws_probe_gpus(ctx->gpus, &err) != HWS_OK)
        ctx->gpus->count = 0;
}

static void find_probe_facts(hws_bench_ctx *ctx) {
    for (int i = 0; ctx->gpus != NULL && i < ctx->gpus->count; i++)
        if (strcasecmp(ctx->gpus->gpus[i].pci_bus_id, ctx->props.pci_bus_id) == 0 ||
            strstr(ctx->gpus->gpus[i].pci_bus_id, ctx->props.pci_bus_id + 4) != NULL)
            ctx->info = &ctx->gpus->gpus[i];
}

void hws_gpu_ctx_open(hws_bench_ctx *ctx) {
    hws_error err = {""};
    int count = 0;
    if (ctx->gpu_opened)
        return;
    ctx->gpu_opened = true;
    const hws_gpu_bench_table *api = table_override;
    if (api == NULL) {
        hws_gpu_bench_api_fn get = NULL;
        void *sym = hws_cuda_module_sym("hws_gpu_bench_api", &err);
        memcpy(&get, &sym, sizeof get);
        if (get == NULL) {
            snprintf(ctx->gpu_why, sizeof ctx->gpu_why, "%s", err.msg);
            return;
        }
        api = get();
    }
    if (api == NULL || api->abi != HWS_GPU_BENCH_ABI) {
        snprintf(ctx->gpu_why, sizeof ctx->gpu_why, "CUDA module of another version (ABI)");
        return;
    }
    if (api->device_count(&count, &err) != HWS_OK || count == 0) {
        /* the probe says why in the user's terms (no driver, no device); the runtime's own
         * message ("driver version is insufficient") only when the probe saw GPUs */
        int probe_saw_none = ctx->gpus != NULL && ctx->gpus->count == 0;
        snprintf(ctx->gpu_why, sizeof ctx->gpu_why, "no CUDA GPU: %.300s",
                 probe_saw_none ? ctx->gpus->why_none
                 : err.msg[0]   ? err.msg
                                : "the runtime sees none");
        return;
    }
    ctx->gpu_count = count;
    if (ctx->opt->device >= count) {
        snprintf(ctx->gpu_why, sizeof ctx->gpu_why, "no GPU %d: the runtime sees %d",
                 ctx->opt->device, count);
        return;
    }
    if (api->props(ctx->opt->device, &ctx->props, &err) != HWS_OK) {
        snprintf(ctx->gpu_why, sizeof ctx->gpu_why, "GPU %d: %.480s", ctx->opt->device, err.msg);
        return;
    }
    ctx->gpu = api;
    find_probe_facts(ctx);
    ctx->spec = hws_gpu_catalog_find(ctx->info ? ctx->info->name : ctx->props.name);
    if (ctx->spec == NULL && ctx->info != NULL)
        ctx->spec = hws_gpu_catalog_find(ctx->props.name);
}

/* Summarises the NVML samples taken while rec ran. */
static void record_gpu_state(const hws_bench_ctx *ctx, hws_bench_record *rec) {
    hws_bench_gpu_state *g = &rec->gpu;
    unsigned long seen = 0;
    for (int i = 0; i < ctx->res->nsamples; i++) {
        const hws_bench_sample *s = &ctx->res->samples[i];
        if (s->t_s < rec->t_start_s || s->t_s > rec->t_end_s)
            continue;
        if (g->nsamples++ == 0) {
            g->sm_clock_min_mhz = g->sm_clock_max_mhz = s->sm_clock_mhz;
            g->power_max_w = s->power_w;
            g->temperature_max_c = s->temperature_c;
            g->throttle_reasons = 0;
        }
        g->sm_clock_min_mhz = fmin(g->sm_clock_min_mhz, s->sm_clock_mhz);
        g->sm_clock_max_mhz = fmax(g->sm_clock_max_mhz, s->sm_clock_mhz);
        g->power_max_w = fmax(g->power_max_w, s->power_w);
        g->temperature_max_c = fmax(g->temperature_max_c, s->temperature_c);
        unsigned long bits = hws_known(s->clock_event_reasons)
                                 ? (unsigned long)s->clock_event_reasons & ~CLOCK_EVENTS_BENIGN
                                 : 0;
        if (bits & ~seen && s->clock_event_text[0] != '\0') {
            size_t len = strlen(g->throttle_text);
            snprintf(g->throttle_text + len, sizeof g->throttle_text - len, "%s%s", len ? "; " : "",
                     s->clock_event_text);
        }
        seen |= bits;
    }
    if (g->nsamples > 0)
        g->throttle_reasons = (double)seen;
}

/* Appends one more likely cause to rec->cause. */
static void add_cause(hws_bench_record *rec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_cause(hws_bench_record *rec, const char *fmt, ...) {
    size_t len = strlen(rec->cause);
    if (len + 3 >= sizeof rec->cause)
        return;
    if (len > 0) {
        memcpy(rec->cause + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rec->cause + len, sizeof rec->cause - len, fmt, ap);
    va_end(ap);
}

/* Explains a low or suspect figure from what probe and the sampler saw. */
static void explain(const hws_bench_ctx *ctx, hws_bench_record *rec) {
    const hws_gpu_info *g = ctx->info;
    if (rec->verdict != HWS_VERDICT_LOW && rec->verdict != HWS_VERDICT_SUSPECT)
        return;
    if (rec->gpu.throttle_text[0] != '\0')
        add_cause(rec, "clocks held down: %s", rec->gpu.throttle_text);
    else if (hws_known(rec->gpu.sm_clock_max_mhz) &&
             rec->gpu.sm_clock_max_mhz < 0.9 * ctx->props.max_sm_clock_mhz)
        add_cause(rec, "SM clock at most %.0f of %.0f MHz", rec->gpu.sm_clock_max_mhz,
                  ctx->props.max_sm_clock_mhz);
    if (g == NULL)
        return;
    if (strstr(rec->suite, "pcie") != NULL &&
        ((hws_known(g->pcie_gen_cur) && g->pcie_gen_cur < g->pcie_gen_max) ||
         (hws_known(g->pcie_width_cur) && g->pcie_width_cur < g->pcie_width_max)))
        add_cause(rec, "PCIe link at gen %.0f x%.0f, below its max gen %.0f x%.0f", g->pcie_gen_cur,
                  g->pcie_width_cur, g->pcie_gen_max, g->pcie_width_max);
    if (hws_known(g->power_limit_w) && hws_known(g->default_power_limit_w) &&
        g->power_limit_w < 0.98 * g->default_power_limit_w)
        add_cause(rec, "power limit %.0f W below the default %.0f W", g->power_limit_w,
                  g->default_power_limit_w);
    int others = 0;
    for (int i = 0; i < g->nprocs && i < HWS_MAX_GPU_PROCS; i++)
        others += (pid_t)g->procs[i].pid != getpid();
    if (others > 0)
        add_cause(rec, "GPU shared with %d other process(es), e.g. %s (pid %.0f)", others,
                  g->procs[0].name, g->procs[0].pid);
}

void hws_gpu_ctx_close(hws_bench_ctx *ctx) {
    if (ctx->sampling) {
        atomic_store(&ctx->stop, 1);
        pthread_join(ctx->sampler, NULL);
        ctx->sampling = false;
    }
    for (int i = 0; i < ctx->res->nrecords; i++) {
        hws_bench_record *rec = &ctx->res->records[i];
        if (rec->device < 0 || rec->state == HWS_BENCH_WAIVED)
            continue;
        record_gpu_state(ctx, rec);
        explain(ctx, rec);
    }
    if (ctx->gpu_opened && ctx->gpu == NULL)
        snprintf(ctx->res->gpu_note, sizeof ctx->res->gpu_note, "%s", ctx->gpu_why);
    free(ctx->gpus);
    ctx->gpus = NULL;
    ctx->info = NULL;
}

static void version_text(char *buf, size_t len, double v) {
    if (hws_known(v) && v > 0)
        snprintf(buf, len, "%d.%d", (int)v / 1000, ((int)v % 1000) / 10);
}

void hws_gpu_fingerprint(hws_bench_ctx *ctx, hws_bench_fingerprint *fp) {
    if (ctx->gpu == NULL)
        return;
    snprintf(fp->bench_gpu_name, sizeof fp->bench_gpu_name, "%s",
             ctx->info != NULL ? ctx->info->name : ctx->props.name);
    if (fp->ngpus == 0) { /* no probe facts: what the CUDA runtime says of the benchmarked GPU */
        snprintf(fp->gpu_name[0], sizeof fp->gpu_name[0], "%s", ctx->props.name);
        snprintf(fp->gpu_pci_bus_id[0], sizeof fp->gpu_pci_bus_id[0], "%s", ctx->props.pci_bus_id);
        fp->gpu_sm_count[0] = ctx->props.sm_count;
        fp->gpu_cc[0] = ctx->props.cc_major + ctx->props.cc_minor / 10.0;
        fp->ngpus = 1;
    }
    if (fp->cuda_driver[0] == '\0')
        version_text(fp->cuda_driver, sizeof fp->cuda_driver, ctx->props.driver_version);
    version_text(fp->cuda_runtime, sizeof fp->cuda_runtime, ctx->props.runtime_version);
    long lt = ctx->props.cublaslt_version;
    snprintf(fp->cublaslt, sizeof fp->cublaslt, "%d.%d.%d", (int)(lt / 10000),
             (int)(lt / 100 % 100), (int)(lt % 100));
}

/* ---- filters ---- */

/* The GPU benchmarks need the module and the GPU; the first one to run starts the sampler. */
static bool have_gpu(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t len) {
    (void)d;
    hws_gpu_ctx_open(ctx);
    if (ctx->gpu == NULL) {
        snprintf(why, len, "%s", ctx->gpu_why);
        return false;
    }
    if (!ctx->sampling) {
        atomic_store(&ctx->stop, 0);
        ctx->sampling = pthread_create(&ctx->sampler, NULL, sampler_main, ctx) == 0;
    }
    return true;
}

static bool have_precision(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t len) {
    if (!have_gpu(ctx, d, why, len))
        return false;
    int cc = ctx->props.cc_major * 10 + ctx->props.cc_minor;
    int need = d->param == HWS_GPU_FP8                                ? 89
               : d->param == HWS_GPU_TF32 || d->param == HWS_GPU_BF16 ? 80
                                                                      : 0;
    if (cc >= need)
        return true;
    snprintf(why, len, "%s needs compute capability %d.%d; %s is %d.%d", dtype_names[d->param],
             need / 10, need % 10, ctx->props.name, ctx->props.cc_major, ctx->props.cc_minor);
    return false;
}

/* ---- copies ---- */

double hws_pcie_link_gbps(double gen, double width) {
    static const double gts[] = {0, 2.5, 5, 8, 16, 32, 64};
    if (!hws_known(gen) || !hws_known(width) || gen < 1 || gen > 6)
        return HWS_NA;
    double enc = gen <= 2 ? 0.8 : gen <= 5 ? 128.0 / 130.0 : 242.0 / 256.0;
    return gts[(int)gen] * width * enc / 8;
}

/* Adds the record of a GPU measurement that began at t_start: ms[reps] per-run times. */
static hws_bench_record *add_timed(hws_bench_ctx *ctx, const hws_bench_desc *d, const char *suffix,
                                   double t_start, const double *ms, int reps, double work,
                                   double scale, const char *unit) {
    double secs[HWS_BENCH_MAX_SAMPLES];
    hws_bench_record *rec = hws_bench_add(ctx, d, suffix);
    if (rec == NULL)
        return NULL;
    for (int i = 0; i < reps && i < HWS_BENCH_MAX_SAMPLES; i++)
        secs[i] = ms[i] / 1e3;
    rec->t_start_s = t_start;
    snprintf(rec->unit, sizeof rec->unit, "%s", unit);
    hws_bench_from_times(rec, secs, reps, work, scale);
    return rec;
}

/* Measures one copy kind into a new record; NULL with err set when it could not. */
static hws_bench_record *copy_record(hws_bench_ctx *ctx, const hws_bench_desc *d,
                                     hws_gpu_copy_kind kind, const char *suffix, double bytes,
                                     hws_error *err) {
    double ms[HWS_BENCH_MAX_SAMPLES];
    bool d2d = kind <= HWS_GPU_COPY_D2D_MEMCPY;
    int reps = ctx->opt->quick ? 5 : 20, warmup = ctx->opt->quick ? 1 : 3;
    double t_start = hws_bench_now(ctx);
    if (ctx->gpu->copy(ctx->opt->device, kind, bytes, warmup, reps, ms, err) != HWS_OK)
        return NULL;
    hws_bench_record *rec =
        add_timed(ctx, d, suffix, t_start, ms, reps, d2d ? 2 * bytes : bytes, 1e9, "GB/s");
    if (rec == NULL) {
        hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rec->size = bytes;
    snprintf(rec->method, sizeof rec->method, "%.0f MiB per copy, %s, CUDA events, median of %d",
             bytes / MIB, d2d ? "bytes read + written" : "bytes moved once", reps);
    return rec;
}

static void mem_peaks(const hws_bench_ctx *ctx, hws_bench_record *rec) {
    const hws_gpu_dev_props *p = &ctx->props;
    if (ctx->spec != NULL)
        rec->datasheet = ctx->spec->mem_bw_gbps;
    if (p->max_mem_clock_mhz > 0 && p->mem_bus_width_bits > 0) {
        rec->theoretical = p->max_mem_clock_mhz * 1e6 * 2 * p->mem_bus_width_bits / 8 / 1e9;
        snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis,
                 "memory clock %.0f MHz x 2 (DDR) x %d-bit bus", p->max_mem_clock_mhz,
                 p->mem_bus_width_bits);
    }
}

static hws_status run_d2d(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    double bytes = (ctx->opt->quick ? 256 : 1024) * MIB;
    if (ctx->props.mem_total_bytes > 0 && 2.5 * bytes > ctx->props.mem_total_bytes)
        bytes = ctx->props.mem_total_bytes / 8;
    hws_bench_record *k = copy_record(ctx, d, HWS_GPU_COPY_D2D_KERNEL, "kernel", bytes, err);
    if (k == NULL)
        return HWS_ERR_RUNTIME;
    snprintf(k->description, sizeof k->description, "GPU memory bandwidth, own copy kernel");
    hws_bench_record *m = copy_record(ctx, d, HWS_GPU_COPY_D2D_MEMCPY, "memcpy", bytes, err);
    if (m == NULL)
        return HWS_ERR_RUNTIME;
    k = m - 1; /* the array may have moved */
    snprintf(m->description, sizeof m->description, "GPU memory bandwidth, cudaMemcpy D2D");
    hws_bench_record best = k->median >= m->median ? *k : *m;
    hws_bench_record *rec = hws_bench_add(ctx, d, NULL);
    if (rec == NULL) {
        hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        return HWS_ERR_NOMEM;
    }
    k = rec - 2;
    memcpy(rec->samples, best.samples, sizeof rec->samples);
    rec->nsamples = best.nsamples;
    hws_bench_stats(rec);
    rec->t_start_s = k->t_start_s;
    rec->size = bytes;
    snprintf(rec->unit, sizeof rec->unit, "GB/s");
    snprintf(rec->method, sizeof rec->method, "best of own kernel and cudaMemcpy (%s), %.100s",
             best.key + strlen(d->key) + 1, best.method);
    for (hws_bench_record *r = k; r <= rec; r++) {
        mem_peaks(ctx, r);
        r->headline = r == rec;
        hws_bench_judge(r, 0.75);
    }
    return HWS_OK;
}

static hws_status run_host_copy(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    double bytes = (ctx->opt->quick ? 64 : 256) * MIB;
    hws_bench_record *rec = copy_record(ctx, d, (hws_gpu_copy_kind)d->param, NULL, bytes, err);
    if (rec == NULL)
        return HWS_ERR_RUNTIME;
    bool pinned = d->param == HWS_GPU_COPY_H2D_PINNED || d->param == HWS_GPU_COPY_D2H_PINNED;
    const hws_gpu_info *g = ctx->info;
    if (ctx->spec != NULL)
        rec->datasheet = hws_pcie_link_gbps(ctx->spec->pcie_gen, 16);
    if (g != NULL) {
        rec->theoretical = hws_pcie_link_gbps(g->pcie_gen_max, g->pcie_width_max);
        snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis,
                 "PCIe gen %.0f x%.0f, one direction, after line encoding", g->pcie_gen_max,
                 g->pcie_width_max);
    }
    if (!pinned)
        snprintf(rec->method + strlen(rec->method), sizeof rec->method - strlen(rec->method),
                 "; pageable: staged by the driver, bound by host memcpy");
    rec->headline = true;
    hws_bench_judge(rec, pinned ? 0.7 : 0.1);
    return HWS_OK;
}

/* ---- matrix products ---- */

static double datasheet_of(const hws_gpu_spec *s, int dt) {
    if (s == NULL)
        return HWS_NA;
    const double v[HWS_GPU_DTYPES] = {s->fp32_tflops, s->tf32_tflops, s->fp16_tflops,
                                      s->bf16_tflops, s->fp8_tflops,  s->int8_tops};
    return v[dt];
}

static void gemm_peaks(const hws_bench_ctx *ctx, int dt, hws_bench_record *rec) {
    const arch_rates *a = arch_of(&ctx->props);
    rec->datasheet = datasheet_of(ctx->spec, dt);
    if (a == NULL || a->per_sm_clk[dt] <= 0)
        return;
    rec->theoretical =
        a->per_sm_clk[dt] * ctx->props.sm_count * ctx->props.max_sm_clock_mhz * 1e6 / 1e12;
    snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis,
             "%s: %.0f %s per SM per clock x %d SMs x %.0f MHz", a->arch, a->per_sm_clk[dt],
             dt == HWS_GPU_INT8 ? "OP" : "FLOP", ctx->props.sm_count, ctx->props.max_sm_clock_mhz);
}

static hws_status run_gemm(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    static const int full[] = {1024, 2048, 4096, 8192}, quick[] = {4096};
    const int *sizes = ctx->opt->quick ? quick : full;
    int nsizes = ctx->opt->quick ? 1 : 4, reps = ctx->opt->quick ? 5 : 20;
    int dt = d->param;
    for (int s = 0; s < nsizes; s++) {
        int n = sizes[s];
        double ms[HWS_BENCH_MAX_SAMPLES];
        char note[96] = "", suffix[16];
        hws_gpu_check check;
        double t_start = hws_bench_now(ctx);
        int settle_ms = n < 4096 ? 0 : ctx->opt->quick ? 100 : 250;
        hws_status st = ctx->gpu->gemm(ctx->opt->device, (hws_gpu_dtype)dt, n, n, n, 3, reps,
                                       settle_ms, ms, &check, note, sizeof note, err);
        if (st != HWS_OK)
            return st;
        snprintf(suffix, sizeof suffix, "%d", n);
        hws_bench_record *rec =
            add_timed(ctx, d, suffix, t_start, ms, reps, 2.0 * n * n * (double)n, 1e12,
                      dt == HWS_GPU_INT8 ? "TOP/s" : "TFLOP/s");
        if (rec == NULL)
            return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        rec->size = n;
        if (snprintf(rec->method, sizeof rec->method,
                     "%d^3, 2n^3 ops, %s, %d ms idle, 3 warm-up, CUDA events, median of %d, %d "
                     "outputs checked",
                     n, note, settle_ms, reps, check.checked) < 0)
            rec->method[0] = '\0';
        hws_bench_check(rec, check.max_rel_err, dtype_tol[dt]);
        gemm_peaks(ctx, dt, rec);
        rec->headline = s == nsizes - 1;
        hws_bench_judge(rec, dtype_expected[dt]);
    }
    return HWS_OK;
}

#define COPY(key, suite, desc, kind, run)                                                          \
    { key, suite, desc, kind, have_gpu, run }
#define GEMM(name, desc, dt)                                                                       \
    { "gpu.gemm." name, "gpu gemm", desc, dt, have_precision, run_gemm }

const hws_bench_desc hws_gpu_benches[] = {
    COPY("gpu.d2d", "gpu mem", "GPU memory bandwidth, device-to-device copy", 0, run_d2d),
    COPY("gpu.h2d.pinned", "gpu pcie", "host to device, pinned memory", HWS_GPU_COPY_H2D_PINNED,
         run_host_copy),
    COPY("gpu.d2h.pinned", "gpu pcie", "device to host, pinned memory", HWS_GPU_COPY_D2H_PINNED,
         run_host_copy),
    COPY("gpu.h2d.pageable", "gpu pcie", "host to device, pageable memory",
         HWS_GPU_COPY_H2D_PAGEABLE, run_host_copy),
    COPY("gpu.d2h.pageable", "gpu pcie", "device to host, pageable memory",
         HWS_GPU_COPY_D2H_PAGEABLE, run_host_copy),
    GEMM("fp32", "FP32 matrix product (cuBLASLt, no tensor cores)", HWS_GPU_FP32),
    GEMM("tf32", "TF32 tensor matrix product, FP32 in/out", HWS_GPU_TF32),
    GEMM("fp16", "FP16 tensor matrix product, FP32 accumulate", HWS_GPU_FP16),
    GEMM("bf16", "BF16 tensor matrix product, FP32 accumulate", HWS_GPU_BF16),
    GEMM("fp8", "FP8 e4m3 tensor matrix product, BF16 out", HWS_GPU_FP8),
    GEMM("int8", "INT8 tensor matrix product, INT32 out", HWS_GPU_INT8),
};
const size_t hws_gpu_nbenches = sizeof hws_gpu_benches / sizeof hws_gpu_benches[0];
