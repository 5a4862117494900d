/* bench_transformer.c - `hwscope bench transformer`: the guide's CPU-vs-GPU timing of
 * torch.nn.Transformer, reproduced with hwscope's own engine on the CPU and on the GPU in each
 * precision, beside the guide's figures. */
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/bench.h"
#include "hwscope/engine.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CMD      "bench transformer"
#define MAX_REPS 1000

/* The guide: torch.nn.Transformer() on input torch.rand(1, 512, 512), model(x, x). */
static const double guide_cpu_ms = 2300, guide_gpu_ms = 28, guide_speedup = 82;
static const char *guide_shape = "(1, 512, 512) sequence-first: S=1, N=512, E=512";

typedef struct {
    const char *device, *dtype, *shape, *weights, *cpu_gemm;
    long threads, reps, warmup, seed, lanes, cpu_tiles, spin;
    bool json, profile, fold;
} options;

/* The two paths a row can take: PyTorch's own operations, and the one-key fold (--fold). */
enum { GENERAL, FOLDED, NPATHS };
static const char *path_names[NPATHS] = {"general", "folded"};

typedef struct {
    const char *error; /* NULL: ran */
    hws_status status;
    double ms; /* median */
    double samples[MAX_REPS];
    int n;
} timing;

typedef struct {
    hws_tfm_dtype dt;
    bool wanted;
    timing t;
    hws_error err;
    int lanes; /* concurrent branches of the CUDA Graph */
    bool profiled;
    double prof_ms[4]; /* per step kind, see hws_tfm_gpu_profile */
    int prof_n[4];
} gpu_run;

static const char *step_names[4] = {"matmul", "matmul_batched", "attention", "add_layernorm"};

static double median(const double *x, int n) {
    double m, lo, hi;
    hws_bench_summary(x, n, &m, &lo, &hi);
    return m;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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
static int parse_dtypes(const char *s, gpu_run *runs) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int d = 0; d < 4; d++)
            if (strcmp(tok, "all") == 0 || strcmp(tok, hws_tfm_dtype_name(d)) == 0) {
                runs[d].wanted = true;
                found = 1;
            }
        if (!found)
            return hws_usage_error(CMD, "--dtype: '%s' is not fp32, tf32, fp16, bf16 or all", tok);
    }
    return 0;
}

static void time_cpu(const hws_tfm_weights *w, int S, int N, const options *o,
                     const hws_tfm_options *eo, const float *in, float *out, timing *t,
                     hws_error *err, int *threads_used) {
    hws_tfm_cpu *cpu;
    t->status = hws_tfm_cpu_new(w, S, N, (int)o->threads, eo, &cpu, err);
    if (t->status == HWS_OK)
        *threads_used = hws_tfm_cpu_threads(cpu);
    for (int i = 0; t->status == HWS_OK && i < o->warmup + o->reps; i++) {
        double t0 = now_ms();
        t->status = hws_tfm_cpu_forward(cpu, in, in, out, err);
        if (i >= o->warmup)
            t->samples[t->n++] = now_ms() - t0;
    }
    if (t->status == HWS_OK)
        t->ms = median(t->samples, t->n);
    else
        t->error = err->msg;
    hws_tfm_cpu_free(cpu);
}

static void time_gpu(const hws_tfm_weights *w, int S, int N, const options *o,
                     const hws_tfm_options *eo, const float *in, float *out, gpu_run *r,
                     char *device, size_t device_len) {
    hws_tfm_gpu *g = NULL;
    timing *t = &r->t;
    t->status = hws_tfm_gpu_new(w, S, N, r->dt, eo, &g, &r->err);
    if (t->status == HWS_OK)
        t->status = hws_tfm_gpu_forward(g, in, in, out, &r->err);
    if (t->status == HWS_OK)
        t->status = hws_tfm_gpu_time(g, (int)o->warmup, (int)o->reps, t->samples, &r->err);
    if (t->status == HWS_OK) {
        t->n = (int)o->reps;
        t->ms = median(t->samples, t->n);
        snprintf(device, device_len, "%s", hws_tfm_gpu_device(g));
        r->lanes = hws_tfm_gpu_lanes(g);
        hws_error perr;
        r->profiled = o->profile && hws_tfm_gpu_profile(g, r->prof_ms, r->prof_n, &perr) == HWS_OK;
    } else {
        t->error = r->err.msg;
    }
    hws_tfm_gpu_free(g);
}

