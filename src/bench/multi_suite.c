/* multi_suite.c - the multi-GPU benchmarks as descriptors: the peer-to-peer matrix (each
 * direction, both at once, and latency, with the reason a pair has no P2P or no NVLink) and the
 * NCCL collectives (all-reduce, all-gather, reduce-scatter, broadcast, all-to-all) over a size
 * sweep with nccl-tests' algorithm and bus bandwidth. Both run over every GPU the CUDA runtime
 * sees; with one GPU the P2P matrix is waived and NCCL runs its 1-rank collectives. */
#include "bench/bench_int.h"
#include "gpu/cuda_module.h"
#include "hwscope/topology.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

static const hws_gpu_multi_table *multi_override;
static const hws_nccl *nccl_override;

void hws_bench_use_multi_table(const hws_gpu_multi_table *table, const hws_nccl *nccl) {
    multi_override = table;
    nccl_override = nccl;
}

/* The module's multi-GPU table, or NULL with the reason in why. */
static const hws_gpu_multi_table *multi_table(char *why, size_t len) {
    hws_error err = {""};
    hws_gpu_multi_api_fn get = NULL;
    if (multi_override != NULL)
        return multi_override;
    void *sym = hws_cuda_module_sym("hws_gpu_multi_api", &err);
    memcpy(&get, &sym, sizeof get);
    const hws_gpu_multi_table *t = get != NULL ? get() : NULL;
    if (t != NULL && t->abi == HWS_GPU_MULTI_ABI)
        return t;
    snprintf(why, len, "%s", get == NULL ? err.msg : "CUDA module of another version (ABI)");
    return NULL;
}

/* The GPU side is there (module, a GPU) and so is the multi-GPU table. */
static bool have_gpus(hws_bench_ctx *ctx, char *why, size_t len) {
    hws_gpu_ctx_open(ctx);
    if (ctx->gpu == NULL) {
        snprintf(why, len, "%s", ctx->gpu_why);
        return false;
    }
    return multi_table(why, len) != NULL;
}

static bool p2p_filter(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t len) {
    (void)d;
    if (!have_gpus(ctx, why, len))
        return false;
    if (ctx->gpu_count >= 2)
        return true;
    snprintf(why, len,
             "one GPU: peer-to-peer copies need two (the CUDA runtime sees %d; "
             "CUDA_VISIBLE_DEVICES may hide others)",
             ctx->gpu_count);
    return false;
}

static bool nccl_filter(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t len) {
    hws_error err = {""};
    (void)d;
    if (!have_gpus(ctx, why, len))
        return false;
    if (nccl_override != NULL || hws_nccl_get(&err) != NULL)
        return true;
    snprintf(why, len, "%s (HWSCOPE_NCCL_LIB names the library to open)", err.msg);
    return false;
}

/* ---- peer to peer ---- */

/* One direction of one NVLink, GB/s, by NVML's nvmlNvlinkVersion_t: 1.0 20; 2.x, 3.x, 4.0 25
 * (V100 6, A100 12, H100 18 links); 5.0 50 (B200 18 links: 900 GB/s each way). */
static double nvlink_gbps(double version) {
    if (!hws_known(version) || version < 1)
        return HWS_NA;
    return version < 2 ? 20 : version < 7 ? 25 : 50;
}

typedef struct {
    const hws_gpu_multi_table *t;
    hws_topology *topo;
    int topo_of[HWS_MAX_GPUS];                 /* CUDA ordinal -> topology (NVML) index, -1 */
    const hws_gpu_info *info_of[HWS_MAX_GPUS]; /* CUDA ordinal -> probe facts, NULL */
    int n;
    double bytes;
    int warmup, reps;
} p2p_run;

/* Joins CUDA's ordinals to NVML's facts on the PCI bus id. */
static void p2p_join(hws_bench_ctx *ctx, p2p_run *pr) {
    hws_error err;
    for (int i = 0; i < pr->n; i++) {
        hws_gpu_dev_props p;
        pr->topo_of[i] = -1;
        pr->info_of[i] = NULL;
        if (ctx->gpu->props(i, &p, &err) != HWS_OK)
            continue;
        for (int k = 0; pr->topo != NULL && k < pr->topo->count; k++)
            if (strcmp(pr->topo->gpus[k].pci_bus_id, p.pci_bus_id) == 0)
                pr->topo_of[i] = k;
        for (int k = 0; ctx->gpus != NULL && k < ctx->gpus->count; k++)
            if (strcmp(ctx->gpus->gpus[k].pci_bus_id, p.pci_bus_id) == 0)
                pr->info_of[i] = &ctx->gpus->gpus[k];
    }
}

