/* fingerprint.c - the hardware and software a figure was measured on (hws_bench_fingerprint),
 * filled from probed facts; every benchmark record and every JSON document carries it, and its
 * hash finds the figures saved for the same hardware again. */
#include "hwscope/bench.h"
#include "util/units.h"

#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void hws_fingerprint_fill(hws_bench_fingerprint *fp, const hws_cpu_info *cpu,
                          const hws_gpu_list *gpus) {
    time_t now = time(NULL);
    struct tm tm;
    memset(fp, 0, sizeof *fp);
    gmtime_r(&now, &tm);
    strftime(fp->time_utc, sizeof fp->time_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (gethostname(fp->hostname, sizeof fp->hostname) != 0)
        fp->hostname[0] = '\0';
    fp->hostname[sizeof fp->hostname - 1] = '\0';
    fp->cpu_cores = fp->cpu_threads = fp->cpu_fp32_peak_gflops = HWS_NA;
    if (cpu != NULL) {
        snprintf(fp->cpu_model, sizeof fp->cpu_model, "%s", cpu->model);
        fp->cpu_cores = cpu->cores;
        fp->cpu_threads = cpu->threads;
        fp->cpu_fp32_peak_gflops = cpu->fp32_peak_gflops;
    }
    snprintf(fp->blas, sizeof fp->blas, "%s", openblas_get_config());
    snprintf(fp->hwscope_version, sizeof fp->hwscope_version, "%s", hws_version());
    snprintf(fp->build_commit, sizeof fp->build_commit, "%s", hws_build_commit());
    if (gpus == NULL)
        return;
    snprintf(fp->driver_version, sizeof fp->driver_version, "%s", gpus->driver_version);
    snprintf(fp->cuda_driver, sizeof fp->cuda_driver, "%s", gpus->cuda_version);
    for (int i = 0; i < gpus->count && fp->ngpus < 4; i++, fp->ngpus++) {
        const hws_gpu_info *g = &gpus->gpus[i];
        snprintf(fp->gpu_name[fp->ngpus], sizeof fp->gpu_name[0], "%s", g->name);
        snprintf(fp->gpu_pci_bus_id[fp->ngpus], sizeof fp->gpu_pci_bus_id[0], "%s", g->pci_bus_id);
        fp->gpu_sm_count[fp->ngpus] = g->sm_count;
        fp->gpu_cc[fp->ngpus] = g->cc_major + g->cc_minor / 10.0;
    }
}

/* FNV-1a, 64 bits, over s and a separator. */
static uint64_t hash_str(uint64_t h, const char *s) {
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0x1f) * 1099511628211ULL;
}

void hws_fingerprint_id(const hws_bench_fingerprint *fp, char out[17]) {
    char threads[32];
    uint64_t h = 14695981039346656037ULL;
    h = hash_str(h, fp->cpu_model);
    snprintf(threads, sizeof threads, "%.0f", hws_known(fp->cpu_threads) ? fp->cpu_threads : -1);
    h = hash_str(h, threads);
    for (int i = 0; i < fp->ngpus && i < 4; i++) {
        h = hash_str(h, fp->gpu_name[i]);
        h = hash_str(h, fp->gpu_pci_bus_id[i]);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
