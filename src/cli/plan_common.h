/* plan_common.h - what `hwscope plan` and `hwscope advise` share: the model/precision/context
 * flags, resolving them into a model, options and memory estimate, and their JSON. */
#ifndef HWSCOPE_CLI_PLAN_COMMON_H
#define HWSCOPE_CLI_PLAN_COMMON_H

#include "cli/args.h"
#include "hwscope/plan.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
    const char *dtype, *quant, *kv, *runtime, *cache;
    long ctx, batch, prompt, depth;
} hws_plan_args;

void hws_plan_args_default(hws_plan_args *a);

/* The flags both commands take, as hws_opt initialisers over an hws_plan_args named a. */
#define HWS_PLAN_COMMON_OPTS(a)                                                                      \
    {"dtype",                                                                                        \
     HWS_OPT_STRING,                                                                                 \
     &(a).dtype,                                                                                     \
     0,                                                                                              \
     0,                                                                                              \
     "weights: fp32 fp16 bf16 fp8 fp8-block int8 int4 (AWQ/GPTQ g128) nf4 mxfp4 fp4 (NVFP4) "        \
     "int4-bare, or a GGUF type (default: as the checkpoint ships)"},                                \
        {"quant",    HWS_OPT_STRING,                                                                 \
         &(a).quant, 0,                                                                              \
         0,          "GGUF type: Q8_0 Q6_K Q5_K_M Q4_K_M Q4_0 Q3_K_M Q2_K IQ4_XS IQ3_M IQ2_XS ..."}, \
        {"kv-dtype", HWS_OPT_STRING, &(a).kv, 0, 0, "KV cache: fp16 bf16 fp8 q8_0 q4 (fp16)"},       \
        {"ctx",    HWS_OPT_INT,                                                                      \
         &(a).ctx, 1,                                                                                \
         10485760, "context per sequence, tokens (8192, or the model's maximum when smaller)"},      \
        {"batch", HWS_OPT_INT, &(a).batch, 1, 65536, "concurrent sequences (1)"},                    \
        {"prompt", HWS_OPT_INT, &(a).prompt, 1, 10485760, "prompt tokens for TTFT (512)"},           \
        {"depth",    HWS_OPT_INT,                                                                    \
         &(a).depth, 1,                                                                              \
         10485760,   "tokens in the cache when decode is timed (llama-bench -d; the prompt)"},       \
        {"cache",    HWS_OPT_STRING,                                                                 \
         &(a).cache, 0,                                                                              \
         0,          "transformers KV cache: dynamic (generate's default) or static"},               \
    {                                                                                                \
        "runtime", HWS_OPT_STRING, &(a).runtime, 0, 0,                                               \
            "transformers, vllm, llama.cpp or hwscope (transformers; llama.cpp for GGUF types)"      \
    }

/* Resolves MODEL and the flags into model, opts and mem. Returns 0, or the exit status after
 * printing the message (2: bad model name, flag value or file; 1: runtime failure). */
int hws_plan_setup(const char *cmd, const char *model_arg, const hws_plan_args *a,
                   hws_model_spec *model, hws_plan_opts *opts, hws_memory *mem);
/* The host of a plan: the CPU server named by host_name (data/cpus.tsv), else this machine (RAM
 * available now, cgroup-aware); ram_gb > 0 replaces its RAM. 0, or 2 after the message. */
int hws_plan_host(const char *cmd, const char *host_name, double ram_gb, hws_host *host);
/* The weights format's name, or the file's type when the file's own bytes are used. */
const char *hws_plan_weights_name(const hws_plan_opts *o, const hws_model_spec *m);
/* Says on stderr, when warning is not "", that the saved ceilings file was not used and why. */
void hws_ceilings_warn(const char *cmd, const char *warning);
/* The saved ceilings (hws_ceilings_path), read once; NULL when none, after hws_ceilings_warn
 * when a file is there but cannot be used. Free with hws_ceilings_set_free. */
hws_ceilings_set *hws_plan_ceilings_read(const char *cmd);
/* "model": {...} and "options": {...} of plan and advise documents. */
void hws_json_model(cJSON *doc, const hws_model_spec *m, const hws_memory *mem);
void hws_json_options(cJSON *doc, const hws_plan_opts *o, const hws_model_spec *m);

#endif
