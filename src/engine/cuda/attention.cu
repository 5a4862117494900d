// attention.cu - attention of the LLM engine over the KV cache, for decode and prefill alike:
// split-K (flash-decoding). A block takes one (key/value head, row, key block): the query heads
// of its group score the block's keys (scores in shared memory), take their softmax and sum the
// values; a second kernel merges the key blocks of each (row, head). Every row reads its own
// sequence's cache up to its own position (causal prefill falls out), from pos - window + 1
// with a sliding window. Positions come from device memory, so a captured graph is reusable.
#include "engine/cuda/llm_cuda.cuh"

#define ATT_THREADS 128
#define ATT_GROUP   16 // query heads per key/value head, at most

struct att_params {
    const float *qkv;
    const uint16_t *k, *v; // this layer's cache
    float *o, *ml;
    const int32_t *seq, *pos;
    int qkv_w, nh, nkv, hd, max_batch, max_ctx, split, blocks, window;
    float scale;
    uint16_t *out; // the merged result (the warp kernel merges in its last block)
    int *count;    // [rows][nkv * head_parts] blocks done, back to 0 after each merge
    // the warp kernel's RoPE and cache write: q/k/v bias (or null), frequencies, the cache
    const float *bias, *inv_freq;
    uint16_t *k_out, *v_out;
    int rope;       // 0: the rope op has run (q rotated in place, k and v in the cache)
    int head_parts; // the warp kernel's blocks a (row, key/value head, key block): 1 for the rest
};

// The softmax of each head's nk scores (rows of score, split apart), a warp per head: the
// scores become exp(s - max), and each head's max and sum go to red_m and red_l.
__device__ __forceinline__ void block_softmax(float *score, int split, int nk, int group, int warps,
                                              float *red_m, float *red_l) {
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    for (int g = warp; g < group; g += warps) {
        float *sg = score + g * split;
        float m = -INFINITY;
        for (int j = lane; j < nk; j += 32)
            m = fmaxf(m, sg[j]);
        for (int o = 16; o > 0; o >>= 1)
            m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
        float l = 0.0f;
        for (int j = lane; j < nk; j += 32) {
            float e = __expf(sg[j] - m);
            sg[j] = e;
            l += e;
        }
        for (int o = 16; o > 0; o >>= 1)
            l += __shfl_xor_sync(0xffffffffu, l, o);
        if (lane == 0) {
            red_m[g] = m;
            red_l[g] = l;
        }
    }
}

