/* tfm_layernorm.cu - the Transformer engine's fused residual + LayerNorm kernels (a row in
 * registers, optionally two steps in one, or a looping one for wide rows) and their launcher. */
#include "engine/cuda/tfm_common.cuh"

/* out = LayerNorm(x + res) * g + b, one warp per row of E; TO is T or float (the final norm).
 * In FP16/BF16 the residual streams also keep a float copy: xf (read instead of x when set) and
 * outf (written beside out when set), so rounding does not pile up along the residual path. */
template <typename T, typename TO>
__global__ void add_ln_kernel(TO *out, float *outf, const T *x, const float *xf, const T *res,
                              const T *g, const T *b, int rows, int E, float eps) {
    grid_wait();
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= rows)
        return;
    size_t base = (size_t)row * E;
    float sum = 0;
    for (int d = lane; d < E; d += 32)
        sum += (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f);
    float mean = warp_sum(sum) / E, var = 0;
    for (int d = lane; d < E; d += 32) {
        float v =
            (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f) - mean;
        var += v * v;
    }
    float rstd = rsqrtf(warp_sum(var) / E + eps);
    for (int d = lane; d < E; d += 32) {
        float v = (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f);
        float y = (v - mean) * rstd * to_f(g[d]) + to_f(b[d]);
        out[base + d] = from_f<TO>(y);
        if (outf)
            outf[base + d] = y;
    }
    grid_done();
}

/* gamma g and beta b of a LayerNorm, as the lane's VPL values of each. */
template <typename T, int VPL>
__device__ inline void load_gb(float *gv, float *bv, int lane, int E, const T *g, const T *b) {
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        gv[i] = d < E ? to_f(g[d]) : 0.0f;
        bv[i] = d < E ? to_f(b[d]) : 0.0f;
    }
}

/* LayerNorm of v (VPL values per lane, a row of E over the warp) with the lane's gamma gv and beta
 * bv, in place. */
template <int VPL>
__device__ inline void warp_ln(float *v, int lane, int E, const float *gv, const float *bv,
                               float eps) {
    float sum = 0;
#pragma unroll
    for (int i = 0; i < VPL; i++)
        sum += v[i];
    float mean = warp_sum(sum) / E, var = 0;
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        float c = lane + 32 * i < E ? v[i] - mean : 0.0f;
        var += c * c;
    }
    float rstd = rsqrtf(warp_sum(var) / E + eps);
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        v[i] = d < E ? (v[i] - mean) * rstd * gv[i] + bv[i] : 0.0f;
    }
}

/* add_ln_kernel for rows of E <= 32*VPL, the row kept in registers (x and res read once); with
 * g2 set, a second residual + LayerNorm follows: out = LN2(LN(x + res) + res2). */
template <typename T, typename TO, int VPL>
__global__ void add_ln_reg_kernel(TO *out, float *outf, const T *x, const float *xf, const T *res,
                                  const T *g, const T *b, const T *res2, const T *g2, const T *b2,
                                  int rows, int E, float eps) {
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    float gv[VPL], bv[VPL];
    load_gb<T, VPL>(gv, bv, lane, E, g, b); /* weights: read while the step before finishes */
    grid_wait();
    if (row >= rows)
        return;
    size_t base = (size_t)row * E;
    float v[VPL];
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        v[i] = d < E ? (xf ? xf[base + d] : to_f(x[base + d])) + (res ? to_f(res[base + d]) : 0.0f)
                     : 0.0f;
    }
    warp_ln<VPL>(v, lane, E, gv, bv, eps);
    if (g2) {
#pragma unroll
        for (int i = 0; i < VPL; i++) {
            int d = lane + 32 * i;
            v[i] += d < E && res2 ? to_f(res2[base + d]) : 0.0f;
        }
        load_gb<T, VPL>(gv, bv, lane, E, g2, b2);
        warp_ln<VPL>(v, lane, E, gv, bv, eps);
    }
#pragma unroll
    for (int i = 0; i < VPL; i++) {
        int d = lane + 32 * i;
        if (d < E) {
            out[base + d] = from_f<TO>(v[i]);
            if (outf)
                outf[base + d] = v[i];
        }
    }
    grid_done();
}

/* The kernel for rows of E: registers up to 1024, else the looping one (twice for two steps). */
template <typename T, typename TO, int VPL>
static cudaError_t ln_reg(launch_on s, TO *out, float *outf, const ln_in<T> &a, int rows, int E,
                          float eps) {
    int per_block = 4;
    return launch(s, dim3((rows + per_block - 1) / per_block), dim3(per_block * 32), 0,
                  add_ln_reg_kernel<T, TO, VPL>, out, outf, a.x, a.xf, a.r, a.g, a.b, a.r2, a.g2,
                  a.b2, rows, E, eps);
}

template <typename T, typename TO>
cudaError_t tfm_ln_launch(launch_on s, TO *out, float *outf, const ln_in<T> &a, int rows, int E,
                          float eps) {
    if (E <= 256)
        return ln_reg<T, TO, 8>(s, out, outf, a, rows, E, eps);
    if (E <= 512)
        return ln_reg<T, TO, 16>(s, out, outf, a, rows, E, eps);
    if (E <= 1024)
        return ln_reg<T, TO, 32>(s, out, outf, a, rows, E, eps);
    int per_block = 4;
    dim3 grid((rows + per_block - 1) / per_block), block(per_block * 32);
    cudaError_t e = launch(s, grid, block, 0, add_ln_kernel<T, TO>, out, outf, a.x, a.xf, a.r, a.g,
                           a.b, rows, E, eps);
    if (e != cudaSuccess || !a.g2)
        return e;
    /* the second step reads the first's output (its float copy when kept, or out itself when
     * that is the float output) */
    const float *xf2 = outf ? outf : sizeof(TO) == sizeof(float) ? (const float *)out : nullptr;
    return launch(s, grid, block, 0, add_ln_kernel<T, TO>, out, outf, (const T *)out, xf2, a.r2,
                  a.g2, a.b2, rows, E, eps);
}

#define TFM_LN_INSTANCE(T, TO)                                                                     \
    template cudaError_t tfm_ln_launch<T, TO>(launch_on s, TO * out, float *outf,                  \
                                              const ln_in<T> &a, int rows, int E, float eps);
TFM_LN_INSTANCE(float, float)
TFM_LN_INSTANCE(__half, __half)
TFM_LN_INSTANCE(__half, float)
TFM_LN_INSTANCE(__nv_bfloat16, __nv_bfloat16)
TFM_LN_INSTANCE(__nv_bfloat16, float)
