/* plan.h - the planner: memory a model needs, where it goes on a set of GPUs, how fast it runs,
 * and which hardware to buy or rent for it.
 *
 * Everything here is pure arithmetic over a hws_model_spec (model.h) and GPU rows (catalog.h), so
 * each piece is unit-tested with hand-built models and GPUs. Sizes are bytes (GB = 1e9 and GiB =
 * 2^30 only when printed), speeds are tokens/s, times ms. Unknown is HWS_NA.
 *
 * The four places today's planners go wrong, each handled and tested here:
 *   - KV cache: 2 x layers x kv_heads x head_dim x bytes per token (GQA/MQA use kv_heads, not
 *     heads), (kv_lora_rank + qk_rope_head_dim) x layers x bytes for MLA, sliding-window layers
 *     capped at the window; for the context asked (default 8192), not the model's maximum.
 *   - MoE: every expert counts for memory, only the active ones for bytes read per token.
 *   - Fit is judged against memory free now on a local GPU, against total for named hardware.
 *   - Overheads (CUDA context, the runtime's own reservation, activation peak) are stated. */
#ifndef HWSCOPE_PLAN_H
#define HWSCOPE_PLAN_H

#include "hwscope/catalog.h"
#include "hwscope/ceilings.h"
#include "hwscope/fields.h"
#include "hwscope/hwscope.h"
#include "hwscope/model.h"
#include "hwscope/probe.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_PLAN_DEFAULT_CTX 8192 /* practical default context, tokens (not the model's max) */
#define HWS_PLAN_MAX_DEVICES 16
#define HWS_PLAN_BASIS_LEN   256

/* ---- formats ---------------------------------------------------------------------------- */

/* A weight storage format. bits_per_weight includes the format's scales and zero points (a
 * group-wise INT4 with one FP16 scale and one 4-bit zero per 128 weights is 4 + 16/128 + 4/128 =
 * 4.16 bits). Formats that keep the embeddings and output head in 16 bits say so with
 * embed_bits = 16; GGUF types give the whole-file average of llama.cpp's mix. */
typedef struct {
    const char *name;       /* "bf16", "int4", "Q4_K_M" (matched case-insensitively) */
    double bits_per_weight; /* effective bits per weight of the transformer blocks */
    double embed_bits;      /* bits per weight of the input embedding */
    double head_bits;       /* bits per weight of the output head (GGUF keeps it in Q6_K) */
    const char *compute;    /* matrix precision used: "fp16", "bf16", "fp8", "int8", "fp32" */
    int gguf;               /* 1 for llama.cpp GGUF types (run by llama.cpp) */
    const char *note;       /* what the format is */
} hws_weight_format;

/* Finds a weight format by name ("fp16", "int4", "awq", "Q4_K_M", "IQ2_XS"). NULL when unknown. */
HWS_API const hws_weight_format *hws_weight_format_find(const char *name);
/* All weight formats, for help text and the advisor. */
HWS_API const hws_weight_format *hws_weight_formats(size_t *count);

/* The format a checkpoint ships in, from the quantisation its config.json (or the catalog's
 * checkpoint column) declares: file_weight_type "MXFP4" (gpt-oss), "FP8" (DeepSeek-V3 128x128
 * blocks), "AWQ-INT4", "GPTQ-INT8", "BITSAN-INT4" (bitsandbytes: NF4), "COMPRE-INT4"...; NULL for
 * a plain dtype. *experts_only: gpt-oss quantises only the MoE experts (attention, router,
 * embeddings and head stay BF16: its modules_to_not_convert). Planned when no --dtype is given. */
HWS_API const hws_weight_format *hws_checkpoint_format(const hws_model_spec *m, int *experts_only);

/* A KV-cache element format: "fp16"/"bf16" 2 bytes, "fp8" 1 byte, "q8_0" 34/32 bytes,
 * "q4_0"/"q4" 18/32 bytes (llama.cpp's 4-bit cache types, 32 values + one FP16 scale). */
typedef struct {
    const char *name;
    double bytes_per_elem;
    const char *note;
} hws_kv_format;

HWS_API const hws_kv_format *hws_kv_format_find(const char *name);

/* ---- runtime and options ------------------------------------------------------------------ */

