/* predict.c - roofline prediction of prefill and decode speed: bytes read over memory bandwidth,
 * FLOPs over matrix throughput, host overheads and tensor-parallel all-reduces, from measured
 * ceilings when `hwscope bench` saved them, else the datasheet times a stated efficiency. */
#include "hwscope/plan.h"

#include "plan/ceilings.h"
#include "plan/engine_format.h"
#include "plan/shape.h"
#include "util/units.h"

#include <stdbool.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* THE table of efficiencies. Each row: what a runtime reaches of each ceiling, and the fixed
 * host costs it adds. Sources and reasoning:
 * - Decode streams every weight once per token; a large device-to-device copy reaches ~90% of the
 *   datasheet bandwidth (H100 SXM: ~3.0 of 3.35 TB/s), and decode kernels (GEMV, attention) reach
 *   80-95% of that copy in vLLM, less in llama.cpp's quantised GEMV and in eager PyTorch.
 * - Prefill is GEMM-bound; cuBLAS reaches ~80% of datasheet dense BF16 on H100 (780-800 of 989
 *   TFLOP/s); attention, norms and the unfused epilogues of a whole model take that to ~55-65%.
 * - Host: the CPU launches each block's kernels while the GPU runs earlier ones, so a forward
 *   takes max(GPU time, blocks x layer_overhead); a decode step adds the runtime's per-step
 *   cost (sampling, stopping checks, scheduling, the sync for the token). vLLM and llama.cpp
 *   replay CUDA graphs: their per-block figure is the floor of a block's kernels on the GPU.
 * - transformers' row is measured (bench/results/llm-peers-h100-2026-12-06/, fitted by
 *   least squares on Llama-3.2-1B, Llama-3.1-8B, Qwen2.5-7B and Mistral-7B shapes; torch 2.11,
 *   transformers 5.x, random bf16 weights, SDPA, batch 1, prompt 512, on the lent H100 host,
 *   2026-12-06): eager PyTorch is host-bound far below both rooflines. A prefill forward of
 *   512 tokens takes 1.14 ms per block; a decode step 1.29 ms per block and nothing measurable
 *   per step (the fit's intercept is negative). The model this replaces charged 1.3 ms per
 *   block AND 54 ms per step on every decode step: the 54 ms came from timing the first
 *   generate() after a warm-up, which runs 2-4x slower than the steady state (11.9 against
 *   32.1 tokens/s for Qwen2.5-7B in the same run), so the step cost was counted twice and
 *   Qwen2.5-7B was predicted at 11.1 tokens/s where it decodes at 22-32. Eager PyTorch's cost
 *   per block is the host CPU's: a later lent H100 host ran the same script 2x faster (8B
 *   decode 52.5 against 25.2 tokens/s). So these constants are only the fallback: where
 *   transformers runs were saved for the GPU (bench/scripts/llm_vs_peers.py measure, then
 *   save), the host costs per block measured on that machine replace them (llm_measured.c;
 *   bench/results/llm-peers-h200-2026-12-06-s3/: 5 of 5 out-of-sample prefills within 7 %).
 * - hwscope's row is what the engine reaches on the lent H100, bf16, Llama-3.1-8B shape
 *   (bench/results/llm-h100-2026-12-06-session2/, call 8, 2026-12-06): decode 173.2 tokens/s
 *   = 2.60 TB/s of weights, 0.86 of the measured 3025 GB/s copy (0.78 of the datasheet's 3.35
 *   TB/s); prefill of 512 tokens 535 TFLOP/s, 0.66 of the measured 806 TFLOP/s BF16 product
 *   (0.54 of the datasheet's 989); the decode step is one CUDA graph. Its decode since (session
 *   7, call 4, hwscope bench llm): 192.19 tokens/s, 0.954 of the measured 3026 GB/s copy and
 *   0.86 of the datasheet's bandwidth, the row's decode figures. One shape and format:
 *   once `hwscope bench llm` has saved runs on a machine, the efficiencies fitted from those
 *   replace the row, per format (llm_measured.c).
 * These are the numbers a later calibration against `hwscope bench llm` adjusts. */
