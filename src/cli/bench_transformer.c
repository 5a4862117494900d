/* bench_transformer.c - `hwscope bench transformer`: parses the flags, runs the library's
 * transformer benchmark (hwscope/bench_transformer.h: hwscope's engine on the CPU and on the GPU
 * in each precision, the guide's torch.nn.Transformer call) and renders it through report/. */
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/bench_transformer.h"
#include "hwscope/engine.h"
#include "report/bench_transformer.h"
#include "report/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "bench transformer"

typedef struct {
    const char *device, *dtype, *shape, *weights, *cpu_gemm;
    long threads, reps, warmup, seed, lanes, cpu_tiles, spin, autotune;
    bool json, profile, fold, no_pdl;
} options;

static int parse_shape(const char *s, int *S, int *N, int *E) {
    long v[3];
    /* each size read whole and range-checked ("4294967297" is no S=1) */
    int ok = hws_parse_long_list(s, v, 3) && v[0] >= 1 && v[1] >= 1 && v[2] >= 8 && v[0] <= 65536 &&
             v[1] <= 65536 && v[2] <= 16384 && v[0] * v[1] <= (1L << 22);
    *S = ok ? (int)v[0] : 0;
    *N = ok ? (int)v[1] : 0;
    *E = ok ? (int)v[2] : 0;
    if (!ok)
        return hws_usage_error(CMD,
                               "--shape: '%s' is not S,N,E (sizes >= 1, E >= 8, S*N <= "
                               "4194304)",
                               s);
    if (*E % 8 != 0)
        return hws_usage_error(CMD, "--shape: E=%d is not a multiple of the 8 heads", *E);
    return 0;
}

/* Marks the dtypes of a comma-separated list ("all" = every one). */
static int parse_dtypes(const char *s, int *dtypes) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    for (int d = 0; d < 4; d++)
        dtypes[d] = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int d = 0; d < 4; d++)
            if (strcmp(tok, "all") == 0 || strcmp(tok, hws_tfm_dtype_name(d)) == 0) {
                dtypes[d] = 1;
                found = 1;
            }
        if (!found)
            return hws_usage_error(CMD, "--dtype: '%s' is not fp32, tf32, fp16, bf16 or all", tok);
    }
    return 0;
}

/* OpenBLAS picks its kernels from the CPU model when it loads; a model it does not know can leave
 * it on old SSE kernels several times slower. Then run again with OPENBLAS_CORETYPE naming the
 * kernels the CPU's instructions allow (hws_tfm_blas_core_advice), unless the user set it.
 * Returns only when nothing was done. */
static void blas_reexec(void) {
    const char *want = getenv("OPENBLAS_CORETYPE") ? NULL : hws_tfm_blas_core_advice();
    FILE *f = want ? fopen("/proc/self/cmdline", "rb") : NULL;
    if (!f)
        return;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *args[256];
    int argc = 0;
    for (size_t i = 0; i < n && argc < 255; i += strlen(buf + i) + 1)
        args[argc++] = buf + i;
    args[argc] = NULL;
    if (argc == 0 || n == sizeof buf - 1)
        return;
    fprintf(stderr,
            "hwscope " CMD ": OpenBLAS chose %s kernels for this CPU; running again with "
            "OPENBLAS_CORETYPE=%s\n",
            hws_tfm_cpu_blas_core(), want);
    setenv("OPENBLAS_CORETYPE", want, 1);
    execv("/proc/self/exe", args);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on as we are */
}

static const char usage[] = "[--device cpu|cuda|both] [--dtype fp32|tf32|fp16|bf16|all] "
                            "[--shape S,N,E] [--threads N] [--fold] [--json]";