typedef enum {
    HWS_RUNTIME_TRANSFORMERS = 0, /* Hugging Face transformers, eager PyTorch */
    HWS_RUNTIME_VLLM,             /* vLLM: paged KV cache, CUDA graphs, gpu_memory_utilization */
    HWS_RUNTIME_LLAMACPP,         /* llama.cpp: GGUF, -ngl layer offload, n_ubatch chunks */
    HWS_RUNTIME_HWSCOPE,          /* hwscope's own engine (`hwscope bench llm`) */
    HWS_RUNTIME_COUNT
} hws_runtime;

HWS_API const char *hws_runtime_name(hws_runtime rt);
/* "transformers", "vllm", "llama.cpp" (also "llamacpp", "hf"), "hwscope". -1 when unknown. */
HWS_API int hws_runtime_parse(const char *name);

/* What the user asked for. hws_plan_opts_default fills the stated defaults. */
typedef struct {
    const hws_weight_format *weights; /* NULL: the model file's own bytes, else bf16 */
    const hws_kv_format *kv;          /* fp16 by default */
    double ctx_tokens;                /* context held in the KV cache per sequence (8192) */
    double batch;                     /* concurrent sequences (1) */
    double prompt_tokens;             /* prompt length for TTFT and prefill speed (512) */
    double gen_tokens;                /* generated tokens for decode speed (128) */
    hws_runtime runtime;              /* transformers by default (llama.cpp for GGUF formats) */
    double vllm_gpu_mem_util;         /* vLLM gpu_memory_utilization (0.90, vLLM's default) */
    double depth_tokens;              /* tokens already in the cache when decode is measured
                                       * (llama-bench -d); NA: the prompt */
    int static_cache; /* transformers: generate(cache_implementation="static") instead of the
                       * default dynamic cache (its decode fitted apart where runs are saved) */
} hws_plan_opts;

HWS_API void hws_plan_opts_default(hws_plan_opts *o);
/* The context planned when the user names none: HWS_PLAN_DEFAULT_CTX, or the model's own maximum
 * when that is smaller (Llama-2: 4096), tokens. */
HWS_API double hws_plan_default_ctx(const hws_model_spec *m);

/* ---- memory ------------------------------------------------------------------------------- */

typedef struct {
    double params;            /* all parameters (every expert, any vision tower) */
    double active_params;     /* read per token (active experts; no embedding lookup) */
    double weights_bytes;     /* all weights as stored */
    double embed_bytes;       /* input embedding + output head (once when tied) of that */
    double input_embed_bytes; /* the input embedding matrix */
    double head_bytes;        /* the output head's own matrix; 0 when tied to the input one */
    int head_tied; /* the head is the input embedding itself (tied, and no runtime's own copy) */
    double final_norm_bytes;     /* the norm before the head (goes with the head) */
    double layer_weights_bytes;  /* one transformer block, average */
    double dense_block_bytes;    /* one block with a dense MLP */
    double moe_block_bytes;      /* one block with a mixture-of-experts MLP (0: dense model) */
    int first_moe_layer;         /* blocks before it are dense (n_layers: none is MoE) */
    int moe_layer_step;          /* from it on, block i is MoE when (i + 1) % step == 0 */
    int n_moe_layers;            /* MoE blocks (0: dense model) */
    double expert_bytes;         /* one routed expert's MLP (0: dense model) */
    double vision_bytes;         /* vision tower + multimodal projector (0: text only) */
    double active_weights_bytes; /* weights read per decoded token */
    double kv_bytes_per_token;   /* one token of one sequence, all layers (window not applied) */
    double kv_bytes;             /* ctx x batch, sliding windows applied */
    double activation_bytes;     /* peak of one prefill chunk */
    double prefill_chunk_tokens; /* tokens per chunk the runtime prefills at once */
    double cuda_context_bytes;   /* per GPU: CUDA context and library handles */
    double runtime_bytes;        /* per GPU: the runtime's own (allocator slack, graphs) */
    double total_bytes;          /* weights + kv + activations + context + runtime (1 GPU) */
    /* the format the weights were counted in (the plan's, the checkpoint's or bf16); NULL when
     * the model file's own bytes or a checkpoint of mixed formats set them */
    const hws_weight_format *weights_format;
    char weights_basis[HWS_PLAN_BASIS_LEN];
    char kv_basis[HWS_PLAN_BASIS_LEN];
    char activation_basis[HWS_PLAN_BASIS_LEN];
    char overhead_basis[HWS_PLAN_BASIS_LEN];
    char vision_basis[HWS_PLAN_BASIS_LEN];
} hws_memory;
/* The fields of hws_memory that outputs show (hwscope/fields.h). */
extern HWS_API const hws_field_table hws_memory_table;