template <bool BF> __global__ void __launch_bounds__(ATT_THREADS) att_split_kernel(att_params p) {
    extern __shared__ float smem[];
    pdl_wait();
    pdl_launch();
    const int kvh = blockIdx.x, row = blockIdx.y, blk = blockIdx.z;
    const int pos = p.pos[row], group = p.nh / p.nkv;
    const int k_lo = max(blk * p.split, llm_window_start(pos, p.window)),
              k_hi = min((blk + 1) * p.split, pos + 1);
    if (k_lo >= k_hi)
        return;
    const int nk = k_hi - k_lo, hd = p.hd;
    float *q = smem;                  // [group][hd]
    float *score = smem + group * hd; // [group][split]
    __shared__ float red_m[ATT_GROUP], red_l[ATT_GROUP];
    for (int i = threadIdx.x; i < group * hd; i += blockDim.x)
        q[i] = p.qkv[(size_t)row * p.qkv_w + (size_t)kvh * group * hd + i] * p.scale;
    __syncthreads();
    const size_t head_at =
        (((size_t)p.seq[row] * p.nkv + kvh) * p.max_ctx) * hd; // this head's cache
    // scores: a thread per key
    for (int j = threadIdx.x; j < nk; j += blockDim.x) {
        const uint16_t *kr = p.k + head_at + (size_t)(k_lo + j) * hd;
        float s[ATT_GROUP];
#pragma unroll
        for (int g = 0; g < ATT_GROUP; g++)
            s[g] = 0.0f;
        for (int d = 0; d < hd; d += 8) {
            uint4 kv = *(const uint4 *)(kr + d);
            const uint16_t *ke = (const uint16_t *)&kv;
            float kf[8];
#pragma unroll
            for (int e = 0; e < 8; e++)
                kf[e] = act_f<BF>(ke[e]);
#pragma unroll
            for (int g = 0; g < ATT_GROUP; g++)
                if (g < group)
#pragma unroll
                    for (int e = 0; e < 8; e++)
                        s[g] = fmaf(q[g * hd + d + e], kf[e], s[g]);
        }
#pragma unroll
        for (int g = 0; g < ATT_GROUP; g++)
            if (g < group)
                score[g * p.split + j] = s[g];
    }
    __syncthreads();
    block_softmax(score, p.split, nk, group, ATT_THREADS / 32, red_m, red_l);
    __syncthreads();
    // values: a thread per dimension, every head of the group
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc[ATT_GROUP];
#pragma unroll
        for (int g = 0; g < ATT_GROUP; g++)
            acc[g] = 0.0f;
        const uint16_t *vp = p.v + head_at + (size_t)k_lo * hd + d;
#pragma unroll 8
        for (int j = 0; j < nk; j++) {
            float v = act_f<BF>(vp[(size_t)j * hd]);
#pragma unroll
            for (int g = 0; g < ATT_GROUP; g++)
                if (g < group)
                    acc[g] = fmaf(score[g * p.split + j], v, acc[g]);
        }
#pragma unroll
        for (int g = 0; g < ATT_GROUP; g++)
            if (g < group) {
                size_t at = ((size_t)row * p.nh + kvh * group + g) * p.blocks + blk;
                p.o[at * hd + d] = acc[g];
            }
    }
    if (threadIdx.x < group) {
        size_t at = ((size_t)row * p.nh + kvh * group + threadIdx.x) * p.blocks + blk;
        p.ml[2 * at] = red_m[threadIdx.x];
        p.ml[2 * at + 1] = red_l[threadIdx.x];
    }
}

// E consecutive 16-bit values (E = 2, 4 or 8) in one load, and as floats.
template <int E> __device__ __forceinline__ void load_raw(const uint16_t *p, uint32_t (&u)[E / 2]) {
    if (E == 2) {
        u[0] = *(const uint32_t *)p;
    } else if (E == 4) {
        uint2 v = *(const uint2 *)p;
        u[0] = v.x;
        u[1 % (E / 2)] = v.y; // (indices in bounds for every E the compiler instantiates)
    } else {
        uint4 v = *(const uint4 *)p;
        u[0] = v.x;
        u[1 % (E / 2)] = v.y;
        u[2 % (E / 2)] = v.z;
        u[3 % (E / 2)] = v.w;
    }
}
template <bool BF, int E>
__device__ __forceinline__ void raw_to_f(const uint32_t (&u)[E / 2], float *f) {
#pragma unroll
    for (int i = 0; i < E / 2; i++) {
        f[2 * i] = act_f<BF>((uint16_t)(u[i] & 0xffffu));
        f[2 * i + 1] = act_f<BF>((uint16_t)(u[i] >> 16));
    }
}
template <bool BF, int E> __device__ __forceinline__ void load_e(const uint16_t *p, float *f) {
    uint32_t u[E / 2];
    load_raw<E>(p, u);
    raw_to_f<BF, E>(u, f);
}

