/* report_model.h - the report (`hwscope` with no command) as data: inventory with health
 * verdicts, the quick measurement beside the datasheet, and what runs here (models x formats on
 * the GPUs, on GPUs + CPU offload, on the CPU alone). Built once by hws_report_build; the text,
 * JSON and HTML renderers only read it, so the three cannot disagree.
 *
 * Example:
 *   hws_report_opts o; hws_report_opts_default(&o);
 *   hws_report *r = NULL;
 *   if (hws_report_build(&o, &r, &err) == HWS_OK) { hws_report_print_text(r, stdout, width); }
 *   hws_report_free(r); */
#ifndef HWSCOPE_REPORT_REPORT_MODEL_H
#define HWSCOPE_REPORT_REPORT_MODEL_H

#include "hwscope/bench.h"
#include "hwscope/plan.h"
#include "hwscope/probe.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#define HWS_REPORT_MAX_MODELS  16
#define HWS_REPORT_MAX_FORMATS 5
#define HWS_REPORT_MAX_FIGURES 48

typedef enum {
    HWS_BENCH_AUTO,  /* measure unless figures younger than a day are saved for this hardware */
    HWS_BENCH_SKIP,  /* --no-bench: saved figures if any, else none */
    HWS_BENCH_FORCE, /* --bench: measure now */
} hws_report_bench_mode;

typedef struct {
    const char *models[HWS_REPORT_MAX_MODELS]; /* catalog names; nmodels 0: the default set */
    int nmodels;
    double ctx_tokens; /* NA: each model's default (8192 or its maximum) */
    int runtime;       /* -1: the format's usual runtime (vLLM for bf16/fp8/int4, llama.cpp
                        * for GGUF types); else an hws_runtime for every row */
    hws_report_bench_mode bench;
    const char *figures_dir;   /* where quick figures are saved; NULL: beside the ceilings file */
    const char *ceilings_path; /* NULL: hws_ceilings_path */
    /* Called before each benchmark of the quick measurement (may be NULL). */
    void (*progress)(void *arg, const char *key, int index, int total);
    void *progress_arg;
} hws_report_opts;

/* One measured figure of a device beside its datasheet. */
typedef struct {
    int device; /* GPU index; -1 the CPU */
    char device_name[96];
    char what[32]; /* "memory bandwidth", "matrix bf16" */
    char key[48];  /* the benchmark it comes from: "gpu.d2d.256MiB", "cpu.stream.triad" */
    char unit[12]; /* "GB/s", "TFLOP/s", "GFLOP/s" */
    double measured, datasheet, theoretical; /* NA when not known */
} hws_report_figure;

typedef enum { HWS_TARGET_GPU, HWS_TARGET_OFFLOAD, HWS_TARGET_CPU, HWS_TARGET_COUNT } hws_target;

/* One model in one format on one target. */
typedef struct {
    const char *format;  /* "bf16", "fp8", "int4", "Q4_K_M", "Q8_0" */
    const char *runtime; /* "vllm", "llama.cpp", "transformers" */
    hws_target target;
    int tried; /* 0: not applicable here (no GPU, fp8 without FP8 units, ...) */
    int fits;
    char placement[32]; /* "single GPU", "tensor parallel", "CPU offload", "CPU only" */
    int ngpus;          /* GPUs it uses */
    double gpu_bytes;   /* the most any one GPU holds, bytes */
    double host_bytes;  /* what host RAM holds, bytes */
    double prefill_tokens_per_s, decode_tokens_per_s;
    double decode_bytes_per_step;   /* for the roofline: bytes read per decode step */
    double prefill_flops_per_token; /* and FLOPs per prompt token */
    const char *bound;              /* "memory", "compute", "host"; NULL when it does not fit */
    char basis[48];                 /* "measured ceilings", "datasheet" */
    char why[160];                  /* why not (does not fit, not tried) */
} hws_report_run;

typedef struct {
    const char *name;
    double params, active_params;
    int moe;
    double ctx_tokens;
    int nruns;
    hws_report_run runs[HWS_REPORT_MAX_FORMATS * HWS_TARGET_COUNT];
    int best[HWS_TARGET_COUNT]; /* per target, index in runs of the first format (best quality
                                 * first) that fits there; -1 when none does */
} hws_report_model;

typedef struct {
    hws_cpu_info cpu;
    hws_mem_info mem;
    hws_gpu_list gpus;
    hws_gpu_health health[HWS_MAX_GPUS];
    hws_bench_fingerprint fingerprint;
    char fingerprint_id[17];
    /* the quick measurement */
    char bench_state[16]; /* "measured", "saved", "skipped", "failed" */
    char bench_note[256]; /* where the figures come from, or why there are none */
    char bench_time_utc[32];
    double bench_seconds; /* how long the measurement took; NA when none ran */
    int nfigures;
    hws_report_figure figures[HWS_REPORT_MAX_FIGURES];
    /* what runs here */
    hws_device_set gpus_set; /* the local GPUs and host (count 0: none) */
    hws_device_set cpu_set;  /* the host alone */
    char fit_basis[1024];
    char why_no_gpu[HWS_ERROR_LEN];
    int nmodels;
    hws_report_model models[HWS_REPORT_MAX_MODELS];
} hws_report;

void hws_report_opts_default(hws_report_opts *o);
/* Probes, measures (per o->bench) and plans. Fails only for bad options (a model not in the
 * catalog: HWS_ERR_INPUT naming it) or no memory; missing hardware is said in the report. */
hws_status hws_report_build(const hws_report_opts *o, hws_report **out, hws_error *err);
void hws_report_free(hws_report *r);

const char *hws_target_name(hws_target t); /* "GPUs", "GPUs + CPU", "CPU" */

/* Renderers. Text fits width columns; HTML is one self-contained page. */
void hws_report_print_text(const hws_report *r, FILE *out, int width);
/* Adds "measured" and "runs_here" of hwscope.report/1 to doc (which holds the inventory as
 * hwscope.info/1 has it). */
void hws_report_json_fill(cJSON *doc, const hws_report *r);
int hws_report_write_html(const hws_report *r, FILE *out); /* 0, or -1 when out failed */

/* Quick figures saved by an earlier report: a hwscope.bench/1 document whose fingerprint id is
 * fp_id and whose time is within max_age_s of now_s. HWS_ERR_UNSUPPORTED when stale or for other
 * hardware, HWS_ERR_INPUT when not such a document. Fills r's figures and bench_time_utc. */
hws_status hws_report_figures_parse(const char *text, size_t len, const char *fp_id, double now_s,
                                    double max_age_s, hws_report *r, hws_error *err);

#endif