HWS_API hws_status hws_memory_estimate(const hws_model_spec *m, const hws_plan_opts *o,
                                       hws_memory *out, hws_error *err);
/* KV bytes per token of one layer (i = 0..n_layers-1) for one sequence, and the tokens that layer
 * keeps for a context of ctx (the window on sliding layers). */
HWS_API double hws_kv_layer_bytes_per_token(const hws_model_spec *m, double kv_bytes_per_elem);
HWS_API double hws_kv_layer_tokens(const hws_model_spec *m, int layer, double ctx);
/* The same as the runtime of o allocates it: transformers caches MLA's full K and V (heads x
 * (qk_nope + qk_rope + v_head_dim)), not the latent; llama.cpp keeps the whole context on a model
 * whose every layer slides (Mistral 7B v0.1: no SWA cache for it), the window only where
 * sliding and global layers interleave (Gemma 2/3's iSWA cache). */
HWS_API double hws_kv_runtime_bytes_per_token(const hws_model_spec *m, const hws_plan_opts *o);
HWS_API double hws_kv_runtime_tokens(const hws_model_spec *m, const hws_plan_opts *o, int layer,
                                     double ctx);
/* Whether block `layer` has a mixture of experts (Llama 4 Maverick: every second one). */
HWS_API int hws_layer_is_moe(const hws_memory *mem, int layer);
/* Weight bytes of block `layer`, and its KV bytes for ctx x batch. */
HWS_API double hws_layer_weights_bytes(const hws_memory *mem, int layer);
HWS_API double hws_kv_layer_bytes(const hws_model_spec *m, const hws_plan_opts *o, int layer);

/* ---- devices ------------------------------------------------------------------------------ */

typedef struct {
    char name[96];            /* as given or as the driver names it */
    const hws_gpu_spec *spec; /* catalog row; NULL when not in the catalog */
    double mem_total_bytes;
    double mem_avail_bytes; /* free now (local GPU) or total (named hardware) */
    double sm_count;        /* streaming multiprocessors: the driver's (local) or the catalog's;
                             * NA unknown (prefill then counted in FLOPs, not waves) */
    int local;              /* 1: this machine's GPU, fit judged against free memory */
} hws_device;

/* The host the GPUs sit in (or that runs the model alone): the RAM that offloaded weights, KV
 * and a CPU-only plan may use, and the CPU's ceilings. A row of data/cpus.tsv when named. */
typedef struct {
    char name[96];            /* "this machine (AMD EPYC 9654)", "EPYC 9654 (12x DDR5-4800)" */
    const char *catalog;      /* the data/cpus.tsv row's name; NULL when not from the catalog */
    double mem_bytes;         /* RAM offered: available now (cgroup limit applied) or the named
                               * host's total; NA unknown (no check) */
    double mem_bw_gbps;       /* memory bandwidth, GB/s: measured, catalog, or derived */
    const char *mem_bw_basis; /* where mem_bw_gbps comes from (a static string) */
    double matmul_tflops;     /* CPU matrix rate for prefill (FP32 FMA peak), TFLOP/s; NA */
    double price_usd;         /* a named server's purchase price, NA when none */
    double usd_per_hour;      /* its on-demand price, NA when none */
    char basis[HWS_PLAN_BASIS_LEN];
} hws_host;

typedef struct {
    int count; /* GPUs; 0 with cpu_only for a CPU-only plan */
    int cpu_only;
    hws_device dev[HWS_PLAN_MAX_DEVICES];
    hws_host host;
    char basis[HWS_PLAN_BASIS_LEN * 2]; /* "local GPUs, free memory now" / "named: 2x H100" */
} hws_device_set;

/* A host of unknown RAM and ceilings (no RAM check): what named hardware starts with. */
HWS_API void hws_host_unknown(hws_host *h);
/* This machine as host, from its probed memory and CPU: RAM available now, capped by the cgroup
 * limit less its usage; bandwidth measured (ceilings file host_mem_bw_gbps), else the CPU's
 * data/cpus.tsv row, else HWS_HOST_DEFAULT_BW_GBPS stated; matrix rate the CPU's FP32 peak. */