/* What joins GPUs a and b: the peak of one direction and its basis into the record, and into
 * why the reason a copy is slower than it could be (no P2P, no NVLink, across sockets). */
static void p2p_explain(const p2p_run *pr, int a, int b, int can, hws_bench_record *rec, char *why,
                        size_t why_len) {
    int ta = pr->topo_of[a], tb = pr->topo_of[b];
    const hws_topo_pair *tp = ta >= 0 && tb >= 0 ? &pr->topo->pairs[ta][tb] : NULL;
    const hws_gpu_info *ia = pr->info_of[a], *ib = pr->info_of[b];
    const char *path = tp != NULL ? hws_pcie_path_name(tp->path) : "n/a";
    if (!can) {
        const char *nvml = tp != NULL ? hws_p2p_status_text(tp->p2p_read) : "";
        snprintf(why, why_len,
                 "no P2P between GPU %d and GPU %d (cudaDeviceCanAccessPeer = 0%s%s): traffic "
                 "goes through host memory, PCIe path %s",
                 a, b, nvml[0] ? "; NVML: " : "", nvml, path);
        return; /* no peak for a copy staged by the driver */
    }
    if (tp != NULL && tp->nvlinks > 0) {
        double version = pr->topo->gpus[ta].nvlink_version;
        rec->theoretical = tp->nvlinks * nvlink_gbps(version);
        snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis,
                 "%d NVLink %s links%s x %.0f GB/s per direction", tp->nvlinks,
                 pr->topo->gpus[ta].nvlink_gen, tp->via_switch == 1 ? " through NVSwitch" : "",
                 nvlink_gbps(version));
        return;
    }
    if (ia != NULL && ib != NULL) {
        double ga = hws_pcie_link_gbps(ia->pcie_gen_cur, ia->pcie_width_cur);
        double gb = hws_pcie_link_gbps(ib->pcie_gen_cur, ib->pcie_width_cur);
        rec->theoretical = hws_known(ga) && hws_known(gb) ? (ga < gb ? ga : gb) : HWS_NA;
        snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis,
                 "PCIe gen %.0f x%.0f and gen %.0f x%.0f, the slower, one direction",
                 ia->pcie_gen_cur, ia->pcie_width_cur, ib->pcie_gen_cur, ib->pcie_width_cur);
    }
    snprintf(why, why_len, "no NVLink between GPU %d and GPU %d: P2P over PCIe%s%s", a, b,
             tp != NULL && tp->path == HWS_PATH_SYS ? ", across the socket interconnect " : " ",
             path);
}

