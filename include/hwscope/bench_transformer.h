/* bench_transformer.h - the guide's CPU-vs-GPU timing of torch.nn.Transformer, run on hwscope's
 * own engine (engine.h): the CPU in FP32 and the GPU in each precision asked for, each on the
 * general path (PyTorch's operations) and, when asked, on the one-key fold as rows of its own.
 * Warm-up runs, then timed runs; the figure is the median (CLOCK_MONOTONIC on the CPU, CUDA
 * events of one CUDA Graph replay on the GPU). Rendered by `hwscope bench transformer`.
 *
 * Example:
 *   hws_tfm_bench_options o = hws_tfm_bench_defaults();
 *   hws_tfm_bench_result *r = calloc(1, sizeof *r);
 *   hws_tfm_bench_run(w, 1, 512, &o, r, &err);   w from hws_tfm_weights_random or _load */
#ifndef HWSCOPE_BENCH_TRANSFORMER_H
#define HWSCOPE_BENCH_TRANSFORMER_H

#include "hwscope/engine.h"
#include "hwscope/hwscope.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_TFM_BENCH_MAX_REPS 1000

/* The paths a forward can take: PyTorch's own operations, and the one-key fold. */
typedef enum { HWS_TFM_PATH_GENERAL, HWS_TFM_PATH_FOLDED, HWS_TFM_PATHS } hws_tfm_path;

/* The four step kinds hws_tfm_gpu_profile times: "matmul", "matmul_batched", "attention",
 * "add_layernorm". */
HWS_API const char *hws_tfm_step_name(int k);
HWS_API const char *hws_tfm_path_name(hws_tfm_path p); /* "general", "folded" */

typedef struct {
    int wanted;                /* asked for */
    hws_status status;         /* HWS_OK: ran */
    char error[HWS_ERROR_LEN]; /* why it did not run; "" when it ran */
    double ms;                 /* median of the timed runs */
    int n;
    double samples_ms[HWS_TFM_BENCH_MAX_REPS];
    double flops; /* operations performed (fewer than PyTorch's on the folded path) */
    int lanes;    /* GPU: concurrent branches of the CUDA Graph */
    int profiled; /* GPU: prof_ms/prof_n hold each step kind run alone */
    double prof_ms[4];
    int prof_n[4];
} hws_tfm_bench_timing;

typedef struct {
    int threads;            /* CPU threads (<= 0: all cores) */
    int reps, warmup;       /* timed and untimed runs */
    uint64_t seed;          /* of the input (the weights are the caller's) */
    int cpu, gpu;           /* which devices run */
    int dtypes[4];          /* GPU precisions to run, by hws_tfm_dtype */
    int fold;               /* also the folded path, as rows of its own */
    int profile;            /* GPU: also time each step alone */
    hws_tfm_options engine; /* lanes, CPU tiles, ... (fold is set per path) */
} hws_tfm_bench_options;

typedef struct {
    hws_tfm_config cfg; /* the model timed */
    int S, N, E;
    double flops; /* PyTorch's operations for one forward */
    int npaths;   /* 1, or 2 with fold */
    int threads;  /* CPU threads used */
    char blas[256];
    char device[128]; /* the GPU's name */
    hws_tfm_bench_timing cpu[HWS_TFM_PATHS];
    hws_tfm_bench_timing gpu[HWS_TFM_PATHS][4]; /* by path, then hws_tfm_dtype */
} hws_tfm_bench_result;

/* Every precision, the general path, 10 timed runs after 3, all cores, seed 42. */
HWS_API hws_tfm_bench_options hws_tfm_bench_defaults(void);
/* Times the forward of w on an (S, N, E) input of seeded torch.rand values. A device or
 * precision that cannot run has its status and error in its timing, never a failed call;
 * HWS_ERR_INPUT for a bad shape or reps, HWS_ERR_NOMEM. */
HWS_API hws_status hws_tfm_bench_run(const hws_tfm_weights *w, int S, int N,
                                     const hws_tfm_bench_options *o, hws_tfm_bench_result *out,
                                     hws_error *err);
/* The OpenBLAS kernel family this CPU should run when OpenBLAS picked slow ones for a model it
 * does not know (a VM's "Intel(R) Xeon(R) Processor"): "SkylakeX" (AVX-512) or "Haswell"
 * (AVX2); NULL when its choice is fine. OpenBLAS reads OPENBLAS_CORETYPE when it loads, so
 * acting on this is the program's (the CLI runs itself again with it set). */
HWS_API const char *hws_tfm_blas_core_advice(void);

#ifdef __cplusplus
}
#endif

#endif
