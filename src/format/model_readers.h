/* model_readers.h - internals shared by the model-file readers (config.json, GGUF): a blank
 * spec, and the parse-from-memory entry points that the readers and the fuzzers both call. */
#ifndef HWSCOPE_FORMAT_MODEL_READERS_H
#define HWSCOPE_FORMAT_MODEL_READERS_H

#include "hwscope/gguf.h"
#include "hwscope/model.h"

#include <stdbool.h>
#include <stddef.h>

/* hws_error_set whose value is the status itself, so static analysis sees error paths end. */
#define HWS_FAIL(err, status, ...) (hws_error_set((err), (status), __VA_ARGS__), (status))

/* Every number HWS_NA, every string empty, flags 0. */
void hws_model_spec_blank(hws_model_spec *m);

/* The fields of a model shape that hws_model_shape_check can find at fault; each reader names
 * them by its own keys (config.json "num_key_value_heads", GGUF "llama.attention.head_count_kv",
 * the catalog's "n_kv_heads"). */
typedef enum {
    HWS_SHAPE_LAYERS,
    HWS_SHAPE_HIDDEN,
    HWS_SHAPE_HEADS,
    HWS_SHAPE_KV_HEADS,
    HWS_SHAPE_EXPERTS,
    HWS_SHAPE_EXPERTS_ACTIVE,
    HWS_SHAPE_DENSE_LAYERS,
    HWS_SHAPE_FIELDS
} hws_shape_field;

#define HWS_MAX_LAYERS 100000    /* far above any model (DeepSeek-V3: 61, Llama-3.1-405B: 126) */
#define HWS_MAX_WIDTH  100000000 /* hidden size, heads, experts: no model comes near 1e8 */

/* The one check of a model shape, whichever file it came from: layers, width and heads in range,
 * KV heads at most the heads and dividing them, active experts at most the experts, dense
 * blocks at most the layers. Unknown (HWS_NA) fields pass. Returns true, or false with the
 * field at fault in *field and what is wrong ("8 exceeds the 4 attention heads") in why. */
bool hws_model_shape_check(const hws_model_spec *m, hws_shape_field *field, char *why, size_t n);

/* Parses the text of a config.json (len bytes, need not be NUL-terminated). path names the file
 * in error messages, gives the model its name (the folder holding the file) and its source.
 * file_weight_bytes stays HWS_NA: the index beside the file is hws_model_from_hf_config's. */
hws_status hws_hf_config_parse(const char *text, size_t len, const char *path, hws_model_spec *out,
                               hws_error *err);

/* Reads metadata.total_size from the text of a model.safetensors.index.json into *bytes. */
hws_status hws_hf_index_parse(const char *text, size_t len, const char *path, double *bytes,
                              hws_error *err);

/* Fills a spec from a parsed GGUF header; path names the file in messages and in source. */
hws_status hws_model_from_gguf_header(const hws_gguf *g, const char *path, hws_model_spec *out,
                                      hws_error *err);

#endif