/* flops: the operations this run performed (fewer than PyTorch's when folded). */
static void add_timing(cJSON *obj, const timing *t, double flops) {
    hws_json_num(obj, "flops_performed", flops);
    hws_json_num(obj, "ms", t->error ? HWS_NA : t->ms);
    hws_json_num(obj, "tflops", t->error ? HWS_NA : flops / (t->ms * 1e-3) / 1e12);
    cJSON *s = cJSON_AddArrayToObject(obj, "samples_ms");
    for (int i = 0; s && i < t->n; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber(t->samples[i]));
    hws_json_str(obj, "error", t->error);
}

typedef struct {
    int S, N, E, threads;
    double flops;             /* PyTorch's operations */
    double flops_run[NPATHS]; /* performed on each path */
    int npaths;               /* 1, or 2 with --fold */
    bool cpu_wanted, gpu_wanted;
    timing *cpu;  /* [NPATHS] */
    gpu_run *gpu; /* [NPATHS][4] */
    const char *device;
    const hws_tfm_config *cfg;
    char blas[256];
} result;

static int print_json(const result *r) {
    cJSON *doc = hws_json_doc("hwscope.bench.transformer/1");
    cJSON *shape = cJSON_AddObjectToObject(doc, "shape");
    hws_json_num(shape, "S", r->S);
    hws_json_num(shape, "N", r->N);
    hws_json_num(shape, "E", r->E);
    cJSON *model = cJSON_AddObjectToObject(doc, "model");
    hws_json_num(model, "d_model", r->cfg->d_model);
    hws_json_num(model, "nhead", r->cfg->nhead);
    hws_json_num(model, "num_encoder_layers", r->cfg->n_enc);
    hws_json_num(model, "num_decoder_layers", r->cfg->n_dec);
    hws_json_num(model, "dim_feedforward", r->cfg->d_ff);
    hws_json_num(doc, "flops", r->flops);
    cJSON_AddBoolToObject(doc, "fold", r->npaths > 1);
    for (int p = 0; p < r->npaths; p++) {
        const char *key = p == GENERAL ? "cpu" : "cpu_folded";
        if (!r->cpu_wanted) {
            cJSON_AddNullToObject(doc, key);
            continue;
        }
        cJSON *cpu = cJSON_AddObjectToObject(doc, key);
        hws_json_num(cpu, "threads", r->threads);
        hws_json_str(cpu, "blas", r->blas);
        add_timing(cpu, &r->cpu[p], r->flops_run[p]);
    }
    cJSON *gpu = cJSON_AddArrayToObject(doc, "gpu");
    double cpu_ms = r->cpu_wanted && !r->cpu[GENERAL].error ? r->cpu[GENERAL].ms : HWS_NA;
    for (int i = 0; r->gpu_wanted && i < r->npaths * 4; i++) {
        const gpu_run *g = &r->gpu[i];
        if (!g->wanted)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(gpu, e);
        hws_json_str(e, "dtype", hws_tfm_dtype_name(g->dt));
        hws_json_str(e, "path", path_names[i / 4]);
        hws_json_str(e, "device", r->device);
        add_timing(e, &g->t, r->flops_run[i / 4]);
        hws_json_num(e, "graph_lanes", g->t.error ? HWS_NA : g->lanes);
        hws_json_num(e, "speedup_vs_cpu", g->t.error ? HWS_NA : cpu_ms / g->t.ms);
        if (g->profiled) {
            cJSON *prof = cJSON_AddObjectToObject(e, "profile");
            for (int k = 0; k < 4; k++) {
                cJSON *step = cJSON_AddObjectToObject(prof, step_names[k]);
                hws_json_num(step, "count", g->prof_n[k]);
                hws_json_num(step, "ms", g->prof_ms[k]);
            }
        }
    }
    cJSON *guide = cJSON_AddObjectToObject(doc, "guide");
    hws_json_str(guide, "shape", guide_shape);
    hws_json_num(guide, "cpu_ms", guide_cpu_ms);
    hws_json_num(guide, "gpu_ms", guide_gpu_ms);
    hws_json_num(guide, "speedup", guide_speedup);
    int rc = hws_json_print(doc, stdout);
    cJSON_Delete(doc);
    return rc;
}

