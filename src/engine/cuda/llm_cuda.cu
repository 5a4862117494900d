// llm_cuda.cu - the CUDA backend of the LLM engine (llm_backend.h): device memory, weights, the
// op table over the kernels of this folder, and the CUDA Graph of each decode batch size, captured
// on its first step and replayed after (rows, positions and tokens live in device memory).
// Reached from C through hws_llm_cuda_get_api; no C++ exception crosses it (nothing here throws).
#include "engine/cuda/llm_cuda.cuh"

#include <cstdio>
#include <cstdlib>
#include <cstring>

enum {
    PROF_EMBED,
    PROF_NORM,
    PROF_LINEAR0,
    PROF_ROPE = PROF_LINEAR0 + 4,
    PROF_ATT,
    PROF_SWIGLU,
    PROF_LOGITS,
    PROF_ROUTE
};

static const char *const format_names[] = {"bf16", "fp16", "int8", "int4"};

static void destroy(void *ctx) {
    llm_cuda *c = (llm_cuda *)ctx;
    if (!c)
        return;
    if (c->w)
        for (int i = 0; i < (c->s.n_layers + 1) * HWS_LLM_W_COUNT; i++) {
            cudaFree(c->w[i].q);
            cudaFree(c->w[i].scales);
        }
    free(c->w);
    void *dev[] = {c->x,        c->qkv,      c->gu,      c->logits, c->h,         c->att,
                   c->act,      c->k_cache,  c->v_cache, c->att_o,  c->att_ml,    c->att_count,
                   c->inv_freq, c->rows_dev, c->dequant, c->router, c->sel_w,     c->sel_ids,
                   c->moe_out,  c->moe_src,  c->moe_xg,  c->moe_yg, c->norm_sums, c->routes};
    for (void *p : dev)
        if (p)
            cudaFree(p);
    if (c->rows_host)
        cudaFreeHost(c->rows_host);
    if (c->moe_ids_host)
        cudaFreeHost(c->moe_ids_host);
    if (c->moe_src_host)
        cudaFreeHost(c->moe_src_host);
    if (c->graphs)
        for (int b = 0; b < (c->max_batch + 1) * HWS_ATT_CLASSES; b++)
            if (c->graphs[b])
                cudaGraphExecDestroy(c->graphs[b]);
    free(c->graphs);
    llm_gemm_free(c->gemm);
    if (c->ev0)
        cudaEventDestroy(c->ev0);
    if (c->ev1)
        cudaEventDestroy(c->ev1);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    free(c);
}

static size_t weight_bytes(const llm_dev_weight *w, size_t *scale_bytes) {
    size_t n = (size_t)w->rows * w->cols;
    *scale_bytes = 0;
    if (w->rows == 1)
        return n * sizeof(float);
    if (w->fmt == HWS_LLM_INT8 || w->fmt == HWS_LLM_INT4) {
        *scale_bytes = n / HWS_LLM_GROUP * 2;
        return w->fmt == HWS_LLM_INT8 ? n : n / 2;
    }
    return 2 * n;
}

static int buf_width(const llm_cuda *c, hws_llm_buf b) {
    return hws_llm_buf_width(&c->s, b);
}

// Allocates n bytes of device memory into *p, adding them to *total.
static hws_status dev_alloc(void **p, size_t n, double *total, hws_error *err) {
    *total += (double)n;
    return hws_cuda_status(cudaMalloc(p, n ? n : 1), "cudaMalloc", err);
}

