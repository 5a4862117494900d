/* tfm_attention.cu - the Transformer engine's attention kernels (a warp per row for short key
 * sequences, flash-style tiles for long ones) and their host launcher. */
#include "engine/cuda/tfm_common.cuh"

#include <math.h>

#define ATT_WARPS 4  /* warps per block */
#define ATT_ROWS  4  /* query rows per warp in the tiled kernel */
#define ATT_TILE  32 /* keys per shared-memory tile, one per lane */

/* Address of element d of head h at sequence position s, batch n, in a sequence-first view. */
template <typename T>
__device__ inline const T *row_at(const void *base, int ld, int s, int n, int N, int h, int hd) {
    return (const T *)base + ((size_t)s * N + n) * ld + h * hd;
}

/* Short key sequences (Skv <= 32, e.g. the guide's S=1): one warp per (query, batch, head) row;
 * scores by warp reductions, softmax over the lanes, values read coalesced. PL = ceil(hd/32). */
template <typename T, int PL> __global__ void attention_short_kernel(attn_params p) {
    grid_wait();
    int lane = threadIdx.x % 32;
    long g = (long)blockIdx.x * ATT_WARPS + threadIdx.x / 32;
    if (g >= (long)p.Sq * p.N * p.nhead)
        return;
    int h = (int)(g % p.nhead), n = (int)(g / p.nhead % p.N), i = (int)(g / p.nhead / p.N);
    const T *q = row_at<T>(p.q, p.ldq, i, n, p.N, h, p.hd);
    float qv[PL];
#pragma unroll
    for (int r = 0; r < PL; r++) {
        int d = lane + 32 * r;
        qv[r] = d < p.hd ? to_f(q[d]) * p.scale : 0.0f;
    }
    float mine = -INFINITY; /* lane j keeps the score of key j */
    for (int j = 0; j < p.Skv; j++) {
        const T *k = row_at<T>(p.k, p.ldk, j, n, p.N, h, p.hd);
        float s = 0;
#pragma unroll
        for (int r = 0; r < PL; r++) {
            int d = lane + 32 * r;
            if (d < p.hd)
                s += qv[r] * to_f(k[d]);
        }
        s = warp_sum(s);
        if (lane == j)
            mine = s;
    }
    float m = warp_max(mine);
    float e = lane < p.Skv ? __expf(mine - m) : 0.0f;
    float inv = 1.0f / warp_sum(e);
    float acc[PL] = {};
    for (int j = 0; j < p.Skv; j++) {
        float pj = __shfl_sync(0xffffffffu, e, j) * inv;
        const T *v = row_at<T>(p.v, p.ldv, j, n, p.N, h, p.hd);
#pragma unroll
        for (int r = 0; r < PL; r++) {
            int d = lane + 32 * r;
            if (d < p.hd)
                acc[r] += pj * to_f(v[d]);
        }
    }
    T *o = (T *)p.out + ((size_t)i * p.N + n) * p.ldo + h * p.hd;
#pragma unroll
    for (int r = 0; r < PL; r++) {
        int d = lane + 32 * r;
        if (d < p.hd)
            o[d] = from_f<T>(acc[r]);
    }
    grid_done();
}

/* Long sequences, flash-style: block = ATT_WARPS*ATT_ROWS query rows of one (batch, head); keys
 * and values stream through shared memory 32 at a time with an online softmax, so no score
 * matrix is stored; each key tile serves all the block's rows. */
