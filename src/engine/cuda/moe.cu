// moe.cu - the mixture-of-experts ops of the LLM engine: the choice of experts (a thread per row
// running hws_llm_route_row on the router's logits, on the device so a decode step stays one CUDA
// Graph) and the experts' products, which read only the chosen experts' weight rows: a block
// column per expert (grid y) returns at once when no row of the launch chose it, else each warp
// streams one weight row of that expert once and multiplies it by every row that chose it (a
// batch reads the union of its experts). Down's per-slot outputs are then summed into the
// residual at the routing weights, in slot order (no atomics: the same sum every run).
// A prefill of MOE_GROUP_ROWS rows or more (not captured: it waits for the choice on the host)
// runs each expert once on the tensor cores instead: its rows gathered, padded to a multiple of
// MOE_PAD (so the GEMM shapes, and cuBLASLt's plan of each, repeat), multiplied by cuBLASLt (int
// formats dequantised one expert at a time) and scattered back to their slots.
#include "engine/cuda/gemv_chunk.cuh"
#include "engine/llm_moe.h"

#define MOE_WARPS      4
#define MOE_ROWS       8  // rows of x per launch (a row chooses an expert at most once)
#define MOE_GROUP_ROWS 64 // rows from which a prefill groups the rows by expert
#define MOE_PAD        64 // an expert's gathered rows are padded to a multiple of this

size_t llm_moe_gathered_rows(const hws_llm_shape *s, int max_rows) {
    return (size_t)max_rows * s->n_experts_used + (size_t)s->n_experts * (MOE_PAD - 1);
}

// ids and weights of each row; the ids also into log, the layer's slice of c->routes
__global__ void route_kernel(const float *logits, int n, int k, int rows, int32_t *ids,
                             float *weights, int32_t *log) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows)
        return;
    hws_llm_route_row(logits + (size_t)r * n, n, k, ids + (size_t)r * k, weights + (size_t)r * k);
    for (int j = 0; j < k; j++)
        log[(size_t)r * k + j] = ids[(size_t)r * k + j];
}

hws_status llm_route(llm_cuda *c, int layer, int rows, hws_error *err) {
    // a pointer per layer, the same every step: a captured decode step replays it as it is
    const int k = c->s.n_experts_used;
    int32_t *log = c->routes + (size_t)layer * c->max_rows * k;
    route_kernel<<<(rows + 63) / 64, 64, 0, c->stream>>>(c->router, c->s.n_experts, k, rows,
                                                         c->sel_ids, c->sel_w, log);
    return hws_cuda_status(cudaGetLastError(), "route kernel launch", err);
}

// y[r, slot j, o] = W_e[o] . x[r, slot j] for the (r, j) of this launch's rows that chose
// expert e = blockIdx.y; W_e is rows [e per, (e + 1) per) of W. xslot 0: every slot reads x[r].
template <bool BF, int FMT, int U>
__global__ void __launch_bounds__(MOE_WARPS * 32)
    experts_kernel(const uint8_t *__restrict__ W, const uint16_t *__restrict__ scales, int per,
                   int k, const uint16_t *__restrict__ x, int ldx, int xslot, float *__restrict__ y,
                   int ldy, int yslot, const int32_t *__restrict__ ids, int rows, int slots) {
    constexpr int E = chunk_of<FMT>::elems;
    __shared__ int pick[MOE_ROWS];
    __shared__ int npick;
    const int e = blockIdx.y;
    if (threadIdx.x == 0)
        npick = 0;
    __syncthreads();
    // the (row, slot) pairs that chose e, in any order (each pair's sum is its own)
    for (int rj = threadIdx.x; rj < rows * slots; rj += blockDim.x)
        if (ids[rj] == e) {
            int at = atomicAdd(&npick, 1);
            if (at < MOE_ROWS)
                pick[at] = rj;
        }
    __syncthreads();
    const int m = npick < MOE_ROWS ? npick : MOE_ROWS, lane = threadIdx.x & 31;
    const int o = blockIdx.x * MOE_WARPS + (threadIdx.x >> 5);
    if (m == 0 || o >= per)
        return;
    const int chunks = k / E, groups = k / HWS_LLM_GROUP;
    const size_t row = (size_t)e * per + o;
    const size_t row_bytes = (size_t)chunks * 16;
    const uint16_t *xr[MOE_ROWS];
    float sum[MOE_ROWS];
#pragma unroll
    for (int b = 0; b < MOE_ROWS; b++) {
        int rj = pick[b < m ? b : 0];
        xr[b] = x + (size_t)(rj / slots) * ldx + (size_t)(rj % slots) * xslot;
        sum[b] = 0.0f;
    }
    for (int c0 = lane; c0 < chunks; c0 += 32 * U) {
        uint4 wv[1][U];
        float sc[1][U];
        load_chunks<FMT, 1, U>(W, scales, (int)row, 1, (int)row + 1, c0, 32, chunks, row_bytes,
                               groups, wv, sc);
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + 32 * u;
            if (c >= chunks)
                break;
#pragma unroll
            for (int b = 0; b < MOE_ROWS; b++)
                if (b < m)
                    sum[b] =
                        fmaf(chunk_dot<BF, FMT>(wv[0][u], xr[b] + (size_t)c * E), sc[0][u], sum[b]);
        }
    }