static hws_status create_in(llm_cuda *c, const hws_llm_options *o, const float *inv_freq,
                            hws_llm_info *info, hws_error *err) {
    const hws_llm_shape &s = c->s;
    HWS_CUDA_RET(cudaSetDevice(o->gpu));
    cudaDeviceProp dp;
    HWS_CUDA_RET(cudaGetDeviceProperties(&dp, o->gpu));
    snprintf(info->device_name, sizeof info->device_name, "%.127s", dp.name);
    snprintf(info->backend, sizeof info->backend,
             "cuda (own GEMV and attention kernels, CUDA Graph decode; cuBLASLt prefill)");
    HWS_CUDA_RET(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    HWS_CUDA_RET(cudaEventCreate(&c->ev0));
    HWS_CUDA_RET(cudaEventCreate(&c->ev1));
    // weights: sizes first, refused as a whole when they cannot fit
    size_t max_linear = 0;
    double need = 0;
    for (int l = -1; l < s.n_layers; l++)
        for (int w = 0; w < HWS_LLM_W_COUNT; w++) {
            if ((l < 0) != (w >= HWS_LLM_W_EMBED))
                continue;
            llm_dev_weight *dw = llm_weight(c, l, (hws_llm_weight)w);
            hws_llm_weight_dims(&s, (hws_llm_weight)w, &dw->rows, &dw->cols);
            int linear = hws_llm_weight_is_linear((hws_llm_weight)w);
            dw->fmt = linear ? c->fmt : (c->bf16 ? HWS_LLM_BF16 : HWS_LLM_FP16);
            size_t sb, b = weight_bytes(dw, &sb);
            need += (double)(b + sb);
            size_t elems = (size_t)dw->rows * dw->cols; // experts: one at a time to cuBLASLt
            if (hws_llm_weight_is_experts((hws_llm_weight)w) && s.n_experts > 0)
                elems /= (size_t)s.n_experts;
            if (linear && elems > max_linear)
                max_linear = elems;
        }
    c->dequant_elems = c->fmt >= HWS_LLM_INT8 ? max_linear : 0;
    size_t cache = (size_t)s.n_layers * c->max_batch * s.n_kv_heads * c->max_ctx * s.head_dim;
    size_t rows = (size_t)c->max_rows,
           small = rows < LLM_ATT_SMALL_ROWS ? rows : LLM_ATT_SMALL_ROWS;
    size_t blocks_small = (size_t)(c->max_ctx + c->att_split_small - 1) / c->att_split_small;
    size_t blocks_large = (size_t)(c->max_ctx + c->att_split_large - 1) / c->att_split_large;
    size_t att_parts =
        s.n_heads *
        (small * blocks_small > rows * blocks_large ? small * blocks_small : rows * blocks_large);
    c->att_parts = att_parts;
    size_t gu_w = (size_t)buf_width(c, HWS_LLM_BUF_GU),
           act_w = (size_t)buf_width(c, HWS_LLM_BUF_ACT);
    size_t slots = s.n_experts > 0 ? (size_t)s.n_experts_used : 0;
    double act_bytes = (double)rows * 4 * (s.d_model + c->qkv_w + gu_w + s.vocab) +
                       (double)rows * 2 * (s.d_model + s.n_heads * s.head_dim + act_w) +
                       (double)att_parts * 4 * (s.head_dim + 2) +
                       (double)rows * 4 * (s.n_experts + slots * (2 + s.n_layers + s.d_model));
    size_t src_max = s.n_experts > 0 ? llm_moe_gathered_rows(&s, c->max_rows) : 0;
    size_t ffn = (size_t)hws_llm_ffn_width(&s);
    size_t xg_w = ffn > (size_t)s.d_model ? ffn : (size_t)s.d_model,
           yg_w = 2 * ffn > (size_t)s.d_model ? 2 * ffn : (size_t)s.d_model;
    act_bytes += (double)src_max * (4 + 2 * xg_w + 4 * yg_w);
    need += 2.0 * cache * 2 + act_bytes + 2.0 * c->dequant_elems + (64 << 20);
    size_t free_b = 0, total_b = 0;
    HWS_CUDA_RET(cudaMemGetInfo(&free_b, &total_b));
    if (need > (double)free_b)
        return hws_gpu_errorf(err, HWS_ERR_INPUT,
                              "the model needs %.2f GB on %s (weights %.2f GB in %s, KV cache %.2f "
                              "GB for %d x %d tokens); %.2f GB are free",
                              need / 1e9, dp.name, info->weight_bytes / 1e9, format_names[c->fmt],
                              4.0 * cache / 1e9, c->max_batch, c->max_ctx, (double)free_b / 1e9);
    double total = 0;
    for (int l = -1; l < s.n_layers; l++)
        for (int w = 0; w < HWS_LLM_W_COUNT; w++) {
            if ((l < 0) != (w >= HWS_LLM_W_EMBED))
                continue;
            llm_dev_weight *dw = llm_weight(c, l, (hws_llm_weight)w);
            if (dw->rows == 0)
                continue;
            size_t sb, b = weight_bytes(dw, &sb);
            hws_status st = dev_alloc(&dw->q, b, &total, err);
            if (st == HWS_OK && sb)
                st = dev_alloc((void **)&dw->scales, sb, &total, err);
            if (st != HWS_OK)
                return st;
        }
    struct {
        void **p;
        size_t bytes;
    } bufs[] = {
        {(void **)&c->x, rows * s.d_model * 4},
        {(void **)&c->qkv, rows * c->qkv_w * 4},
        {(void **)&c->gu, rows * gu_w * 4},
        {(void **)&c->logits, rows * s.vocab * 4},
        {(void **)&c->h, rows * s.d_model * 2},
        {(void **)&c->att, rows * s.n_heads * s.head_dim * 2},
        {(void **)&c->act, rows * act_w * 2},
        {(void **)&c->router, rows * s.n_experts * 4},
        {(void **)&c->sel_ids, rows * slots * 4},
        {(void **)&c->routes, (size_t)s.n_layers * rows * slots * 4},
        {(void **)&c->sel_w, rows * slots * 4},
        {(void **)&c->moe_out, rows * slots * s.d_model * 4},
        {(void **)&c->moe_src, src_max * 4},
        {(void **)&c->moe_xg, src_max * xg_w * 2},
        {(void **)&c->moe_yg, src_max * yg_w * 4},
        {(void **)&c->k_cache, cache * 2},
        {(void **)&c->v_cache, cache * 2},
        {(void **)&c->att_o, att_parts * s.head_dim * 4},
        {(void **)&c->att_ml, att_parts * 2 * 4},
        {(void **)&c->att_count, rows * s.n_kv_heads * hws_att_head_parts(&s) * 4},
        {(void **)&c->inv_freq, (size_t)s.head_dim / 2 * 4},
        {(void **)&c->rows_dev, 3 * rows * 4},
        {(void **)&c->dequant, c->dequant_elems * 2},
        {(void **)&c->norm_sums, llm_norm_sums_bytes(s)},
    };
    for (auto &b : bufs) {
        hws_status st = dev_alloc(b.p, b.bytes, &total, err);
        if (st != HWS_OK)
            return st;
    }
    // all on c->stream, which (non-blocking) does not wait for the legacy stream's work
    HWS_CUDA_RET(cudaMemsetAsync(c->k_cache, 0, cache * 2, c->stream));
    HWS_CUDA_RET(cudaMemsetAsync(c->v_cache, 0, cache * 2, c->stream));
    HWS_CUDA_RET(cudaMemsetAsync(c->att_count, 0, rows * s.n_kv_heads * hws_att_head_parts(&s) * 4,
                                 c->stream));
    HWS_CUDA_RET(cudaMemcpyAsync(c->inv_freq, inv_freq, (size_t)s.head_dim / 2 * 4,
                                 cudaMemcpyHostToDevice, c->stream));
    HWS_CUDA_RET(cudaStreamSynchronize(c->stream));
    HWS_CUDA_RET(cudaMallocHost((void **)&c->rows_host, 3 * rows * 4));
    if (src_max > 0) {
        HWS_CUDA_RET(cudaMallocHost((void **)&c->moe_ids_host, rows * slots * 4));
        HWS_CUDA_RET(cudaMallocHost((void **)&c->moe_src_host, src_max * 4));
    }
    memset(c->rows_host, 0, 3 * rows * 4);
    hws_status st = llm_gemm_new(&c->gemm, err);
    if (st != HWS_OK)
        return st;
    info->kv_bytes_per_token = 2.0 * s.n_layers * s.n_kv_heads * s.head_dim * 2;
    info->device_bytes_peak = total + (32 << 20);
    return HWS_OK;
}

static hws_status create(const hws_llm_shape *s, const hws_llm_options *o, int max_rows,
                         const float *rope_inv_freq, void **out, hws_llm_info *info,
                         hws_error *err) {
    if (s->head_dim % 8 || s->d_model % 8 || s->d_ff % 8 || hws_llm_ffn_width(s) % 8)
        return hws_gpu_errorf(err, HWS_ERR_UNSUPPORTED,
                              "the CUDA engine needs head_dim, d_model, d_ff and d_ff_expert "
                              "divisible by 8");
    llm_cuda *c = (llm_cuda *)calloc(1, sizeof *c);
    if (!c)
        return hws_gpu_errorf(err, HWS_ERR_NOMEM, "out of memory");
    c->s = *s;
    c->fmt = o->format;
    c->bf16 = o->format != HWS_LLM_FP16;
    c->max_rows = max_rows;
    c->max_batch = o->max_batch;
    c->max_ctx = o->max_ctx;
    c->qkv_w = (s->n_heads + 2 * s->n_kv_heads) * s->head_dim;
    int split_large = (o->max_ctx + 63) / 64;
    c->att_split_small = hws_att_split_small(s, o->max_ctx, &c->att_classes);
    c->att_split_large = split_large < 256 ? 256 : (split_large + 31) / 32 * 32;
    c->w = (llm_dev_weight *)calloc((size_t)(s->n_layers + 1) * HWS_LLM_W_COUNT, sizeof *c->w);
    c->graphs =
        (cudaGraphExec_t *)calloc(((size_t)o->max_batch + 1) * HWS_ATT_CLASSES, sizeof *c->graphs);
    hws_status st = c->w && c->graphs ? create_in(c, o, rope_inv_freq, info, err)
                                      : hws_gpu_errorf(err, HWS_ERR_NOMEM, "out of memory");
    if (st != HWS_OK) {
        destroy(c);
        return st;
    }
    *out = c;
    return HWS_OK;
}

static hws_status set_weight(void *ctx, int layer, hws_llm_weight w, const float *data,
                             hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    llm_dev_weight *dw = llm_weight(c, layer, w);
    size_t n = (size_t)dw->rows * dw->cols;
    float *tmp = nullptr;
    HWS_CUDA_RET(cudaMalloc((void **)&tmp, n * 4));
    // on the stream that stores it: a plain cudaMemcpy from pageable memory may return before
    // its DMA lands, and the non-blocking stream would not wait for it
    hws_status st = hws_cuda_status(
        cudaMemcpyAsync(tmp, data, n * 4, cudaMemcpyHostToDevice, c->stream), "copy weight", err);
    if (st == HWS_OK)
        st = llm_store(c, dw, tmp, 0, 0, 0, w == HWS_LLM_W_GATE_UP, err);
    if (st == HWS_OK)
        st = hws_cuda_status(cudaStreamSynchronize(c->stream), "store weight", err);
    cudaFree(tmp);
    return st;
}

static hws_status fill_weight(void *ctx, int layer, hws_llm_weight w, uint64_t seed, float scale,
                              float offset, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    hws_status st = llm_store(c, llm_weight(c, layer, w), nullptr, seed, scale, offset,
                              w == HWS_LLM_W_GATE_UP, err);
    return st == HWS_OK ? hws_cuda_status(cudaStreamSynchronize(c->stream), "fill weight", err)
                        : st;
}

static hws_status set_rows(void *ctx, int rows, const int32_t *tokens, const int32_t *seq,
                           const int32_t *pos, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    if (rows < 1 || rows > c->max_rows)
        return hws_gpu_errorf(err, HWS_ERR_INPUT, "%d rows (1-%d)", rows, c->max_rows);
    memcpy(c->rows_host, tokens, (size_t)rows * 4);
    memcpy(c->rows_host + c->max_rows, seq, (size_t)rows * 4);
    memcpy(c->rows_host + 2 * c->max_rows, pos, (size_t)rows * 4);
    c->rows_one_seq = 1;
    int max_pos = pos[0];
    for (int i = 1; i < rows; i++) {
        c->rows_one_seq &= seq[i] == seq[0];
        max_pos = pos[i] > max_pos ? pos[i] : max_pos;
    }
    c->att_class = hws_att_split_class(c->att_split_small, c->att_classes, max_pos);
    return hws_cuda_status(cudaMemcpyAsync(c->rows_dev, c->rows_host, 3 * (size_t)c->max_rows * 4,
                                           cudaMemcpyHostToDevice, c->stream),
                           "cudaMemcpyAsync rows", err);
}

// ---- ops (timed alone when profiling) ----

static hws_status prof_begin(llm_cuda *c, hws_error *err) {
    return c->profiling ? hws_cuda_status(cudaEventRecord(c->ev0, c->stream), "event", err)
                        : HWS_OK;
}
static hws_status prof_end(llm_cuda *c, int kind, double bytes, hws_status st, hws_error *err) {
    if (!c->profiling || st != HWS_OK)
        return st;
    HWS_CUDA_RET(cudaEventRecord(c->ev1, c->stream));
    HWS_CUDA_RET(cudaEventSynchronize(c->ev1));
    float ms = 0;
    HWS_CUDA_RET(cudaEventElapsedTime(&ms, c->ev0, c->ev1));
    c->prof_ms[kind] += ms;
    c->prof_bytes[kind] += bytes;
    c->prof_count[kind]++;
    return HWS_OK;
}

// The embedding op starts each forward: decode runs of 1-2 rows of a dense model fuse SwiGLU
// into the gate-up product and (bf16) every RMSNorm into the products around it (the embedding or
// the product that adds into the residual gives the norm's input times gamma and its sums of
// squares; the next product over H scales its result), so the swiglu and rmsnorm ops then do
// nothing. On the H100 (2026-12-06, Llama-3.1-8B, batch 1) the norms' part took bf16 decode
// from 174.4 to 176.3 tokens/s and int4 from 368 to 376.
static hws_status op_embed(void *ctx, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    c->fused = rows <= LLM_FUSED_ROWS && c->s.n_experts == 0;
    // (fp16 would hold the residual times gamma unnormalised, where large activations overflow)
    c->fused_norm = c->fused && c->bf16;
    c->norm_pending = -1;
    hws_status st = prof_begin(c, err);
    if (st == HWS_OK && c->fused_norm)
        st = hws_cuda_status(cudaMemsetAsync(c->norm_sums, 0, llm_norm_sums_bytes(c->s), c->stream),
                             "cudaMemsetAsync norm sums", err);
    if (st == HWS_OK)
        st = c->fused_norm
                 ? llm_embed(c, rows, (const float *)llm_weight(c, 0, HWS_LLM_W_ATTN_NORM)->q, c->h,
                             llm_norm_sums(c, 0), err)
                 : llm_embed(c, rows, nullptr, nullptr, nullptr, err);
    return prof_end(c, PROF_EMBED, 0, st, err);
}

static hws_status op_rmsnorm(void *ctx, int layer, hws_llm_weight w, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    if (c->fused_norm) {
        c->norm_pending = llm_norm_slot(c, layer, w);
        return HWS_OK;
    }
    hws_status st = prof_begin(c, err);
    if (st == HWS_OK)
        st = llm_rmsnorm(c, c->h, c->x, (const float *)llm_weight(c, layer, w)->q, rows, err);
    return prof_end(c, PROF_NORM, 0, st, err);
}

static void *buf_ptr(llm_cuda *c, hws_llm_buf b) {
    switch (b) {
    case HWS_LLM_BUF_X:
        return c->x;
    case HWS_LLM_BUF_H:
        return c->h;
    case HWS_LLM_BUF_QKV:
        return c->qkv;
    case HWS_LLM_BUF_ATT:
        return c->att;
    case HWS_LLM_BUF_GU:
        return c->gu;
    case HWS_LLM_BUF_ROUTER:
        return c->router;
    default:
        return c->act;
    }
}

// Where a fused forward's product goes (op_embed): SwiGLU's activation for the gate-up weight;
// the scale of the pending norm when x is H; H and the sums of the next norm when it adds into
// the residual (o: the FFN's norm; down: the next layer's, or the final one).
static llm_gemv_out fused_out(llm_cuda *c, hws_llm_buf y, hws_llm_buf x, int layer,
                              hws_llm_weight w, int accumulate) {
    llm_gemv_out o = {};
    if (w == HWS_LLM_W_GATE_UP) {
        o.act = c->act;
        o.ld_act = buf_width(c, HWS_LLM_BUF_ACT);
    } else {
        o.y = (float *)buf_ptr(c, y);
        o.ldy = buf_width(c, y);
        o.accumulate = accumulate;
    }
    if (x == HWS_LLM_BUF_H && c->norm_pending >= 0) {
        o.norm_sums_in = llm_norm_sums(c, c->norm_pending);
        o.norm_eps = c->s.rms_eps;
        c->norm_pending = -1;
    }
    if (accumulate && y == HWS_LLM_BUF_X && c->fused_norm) {
        int next_layer = w == HWS_LLM_W_O ? layer : layer + 1;
        hws_llm_weight next = w == HWS_LLM_W_O             ? HWS_LLM_W_FFN_NORM
                              : next_layer < c->s.n_layers ? HWS_LLM_W_ATTN_NORM
                                                           : HWS_LLM_W_OUT_NORM;
        o.norm_gamma =
            (const float *)llm_weight(c, next == HWS_LLM_W_OUT_NORM ? -1 : next_layer, next)->q;
        o.norm_h = c->h;
        o.norm_ldh = c->s.d_model;
        o.norm_sums_out = llm_norm_sums(c, llm_norm_slot(c, next_layer, next));
    }
    return o;
}

static hws_status op_linear(void *ctx, hws_llm_buf y, hws_llm_buf x, int rows, int layer,
                            hws_llm_weight w, int accumulate, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    const llm_dev_weight *dw = llm_weight(c, layer, w);
    hws_status st = prof_begin(c, err);
    const uint16_t *xp = (const uint16_t *)buf_ptr(c, x);
    if (st == HWS_OK && c->fused)
        st = llm_gemv_to(c, fused_out(c, y, x, layer, w, accumulate), xp, buf_width(c, x), rows, dw,
                         err);
    else if (st == HWS_OK)
        st = llm_linear(c, (float *)buf_ptr(c, y), buf_width(c, y), xp, buf_width(c, x), rows, dw,
                        accumulate, err);
    int kind = w == HWS_LLM_W_ROUTER ? PROF_ROUTE
                                     : PROF_LINEAR0 + (w == HWS_LLM_W_QKV       ? 0
                                                       : w == HWS_LLM_W_O       ? 1
                                                       : w == HWS_LLM_W_GATE_UP ? 2
                                                                                : 3);
    size_t sb, b = weight_bytes(dw, &sb);
    return prof_end(c, kind, (double)(b + sb), st, err);
}

static hws_status op_rope_cache(void *ctx, int layer, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    if (llm_attention_fuses_rope(c, rows))
        return HWS_OK;
    hws_status st = prof_begin(c, err);
    return prof_end(c, PROF_ROPE, 0, st == HWS_OK ? llm_rope_cache(c, layer, rows, err) : st, err);
}

static hws_status op_attention(void *ctx, int layer, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    hws_status st = prof_begin(c, err);
    if (st == HWS_OK)
        st = llm_attention_prefill_fits(c, rows) ? llm_attention_prefill(c, layer, rows, err)
                                                 : llm_attention(c, layer, rows, err);
    return prof_end(c, PROF_ATT, 0, st, err);
}

static hws_status op_swiglu(void *ctx, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    if (c->fused)
        return HWS_OK;
    hws_status st = prof_begin(c, err);
    return prof_end(c, PROF_SWIGLU, 0, st == HWS_OK ? llm_swiglu(c, rows, err) : st, err);
}

static hws_status op_logits(void *ctx, int row0, int n, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    hws_status st = prof_begin(c, err);
    const llm_dev_weight *out =
        llm_weight(c, -1, c->s.tie_embeddings ? HWS_LLM_W_EMBED : HWS_LLM_W_OUTPUT);
    const int d = c->s.d_model;
    if (st == HWS_OK && c->fused_norm) { // the last down product gave H and the final sums
        llm_gemv_out o = {};
        o.y = c->logits;
        o.ldy = c->s.vocab;
        o.norm_sums_in = llm_norm_sums(c, llm_norm_slot(c, -1, HWS_LLM_W_OUT_NORM)) +
                         (size_t)row0 * LLM_NORM_LANES;
        o.norm_eps = c->s.rms_eps;
        st = llm_gemv_to(c, o, c->h + (size_t)row0 * d, d, n, out, err);
    } else if (st == HWS_OK) {
        st = llm_rmsnorm(c, c->h, c->x + (size_t)row0 * d,
                         (const float *)llm_weight(c, -1, HWS_LLM_W_OUT_NORM)->q, n, err);
        if (st == HWS_OK)
            st = llm_linear(c, c->logits, c->s.vocab, c->h, d, n, out, 0, err);
    }
    size_t sb, b = weight_bytes(out, &sb);
    return prof_end(c, PROF_LOGITS, (double)(b + sb), st, err);
}

static hws_status op_route(void *ctx, int layer, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    hws_status st = prof_begin(c, err);
    return prof_end(c, PROF_ROUTE, 0, st == HWS_OK ? llm_route(c, layer, rows, err) : st, err);
}

// Timed as the dense products they replace; bytes: the experts rows * k could choose at most
// (the device alone knows which it read).
static hws_status op_experts(void *ctx, int layer, hws_llm_weight w, int rows, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    const llm_dev_weight *dw = llm_weight(c, layer, w);
    hws_status st = prof_begin(c, err);
    if (st == HWS_OK)
        st = llm_experts(c, layer, w, rows, err);
    int read =
        rows * c->s.n_experts_used < c->s.n_experts ? rows * c->s.n_experts_used : c->s.n_experts;
    size_t sb, b = weight_bytes(dw, &sb);
    int kind = PROF_LINEAR0 + (w == HWS_LLM_W_EXP_GATE_UP ? 2 : 3);
    return prof_end(c, kind, (double)(b + sb) * read / c->s.n_experts, st, err);
}

static hws_status run(void *ctx, int rows, int graph, hws_llm_forward_fn fn, void *arg,
                      hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    hws_status st = HWS_OK;
    if (graph && !c->profiling && rows <= c->max_batch) {
        cudaGraphExec_t *exec = &c->graphs[(size_t)rows * HWS_ATT_CLASSES + c->att_class];
        if (!*exec) {
            HWS_CUDA_RET(cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
            st = fn(arg, err);
            cudaGraph_t g = nullptr;
            cudaError_t e = cudaStreamEndCapture(c->stream, &g); // ends it even when fn failed
            if (st == HWS_OK)
                st = hws_cuda_status(e, "cudaStreamEndCapture", err);
            if (st == HWS_OK)
                st = hws_cuda_status(cudaGraphInstantiate(exec, g, 0), "cudaGraphInstantiate", err);
            if (g)
                cudaGraphDestroy(g);
            if (st != HWS_OK)
                return st;
        }
        st = hws_cuda_status(cudaGraphLaunch(*exec, c->stream), "cudaGraphLaunch", err);
    } else {
        st = fn(arg, err);
    }
    if (st == HWS_OK)
        st = hws_cuda_status(cudaStreamSynchronize(c->stream), "forward pass", err);
    return st;
}

static hws_status get_logits(void *ctx, int n, float *out, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    return hws_cuda_status(
        cudaMemcpy(out, c->logits, (size_t)n * c->s.vocab * 4, cudaMemcpyDeviceToHost),
        "cudaMemcpy logits", err);
}

// Row `row` of each layer's slice of c->routes, one strided copy on the engine's stream (after
// the forward's work), waited for.
static hws_status get_routes(void *ctx, int row, int32_t *out, hws_error *err) {
    llm_cuda *c = (llm_cuda *)ctx;
    const size_t k = (size_t)c->s.n_experts_used;
    HWS_CUDA_RET(cudaMemcpy2DAsync(out, k * 4, c->routes + (size_t)row * k,
                                   (size_t)c->max_rows * k * 4, k * 4, (size_t)c->s.n_layers,
                                   cudaMemcpyDeviceToHost, c->stream));
    return hws_cuda_status(cudaStreamSynchronize(c->stream), "copy routes", err);
}

static hws_status profile(void *ctx, int on, hws_llm_profile *out, hws_error *err) {
    (void)err;
    llm_cuda *c = (llm_cuda *)ctx;
    if (on) {
        memset(c->prof_ms, 0, sizeof c->prof_ms);
        memset(c->prof_bytes, 0, sizeof c->prof_bytes);
        memset(c->prof_count, 0, sizeof c->prof_count);
    } else if (out) {
        for (int k = 0; k < HWS_LLM_OP_KINDS; k++) {
            out->ms[k] = c->prof_ms[k];
            out->bytes[k] = c->prof_bytes[k];
            out->count[k] = c->prof_count[k];
        }
    }
    c->profiling = on;
    return HWS_OK;
}

static const hws_llm_ops cuda_ops = {
    op_embed,  op_rmsnorm, op_linear, op_rope_cache, op_attention,
    op_swiglu, op_logits,  op_route,  op_experts,
};

static const hws_llm_backend cuda_backend = {
    HWS_LLM_BACKEND_ABI, &cuda_ops,  create,  set_weight, fill_weight, set_rows, run,
    get_logits,          get_routes, profile, destroy,
};

extern "C" __attribute__((visibility("default"))) const hws_llm_backend *
hws_llm_cuda_get_api(void) {
    return &cuda_backend;
}
