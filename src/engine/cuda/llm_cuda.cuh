// llm_cuda.cuh - the CUDA backend of the LLM engine, shared by its rooms: the context, the
// device weight record, 16-bit helpers and the launchers of each op's kernels (one op per file:
// gemv.cu, gemv_int4.cu, gemm.cu, attention.cu, elementwise.cu, moe.cu; llm_cuda.cu holds the
// backend table).
//
// Activations: the residual stream X, QKV and GU are float; the linear layers' inputs H, ATT
// and ACT, the KV cache and the embedding are 16-bit (bf16, or fp16 for an fp16 model).
#ifndef HWSCOPE_ENGINE_CUDA_LLM_CUDA_CUH
#define HWSCOPE_ENGINE_CUDA_LLM_CUDA_CUH

#include "engine/llm_att_split.h"
#include "engine/llm_backend.h"
#include "engine/llm_quant.h"
#include "gpu/cuda_check.cuh"

#include <cstdint>
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#define LLM_ATT_SMALL_ROWS 8 // runs of at most this many rows: decode GEMV and attention splits

// A weight on the device: linear ones in fmt (int8/int4 with fp16 scales per group), vectors
// and the embedding as float (norms, bias) or 16-bit (embedding).
struct llm_dev_weight {
    int rows, cols;
    hws_llm_format fmt; // storage of q
    void *q;            // 16-bit values, int8 codes or packed int4 codes; float for vectors
    uint16_t *scales;   // [rows, cols / HWS_LLM_GROUP] fp16, int formats
};

// The cuBLASLt products of prefill: a handle, a workspace and the algorithms found per shape.
struct llm_gemm;

struct llm_cuda {
    hws_llm_shape s;
    hws_llm_format fmt;
    int bf16; // activation type: 1 bf16, 0 fp16
    int max_rows, max_batch, max_ctx, qkv_w;
    // keys per attention block: small runs (decode) cut the cache finer, for enough blocks;
    // decode takes att_split_small << att_class, the depth class of its rows
    // (hws_att_split_class, set with them), < att_classes, and a graph per batch and class
    int att_split_small, att_split_large, att_class, att_classes;
    size_t att_parts; // (row, head, block) partial results att_o and att_ml hold
    cudaStream_t stream;
    llm_dev_weight *w; // [(n_layers + 1) * HWS_LLM_W_COUNT], globals in the last slot
    float *x, *qkv, *gu, *logits;
    uint16_t *h, *att, *act;
    uint16_t *k_cache, *v_cache; // [n_layers][max_batch][n_kv_heads][max_ctx][head_dim]
    float *att_o;                // [rows][n_heads][blocks][head_dim]
    float *att_ml;               // [rows][n_heads][blocks][2] (max, sum)
    int *att_count; // [rows][n_kv_heads][hws_att_head_parts] key blocks done (decode attention)
    float *inv_freq;
    // mixture of experts: router logits [max_rows, n_experts], the choice [max_rows, k] and
    // down's per-slot outputs [max_rows, k, d_model] before they are summed
    float *router, *sel_w, *moe_out;
    int32_t *sel_ids;
    int32_t *routes; // [n_layers][max_rows][k] the choice of every layer of the last forward
    // prefill's experts by cuBLASLt (moe.cu): the choice on the host (pinned), the (row, slot)
    // of each gathered row grouped by expert (-1: padding), the gathered inputs and outputs
    int32_t *moe_ids_host, *moe_src_host, *moe_src;
    uint16_t *moe_xg;
    float *moe_yg;
    int32_t *rows_dev;  // tokens, seq, pos: 3 * max_rows
    int32_t *rows_host; // pinned staging of the same
    int rows_one_seq;   // the rows set last all belong to one sequence (a prefill chunk)
    uint16_t *dequant;  // 16-bit copy of one quantised weight for cuBLASLt (int formats)
    size_t dequant_elems;
    llm_gemm *gemm;
    cudaGraphExec_t *graphs; // [max_batch + 1][HWS_ATT_CLASSES], decode steps by batch, class
    // Decode runs of 1-2 rows of a dense model fuse SwiGLU into the gate-up product (fused) and,
    // in bf16, each RMSNorm into the products around it (fused_norm; llm_gemv_out), as set by
    // the embedding op for the forward it starts; norm_sums holds the sums of squares of the
    // residual per norm slot (llm_norm_slot), row and lane; norm_pending is the slot whose
    // product is next.
    int fused, fused_norm, norm_pending;
    float *norm_sums;
    // profiling: when on, each op is timed alone with events into prof_ms[kind]
    int profiling;
    double prof_ms[16], prof_bytes[16];
    int prof_count[16];
    cudaEvent_t ev0, ev1;
};

static inline llm_dev_weight *llm_weight(llm_cuda *c, int layer, hws_llm_weight w) {
    int l = layer < 0 ? c->s.n_layers : layer;
    return &c->w[(size_t)l * HWS_LLM_W_COUNT + w];
}

// Programmatic dependent launch (Hopper): kernels launched by llm_launch may start while the one
// before still runs; each calls pdl_wait() before it reads what earlier kernels wrote (what it
// reads of the weights it may load before), and pdl_launch() once the next may be scheduled.
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

