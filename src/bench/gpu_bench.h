/* gpu_bench.h - the plain C face of the GPU benchmark kernels in gpu_bench.cu.
 *
 * The CUDA module exports one entry point, `hws_gpu_bench_api`, returning this table
 * (hws_gpu_bench_table); the C side looks it up with hws_cuda_module_sym("hws_gpu_bench_api",
 * &err). No function aborts: each returns HWS_OK or a status with the CUDA/cuBLAS message in err.
 *
 * Timing method (all functions): `warmup` untimed runs, then `reps` runs each timed alone with
 * CUDA events on one stream; ms[i] is the time of run i in milliseconds. Inputs are random
 * (uniform, not zero), filled on the device by a hash of the element index. */
#ifndef HWSCOPE_BENCH_GPU_BENCH_H
#define HWSCOPE_BENCH_GPU_BENCH_H

#include "hwscope/hwscope.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_GPU_BENCH_ABI 1

/* Facts the CUDA runtime gives about a device (no NVML needed). */
typedef struct {
    char name[96];
    char pci_bus_id[32]; /* lower case, "0000:18:00.0" */
    int cc_major, cc_minor;
    int sm_count;
    double max_sm_clock_mhz;  /* cudaDevAttrClockRate (peak) */
    double max_mem_clock_mhz; /* cudaDevAttrMemoryClockRate (peak) */
    int mem_bus_width_bits;
    double mem_total_bytes;
    int runtime_version;   /* cudaRuntimeGetVersion, 13000 = 13.0 */
    int driver_version;    /* cudaDriverGetVersion */
    long cublaslt_version; /* cublasLtGetVersion */
} hws_gpu_dev_props;

typedef enum {
    HWS_GPU_COPY_D2D_KERNEL, /* own vectorised copy kernel, device to device */
    HWS_GPU_COPY_D2D_MEMCPY, /* cudaMemcpyAsync device to device */
    HWS_GPU_COPY_H2D_PINNED, /* cudaMemcpyAsync from cudaMallocHost memory */
    HWS_GPU_COPY_D2H_PINNED,
    HWS_GPU_COPY_H2D_PAGEABLE, /* cudaMemcpy from malloc'd memory */
    HWS_GPU_COPY_D2H_PAGEABLE,
    HWS_GPU_COPY_KINDS
} hws_gpu_copy_kind;

typedef enum {
    HWS_GPU_FP32, /* fp32 in/out, CUBLAS_COMPUTE_32F */
    HWS_GPU_TF32, /* fp32 in/out, CUBLAS_COMPUTE_32F_FAST_TF32 */
    HWS_GPU_FP16, /* fp16 in/out, fp32 accumulate */
    HWS_GPU_BF16, /* bf16 in/out, fp32 accumulate */
    HWS_GPU_FP8,  /* e4m3 in, bf16 out, fp32 accumulate (cc >= 8.9) */
    HWS_GPU_INT8, /* int8 in, int32 out, int32 accumulate */
    HWS_GPU_DTYPES
} hws_gpu_dtype;

/* Result of checking a matrix product against a plain reference kernel on sampled elements:
 * err = max |c - ref| / rms(ref) over the sample (0 for exact integer products). */
typedef struct {
    int checked; /* elements compared */
    double max_rel_err;
} hws_gpu_check;

typedef struct {
    int abi; /* HWS_GPU_BENCH_ABI */
    hws_status (*device_count)(int *count, hws_error *err);
    hws_status (*props)(int device, hws_gpu_dev_props *props, hws_error *err);
    /* Copies `bytes` (rounded down to 16) once per run. */
    hws_status (*copy)(int device, hws_gpu_copy_kind kind, double bytes, int warmup, int reps,
                       double *ms, hws_error *err);
    /* C[m x n] = A[m x k] * B[k x n] through cuBLASLt; the fastest of the heuristic's first
     * algorithms (2 timed runs each) is the one timed, after the GPU idled settle_ms (so the
     * timed runs start from the power state a fresh run would). algo_note gets "algo i of n". */
    hws_status (*gemm)(int device, hws_gpu_dtype dtype, int m, int n, int k, int warmup, int reps,
                       int settle_ms, double *ms, hws_gpu_check *check, char *algo_note,
                       size_t note_len, hws_error *err);
} hws_gpu_bench_table;

typedef const hws_gpu_bench_table *(*hws_gpu_bench_api_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
