/* safetensors.h - a reader for the safetensors format (Hugging Face), checked byte by byte so a
 * bad file is an error naming the file and the offset or key at fault, never a crash.
 *
 * Format: an 8-byte little-endian header length L, L bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...,
 *    "__metadata__": {"key": "value"}}
 * then the data; offsets are relative to the first byte after the header. */
#ifndef HWSCOPE_FORMAT_SAFETENSORS_H
#define HWSCOPE_FORMAT_SAFETENSORS_H

#include "hwscope/hwscope.h"

#include <stddef.h>
#include <stdint.h>

#define HWS_ST_MAX_DIMS 8
#define HWS_ST_NAME_LEN 128

typedef enum { HWS_ST_F32, HWS_ST_F16, HWS_ST_BF16, HWS_ST_OTHER } hws_st_dtype;

typedef struct {
    char name[HWS_ST_NAME_LEN];
    hws_st_dtype dtype;
    int ndim;
    int64_t shape[HWS_ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end; /* byte offsets into data */
} hws_st_tensor;

typedef struct {
    char label[256];           /* the file name, for messages */
    const unsigned char *data; /* tensor bytes (inside buf) */
    uint64_t data_len;
    hws_st_tensor *t;
    int n;
    char **meta_keys, **meta_vals; /* __metadata__, n_meta entries */
    int n_meta;
    unsigned char *owned; /* the file's bytes when opened from a path */
} hws_safetensors;

/* Parses buf (len bytes; must outlive st) named label in messages. */
hws_status hws_safetensors_parse(const unsigned char *buf, size_t len, const char *label,
                                 hws_safetensors *st, hws_error *err);
/* Reads and parses a file. */
hws_status hws_safetensors_open(const char *path, hws_safetensors *st, hws_error *err);
void hws_safetensors_close(hws_safetensors *st);
/* The bytes of tensor data in the file at path without reading it: its size less the 8-byte
 * length and the header that length gives. *bytes is untouched when there is no such file;
 * HWS_ERR_INPUT naming the file when the length does not fit it. */
hws_status hws_safetensors_data_bytes(const char *path, double *bytes, hws_error *err);

/* The tensor named name, or NULL. */
const hws_st_tensor *hws_safetensors_find(const hws_safetensors *st, const char *name);
/* The metadata value for key, or NULL. */
const char *hws_safetensors_meta(const hws_safetensors *st, const char *key);
/* Copies tensor name, converted to float, into out; its shape must be dims[0..ndim-1]
 * (HWS_ERR_INPUT naming file and key otherwise). */
hws_status hws_safetensors_read(const hws_safetensors *st, const char *name, int ndim,
                                const int64_t *dims, float *out, hws_error *err);
/* The same for slab `slab` of the first dimension only (dims: the whole tensor's shape), e.g.
 * one expert of a [experts, rows, cols] tensor: numel / dims[0] floats. */
hws_status hws_safetensors_read_slab(const hws_safetensors *st, const char *name, int64_t slab,
                                     int ndim, const int64_t *dims, float *out, hws_error *err);

#endif