// 16 bytes from global to shared memory without registers (cp.async; waited for by
// cp_async_wait_all).
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem) {
    unsigned at = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(at), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_wait_all() {
    asm volatile("cp.async.commit_group;\ncp.async.wait_group 0;" ::: "memory");
}

// The same split as att_split_kernel for decode rows, with the warps across the head dimension:
// lane l holds elements l*E.. of every query head of the group, a warp scores one key per
// step with shuffles, and sums values the same way; the eight warps take every eighth key and
// add their partial outputs in shared memory. The block's keys and values are copied into
// shared memory first (cp.async): with RoPE here the cache before pos was written by earlier
// steps, so the copies go out before waiting on the q/k/v product and the memory's latency
// leaves the chain that follows it. The last block of a (row, key/value head) to finish merges
// the blocks (no second kernel). Blocks past the row's keys end before waiting.
#define ATT_WARP_THREADS (HWS_ATT_WARPS * 32)
template <bool BF, int E, int G>
__global__ void __launch_bounds__(ATT_WARP_THREADS) att_warp_kernel(att_params p) {
    extern __shared__ float smem[];
    // blockIdx.x: key/value head kvh, and which part of its query heads (hws_att_head_parts)
    const int kvh = blockIdx.x / p.head_parts, hpart = blockIdx.x % p.head_parts;
    const int row = blockIdx.y, blk = blockIdx.z, hd = p.hd;
    const int group = p.nh / p.nkv, per_part = (group + p.head_parts - 1) / p.head_parts;
    const int h0 = kvh * group + hpart * per_part, heads = min(per_part, group - hpart * per_part);
    const int pos = p.pos[row]; // (set before the graph ran)
    const int k_lo = max(blk * p.split, llm_window_start(pos, p.window)),
              k_hi = min((blk + 1) * p.split, pos + 1);
    const int nk = k_hi - k_lo, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    constexpr int WARPS = ATT_WARP_THREADS / 32;
    const size_t head_at = (((size_t)p.seq[row] * p.nkv + kvh) * p.max_ctx) * hd;
    if (k_lo >= k_hi)
        return;
    float *score = smem; // [heads][split]
    // the block's keys and values [split][hd] each, and later in the same space the warps'
    // partial outputs [WARPS][heads][hd]
    uint16_t *k_s = (uint16_t *)(smem + (size_t)heads * p.split), *v_s = k_s + p.split * hd;
    float *part = smem + (size_t)heads * p.split;
    __shared__ float red_m[ATT_GROUP], red_l[ATT_GROUP];
    // keys and values k_lo.. into k_s, v_s (but pos's with RoPE here: written below)
    auto copy_kv = [&] {
        const int per_row = hd / 8;
        for (int i = threadIdx.x; i < nk * per_row; i += ATT_WARP_THREADS) {
            int j = i / per_row, c = i % per_row;
            if (p.rope && k_lo + j == pos)
                continue;
            size_t at = head_at + (size_t)(k_lo + j) * hd + c * 8;
            cp_async16(k_s + j * hd + c * 8, p.k + at);
            cp_async16(v_s + j * hd + c * 8, p.v + at);
        }
    };
    if (p.rope)
        copy_kv();
    // RoPE here (rotate-half): element d = lane * E + e pairs with d +- hd/2, held by lane ^ 16;
    // its angles before the wait (pos was set before the graph ran). With the embedding's runs
    // (elementwise.cu), H100, 2026-12-06, Llama-3.1-8B decode: int4 424.9 -> 435.0, bf16 181.4
    // -> 182.5 tokens/s; attention added 13.3 -> 11.6 us a layer to the step
    const int half = hd / 2;
    const bool first_half = lane * E < half;
    float cs[E], sn[E];
#pragma unroll
    for (int e = 0; e < E; e++)
        sincosf((float)pos * p.inv_freq[(lane * E + e) % half], &sn[e], &cs[e]);
    pdl_wait();
    pdl_launch();
    if (!p.rope) // (the rope op wrote the cache)
        copy_kv();
    const float *qkv_row = p.qkv + (size_t)row * p.qkv_w;
    // head h of qkv_row (q heads, then k, then v), this lane's elements with the bias added;
    // then rotated (rotate-half, the partner's element from lane ^ 16)
    auto load_head = [&](int h, float(&raw)[E]) {
#pragma unroll
        for (int e = 0; e < E; e++) {
            int d = h * hd + lane * E + e;
            raw[e] = qkv_row[d] + (p.rope && p.bias ? p.bias[d] : 0.0f);
        }
    };
    auto rotate = [&](float(&x)[E]) {
#pragma unroll
        for (int e = 0; e < E; e++) {
            float partner = __shfl_xor_sync(0xffffffffu, x[e], 16);
            x[e] = !p.rope      ? x[e]
                   : first_half ? x[e] * cs[e] - partner * sn[e]
                                : x[e] * cs[e] + partner * sn[e];
        }
    };
    // the block that holds pos writes the new key and value (warp 0; to the cache, the first
    // part of the query heads' only; each part to its shared memory): their loads go out with
    // the query's, one round trip for all (with the one-pass merge below, H100, 2026-12-06,
    // Llama-3.1-8B decode: int4 458.5 -> 465.0, bf16 185.1 -> 185.8 tokens/s; the merge alone
    // int4 460.9)
    const bool new_kv = p.rope && k_hi == pos + 1 && warp == 0;
    float k_new[E], v_new[E];
    if (new_kv) {
        load_head(p.nh + kvh, k_new);
        load_head(p.nh + p.nkv + kvh, v_new);
    }
    float q[G][E];
#pragma unroll
    for (int g = 0; g < G; g++)
        if (g < heads)
            load_head(h0 + g, q[g]);
#pragma unroll
    for (int g = 0; g < G; g++)
        if (g < heads) {
            rotate(q[g]);
#pragma unroll
            for (int e = 0; e < E; e++)
                q[g][e] *= p.scale;
        }
    if (new_kv) {
        rotate(k_new);
        const int j = pos - k_lo;
#pragma unroll
        for (int e = 0; e < E; e++) {
            uint16_t kh = f_act<BF>(k_new[e]), vh = f_act<BF>(v_new[e]);
            k_s[j * hd + lane * E + e] = kh;
            v_s[j * hd + lane * E + e] = vh;
            if (hpart == 0) {
                p.k_out[head_at + (size_t)pos * hd + lane * E + e] = kh;
                p.v_out[head_at + (size_t)pos * hd + lane * E + e] = vh;
            }
        }
    }
    cp_async_wait_all();
    __syncthreads();
    // key j's scores
    auto score_key = [&](int j) {
        float kf[E];
        load_e<BF, E>(k_s + j * hd + lane * E, kf);
#pragma unroll
        for (int g = 0; g < G; g++)
            if (g < heads) {
                float s = 0.0f;
#pragma unroll
                for (int e = 0; e < E; e++)
                    s = fmaf(q[g][e], kf[e], s);
#pragma unroll
                for (int o = 16; o > 0; o >>= 1)
                    s += __shfl_xor_sync(0xffffffffu, s, o);
                if (lane == 0)
                    score[g * p.split + j] = s;
            }
    };
#pragma unroll 4
    for (int j = warp; j < nk; j += WARPS)
        score_key(j);
    __syncthreads();
    block_softmax(score, p.split, nk, heads, WARPS, red_m, red_l);
    __syncthreads();
    float acc[G][E];
#pragma unroll
    for (int g = 0; g < G; g++)
#pragma unroll
        for (int e = 0; e < E; e++)
            acc[g][e] = 0.0f;
#pragma unroll 4
    for (int j = warp; j < nk; j += WARPS) {
        float vf[E];
        load_e<BF, E>(v_s + j * hd + lane * E, vf);
#pragma unroll
        for (int g = 0; g < G; g++)
            if (g < heads) {
                float pr = score[g * p.split + j];
#pragma unroll
                for (int e = 0; e < E; e++)
                    acc[g][e] = fmaf(pr, vf[e], acc[g][e]);
            }
    }
    __syncthreads(); // (the values' space becomes part)
#pragma unroll
    for (int g = 0; g < G; g++)
        if (g < heads)
#pragma unroll
            for (int e = 0; e < E; e++)
                part[((size_t)warp * heads + g) * hd + lane * E + e] = acc[g][e];
    __syncthreads();
    for (int i = threadIdx.x; i < heads * hd; i += ATT_WARP_THREADS) {
        float o = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; w++)
            o += part[(size_t)w * heads * hd + i];
        int g = i / hd, d = i % hd;
        size_t at = ((size_t)row * p.nh + h0 + g) * p.blocks + blk;
        p.o[at * hd + d] = o;
    }
    if (threadIdx.x < heads) {
        size_t at = ((size_t)row * p.nh + h0 + threadIdx.x) * p.blocks + blk;
        p.ml[2 * at] = red_m[threadIdx.x];
        p.ml[2 * at + 1] = red_l[threadIdx.x];
    }
    // the last block of this (row, kvh, hpart) merges: the barrier orders the block's writes of
    // its partial results before thread 0's fence, which makes them visible to the device before
    // its count (cumulativity; as cooperative groups' grid sync releases a block)
    __shared__ int last;
    __syncthreads();
    const int b0 = llm_window_start(pos, p.window) / p.split, b1 = pos / p.split;
    if (threadIdx.x == 0) {
        int *done = p.count + (size_t)row * gridDim.x + blockIdx.x;
        __threadfence();
        last = atomicAdd(done, 1) == b1 - b0;
        if (last)
            *done = 0;
    }
    __syncthreads();
    if (!last)
        return;
    __threadfence();
    // each element of the block's heads over the row's blocks in one pass (an online softmax:
    // the running max rescales what came before), the loads of up to 16 blocks out at once;
    // a warp per head first weighing the blocks cost two more round trips to L2
    const int nb = b1 - b0 + 1;
    for (int i = threadIdx.x; i < heads * hd; i += ATT_WARP_THREADS) {
        int g = i / hd, d = i % hd, h = h0 + g;
        const size_t at0 = ((size_t)row * p.nh + h) * p.blocks + b0;
        const float *ml = p.ml + 2 * at0, *o = p.o + at0 * hd + d;
        float m = -INFINITY, l = 0.0f, acc = 0.0f;
#pragma unroll 16
        for (int b = 0; b < nb; b++) {
            float mb = __ldcg(ml + 2 * b), lb = __ldcg(ml + 2 * b + 1);
            float ob = __ldcg(o + (size_t)b * hd);
            float mn = fmaxf(m, mb), old = __expf(m - mn), now = __expf(mb - mn);
            l = fmaf(l, old, lb * now);
            acc = fmaf(acc, old, ob * now);
            m = mn;
        }
        p.out[(size_t)row * p.nh * hd + (size_t)h * hd + d] = f_act<BF>(acc / l);
    }
}

