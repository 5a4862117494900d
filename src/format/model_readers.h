/* model_readers.h - internals shared by the model-file readers (config.json, GGUF): a blank
 * spec, and the parse-from-memory entry points that the readers and the fuzzers both call. */
#ifndef HWSCOPE_FORMAT_MODEL_READERS_H
#define HWSCOPE_FORMAT_MODEL_READERS_H

#include "hwscope/gguf.h"
#include "hwscope/model.h"

/* hws_error_set whose value is the status itself, so static analysis sees error paths end. */
#define HWS_FAIL(err, status, ...) (hws_error_set((err), (status), __VA_ARGS__), (status))

/* Every number HWS_NA, every string empty, flags 0. */
void hws_model_spec_blank(hws_model_spec *m);

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
