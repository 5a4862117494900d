// attention_prefill.cu - causal attention of a prefill chunk (the rows of one sequence) on the
// tensor cores: a block takes 64 query rows of one head and walks the sequence's cached keys
// in tiles of 64 (from the first key any of its rows may see to the last row's position),
// S = Q K^T and O += P V by 16x16x16 WMMA products in 16-bit with float accumulation, the
// softmax kept online per row (flash attention) in shared memory. Head dimension 64 or 128;
// other shapes, and decode batches, take the split kernels of attention.cu.
#include "engine/cuda/llm_cuda.cuh"

#include <climits>
#include <mma.h>

#define PF_BQ      64 // query rows per block
#define PF_BK      64 // keys per tile
#define PF_THREADS 128

using namespace nvcuda;

template <bool BF> struct pf_type { using T = __nv_bfloat16; };
template <> struct pf_type<false> { using T = __half; };

struct pf_params {
    const float *qkv;
    const uint16_t *k, *v; // this layer's cache
    uint16_t *out;
    const int32_t *seq, *pos;
    int rows, qkv_w, nh, nkv, max_ctx, window;
    float scale;
};

// Row strides in shared memory (elements), padded against bank conflicts and kept multiples of
// 16 bytes (32 at fragment starts, as WMMA needs).
template <int HD> struct pf_layout {
    static constexpr int QLD = HD + 8, PLD = PF_BK + 8, SLD = PF_BK + 4, OLD = HD + 4;
    static constexpr size_t Q = 0, K = Q + (size_t)PF_BQ * QLD * 2, V = K + (size_t)PF_BK * QLD * 2,
                            P = V + (size_t)PF_BK * QLD * 2, S = P + (size_t)PF_BQ * PLD * 2,
                            O = S + (size_t)PF_BQ * SLD * 4, M = O + (size_t)PF_BQ * OLD * 4,
                            bytes = M + (size_t)PF_BQ * 3 * 4;
};

template <bool BF, int HD>
__global__ void __launch_bounds__(PF_THREADS) att_prefill_kernel(pf_params p) {
    using T = typename pf_type<BF>::T;
    using L = pf_layout<HD>;
    extern __shared__ __align__(128) unsigned char smem[];
    uint16_t *qs = (uint16_t *)(smem + L::Q), *ks = (uint16_t *)(smem + L::K),
             *vs = (uint16_t *)(smem + L::V), *ps = (uint16_t *)(smem + L::P);
    float *ss = (float *)(smem + L::S), *os = (float *)(smem + L::O);
    float *mrow = (float *)(smem + L::M), *lrow = mrow + PF_BQ;
    int *qpos = (int *)(lrow + PF_BQ);
    pdl_wait();
    pdl_launch();
    const int h = blockIdx.y, kvh = h / (p.nh / p.nkv), r0 = blockIdx.x * PF_BQ;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const size_t head_at = ((size_t)p.seq[0] * p.nkv + kvh) * p.max_ctx * HD;
    for (int i = tid; i < PF_BQ * HD; i += PF_THREADS) {
        int r = i / HD, d = i % HD;
        float x = r0 + r < p.rows ? p.qkv[(size_t)(r0 + r) * p.qkv_w + (size_t)h * HD + d] : 0.0f;
        qs[r * L::QLD + d] = f_act<BF>(x);
        os[r * L::OLD + d] = 0.0f;
    }
    for (int r = tid; r < PF_BQ; r += PF_THREADS) {
        qpos[r] = r0 + r < p.rows ? p.pos[r0 + r] : -1;
        mrow[r] = -INFINITY;
        lrow[r] = 0.0f;
    }
    __syncthreads();
    int lo = INT_MAX, hi = -1; // the keys any row of the tile sees
    for (int r = 0; r < PF_BQ; r++)
        if (qpos[r] >= 0) {
            hi = max(hi, qpos[r]);
            lo = min(lo, llm_window_start(qpos[r], p.window));
        }
    for (int k0 = hi < 0 ? 0 : lo / PF_BK * PF_BK; k0 <= hi; k0 += PF_BK) {
        for (int i = tid; i < PF_BK * HD / 8; i += PF_THREADS) {
            int j = i / (HD / 8), d8 = i % (HD / 8) * 8, key = k0 + j;
            uint4 kv = make_uint4(0, 0, 0, 0), vv = kv;
            if (key <= hi) {
                kv = *(const uint4 *)(p.k + head_at + (size_t)key * HD + d8);
                vv = *(const uint4 *)(p.v + head_at + (size_t)key * HD + d8);
            }
            *(uint4 *)(ks + j * L::QLD + d8) = kv;
            *(uint4 *)(vs + j * L::QLD + d8) = vv;
        }
        __syncthreads();
        // S = Q K^T for this warp's 16 rows
        wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf[PF_BK / 16];
#pragma unroll
        for (int n = 0; n < PF_BK / 16; n++)
            wmma::fill_fragment(sf[n], 0.0f);
#pragma unroll
        for (int kk = 0; kk < HD; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
            wmma::load_matrix_sync(a, (const T *)(qs + warp * 16 * L::QLD + kk), L::QLD);
#pragma unroll
            for (int n = 0; n < PF_BK / 16; n++) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;
                wmma::load_matrix_sync(b, (const T *)(ks + n * 16 * L::QLD + kk), L::QLD);
                wmma::mma_sync(sf[n], a, b, sf[n]);
            }
        }
#pragma unroll
        for (int n = 0; n < PF_BK / 16; n++)
            wmma::store_matrix_sync(ss + warp * 16 * L::SLD + n * 16, sf[n], L::SLD,
                                    wmma::mem_row_major);
        __syncwarp();
        // online softmax of the warp's rows: lane j takes keys k0 + j and k0 + j + 32
        for (int rr = 0; rr < 16; rr++) {
            const int r = warp * 16 + rr, qp = qpos[r], first = llm_window_start(qp, p.window);
            const int key0 = k0 + lane, key1 = key0 + 32;
            const bool ok0 = qp >= 0 && key0 <= qp && key0 >= first,
                       ok1 = qp >= 0 && key1 <= qp && key1 >= first;
            float s0 = ok0 ? ss[r * L::SLD + lane] * p.scale : -INFINITY;
            float s1 = ok1 ? ss[r * L::SLD + lane + 32] * p.scale : -INFINITY;
            float mx = fmaxf(s0, s1);
            for (int o = 16; o > 0; o >>= 1)
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            const float m_old = mrow[r], m_new = fmaxf(m_old, mx);
            const float p0 = ok0 ? __expf(s0 - m_new) : 0.0f, p1 = ok1 ? __expf(s1 - m_new) : 0.0f;
            float sum = p0 + p1;
            for (int o = 16; o > 0; o >>= 1)
                sum += __shfl_xor_sync(0xffffffffu, sum, o);
            const float alpha = m_old == -INFINITY ? 0.0f : __expf(m_old - m_new);
            ps[r * L::PLD + lane] = f_act<BF>(p0);
            ps[r * L::PLD + lane + 32] = f_act<BF>(p1);
            for (int d = lane; d < HD; d += 32)
                os[r * L::OLD + d] *= alpha;
            __syncwarp();
            if (lane == 0) {
                mrow[r] = m_new;
                lrow[r] = lrow[r] * alpha + sum;
            }
        }
        __syncwarp();
        // O += P V for the warp's rows
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pa[PF_BK / 16];
#pragma unroll
        for (int kk = 0; kk < PF_BK / 16; kk++)
            wmma::load_matrix_sync(pa[kk], (const T *)(ps + warp * 16 * L::PLD + kk * 16), L::PLD);
#pragma unroll
        for (int n = 0; n < HD / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
            float *o_at = os + warp * 16 * L::OLD + n * 16;
            wmma::load_matrix_sync(of, o_at, L::OLD, wmma::mem_row_major);
#pragma unroll
            for (int kk = 0; kk < PF_BK / 16; kk++) {
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vb;
                wmma::load_matrix_sync(vb, (const T *)(vs + kk * 16 * L::QLD + n * 16), L::QLD);
                wmma::mma_sync(of, pa[kk], vb, of);
            }
            wmma::store_matrix_sync(o_at, of, L::OLD, wmma::mem_row_major);
        }
        __syncthreads(); // every warp is done with this tile's keys and values
    }
    for (int i = tid; i < PF_BQ * HD; i += PF_THREADS) {
        int r = i / HD, d = i % HD;
        if (r0 + r < p.rows) {
            float l = lrow[r];
            p.out[(size_t)(r0 + r) * p.nh * HD + (size_t)h * HD + d] =
                f_act<BF>(l > 0.0f ? os[r * L::OLD + d] / l : 0.0f);
        }
    }
}

