/* transformer.c - the transformer benchmark (hwscope/bench_transformer.h): the engine's forward
 * timed on the CPU and on the GPU in each precision, per path, with the median of the runs. */
#include "bench/bench_int.h"
#include "hwscope/bench.h"
#include "hwscope/bench_transformer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const step_names[4] = {"matmul", "matmul_batched", "attention", "add_layernorm"};

const char *hws_tfm_step_name(int k) {
    return k >= 0 && k < 4 ? step_names[k] : "?";
}

const char *hws_tfm_path_name(hws_tfm_path p) {
    return p == HWS_TFM_PATH_FOLDED ? "folded" : "general";
}

hws_tfm_bench_options hws_tfm_bench_defaults(void) {
    hws_tfm_bench_options o = {0};
    o.reps = 10;
    o.warmup = 3;
    o.seed = 42;
    o.cpu = o.gpu = 1;
    for (int d = 0; d < 4; d++)
        o.dtypes[d] = 1;
    o.engine = hws_tfm_options_default();
    return o;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double median(const double *x, int n) {
    double m, lo, hi;
    hws_bench_summary(x, n, &m, &lo, &hi);
    return m;
}

static void failed(hws_tfm_bench_timing *t, hws_status st, const hws_error *err) {
    t->status = st;
    snprintf(t->error, sizeof t->error, "%s", err->msg);
}

static void time_cpu(const hws_tfm_weights *w, int S, int N, const hws_tfm_bench_options *o,
                     const hws_tfm_options *eo, const float *in, float *out,
                     hws_tfm_bench_timing *t, int *threads_used) {
    hws_tfm_cpu *cpu = NULL;
    hws_error err = {""};
    hws_status st = hws_tfm_cpu_new(w, S, N, o->threads, eo, &cpu, &err);
    if (st == HWS_OK)
        *threads_used = hws_tfm_cpu_threads(cpu);
    for (int i = 0; st == HWS_OK && i < o->warmup + o->reps; i++) {
        double t0 = now_ms();
        st = hws_tfm_cpu_forward(cpu, in, in, out, &err);
        if (i >= o->warmup)
            t->samples_ms[t->n++] = now_ms() - t0;
    }
    if (st == HWS_OK)
        t->ms = median(t->samples_ms, t->n);
    else
        failed(t, st, &err);
    hws_tfm_cpu_free(cpu);
}

static void time_gpu(const hws_tfm_weights *w, int S, int N, hws_tfm_dtype dt,
                     const hws_tfm_bench_options *o, const hws_tfm_options *eo, const float *in,
                     float *out, hws_tfm_bench_timing *t, char *device, size_t device_len) {
    hws_tfm_gpu *g = NULL;
    hws_error err = {""};
    hws_status st = hws_tfm_gpu_new(w, S, N, dt, eo, &g, &err);
    if (st == HWS_OK)
        st = hws_tfm_gpu_forward(g, in, in, out, &err);
    if (st == HWS_OK)
        st = hws_tfm_gpu_time(g, o->warmup, o->reps, t->samples_ms, &err);
    if (st == HWS_OK) {
        t->n = o->reps;
        t->ms = median(t->samples_ms, t->n);
        snprintf(device, device_len, "%s", hws_tfm_gpu_device(g));
        t->lanes = hws_tfm_gpu_lanes(g);
        hws_error perr;
        t->profiled = o->profile && hws_tfm_gpu_profile(g, t->prof_ms, t->prof_n, &perr) == HWS_OK;
    } else {
        failed(t, st, &err);
    }
    hws_tfm_gpu_free(g);
}

hws_status hws_tfm_bench_run(const hws_tfm_weights *w, int S, int N, const hws_tfm_bench_options *o,
                             hws_tfm_bench_result *out, hws_error *err) {
    if (o->reps < 1 || o->reps > HWS_TFM_BENCH_MAX_REPS || o->warmup < 0)
        return hws_error_set(err, HWS_ERR_INPUT, "reps %d is not in 1..%d", o->reps,
                             HWS_TFM_BENCH_MAX_REPS);
    if (S < 1 || N < 1 || (long)S * N > (1L << 22))
        return hws_error_set(err, HWS_ERR_INPUT, "shape S=%d, N=%d is out of range", S, N);
    memset(out, 0, sizeof *out);
    out->S = S;
    out->N = N;
    out->cfg = w->cfg;
    out->E = w->cfg.d_model;
    out->npaths = o->fold ? HWS_TFM_PATHS : 1;
    out->flops = hws_tfm_flops(&w->cfg, S, N);
    snprintf(out->device, sizeof out->device, "GPU");
    hws_tfm_cpu_blas(out->blas, sizeof out->blas);
    size_t n = (size_t)S * N * out->E;
    float *in = malloc(n * sizeof *in), *res = malloc(n * sizeof *res);
    if (in == NULL || res == NULL) {
        free(in);
        free(res);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory for the input");
    }
    hws_tfm_fill_uniform(in, n, o->seed + 1);
    for (size_t i = 0; i < n; i++)
        in[i] = 0.5f * (in[i] + 1.0f); /* torch.rand: uniform [0, 1) */
    for (int p = 0; p < out->npaths; p++) {
        hws_tfm_options eo = o->engine;
        eo.fold = p == HWS_TFM_PATH_FOLDED;
        double flops = hws_tfm_flops_run(&w->cfg, S, N, &eo);
        hws_tfm_bench_timing *c = &out->cpu[p];
        c->wanted = o->cpu;
        c->flops = flops;
        if (o->cpu)
            time_cpu(w, S, N, o, &eo, in, res, c, &out->threads);
        for (int d = 0; d < 4; d++) {
            hws_tfm_bench_timing *g = &out->gpu[p][d];
            g->wanted = o->gpu && o->dtypes[d];
            g->flops = flops;
            if (g->wanted)
                time_gpu(w, S, N, (hws_tfm_dtype)d, o, &eo, in, res, g, out->device,
                         sizeof out->device);
        }
    }
    free(in);
    free(res);
    return HWS_OK;
}

const char *hws_tfm_blas_core_advice(void) {
    static const char *const vector_cores[] = {
        "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator"};
    const char *core = hws_tfm_cpu_blas_core();
    if (core == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof vector_cores / sizeof vector_cores[0]; i++)
        if (strcasecmp(core, vector_cores[i]) == 0)
            return NULL;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? "SkylakeX"
           : __builtin_cpu_supports("avx2")  ? "Haswell"
                                             : NULL;
}

/* ---- as descriptors of the bench runner (suite "engine") ------------------------------ */

static bool tfm_always(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t why_len) {
    (void)ctx, (void)d, (void)why, (void)why_len;
    return true;
}

/* One forward of nn.Transformer() at the guide's shape (1, 512, 512) on the CPU (param < 0) or on
 * the GPU in precision param, general path, seeded weights: a record of milliseconds per forward
 * (quick: N = 64, 3 runs after 1). A GPU the engine cannot use waives the record. */
static hws_status tfm_run(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    int S = 1, N = ctx->opt->quick ? 64 : 512;
    hws_tfm_config cfg = hws_tfm_config_default();
    hws_tfm_weights *w = NULL;
    hws_status st = hws_tfm_weights_random(&cfg, 42, &w, err);
    if (st != HWS_OK)
        return st;
    hws_tfm_bench_options o = hws_tfm_bench_defaults();
    o.reps = ctx->opt->quick ? 3 : 10;
    o.warmup = ctx->opt->quick ? 1 : 3;
    o.cpu = d->param < 0;
    o.gpu = d->param >= 0;
    for (int k = 0; k < 4; k++)
        o.dtypes[k] = k == d->param;
    hws_tfm_bench_result *r = calloc(1, sizeof *r);
    hws_bench_record *rec = hws_bench_add(ctx, d, NULL);
    st = r == NULL || rec == NULL ? hws_error_set(err, HWS_ERR_NOMEM, "out of memory")
                                  : hws_tfm_bench_run(w, S, N, &o, r, err);
    if (st == HWS_OK) {
        const hws_tfm_bench_timing *t = o.cpu ? &r->cpu[0] : &r->gpu[0][d->param];
        snprintf(rec->unit, sizeof rec->unit, "ms");
        rec->size = N;
        snprintf(rec->method, sizeof rec->method,
                 "ms per forward, S=%d N=%d E=%d, %.1f GFLOP as PyTorch counts (general path)", S,
                 N, cfg.d_model, r->flops / 1e9);
        rec->headline = true;
        if (t->status == HWS_ERR_UNSUPPORTED) {
            rec->state = HWS_BENCH_WAIVED;
            snprintf(rec->reason, sizeof rec->reason, "%s", t->error);
        } else if (t->status != HWS_OK) {
            st = hws_error_set(err, t->status, "%s", t->error);
        } else {
            rec->nsamples = t->n < HWS_BENCH_MAX_SAMPLES ? t->n : HWS_BENCH_MAX_SAMPLES;
            memcpy(rec->samples, t->samples_ms, (size_t)rec->nsamples * sizeof rec->samples[0]);
            hws_bench_stats(rec);
        }
        rec->t_end_s = hws_bench_now(ctx);
    }
    free(r);
    hws_tfm_weights_free(w);
    return st;
}

#define TFM_GPU(dt, name)                                                                          \
    {                                                                                              \
        "engine.transformer.gpu." name, "engine",                                                  \
            "nn.Transformer() forward on the GPU in " name " (hwscope's engine, CUDA Graph)", dt,  \
            tfm_always, tfm_run                                                                    \
    }

const hws_bench_desc hws_transformer_benches[] = {
    {"engine.transformer.cpu.fp32", "engine",
     "nn.Transformer() forward on the CPU in fp32 (hwscope's engine, OpenBLAS)", -1, tfm_always,
     tfm_run},
    TFM_GPU(HWS_TFM_FP32, "fp32"),
    TFM_GPU(HWS_TFM_TF32, "tf32"),
    TFM_GPU(HWS_TFM_FP16, "fp16"),
    TFM_GPU(HWS_TFM_BF16, "bf16"),
};
const size_t hws_transformer_nbenches =
    sizeof hws_transformer_benches / sizeof hws_transformer_benches[0];
