/* bench.c - the benchmark runner: picks the descriptors of the asked suites, runs or waives each,
 * and keeps every record with its statistics, peaks and verdict. */
#include "bench/bench_int.h"
#include "util/units.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const suite_names[] = {"cpu", "mem", "gemm", "pcie",
                                          "gpu", "p2p", "nccl", "all"};

hws_bench_options hws_bench_defaults(void) {
    hws_bench_options o;
    memset(&o, 0, sizeof o);
    return o;
}

bool hws_bench_suite_known(const char *name) {
    for (size_t i = 0; i < sizeof suite_names / sizeof suite_names[0]; i++)
        if (strcmp(name, suite_names[i]) == 0)
            return true;
    return false;
}

const char *hws_bench_state_name(hws_bench_state s) {
    static const char *const names[] = {"ok", "waived", "failed"};
    return s <= HWS_BENCH_FAILED ? names[s] : "?";
}

const char *hws_verdict_name(hws_verdict v) {
    static const char *const names[] = {"none", "normal", "low", "suspect"};
    return v <= HWS_VERDICT_SUSPECT ? names[v] : "?";
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double hws_bench_now(const hws_bench_ctx *ctx) {
    return mono_s() - ctx->t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void hws_bench_summary(const double *x, int n, double *median, double *min, double *max) {
    double *s = n > 0 ? malloc((size_t)n * sizeof *s) : NULL;
    if (s == NULL) {
        *median = *min = *max = HWS_NA;
        return;
    }
    memcpy(s, x, (size_t)n * sizeof s[0]);
    qsort(s, (size_t)n, sizeof s[0], cmp_double);
    *min = s[0];
    *max = s[n - 1];
    *median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
}

void hws_bench_stats(hws_bench_record *rec) {
    hws_bench_summary(rec->samples, rec->nsamples, &rec->median, &rec->min, &rec->max);
    rec->spread_pct = rec->median > 0 ? (rec->max - rec->min) / rec->median * 100 : HWS_NA;
}

static double fraction(double measured, double peak) {
    return hws_known(measured) && hws_known(peak) && peak > 0 ? measured / peak : HWS_NA;
}

void hws_bench_judge(hws_bench_record *rec, double expected) {
    rec->frac_datasheet = fraction(rec->median, rec->datasheet);
    rec->frac_theoretical = fraction(rec->median, rec->theoretical);
    double f = hws_known(rec->frac_datasheet) ? rec->frac_datasheet : rec->frac_theoretical;
    double top = rec->frac_theoretical;
    if (hws_known(rec->frac_datasheet) && (!hws_known(top) || rec->frac_datasheet > top))
        top = rec->frac_datasheet;
    bool wrong = rec->state == HWS_BENCH_FAILED && hws_known(rec->check_err);
    bool judged = rec->state == HWS_BENCH_OK && rec->headline && hws_known(f);
    if (wrong || (judged && (top > 1.1 || f < expected / 2)))
        rec->verdict = HWS_VERDICT_SUSPECT;
    else if (!judged)
        rec->verdict = HWS_VERDICT_NONE;
    else if (f < expected)
        rec->verdict = HWS_VERDICT_LOW;
    else
        rec->verdict = HWS_VERDICT_NORMAL;
    if (rec->verdict == HWS_VERDICT_SUSPECT && hws_known(top) && top > 1.1)
        snprintf(rec->cause, sizeof rec->cause, "above the peak: the timing or the peak is wrong");
}

hws_bench_record *hws_bench_add(hws_bench_ctx *ctx, const hws_bench_desc *d, const char *suffix) {
    hws_bench_result *r = ctx->res;
    hws_bench_record *grown = realloc(r->records, (size_t)(r->nrecords + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    r->records = grown;
    hws_bench_record *rec = &r->records[r->nrecords++];
    memset(rec, 0, sizeof *rec);
    if (suffix != NULL)
        snprintf(rec->key, sizeof rec->key, "%s.%s", d->key, suffix);
    else
        snprintf(rec->key, sizeof rec->key, "%s", d->key);
    snprintf(rec->suite, sizeof rec->suite, "%s", d->suite);
    snprintf(rec->description, sizeof rec->description, "%s", d->description);
    rec->state = HWS_BENCH_OK;
    rec->device = strncmp(d->suite, "gpu", 3) == 0 ? ctx->opt->device : -1;
    rec->size = rec->median = rec->min = rec->max = rec->spread_pct = HWS_NA;
    rec->datasheet = rec->theoretical = rec->frac_datasheet = rec->frac_theoretical = HWS_NA;
    rec->check_err = rec->check_tol = HWS_NA;
    rec->t_start_s = rec->t_end_s = hws_bench_now(ctx);
    rec->gpu.sm_clock_min_mhz = rec->gpu.sm_clock_max_mhz = HWS_NA;
    rec->gpu.power_max_w = rec->gpu.temperature_max_c = rec->gpu.throttle_reasons = HWS_NA;
    return rec;
}

void hws_bench_from_times(hws_bench_record *rec, const double *seconds, int n, double work,
                          double scale) {
    if (n > HWS_BENCH_MAX_SAMPLES)
        n = HWS_BENCH_MAX_SAMPLES;
    rec->nsamples = 0;
    for (int i = 0; i < n; i++)
        if (seconds[i] > 0)
            rec->samples[rec->nsamples++] = work / seconds[i] / scale;
    hws_bench_stats(rec);
}

void hws_bench_check(hws_bench_record *rec, double err, double tol) {
    rec->check_err = err;
    rec->check_tol = tol;
    if (!(err <= tol)) {
        rec->state = HWS_BENCH_FAILED;
        snprintf(rec->reason, sizeof rec->reason,
                 "wrong result: sampled error %.3g above tolerance %.3g", err, tol);
    }
}

/* True when the descriptor belongs to one of the asked suites. */
static bool selected(const hws_bench_desc *d, const char *const *suites, int nsuites) {
    if (nsuites == 0)
        return true;
    for (int i = 0; i < nsuites; i++) {
        if (strcmp(suites[i], "all") == 0)
            return true;
        size_t len = strlen(suites[i]);
        for (const char *p = strstr(d->suite, suites[i]); p != NULL; p = strstr(p + 1, suites[i]))
            if ((p == d->suite || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
                return true;
    }
    return false;
}

static void run_one(hws_bench_ctx *ctx, const hws_bench_desc *d);

/* The widest spread of the measured records in [from, to), 0 when none. */
static double widest_spread(const hws_bench_result *r, int from, int to) {
    double widest = 0;
    for (int i = from; i < to; i++) {
        const hws_bench_record *rec = &r->records[i];
        if (rec->state == HWS_BENCH_OK && hws_known(rec->spread_pct) && rec->spread_pct > widest)
            widest = rec->spread_pct;
    }
    return widest;
}

/* Drops the records from index from to the end (the attempt just made). */
static void drop_records(hws_bench_result *r, int from) {
    r->nrecords = from;
}

/* Keeps the records of the second attempt [mid, end) in place of the first [first, mid). */
static void keep_second(hws_bench_result *r, int first, int mid) {
    int n = r->nrecords - mid;
    memmove(&r->records[first], &r->records[mid], (size_t)n * sizeof r->records[0]);
    r->nrecords = first + n;
}

/* Re-runs d while the repeats of its records [before, end) spread more than
 * HWS_BENCH_SPREAD_LIMIT_PCT, at most HWS_BENCH_MAX_RUNS runs in all, keeping the attempt with
 * the narrowest spread; then marks each record with the runs taken and, when its spread stays
 * wide, says so in its cause. */
static void settle_spread(hws_bench_ctx *ctx, const hws_bench_desc *d, int before) {
    hws_bench_result *r = ctx->res;
    int runs = 1;
    while (widest_spread(r, before, r->nrecords) > HWS_BENCH_SPREAD_LIMIT_PCT &&
           runs < HWS_BENCH_MAX_RUNS) {
        int mid = r->nrecords;
        hws_error err = {""};
        hws_status st = d->run(ctx, d, &err);
        runs++;
        if (st != HWS_OK || r->nrecords == mid) { /* the first attempt's figures stand */
            drop_records(r, mid);
            break;
        }
        if (widest_spread(r, mid, r->nrecords) < widest_spread(r, before, mid))
            keep_second(r, before, mid);
        else
            drop_records(r, mid);
    }
    for (int i = before; i < r->nrecords; i++) {
        hws_bench_record *rec = &r->records[i];
        rec->runs = runs;
        rec->unstable = rec->state == HWS_BENCH_OK && hws_known(rec->spread_pct) &&
                        rec->spread_pct > HWS_BENCH_SPREAD_LIMIT_PCT;
        if (!rec->unstable)
            continue;
        size_t len = strlen(rec->cause);
        snprintf(rec->cause + len, sizeof rec->cause - len,
                 "%srepeats spread %.0f%% (more than %.0f%%) after %d run(s): the median is "
                 "uncertain",
                 len > 0 ? "; " : "", rec->spread_pct, HWS_BENCH_SPREAD_LIMIT_PCT, runs);
    }
}

void hws_bench_run_one(hws_bench_ctx *ctx, const hws_bench_desc *d) {
    run_one(ctx, d);
}

/* Runs or waives one descriptor; a failure becomes a FAILED record. */
static void run_one(hws_bench_ctx *ctx, const hws_bench_desc *d) {
    char why[HWS_ERROR_LEN] = "";
    hws_error err = {""};
    int before = ctx->res->nrecords;
    if (!d->filter(ctx, d, why, sizeof why)) {
        hws_bench_record *rec = hws_bench_add(ctx, d, NULL);
        if (rec != NULL) {
            rec->state = HWS_BENCH_WAIVED;
            snprintf(rec->reason, sizeof rec->reason, "%s", why);
        }
        return;
    }
    if (d->run(ctx, d, &err) == HWS_OK) {
        settle_spread(ctx, d, before);
        return;
    }
    if (ctx->res->nrecords == before && hws_bench_add(ctx, d, NULL) == NULL)
        return;
    for (int i = before; i < ctx->res->nrecords; i++) {
        hws_bench_record *rec = &ctx->res->records[i];
        if (rec->state == HWS_BENCH_OK && rec->nsamples > 0)
            continue; /* a sweep point measured before the failure stands */
        rec->state = HWS_BENCH_FAILED;
        snprintf(rec->reason, sizeof rec->reason, "%s", err.msg);
    }
}

hws_status hws_bench_run(const char *const *suites, int nsuites, const hws_bench_options *opt,
                         hws_bench_result **out, hws_error *err) {
    hws_bench_ctx ctx;
    hws_error ignored;
    const hws_bench_desc *todo[64];
    int ntodo = 0;
    for (int i = 0; i < nsuites; i++)
        if (!hws_bench_suite_known(suites[i]))
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "unknown suite '%s' (cpu, mem, gemm, pcie, gpu, p2p, nccl, all)",
                                 suites[i]);
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = opt;
    ctx.t0 = mono_s();
    pthread_mutex_init(&ctx.lock, NULL);
    ctx.res = calloc(1, sizeof *ctx.res);
    if (ctx.res == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    ctx.have_cpu = hws_probe_cpu(&ctx.cpu, &ignored) == HWS_OK;
    hws_gpu_ctx_probe(&ctx);
    for (size_t i = 0; i < hws_cpu_nbenches && ntodo < 64; i++)
        if (selected(&hws_cpu_benches[i], suites, nsuites))
            todo[ntodo++] = &hws_cpu_benches[i];
    for (size_t i = 0; i < hws_gpu_nbenches && ntodo < 64; i++)
        if (selected(&hws_gpu_benches[i], suites, nsuites))
            todo[ntodo++] = &hws_gpu_benches[i];
    for (size_t i = 0; i < hws_multi_nbenches && ntodo < 64; i++)
        if (selected(&hws_multi_benches[i], suites, nsuites))
            todo[ntodo++] = &hws_multi_benches[i];
    for (int i = 0; i < ntodo; i++)
        if (strncmp(todo[i]->suite, "gpu", 3) == 0)
            hws_gpu_ctx_open(&ctx); /* before measuring anything: is --device there? */
    if (ctx.gpu_count > 0 && opt->device >= ctx.gpu_count) {
        hws_error_set(err, HWS_ERR_INPUT, "--device %d: the CUDA runtime sees %d GPU(s)",
                      opt->device, ctx.gpu_count);
        hws_gpu_ctx_close(&ctx);
        pthread_mutex_destroy(&ctx.lock);
        hws_bench_result_free(ctx.res);
        return HWS_ERR_INPUT;
    }
    for (int i = 0; i < ntodo; i++) {
        if (opt->progress != NULL)
            opt->progress(opt->progress_arg, todo[i]->key, i, ntodo);
        run_one(&ctx, todo[i]);
    }
    hws_fingerprint_fill(&ctx.res->fingerprint, ctx.have_cpu ? &ctx.cpu : NULL, ctx.gpus);
    hws_gpu_fingerprint(&ctx, &ctx.res->fingerprint);
    hws_gpu_ctx_close(&ctx);
    pthread_mutex_destroy(&ctx.lock);
    *out = ctx.res;
    return HWS_OK;
}

void hws_bench_result_free(hws_bench_result *r) {
    if (r == NULL)
        return;
    free(r->records);
    free(r->samples);
    free(r);
}