// out[row, h] = the key blocks of (row, h) merged: a block per (row, head), a thread per dim.
template <bool BF> __global__ void att_merge_kernel(att_params p, uint16_t *out) {
    pdl_wait();
    pdl_launch();
    const int h = blockIdx.x, row = blockIdx.y, pos = p.pos[row];
    const int b0 = llm_window_start(pos, p.window) / p.split, b1 = pos / p.split;
    const size_t base = ((size_t)row * p.nh + h) * p.blocks;
    float m = -INFINITY;
    for (int b = b0; b <= b1; b++)
        m = fmaxf(m, p.ml[2 * (base + b)]);
    float l = 0.0f;
    for (int b = b0; b <= b1; b++)
        l += __expf(p.ml[2 * (base + b)] - m) * p.ml[2 * (base + b) + 1];
    for (int d = threadIdx.x; d < p.hd; d += blockDim.x) {
        float acc = 0.0f;
        for (int b = b0; b <= b1; b++)
            acc += __expf(p.ml[2 * (base + b)] - m) * p.o[(base + b) * p.hd + d];
        out[(size_t)row * p.nh * p.hd + (size_t)h * p.hd + d] = f_act<BF>(acc / l);
    }
}

// The warp kernel for e elements per lane and a block's query heads (its registers hold
// G >= heads: 2 or HWS_ATT_HEADS).
template <bool BF, int E> static void (*warp_kernel_g(int heads))(att_params) {
    return heads <= 2 ? att_warp_kernel<BF, E, 2> : att_warp_kernel<BF, E, HWS_ATT_HEADS>;
}
template <bool BF> static void (*warp_kernel(int e, int heads))(att_params) {
    return e == 2   ? warp_kernel_g<BF, 2>(heads)
           : e == 4 ? warp_kernel_g<BF, 4>(heads)
                    : warp_kernel_g<BF, 8>(heads);
}