int cmd_bench_transformer(int argc, char **argv) {
    options o = {.device = "both",
                 .dtype = "all",
                 .shape = "1,512,512",
                 .cpu_gemm = "pool",
                 .reps = 10,
                 .warmup = 3,
                 .seed = 42,
                 .lanes = 1,
                 .cpu_tiles = 1,
                 .spin = -1,
                 .autotune = 1};
    hws_opt opts[] = {
        {"device", HWS_OPT_STRING, &o.device, 0, 0, "cpu, cuda or both (default both)"},
        {"dtype", HWS_OPT_STRING, &o.dtype, 0, 0,
         "GPU precisions: fp32, tf32, fp16, bf16, a comma list, or all (default)"},
        {"shape", HWS_OPT_STRING, &o.shape, 0, 0,
         "S,N,E sequence-first input (default 1,512,512, the guide's call)"},
        {"threads", HWS_OPT_INT, &o.threads, 0, 4096, "CPU threads (default 0: all cores)"},
        {"reps", HWS_OPT_INT, &o.reps, 1, HWS_TFM_BENCH_MAX_REPS, "timed runs (default 10)"},
        {"warmup", HWS_OPT_INT, &o.warmup, 0, 1000, "untimed runs first (default 3)"},
        {"seed", HWS_OPT_INT, &o.seed, 0, 2147483647, "seed of weights and input (default 42)"},
        {"weights", HWS_OPT_STRING, &o.weights, 0, 0,
         "nn.Transformer state_dict as safetensors (default: seeded random)"},
        {"profile", HWS_OPT_FLAG, &o.profile, 0, 0,
         "also time each GPU step alone (CUDA events, no graph)"},
        {"fold", HWS_OPT_FLAG, &o.fold, 0, 0,
         "also time the one-key fold (S=1: attention blocks as folded maps), as rows of its own"},
        {"lanes", HWS_OPT_INT, &o.lanes, 1, 4,
         "GPU: concurrent graph branches at S=1, slices of the batch (default 1)"},
        {"no-pdl", HWS_OPT_FLAG, &o.no_pdl, 0, 0,
         "GPU: launch own kernels plainly, not as programmatic dependent launches"},
        {"autotune", HWS_OPT_INT, &o.autotune, 1, 32,
         "GPU: cuBLASLt candidates timed per product (default 1: cuBLASLt's first)"},
        {"cpu-tiles", HWS_OPT_INT, &o.cpu_tiles, 1, 8,
         "CPU: tiles per thread of each matrix product (default 1)"},
        {"cpu-gemm", HWS_OPT_STRING, &o.cpu_gemm, 0, 0,
         "CPU: pool (threads call OpenBLAS on tiles, default) or blas (OpenBLAS's own threads)"},
        {"spin", HWS_OPT_INT, &o.spin, 0, 10000000,
         "CPU: pause rounds workers spin between jobs before sleeping (default 20000)"},
        {"json", HWS_OPT_FLAG, &o.json, 0, 0, "print one JSON document"},
    };
    int npos = 0;
    int rc =
        hws_args_parse(CMD, usage, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (strcmp(o.device, "cpu") != 0 && strcmp(o.device, "cuda") != 0 &&
        strcmp(o.device, "both") != 0)
        return hws_usage_error(CMD, "--device: '%s' is not cpu, cuda or both", o.device);
    if (strcmp(o.cpu_gemm, "pool") != 0 && strcmp(o.cpu_gemm, "blas") != 0)
        return hws_usage_error(CMD, "--cpu-gemm: '%s' is not pool or blas", o.cpu_gemm);
    hws_tfm_bench_options bo = hws_tfm_bench_defaults();
    bo.cpu = strcmp(o.device, "cuda") != 0;
    bo.gpu = strcmp(o.device, "cpu") != 0;
    if (bo.cpu)
        blas_reexec();
    int S, N, E;
    rc = parse_dtypes(o.dtype, bo.dtypes);
    if (rc == 0)
        rc = parse_shape(o.shape, &S, &N, &E);
    if (rc != 0)
        return rc;
    bo.threads = (int)o.threads;
    bo.reps = (int)o.reps;
    bo.warmup = (int)o.warmup;
    bo.seed = (uint64_t)o.seed;
    bo.fold = o.fold;
    bo.profile = o.profile;
    bo.engine.lanes = (int)o.lanes;
    bo.engine.no_pdl = o.no_pdl;
    bo.engine.autotune = (int)o.autotune;
    bo.engine.cpu_tiles = (int)o.cpu_tiles;
    bo.engine.cpu_blas_threads = strcmp(o.cpu_gemm, "blas") == 0;
    bo.engine.spin_rounds = o.spin < 0 ? 0 : o.spin == 0 ? -1 : (int)o.spin;
    hws_tfm_config cfg = hws_tfm_config_default();
    cfg.d_model = E;
    hws_tfm_weights *w = NULL;
    hws_error err = {{0}};
    hws_status st = o.weights ? hws_tfm_weights_load(o.weights, &cfg, &w, &err)
                              : hws_tfm_weights_random(&cfg, (uint64_t)o.seed, &w, &err);
    if (st != HWS_OK) {
        fprintf(stderr, "hwscope " CMD ": %s\n", err.msg);
        return st == HWS_ERR_INPUT ? 2 : 1;
    }
    if (cfg.d_model != E) {
        hws_tfm_weights_free(w);
        return hws_usage_error(CMD, "--shape: E=%d but %s has d_model %d", E, o.weights,
                               cfg.d_model);
    }
    hws_tfm_bench_result *r = calloc(1, sizeof *r);
    st = r ? hws_tfm_bench_run(w, S, N, &bo, r, &err)
           : hws_error_set(&err, HWS_ERR_NOMEM, "out of memory");
    if (st != HWS_OK) {
        fprintf(stderr, "hwscope " CMD ": %s\n", err.msg);
        rc = st == HWS_ERR_INPUT ? 2 : 1;
    } else if (o.json) {
        rc = hws_json_emit(CMD, hws_tfm_bench_json(r));
    } else {
        hws_tfm_bench_print(stdout, r);
    }
    /* a run that failed for another reason than a missing GPU is a failure */
    for (int p = 0; rc == 0 && r != NULL && p < r->npaths; p++) {
        if (r->cpu[p].wanted && r->cpu[p].status != HWS_OK)
            rc = 1;
        for (int d = 0; d < 4; d++)
            if (r->gpu[p][d].wanted && r->gpu[p][d].status != HWS_OK &&
                r->gpu[p][d].status != HWS_ERR_UNSUPPORTED)
                rc = 1;
    }
    free(r);
    hws_tfm_weights_free(w);
    return rc;
}