static const hws_efficiency efficiencies[HWS_RUNTIME_COUNT] = {
    {HWS_RUNTIME_TRANSFORMERS, 0.75, 0.82, 0.50, 0.62, 0.70, 1140.0, 1290.0, 0.0, 0.0,
     "transformers, eager PyTorch: host-bound (1.14 ms per block per prefill, 1.29 ms per block "
     "per decode step, dynamic cache; fitted on one lent H100 host, 2026-12-06, "
     "bench/results/llm-peers-h100-2026-12-06; llm_vs_peers.py save fits this machine's)"},
    {HWS_RUNTIME_VLLM, 0.80, 0.88, 0.55, 0.70, 0.75, 30.0, 30.0, 0.0, 600.0,
     "vLLM: CUDA graphs for decode (a block's ~10 kernels take >= ~30 us however small), "
     "paged attention, ~0.6 ms scheduling per step; estimates"},
    {HWS_RUNTIME_LLAMACPP, 0.92, 1.00, 0.85, 0.90, 0.70, 40.0, 40.0, 60.0, 400.0,
     "llama.cpp: GEMV streams weights at ~92% of datasheet bandwidth plus ~60 us of kernel "
     "boundaries per block and 0.4 ms per token; MMQ/cuBLAS prefill ~85% of the FP16 rate in "
     "n_ubatch chunks (fitted to XiongjieDai/GPU-Benchmarks-on-LLM-Inference, llama.cpp May "
     "2024: Llama-3-8B tg512/pp512 on RTX 3070..4090; "
     "bench/results/plan-vs-published-2026-12-06.md)"},
    {HWS_RUNTIME_HWSCOPE, 0.86, 0.95, 0.54, 0.66, 0.70, 20.0, 0.0, 0.0, 60.0,
     "hwscope engine: decode in one CUDA graph at 0.95 of the copy bandwidth, prefill at 0.66 "
     "of the matrix peak (its H100 runs of 2026-12-06, bf16 Llama-3.1-8B)"},
};

/* The hwscope engine streams its quantised weights at a lower fraction of the bandwidth than its
 * 16-bit ones (dequantising in the kernel; measured, H100, Llama-3.1-8B decode at batch 1 against
 * bandwidth / bytes per step: bf16 192.19 tokens/s = 0.954 of 3026 GB/s and int4 495.17 = 0.692,
 * bench/results/llm-h100-2026-12-06-session7 call 4; int8 299.47 = 0.790 of 3025 GB/s, call 6).
 * The stated 16-bit efficiency is scaled by the ratio of the format the engine runs the weights
 * in (hws_engine_format: the one the memory model counted the bytes of). Its prefill dequantises
 * each int8/int4 product to 16 bits for cuBLASLt: int4 pp512 24 464 tokens/s against bf16's
 * 35 858 (session 4, call 12; session 7, call 6: 24 393 against 35 694), int8 taken alike (call 6:
 * 23 310). Saved `bench llm` runs of the format replace both (llm_measured.c). */
#define ENGINE_INT8_SCALE        (0.790 / 0.954)
#define ENGINE_INT4_SCALE        (0.692 / 0.954)
#define ENGINE_INT_PREFILL_SCALE (24464.0 / 35858.0)

/* Rows of a decode step the engine's tensor-core int4 product takes (gemv_int4.cu); more run
 * through its per-element kernel, which spends as long on a step as the 16-bit product: H100,
 * Llama-3.1-8B batch 8, int4 1194.0 tokens/s against bf16 1200.3 (-session4 call 12; int8
 * taken alike, not measured). */
#define ENGINE_INT_TENSOR_ROWS 2

/* Past those two rows every format's decode step is slower than the batch-1 efficiency says: the
 * 16-bit products take the tensor-core kernel (x padded to 8 rows), int8/int4 their per-element
 * one. H100, Llama-3.1-8B, batch 8 after a 512-token prompt: bf16 1205.17 tokens/s where the
 * stated row (0.93 of 3004 GB/s) predicts 1466, a step of 6.58 ms over its fixed costs against
 * 5.40 (bench/results/llm-h100-2026-12-06-session6, call 5). */
#define ENGINE_BATCH_SCALE 0.82

static double engine_quant_scale(hws_llm_format ef, double batch) {
    if (!hws_llm_format_grouped(ef))
        return 1.0;
    if (batch > ENGINE_INT_TENSOR_ROWS) /* its bytes at the 16-bit step's time */
        return hws_llm_format_bytes_per_weight(ef) / hws_llm_format_bytes_per_weight(HWS_LLM_BF16);
    return ef == HWS_LLM_INT8 ? ENGINE_INT8_SCALE : ENGINE_INT4_SCALE;
}

