// elementwise.cu - the LLM engine's small CUDA ops: embedding lookup, RMSNorm, bias + RoPE +
// cache write, SwiGLU, and storing weights (from floats or seeded random) in their format.
#include "engine/cuda/llm_cuda.cuh"

template <bool BF>
__global__ void embed_kernel(const uint16_t *table, const int32_t *tokens, float *x, int d) {
    const uint16_t *e = table + (size_t)tokens[blockIdx.x] * d;
    for (int i = threadIdx.x; i < d; i += blockDim.x)
        x[(size_t)blockIdx.x * d + i] = act_f<BF>(e[i]);
}

hws_status llm_embed(llm_cuda *c, int rows, hws_error *err) {
    const uint16_t *t = (const uint16_t *)llm_weight(c, -1, HWS_LLM_W_EMBED)->q;
    if (c->bf16)
        embed_kernel<true><<<rows, 256, 0, c->stream>>>(t, c->rows_dev, c->x, c->s.d_model);
    else
        embed_kernel<false><<<rows, 256, 0, c->stream>>>(t, c->rows_dev, c->x, c->s.d_model);
    return hws_cuda_status(cudaGetLastError(), "embed kernel launch", err);
}

// A block per row: mean of squares by warp shuffles and shared memory, then the scaled row.
template <bool BF>
__global__ void __launch_bounds__(256)
    rmsnorm_kernel(uint16_t *out, const float *x, const float *g, int d, float eps) {
    __shared__ float part[8];
    const float *xr = x + (size_t)blockIdx.x * d;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x)
        ss = fmaf(xr[i], xr[i], ss);
    for (int o = 16; o > 0; o >>= 1)
        ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if ((threadIdx.x & 31) == 0)
        part[threadIdx.x >> 5] = ss;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++)
        total += part[w];
    float inv = rsqrtf(total / (float)d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x)
        out[(size_t)blockIdx.x * d + i] = f_act<BF>(xr[i] * inv * g[i]);
}

hws_status llm_rmsnorm(llm_cuda *c, uint16_t *out, const float *x, const float *g, int rows,
                       hws_error *err) {
    if (c->bf16)
        rmsnorm_kernel<true><<<rows, 256, 0, c->stream>>>(out, x, g, c->s.d_model, c->s.rms_eps);
    else
        rmsnorm_kernel<false><<<rows, 256, 0, c->stream>>>(out, x, g, c->s.d_model, c->s.rms_eps);
    return hws_cuda_status(cudaGetLastError(), "rmsnorm kernel launch", err);
}

// A block per row, a thread per (head, pair): bias, rotate q and k by pos (rotate-half), write
// k and v into the cache of seq at pos.
template <bool BF>
__global__ void rope_cache_kernel(float *qkv, const float *bias, const float *inv_freq,
                                  const int32_t *seq, const int32_t *pos, uint16_t *kc,
                                  uint16_t *vc, int qkv_w, int nh, int nkv, int hd, int max_ctx) {
    const int row = blockIdx.x, half = hd / 2, p = pos[row];
    float *q = qkv + (size_t)row * qkv_w;
    const size_t cache_row = (size_t)seq[row] * nkv * max_ctx;
    for (int i = threadIdx.x; i < (nh + nkv) * half; i += blockDim.x) {
        int h = i / half, e = i % half;
        float *v = q + (size_t)h * hd;
        float x0 = v[e], x1 = v[e + half];
        if (bias) {
            x0 += bias[h * hd + e];
            x1 += bias[h * hd + e + half];
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
    for (int i = threadIdx.x; i < nkv * hd; i += blockDim.x) {
        int h = i / hd, e = i % hd, at = (nh + nkv) * hd + i;
        float x = q[at] + (bias ? bias[at] : 0.0f);
        vc[((cache_row + (size_t)h * max_ctx) + p) * hd + e] = f_act<BF>(x);
    }
}

hws_status llm_rope_cache(llm_cuda *c, int layer, int rows, hws_error *err) {
    const hws_llm_shape &s = c->s;
    size_t layer_at = (size_t)layer * c->max_batch * s.n_kv_heads * c->max_ctx * s.head_dim;
    const float *bias =
        s.qkv_bias ? (const float *)llm_weight(c, layer, HWS_LLM_B_QKV)->q : nullptr;
    const int32_t *seq = c->rows_dev + c->max_rows, *pos = c->rows_dev + 2 * c->max_rows;
    if (c->bf16)
        rope_cache_kernel<true><<<rows, 256, 0, c->stream>>>(
            c->qkv, bias, c->inv_freq, seq, pos, c->k_cache + layer_at, c->v_cache + layer_at,
            c->qkv_w, s.n_heads, s.n_kv_heads, s.head_dim, c->max_ctx);
    else
        rope_cache_kernel<false><<<rows, 256, 0, c->stream>>>(
            c->qkv, bias, c->inv_freq, seq, pos, c->k_cache + layer_at, c->v_cache + layer_at,
            c->qkv_w, s.n_heads, s.n_kv_heads, s.head_dim, c->max_ctx);
    return hws_cuda_status(cudaGetLastError(), "rope kernel launch", err);
}

template <bool BF> __global__ void swiglu_kernel(const float *gu, uint16_t *act, int f, int rows) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)rows * f)
        return;
    size_t r = i / f, j = i % f;
    float g = gu[r * 2 * f + j], u = gu[r * 2 * f + f + j];
    act[i] = f_act<BF>(g / (1.0f + __expf(-g)) * u);
}