static void print_text(const result *r) {
    char title[160], a[32], b[32], c[32];
    snprintf(title, sizeof title, "nn.Transformer forward, S=%d N=%d E=%d (%.1f GFLOP)", r->S, r->N,
             r->E, r->flops / 1e9);
    hws_print_heading(stdout, title);
    hws_table *t = hws_table_new(
        5, (const char *[]){"device", "precision", "time", "TFLOP/s", "speed-up vs CPU"});
    double cpu_ms = r->cpu_wanted && !r->cpu[GENERAL].error ? r->cpu[GENERAL].ms : HWS_NA;
    for (int p = 0; r->cpu_wanted && p < r->npaths; p++) {
        char dev[48], prec[32];
        const timing *ct = &r->cpu[p];
        snprintf(dev, sizeof dev, "CPU, %d threads", r->threads);
        snprintf(prec, sizeof prec, "fp32%s", p == FOLDED ? ", folded" : "");
        if (ct->error)
            hws_table_rowf(t, "%s\t%s\tfailed\tn/a\tn/a", dev, prec);
        else
            hws_table_rowf(t, "%s\t%s\t%s\t%s\t%s", dev, prec, hws_fmt_num(a, 32, ct->ms, 2, "ms"),
                           hws_fmt_num(b, 32, r->flops_run[p] / ct->ms / 1e9, 3, NULL),
                           p == GENERAL ? "1.0x" : hws_fmt_num(c, 32, cpu_ms / ct->ms, 1, "x"));
    }
    for (int i = 0; r->gpu_wanted && i < r->npaths * 4; i++) {
        const gpu_run *g = &r->gpu[i];
        if (!g->wanted || g->t.error)
            continue;
        char prec[32];
        snprintf(prec, sizeof prec, "%s%s", hws_tfm_dtype_name(g->dt),
                 i / 4 == FOLDED ? ", folded" : "");
        double x = cpu_ms / g->t.ms;
        hws_table_rowf(t, "%s\t%s\t%s\t%s\t%s", r->device, prec,
                       hws_fmt_num(a, 32, g->t.ms, 3, "ms"),
                       hws_fmt_num(b, 32, r->flops_run[i / 4] / g->t.ms / 1e9, 1, NULL),
                       hws_known(x) ? hws_fmt_num(c, 32, x, 1, "x") : "n/a");
    }
    hws_table_rowf(t, "guide's CPU\tfp32\t%.0f ms\tn/a\t1.0x", guide_cpu_ms);
    hws_table_rowf(t, "guide's GPU\tfp32\t%.0f ms\tn/a\t%.0fx", guide_gpu_ms, guide_speedup);
    hws_table_print(t, stdout);
    hws_table_free(t);
    printf("The guide's code ran torch.nn.Transformer on torch.rand(1, 512, 512), which is "
           "sequence-first:\nS=1 (each attention sees one token), N=512. Median of the timed "
           "runs after warm-up;\nGPU times are CUDA-event times of one CUDA Graph replay.\n");
    printf(
        "Every row does PyTorch's work (the general path), its TFLOP/s over those operations.\n");
    if (r->npaths > 1)
        printf("Rows marked folded (--fold): with S=1 each attention's softmax weight is exactly "
               "1, so each\nattention block runs as its folded value-and-output map: the same "
               "function, fewer operations\n(%.1f GFLOP; their TFLOP/s counts those).\n",
               r->flops_run[FOLDED] / 1e9);
    for (int i = 0; r->gpu_wanted && i < r->npaths * 4; i++)
        if (r->gpu[i].wanted && !r->gpu[i].t.error && r->gpu[i].lanes > 1) {
            printf("The graph runs the batch in %d slices as concurrent branches (rows are "
                   "independent at S=1;\n--lanes 1 runs one chain).\n",
                   r->gpu[i].lanes);
            break;
        }
    if (r->cpu_wanted)
        printf("CPU matrix products: %s\n", r->blas);
    for (int i = 0; r->gpu_wanted && i < r->npaths * 4; i++)
        if (r->gpu[i].profiled) {
            printf("GPU %s%s, steps run one by one:", hws_tfm_dtype_name(r->gpu[i].dt),
                   i / 4 == FOLDED ? " folded" : "");
            for (int k = 0; k < 4; k++)
                printf(" %s %d x = %.3f ms;", step_names[k], r->gpu[i].prof_n[k],
                       r->gpu[i].prof_ms[k]);
            printf("\n");
        }
    for (int p = 0; r->cpu_wanted && p < r->npaths; p++)
        if (r->cpu[p].error)
            printf("CPU%s: %s\n", p == FOLDED ? " folded" : "", r->cpu[p].error);
    const char *said = NULL; /* "no CUDA GPU" once, not once per precision */
    for (int i = 0; r->gpu_wanted && i < r->npaths * 4; i++)
        if (r->gpu[i].wanted && r->gpu[i].t.error && !(said && !strcmp(said, r->gpu[i].t.error))) {
            printf("GPU %s: %s\n", hws_tfm_dtype_name(r->gpu[i].dt), r->gpu[i].t.error);
            said = r->gpu[i].t.error;
        }
}

