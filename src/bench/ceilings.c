/* ceilings.c - what a benchmark run measured, as the planner's ceilings (hws_ceilings): the GPU's
 * device-to-device copy and best product per precision, the NCCL all-reduce bus bandwidth
 * between GPUs, and the CPU's STREAM triad. */
#include "hwscope/bench.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

/* Above its peak: the timing or the peak is wrong, not a ceiling to plan with. */
static bool above_peak(const hws_bench_record *rec) {
    return (hws_known(rec->frac_datasheet) && rec->frac_datasheet > 1.1) ||
           (hws_known(rec->frac_theoretical) && rec->frac_theoretical > 1.1);
}

/* The median of the measured record named key, or the best over "key.*" (a size sweep). */
static double best(const hws_bench_result *r, const char *key) {
    size_t len = strlen(key);
    double v = HWS_NA;
    for (int i = 0; i < r->nrecords; i++) {
        const hws_bench_record *rec = &r->records[i];
        if (rec->state != HWS_BENCH_OK || rec->nsamples == 0 || !hws_known(rec->median) ||
            above_peak(rec) || strncmp(rec->key, key, len) != 0 ||
            (rec->key[len] != '\0' && rec->key[len] != '.'))
            continue;
        if (!hws_known(v) || rec->median > v)
            v = rec->median;
    }
    return v;
}

/* The best NCCL all-reduce bus bandwidth over two GPUs or more ("gpu.nccl.allreduce.xN.BYTES",
 * N >= 2): one rank moves nothing over a link, so it is no ceiling. */
static double allreduce_busbw(const hws_bench_result *r) {
    double v = HWS_NA;
    for (int i = 0; i < r->nrecords; i++) {
        const hws_bench_record *rec = &r->records[i];
        int ranks = 0;
        if (sscanf(rec->key, "gpu.nccl.allreduce.x%d.", &ranks) != 1 || ranks < 2)
            continue;
        double b = best(r, rec->key);
        if (hws_known(b) && (!hws_known(v) || b > v))
            v = b;
    }
    return v;
}

bool hws_bench_ceilings(const hws_bench_result *r, hws_ceilings *out) {
    memset(out, 0, sizeof *out);
    out->mem_bw_gbps = best(r, "gpu.d2d");
    out->bf16_tflops = best(r, "gpu.gemm.bf16");
    out->fp16_tflops = best(r, "gpu.gemm.fp16");
    out->fp8_tflops = best(r, "gpu.gemm.fp8");
    out->int8_tops = best(r, "gpu.gemm.int8");
    out->fp32_tflops = best(r, "gpu.gemm.fp32");
    out->allreduce_busbw_gbps = allreduce_busbw(r);
    out->host_mem_bw_gbps = best(r, "cpu.stream.triad");
    snprintf(out->measured_at, sizeof out->measured_at, "%s", r->fingerprint.time_utc);
    const double gpu[] = {out->mem_bw_gbps,         out->bf16_tflops, out->fp16_tflops,
                          out->fp8_tflops,          out->int8_tops,   out->fp32_tflops,
                          out->allreduce_busbw_gbps};
    bool any = false;
    for (size_t i = 0; i < sizeof gpu / sizeof gpu[0]; i++)
        any = any || hws_known(gpu[i]);
    return any && r->fingerprint.bench_gpu_name[0] != '\0';
}
