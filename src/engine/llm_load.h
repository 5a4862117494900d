/* llm_load.h - LLM weights from files: a Hugging Face folder (config.json and *.safetensors,
 * bf16/fp16/fp32) read into a backend, q/k/v and gate/up joined as llm_backend.h stores them. */
#ifndef HWSCOPE_ENGINE_LLM_LOAD_H
#define HWSCOPE_ENGINE_LLM_LOAD_H

#include "engine/llm_backend.h"

/* Reads every weight of shape s from path (a folder, or a config.json in one) into the backend
 * context: HWS_ERR_INPUT naming the file and tensor when one is missing or of another shape. */
hws_status hws_llm_load_weights(const char *path, const hws_llm_shape *s, const hws_llm_backend *be,
                                void *ctx, hws_error *err);

#endif