static bool one_of(const char *s, const char *const *list) {
    for (; *list; list++)
        if (strcasecmp(s, *list) == 0)
            return true;
    return false;
}

/* OpenBLAS picks its kernels from the CPU model when it loads; a model it does not know (a VM's
 * "Intel(R) Xeon(R) Processor") can leave it on old SSE kernels several times slower. Then run
 * again with OPENBLAS_CORETYPE naming the kernels the CPU's instructions allow (AVX-512:
 * SkylakeX, AVX2: Haswell), unless the user set it. Returns only when nothing was done. */
static void blas_reexec(void) {
    static const char *const vector_cores[] = {
        "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator", NULL};
    const char *core = hws_tfm_cpu_blas_core();
    if (getenv("OPENBLAS_CORETYPE") || !core || one_of(core, vector_cores))
        return;
    __builtin_cpu_init();
    const char *want = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                       : __builtin_cpu_supports("avx2")  ? "Haswell"
                                                         : NULL;
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!want || !f) {
        if (f)
            fclose(f);
        return;
    }
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
            core, want);
    setenv("OPENBLAS_CORETYPE", want, 1);
    execv("/proc/self/exe", args);
    unsetenv("OPENBLAS_CORETYPE"); /* exec failed: go on as we are */
}

static const char usage[] = "[--device cpu|cuda|both] [--dtype fp32|tf32|fp16|bf16|all] "
                            "[--shape S,N,E] [--threads N] [--fold] [--json]";

