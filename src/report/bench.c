/* bench.c - prints benchmark results as tables (stdout) or as one JSON document. */
#include "report/bench.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stddef.h>
#include <string.h>

#define METHOD_TEXT                                                                                \
    "warm-up runs, then repeats each timed alone (CUDA events on the GPU, CLOCK_MONOTONIC on the " \
    "CPU); the figure is the median; inputs random; matrix products checked against a plain "      \
    "reference on sampled outputs (error = max |c - ref| / rms(ref)); GB = 1e9 bytes"

static cJSON *sample_json(const hws_bench_sample *s) {
    cJSON *o = cJSON_CreateObject();
    hws_record_json(o, &hws_bench_sample_table, s, false);
    return o;
}

static cJSON *samples_json(const hws_bench_result *r, double from, double to) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < r->nsamples; i++)
        if (r->samples[i].t_s >= from && r->samples[i].t_s <= to)
            cJSON_AddItemToArray(a, sample_json(&r->samples[i]));
    return a;
}

static cJSON *record_json(const hws_bench_result *r, const hws_bench_record *rec, const cJSON *fp) {
    cJSON *o = cJSON_CreateObject();
    hws_record_json(o, &hws_bench_record_table, rec, false);
    cJSON_AddStringToObject(o, "state", hws_bench_state_name(rec->state));
    cJSON_AddStringToObject(o, "verdict", hws_verdict_name(rec->verdict));
    cJSON_AddBoolToObject(o, "headline", rec->headline);
    hws_json_num(o, "device", rec->device >= 0 ? rec->device : HWS_NA);
    cJSON *samples = cJSON_AddArrayToObject(o, "samples");
    for (int i = 0; i < rec->nsamples; i++)
        cJSON_AddItemToArray(samples, cJSON_CreateNumber(rec->samples[i]));
    cJSON *check = cJSON_AddObjectToObject(o, "check");
    hws_json_num(check, "max_rel_err", rec->check_err);
    hws_json_num(check, "tolerance", rec->check_tol);
    hws_json_tri(check, "passed",
                 hws_known(rec->check_err) ? rec->check_err <= rec->check_tol : -1);
    if (rec->device >= 0) {
        hws_record_json(cJSON_AddObjectToObject(o, "gpu_state"), &hws_bench_gpu_state_table,
                        &rec->gpu, false);
        cJSON_AddItemToObject(o, "gpu_samples", samples_json(r, rec->t_start_s, rec->t_end_s));
    }
    cJSON_AddItemToObject(o, "fingerprint", cJSON_Duplicate(fp, 1));
    return o;
}

cJSON *hws_bench_json(const hws_bench_result *r, const char *const *suites, int nsuites,
                      bool quick) {
    cJSON *doc = hws_json_doc_for("hwscope.bench/1", &r->fingerprint);
    if (doc == NULL)
        return NULL;
    cJSON *fp = hws_fingerprint_json(&r->fingerprint); /* each record carries a copy */
    cJSON *names = cJSON_AddArrayToObject(doc, "suites");
    for (int i = 0; i < nsuites; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(suites[i]));
    if (nsuites == 0)
        cJSON_AddItemToArray(names, cJSON_CreateString("all"));
    cJSON_AddBoolToObject(doc, "quick", quick);
    cJSON_AddStringToObject(doc, "method", METHOD_TEXT);
    hws_json_str(doc, "gpu_note", r->gpu_note);
    cJSON *recs = cJSON_AddArrayToObject(doc, "records");
    for (int i = 0; i < r->nrecords; i++)
        cJSON_AddItemToArray(recs, record_json(r, &r->records[i], fp));
    cJSON_AddItemToObject(doc, "gpu_samples", samples_json(r, -1, 1e300));
    cJSON_Delete(fp);
    return doc;
}

static const char *pct(char *buf, size_t n, double frac) {
    return hws_fmt_num(buf, n, hws_known(frac) ? frac * 100 : HWS_NA, 0, "%");
}

/* The note column: why waived or failed, the cause of a low figure, else nothing. */
static const char *note_of(const hws_bench_record *rec) {
    if (rec->state != HWS_BENCH_OK)
        return rec->reason;
    return rec->cause[0] ? rec->cause : "";
}