/* Fixed costs of the links between GPUs and the host, stated. */
#define NVLINK_ALLREDUCE_US 8.0  /* NCCL small-message all-reduce over NVLink */
#define PCIE_ALLREDUCE_US   25.0 /* the same over PCIe (through host bridges) */
#define HOP_US              15.0 /* layer split: one activation hand-off between GPUs */
#define PCIE4_X16_GBPS      32.0 /* one direction, when the catalog has no interconnect figure */
#define HOST_BW_EFF         0.70 /* llama.cpp CPU GEMV of that bandwidth */
#define HOST_MM_EFF         0.50 /* llama.cpp CPU prefill of the FP32 FMA peak (estimate) */
/* Apple GPUs under Metal reach ~70% of what the CUDA efficiencies give: llama.cpp Llama-3-8B
 * Q4_K_M tg512 78.81 tokens/s on an M2 Ultra (800 GB/s) and 48.97 on an M3 Max 40-core
 * (400 GB/s), pp512 994 on the M2 Ultra (XiongjieDai/GPU-Benchmarks-on-LLM-Inference, May
 * 2024) against 116, 67 and 1527 predicted without it. */
#define APPLE_METAL_EFF 0.70
/* llama.cpp on datacenter GPUs: their lower clocks (A100 1.41 GHz, H100 PCIe 1.76 GHz against
 * an RTX 4090's 2.52 GHz) stretch the fixed time of each block's small kernels. Llama-2-7B Q4_0
 * decodes at 136.24 tokens/s on an A100 80GB and 133.77 on an H100 PCIe against 149.4 on an
 * RTX 4090 with half their bandwidth (XiongjieDai/GPU-Benchmarks-on-LLM-Inference, Dec 2023):
 * ~2.2x the per-block time fits both. Its prefill (MMQ kernels) reaches about twice the FP32
 * rate, not the FP16 tensor rate, where the two differ (datacenter and workstation parts). */
#define LLAMACPP_DATACENTER_BLOCK 2.2
#define LLAMACPP_MM_PER_FP32      2.0

const hws_efficiency *hws_efficiency_for(hws_runtime rt) {
    return rt < HWS_RUNTIME_COUNT ? &efficiencies[rt] : &efficiencies[0];
}

/* ---- inputs ----------------------------------------------------------------------------- */

/* Matrix throughput at a compute precision from a set of per-precision figures. */
static double tflops_for(const char *compute, double fp32, double fp16, double bf16, double fp8,
                         double int8, double fp4) {
    double v = HWS_NA;
    if (strcmp(compute, "fp32") == 0)
        v = fp32;
    else if (strcmp(compute, "bf16") == 0)
        v = hws_known(bf16) ? bf16 : fp16;
    else if (strcmp(compute, "fp8") == 0)
        v = fp8;
    else if (strcmp(compute, "int8") == 0)
        v = int8;
    else if (strcmp(compute, "fp4") == 0)
        v = fp4;
    if (!hws_known(v)) /* fall back to 16-bit (weights dequantised) */
        v = hws_known(fp16) ? fp16 : bf16;
    return v;
}

/* The precision of the prefill products: the format's; the hwscope engine's are 16-bit whatever
 * it stores (cuBLASLt in bf16, or fp16 for fp16 weights; int8 and int4 weights dequantised to
 * 16 bits first), ef being the format it runs the weights in (hws_engine_format). */
static const char *compute_of(const hws_plan_opts *o, hws_llm_format ef) {
    if (ef != HWS_LLM_FORMAT_COUNT)
        return ef == HWS_LLM_FP16 ? "fp16" : "bf16";
    return o->weights != NULL ? o->weights->compute : "bf16";
}

void hws_predict_inputs_fill(const hws_plan_opts *o, const hws_memory *mem,
                             const hws_device_set *devs, const char *ceilings_path,
                             hws_predict_inputs *in) {
    char path[HWS_CEILINGS_PATH_BYTES];
    hws_ceilings_set *set = NULL;
    hws_error err = {""};
    if (ceilings_path == NULL)
        ceilings_path = hws_ceilings_path(path, sizeof path) ? path : ""; /* "": none */
    hws_status st = ceilings_path[0] != '\0' ? hws_ceilings_set_load(ceilings_path, &set, &err)
                                             : HWS_ERR_UNSUPPORTED;
    hws_predict_inputs_from(o, mem, devs, set, in);
    if (st != HWS_OK && st != HWS_ERR_UNSUPPORTED) /* a file there that cannot be used */
        snprintf(in->ceilings_warning, sizeof in->ceilings_warning, "%s", err.msg);
    hws_ceilings_set_free(set);
}

