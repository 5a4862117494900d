// elementwise.cu - the LLM engine's small CUDA ops: embedding lookup, RMSNorm, bias + RoPE +
// cache write, SwiGLU, and storing weights (from floats or seeded random) in their format.
#include "engine/cuda/llm_cuda.cuh"

// v summed over the block (at most 32 warps), in every thread: warp shuffles, then the warps'
// sums in order.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float part[32];
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    if ((threadIdx.x & 31) == 0)
        part[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++)
        total += part[w];
    return total;
}

// A block per row; with gamma (a fused RMSNorm) also the row times gamma and its sum of squares.
// Each thread loads its EMBED_RUN elements (and gammas) before it stores any, one memory round
// trip a run instead of one an element (measured with attention.cu's RoPE angles before its wait).
#define EMBED_RUN 8
template <bool BF>
__global__ void embed_kernel(const uint16_t *__restrict__ table, const int32_t *__restrict__ tokens,
                             float *__restrict__ x, int d, const float *__restrict__ gamma,
                             uint16_t *__restrict__ norm_h, float *__restrict__ norm_sums) {
    pdl_wait();
    pdl_launch();
    const uint16_t *e = table + (size_t)tokens[blockIdx.x] * d;
    float *xr = x + (size_t)blockIdx.x * d;
    uint16_t *hr = norm_h ? norm_h + (size_t)blockIdx.x * d : nullptr;
    const int step = (int)blockDim.x;
    float ss = 0.0f;
    for (int i0 = (int)threadIdx.x; i0 < d; i0 += EMBED_RUN * step) {
        float v[EMBED_RUN], g[EMBED_RUN];
#pragma unroll
        for (int u = 0; u < EMBED_RUN; u++) {
            int i = i0 + u * step;
            v[u] = i < d ? act_f<BF>(e[i]) : 0.0f;
            g[u] = gamma && i < d ? gamma[i] : 0.0f;
        }
#pragma unroll
        for (int u = 0; u < EMBED_RUN; u++) {
            int i = i0 + u * step;
            if (i >= d)
                break;
            xr[i] = v[u];
            if (gamma) {
                hr[i] = f_act<BF>(v[u] * g[u]);
                ss = fmaf(v[u], v[u], ss);
            }
        }
    }
    if (!gamma)
        return;
    float total = block_sum(ss);
    if (threadIdx.x == 0)
        norm_sums[blockIdx.x * LLM_NORM_LANES] = total;
}

hws_status llm_embed(llm_cuda *c, int rows, const float *gamma, uint16_t *norm_h, float *norm_sums,
                     hws_error *err) {
    const uint16_t *t = (const uint16_t *)llm_weight(c, -1, HWS_LLM_W_EMBED)->q;
    if (c->bf16)
        llm_launch(embed_kernel<true>, dim3((unsigned)rows), dim3(256), 0, c->stream, t,
                   c->rows_dev, c->x, c->s.d_model, gamma, norm_h, norm_sums);
    else
        llm_launch(embed_kernel<false>, dim3((unsigned)rows), dim3(256), 0, c->stream, t,
                   c->rows_dev, c->x, c->s.d_model, gamma, norm_h, norm_sums);
    return hws_cuda_status(cudaGetLastError(), "embed kernel launch", err);
}

// A block per row, a float4 of the row per thread and pass (d a multiple of 4): the mean of
// squares by warp shuffles and shared memory, then the scaled row. Wide blocks keep the latency
// of one row (the whole of decode) to two memory round trips.
#define NORM_THREADS 512
template <bool BF>
__global__ void __launch_bounds__(NORM_THREADS)
    rmsnorm_kernel(uint16_t *out, const float *x, const float *g, int d, float eps) {
    pdl_wait();
    pdl_launch();
    const float4 *xr = (const float4 *)(x + (size_t)blockIdx.x * d);
    const int quads = d / 4;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < quads; i += blockDim.x) {
        float4 v = xr[i];
        ss = fmaf(v.x, v.x, fmaf(v.y, v.y, fmaf(v.z, v.z, fmaf(v.w, v.w, ss))));
    }
    const float inv = rsqrtf(block_sum(ss) / (float)d + eps);
    const float4 *g4 = (const float4 *)g;
    uint2 *o2 = (uint2 *)(out + (size_t)blockIdx.x * d);
    for (int i = threadIdx.x; i < quads; i += blockDim.x) {
        float4 v = xr[i], w = g4[i];
        o2[i] = make_uint2(f_act2<BF>(v.x * inv * w.x, v.y * inv * w.y),
                           f_act2<BF>(v.z * inv * w.z, v.w * inv * w.w));
    }
}