#pragma unroll
    for (int b = 0; b < MOE_ROWS; b++) {
        if (b >= m)
            break;
        float v = sum[b];
#pragma unroll
        for (int s = 16; s > 0; s >>= 1)
            v += __shfl_xor_sync(0xffffffffu, v, s);
        if (lane == 0) {
            int rj = pick[b];
            y[(size_t)(rj / slots) * ldy + (size_t)(rj % slots) * yslot + o] = v;
        }
    }
}

template <bool BF, int FMT>
static void launch_experts(const llm_cuda *c, const llm_dev_weight *w, const uint16_t *x, int ldx,
                           int xslot, float *y, int ldy, int yslot, const int32_t *ids, int rows) {
    constexpr int U = FMT == 0 ? 4 : 2;
    int per = w->rows / c->s.n_experts;
    dim3 grid((unsigned)((per + MOE_WARPS - 1) / MOE_WARPS), (unsigned)c->s.n_experts);
    experts_kernel<BF, FMT, U><<<grid, MOE_WARPS * 32, 0, c->stream>>>(
        (const uint8_t *)w->q, w->scales, per, w->cols, x, ldx, xslot, y, ldy, yslot, ids, rows,
        c->s.n_experts_used);
}

// x[r] += sum over slots j of weights[r, j] * part[r, j] (slot order)
__global__ void combine_kernel(float *x, const float *part, const float *weights, int d,
                               int slots) {
    const int r = blockIdx.x;
    for (int o = threadIdx.x; o < d; o += blockDim.x) {
        float acc = x[(size_t)r * d + o];
        for (int j = 0; j < slots; j++)
            acc = fmaf(weights[(size_t)r * slots + j], part[((size_t)r * slots + j) * d + o], acc);
        x[(size_t)r * d + o] = acc;
    }
}

// xg[i] = x[r, slot j] for src[i] = r slots + j, zeros for src[i] = -1 (a block per row)
__global__ void gather_kernel(uint16_t *xg, const uint16_t *x, int ldx, int xslot,
                              const int32_t *src, int cols, int slots) {
    const int rj = src[blockIdx.x], r = rj < 0 ? 0 : rj / slots, j = rj < 0 ? 0 : rj % slots;
    uint16_t *out = xg + (size_t)blockIdx.x * cols;
    const uint16_t *in = x + (size_t)r * ldx + (size_t)j * xslot;
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        out[i] = rj < 0 ? (uint16_t)0 : in[i];
}

// y[r, slot j] = yg[i] for src[i] = r slots + j >= 0 (a block per gathered row)
__global__ void scatter_kernel(float *y, int ldy, int yslot, const float *yg, const int32_t *src,
                               int per, int slots) {
    const int rj = src[blockIdx.x];
    if (rj < 0)
        return;
    float *out = y + (size_t)(rj / slots) * ldy + (size_t)(rj % slots) * yslot;
    for (int o = threadIdx.x; o < per; o += blockDim.x)
        out[o] = yg[(size_t)blockIdx.x * per + o];
}

// Expert e's rows of a stacked experts' weight, as a weight of its own.
static llm_dev_weight expert_view(const llm_cuda *c, const llm_dev_weight *all, int e) {
    llm_dev_weight v = *all;
    v.rows = all->rows / c->s.n_experts;
    size_t elems = (size_t)v.rows * v.cols * e;
    size_t bytes = v.fmt == HWS_LLM_INT8 ? elems : (v.fmt == HWS_LLM_INT4 ? elems / 2 : 2 * elems);
    v.q = (uint8_t *)all->q + bytes;
    if (all->scales)
        v.scales = all->scales + elems / HWS_LLM_GROUP;
    return v;
}