bool llm_attention_prefill_fits(const llm_cuda *c, int rows) {
    return rows > LLM_ATT_SMALL_ROWS && c->rows_one_seq &&
           (c->s.head_dim == 64 || c->s.head_dim == 128);
}

template <bool BF, int HD> static cudaError_t launch(const pf_params &p, cudaStream_t stream) {
    size_t smem = pf_layout<HD>::bytes;
    cudaError_t e = cudaFuncSetAttribute(att_prefill_kernel<BF, HD>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess)
        return e;
    dim3 grid((unsigned)((p.rows + PF_BQ - 1) / PF_BQ), (unsigned)p.nh);
    return llm_launch(att_prefill_kernel<BF, HD>, grid, dim3(PF_THREADS), smem, stream, p);
}

hws_status llm_attention_prefill(llm_cuda *c, int layer, int rows, hws_error *err) {
    const hws_llm_shape &s = c->s;
    size_t layer_at = llm_cache_layer_at(c, layer);
    pf_params p;
    p.qkv = c->qkv;
    p.k = c->k_cache + layer_at;
    p.v = c->v_cache + layer_at;
    p.out = c->att;
    p.seq = c->rows_dev + c->max_rows;
    p.pos = c->rows_dev + 2 * c->max_rows;
    p.rows = rows;
    p.qkv_w = c->qkv_w;
    p.nh = s.n_heads;
    p.nkv = s.n_kv_heads;
    p.max_ctx = c->max_ctx;
    p.window = s.sliding_window;
    p.scale = 1.0f / sqrtf((float)s.head_dim);
    cudaError_t e = cudaSuccess;
    if (s.head_dim == 64)
        e = c->bf16 ? launch<true, 64>(p, c->stream) : launch<false, 64>(p, c->stream);
    else
        e = c->bf16 ? launch<true, 128>(p, c->stream) : launch<false, 128>(p, c->stream);
    if (e == cudaSuccess)
        e = cudaGetLastError();
    return hws_cuda_status(e, "prefill attention kernel launch", err);
}
