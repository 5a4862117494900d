/* hf_doc.h - a Hugging Face config.json being read (hf_config.c), and the keyed readers its parts
 * share (hf_vision.c): each names the file and the key in its HWS_ERR_INPUT. Internal. */
#ifndef HWSCOPE_FORMAT_HF_DOC_H
#define HWSCOPE_FORMAT_HF_DOC_H

#include "hwscope/model.h"

#include <cjson/cJSON.h>

typedef struct {
    const cJSON *root;
    const cJSON *text; /* text_config / llm_config of a multimodal config, or NULL */
    const char *path;
    hws_error *err;
} hf_doc;

/* The value of key, from the nested text config first, then the top level; NULL when absent
 * or null. *where gets the prefix to name the key by in messages. */
const cJSON *hws_hf_get(const hf_doc *d, const char *key, const char **where);
/* HWS_ERR_INPUT: "PATH: key "WHERE.KEY": WHAT". */
hws_status hws_hf_bad(const hf_doc *d, const char *where, const char *key, const char *what);
/* Reads the first present key of keys (NULL-terminated) as a whole number in [min, 1e9];
 * *out is left alone when none is present. */
hws_status hws_hf_count(const hf_doc *d, const char *const *keys, double min, double *out);
/* A boolean key; *out is left alone when absent. */
hws_status hws_hf_bool(const hf_doc *d, const char *key, int *out);
/* A string key; *out is NULL when absent. */
hws_status hws_hf_str(const hf_doc *d, const char *key, const char **out);

/* The vision tower and projector of d's vision_config (none: nothing) into m->vision_params,
 * with m->warning naming what was estimated or left out (hf_vision.c). */
hws_status hws_hf_vision(const hf_doc *d, const char *root_type, hws_model_spec *m);

#endif
