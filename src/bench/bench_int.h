/* bench_int.h - inside the benchmark runner: the descriptor every benchmark is, and the context
 * the runner hands to each (CPU facts, the GPU module, the NVML sampler). */
#ifndef HWSCOPE_BENCH_INT_H
#define HWSCOPE_BENCH_INT_H

#include "bench/gpu_bench.h"
#include "bench/gpu_multi.h"
#include "hwscope/bench.h"
#include "hwscope/catalog.h"
#include "hwscope/probe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct hws_bench_ctx hws_bench_ctx;
typedef struct hws_bench_desc hws_bench_desc;

/* A benchmark, nvbandwidth-style. filter returns true when the benchmark applies here, else
 * false with the waive reason in why. run adds one record or more (a sweep) with
 * hws_bench_add; an error it returns fails the records it added (or one new record). */
struct hws_bench_desc {
    const char *key;   /* "cpu.stream", "gpu.gemm.bf16" */
    const char *suite; /* the suites it belongs to, "gpu gemm" */
    const char *description;
    int param; /* copy kind, precision: what run needs to tell siblings apart */
    bool (*filter)(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t why_len);
    hws_status (*run)(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err);
};

struct hws_bench_ctx {
    const hws_bench_options *opt;
    hws_bench_result *res;
    double t0; /* CLOCK_MONOTONIC seconds at the start */
    hws_cpu_info cpu;
    bool have_cpu;
    /* GPU side, set up by hws_gpu_ctx_open when a GPU benchmark is first asked for */
    bool gpu_opened;
    const hws_gpu_bench_table *gpu; /* NULL: no GPU, gpu_why says why */
    int gpu_count;                  /* GPUs the CUDA runtime sees; 0 when none or unknown */
    char gpu_why[HWS_ERROR_LEN];
    hws_gpu_dev_props props;
    hws_gpu_list *gpus;       /* probe facts; count 0 when unreadable */
    const hws_gpu_info *info; /* the benchmarked GPU in gpus, NULL when not found */
    const hws_gpu_spec *spec; /* its catalog row, NULL when none */
    /* NVML sampler thread */
    pthread_t sampler;
    bool sampling;
    atomic_int stop;      /* set by the runner, read by the sampler */
    pthread_mutex_t lock; /* guards res->samples and res->nsamples while the sampler runs */
};

extern const hws_bench_desc hws_cpu_benches[];
extern const size_t hws_cpu_nbenches;
extern const hws_bench_desc hws_gpu_benches[];
extern const size_t hws_gpu_nbenches;
extern const hws_bench_desc hws_multi_benches[]; /* multi_suite.c: p2p, nccl */
extern const size_t hws_multi_nbenches;

/* Seconds since the run began. */
double hws_bench_now(const hws_bench_ctx *ctx);
/* A new record for d (key = d->key, or d->key.suffix), state OK, numbers NA, t_start now. NULL
 * when out of memory. The pointer is valid until the next hws_bench_add. */
hws_bench_record *hws_bench_add(hws_bench_ctx *ctx, const hws_bench_desc *d, const char *suffix);
/* Fills rec->samples from per-run times: figure = work / seconds / scale (e.g. bytes, 1e9). */
void hws_bench_from_times(hws_bench_record *rec, const double *seconds, int n, double work,
                          double scale);
/* Runs (or waives) one descriptor as hws_bench_run does, the re-runs of a wide spread
 * included; for tests that drive a descriptor of their own. */
void hws_bench_run_one(hws_bench_ctx *ctx, const hws_bench_desc *d);
/* Marks rec failed when the sampled check's error is above tolerance. */
void hws_bench_check(hws_bench_record *rec, double err, double tol);

/* For tests: run the GPU benchmarks on `table` (a fake) instead of the CUDA module; NULL goes
 * back to the module. Not thread-safe: set it before hws_bench_run. */
void hws_bench_use_gpu_table(const hws_gpu_bench_table *table);
/* Reads the GPUs' facts (NVML), before any CUDA context of this process exists. */
void hws_gpu_ctx_probe(hws_bench_ctx *ctx);
/* Opens the GPU side once: module, device facts, probe, catalog row, sampler. */
void hws_gpu_ctx_open(hws_bench_ctx *ctx);
/* Stops the sampler and frees what hws_gpu_ctx_open took; fills each GPU record's state. */
void hws_gpu_ctx_close(hws_bench_ctx *ctx);
/* Link rate of one direction, GB/s, of a PCIe generation and width, after line encoding; NA
 * when either is unknown. */
double hws_pcie_link_gbps(double gen, double width);
/* For tests: run the multi-GPU benchmarks on `table` (a fake) instead of the CUDA module's, and
 * NCCL through `nccl` (NULL: the real one); NULL table goes back to the module. */
void hws_bench_use_multi_table(const hws_gpu_multi_table *table, const hws_nccl *nccl);

/* Adds to the fingerprint what only the open GPU knows: the GPU measured, CUDA runtime and
 * cuBLASLt versions (the probed facts come from hws_fingerprint_fill). */
void hws_gpu_fingerprint(hws_bench_ctx *ctx, hws_bench_fingerprint *fp);

#endif
