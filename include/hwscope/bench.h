/* bench.h - measured key metrics (memory bandwidth, matrix throughput, host<->device copies),
 * each beside the datasheet and the theoretical peak, with a verdict.
 *
 * Benchmarks are descriptors {key, description, filter, run} grouped in suites: "cpu", "mem",
 * "gemm", "pcie", "gpu", "p2p" (peer-to-peer matrix), "nccl" (NCCL collectives; the CLI sets
 * NCCL_NVLS_ENABLE=0 first) ("all" = every one). A benchmark whose filter fails is WAIVED with the
 * reason (no GPU, no FP8 before compute capability 8.9), never failed.
 *
 * Method: warm-up runs, then repeats each timed alone (CUDA events on the GPU, CLOCK_MONOTONIC
 * on the CPU); the figure is the median of the repeats; inputs are random, never zero; every
 * matrix product is checked against a plain reference on a sample of output elements.
 *
 * Example:
 *   hws_bench_options o = hws_bench_defaults();
 *   o.quick = true;
 *   hws_bench_result *r = NULL;
 *   const char *suites[] = {"cpu"};
 *   if (hws_bench_run(suites, 1, &o, &r, &err) == HWS_OK) { ...r->records[i]...; }
 *   hws_bench_result_free(r); */
#ifndef HWSCOPE_BENCH_H
#define HWSCOPE_BENCH_H

#include "hwscope/hwscope.h"
#include "hwscope/ceilings.h"
#include "hwscope/fields.h"
#include "hwscope/model.h"
#include "hwscope/probe.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_BENCH_MAX_SAMPLES 64

typedef enum {
    HWS_BENCH_OK,     /* measured */
    HWS_BENCH_WAIVED, /* not applicable here; reason says why */
    HWS_BENCH_FAILED  /* tried and failed, or the result was wrong; reason says why */
} hws_bench_state;

typedef enum {
    HWS_VERDICT_NONE,   /* nothing to compare with (no peak known), or a sweep point */
    HWS_VERDICT_NORMAL, /* at or above the fraction of the peak this benchmark reaches */
    HWS_VERDICT_LOW,    /* below it */
    HWS_VERDICT_SUSPECT /* far below it, above the peak, or a wrong result */
} hws_verdict;

/* GPU state over the time a benchmark ran, from the NVML sampler. NA when not sampled. */
typedef struct {
    int nsamples;
    double sm_clock_min_mhz, sm_clock_max_mhz;
    double power_max_w, temperature_max_c;
    double throttle_reasons; /* OR of the clock-event bitmasks seen, idle and app clocks masked */
    char throttle_text[128]; /* NVML's words for them; "" when none */
} hws_bench_gpu_state;

/* Repeats whose figures spread more than this (max - min over the median, %) are re-run, up to
 * HWS_BENCH_MAX_RUNS runs of the benchmark in all (none with quick, which promises a few
 * seconds); the narrowest run is kept, and a spread still that wide is flagged (unstable, and
 * said in cause). */
#define HWS_BENCH_SPREAD_LIMIT_PCT 10.0
#define HWS_BENCH_MAX_RUNS         3

typedef struct {
    char key[48];   /* "gpu.gemm.bf16.8192", "cpu.stream.triad" */
    char suite[16]; /* the suites it belongs to, "gpu gemm" */
    char description[128];
    char unit[12]; /* "GB/s", "TFLOP/s", "GFLOP/s", "TOP/s" */
    hws_bench_state state;
    char reason[HWS_ERROR_LEN]; /* why waived or failed */
    int device;                 /* GPU index; -1 for CPU benchmarks */
    double size;                /* matrix side or bytes per run */
    char method[160];           /* what is counted: "bytes read + written", algorithm chosen */
    int nsamples;
    double samples[HWS_BENCH_MAX_SAMPLES]; /* the figure of each repeat, in unit */
    double median, min, max;               /* in unit */
    double spread_pct;                     /* (max - min) / median * 100 */
    int runs;           /* times the benchmark ran: more than 1 when the repeats spread widely */
    int unstable;       /* 1: spread still above HWS_BENCH_SPREAD_LIMIT_PCT after the last run */
    double datasheet;   /* vendor figure in unit, NA when not known */
    double theoretical; /* from clocks and unit counts, NA when not known */
    char theoretical_basis[160];             /* how the theoretical figure was derived */
    double frac_datasheet, frac_theoretical; /* median / each, NA when not known */
    double check_err, check_tol; /* max error of the sampled check / tolerance; NA: no check */
    bool headline;               /* the figure a verdict is given for (largest size of a sweep) */
    hws_verdict verdict;
    char cause[256];           /* likely cause of a low or suspect figure, "" when none known */
    double t_start_s, t_end_s; /* seconds since the run began */
    hws_bench_gpu_state gpu;
} hws_bench_record;