void hws_predict_inputs_from(const hws_plan_opts *o, const hws_memory *mem,
                             const hws_device_set *devs, const hws_ceilings_set *set,
                             hws_predict_inputs *in) {
    const hws_efficiency *e = hws_efficiency_for(o->runtime);
    hws_llm_format ef = hws_engine_format(o, mem->weights_format); /* the bytes mem counted */
    memset(in, 0, sizeof *in);
    in->mem_bw_gbps = in->matmul_tflops = in->link_gbps = HWS_NA;
    in->sm_count = devs->count > 0 ? devs->dev[0].sm_count : HWS_NA;
    in->wave_mm_eff = in->wave_prefill_overhead_us = in->wave_prefill_block_us = HWS_NA;
    in->host_mem_bw_gbps = hws_known(devs->host.mem_bw_gbps) && devs->host.mem_bw_gbps > 0
                               ? devs->host.mem_bw_gbps
                               : HWS_HOST_DEFAULT_BW_GBPS;
    in->host_bw_eff = HOST_BW_EFF;
    in->host_tflops = devs->host.matmul_tflops;
    in->host_mm_eff = HOST_MM_EFF;
    in->block_serial_us = e->block_serial_us;
    in->link_eff = e->link_eff;
    in->layer_overhead_us = e->layer_overhead_us;
    in->decode_layer_overhead_us = e->decode_layer_overhead_us;
    in->step_overhead_us = e->step_overhead_us;
    in->hop_latency_us = HOP_US;
    in->allreduce_latency_us = PCIE_ALLREDUCE_US;
    int measured = devs->count > 0, datasheet = devs->count > 0, links_measured = 0;
    char measured_at[32] = "";
    for (int i = 0; i < devs->count; i++) {
        const hws_device *d = &devs->dev[i];
        const hws_gpu_spec *g = d->spec;
        hws_ceilings c;
        double bw = HWS_NA, mm = HWS_NA, link = HWS_NA;
        bool saved = hws_ceilings_set_find(set, d->name, g, &c);
        if (saved && hws_known(c.allreduce_busbw_gbps)) { /* hwscope bench nccl, 2+ GPUs */
            link = c.allreduce_busbw_gbps;
            links_measured++;
        }
        if (saved && hws_known(c.mem_bw_gbps)) {
            bw = c.mem_bw_gbps;
            mm = tflops_for(compute_of(o, ef), c.fp32_tflops, c.fp16_tflops, c.bf16_tflops,
                            c.fp8_tflops, c.int8_tops, HWS_NA);
            if (hws_known(c.host_mem_bw_gbps))
                in->host_mem_bw_gbps = c.host_mem_bw_gbps;
            if (measured_at[0] == '\0' || strcmp(c.measured_at, measured_at) < 0)
                snprintf(measured_at, sizeof measured_at, "%s", c.measured_at);
            datasheet = 0;
        } else {
            measured = 0;
        }
        if (g != NULL && !hws_known(bw))
            bw = g->mem_bw_gbps;
        if (g != NULL && !hws_known(mm))
            mm = tflops_for(compute_of(o, ef), g->fp32_tflops, g->fp16_tflops, g->bf16_tflops,
                            g->fp8_tflops, g->int8_tops, g->fp4_tflops);
        if (g != NULL && o->runtime == HWS_RUNTIME_LLAMACPP && hws_known(g->fp32_tflops) &&
            hws_known(mm) && mm > LLAMACPP_MM_PER_FP32 * g->fp32_tflops)
            mm = LLAMACPP_MM_PER_FP32 * g->fp32_tflops;
        if (g != NULL && o->runtime == HWS_RUNTIME_LLAMACPP &&
            strcasecmp(g->segment, "datacenter") == 0)
            in->block_serial_us = e->block_serial_us * LLAMACPP_DATACENTER_BLOCK;
        if (g != NULL && !hws_known(link))
            link = hws_known(g->interconnect_gbps) ? g->interconnect_gbps / 2 : PCIE4_X16_GBPS;
        if (g != NULL && strstr(g->interconnect, "NVLink") != NULL)
            in->allreduce_latency_us = NVLINK_ALLREDUCE_US;
        /* the slowest device sets the pace; one of unknown SMs leaves the count unknown */
        if (!(d->sm_count > 0) || !hws_known(d->sm_count))
            in->sm_count = HWS_NA;
        else if (hws_known(in->sm_count) && d->sm_count < in->sm_count)
            in->sm_count = d->sm_count;
        if (!hws_known(in->mem_bw_gbps) || bw < in->mem_bw_gbps)
            in->mem_bw_gbps = bw;
        if (!hws_known(in->matmul_tflops) || mm < in->matmul_tflops)
            in->matmul_tflops = mm;
        if (!hws_known(in->link_gbps) || link < in->link_gbps)
            in->link_gbps = link;
    }
    if (links_measured > 0 && links_measured == devs->count)
        in->link_eff = 1; /* NCCL's measured bus bandwidth is what the runtime reaches */
    in->measured = measured;
    in->bw_eff = measured ? e->bw_eff_measured : e->bw_eff_datasheet;
    double quant_scale = engine_quant_scale(ef, o->batch);
    double batch_scale = o->runtime == HWS_RUNTIME_HWSCOPE && o->batch > ENGINE_INT_TENSOR_ROWS
                             ? ENGINE_BATCH_SCALE
                             : 1.0;
    in->bw_eff *= quant_scale * batch_scale;
    in->mm_eff = measured ? e->mm_eff_measured : e->mm_eff_datasheet;
    if (quant_scale != 1.0)
        in->mm_eff *= ENGINE_INT_PREFILL_SCALE;
    if (devs->count > 0 && devs->dev[0].spec != NULL &&
        strcasecmp(devs->dev[0].spec->segment, "apple") == 0) {
        in->bw_eff *= APPLE_METAL_EFF;
        in->mm_eff *= APPLE_METAL_EFF;
    }
    char source[96];
    snprintf(source, sizeof source, "measured on this machine (%s, hwscope bench)",
             measured_at[0] ? measured_at : "date not saved");
    char quant_note[192] = "";
    if (quant_scale != 1.0)
        snprintf(quant_note, sizeof quant_note,
                 "; its %s decode products at %.2f%s, prefill at %.2f of its 16-bit rates",
                 hws_llm_format_name(ef), quant_scale,
                 o->batch > ENGINE_INT_TENSOR_ROWS ? " (as slow as 16 bits past 2 rows)" : "",
                 ENGINE_INT_PREFILL_SCALE);
    if (batch_scale != 1.0) {
        size_t used = strlen(quant_note);
        snprintf(quant_note + used, sizeof quant_note - used,
                 "; past %d rows its decode step at %.2f of the batch-1 rate",
                 ENGINE_INT_TENSOR_ROWS, batch_scale);
    }
    snprintf(in->basis, sizeof in->basis,
             "%s: %.0f GB/s x %.2f, %s %.0f TFLOP/s x %.2f; host %.0f us/block prefill, %.0f "
             "us/block + %.0f us/step decode (%s%s)",
             measured    ? source
             : datasheet ? "datasheet x stated efficiency"
                         : "datasheet (some GPUs measured) x stated efficiency",
             in->mem_bw_gbps, in->bw_eff, compute_of(o, ef), in->matmul_tflops, in->mm_eff,
             in->layer_overhead_us, in->decode_layer_overhead_us, in->step_overhead_us, e->why,
             quant_note);
    if (devs->count > 0)
        hws_llm_measured_apply(o, &devs->dev[0], set, in);
}