// Launches kernel with programmatic stream serialization allowed (the PDL above).
template <typename... KArgs, typename... Args>
static inline cudaError_t llm_launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem,
                                     cudaStream_t stream, Args... args) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = stream;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    return cudaLaunchKernelEx(&cfg, kernel, ((KArgs)args)...);
}

// 16-bit activation <-> float on the device.
template <bool BF> __device__ __forceinline__ float act_f(uint16_t v) {
    if (BF)
        return __uint_as_float((uint32_t)v << 16);
    return __half2float(__ushort_as_half(v));
}
template <bool BF> __device__ __forceinline__ uint16_t f_act(float v) {
    if (BF)
        return __bfloat16_as_ushort(__float2bfloat16_rn(v));
    return __half_as_ushort(__float2half_rn(v));
}
// Two floats as one word of 16-bit activations, a in the low half (the lower address).
template <bool BF> __device__ __forceinline__ uint32_t f_act2(float a, float b) {
    return (uint32_t)f_act<BF>(a) | (uint32_t)f_act<BF>(b) << 16;
}
// SwiGLU's activation silu(gate) * up as a 16-bit value.
template <bool BF> __device__ __forceinline__ uint16_t swiglu_act(float gate, float up) {
    return f_act<BF>(gate / (1.0f + __expf(-gate)) * up);
}

// The first key position a query at pos sees (window 0: no sliding window).
__device__ __forceinline__ int llm_window_start(int pos, int window) {
    return window > 0 && pos >= window ? pos - window + 1 : 0;
}

// Offset of layer's K (or V) cache in c->k_cache (c->v_cache), elements.
static inline size_t llm_cache_layer_at(const llm_cuda *c, int layer) {
    return (size_t)layer * c->max_batch * c->s.n_kv_heads * c->max_ctx * c->s.head_dim;
}

// Where a decode product's result goes (1-8 rows; the SwiGLU and RMSNorm parts 1-2 rows).
#define LLM_NORM_LANES 32 // partial sums of squares per row of a fused RMSNorm
#define LLM_FUSED_ROWS 2  // rows of x the SwiGLU and RMSNorm parts take at most
struct llm_gemv_out {
    float *y; // y (+)= x W^T
    int ldy, accumulate;
    uint16_t *act; // or, non-null (a gate-up weight, llm_store): SwiGLU's activation
    int ld_act;
    // Producer of a fused RMSNorm (the product adds into the residual y): norm_h[b, i] =
    // y[b, i] gamma[i] (16-bit) and norm_sums_out[b][i % LLM_NORM_LANES] += y[b, i]^2.
    const float *norm_gamma;
    uint16_t *norm_h;
    int norm_ldh;
    float *norm_sums_out;
    // Consumer (x is such a norm_h): the result times rsqrt(sum(norm_sums_in[b]) / k + eps).
    const float *norm_sums_in;
    float norm_eps;
};

// The slot of the norm before layer's attention (ATTN_NORM), before its FFN (FFN_NORM), or
// the final one (OUT_NORM) in c->norm_sums: [slot][LLM_FUSED_ROWS][LLM_NORM_LANES].
static inline int llm_norm_slot(const llm_cuda *c, int layer, hws_llm_weight norm) {
    return norm == HWS_LLM_W_OUT_NORM ? 2 * c->s.n_layers
                                      : 2 * layer + (norm == HWS_LLM_W_FFN_NORM ? 1 : 0);
}
static inline float *llm_norm_sums(llm_cuda *c, int slot) {
    return c->norm_sums + (size_t)slot * LLM_FUSED_ROWS * LLM_NORM_LANES;
}
// Bytes of c->norm_sums: every slot.
static inline size_t llm_norm_sums_bytes(const hws_llm_shape &s) {
    return (size_t)(2 * s.n_layers + 1) * LLM_FUSED_ROWS * LLM_NORM_LANES * sizeof(float);
}

// A fused RMSNorm's scale for x row b (the consumer side; 1 without one), by a whole warp.
__device__ __forceinline__ float llm_norm_scale(const llm_gemv_out &o, int b, int k) {
    if (!o.norm_sums_in)
        return 1.0f;
    float s = o.norm_sums_in[b * LLM_NORM_LANES + (threadIdx.x & 31)];
    for (int m = 16; m > 0; m >>= 1)
        s += __shfl_xor_sync(0xffffffffu, s, m);
    return rsqrtf(s / (float)k + o.norm_eps);
}
// What a product's epilogue reads besides its sums: element i of residual row b that it adds
// to (0 when it does not accumulate) and that element's norm gamma (0 without a fused norm).
// The products may read both before their pdl_wait: only o and down accumulate, and they follow
// attention and gate-up, so the residual was written two kernels back at the latest, and a
// kernel starts only after the one before it passed its pdl_wait.
__device__ __forceinline__ float llm_residual_in(const llm_gemv_out &o, int b, int i) {
    return o.accumulate ? o.y[(size_t)b * o.ldy + i] : 0.0f;
}
__device__ __forceinline__ float llm_norm_gamma(const llm_gemv_out &o, int i) {
    return o.norm_h ? o.norm_gamma[i] : 0.0f;
}
// y_new, element i of residual row b, into a fused RMSNorm (the producer side; nothing
// without one); gamma: llm_norm_gamma(o, i).
template <bool BF>
__device__ __forceinline__ void llm_norm_put(const llm_gemv_out &o, int b, int i, float y_new,
                                             float gamma) {
    if (!o.norm_h)
        return;
    o.norm_h[(size_t)b * o.norm_ldh + i] = f_act<BF>(y_new * gamma);
    atomicAdd(o.norm_sums_out + b * LLM_NORM_LANES + (i & (LLM_NORM_LANES - 1)), y_new * y_new);
}