hws_status llm_swiglu(llm_cuda *c, int rows, hws_error *err) {
    int f = hws_llm_ffn_width(&c->s), slot_rows = rows * hws_llm_ffn_slots(&c->s); // a row a slot
    size_t n = (size_t)slot_rows * f;
    unsigned blocks = (unsigned)((n + 255) / 256);
    if (c->bf16)
        swiglu_kernel<true><<<blocks, 256, 0, c->stream>>>(c->gu, c->act, f, slot_rows);
    else
        swiglu_kernel<false><<<blocks, 256, 0, c->stream>>>(c->gu, c->act, f, slot_rows);
    return hws_cuda_status(cudaGetLastError(), "swiglu kernel launch", err);
}

// ---- weights ----

__device__ __forceinline__ float source(const float *src, size_t i, uint64_t seed, float scale,
                                        float offset) {
    return src ? src[i] : offset + scale * hws_llm_uniform(i, seed);
}

// kind: 0 float, 1 bf16, 2 fp16
__global__ void store_plain_kernel(void *dst, int kind, size_t n, const float *src, uint64_t seed,
                                   float scale, float offset) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    float v = source(src, i, seed, scale, offset);
    if (kind == 0)
        ((float *)dst)[i] = v;
    else
        ((uint16_t *)dst)[i] = kind == 1 ? hws_f32_to_bf16(v) : hws_f32_to_f16(v);
}

// a thread per group of HWS_LLM_GROUP values
__global__ void store_group_kernel(uint8_t *q, uint16_t *scales, int int8, size_t groups,
                                   const float *src, uint64_t seed, float scale, float offset) {
    size_t g = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= groups)
        return;
    float v[HWS_LLM_GROUP];
    for (int i = 0; i < HWS_LLM_GROUP; i++)
        v[i] = source(src, g * HWS_LLM_GROUP + i, seed, scale, offset);
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
                     float offset, hws_error *err) {
    size_t n = (size_t)w->rows * w->cols;
    if (w->fmt == HWS_LLM_INT8 || w->fmt == HWS_LLM_INT4) {
        size_t groups = n / HWS_LLM_GROUP;
        store_group_kernel<<<(unsigned)((groups + 127) / 128), 128, 0, c->stream>>>(
            (uint8_t *)w->q, w->scales, w->fmt == HWS_LLM_INT8, groups, src, seed, scale, offset);
    } else {
        int kind = w->rows == 1 ? 0 : (w->fmt == HWS_LLM_FP16 ? 2 : 1);
        store_plain_kernel<<<(unsigned)((n + 255) / 256), 256, 0, c->stream>>>(w->q, kind, n, src,
                                                                               seed, scale, offset);
    }
    return hws_cuda_status(cudaGetLastError(), "store kernel launch", err);
}