// The warp kernel takes up to LLM_ATT_SMALL_ROWS rows where the head dimension splits into 2,
// 4 or 8 per lane, the smallest split's shared memory fits (att_classes > 0) and its last block
// can merge a row's blocks; the thread-per-key kernel the rest.
static bool warp_fits(const llm_cuda *c, int rows) {
    int e = c->s.head_dim / 32;
    return rows <= LLM_ATT_SMALL_ROWS && c->s.head_dim % 32 == 0 && (e == 2 || e == 4 || e == 8) &&
           c->att_classes > 0 && hws_att_merge_fits(&c->s, c->max_ctx, c->att_split_small);
}

// It applies RoPE and writes the cache itself where no row reads another row's new key: one
// row, or rows of different sequences (decode).
bool llm_attention_fuses_rope(const llm_cuda *c, int rows) {
    return warp_fits(c, rows) && (rows == 1 || !c->rows_one_seq);
}

hws_status llm_attention(llm_cuda *c, int layer, int rows, hws_error *err) {
    const hws_llm_shape &s = c->s;
    size_t layer_at = llm_cache_layer_at(c, layer);
    att_params p;
    p.qkv = c->qkv;
    p.k = c->k_cache + layer_at;
    p.v = c->v_cache + layer_at;
    p.o = c->att_o;
    p.ml = c->att_ml;
    p.seq = c->rows_dev + c->max_rows;
    p.pos = c->rows_dev + 2 * c->max_rows;
    p.qkv_w = c->qkv_w;
    p.nh = s.n_heads;
    p.nkv = s.n_kv_heads;
    p.hd = s.head_dim;
    p.max_batch = c->max_batch;
    p.max_ctx = c->max_ctx;
    p.split = rows <= LLM_ATT_SMALL_ROWS ? c->att_split_small << c->att_class : c->att_split_large;
    p.blocks = (c->max_ctx + p.split - 1) / p.split;
    p.window = s.sliding_window;
    p.scale = 1.0f / sqrtf((float)s.head_dim);
    p.out = c->att;
    p.count = c->att_count;
    p.bias = s.qkv_bias ? (const float *)llm_weight(c, layer, HWS_LLM_B_QKV)->q : nullptr;
    p.inv_freq = c->inv_freq;
    p.k_out = c->k_cache + layer_at;
    p.v_out = c->v_cache + layer_at;
    int group = s.n_heads / s.n_kv_heads, e = s.head_dim / 32;
    bool warp = warp_fits(c, rows);
    p.rope = llm_attention_fuses_rope(c, rows);
    p.head_parts = warp ? hws_att_head_parts(&s) : 1;
    dim3 grid((unsigned)(s.n_kv_heads * p.head_parts), (unsigned)rows, (unsigned)p.blocks);
    void (*split)(att_params) = nullptr;
    size_t smem = ((size_t)group * s.head_dim + (size_t)group * p.split) * sizeof(float);
    if (warp) {
        int heads = hws_att_block_heads(&s);
        smem = hws_att_smem_bytes(&s, p.split);
        split = c->bf16 ? warp_kernel<true>(e, heads) : warp_kernel<false>(e, heads);
    } else {
        split = c->bf16 ? att_split_kernel<true> : att_split_kernel<false>;
    }
    if (smem > 48 * 1024)
        HWS_CUDA_RET(
            cudaFuncSetAttribute(split, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    llm_launch(split, grid, dim3(warp ? ATT_WARP_THREADS : ATT_THREADS), smem, c->stream, p);
    if (warp)
        return hws_cuda_status(cudaGetLastError(), "attention kernel launch", err);
    if (c->bf16)
        llm_launch(att_merge_kernel<true>, dim3((unsigned)s.n_heads, (unsigned)rows), dim3(128), 0,
                   c->stream, p, c->att);
    else
        llm_launch(att_merge_kernel<false>, dim3((unsigned)s.n_heads, (unsigned)rows), dim3(128), 0,
                   c->stream, p, c->att);
    return hws_cuda_status(cudaGetLastError(), "attention kernel launch", err);
}