HWS_API void hws_host_from_probe(const hws_mem_info *mem, const hws_cpu_info *cpu,
                                 double measured_bw_gbps, hws_host *h);
/* hws_host_from_probe on this machine (probes memory and CPU). */
HWS_API hws_status hws_host_local(hws_host *h, hws_error *err);
/* A CPU server of data/cpus.tsv by name ("EPYC 9654", "Xeon 8480+"); HWS_ERR_INPUT naming it. */
HWS_API hws_status hws_host_named(const char *name, hws_host *h, hws_error *err);
#define HWS_HOST_DEFAULT_BW_GBPS 50.0 /* dual-channel DDR5 desktop, when nothing else is known */

/* n GPUs of a catalog row, as named hardware (vendor GB read as GiB, less the driver's 0.5%). */
HWS_API void hws_devices_named(const hws_gpu_spec *g, int n, hws_device_set *out);
/* "4x RTX 4090", "2x H100 SXM 80GB", "H100 SXM 80GB", "RTX 4090,RTX 3090", "2xA100 80GB";
 * "cpu" (or "none") for a CPU-only plan. Names go through hws_gpu_catalog_find. The host is
 * left unknown (hws_host_unknown). HWS_ERR_INPUT naming the part at fault. */
HWS_API hws_status hws_devices_parse(const char *spec, hws_device_set *out, hws_error *err);
/* This machine's GPUs (hws_probe_gpus), with their free memory. HWS_ERR_UNSUPPORTED with the
 * reason when there is none. */
HWS_API hws_status hws_devices_local(hws_device_set *out, hws_error *err);
/* The same from GPUs already probed (so a caller that has them does not ask NVML again). */
HWS_API hws_status hws_devices_from_gpus(const hws_gpu_list *list, hws_device_set *out,
                                         hws_error *err);

/* ---- placement ---------------------------------------------------------------------------- */

typedef enum {
    HWS_PLACE_SINGLE = 0,      /* everything on GPU 0 */
    HWS_PLACE_LAYER_SPLIT,     /* accelerate device_map="auto": layers balanced by free memory */
    HWS_PLACE_TENSOR_PARALLEL, /* each layer split across all GPUs (heads must divide) */
    HWS_PLACE_PIPELINE,        /* equal layer stages (vLLM pipeline_parallel_size) */
    HWS_PLACE_CPU_OFFLOAD,     /* llama.cpp -ngl + --tensor-split (accelerate device_map="auto" +
                                * max_memory): as many layers on the GPUs as fit, rest on CPU */
    HWS_PLACE_EXPERT_OFFLOAD,  /* MoE: attention, dense parts and KV on the GPUs, the routed
                                * experts of the first n_cpu_moe layers in host RAM (llama.cpp
                                * -ngl 99 --n-cpu-moe N; N = all layers is -ot exps=CPU) */
    HWS_PLACE_CPU_ONLY,        /* no GPU: llama.cpp on the CPU, everything in host RAM */
    HWS_PLACE_ZERO3,           /* DeepSpeed ZeRO-3 inference: each GPU keeps 1/n of every layer
                                * and gathers the whole layer over the links each forward */
    HWS_PLACE_COUNT
} hws_place_kind;

HWS_API const char *hws_place_name(hws_place_kind k);

typedef struct {
    double weights_bytes, kv_bytes, activation_bytes, overhead_bytes, total_bytes;
    double avail_bytes;        /* what the device offers (free or total; vLLM: x util) */
    int first_layer, n_layers; /* the blocks it holds (all of them, as shards, for TP) */
    int has_embeddings, has_head;
    int fits;
} hws_device_load;
/* The fields of one device's load. */
extern HWS_API const hws_field_table hws_device_load_table;