/* Times one copy kind between a and b into a new record; NULL with err set when it failed. */
static hws_bench_record *p2p_measure(hws_bench_ctx *ctx, const hws_bench_desc *d, p2p_run *pr,
                                     int a, int b, int kind, hws_error *err) {
    static const char *const kinds[] = {"", ".bidir", ".latency"};
    double ms[HWS_BENCH_MAX_SAMPLES], wrong = 0, secs[HWS_BENCH_MAX_SAMPLES];
    char suffix[32];
    bool latency = kind == 2;
    double bytes = latency ? 16 : pr->bytes;
    int reps = latency ? 2 * pr->reps : pr->reps;
    double t_start = hws_bench_now(ctx);
    if (pr->t->p2p_copy(a, b, bytes, kind == 1, pr->warmup, reps, ms, &wrong, err) != HWS_OK)
        return NULL;
    snprintf(suffix, sizeof suffix, "%d-%d%s", a, b, kinds[kind]);
    hws_bench_record *rec = hws_bench_add(ctx, d, suffix);
    if (rec == NULL) {
        hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rec->t_start_s = t_start;
    rec->device = a;
    rec->size = bytes;
    if (latency) {
        snprintf(rec->unit, sizeof rec->unit, "us");
        rec->nsamples = reps;
        for (int i = 0; i < reps; i++)
            rec->samples[i] = ms[i] * 1e3;
        hws_bench_stats(rec);
    } else {
        snprintf(rec->unit, sizeof rec->unit, "GB/s");
        for (int i = 0; i < reps; i++)
            secs[i] = ms[i] / 1e3;
        hws_bench_from_times(rec, secs, reps, kind == 1 ? 2 * bytes : bytes, 1e9);
    }
    snprintf(rec->description, sizeof rec->description, "GPU %d %s GPU %d, %s", a,
             kind == 1 ? "<->" : "->", b,
             latency ? "latency of a 16 B cudaMemcpyPeerAsync"
             : kind  ? "both directions at once (bytes of both)"
                     : "cudaMemcpyPeerAsync bandwidth");
    snprintf(rec->method, sizeof rec->method,
             "%.0f %s per copy, CUDA events, median of %d; destination compared word by word "
             "with the source",
             latency ? bytes : bytes / MIB, latency ? "B" : "MiB", reps);
    hws_bench_check(rec, wrong / (bytes / 4), 0);
    return rec;
}

static hws_status run_p2p(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    char why[HWS_ERROR_LEN];
    p2p_run pr;
    memset(&pr, 0, sizeof pr);
    pr.t = multi_table(why, sizeof why);
    pr.n = ctx->gpu_count < HWS_MAX_GPUS ? ctx->gpu_count : HWS_MAX_GPUS;
    pr.bytes = (ctx->opt->quick ? 64 : 256) * MIB;
    pr.warmup = ctx->opt->quick ? 1 : 3;
    pr.reps = ctx->opt->quick ? 5 : 20;
    pr.topo = calloc(1, sizeof *pr.topo);
    hws_error ignored;
    if (pr.topo != NULL && hws_probe_topology(pr.topo, &ignored) != HWS_OK)
        pr.topo->count = 0;
    p2p_join(ctx, &pr);
    hws_status st = HWS_OK;
    for (int a = 0; st == HWS_OK && a < pr.n; a++)
        for (int b = 0; st == HWS_OK && b < pr.n; b++) {
            int can = 0;
            if (a == b)
                continue;
            if ((st = pr.t->can_access_peer(a, b, &can, err)) != HWS_OK)
                break;
            for (int kind = 0; kind < 3 && st == HWS_OK; kind++) {
                if (kind == 1 && b < a)
                    continue; /* both directions: once per pair */
                hws_bench_record *rec = p2p_measure(ctx, d, &pr, a, b, kind, err);
                if (rec == NULL) {
                    st = HWS_ERR_RUNTIME;
                    break;
                }
                if (kind == 2)
                    continue; /* latency: no peak to judge against */
                char link[HWS_ERROR_LEN] = "";
                p2p_explain(&pr, a, b, can, rec, link, sizeof link);
                if (kind == 1) {
                    rec->theoretical *= 2;
                    if (rec->theoretical_basis[0] != '\0')
                        strncat(rec->theoretical_basis, ", x2 both ways",
                                sizeof rec->theoretical_basis - strlen(rec->theoretical_basis) - 1);
                }
                rec->headline = true;
                hws_bench_judge(rec, 0.7);
                size_t used = strlen(rec->cause); /* the link's story after the verdict's */
                snprintf(rec->cause + used, sizeof rec->cause - used, "%s%s",
                         used && link[0] ? "; " : "", link);
            }
        }
    free(pr.topo);
    return st;
}

/* ---- NCCL ---- */

static const char *const op_names[HWS_NCCL_OPS] = {"allreduce", "allgather", "reducescatter",
                                                   "broadcast", "alltoall"};

/* nccl-tests' bus bandwidth factor of an operation over n ranks (0 for one rank). */
static double busbw_factor(hws_nccl_op op, int n) {
    switch (op) {
    case HWS_NCCL_ALLREDUCE:
        return 2.0 * (n - 1) / n;
    case HWS_NCCL_BROADCAST:
        return 1;
    default: /* all-gather, reduce-scatter, all-to-all */
        return (double)(n - 1) / n;
    }
}

static hws_status nccl_record(hws_bench_ctx *ctx, const hws_bench_desc *d, const hws_nccl_point *p,
                              int n, int version, bool headline) {
    char suffix[40];
    double secs[HWS_BENCH_MAX_SAMPLES];
    double factor = n > 1 ? busbw_factor(p->op, n) : 1;
    snprintf(suffix, sizeof suffix, "%s.x%d.%.0f", op_names[p->op], n, p->bytes);
    hws_bench_record *rec = hws_bench_add(ctx, d, suffix);
    if (rec == NULL)
        return HWS_ERR_NOMEM;
    rec->t_start_s = hws_bench_now(ctx);
    rec->size = p->bytes;
    snprintf(rec->unit, sizeof rec->unit, "GB/s");
    for (int i = 0; i < p->nreps && i < HWS_BENCH_MAX_SAMPLES; i++)
        secs[i] = p->ms[i] / 1e3;
    hws_bench_from_times(rec, secs, p->nreps, p->bytes * factor, 1e9);
    snprintf(rec->description, sizeof rec->description, "NCCL %s, %d rank%s, %s", op_names[p->op],
             n, n > 1 ? "s" : "",
             n > 1 ? "bus bandwidth (nccl-tests)" : "algorithm bandwidth (1 rank: no bus)");
    if (snprintf(rec->method, sizeof rec->method,
                 "%.0f B float32%s; %s; NCCL %d.%d.%d, one thread per GPU; median of %d runs "
                 "started together, slowest rank; %.0f outputs checked",
                 p->bytes, p->op == HWS_NCCL_BROADCAST ? " from rank 0" : "",
                 n > 1 ? "busbw = size / time x factor" : "algbw = size / time", version / 10000,
                 version / 100 % 100, version % 100, p->nreps, p->checked) < 0)
        rec->method[0] = '\0';
    hws_bench_check(rec, p->checked > 0 ? p->wrong / p->checked : 1, 0);
    if (n > 1 && ctx->spec != NULL && hws_known(ctx->spec->interconnect_gbps)) {
        rec->datasheet = ctx->spec->interconnect_gbps / 2;
        snprintf(rec->theoretical_basis, sizeof rec->theoretical_basis,
                 "datasheet: %s, %.0f GB/s per GPU both ways, half each way",
                 ctx->spec->interconnect, ctx->spec->interconnect_gbps);
    }
    rec->headline = headline && n > 1;
    hws_bench_judge(rec, 0.6);
    return HWS_OK;
}

static hws_status run_nccl(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    static const double full[] = {4096, 65536, 1048576, 16777216, 134217728, 1073741824};
    static const double quick[] = {1048576, 67108864};
    const double *sizes = ctx->opt->quick ? quick : full;
    int nsizes = ctx->opt->quick ? 2 : 6, reps = ctx->opt->quick ? 5 : 20;
    char why[HWS_ERROR_LEN];
    const hws_nccl *nccl = nccl_override != NULL ? nccl_override : hws_nccl_get(err);
    const hws_gpu_multi_table *t = multi_table(why, sizeof why);
    int n = ctx->gpu_count;
    hws_nccl_point *points = calloc((size_t)HWS_NCCL_OPS * nsizes, sizeof *points);
    if (points == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    int np = 0;
    double cap =
        ctx->props.mem_total_bytes > 0 ? ctx->props.mem_total_bytes / 8 : sizes[nsizes - 1];
    for (int op = 0; op < HWS_NCCL_OPS; op++)
        for (int s = 0; s < nsizes; s++)
            if (sizes[s] <= cap || s == 0)
                points[np++] = (hws_nccl_point){.op = (hws_nccl_op)op, .bytes = sizes[s]};
    hws_status st = t->nccl_sweep(nccl, n, points, np, ctx->opt->quick ? 2 : 5, reps, err);
    for (int i = 0; st == HWS_OK && i < np; i++) {
        bool last = i + 1 == np || points[i + 1].op != points[i].op;
        if (nccl_record(ctx, d, &points[i], n, nccl->version, last) != HWS_OK)
            st = hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    }
    free(points);
    return st;
}

const hws_bench_desc hws_multi_benches[] = {
    {"gpu.p2p", "p2p", "peer-to-peer copies between every pair of GPUs", 0, p2p_filter, run_p2p},
    {"gpu.nccl", "nccl", "NCCL collectives over every GPU, size sweep", 0, nccl_filter, run_nccl},
};
const size_t hws_multi_nbenches = sizeof hws_multi_benches / sizeof hws_multi_benches[0];