/* ---- prediction ------------------------------------------------------------------------- */

/* Attention FLOPs per token attending to `fill` earlier tokens (QK^T and PV), all layers. */
static double attn_flops(const hws_model_spec *m, double fill) {
    double hd = hws_known(m->kv_lora_rank) && m->kv_lora_rank > 0
                    ? m->kv_lora_rank + (hws_known(m->qk_rope_head_dim) ? m->qk_rope_head_dim : 0)
                    : hws_shape_head_dim(m);
    double sum = 0;
    for (int i = 0; i < (int)m->n_layers; i++)
        sum += 4.0 * hws_kv_layer_tokens(m, i, fill) * m->n_heads * hd;
    return sum;
}

/* KV bytes read by one decode step at `fill` tokens in the cache, one sequence. */
static double kv_read(const hws_model_spec *m, const hws_plan_opts *o, double fill) {
    double per = hws_kv_runtime_bytes_per_token(m, o), sum = 0;
    for (int i = 0; i < (int)m->n_layers; i++)
        sum += per * hws_kv_runtime_tokens(m, o, i, fill);
    return sum;
}

/* The weights a text forward pass runs through: all but the vision tower (it runs on images). */
static double text_weights_bytes(const hws_memory *mem) {
    return mem->weights_bytes - mem->vision_bytes;
}