static void print_figures(const hws_bench_result *r, FILE *out) {
    hws_table *t = hws_table_new(11, (const char *[]){"benchmark", "median", "unit", "spread",
                                                      "datasheet", "theory", "of ds", "of th",
                                                      "check err", "verdict", "note"});
    if (t == NULL)
        return;
    /* narrow terminals: the note wraps, then the check error, spread and note go, in that order */
    hws_table_set_priority(t, 8, 3);
    hws_table_set_priority(t, 3, 2);
    hws_table_set_priority(t, 10, 1);
    for (int i = 0; i < r->nrecords; i++) {
        const hws_bench_record *rec = &r->records[i];
        char med[32], sp[32], ds[32], th[32], fd[16], ft[16], ck[32];
        bool ok = rec->state == HWS_BENCH_OK;
        hws_fmt_num(med, sizeof med, rec->median, rec->median < 100 ? 2 : 0, NULL);
        hws_fmt_num(sp, sizeof sp, rec->spread_pct, 1, "%");
        hws_fmt_num(ds, sizeof ds, rec->datasheet, 0, NULL);
        hws_fmt_num(th, sizeof th, rec->theoretical, 0, NULL);
        if (hws_known(rec->check_err))
            snprintf(ck, sizeof ck, "%.1e", rec->check_err);
        else
            snprintf(ck, sizeof ck, "-");
        const char *verdict = rec->state == HWS_BENCH_WAIVED ? "waived"
                              : rec->state == HWS_BENCH_FAILED && !hws_known(rec->check_err)
                                  ? "failed"
                                  : hws_verdict_name(rec->verdict);
        hws_table_row(t, (const char *[]){rec->key, ok ? med : "-", rec->unit, ok ? sp : "-", ds,
                                          th, pct(fd, sizeof fd, rec->frac_datasheet),
                                          pct(ft, sizeof ft, rec->frac_theoretical), ck,
                                          rec->verdict == HWS_VERDICT_NONE && ok ? "-" : verdict,
                                          note_of(rec)});
    }
    hws_table_print(t, out);
    hws_table_free(t);
}

/* Clocks, power and throttling seen during the GPU benchmarks. */
static void print_gpu_state(const hws_bench_result *r, FILE *out) {
    double clk_lo = HWS_NA, clk_hi = HWS_NA, pw = HWS_NA, temp = HWS_NA;
    for (int i = 0; i < r->nsamples; i++) {
        const hws_bench_sample *s = &r->samples[i];
        clk_lo = hws_known(clk_lo) ? fmin(clk_lo, s->sm_clock_mhz) : s->sm_clock_mhz;
        clk_hi = hws_known(clk_hi) ? fmax(clk_hi, s->sm_clock_mhz) : s->sm_clock_mhz;
        pw = hws_known(pw) ? fmax(pw, s->power_w) : s->power_w;
        temp = hws_known(temp) ? fmax(temp, s->temperature_c) : s->temperature_c;
    }
    if (r->nsamples > 0)
        fprintf(out,
                "\nGPU during the run (%d NVML samples): SM clock %.0f-%.0f MHz, power up to "
                "%.0f W, temperature up to %.0f C\n",
                r->nsamples, clk_lo, clk_hi, pw, temp);
    for (int i = 0; i < r->nrecords; i++)
        if (r->records[i].gpu.throttle_text[0] != '\0')
            fprintf(out, "  %s: clocks held down (%s)\n", r->records[i].key,
                    r->records[i].gpu.throttle_text);
}

void hws_bench_print(const hws_bench_result *r, FILE *out) {
    const hws_bench_fingerprint *fp = &r->fingerprint;
    hws_print_heading(out, "hwscope bench");
    fprintf(out, "CPU: %s; %s\n", fp->cpu_model[0] ? fp->cpu_model : "n/a", fp->blas);
    for (int i = 0; i < fp->ngpus; i++)
        fprintf(out, "GPU %d: %s (%s), driver %s, CUDA %s, cuBLASLt %s\n", i, fp->gpu_name[i],
                fp->gpu_pci_bus_id[i], fp->driver_version[0] ? fp->driver_version : "n/a",
                fp->cuda_driver[0] ? fp->cuda_driver : "n/a", fp->cublaslt);
    if (r->gpu_note[0] != '\0')
        fprintf(out, "GPU: none benchmarked: %s\n", r->gpu_note);
    fprintf(out, "\n");
    print_figures(r, out);
    print_gpu_state(r, out);
    fprintf(out, "\nPeaks: datasheet from the GPU catalog; theoretical:\n");
    for (int i = 0; i < r->nrecords; i++)
        if (r->records[i].headline && r->records[i].theoretical_basis[0] != '\0')
            fprintf(out, "  %-20s %s\n", r->records[i].key, r->records[i].theoretical_basis);
    fprintf(out, "Method: %s.\n", METHOD_TEXT);
}
