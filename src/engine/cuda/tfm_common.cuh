/* tfm_common.cuh - shared by the Transformer engine's CUDA rooms: element conversion, the
 * device helpers of its kernels, the launch helper with programmatic dependent launch, and the
 * host launchers of the attention (tfm_attention.cu) and residual + LayerNorm (tfm_layernorm.cu)
 * kernels. */
#ifndef HWSCOPE_ENGINE_CUDA_TFM_COMMON_CUH
#define HWSCOPE_ENGINE_CUDA_TFM_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

/* ---- element conversion ---- */
template <typename T> __host__ __device__ inline float to_f(T x);
template <> __host__ __device__ inline float to_f<float>(float x) {
    return x;
}
template <> __host__ __device__ inline float to_f<__half>(__half x) {
    return __half2float(x);
}
template <> __host__ __device__ inline float to_f<__nv_bfloat16>(__nv_bfloat16 x) {
    return __bfloat162float(x);
}
template <typename T> __host__ __device__ inline T from_f(float x);
template <> __host__ __device__ inline float from_f<float>(float x) {
    return x;
}
template <> __host__ __device__ inline __half from_f<__half>(float x) {
    return __float2half_rn(x);
}
template <> __host__ __device__ inline __nv_bfloat16 from_f<__nv_bfloat16>(float x) {
    return __float2bfloat16_rn(x);
}

/* ---- device helpers ---- */
/* Programmatic dependent launch (Hopper): a kernel launched with it may start while the one before
 * it still runs, so each kernel first waits for its predecessor's results (a no-op when launched
 * without it), and says when its own are written so that the next may start. */
__device__ inline void grid_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ inline void grid_done() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ inline float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

struct attn_params {
    const void *q, *k, *v;
    void *out;
    int ldq, ldk, ldv, ldo, Sq, Skv, N, nhead, hd;
    float scale;
};

/* Where and how a kernel is launched: with pdl, as a programmatic dependent launch. */
struct launch_on {
    cudaStream_t s;
    bool pdl;
};

template <typename... P, typename... A>
static cudaError_t launch(launch_on on, dim3 grid, dim3 block, size_t smem, void (*k)(P...),
                          A... args) {
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = on.s;
    cfg.attrs = attr;
    cfg.numAttrs = on.pdl ? 1 : 0;
    return cudaLaunchKernelEx(&cfg, k, args...);
}

/* The inputs of one residual + LayerNorm step, or two (see add_ln_reg_kernel) when g2 is set. */
template <typename T> struct ln_in {
    const T *x;
    const float *xf;
    const T *r, *g, *b, *r2, *g2, *b2;
};

/* Runs the attention kernel fitting p (tfm_attention.cu); T is float, __half or __nv_bfloat16. */
template <typename T> cudaError_t tfm_launch_attention(const attn_params &p, launch_on s);

/* Runs out = LN(x + r), then LN2(. + r2) when a.g2 is set (tfm_layernorm.cu); TO is T or float. */
template <typename T, typename TO>
cudaError_t tfm_ln_launch(launch_on s, TO *out, float *outf, const ln_in<T> &a, int rows, int E,
                          float eps);

#endif