typedef struct {
    hws_place_kind kind;
    int possible; /* 0: the method does not apply (heads do not divide...) */
    int fits;     /* possible and every device fits */
    char why[HWS_PLAN_BASIS_LEN];
    int ndev; /* devices used */
    hws_device_load load[HWS_PLAN_MAX_DEVICES];
    int cpu_layers;          /* CPU offload: blocks left in host memory */
    int cpu_moe_layers;      /* expert offload: blocks whose routed experts stay in host memory */
    int cpu_moe_below;       /* expert offload: those are the MoE blocks below this one
                              * (llama.cpp --n-cpu-moe N counts blocks from 0, dense ones too) */
    double cpu_bytes;        /* weights + KV (+ a CPU-only plan's buffers) kept in host memory */
    double host_avail_bytes; /* RAM the host offers (NA: not known, not checked) */
    int tp, pp;              /* tensor-parallel and pipeline degrees of the launch */
    double gpu_mem_util;     /* vLLM: the --gpu-memory-utilization it can start with */
    char note[HWS_PLAN_BASIS_LEN];       /* what the runtime does that the user must know */
    char launch[HWS_PLAN_BASIS_LEN * 3]; /* the command that runs it (hws_launch_command) */
} hws_placement;

/* Places the model by one method on the devices. Never fails for a model that does not fit: that
 * is fits = 0 with why. */
HWS_API void hws_placement_compute(const hws_model_spec *m, const hws_plan_opts *o,
                                   const hws_memory *mem, const hws_device_set *devs,
                                   hws_place_kind kind, hws_placement *out);
/* The fields of hws_placement that outputs show (its per-device loads have their own table). */
extern HWS_API const hws_field_table hws_placement_table;

/* The command line that runs a placement with the runtime of o: vLLM (vllm serve ...
 * --tensor-parallel-size, --pipeline-parallel-size, --gpu-memory-utilization, --max-model-len,
 * --kv-cache-dtype), llama.cpp (llama-server -ngl, --tensor-split, --n-cpu-moe, -c, -ctk/-ctv),
 * transformers (from_pretrained device_map, max_memory) or deepspeed (ZeRO-3). */
HWS_API void hws_launch_command(const hws_model_spec *m, const hws_plan_opts *o,
                                const hws_device_set *devs, const hws_placement *pl, char *buf,
                                size_t n);
/* The most memory the placement asks of any one of its devices, bytes (0 for no device). */
HWS_API double hws_placement_largest_need(const hws_placement *pl);
/* The method hwscope recommends: single if it fits, else tensor parallel (identical GPUs, heads
 * divide), else layer split, else expert offload (MoE), else CPU offload over every GPU, else
 * (or with no GPU) CPU only. Fills out with that placement. */
HWS_API hws_place_kind hws_placement_best(const hws_model_spec *m, const hws_plan_opts *o,
                                          const hws_memory *mem, const hws_device_set *devs,
                                          hws_placement *out);

/* ---- prediction --------------------------------------------------------------------------- */

/* The efficiencies, one row per runtime, each with why (predict.c holds the table): the
 * fraction of a ceiling that runtime reaches, and the fixed costs it adds. */
typedef struct {
    hws_runtime runtime;
    double bw_eff_datasheet;  /* decode: fraction of datasheet memory bandwidth */
    double bw_eff_measured;   /* decode: fraction of the measured copy bandwidth */
    double mm_eff_datasheet;  /* prefill: fraction of datasheet dense matrix FLOP/s */
    double mm_eff_measured;   /* prefill: fraction of the measured cuBLAS FLOP/s */
    double link_eff;          /* all-reduce: fraction of the link's one-way bandwidth */
    double layer_overhead_us; /* host time per block per prefill forward (launches, Python) */
    double decode_layer_overhead_us; /* host time per block per decode step (a one-token
                                      * forward launches the same kernels on less work) */
    double block_serial_us;          /* GPU time per block per decode step that adds to the memory
                                      * time (kernel boundaries and tails of many small kernels) */
    double step_overhead_us;         /* host time per decode step (sampling, scheduling, sync) */
    const char *why;
} hws_efficiency;

HWS_API const hws_efficiency *hws_efficiency_for(hws_runtime rt);

/* Every input of the predictor, in one place: the ceilings used (measured or datasheet), the
 * efficiencies applied and the fixed costs. Filled by hws_predict_inputs_fill; a caller may
 * change any field before hws_prediction_compute (tests do). Per GPU; for mixed GPUs the slowest.
 */