hws_status llm_rmsnorm(llm_cuda *c, uint16_t *out, const float *x, const float *g, int rows,
                       hws_error *err) {
    int quads = c->s.d_model / 4;
    int threads = quads >= NORM_THREADS ? NORM_THREADS : (quads + 31) / 32 * 32;
    if (c->bf16)
        llm_launch(rmsnorm_kernel<true>, dim3((unsigned)rows), dim3((unsigned)threads), 0,
                   c->stream, out, x, g, c->s.d_model, c->s.rms_eps);
    else
        llm_launch(rmsnorm_kernel<false>, dim3((unsigned)rows), dim3((unsigned)threads), 0,
                   c->stream, out, x, g, c->s.d_model, c->s.rms_eps);
    return hws_cuda_status(cudaGetLastError(), "rmsnorm kernel launch", err);
}

// A block per (heads of q, k or v, row), a thread per pair (e, e + hd/2): bias, then q and k
// rotated by pos (rotate-half) and k written into the cache of seq at pos; v (bias added) is
// written into the cache as it is.
template <bool BF>
__global__ void rope_cache_kernel(float *qkv, const float *bias, const float *inv_freq,
                                  const int32_t *seq, const int32_t *pos, uint16_t *kc,
                                  uint16_t *vc, int qkv_w, int nh, int nkv, int hd, int max_ctx) {
    pdl_wait();
    pdl_launch();
    const int h = blockIdx.x * blockDim.y + threadIdx.y, row = blockIdx.y, half = hd / 2,
              e = threadIdx.x, p = pos[row];
    if (e >= half || h >= nh + 2 * nkv)
        return;
    float *v = qkv + (size_t)row * qkv_w + (size_t)h * hd;
    float x0 = v[e], x1 = v[e + half];
    if (bias) {
        x0 += bias[h * hd + e];
        x1 += bias[h * hd + e + half];
    }
    const size_t cache_row = (size_t)seq[row] * nkv * max_ctx;
    if (h >= nh + nkv) { // a value head
        uint16_t *vo = vc + ((cache_row + (size_t)(h - nh - nkv) * max_ctx) + p) * hd;
        vo[e] = f_act<BF>(x0);
        vo[e + half] = f_act<BF>(x1);
        return;
    }
    float sn, cs;
    sincosf((float)p * inv_freq[e], &sn, &cs);
    float y0 = x0 * cs - x1 * sn, y1 = x1 * cs + x0 * sn;
    v[e] = y0;
    v[e + half] = y1;
    if (h >= nh) { // a key head
        uint16_t *k = kc + ((cache_row + (size_t)(h - nh) * max_ctx) + p) * hd;
        k[e] = f_act<BF>(y0);
        k[e + half] = f_act<BF>(y1);
    }
}

hws_status llm_rope_cache(llm_cuda *c, int layer, int rows, hws_error *err) {
    const hws_llm_shape &s = c->s;
    size_t layer_at = llm_cache_layer_at(c, layer);
    const float *bias =
        s.qkv_bias ? (const float *)llm_weight(c, layer, HWS_LLM_B_QKV)->q : nullptr;
    const int32_t *seq = c->rows_dev + c->max_rows, *pos = c->rows_dev + 2 * c->max_rows;
    // one head per block for decode rows (many blocks for few rows), eight for prefill rows
    int heads = s.n_heads + 2 * s.n_kv_heads, per_block = rows > LLM_ATT_SMALL_ROWS ? 8 : 1;
    dim3 grid((unsigned)((heads + per_block - 1) / per_block), (unsigned)rows);
    dim3 threads((unsigned)(s.head_dim / 2 + 31) / 32 * 32, (unsigned)per_block);
    if (c->bf16)
        llm_launch(rope_cache_kernel<true>, grid, threads, 0, c->stream, c->qkv, bias, c->inv_freq,
                   seq, pos, c->k_cache + layer_at, c->v_cache + layer_at, c->qkv_w, s.n_heads,
                   s.n_kv_heads, s.head_dim, c->max_ctx);
    else
        llm_launch(rope_cache_kernel<false>, grid, threads, 0, c->stream, c->qkv, bias, c->inv_freq,
                   seq, pos, c->k_cache + layer_at, c->v_cache + layer_at, c->qkv_w, s.n_heads,
                   s.n_kv_heads, s.head_dim, c->max_ctx);
    return hws_cuda_status(cudaGetLastError(), "rope kernel launch", err);
}