int cmd_bench_transformer(int argc, char **argv) {
    options o = {"both", "all", "1,512,512", NULL, "pool", 0,     10,   3,
                 42,     1,     1,           -1,   false,  false, false};
    hws_opt opts[] = {
        {"device", HWS_OPT_STRING, &o.device, 0, 0, "cpu, cuda or both (default both)"},
        {"dtype", HWS_OPT_STRING, &o.dtype, 0, 0,
         "GPU precisions: fp32, tf32, fp16, bf16, a comma list, or all (default)"},
        {"shape", HWS_OPT_STRING, &o.shape, 0, 0,
         "S,N,E sequence-first input (default 1,512,512, the guide's call)"},
        {"threads", HWS_OPT_INT, &o.threads, 0, 4096, "CPU threads (default 0: all cores)"},
        {"reps", HWS_OPT_INT, &o.reps, 1, MAX_REPS, "timed runs (default 10)"},
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
    result r = {0};
    if (strcmp(o.device, "cpu") != 0 && strcmp(o.device, "cuda") != 0 &&
        strcmp(o.device, "both") != 0)
        return hws_usage_error(CMD, "--device: '%s' is not cpu, cuda or both", o.device);
    r.cpu_wanted = strcmp(o.device, "cuda") != 0;
    if (r.cpu_wanted)
        blas_reexec();
    r.gpu_wanted = strcmp(o.device, "cpu") != 0;
    if (strcmp(o.cpu_gemm, "pool") != 0 && strcmp(o.cpu_gemm, "blas") != 0)
        return hws_usage_error(CMD, "--cpu-gemm: '%s' is not pool or blas", o.cpu_gemm);
    hws_tfm_options eo[NPATHS];
    for (int p = 0; p < NPATHS; p++) {
        eo[p] = hws_tfm_options_default();
        eo[p].fold = p == FOLDED;
        eo[p].lanes = (int)o.lanes;
        eo[p].cpu_tiles = (int)o.cpu_tiles;
        eo[p].cpu_blas_threads = strcmp(o.cpu_gemm, "blas") == 0;
        eo[p].spin_rounds = o.spin < 0 ? 0 : o.spin == 0 ? -1 : (int)o.spin;
    }
    r.npaths = o.fold ? NPATHS : 1;
    gpu_run *gpu = calloc(NPATHS * 4, sizeof *gpu);
    timing *cpu = calloc(NPATHS, sizeof *cpu);
    if (!gpu || !cpu) {
        free(gpu);
        free(cpu);
        fprintf(stderr, "hwscope " CMD ": out of memory\n");
        return 1;
    }
    for (int i = 0; i < NPATHS * 4; i++)
        gpu[i].dt = (hws_tfm_dtype)(i % 4);
    rc = parse_dtypes(o.dtype, gpu);
    for (int d = 0; d < 4; d++)
        gpu[FOLDED * 4 + d].wanted = o.fold && gpu[d].wanted;
    if (rc == 0)
        rc = parse_shape(o.shape, &r.S, &r.N, &r.E);
    hws_tfm_config cfg = hws_tfm_config_default();
    cfg.d_model = r.E;
    hws_tfm_weights *w = NULL;
    hws_error err = {{0}};
    if (rc == 0) {
        hws_status st = o.weights ? hws_tfm_weights_load(o.weights, &cfg, &w, &err)
                                  : hws_tfm_weights_random(&cfg, (uint64_t)o.seed, &w, &err);
        if (st != HWS_OK) {
            fprintf(stderr, "hwscope " CMD ": %s\n", err.msg);
            rc = st == HWS_ERR_INPUT ? 2 : 1;
        } else if (cfg.d_model != r.E) {
            rc = hws_usage_error(CMD, "--shape: E=%d but %s has d_model %d", r.E, o.weights,
                                 cfg.d_model);
        }
    }
    size_t n = (size_t)r.S * r.N * r.E;
    float *in = rc == 0 ? malloc(n * sizeof *in) : NULL, *out = in ? malloc(n * sizeof *out) : 0;
    if (rc == 0 && (!in || !out)) {
        fprintf(stderr, "hwscope " CMD ": out of memory for the input\n");
        rc = 1;
    }
    char device[128] = "GPU";
    hws_error cpu_err[NPATHS] = {{{0}}};
    if (rc == 0) {
        hws_tfm_fill_uniform(in, n, (uint64_t)o.seed + 1);
        for (size_t i = 0; i < n; i++)
            in[i] = 0.5f * (in[i] + 1.0f); /* torch.rand: uniform [0, 1) */
        r.flops = hws_tfm_flops(&cfg, r.S, r.N);
        for (int p = 0; p < NPATHS; p++)
            r.flops_run[p] = hws_tfm_flops_run(&cfg, r.S, r.N, &eo[p]);
        r.cfg = &cfg;
        r.cpu = cpu;
        r.gpu = gpu;
        hws_tfm_cpu_blas(r.blas, sizeof r.blas);
        for (int p = 0; r.cpu_wanted && p < r.npaths; p++)
            time_cpu(w, r.S, r.N, &o, &eo[p], in, out, &cpu[p], &cpu_err[p], &r.threads);
        for (int i = 0; r.gpu_wanted && i < r.npaths * 4; i++)
            if (gpu[i].wanted)
                time_gpu(w, r.S, r.N, &o, &eo[i / 4], in, out, &gpu[i], device, sizeof device);
        r.device = device;
        rc = o.json ? (print_json(&r) == 0 ? 0 : 1) : (print_text(&r), 0);
        for (int p = 0; rc == 0 && r.cpu_wanted && p < r.npaths; p++)
            if (cpu[p].error)
                rc = 1;
        for (int i = 0; rc == 0 && r.gpu_wanted && i < r.npaths * 4; i++)
            if (gpu[i].wanted && gpu[i].t.error && gpu[i].t.status != HWS_ERR_UNSUPPORTED)
                rc = 1;
    }
    free(in);
    free(out);
    free(gpu);
    free(cpu);
    hws_tfm_weights_free(w);
    return rc;
}
