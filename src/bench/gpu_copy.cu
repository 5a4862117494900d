// gpu_copy.cu - device facts and the copy benchmarks (device<->device, host<->device), plus the
// module's one entry point for benchmarks, hws_gpu_bench_api().
#include "bench/gpu_common.cuh"

#include <cublasLt.h>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

hws_status hws_gpu_gemm_run(int device, hws_gpu_dtype dtype, int m, int n, int k, int warmup,
                            int reps, int settle_ms, double *ms, hws_gpu_check *check,
                            char *algo_note, size_t note_len, hws_error *err);

static hws_status device_count(int *count, hws_error *err) {
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e != cudaSuccess) {
        *count = 0;
        return hws_gpu_fail(err, "cudaGetDeviceCount", cudaGetErrorString(e));
    }
    return HWS_OK;
}

static int attr(int device, cudaDeviceAttr a) {
    int v = 0;
    if (cudaDeviceGetAttribute(&v, a, device) != cudaSuccess)
        return 0;
    return v;
}

static hws_status props(int device, hws_gpu_dev_props *p, hws_error *err) {
    hws_status st = HWS_OK;
    cudaDeviceProp dp;
    size_t free_b = 0, total_b = 0;
    int ver = 0;
    memset(p, 0, sizeof *p);
    HWS_CUDA_TRY(cudaGetDeviceProperties(&dp, device));
    snprintf(p->name, sizeof p->name, "%.95s", dp.name);
    HWS_CUDA_TRY(cudaDeviceGetPCIBusId(p->pci_bus_id, (int)sizeof p->pci_bus_id, device));
    for (char *c = p->pci_bus_id; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    p->cc_major = dp.major;
    p->cc_minor = dp.minor;
    p->sm_count = dp.multiProcessorCount;
    p->max_sm_clock_mhz = attr(device, cudaDevAttrClockRate) / 1000.0;
    p->max_mem_clock_mhz = attr(device, cudaDevAttrMemoryClockRate) / 1000.0;
    p->mem_bus_width_bits = attr(device, cudaDevAttrGlobalMemoryBusWidth);
    HWS_CUDA_TRY(cudaSetDevice(device));
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
        p->mem_total_bytes = (double)total_b;
    else
        p->mem_total_bytes = (double)dp.totalGlobalMem;
    if (cudaRuntimeGetVersion(&ver) == cudaSuccess)
        p->runtime_version = ver;
    if (cudaDriverGetVersion(&ver) == cudaSuccess)
        p->driver_version = ver;
    p->cublaslt_version = (long)cublasLtGetVersion();
done:
    return st;
}

// dst[i] = src[i] over n 16-byte words, grid-stride, 4 words in flight per thread.
__global__ void copy_kernel(uint4 *__restrict__ dst, const uint4 *__restrict__ src, size_t n) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n; i += 4 * stride) {
        uint4 a = src[i], b = src[i + stride], c = src[i + 2 * stride], d = src[i + 3 * stride];
        dst[i] = a;
        dst[i + stride] = b;
        dst[i + 2 * stride] = c;
        dst[i + 3 * stride] = d;
    }
    for (; i < n; i += stride)
        dst[i] = src[i];
}

__global__ void fill_words(uint32_t *p, size_t n, uint64_t seed) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        p[i] = __float_as_uint(hws_hash_uniform(i, seed));
}

static void fill_host(void *p, size_t bytes) {
    uint32_t *w = (uint32_t *)p;
    for (size_t i = 0; i < bytes / 4; i++) {
        float f = hws_hash_uniform(i, 7);
        memcpy(&w[i], &f, 4);
    }
}

typedef struct {
    hws_gpu_copy_kind kind;
    void *dev_a, *dev_b, *host;
    size_t bytes;
    int blocks;
    cudaStream_t stream;
} copy_job;