// act[r, j] = silu(gate[r, j]) * up[r, j] over gu[r]: [gate | up] for the experts' slots, runs
// of 8 gate then 8 up values for a dense FFN (runs8, llm_store): a block row per row of gu,
// four values per thread (d_ff a multiple of 8).
template <bool BF> __global__ void swiglu_kernel(const float *gu, uint16_t *act, int f, int runs8) {
    pdl_wait();
    pdl_launch();
    const int r = blockIdx.y, j = (blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if (j >= f)
        return;
    const float *gr = gu + (size_t)r * 2 * f;
    const int at_gate = runs8 ? 16 * (j >> 3) + (j & 7) : j, at_up = runs8 ? at_gate + 8 : f + j;
    const float4 g = *(const float4 *)(gr + at_gate), u = *(const float4 *)(gr + at_up);
    *(uint2 *)(act + (size_t)r * f + j) =
        make_uint2((uint32_t)swiglu_act<BF>(g.x, u.x) | (uint32_t)swiglu_act<BF>(g.y, u.y) << 16,
                   (uint32_t)swiglu_act<BF>(g.z, u.z) | (uint32_t)swiglu_act<BF>(g.w, u.w) << 16);
}

hws_status llm_swiglu(llm_cuda *c, int rows, hws_error *err) {
    // a row per FFN slot: 1 per row, or the experts each row uses
    int f = hws_llm_ffn_width(&c->s), slot_rows = rows * hws_llm_ffn_slots(&c->s);
    dim3 grid((unsigned)((f / 4 + 255) / 256), (unsigned)slot_rows);
    int runs8 = c->s.n_experts == 0;
    if (c->bf16)
        llm_launch(swiglu_kernel<true>, grid, dim3(256), 0, c->stream, c->gu, c->act, f, runs8);
    else
        llm_launch(swiglu_kernel<false>, grid, dim3(256), 0, c->stream, c->gu, c->act, f, runs8);
    return hws_cuda_status(cudaGetLastError(), "swiglu kernel launch", err);
}

// ---- weights ----

// Stored element i's value: element i of the source, or (gate_f > 0, a gate-up weight of 2
// gate_f rows of cols) the element its row was moved from.
struct store_src {
    const float *src;
    uint64_t seed;
    float scale, offset;
    int cols, gate_f;
};

__device__ __forceinline__ float source(const store_src &s, size_t i) {
    if (s.gate_f > 0)
        i = (size_t)llm_gate_up_row((int)(i / s.cols), s.gate_f) * s.cols + i % s.cols;
    return s.src ? s.src[i] : s.offset + s.scale * hws_llm_uniform(i, s.seed);
}

// kind: 0 float, 1 bf16, 2 fp16
__global__ void store_plain_kernel(void *dst, int kind, size_t n, store_src s) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    float v = source(s, i);
    if (kind == 0)
        ((float *)dst)[i] = v;
    else
        ((uint16_t *)dst)[i] = kind == 1 ? hws_f32_to_bf16(v) : hws_f32_to_f16(v);
}

// a thread per group of HWS_LLM_GROUP values
__global__ void store_group_kernel(uint8_t *q, uint16_t *scales, int int8, size_t groups,
                                   store_src s) {
    size_t g = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= groups)
        return;
    float v[HWS_LLM_GROUP];
    for (int i = 0; i < HWS_LLM_GROUP; i++)
        v[i] = source(s, g * HWS_LLM_GROUP + i);
    uint16_t d = hws_llm_group_scale(v, HWS_LLM_GROUP, int8 ? 127.0f : 7.0f);
    scales[g] = d;
    if (int8) {
        for (int i = 0; i < HWS_LLM_GROUP; i++)
            q[g * HWS_LLM_GROUP + i] = (uint8_t)(int8_t)hws_llm_quant_code(v[i], d, -127, 127);
    } else {
        for (int j = 0; j < HWS_LLM_GROUP / 2; j++)
            q[g * HWS_LLM_GROUP / 2 + j] =
                (uint8_t)((hws_llm_quant_code(v[j], d, -8, 7) + 8) |
                          (hws_llm_quant_code(v[j + HWS_LLM_GROUP / 2], d, -8, 7) + 8) << 4);
    }
}

hws_status llm_store(llm_cuda *c, llm_dev_weight *w, const float *src, uint64_t seed, float scale,
                     float offset, int gate_up, hws_error *err) {
    size_t n = (size_t)w->rows * w->cols;
    store_src s = {src, seed, scale, offset, w->cols, gate_up ? w->rows / 2 : 0};
    if (w->fmt == HWS_LLM_INT8 || w->fmt == HWS_LLM_INT4) {
        size_t groups = n / HWS_LLM_GROUP;
        store_group_kernel<<<(unsigned)((groups + 127) / 128), 128, 0, c->stream>>>(
            (uint8_t *)w->q, w->scales, w->fmt == HWS_LLM_INT8, groups, s);
    } else {
        int kind = w->rows == 1 ? 0 : (w->fmt == HWS_LLM_FP16 ? 2 : 1);
        store_plain_kernel<<<(unsigned)((n + 255) / 256), 256, 0, c->stream>>>(w->q, kind, n, s);
    }
    return hws_cuda_status(cudaGetLastError(), "store kernel launch", err);
}
