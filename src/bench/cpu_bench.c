/* cpu_bench.c - CPU benchmarks: STREAM memory bandwidth on all usable cores (pthreads), and FP32
 * and BF16 matrix products through OpenBLAS, each checked against a plain reference. */
#include "bench/bench_int.h"
#include "util/units.h"

#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define STREAM_KERNELS     4
#define STREAM_MAX_THREADS 1024
#define STREAM_SCALAR      3.0
#define CHECK_SAMPLES      64
#define MIB                (1024.0 * 1024.0)

static const char *const stream_names[STREAM_KERNELS] = {"copy", "scale", "add", "triad"};
static const int stream_words[STREAM_KERNELS] = {2, 2, 3, 3}; /* doubles moved per element */

/* A uniform value in [-1, 1) from an index and a seed (splitmix64 finaliser). */
static double hash_uniform(uint64_t i, uint64_t seed) {
    uint64_t z = i + seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int usable_cpus(const hws_bench_ctx *ctx) {
    if (ctx->have_cpu && hws_known(ctx->cpu.usable_cpus) && ctx->cpu.usable_cpus >= 1)
        return (int)ctx->cpu.usable_cpus;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Bytes of the last-level cache in the whole machine (all instances). */
static double llc_bytes(const hws_bench_ctx *ctx) {
    double best = 0;
    int level = 0;
    for (int i = 0; ctx->have_cpu && i < ctx->cpu.ncaches; i++) {
        const hws_cache_info *c = &ctx->cpu.caches[i];
        double inst = hws_known(c->instances) && c->instances > 0 ? c->instances : 1;
        if (c->level >= level && hws_known(c->size_bytes) && strcmp(c->type, "instruction") != 0) {
            best = c->level > level ? c->size_bytes * inst : best + c->size_bytes * inst;
            level = c->level;
        }
    }
    if (best <= 0) {
        long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
        best = l3 > 0 ? (double)l3 : 32.0 * 1024 * 1024;
    }
    return best;
}

/* Bytes per STREAM array: 4x the last-level cache (STREAM's rule), at least 64 MiB, at most
 * 2 GiB and an eighth of free memory; --quick caps it at 256 MiB to finish in seconds. */
static double stream_array_bytes(double llc, bool quick) {
    double bytes = fmax(4 * llc, 64 * MIB);
    double avail = (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    bytes = fmin(bytes, quick ? 256 * MIB : 2048 * MIB);
    if (avail > 0)
        bytes = fmin(bytes, fmax(avail / 8, 16 * MIB));
    return bytes;
}

typedef struct {
    double *a, *b, *c;
    size_t n;
    int nthreads, reps;
    pthread_barrier_t bar;
    pthread_mutex_t gate_lock; /* the start gate: threads wait until every one exists */
    pthread_cond_t gate;
    int go; /* 0 wait, 1 run, -1 give up (a thread could not start) */
    double seconds[STREAM_KERNELS][HWS_BENCH_MAX_SAMPLES + 2];
} stream_job;

typedef struct {
    stream_job *job;
    int id;
} stream_worker;

static void stream_kernel(stream_job *j, int k, size_t lo, size_t hi) {
    double *a = j->a, *b = j->b, *c = j->c;
    switch (k) {
    case 0:
        for (size_t i = lo; i < hi; i++)
            c[i] = a[i];
        break;
    case 1:
        for (size_t i = lo; i < hi; i++)
            b[i] = STREAM_SCALAR * c[i];
        break;
    case 2:
        for (size_t i = lo; i < hi; i++)
            c[i] = a[i] + b[i];
        break;
    default:
        for (size_t i = lo; i < hi; i++)
            a[i] = b[i] + STREAM_SCALAR * c[i];
    }
}

/* Each thread first-touches its own slice, then runs every kernel over it, one warm-up and
 * `reps` timed passes, between barriers; thread 0 keeps the time of each pass. */
static void *stream_thread(void *arg) {
    stream_worker *w = arg;
    stream_job *j = w->job;
    pthread_mutex_lock(&j->gate_lock);
    while (j->go == 0)
        pthread_cond_wait(&j->gate, &j->gate_lock);
    int go = j->go;
    pthread_mutex_unlock(&j->gate_lock);
    if (go < 0)
        return NULL;
    size_t lo = j->n * (size_t)w->id / (size_t)j->nthreads;
    size_t hi = j->n * (size_t)(w->id + 1) / (size_t)j->nthreads;
    for (size_t i = lo; i < hi; i++) {
        j->a[i] = hash_uniform(i, 1);
        j->b[i] = hash_uniform(i, 2);
        j->c[i] = hash_uniform(i, 3);
    }
    for (int k = 0; k < STREAM_KERNELS; k++) {
        for (int r = 0; r <= j->reps; r++) {
            pthread_barrier_wait(&j->bar);
            double t = wall_s();
            stream_kernel(j, k, lo, hi);
            pthread_barrier_wait(&j->bar);
            if (w->id == 0 && r > 0)
                j->seconds[k][r - 1] = wall_s() - t;
        }
    }
    return NULL;
}

/* STREAM's own check: after copy, scale, add, triad, a = s*a0 + s*(a0 + s*a0). */
static double stream_error(const stream_job *j) {
    double worst = 0;
    for (int s = 0; s < CHECK_SAMPLES; s++) {
        size_t i = (size_t)((hash_uniform((uint64_t)s, 5) + 1) * 0.5 * (double)j->n) % j->n;
        double a0 = hash_uniform(i, 1);
        double want = STREAM_SCALAR * a0 + STREAM_SCALAR * (a0 + STREAM_SCALAR * a0);
        double e = fabs(j->a[i] - want) / (fabs(want) + 1e-300);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

/* Starts nthreads - 1 workers behind a gate, opens it when all exist (or sends them home when
 * one could not start), works as thread 0, and joins them. */
static hws_status stream_threads(stream_job *j, hws_error *err) {
    pthread_t tid[STREAM_MAX_THREADS];
    stream_worker w[STREAM_MAX_THREADS];
    int started = 0;
    if (pthread_barrier_init(&j->bar, NULL, (unsigned)j->nthreads) != 0)
        return hws_error_set(err, HWS_ERR_RUNTIME, "pthread_barrier_init failed");
    pthread_mutex_init(&j->gate_lock, NULL);
    pthread_cond_init(&j->gate, NULL);
    j->go = 0;
    while (started < j->nthreads - 1) {
        w[started] = (stream_worker){j, started + 1};
        if (pthread_create(&tid[started], NULL, stream_thread, &w[started]) != 0)
            break;
        started++;
    }
    bool all = started == j->nthreads - 1;
    pthread_mutex_lock(&j->gate_lock);
    j->go = all ? 1 : -1;
    pthread_cond_broadcast(&j->gate);
    pthread_mutex_unlock(&j->gate_lock);
    if (all) {
        stream_worker self = {j, 0};
        stream_thread(&self);
    }
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&j->bar);
    pthread_cond_destroy(&j->gate);
    pthread_mutex_destroy(&j->gate_lock);
    if (!all)
        return hws_error_set(err, HWS_ERR_RUNTIME, "could start only %d of %d threads", started + 1,
                             j->nthreads);
    return HWS_OK;
}

static bool always(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t len) {
    (void)ctx, (void)d, (void)why, (void)len;
    return true;
}

/* Why STREAM has no peak, for the note column. A peak needs the DIMM speed and the channel
 * count: the probe reads the speed from SMBIOS (root only) and no channel count at all, so the
 * note says what is known. No sanity verdict: without the channel count (and with one core, a
 * stream reaches well under one channel) no bound on STREAM is honest in both directions. */
static void stream_no_peak(char *buf, size_t len) {
    hws_mem_info mem;
    hws_error err;
    const char *why = "not readable";
    memset(&mem, 0, sizeof mem);
    if (hws_probe_mem(&mem, &err) == HWS_OK && hws_known(mem.dimm_speed_mts) &&
        mem.dimm_speed_mts > 0) {
        snprintf(buf, len, "no peak: %s-%.0f is %.1f GB/s per channel, channel count unknown",
                 mem.dimm_type[0] ? mem.dimm_type : "DIMM", mem.dimm_speed_mts,
                 mem.dimm_speed_mts * 8 / 1e3);
        return;
    }
    for (int i = 0; i < mem.notes.count; i++)
        if (strncmp(mem.notes.text[i], "dimm_speed_mts: ", 16) == 0)
            why = mem.notes.text[i] + 16;
    snprintf(buf, len, "no peak: DIMM speed and channel count unknown (%s)", why);
}

static hws_status run_stream(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    stream_job *j = calloc(1, sizeof *j);
    hws_status st = HWS_OK;
    double llc = llc_bytes(ctx);
    double bytes = stream_array_bytes(llc, ctx->opt->quick); /* per array */
    if (j == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    j->n = (size_t)(bytes / sizeof(double));
    j->nthreads = usable_cpus(ctx);
    if (j->nthreads > STREAM_MAX_THREADS)
        j->nthreads = STREAM_MAX_THREADS;
    j->reps = ctx->opt->quick ? 3 : 10;
    j->a = malloc(j->n * sizeof(double));
    j->b = malloc(j->n * sizeof(double));
    j->c = malloc(j->n * sizeof(double));
    if (j->a == NULL || j->b == NULL || j->c == NULL) {
        st = hws_error_set(err, HWS_ERR_NOMEM, "cannot allocate 3 arrays of %.0f MiB", bytes / MIB);
        goto done;
    }
    double t_start = hws_bench_now(ctx);
    if ((st = stream_threads(j, err)) != HWS_OK)
        goto done;
    double check = stream_error(j);
    for (int k = 0; k < STREAM_KERNELS; k++) {
        hws_bench_record *rec = hws_bench_add(ctx, d, stream_names[k]);
        if (rec == NULL) {
            st = hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
            goto done;
        }
        double moved = (double)stream_words[k] * sizeof(double) * (double)j->n;
        snprintf(rec->unit, sizeof rec->unit, "GB/s");
        snprintf(rec->method, sizeof rec->method,
                 "STREAM %s, %d threads, 3 arrays of %.0f MiB (LLC %.0f MiB%s), %d doubles "
                 "counted per element, median of %d",
                 stream_names[k], j->nthreads, bytes / MIB, llc / MIB,
                 bytes < 4 * llc ? ", arrays under 4x LLC: may read cache" : "", stream_words[k],
                 j->reps);
        rec->size = bytes;
        rec->t_start_s = t_start;
        rec->t_end_s = hws_bench_now(ctx);
        hws_bench_from_times(rec, j->seconds[k], j->reps, moved, 1e9);
        hws_bench_check(rec, check, 1e-12);
        rec->headline = true;
        hws_bench_judge(rec, 0.5);
        if (!hws_known(rec->theoretical) && !hws_known(rec->datasheet))
            stream_no_peak(rec->cause, sizeof rec->cause);
    }
done:
    free(j->a);
    free(j->b);
    free(j->c);
    free(j);
    return st;
}

/* OpenBLAS packed BF16 product, looked up at run time: Debian's build may not have it. */
typedef void (*sbgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint,
                          blasint, blasint, float, const uint16_t *, blasint, const uint16_t *,
                          blasint, float, float *, blasint);

static sbgemm_fn find_sbgemm(void) {
    sbgemm_fn f;
    void *p = dlsym(RTLD_DEFAULT, "cblas_sbgemm");
    memcpy(&f, &p, sizeof f);
    return f;
}

static bool have_sbgemm(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t len) {
    (void)ctx, (void)d;
    if (find_sbgemm() != NULL)
        return true;
    snprintf(why, len, "cblas_sbgemm is not in this OpenBLAS (%s; built without BUILD_BFLOAT16)",
             openblas_get_config());
    return false;
}

static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static double from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* max |c - ref| / rms(ref) over sampled elements of row-major C = A B (A n x n, B n x n). */
static double gemm_error(const float *a32, const uint16_t *a16, const float *b32,
                         const uint16_t *b16, const float *c, int n) {
    double ref[CHECK_SAMPLES], got[CHECK_SAMPLES], sq = 0, worst = 0;
    for (int s = 0; s < CHECK_SAMPLES; s++) {
        int i = (int)((hash_uniform((uint64_t)s, 7) + 1) * 0.5 * n) % n;
        int k = (int)((hash_uniform((uint64_t)s, 8) + 1) * 0.5 * n) % n;
        double sum = 0;
        for (int p = 0; p < n; p++) {
            double x = a16 ? from_bf16(a16[(size_t)i * n + p]) : a32[(size_t)i * n + p];
            double y = b16 ? from_bf16(b16[(size_t)p * n + k]) : b32[(size_t)p * n + k];
            sum += x * y;
        }
        ref[s] = sum;
        got[s] = c[(size_t)i * n + k];
        sq += sum * sum;
    }
    double rms = sqrt(sq / CHECK_SAMPLES);
    for (int s = 0; s < CHECK_SAMPLES; s++) {
        double e = fabs(got[s] - ref[s]) / (rms > 0 ? rms : 1);
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

/* Peak of the precision: FP32 from probe; BF16 doubles it with AVX512_BF16 (two products per
 * FP32 lane), is 16x with AMX-BF16 (1024 FLOP per cycle per core against 64). */
static void cpu_peak(const hws_bench_ctx *ctx, bool bf16, hws_bench_record *rec) {
    if (!ctx->have_cpu || !hws_known(ctx->cpu.fp32_peak_gflops))
        return;
    rec->theoretical = ctx->cpu.fp32_peak_gflops;
    const char *how = "cores x max clock x FP32 lanes x 2 x FMA units (probe)";
    if (bf16 && ctx->cpu.has_amx_bf16 == 1) {
        rec->theoretical *= 16;
        how = "FP32 peak x 16 (AMX-BF16 tiles)";
    } else if (bf16 && ctx->cpu.has_avx512_bf16 == 1) {
        rec->theoretical *= 2;
        how = "FP32 peak x 2 (AVX512_BF16 dot products)";
    } else if (bf16) {
        how = "FP32 peak (no BF16 instructions: converted to FP32)";
    }
    snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis, "%s", how);
}

/* The OpenBLAS kernel family in use when it is older than the CPU's vector units (its
 * DYNAMIC_ARCH did not recognise the CPU, common in VMs), else NULL. */
static const char *blas_kernels_behind(const hws_bench_ctx *ctx) {
    static const char *const wide[] = {"skylakex", "cooperlake", "sapphirerapids", "zen"};
    static const char *const no_fma[] = {"prescott", "core2", "penryn",    "dunnington",
                                         "nehalem",  "atom",  "barcelona", "sandybridge"};
    const char *core = openblas_get_corename();
    if (core == NULL || !ctx->have_cpu)
        return NULL;
    bool is_wide = false, is_old = false;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        is_wide |= strcasecmp(core, wide[i]) == 0;
    for (size_t i = 0; i < sizeof no_fma / sizeof no_fma[0]; i++)
        is_old |= strcasecmp(core, no_fma[i]) == 0;
    if ((ctx->cpu.has_avx512f == 1 && !is_wide) || (ctx->cpu.has_fma == 1 && is_old))
        return core;
    return NULL;
}

/* Likely causes of a low CPU figure: BLAS kernels older than the CPU, other load on the
 * machine, a quick run's small size. */
static void cpu_cause(const hws_bench_ctx *ctx, hws_bench_record *rec, int cpus) {
    double load = 0;
    const char *core = blas_kernels_behind(ctx);
    size_t len;
    if (rec->verdict != HWS_VERDICT_LOW && rec->verdict != HWS_VERDICT_SUSPECT)
        return;
    if (core != NULL)
        snprintf(rec->cause, sizeof rec->cause,
                 "OpenBLAS runs its %s kernels, narrower than this CPU's vector units (try "
                 "OPENBLAS_CORETYPE=%s)",
                 core, ctx->cpu.has_avx512f == 1 ? "SkylakeX" : "Haswell");
    len = strlen(rec->cause);
    if (getloadavg(&load, 1) == 1 && load > 0.5 * cpus)
        snprintf(rec->cause + len, sizeof rec->cause - len,
                 "%sCPU busy: load average %.1f on "
                 "%d CPUs",
                 len ? "; " : "", load, cpus);
    else if (ctx->opt->quick)
        snprintf(rec->cause + len, sizeof rec->cause - len,
                 "%s--quick: %.0f^3 is too small to reach the peak", len ? "; " : "", rec->size);
}

static hws_status run_cpu_gemm(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    bool bf16 = d->param == 1;
    int n = ctx->opt->quick ? 512 : 2048, reps = ctx->opt->quick ? 3 : 7;
    size_t nn = (size_t)n * n;
    hws_status st = HWS_OK;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    uint16_t *a16 = bf16 ? malloc(nn * 2) : NULL, *b16 = bf16 ? malloc(nn * 2) : NULL;
    sbgemm_fn sbgemm = bf16 ? find_sbgemm() : NULL;
    double secs[HWS_BENCH_MAX_SAMPLES];
    hws_bench_record *rec;
    if (!a || !b || !c || (bf16 && (!a16 || !b16 || !sbgemm))) {
        st = hws_error_set(err, HWS_ERR_NOMEM, "out of memory for %d x %d matrices", n, n);
        goto done;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)hash_uniform(i, 21);
        b[i] = (float)hash_uniform(i, 22);
        if (bf16) {
            a16[i] = to_bf16(a[i]);
            b16[i] = to_bf16(b[i]);
        }
    }
    if ((rec = hws_bench_add(ctx, d, NULL)) == NULL) {
        st = hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int r = -1; r < reps; r++) { /* r = -1 is the warm-up */
        double t = wall_s();
        if (bf16)
            sbgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a16, n, b16, n, 0, c, n);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        if (r >= 0)
            secs[r] = wall_s() - t;
    }
    snprintf(rec->unit, sizeof rec->unit, "GFLOP/s");
    snprintf(rec->method, sizeof rec->method,
             "%s %d x %d x %d, %d OpenBLAS threads, 2n^3 FLOP, median of %d",
             bf16 ? "cblas_sbgemm" : "cblas_sgemm", n, n, n, openblas_get_num_threads(), reps);
    rec->size = n;
    rec->t_end_s = hws_bench_now(ctx);
    hws_bench_from_times(rec, secs, reps, 2.0 * n * n * (double)n, 1e9);
    hws_bench_check(rec, gemm_error(a, a16, b, b16, c, n), bf16 ? 1e-3 : 1e-4);
    cpu_peak(ctx, bf16, rec);
    rec->headline = true;
    hws_bench_judge(rec, bf16 ? 0.3 : 0.5);
    cpu_cause(ctx, rec, usable_cpus(ctx));
done:
    free(a);
    free(b);
    free(c);
    free(a16);
    free(b16);
    return st;
}

const hws_bench_desc hws_cpu_benches[] = {
    {"cpu.stream", "cpu mem", "CPU memory bandwidth, STREAM on all usable cores", 0, always,
     run_stream},
    {"cpu.gemm.fp32", "cpu gemm", "CPU FP32 matrix product (OpenBLAS sgemm)", 0, always,
     run_cpu_gemm},
    {"cpu.gemm.bf16", "cpu gemm", "CPU BF16 matrix product (OpenBLAS sbgemm), FP32 out", 1,
     have_sbgemm, run_cpu_gemm},
};
const size_t hws_cpu_nbenches = sizeof hws_cpu_benches / sizeof hws_cpu_benches[0];