template <typename T, int PL> __global__ void attention_tiled_kernel(attn_params p) {
    extern __shared__ float sm[];
    grid_wait();
    int hd = p.hd, kst = hd + 1;
    float *Ks = sm, *Vs = Ks + ATT_TILE * kst, *Qs = Vs + ATT_TILE * hd;
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int n = blockIdx.y / p.nhead, h = blockIdx.y % p.nhead;
    int i0 = blockIdx.x * ATT_WARPS * ATT_ROWS;
    for (int x = threadIdx.x; x < ATT_WARPS * ATT_ROWS * hd; x += blockDim.x) {
        int r = x / hd, d = x % hd, i = i0 + r;
        Qs[x] = i < p.Sq ? to_f(row_at<T>(p.q, p.ldq, i, n, p.N, h, hd)[d]) * p.scale : 0.0f;
    }
    const float *qs = Qs + warp * ATT_ROWS * hd;
    float acc[ATT_ROWS][PL] = {}, m[ATT_ROWS], l[ATT_ROWS] = {};
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++)
        m[r] = -INFINITY;
    for (int j0 = 0; j0 < p.Skv; j0 += ATT_TILE) {
        int nk = min(ATT_TILE, p.Skv - j0);
        __syncthreads(); /* the last tile is used up (and Qs is written, the first time) */
        for (int x = threadIdx.x; x < nk * hd; x += blockDim.x) {
            int j = x / hd, d = x % hd;
            Ks[j * kst + d] = to_f(row_at<T>(p.k, p.ldk, j0 + j, n, p.N, h, hd)[d]);
            Vs[j * hd + d] = to_f(row_at<T>(p.v, p.ldv, j0 + j, n, p.N, h, hd)[d]);
        }
        __syncthreads();
        float s[ATT_ROWS] = {};
        if (lane < nk)
            for (int d = 0; d < hd; d++) {
                float kd = Ks[lane * kst + d];
#pragma unroll
                for (int r = 0; r < ATT_ROWS; r++)
                    s[r] += qs[r * hd + d] * kd;
            }
        float pr[ATT_ROWS];
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            float sr = lane < nk ? s[r] : -INFINITY;
            float m_new = fmaxf(m[r], warp_max(sr));
            pr[r] = lane < nk ? __expf(sr - m_new) : 0.0f;
            float corr = __expf(m[r] - m_new);
            l[r] = l[r] * corr + warp_sum(pr[r]);
            m[r] = m_new;
#pragma unroll
            for (int c = 0; c < PL; c++)
                acc[r][c] *= corr;
        }
        for (int jj = 0; jj < nk; jj++) {
            float v[PL];
#pragma unroll
            for (int c = 0; c < PL; c++) {
                int d = lane + 32 * c;
                v[c] = d < hd ? Vs[jj * hd + d] : 0.0f;
            }
#pragma unroll
            for (int r = 0; r < ATT_ROWS; r++) {
                float pj = __shfl_sync(0xffffffffu, pr[r], jj);
#pragma unroll
                for (int c = 0; c < PL; c++)
                    acc[r][c] += pj * v[c];
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        int i = i0 + warp * ATT_ROWS + r;
        if (i >= p.Sq)
            continue;
        T *o = (T *)p.out + ((size_t)i * p.N + n) * p.ldo + h * hd;
#pragma unroll
        for (int c = 0; c < PL; c++) {
            int d = lane + 32 * c;
            if (d < hd)
                o[d] = from_f<T>(acc[r][c] / l[r]);
        }
    }
    grid_done();
}

static size_t attn_smem(int hd) {
    return (size_t)(ATT_TILE * (hd + 1) + ATT_TILE * hd + ATT_WARPS * ATT_ROWS * hd) *
           sizeof(float);
}

template <typename T, int PL>
static cudaError_t launch_attention_pl(const attn_params &p, launch_on s) {
    if (p.Skv <= 32) {
        long rows = (long)p.Sq * p.N * p.nhead;
        return launch(s, dim3((unsigned)((rows + ATT_WARPS - 1) / ATT_WARPS)), dim3(ATT_WARPS * 32),
                      0, attention_short_kernel<T, PL>, p);
    }
    int per_block = ATT_WARPS * ATT_ROWS;
    dim3 grid((p.Sq + per_block - 1) / per_block, p.N * p.nhead);
    size_t smem = attn_smem(p.hd);
    cudaError_t e = cudaFuncSetAttribute(attention_tiled_kernel<T, PL>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess)
        return e;
    return launch(s, grid, dim3(ATT_WARPS * 32), smem, attention_tiled_kernel<T, PL>, p);
}

/* Picks the kernel instance for the head size: PL = ceil(hd / 32) rounded up to 2, 4 or 8. */
template <typename T> cudaError_t tfm_launch_attention(const attn_params &p, launch_on s) {
    if (p.hd <= 64)
        return launch_attention_pl<T, 2>(p, s);
    if (p.hd <= 128)
        return launch_attention_pl<T, 4>(p, s);
    return launch_attention_pl<T, 8>(p, s);
}

template cudaError_t tfm_launch_attention<float>(const attn_params &p, launch_on s);
template cudaError_t tfm_launch_attention<__half>(const attn_params &p, launch_on s);
template cudaError_t tfm_launch_attention<__nv_bfloat16>(const attn_params &p, launch_on s);