// The grouped product: y[r, slot j] = W_e x[r, slot j] for every chosen (r, j), expert by expert.
static hws_status experts_grouped(llm_cuda *c, const llm_dev_weight *dw, int rows,
                                  const uint16_t *x, int ldx, int xslot, float *y, int ldy,
                                  int yslot, hws_error *err) {
    const int slots = c->s.n_experts_used, ne = c->s.n_experts;
    const int per = dw->rows / ne, cols = dw->cols, n = rows * slots;
    HWS_CUDA_RET(cudaMemcpyAsync(c->moe_ids_host, c->sel_ids, (size_t)n * 4, cudaMemcpyDeviceToHost,
                                 c->stream));
    HWS_CUDA_RET(cudaStreamSynchronize(c->stream));
    int start[HWS_LLM_MAX_EXPERTS + 1], at = 0; // at most c->moe_src_max rows by construction
    for (int e = 0; e < ne; e++) {
        start[e] = at;
        for (int rj = 0; rj < n; rj++)
            if (c->moe_ids_host[rj] == e)
                c->moe_src_host[at++] = rj;
        while ((at - start[e]) % MOE_PAD)
            c->moe_src_host[at++] = -1;
    }
    start[ne] = at;
    if (at == 0)
        return HWS_OK;
    HWS_CUDA_RET(cudaMemcpyAsync(c->moe_src, c->moe_src_host, (size_t)at * 4,
                                 cudaMemcpyHostToDevice, c->stream));
    gather_kernel<<<at, 256, 0, c->stream>>>(c->moe_xg, x, ldx, xslot, c->moe_src, cols, slots);
    hws_status st = hws_cuda_status(cudaGetLastError(), "gather kernel launch", err);
    for (int e = 0; e < ne && st == HWS_OK; e++) {
        int m = start[e + 1] - start[e];
        if (m == 0)
            continue;
        llm_dev_weight v = expert_view(c, dw, e);
        const uint16_t *w16 = (const uint16_t *)v.q;
        if (v.fmt == HWS_LLM_INT8 || v.fmt == HWS_LLM_INT4) {
            st = llm_dequant(c, &v, err);
            w16 = c->dequant;
        }
        if (st == HWS_OK)
            st = llm_gemm_run(c->gemm, c->stream, c->bf16, c->moe_yg + (size_t)start[e] * per, per,
                              c->moe_xg + (size_t)start[e] * cols, cols, w16, m, per, cols, 0, err);
    }
    if (st != HWS_OK)
        return st;
    scatter_kernel<<<at, 256, 0, c->stream>>>(y, ldy, yslot, c->moe_yg, c->moe_src, per, slots);
    return hws_cuda_status(cudaGetLastError(), "scatter kernel launch", err);
}

hws_status llm_experts(llm_cuda *c, int layer, hws_llm_weight w, int rows, hws_error *err) {
    const llm_dev_weight *dw = llm_weight(c, layer, w);
    const int slots = c->s.n_experts_used, down = w == HWS_LLM_W_EXP_DOWN;
    const int ffn = c->s.d_ff_expert, d = c->s.d_model;
    const uint16_t *x = down ? c->act : c->h;
    const int ldx = down ? slots * ffn : d, xslot = down ? ffn : 0;
    float *y = down ? c->moe_out : c->gu;
    const int ldy = down ? slots * d : slots * 2 * ffn, yslot = down ? d : 2 * ffn;
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    HWS_CUDA_RET(cudaStreamIsCapturing(c->stream, &capture));
    hws_status st = HWS_OK;
    if (rows >= MOE_GROUP_ROWS && capture == cudaStreamCaptureStatusNone)
        st = experts_grouped(c, dw, rows, x, ldx, xslot, y, ldy, yslot, err);
    else
        for (int r0 = 0; r0 < rows; r0 += MOE_ROWS) {
            int n = rows - r0 < MOE_ROWS ? rows - r0 : MOE_ROWS;
            const uint16_t *xr = x + (size_t)r0 * ldx;
            float *yr = y + (size_t)r0 * ldy;
            const int32_t *ids = c->sel_ids + (size_t)r0 * slots;
            if (dw->fmt == HWS_LLM_INT8)
                launch_experts<true, 1>(c, dw, xr, ldx, xslot, yr, ldy, yslot, ids, n);
            else if (dw->fmt == HWS_LLM_INT4)
                launch_experts<true, 2>(c, dw, xr, ldx, xslot, yr, ldy, yslot, ids, n);
            else if (c->bf16)
                launch_experts<true, 0>(c, dw, xr, ldx, xslot, yr, ldy, yslot, ids, n);
            else
                launch_experts<false, 0>(c, dw, xr, ldx, xslot, yr, ldy, yslot, ids, n);
        }
    if (st == HWS_OK && down)
        combine_kernel<<<rows, 256, 0, c->stream>>>(c->x, c->moe_out, c->sel_w, d, slots);
    return st == HWS_OK ? hws_cuda_status(cudaGetLastError(), "experts kernel launch", err) : st;
}