/* One NVML reading taken during a GPU suite. */
typedef struct {
    double t_s; /* seconds since the run began */
    int device;
    double sm_clock_mhz, mem_clock_mhz, power_w, temperature_c, util_gpu_pct;
    double clock_event_reasons;
    char clock_event_text[128];
} hws_bench_sample;

/* Hardware and software the figures were measured on. */
typedef struct {
    char time_utc[32]; /* "2026-11-25T02:10:00Z" */
    char hostname[64];
    char cpu_model[128];
    double cpu_cores, cpu_threads, cpu_fp32_peak_gflops;
    char blas[128]; /* openblas_get_config(): "OpenBLAS 0.3.21 ..." */
    int ngpus;
    char gpu_name[4][96];
    char gpu_pci_bus_id[4][32];
    char bench_gpu_name[96]; /* the GPU the GPU suites ran on as NVML names it (else CUDA); "" */
    double gpu_sm_count[4], gpu_cc[4];
    char driver_version[32];
    char cuda_driver[16];  /* "13.0" from the driver */
    char cuda_runtime[16]; /* runtime the module was built with */
    char cublaslt[40];
    char hwscope_version[16];
    char build_commit[48];
} hws_bench_fingerprint;

/* The fields of a record, of its GPU state and of a sample (hwscope/fields.h). */
extern HWS_API const hws_field_table hws_bench_record_table;
extern HWS_API const hws_field_table hws_bench_gpu_state_table;
extern HWS_API const hws_field_table hws_bench_sample_table;
/* Fills fp from facts already probed (either may be NULL): the time now (UTC), the hostname,
 * CPU, BLAS, GPU names and bus ids, driver and CUDA versions, hwscope's version and commit. The
 * benchmarks add what only a run knows (the GPU measured, the CUDA runtime, cuBLASLt). */
HWS_API void hws_fingerprint_fill(hws_bench_fingerprint *fp, const hws_cpu_info *cpu,
                                  const hws_gpu_list *gpus);
/* The hardware's identity as 16 hex digits: a hash of the CPU model and thread count and of each
 * GPU's name and bus id (not the time, host name or software versions), so figures saved for
 * one machine are found again for the same hardware. */
HWS_API void hws_fingerprint_id(const hws_bench_fingerprint *fp, char out[17]);
/* `hwscope bench llm`: what to run, llama-bench style. Each list runs every value: one pp row
 * per prompt length, one tg row per (gen, depth) pair, each at every batch. */
#define HWS_LLM_LIST_MAX 16
typedef struct {
    const hws_model_spec *model; /* the planner's model (catalog, config.json or GGUF) */
    const char *model_path;      /* weights to load (a folder or .gguf); NULL: random */
    const char *shape_file;      /* the model's file or folder (RoPE details the spec lacks);
                                  * NULL: a catalog model */
    int device;                  /* HWS_LLM_CUDA or HWS_LLM_CPU (hws_llm_device) */
    int format;                  /* hws_llm_format */
    int threads;                 /* CPU: <= 0 every usable core */
    int reps;                    /* timed repetitions of each row (after one warm-up) */
    int prompts[HWS_LLM_LIST_MAX], nprompts; /* -p, tokens; 0 skips prefill */
    int gens[HWS_LLM_LIST_MAX], ngens;       /* -n, tokens; 0 skips decode */
    int depths[HWS_LLM_LIST_MAX], ndepths;   /* -d, tokens in the cache before decode */
    int batches[HWS_LLM_LIST_MAX], nbatches; /* -b, sequences decoded together */
    const char *ceilings_path;               /* for the bound and the prediction; NULL default */
} hws_llm_bench_opts;

/* One row of `hwscope bench llm` (llama-bench's pp512 / tg128): the speed of every repetition
 * and its mean, beside the bound, the fraction reached and the planner's prediction. */