typedef struct {
    int measured;            /* 1: ceilings from hwscope bench results, 0: datasheet */
    double mem_bw_gbps;      /* ceiling used for decode, GB/s, before efficiency */
    double matmul_tflops;    /* ceiling at the format's compute precision, before efficiency */
    double link_gbps;        /* GPU to GPU, one direction, GB/s (datasheet interconnect / 2),
                              * or the measured all-reduce bus bandwidth */
    double host_mem_bw_gbps; /* for CPU-offloaded layers, GB/s */
    double bw_eff, mm_eff, link_eff, host_bw_eff;
    double allreduce_latency_us;     /* fixed cost of one all-reduce (NVLink or PCIe) */
    double hop_latency_us;           /* layer split: handing activations to the next GPU */
    double layer_overhead_us;        /* prefill, per block */
    double decode_layer_overhead_us; /* decode, per block */
    double block_serial_us;
    double step_overhead_us;
    double prefill_overhead_us; /* fixed cost per prefill (fitted from measured runs; 0 else) */
    double prefill_block_us;    /* serial cost per block per prefill chunk (fitted; 0 else) */
    double sm_count;            /* SMs of the slowest GPU; NA when one is unknown */
    /* The hwscope runtime's prefill fitted with its products counted in whole waves of output
     * tiles over the SMs (hws_prefill_wave_flops): used instead of mm_eff, prefill_overhead_us
     * and prefill_block_us where the model's waves can be counted; NA when not fitted (no SM
     * count, or saved runs without wave FLOPs). */
    double wave_mm_eff, wave_prefill_overhead_us, wave_prefill_block_us;
    double host_tflops; /* CPU matrix rate for CPU-only prefill, TFLOP/s */
    double host_mm_eff; /* llama.cpp's fraction of it */
    char basis[HWS_PLAN_BASIS_LEN * 2];
    char ceilings_warning[HWS_ERROR_LEN]; /* why a ceilings file there was not used; "" */
} hws_predict_inputs;
/* The fields of the predictor's inputs. */
extern HWS_API const hws_field_table hws_predict_inputs_table;

/* Fills the predictor's inputs for the devices, from saved ceilings when the file has them for
 * that GPU (ceilings_path NULL: hws_ceilings_path), else the datasheet. For the hwscope runtime
 * the efficiencies come from the runs `hwscope bench llm` saved for that GPU and format when
 * there are any (basis "measured by hwscope bench llm on this machine"), else the engine's
 * stated row. */
HWS_API void hws_predict_inputs_fill(const hws_plan_opts *o, const hws_memory *mem,
                                     const hws_device_set *devs, const char *ceilings_path,
                                     hws_predict_inputs *in);
/* The same from ceilings already read (NULL: none saved); leaves ceilings_warning empty. */
HWS_API void hws_predict_inputs_from(const hws_plan_opts *o, const hws_memory *mem,
                                     const hws_device_set *devs, const hws_ceilings_set *set,
                                     hws_predict_inputs *in);

typedef struct {
    double prefill_tokens_per_s;      /* prompt tokens per second, all sequences together */
    double decode_tokens_per_s;       /* generated tokens per second, all sequences together, at
                                       * --depth (else the prompt) + half the generated tokens */
    double decode_start_tokens_per_s; /* the same with only the prompt in the cache */
    double decode_end_tokens_per_s;   /* the same with the whole context in the cache */
    double decode_fill_tokens;        /* tokens in the cache for decode_tokens_per_s */
    double ttft_ms;                   /* time to first token: prefill of prompt_tokens x batch */
    double tpot_ms;                   /* time per output token (one step of the batch) */
    double decode_bytes_per_step;     /* weights read + KV read, bytes */
    double prefill_flops_per_token;
    double prefill_wave_flops_per_token; /* the same with the block products counted in whole
                                          * waves of output tiles over the SMs; NA unknown */
    double allreduce_ms_per_step;        /* tensor parallel cost per decode step */
    const char *decode_bound;            /* "memory", "compute" or "host" */
    char basis[HWS_PLAN_BASIS_LEN * 4];
} hws_prediction;
/* The fields of a prediction (decode_bound and basis are strings beside them). */
extern HWS_API const hws_field_table hws_prediction_table;

/* Roofline prediction for a placement. Unknown ceilings, or a placement that does not fit, give
 * HWS_NA speeds with the reason. */
HWS_API void hws_prediction_compute(const hws_model_spec *m, const hws_plan_opts *o,
                                    const hws_memory *mem, const hws_placement *pl,
                                    const hws_predict_inputs *in, hws_prediction *out);

/* ---- advice ------------------------------------------------------------------------------- */

