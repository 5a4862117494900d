/* fake_gpu_table.h - a fake GPU benchmark table for the bench tests: one A100 PCIe 40GB whose
 * copies and products take the times their figures say. fake_wrong_bf16 makes BF16 products
 * fast and wrong, fake_int8_fails makes INT8 products fail as cuBLAS would. */
#ifndef HWSCOPE_TEST_FAKE_GPU_TABLE_H
#define HWSCOPE_TEST_FAKE_GPU_TABLE_H

#include "bench/gpu_bench.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fake_wrong_bf16 = true, fake_int8_fails = true;

static hws_status fake_count(int *count, hws_error *err) {
    (void)err;
    *count = 1;
    return HWS_OK;
}

static hws_status fake_props(int device, hws_gpu_dev_props *p, hws_error *err) {
    (void)device, (void)err;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "NVIDIA A100-PCIE-40GB");
    snprintf(p->pci_bus_id, sizeof p->pci_bus_id, "0000:3b:00.0");
    p->cc_major = 8;
    p->sm_count = 108;
    p->max_sm_clock_mhz = 1410;
    p->max_mem_clock_mhz = 1215;
    p->mem_bus_width_bits = 5120;
    p->mem_total_bytes = 40.0 * 1024 * 1024 * 1024;
    p->runtime_version = p->driver_version = 13000;
    p->cublaslt_version = 130100;
    return HWS_OK;
}

/* D2D at 1400 GB/s (read + written), H2D pinned at 6 GB/s (a quarter of gen4 x16), others 20. */
static hws_status fake_copy(int device, hws_gpu_copy_kind kind, double bytes, int warmup, int reps,
                            double *ms, hws_error *err) {
    (void)device, (void)warmup, (void)err;
    bool d2d = kind <= HWS_GPU_COPY_D2D_MEMCPY;
    double gbps = d2d ? 1400 : kind == HWS_GPU_COPY_H2D_PINNED ? 6 : 20;
    for (int i = 0; i < reps; i++)
        ms[i] = (d2d ? 2 : 1) * bytes / (gbps * 1e9) * 1e3 * (1 + 0.01 * i);
    return HWS_OK;
}

/* Products at about two thirds of the A100's datasheet (a wrong BF16 one above it). */
static hws_status fake_gemm(int device, hws_gpu_dtype dt, int m, int n, int k, int warmup, int reps,
                            int settle_ms, double *ms, hws_gpu_check *check, char *note,
                            size_t note_len, hws_error *err) {
    static const double tflops[HWS_GPU_DTYPES] = {13, 100, 200, 200, 0, 400};
    (void)device, (void)warmup, (void)settle_ms;
    if (dt == HWS_GPU_INT8 && fake_int8_fails) {
        snprintf(err->msg, sizeof err->msg, "cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED");
        return HWS_ERR_RUNTIME;
    }
    for (int i = 0; i < reps; i++)
        ms[i] = 2.0 * m * n * k /
                (tflops[dt] * (dt == HWS_GPU_BF16 && fake_wrong_bf16 ? 2 : 1) * 1e12) * 1e3;
    check->checked = 256;
    check->max_rel_err = dt == HWS_GPU_BF16 && fake_wrong_bf16 ? 0.5
                         : dt == HWS_GPU_INT8                  ? 0
                                                               : 1e-6;
    snprintf(note, note_len, "fake");
    return HWS_OK;
}

static const hws_gpu_bench_table fake = {HWS_GPU_BENCH_ABI, fake_count, fake_props, fake_copy,
                                         fake_gemm};

/* Points NVML and the CUDA driver at the fakes playing the A100 whose PCIe link trained at gen3
 * x8 (tests/fixtures/gpus/pcie-degraded.txt); -1 when the fakes were not built. */
static int fake_gpu_env(void) {
    char gpus[4096];
    const char *nvml = getenv("HWSCOPE_FAKE_NVML");
    if (nvml == NULL || getenv("HWSCOPE_FAKE_CUDA") == NULL)
        return -1;
    snprintf(gpus, sizeof gpus, "%s/gpus/pcie-degraded.txt", getenv("HWSCOPE_FIXTURES"));
    setenv("HWSCOPE_NVML_LIB", nvml, 1);
    setenv("HWSCOPE_CUDA_LIB", getenv("HWSCOPE_FAKE_CUDA"), 1);
    setenv("HWSCOPE_FAKE_GPUS", gpus, 1);
    return 0;
}

#endif