/* Weight bytes a decode step reads: with B sequences an MoE block touches the union of their
 * experts, E x (1 - (1 - k/E)^B) of them. */
static double weights_read(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem) {
    if (mem->expert_bytes <= 0 || !hws_known(m->n_experts_active) || o->batch <= 1)
        return mem->active_weights_bytes;
    double E = m->n_experts, k = m->n_experts_active;
    double used = E * (1.0 - pow(1.0 - k / E, o->batch));
    return mem->active_weights_bytes + mem->n_moe_layers * (used - k) * mem->expert_bytes;
}

/* Seconds for one all-reduce of `bytes` over n GPUs (ring: 2(n-1)/n of the data each way). */
static double allreduce_s(const hws_predict_inputs *in, int n, double bytes) {
    if (n < 2)
        return 0;
    return in->allreduce_latency_us * 1e-6 +
           2.0 * (n - 1) / n * bytes / (in->link_gbps * 1e9 * in->link_eff);
}

/* Host bytes of one decode step: the blocks left on the CPU, or the routed experts there. */
static double host_read(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                        const hws_placement *pl, double step_bytes) {
    if (pl->kind == HWS_PLACE_CPU_ONLY)
        return step_bytes;
    if (pl->kind == HWS_PLACE_CPU_OFFLOAD && pl->cpu_layers > 0)
        return step_bytes * pl->cpu_layers / m->n_layers;
    if (pl->kind == HWS_PLACE_EXPERT_OFFLOAD && pl->cpu_moe_layers > 0) {
        double E = m->n_experts, k = m->n_experts_active;
        double used = o->batch <= 1 ? k : E * (1.0 - pow(1.0 - k / E, o->batch));
        return pl->cpu_moe_layers * used * mem->expert_bytes;
    }
    return 0;
}

typedef struct {
    double t_step, bytes, t_ar;
    const char *bound;
} decode_step;

/* One decode step of the batch with `fill` tokens in each sequence's cache. */
static decode_step decode_at(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                             const hws_placement *pl, const hws_predict_inputs *in, double fill) {
    decode_step d = {0, 0, 0, "memory"};
    int tp = pl->tp > 1 ? pl->tp : 1;
    int cpu = pl->kind == HWS_PLACE_CPU_ONLY;
    double B = o->batch, L = m->n_layers;
    double bw = in->mem_bw_gbps * 1e9 * in->bw_eff;
    double host_bw = in->host_mem_bw_gbps * 1e9 * in->host_bw_eff;
    double mm =
        cpu ? in->host_tflops * 1e12 * in->host_mm_eff : in->matmul_tflops * 1e12 * in->mm_eff;
    double hops = pl->kind == HWS_PLACE_LAYER_SPLIT || pl->kind == HWS_PLACE_PIPELINE
                      ? (pl->ndev - 1) * in->hop_latency_us * 1e-6
                      : 0;
    double wbytes = weights_read(m, o, mem), kvbytes = kv_read(m, o, fill) * B;
    d.bytes = wbytes + kvbytes;
    double on_host = host_read(m, o, mem, pl, d.bytes);
    double t_mem = on_host / host_bw + (cpu ? 0 : (d.bytes - on_host) / tp / bw);
    if (pl->kind == HWS_PLACE_ZERO3 && pl->ndev > 1) { /* every GPU gathers each block */
        double n = pl->ndev;
        double gather =
            text_weights_bytes(mem) * (n - 1) / n / (in->link_gbps * 1e9 * in->link_eff) +
            L * in->allreduce_latency_us * 1e-6;
        t_mem = (wbytes + kvbytes / n) / bw;
        if (gather > t_mem) {
            t_mem = gather;
            d.bound = "link";
        }
    }
    double flops_tok = 2.0 * mem->active_params + attn_flops(m, fill);
    double t_cmp = mm > 0 ? flops_tok * B / tp / mm : 0; /* unknown rate: bandwidth alone */
    double t_host = cpu ? 0 : L * in->decode_layer_overhead_us * 1e-6;
    d.t_ar = 2.0 * L * allreduce_s(in, tp, B * m->hidden_size * 2.0);
    d.t_step = t_mem;
    if (t_cmp > d.t_step) {
        d.t_step = t_cmp;
        d.bound = "compute";
    }
    if (t_host > d.t_step) {
        d.t_step = t_host;
        d.bound = "host";
    }
    d.t_step +=
        (cpu ? 0 : L * in->block_serial_us * 1e-6) + in->step_overhead_us * 1e-6 + d.t_ar + hops;
    return d;
}