typedef struct {
    double budget_usd;       /* NA: none; purchase USD, or USD per hour when renting */
    double min_tokens_per_s; /* decode target, NA: none */
    int rent;                /* 1: rank by $/hour and $ per million tokens; 0: purchase */
    const hws_host *host;    /* "your CPU", ranked beside the rest at no purchase cost; NULL */
    /* buy mode's $ per million tokens: the purchase amortised over life_years at utilisation
     * (fraction of the hours it generates), plus the GPUs' TDP at usd_per_kwh; 0: defaults */
    double life_years;  /* HWS_ADVISE_LIFE_YEARS */
    double usd_per_kwh; /* HWS_ADVISE_USD_PER_KWH */
    double utilisation; /* HWS_ADVISE_UTILISATION */
} hws_advise_opts;

#define HWS_ADVISE_LIFE_YEARS  3.0  /* a GPU's depreciation life */
#define HWS_ADVISE_USD_PER_KWH 0.15 /* about the US average retail price of electricity */
#define HWS_ADVISE_UTILISATION 0.50 /* half the hours generating */

typedef struct {
    const hws_gpu_spec *gpu; /* NULL for a CPU host */
    char name[96];           /* the GPU's catalog name, or the CPU host's */
    int cpu;                 /* 1: a CPU-only configuration (llama.cpp on the host) */
    int count;               /* 1, 2, 4, 8 */
    const hws_weight_format *weights;
    hws_runtime runtime;
    hws_place_kind place;
    double mem_needed_bytes; /* largest per-device need */
    double mem_per_gpu_bytes;
    double decode_tokens_per_s;
    double prefill_tokens_per_s;
    double buy_usd;               /* count x catalog price */
    double usd_per_hour;          /* count x published on-demand $/GPU-hour */
    double usd_per_mtok;          /* $ per million generated tokens at decode speed: renting at
                                   * usd_per_hour; buying, amortised (hws_advise_opts) */
    double cost_usd;              /* what the ranking uses: buy_usd, or usd_per_hour (--rent) */
    int ok;                       /* fits, within budget and meets the speed target */
    char why[HWS_PLAN_BASIS_LEN]; /* why not, or notes */
} hws_advice;
/* The figures of one advice row. */
extern HWS_API const hws_field_table hws_advice_table;

typedef struct {
    int n, cap;
    hws_advice *items;                    /* ranked: ok ones first by cost, then the rest */
    char ceilings_warning[HWS_ERROR_LEN]; /* why a saved ceilings file was not used; "" */
} hws_advice_list;

/* Enumerates catalog GPUs x {1,2,4,8} x weight formats, the CPU hosts of data/cpus.tsv and
 * the caller's own CPU (llama.cpp, CPU only) for the model; sorts. */
HWS_API hws_status hws_advise(const hws_model_spec *m, const hws_plan_opts *o,
                              const hws_advise_opts *a, hws_advice_list *out, hws_error *err);
HWS_API void hws_advice_list_free(hws_advice_list *l);
/* The closest miss of one piece of hardware (GPU row or CPU host name): the one that fits with
 * the fewest GPUs and is cheapest, else the smallest need per GPU against what it has. NULL
 * when the list has none of it. */
HWS_API const hws_advice *hws_advice_near_miss(const hws_advice_list *l, const char *name);
/* What the budget tree is, in one paragraph, for the output. */
HWS_API const char *hws_budget_tree_explained(void);

/* The guide's budget tree, one row per tier, with hwscope's pick for the model beside it. */
typedef struct {
    const char *tier;       /* "< $1,000" ... */
    double max_usd;         /* upper bound of the tier (NA: none) */
    const char *guide_pick; /* what the guide recommends */
    const hws_advice *pick; /* cheapest ok configuration within the tier; NULL: none */
    int agrees;             /* 1: the guide's GPU is hwscope's pick or also works */
    char note[HWS_PLAN_BASIS_LEN];
} hws_budget_tier;

#define HWS_BUDGET_TIERS 4
HWS_API void hws_advise_budget_tree(const hws_advice_list *l,
                                    hws_budget_tier tiers[HWS_BUDGET_TIERS]);

/* Former names (before hws_<object>_<verb>), kept for one minor release. */
#define hws_place          hws_placement_compute
#define hws_place_best     hws_placement_best
#define hws_predict        hws_prediction_compute
#define hws_layer_kv_bytes hws_kv_layer_bytes

#ifdef __cplusplus
}
#endif

#endif
