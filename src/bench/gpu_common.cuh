// gpu_common.cuh - error reporting, event timing and random fills shared by the GPU benchmarks.
#ifndef HWSCOPE_BENCH_GPU_COMMON_CUH
#define HWSCOPE_BENCH_GPU_COMMON_CUH

#include "bench/gpu_bench.h"
#include "engine/llm_quant.h"
#include "gpu/cuda_check.cuh"

#include <cstdint>
#include <cstdio>
#include <cuda_runtime.h>

#define HWS_GPU_MAX_REPS 256

// A uniform value in [-1, 1) from an element index and a seed (the engine's, llm_quant.h).
__host__ __device__ static inline float hws_hash_uniform(uint64_t i, uint64_t seed) {
    return hws_llm_uniform(i, seed);
}

// Pairs of CUDA events around each timed run, read back as milliseconds.
typedef struct {
    int n;
    cudaEvent_t start[HWS_GPU_MAX_REPS], stop[HWS_GPU_MAX_REPS];
} hws_gpu_timer;

static inline cudaError_t hws_gpu_timer_init(hws_gpu_timer *t, int n) {
    t->n = 0;
    for (int i = 0; i < n && i < HWS_GPU_MAX_REPS; i++) {
        cudaError_t e = cudaEventCreate(&t->start[i]);
        if (e != cudaSuccess)
            return e;
        e = cudaEventCreate(&t->stop[i]);
        if (e != cudaSuccess) {
            cudaEventDestroy(t->start[i]);
            return e;
        }
        t->n = i + 1;
    }
    return cudaSuccess;
}

// Synchronises on the last event and writes each run's time into ms.
static inline cudaError_t hws_gpu_timer_read(hws_gpu_timer *t, double *ms) {
    if (t->n == 0)
        return cudaSuccess;
    cudaError_t e = cudaEventSynchronize(t->stop[t->n - 1]);
    for (int i = 0; i < t->n && e == cudaSuccess; i++) {
        float f = 0;
        e = cudaEventElapsedTime(&f, t->start[i], t->stop[i]);
        ms[i] = f;
    }
    return e;
}

static inline void hws_gpu_timer_free(hws_gpu_timer *t) {
    for (int i = 0; i < t->n; i++) {
        cudaEventDestroy(t->start[i]);
        cudaEventDestroy(t->stop[i]);
    }
    t->n = 0;
}

#endif
