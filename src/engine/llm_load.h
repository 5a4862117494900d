/* llm_load.h - LLM weights from files: a Hugging Face folder (config.json and *.safetensors,
 * bf16/fp16/fp32) read into a backend, q/k/v and gate/up joined as llm_backend.h stores them,
 * Mixtral's experts stacked. */
#ifndef HWSCOPE_ENGINE_LLM_LOAD_H
#define HWSCOPE_ENGINE_LLM_LOAD_H

#include "engine/llm_backend.h"

#include <stddef.h>
#include <stdint.h>

/* Reads every weight of shape s from path (a folder, or a config.json in one) into the backend
 * context: HWS_ERR_INPUT naming the file and tensor when one is missing or of another shape. */
hws_status hws_llm_load_weights(const char *path, const hws_llm_shape *s, const hws_llm_backend *be,
                                void *ctx, hws_error *err);

/* The names (and, for a joined weight, the rows) of the file tensors that make weight w of
 * layer l, of expert `expert` for the experts' stacks (-1 for any other weight); returns how
 * many (1-3). src: the open file, for a reader that picks between layouts. */
typedef int (*hws_llm_part_names)(void *src, const hws_llm_shape *s, int l, hws_llm_weight w,
                                  int expert, char names[3][96], int rows[3]);
/* Reads tensor name (part `part` of weight w), rows x cols (cols 0: a vector), into out; of
 * expert >= 0 when the file stacks the experts in one tensor (its slab `expert`). */
typedef hws_status (*hws_llm_read_part)(void *src, hws_llm_weight w, int part, int expert,
                                        const char *name, int rows, int cols, float *out,
                                        hws_error *err);
/* Every weight of s read part by part from src (the experts' stacks expert by expert), stacked,
 * and set into the backend. */
hws_status hws_llm_load_each(const hws_llm_shape *s, const hws_llm_backend *be, void *ctx,
                             hws_llm_part_names names_of, hws_llm_read_part read, void *src,
                             hws_error *err);

/* The same from a GGUF file (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K tensors), memory-mapped. */
hws_status hws_llm_load_gguf(const char *path, const hws_llm_shape *s, const hws_llm_backend *be,
                             void *ctx, hws_error *err);
/* n elements of ggml type at src as floats (whole blocks); HWS_ERR_UNSUPPORTED for other types. */
hws_status hws_llm_gguf_dequant(int type, const uint8_t *src, size_t n, float *out, hws_error *err);
/* Bytes of one block of a ggml type and its elements (0 when the engine does not read it). */
size_t hws_llm_gguf_block(int type, int *elems);

#endif
