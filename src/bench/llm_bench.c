/* llm_bench.c - the "llm" benchmark (`hwscope bench llm`): prefill and decode tokens/s of a
 * decoder-only model through the hwscope engine, llama-bench style (pp512, tg128, tg128@d512),
 * each row beside its bound (bandwidth or matrix ceiling), the fraction reached and the
 * planner's prediction for the hwscope runtime.
 *
 * Method: one warm-up of each row, then opt->reps timed repetitions, each from an empty cache
 * (the depth's tokens prefilled untimed for decode rows); CLOCK_MONOTONIC around calls that
 * return when the work is done; GPU energy from NVML's counter before and after each timed
 * part. Tokens are a seeded sequence: speed does not depend on their values. */
#include "bench/bench_int.h"
#include "hwscope/llm.h"
#include "hwscope/plan.h"
#include "util/units.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_SEED 0x5eedull

static bool llm_filter(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t why_len) {
    (void)d;
    if (ctx->opt->llm == NULL || ctx->opt->llm->model == NULL) {
        snprintf(why, why_len, "run with `hwscope bench llm [MODEL]`");
        return false;
    }
    return true;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int max_of(const int *v, int n) {
    int m = 0;
    for (int i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* The energy counter of the GPU, millijoules; NA on the CPU or when unreadable. */
static double energy_mj(const hws_llm_bench_opts *o, int gpu) {
    hws_gpu_sample s;
    hws_error err;
    if (o->device != HWS_LLM_CUDA || hws_gpu_sample_read(gpu, &s, &err) != HWS_OK)
        return HWS_NA;
    return s.energy_mj;
}

/* What one row's repetitions add up to. */
typedef struct {
    double seconds, energy_j, tokens, ttft_s;
    bool energy_known;
} row_totals;

static void add_energy(row_totals *t, double before, double after) {
    if (hws_known(before) && hws_known(after) && after >= before) {
        t->energy_j += (after - before) * 1e-3;
        t->energy_known = true;
    }
}

typedef struct {
    hws_bench_ctx *ctx;
    const hws_llm_bench_opts *o;
    hws_llm *m;
    hws_llm_info info;
    const int32_t *tokens; /* at least max prompt + max depth + max gen */
    int batch;
} llm_run;

/* Prefills every sequence of the batch with depth tokens (untimed). */
static hws_status fill_depth(llm_run *r, int depth, hws_error *err) {
    hws_status st = hws_llm_truncate(r->m, 0, err);
    for (int b = 0; st == HWS_OK && depth > 0 && b < r->batch; b++)
        st = hws_llm_prefill(r->m, b, r->tokens + b, depth, NULL, err);
    return st;
}

/* n decode steps of the whole batch. */
static hws_status decode_steps(llm_run *r, int offset, int n, hws_error *err) {
    for (int i = 0; i < n; i++) {
        hws_status st = hws_llm_decode(r->m, r->batch, r->tokens + offset + i, NULL, err);
        if (st != HWS_OK)
            return st;
    }
    return HWS_OK;
}

/* One pp row: prefill of n tokens of sequence 0 from an empty cache, then the first decode
 * step (time to first token). rep < 0 is the warm-up. */
static hws_status pp_once(llm_run *r, int n, double *sample, row_totals *t, hws_error *err) {
    hws_status st = hws_llm_truncate(r->m, 0, err);
    if (st != HWS_OK)
        return st;
    double e0 = energy_mj(r->o, r->ctx->opt->device), t0 = mono_s();
    st = hws_llm_prefill(r->m, 0, r->tokens, n, NULL, err);
    double t1 = mono_s();
    double e1 = energy_mj(r->o, r->ctx->opt->device);
    if (st == HWS_OK)
        st = hws_llm_decode(r->m, 1, r->tokens + n, NULL, err);
    double t2 = mono_s();
    if (st != HWS_OK || sample == NULL)
        return st;
    *sample = n / (t1 - t0);
    t->seconds += t1 - t0;
    t->tokens += n;
    t->ttft_s += t2 - t0;
    add_energy(t, e0, e1);
    return HWS_OK;
}

/* One tg row: n decode steps of the batch after depth tokens of cache. */
static hws_status tg_once(llm_run *r, int n, int depth, double *sample, row_totals *t,
                          hws_error *err) {
    hws_status st = fill_depth(r, depth, err);
    if (st != HWS_OK)
        return st;
    double e0 = energy_mj(r->o, r->ctx->opt->device), t0 = mono_s();
    st = decode_steps(r, depth, sample == NULL && n > 8 ? 8 : n, err);
    double t1 = mono_s();
    double e1 = energy_mj(r->o, r->ctx->opt->device);
    if (st != HWS_OK || sample == NULL)
        return st;
    *sample = (double)n * r->batch / (t1 - t0);
    t->seconds += t1 - t0;
    t->tokens += (double)n * r->batch;
    add_energy(t, e0, e1);
    return HWS_OK;
}

/* Bytes a decode step of the row reads: the weights, and each sequence's KV cache at the
 * middle of the timed steps. */
static double step_bytes(const llm_run *r, const hws_llm_record *rec, double *fill) {
    *fill = rec->depth + rec->n_gen / 2.0;
    return r->info.decode_bytes_per_token + rec->batch * r->info.kv_bytes_per_token * *fill;
}

/* The planner's view of a row: bound (ceilings before efficiency) and prediction. */
static void judge_row(const llm_run *r, hws_llm_record *rec, bool prefill) {
    const hws_llm_bench_opts *o = r->o;
    hws_plan_opts po;
    hws_memory mem;
    hws_device_set devs;
    hws_placement pl;
    hws_predict_inputs in;
    hws_prediction pred;
    hws_error err = {""};
    hws_plan_opts_default(&po);
    po.weights = hws_weight_format_find(rec->format);
    po.runtime = HWS_RUNTIME_HWSCOPE;
    po.batch = rec->batch;
    po.prompt_tokens = prefill ? rec->n_prompt : (rec->depth > 0 ? rec->depth : 1);
    po.gen_tokens = prefill ? 1 : rec->n_gen;
    po.ctx_tokens = po.prompt_tokens + po.gen_tokens;
    int gpu = r->ctx->opt->device;
    if (o->device != HWS_LLM_CUDA) {
        snprintf(rec->prediction_basis, sizeof rec->prediction_basis,
                 "n/a: the planner predicts GPUs only");
        if (prefill && r->ctx->have_cpu && r->ctx->cpu.fp32_peak_gflops > 0) {
            rec->bound_tokens_per_s = r->ctx->cpu.fp32_peak_gflops * 1e9 / r->info.flops_per_token;
            snprintf(rec->bound_basis, sizeof rec->bound_basis,
                     "CPU FP32 peak %.0f GFLOP/s (cores x clock x FMA width) / %.3g FLOP per "
                     "token",
                     r->ctx->cpu.fp32_peak_gflops, r->info.flops_per_token);
        }
        hws_host host;
        if (!prefill && hws_host_local(&host, &err) == HWS_OK && hws_known(host.mem_bw_gbps) &&
            host.mem_bw_gbps > 0) {
            double fill, bytes = step_bytes(r, rec, &fill);
            rec->bound_tokens_per_s = rec->batch * host.mem_bw_gbps * 1e9 / bytes;
            snprintf(rec->bound_basis, sizeof rec->bound_basis,
                     "host memory %.0f GB/s %.70s / %.4g B per step", host.mem_bw_gbps,
                     host.mem_bw_basis, bytes);
        }
        return;
    }
    if (hws_memory_estimate(o->model, &po, &mem, &err) != HWS_OK ||
        hws_devices_local(&devs, &err) != HWS_OK || gpu >= devs.count) {
        snprintf(rec->prediction_basis, sizeof rec->prediction_basis, "no plan: %.140s",
                 err.msg[0] ? err.msg : "GPU not seen by NVML");
        return;
    }
    devs.dev[0] = devs.dev[gpu];
    devs.count = 1;
    hws_placement_compute(o->model, &po, &mem, &devs, HWS_PLACE_SINGLE, &pl);
    hws_predict_inputs_fill(&po, &mem, &devs, o->ceilings_path, &in);
    hws_prediction_compute(o->model, &po, &mem, &pl, &in, &pred);
    rec->plan_bytes_per_step = pred.decode_bytes_per_step;
    rec->plan_flops_per_token = pred.prefill_flops_per_token;
    rec->plan_wave_flops_per_token = pred.prefill_wave_flops_per_token;
    rec->plan_layers = o->model->n_layers;
    rec->predicted_tokens_per_s = prefill ? pred.prefill_tokens_per_s : pred.decode_tokens_per_s;
    snprintf(rec->prediction_basis, sizeof rec->prediction_basis, "%.159s", in.basis);
    const char *src = in.measured ? "measured" : "datasheet";
    if (prefill && hws_known(in.matmul_tflops) && r->info.flops_per_token > 0) {
        rec->bound_tokens_per_s = in.matmul_tflops * 1e12 / r->info.flops_per_token;
        snprintf(rec->bound_basis, sizeof rec->bound_basis,
                 "%s matrix peak %.0f TFLOP/s / %.3g FLOP per token", src, in.matmul_tflops,
                 r->info.flops_per_token);
    } else if (!prefill && hws_known(in.mem_bw_gbps)) {
        double fill, bytes = step_bytes(r, rec, &fill);
        rec->bound_tokens_per_s = rec->batch * in.mem_bw_gbps * 1e9 / bytes;
        snprintf(rec->bound_basis, sizeof rec->bound_basis,
                 "%s bandwidth %.0f GB/s / %.4g B per step (weights + KV at %.0f tokens)", src,
                 in.mem_bw_gbps, bytes, fill);
    }
}

/* A new row of the result, filled from the run; NULL when out of memory. */
static hws_llm_record *new_row(llm_run *r, const char *test) {
    hws_bench_result *res = r->ctx->res;
    hws_llm_record *grown = realloc(res->llm, (size_t)(res->nllm + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    res->llm = grown;
    hws_llm_record *rec = &res->llm[res->nllm++];
    memset(rec, 0, sizeof *rec);
    const hws_llm_bench_opts *o = r->o;
    snprintf(rec->model, sizeof rec->model, "%s", o->model->name);
    snprintf(rec->format, sizeof rec->format, "%s", hws_llm_format_name(o->format));
    snprintf(rec->device, sizeof rec->device, "%s", o->device == HWS_LLM_CUDA ? "cuda" : "cpu");
    snprintf(rec->device_name, sizeof rec->device_name, "%s", r->info.device_name);
    snprintf(rec->backend, sizeof rec->backend, "%s", r->info.backend);
    snprintf(rec->test, sizeof rec->test, "%s", test);
    snprintf(rec->build_commit, sizeof rec->build_commit, "%s", hws_build_commit());
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(rec->measured_at, sizeof rec->measured_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    rec->batch = r->batch;
    rec->params = hws_model_params(o->model);
    rec->weight_bytes = r->info.weight_bytes;
    rec->peak_mem_bytes = r->info.device_bytes_peak;
    double *na[] = {&rec->tokens_per_s,
                    &rec->stddev,
                    &rec->ttft_ms,
                    &rec->avg_power_w,
                    &rec->tokens_per_joule,
                    &rec->bound_tokens_per_s,
                    &rec->frac_of_bound,
                    &rec->predicted_tokens_per_s,
                    &rec->prediction_error,
                    &rec->plan_bytes_per_step,
                    &rec->plan_flops_per_token,
                    &rec->plan_wave_flops_per_token,
                    &rec->plan_layers};
    for (size_t i = 0; i < sizeof na / sizeof na[0]; i++)
        *na[i] = HWS_NA;
    return rec;
}

/* Mean, spread, power and the planner's view of a finished row. */
static void finish_row(const llm_run *r, hws_llm_record *rec, const row_totals *t, bool prefill) {
    double sum = 0, sq = 0;
    for (int i = 0; i < rec->nsamples; i++)
        sum += rec->samples[i];
    rec->tokens_per_s = rec->nsamples > 0 ? sum / rec->nsamples : HWS_NA;
    for (int i = 0; i < rec->nsamples; i++)
        sq += (rec->samples[i] - rec->tokens_per_s) * (rec->samples[i] - rec->tokens_per_s);
    rec->stddev = rec->nsamples > 1 ? sqrt(sq / (rec->nsamples - 1)) : 0;
    if (prefill && rec->nsamples > 0)
        rec->ttft_ms = t->ttft_s / rec->nsamples * 1e3;
    if (t->energy_known && t->seconds > 0 && t->energy_j > 0) {
        rec->avg_power_w = t->energy_j / t->seconds;
        rec->tokens_per_joule = t->tokens / t->energy_j;
    }
    judge_row(r, rec, prefill);
    if (hws_known(rec->bound_tokens_per_s) && hws_known(rec->tokens_per_s))
        rec->frac_of_bound = rec->tokens_per_s / rec->bound_tokens_per_s;
    if (hws_known(rec->predicted_tokens_per_s) && hws_known(rec->tokens_per_s))
        rec->prediction_error = rec->predicted_tokens_per_s / rec->tokens_per_s - 1;
}

/* The rows of one batch size on a model built for it. */
static hws_status run_batch(llm_run *r, bool with_pp, hws_error *err) {
    const hws_llm_bench_opts *o = r->o;
    int reps = o->reps < 1 ? 1 : o->reps > HWS_BENCH_MAX_SAMPLES ? HWS_BENCH_MAX_SAMPLES : o->reps;
    char test[32];
    for (int i = 0; with_pp && i < o->nprompts; i++) {
        int n = o->prompts[i];
        if (n <= 0)
            continue;
        row_totals t = {0};
        snprintf(test, sizeof test, "pp%d", n);
        hws_status st = pp_once(r, n, NULL, &t, err);
        hws_llm_record *rec = st == HWS_OK ? new_row(r, test) : NULL;
        if (st == HWS_OK && rec == NULL)
            return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        for (int k = 0; st == HWS_OK && k < reps; k++) {
            st = pp_once(r, n, &rec->samples[k], &t, err);
            rec->nsamples += st == HWS_OK;
        }
        if (st != HWS_OK)
            return st;
        rec->n_prompt = n;
        finish_row(r, rec, &t, true);
    }
    for (int i = 0; i < o->ngens; i++) {
        for (int j = 0; j < (o->ndepths > 0 ? o->ndepths : 1); j++) {
            int n = o->gens[i], depth = o->ndepths > 0 ? o->depths[j] : 0;
            if (n <= 0)
                continue;
            row_totals t = {0};
            if (depth > 0)
                snprintf(test, sizeof test, "tg%d@d%d", n, depth);
            else
                snprintf(test, sizeof test, "tg%d", n);
            hws_status st = tg_once(r, n, depth, NULL, &t, err);
            hws_llm_record *rec = st == HWS_OK ? new_row(r, test) : NULL;
            if (st == HWS_OK && rec == NULL)
                return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
            for (int k = 0; st == HWS_OK && k < reps; k++) {
                st = tg_once(r, n, depth, &rec->samples[k], &t, err);
                rec->nsamples += st == HWS_OK;
            }
            if (st != HWS_OK)
                return st;
            rec->n_gen = n;
            rec->depth = depth;
            finish_row(r, rec, &t, false);
        }
    }
    return HWS_OK;
}

static hws_status llm_run_all(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    (void)d;
    const hws_llm_bench_opts *o = ctx->opt->llm;
    hws_llm_shape shape;
    hws_status st = o->shape_file != NULL ? hws_llm_shape_from_file(o->shape_file, &shape, err)
                                          : hws_llm_shape_from_spec(o->model, &shape, err);
    if (st != HWS_OK)
        return st;
    int maxp = max_of(o->prompts, o->nprompts), maxd = max_of(o->depths, o->ndepths);
    int maxn = max_of(o->gens, o->ngens), maxb = max_of(o->batches, o->nbatches);
    int ctx_tokens = maxp + 1 > maxd + maxn ? maxp + 1 : maxd + maxn;
    size_t ntok = (size_t)ctx_tokens + (size_t)(maxb > 0 ? maxb : 1) + 1;
    int32_t *tokens = malloc(ntok * sizeof *tokens);
    if (tokens == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    uint64_t x = TOKEN_SEED;
    for (size_t i = 0; i < ntok; i++) { /* xorshift: any in-vocabulary sequence will do */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        tokens[i] = (int32_t)(x % (uint64_t)shape.vocab);
    }
    for (int bi = 0; st == HWS_OK && bi < (o->nbatches > 0 ? o->nbatches : 1); bi++) {
        hws_llm_options lo = hws_llm_options_default();
        lo.device = (hws_llm_device)o->device;
        lo.gpu = ctx->opt->device;
        lo.format = (hws_llm_format)o->format;
        lo.max_batch = o->nbatches > 0 ? o->batches[bi] : 1;
        lo.max_ctx = ctx_tokens;
        lo.threads = o->threads;
        lo.weights = o->model_path;
        llm_run r;
        memset(&r, 0, sizeof r);
        r.ctx = ctx;
        r.o = o;
        r.tokens = tokens;
        r.batch = lo.max_batch;
        if (ctx->opt->progress != NULL)
            ctx->opt->progress(ctx->opt->progress_arg, o->model->name, bi,
                               o->nbatches > 0 ? o->nbatches : 1);
        st = hws_llm_new(&shape, &lo, &r.m, err);
        if (st != HWS_OK)
            break;
        hws_llm_get_info(r.m, &r.info);
        st = run_batch(&r, bi == 0, err);
        hws_llm_free(r.m);
    }
    free(tokens);
    ctx->res->llm_status = st;
    return st;
}

const hws_bench_desc hws_llm_benches[] = {
    {"llm", "llm", "prefill and decode tokens/s of a decoder-only LLM (hwscope engine)", 0,
     llm_filter, llm_run_all},
};
const size_t hws_llm_nbenches = sizeof hws_llm_benches / sizeof hws_llm_benches[0];

int hws_llm_records_measured(const hws_bench_result *r, hws_llm_measured *out, int cap) {
    int n = 0;
    for (int i = 0; i < r->nllm && n < cap; i++) {
        const hws_llm_record *rec = &r->llm[i];
        if (!hws_known(rec->tokens_per_s))
            continue;
        hws_llm_measured *m = &out[n++];
        bool prefill = rec->test[0] == 'p';
        memset(m, 0, sizeof *m);
        snprintf(m->runtime, sizeof m->runtime, "hwscope");
        snprintf(m->model, sizeof m->model, "%s", rec->model);
        snprintf(m->device, sizeof m->device, "%s", rec->device);
        snprintf(m->format, sizeof m->format, "%s", rec->format);
        snprintf(m->measured_at, sizeof m->measured_at, "%s", rec->measured_at);
        m->batch = rec->batch;
        m->depth = rec->depth;
        m->prompt_tokens = rec->n_prompt;
        m->gen_tokens = rec->n_gen;
        m->prefill_tokens_per_s = prefill ? rec->tokens_per_s : HWS_NA;
        m->decode_tokens_per_s = prefill ? HWS_NA : rec->tokens_per_s;
        m->decode_bytes_per_step = prefill ? HWS_NA : rec->plan_bytes_per_step;
        m->prefill_flops_per_token = prefill ? rec->plan_flops_per_token : HWS_NA;
        m->prefill_wave_flops_per_token = prefill ? rec->plan_wave_flops_per_token : HWS_NA;
        m->layers = hws_known(rec->plan_layers) ? (int)rec->plan_layers : 0;
    }
    return n;
}