static cudaError_t copy_once(const copy_job *j) {
    switch (j->kind) {
    case HWS_GPU_COPY_D2D_KERNEL:
        copy_kernel<<<j->blocks, 512, 0, j->stream>>>((uint4 *)j->dev_b, (const uint4 *)j->dev_a,
                                                      j->bytes / 16);
        return cudaGetLastError();
    case HWS_GPU_COPY_D2D_MEMCPY:
        return cudaMemcpyAsync(j->dev_b, j->dev_a, j->bytes, cudaMemcpyDeviceToDevice, j->stream);
    case HWS_GPU_COPY_H2D_PINNED:
    case HWS_GPU_COPY_H2D_PAGEABLE:
        return cudaMemcpyAsync(j->dev_a, j->host, j->bytes, cudaMemcpyHostToDevice, j->stream);
    default:
        return cudaMemcpyAsync(j->host, j->dev_a, j->bytes, cudaMemcpyDeviceToHost, j->stream);
    }
}

static hws_status copy(int device, hws_gpu_copy_kind kind, double bytes, int warmup, int reps,
                       double *ms, hws_error *err) {
    hws_status st = HWS_OK;
    copy_job j;
    hws_gpu_timer t;
    bool pinned = kind == HWS_GPU_COPY_H2D_PINNED || kind == HWS_GPU_COPY_D2H_PINNED;
    bool host = kind >= HWS_GPU_COPY_H2D_PINNED;
    memset(&j, 0, sizeof j);
    t.n = 0;
    j.kind = kind;
    j.bytes = (size_t)bytes & ~(size_t)15;
    if (reps < 1 || reps > HWS_GPU_MAX_REPS || j.bytes == 0 || kind >= HWS_GPU_COPY_KINDS)
        return hws_gpu_fail(err, "copy", "bad arguments");
    HWS_CUDA_TRY(cudaSetDevice(device));
    HWS_CUDA_TRY(cudaStreamCreateWithFlags(&j.stream, cudaStreamNonBlocking));
    HWS_CUDA_TRY(cudaMalloc(&j.dev_a, j.bytes));
    if (!host)
        HWS_CUDA_TRY(cudaMalloc(&j.dev_b, j.bytes));
    fill_words<<<1024, 256, 0, j.stream>>>((uint32_t *)j.dev_a, j.bytes / 4, 1);
    HWS_CUDA_TRY(cudaGetLastError());
    if (pinned) {
        HWS_CUDA_TRY(cudaMallocHost(&j.host, j.bytes));
    } else if (host) {
        // pageable, but 2 MiB aligned and backed by transparent huge pages where the kernel
        // allows, so the driver's staging copies are not slowed by TLB misses
        if (posix_memalign(&j.host, 2u << 20, j.bytes) != 0)
            j.host = nullptr;
        else
            madvise(j.host, j.bytes, MADV_HUGEPAGE);
        if (j.host == nullptr) {
            st = hws_gpu_fail(err, "malloc", "out of host memory");
            goto done;
        }
    }
    if (host)
        fill_host(j.host, j.bytes);
    j.blocks = attr(device, cudaDevAttrMultiProcessorCount) * 4;
    if (j.blocks <= 0)
        j.blocks = 1024;
    for (int i = 0; i < warmup; i++)
        HWS_CUDA_TRY(copy_once(&j));
    HWS_CUDA_TRY(cudaStreamSynchronize(j.stream));
    HWS_CUDA_TRY(hws_gpu_timer_init(&t, reps));
    for (int i = 0; i < reps; i++) {
        HWS_CUDA_TRY(cudaEventRecord(t.start[i], j.stream));
        HWS_CUDA_TRY(copy_once(&j));
        HWS_CUDA_TRY(cudaEventRecord(t.stop[i], j.stream));
    }
    HWS_CUDA_TRY(hws_gpu_timer_read(&t, ms));
done:
    hws_gpu_timer_free(&t);
    if (j.stream != nullptr)
        cudaStreamSynchronize(j.stream);
    if (pinned)
        cudaFreeHost(j.host);
    else
        free(j.host);
    cudaFree(j.dev_a);
    cudaFree(j.dev_b);
    if (j.stream != nullptr)
        cudaStreamDestroy(j.stream);
    return st;
}

static const hws_gpu_bench_table api = {
    HWS_GPU_BENCH_ABI, device_count, props, copy, hws_gpu_gemm_run,
};

extern "C" __attribute__((visibility("default"))) const hws_gpu_bench_table *
hws_gpu_bench_api(void) {
    return &api;
}