// y[rows, w->rows] (+)= x[rows, w->cols] W^T; rows <= 8: own GEMV (weights read once for all
// rows); more: cuBLASLt (int formats dequantised first).
hws_status llm_linear(llm_cuda *c, float *y, int ldy, const uint16_t *x, int ldx, int rows,
                      const llm_dev_weight *w, int accumulate, hws_error *err);
hws_status llm_gemv(llm_cuda *c, float *y, int ldy, const uint16_t *x, int ldx, int rows,
                    const llm_dev_weight *w, int accumulate, hws_error *err);
// The same into o (SwiGLU and RMSNorm parts: 1-2 rows).
hws_status llm_gemv_to(llm_cuda *c, const llm_gemv_out &o, const uint16_t *x, int ldx, int rows,
                       const llm_dev_weight *w, hws_error *err);
// The tensor-core GEMV of int4 weights for one or two rows (gemv_int4.cu), and whether it takes
// w.
bool llm_gemv_int4_fits(const llm_dev_weight *w, int rows);
hws_status llm_gemv_int4(llm_cuda *c, const llm_gemv_out &o, const uint16_t *x, int ldx, int rows,
                         const llm_dev_weight *w, hws_error *err);
// 16-bit W of a quantised weight into c->dequant.
hws_status llm_dequant(llm_cuda *c, const llm_dev_weight *w, hws_error *err);

hws_status llm_gemm_new(llm_gemm **out, hws_error *err);
void llm_gemm_free(llm_gemm *g);
// y[m, n] (fp32, ldy) = or += x[m, k] (16-bit) W[n, k]^T (16-bit), on stream.
hws_status llm_gemm_run(llm_gemm *g, cudaStream_t stream, int bf16, float *y, int ldy,
                        const uint16_t *x, int ldx, const uint16_t *w, int m, int n, int k,
                        int accumulate, hws_error *err);

hws_status llm_attention(llm_cuda *c, int layer, int rows, hws_error *err);
// Whether llm_attention applies RoPE and writes the cache itself for these rows (the rope op
// then does nothing).
bool llm_attention_fuses_rope(const llm_cuda *c, int rows);
// Whether the prefill kernel takes these rows (more than a decode run, one sequence, a head
// dimension it was written for), and the kernel.
bool llm_attention_prefill_fits(const llm_cuda *c, int rows);
hws_status llm_attention_prefill(llm_cuda *c, int layer, int rows, hws_error *err);

// The rows' embeddings into the residual X; with gamma (a fused RMSNorm, rows <= 2) also
// norm_h = X gamma (16-bit) and each row's sum of squares into norm_sums[row][0].
hws_status llm_embed(llm_cuda *c, int rows, const float *gamma, uint16_t *norm_h, float *norm_sums,
                     hws_error *err);
hws_status llm_rmsnorm(llm_cuda *c, uint16_t *out, const float *x, const float *g, int rows,
                       hws_error *err);
hws_status llm_rope_cache(llm_cuda *c, int layer, int rows, hws_error *err);
hws_status llm_swiglu(llm_cuda *c, int rows, hws_error *err);
// MoE (moe.cu): the experts of each row from c->router; an experts' op of llm_backend.h.
// Gathered rows of prefill's grouped experts at most: every (row, slot) plus each expert's pad.
size_t llm_moe_gathered_rows(const hws_llm_shape *s, int max_rows);
hws_status llm_route(llm_cuda *c, int layer, int rows, hws_error *err);
hws_status llm_experts(llm_cuda *c, int layer, hws_llm_weight w, int rows, hws_error *err);
// Stores n values into w (converted to its fmt): src[i], or offset + scale * uniform(i, seed)
// when src is NULL. gate_up (a dense [2 d_ff, k] weight): rows are stored in runs of 8 gate rows
// then the same 8 up rows (llm_gate_up_row), for the SwiGLU products and kernel.
hws_status llm_store(llm_cuda *c, llm_dev_weight *w, const float *src, uint64_t seed, float scale,
                     float offset, int gate_up, hws_error *err);
// The source row of stored row r of a gate-up weight of 2 f rows (see llm_store).
__host__ __device__ __forceinline__ int llm_gate_up_row(int r, int f) {
    return (r & 8 ? f : 0) + 8 * (r >> 4) + (r & 7);
}

#endif
