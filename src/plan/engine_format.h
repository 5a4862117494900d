/* engine_format.h - inside the planner: which of its own weight formats the hwscope engine runs a
 * plan's weights in, the one answer the memory model (bytes) and the prediction (the engine's
 * efficiency per format, its saved runs) both take. */
#ifndef HWSCOPE_PLAN_ENGINE_FORMAT_H
#define HWSCOPE_PLAN_ENGINE_FORMAT_H

#include "hwscope/llm.h"
#include "hwscope/plan.h"

/* The format (bf16, fp16, int8, int4) the hwscope engine stores weights of format f in under
 * plan options o. The engine keeps weights in those four only and converts whatever it loads
 * (safetensors, GGUF F16/BF16/Q8_0/Q4_0/Q4_K/Q6_K) into the one it runs, so: f's own when f is
 * one of them (awq, gptq, w4a16 are the int4 row, w8a8 the int8 row), else the nearest of bf16,
 * int8 and int4 in bits per weight of the blocks, a tie to the wider, 16 bits in fp16 for a
 * format that computes in fp16 (Q8_0, Q6_K, fp8 -> int8; Q4_0, Q4_K_M, Q5_K_M, nf4, fp4, mxfp4
 * -> int4; GGUF F16 -> fp16; fp32 -> bf16). HWS_LLM_FORMAT_COUNT when o's
 * runtime is not hwscope or f is NULL (the model file's own bytes, a mixed checkpoint). */
hws_llm_format hws_engine_format(const hws_plan_opts *o, const hws_weight_format *f);

#endif