/* How the hwscope runtime's prefill was counted, where its fit could use waves of tiles. */
static const char *prefill_count_note(const hws_predict_inputs *in, bool by_waves, double waves) {
    if (by_waves)
        return ", its products in whole waves of output tiles over the SMs";
    if (!hws_known(in->wave_mm_eff))
        return "";
    return hws_known(waves) ? "" : ", in FLOPs (the model's products are not counted in waves)";
}

void hws_prediction_compute(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                            const hws_placement *pl, const hws_predict_inputs *in,
                            hws_prediction *out) {
    memset(out, 0, sizeof *out);
    out->prefill_tokens_per_s = out->decode_tokens_per_s = out->ttft_ms = out->tpot_ms = HWS_NA;
    out->decode_start_tokens_per_s = out->decode_end_tokens_per_s = HWS_NA;
    out->prefill_wave_flops_per_token = HWS_NA;
    out->decode_fill_tokens = HWS_NA;
    out->decode_bound = "n/a";
    int cpu = pl->kind == HWS_PLACE_CPU_ONLY;
    if (!pl->fits) {
        snprintf(out->basis, sizeof out->basis, "no speed: the placement does not fit (%s)",
                 pl->why[0] ? pl->why : "not possible");
        return;
    }
    if (cpu ? !(in->host_mem_bw_gbps > 0) : !hws_known(in->mem_bw_gbps) || in->mem_bw_gbps <= 0) {
        snprintf(out->basis, sizeof out->basis,
                 cpu ? "no memory bandwidth known for this CPU"
                     : "no bandwidth known for these GPUs (not in the catalog, nothing "
                       "measured)");
        return;
    }
    /* a matrix rate the catalog does not have: decode from bandwidth alone, no prefill */
    int have_mm = cpu ? in->host_tflops > 0 : hws_known(in->matmul_tflops) && in->matmul_tflops > 0;
    int tp = pl->tp > 1 ? pl->tp : 1;
    double bw = in->mem_bw_gbps * 1e9 * in->bw_eff;
    double mm =
        cpu ? in->host_tflops * 1e12 * in->host_mm_eff : in->matmul_tflops * 1e12 * in->mm_eff;
    if (cpu)
        bw = in->host_mem_bw_gbps * 1e9 * in->host_bw_eff;
    double start =
        hws_known(o->depth_tokens) && o->depth_tokens > 0 ? o->depth_tokens : o->prompt_tokens;
    double fill = start + o->gen_tokens / 2.0;
    if (fill > o->ctx_tokens)
        fill = o->ctx_tokens;
    double B = o->batch, L = m->n_layers;
    double hops = pl->kind == HWS_PLACE_LAYER_SPLIT || pl->kind == HWS_PLACE_PIPELINE
                      ? (pl->ndev - 1) * in->hop_latency_us * 1e-6
                      : 0;

    /* decode: one step produces B tokens; also at the start and the end of the context */
    decode_step d = decode_at(m, o, mem, pl, in, fill);
    out->decode_bytes_per_step = d.bytes;
    out->decode_bound = d.bound;
    out->allreduce_ms_per_step = d.t_ar * 1e3;
    out->tpot_ms = d.t_step * 1e3;
    out->decode_tokens_per_s = B / d.t_step;
    out->decode_fill_tokens = fill;
    out->decode_start_tokens_per_s =
        B / decode_at(m, o, mem, pl, in,
                      o->prompt_tokens < o->ctx_tokens ? o->prompt_tokens : o->ctx_tokens)
                .t_step;
    out->decode_end_tokens_per_s = B / decode_at(m, o, mem, pl, in, o->ctx_tokens).t_step;

    /* prefill: prompt x batch tokens in chunks; each chunk also streams the weights once */
    double tokens = o->prompt_tokens * B;
    double chunk = mem->prefill_chunk_tokens > 0 ? mem->prefill_chunk_tokens : tokens;
    double chunks = ceil(tokens / (chunk < tokens ? chunk : tokens));
    out->prefill_flops_per_token = 2.0 * mem->active_params + attn_flops(m, o->prompt_tokens / 2);
    /* hwscope's engine takes the logits of a prompt's last token only: the head once a prefill */
    if (o->runtime == HWS_RUNTIME_HWSCOPE && hws_known(m->vocab_size) &&
        hws_known(m->hidden_size) && o->prompt_tokens > 0)
        out->prefill_flops_per_token -=
            2.0 * m->vocab_size * m->hidden_size * (1.0 - 1.0 / o->prompt_tokens);
    /* the hwscope runtime fitted in waves of tiles: its products counted so where they can be */
    double plain_flops, rows = tokens / chunks;
    double waves = hws_prefill_wave_flops(m, rows, in->sm_count, tp, &plain_flops);
    if (hws_known(waves))
        out->prefill_wave_flops_per_token =
            out->prefill_flops_per_token + (waves - plain_flops) / rows;
    bool by_waves = !cpu && hws_known(out->prefill_wave_flops_per_token) &&
                    hws_known(in->wave_mm_eff) && in->wave_mm_eff > 0;
    double p_cmp = by_waves ? tokens * out->prefill_wave_flops_per_token / tp /
                                  (in->matmul_tflops * 1e12 * in->wave_mm_eff)
                            : tokens * out->prefill_flops_per_token / tp / mm;
    double p_mem = chunks * text_weights_bytes(mem) / tp / bw;
    double p_host = cpu ? 0 : chunks * L * in->layer_overhead_us * 1e-6; /* overlaps the GPU */
    double p_ar = 2.0 * L * chunks * allreduce_s(in, tp, tokens / chunks * m->hidden_size * 2.0);
    if (pl->kind == HWS_PLACE_ZERO3 && pl->ndev > 1) {
        double n = pl->ndev;
        p_cmp /= n;
        double gather =
            chunks * text_weights_bytes(mem) * (n - 1) / n / (in->link_gbps * 1e9 * in->link_eff);
        p_mem = p_mem > gather ? p_mem : gather;
    }
    double t_prefill = p_cmp > p_mem ? p_cmp : p_mem;
    t_prefill = (t_prefill > p_host ? t_prefill : p_host) + p_ar + chunks * hops +
                (by_waves ? in->wave_prefill_overhead_us : in->prefill_overhead_us) * 1e-6 +
                chunks * L * (by_waves ? in->wave_prefill_block_us : in->prefill_block_us) * 1e-6;
    /* the host's weights cross PCIe to the GPU for each chunk (llama.cpp offloads big batches) */
    if ((pl->kind == HWS_PLACE_CPU_OFFLOAD || pl->kind == HWS_PLACE_EXPERT_OFFLOAD) &&
        pl->cpu_bytes > 0)
        t_prefill += chunks * pl->cpu_bytes / (PCIE4_X16_GBPS * 1e9);
    out->prefill_tokens_per_s = have_mm ? tokens / t_prefill : HWS_NA;
    out->ttft_ms = have_mm ? t_prefill * 1e3 : HWS_NA;
    snprintf(out->basis, sizeof out->basis,
             "roofline, %s; decode at %.0f tokens in cache, batch %.0f, %s-bound; prefill of "
             "%.0f tokens in %.0f chunk(s)%s%s%s%s",
             cpu ? "CPU: host bandwidth x 0.70, FP32 peak x 0.50" : in->basis, fill, B,
             out->decode_bound, tokens, chunks, prefill_count_note(in, by_waves, waves),
             tp > 1 ? "; tensor-parallel all-reduce: 2 per block" : "",
             pl->kind == HWS_PLACE_ZERO3 ? "; ZeRO-3: each block gathered over the link" : "",
             have_mm ? "" : "; no matrix rate known: decode from bandwidth alone, no prefill");
}