typedef struct {
    char model[96];
    char format[8];        /* "bf16", "fp16", "int8", "int4" */
    char device[8];        /* "cuda", "cpu" */
    char device_name[128]; /* as the engine names it */
    char backend[128];
    char test[32]; /* "pp512", "tg128", "tg128@d512" */
    int n_prompt, n_gen, depth, batch;
    double params;       /* parameters of the model */
    double weight_bytes; /* as stored on the device */
    int nsamples;
    double samples[HWS_BENCH_MAX_SAMPLES]; /* tokens/s of each repetition */
    double tokens_per_s;                   /* mean of the samples */
    double stddev;                         /* of the samples, tokens/s */
    double ttft_ms;            /* pp rows: time to the first token (prefill + first decode step) */
    double peak_mem_bytes;     /* device memory the engine held */
    double avg_power_w;        /* GPU board power over the timed runs (NVML energy counter) */
    double tokens_per_joule;   /* tokens of the timed runs / energy they took */
    double bound_tokens_per_s; /* decode: bandwidth / (weights + KV read per step) x batch;
                                * prefill: matrix FLOP/s / FLOPs per token */
    char bound_basis[160];     /* which ceilings: measured (date) or datasheet, and the bytes */
    double frac_of_bound;      /* tokens_per_s / bound */
    double predicted_tokens_per_s; /* hwscope plan --runtime hwscope for this row */
    double prediction_error;       /* predicted / measured - 1 */
    char prediction_basis[160];
    double plan_bytes_per_step;       /* the planner's weights + KV read per decode step, bytes */
    double plan_flops_per_token;      /* the planner's prefill FLOPs per token */
    double plan_wave_flops_per_token; /* the same, products in whole waves of tiles over the SMs */
    double plan_layers;               /* the model's transformer blocks */
    char build_commit[48];
    char measured_at[32]; /* UTC, ISO 8601 */
} hws_llm_record;
/* The fields of an llm row (hwscope/fields.h): the first 15 are the markdown table's columns. */
extern HWS_API const hws_field_table hws_llm_record_table;

typedef struct {
    bool quick; /* a few seconds in all: small sizes, few repeats */
    int device; /* GPU index for the GPU suites */
    /* Called before each benchmark (may be NULL): index from 0, of total. */
    void (*progress)(void *arg, const char *key, int index, int total);
    void *progress_arg;
    const hws_llm_bench_opts *llm; /* the "llm" suite's options; NULL: the suite is waived */
} hws_bench_options;

typedef struct {
    hws_bench_fingerprint fingerprint;
    int nrecords;
    hws_bench_record *records;
    int nsamples;
    hws_bench_sample *samples;
    char gpu_note[HWS_ERROR_LEN]; /* why there are no GPU figures, "" when there are */
    int nllm;
    hws_llm_record *llm;   /* the "llm" suite's rows */
    hws_status llm_status; /* how the llm suite ended: HWS_ERR_INPUT for a model file or size
                            * the engine refused (bad input, not a runtime failure) */
} hws_bench_result;

HWS_API hws_bench_options hws_bench_defaults(void);
/* True when name is a suite ("cpu", "mem", "gemm", "pcie", "gpu", "p2p", "nccl", "engine",
 * "all", "llm"). "llm" runs only when named (not in "all"), with opt->llm set. */
HWS_API bool hws_bench_suite_known(const char *name);
/* Runs every benchmark of the named suites (nsuites 0 = all). Fails only when nothing could
 * be set up (out of memory, bad suite name: HWS_ERR_INPUT); a benchmark that fails is a record
 * in state FAILED. *out is set on success; free it with hws_bench_result_free. */
HWS_API hws_status hws_bench_run(const char *const *suites, int nsuites,
                                 const hws_bench_options *opt, hws_bench_result **out,
                                 hws_error *err);
HWS_API void hws_bench_result_free(hws_bench_result *r);

/* The llm rows of a result as the runs the planner keeps (hws_llm_measured_save): one per
 * model, format, batch and test, at most cap. Returns how many. */
HWS_API int hws_llm_records_measured(const hws_bench_result *r, hws_llm_measured *out, int cap);

/* The ceilings the run measured on its GPU (fingerprint.bench_gpu_name), for hws_ceilings_save:
 * gpu.d2d, the best size of each product's sweep, the best NCCL all-reduce bus bandwidth over
 * two GPUs or more, the CPU's STREAM triad; measured_at is the run's time; NA where not
 * measured. False when no GPU figure was
 * measured: ceilings are saved per GPU. */
HWS_API bool hws_bench_ceilings(const hws_bench_result *r, hws_ceilings *out);

HWS_API const char *hws_bench_state_name(hws_bench_state s); /* "ok", "waived", "failed" */
HWS_API const char *hws_verdict_name(hws_verdict v); /* "none", "normal", "low", "suspect" */

/* Median, min and max of the n samples x (sorts a copy); HWS_NA when n is 0 (or out of
 * memory). */
HWS_API void hws_bench_summary(const double *x, int n, double *median, double *min, double *max);
/* Median, min, max and spread of n samples into rec (sorts a copy). */
HWS_API void hws_bench_stats(hws_bench_record *rec);
/* Sets the fractions and the verdict of rec from its median, its peaks and the fraction
 * `expected` of the best known peak this benchmark normally reaches: normal at >= expected,
 * low from expected/2, suspect below that, above 1.1x the peak or with a failed check. */
HWS_API void hws_bench_judge(hws_bench_record *rec, double expected);

#ifdef __cplusplus
}
#endif

#endif
