/* gguf.h - reads the header of a GGUF file (the model format of llama.cpp/ggml): the metadata
 * key/values and the tensor table, with the exact bytes of every tensor for every ggml type.
 *
 * File layout (little-endian; GGUF versions 2 and 3):
 *
 *   offset  field
 *   0       magic "GGUF"
 *   4       u32 version
 *   8       u64 n_tensors
 *   16      u64 n_kv
 *   24      n_kv x { string key; u32 value_type; value }
 *           n_tensors x { string name; u32 n_dims (<= 4); u64 dims[n_dims]; u32 ggml_type;
 *                         u64 offset (from the start of the data section, aligned) }
 *           padding to general.alignment (default 32)
 *           data section: the tensors
 *
 *   string = u64 length + bytes (no NUL); array = u32 element type + u64 count + elements.
 *
 * Every count and length read from the file is bounded by the bytes that remain, so a bad file
 * is an error naming the file and the offset, never a large allocation or a read past the end.
 * The header is reached through a read-only mapping: a 40 GB file costs only the pages read.
 *
 * Example:
 *   hws_gguf *g;
 *   if (hws_gguf_open("model.gguf", &g, &err) != HWS_OK) { puts(err.msg); return; }
 *   for (size_t i = 0; i < hws_gguf_tensor_count(g); i++) {
 *       const hws_gguf_tensor *t = hws_gguf_tensor_at(g, i);
 *       printf("%s %s %llu bytes\n", t->name, hws_ggml_type_name(t->type), t->bytes);
 *   }
 *   hws_gguf_close(g); */
#ifndef HWSCOPE_GGUF_H
#define HWSCOPE_GGUF_H

#include "hwscope/hwscope.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Metadata value types, as numbered in the file. */
typedef enum {
    HWS_GGUF_UINT8 = 0,
    HWS_GGUF_INT8 = 1,
    HWS_GGUF_UINT16 = 2,
    HWS_GGUF_INT16 = 3,
    HWS_GGUF_UINT32 = 4,
    HWS_GGUF_INT32 = 5,
    HWS_GGUF_FLOAT32 = 6,
    HWS_GGUF_BOOL = 7,
    HWS_GGUF_STRING = 8,
    HWS_GGUF_ARRAY = 9,
    HWS_GGUF_UINT64 = 10,
    HWS_GGUF_INT64 = 11,
    HWS_GGUF_FLOAT64 = 12
} hws_gguf_value_type;

/* One metadata key/value. Pointers stay valid until hws_gguf_close. */
typedef struct {
    const char *key; /* NUL-terminated */
    hws_gguf_value_type type;
    uint64_t offset; /* file offset where the key/value starts */
    int64_t i;       /* integer and bool values (unsigned 64-bit above INT64_MAX: u) */
    uint64_t u;      /* integer and bool values as unsigned; 0 for negatives */
    double f;        /* every number, as a double */
    const char *str; /* HWS_GGUF_STRING: NUL-terminated copy */
    uint64_t str_len;
    hws_gguf_value_type array_type; /* HWS_GGUF_ARRAY: element type and count */
    uint64_t array_len;
    const uint8_t *array_data; /* the raw elements in the file */
} hws_gguf_kv;

#define HWS_GGUF_MAX_DIMS 4

/* One entry of the tensor table. */
typedef struct {
    const char *name; /* NUL-terminated */
    uint32_t n_dims;
    uint64_t dims[HWS_GGUF_MAX_DIMS]; /* dims[0] varies fastest (a row); unused dims are 1 */
    int type;                         /* ggml type (HWS_GGML_Q4_K ...) */
    uint64_t offset;                  /* from the start of the data section */
    uint64_t n_elements;
    uint64_t bytes; /* exact: n_elements / block elements x block bytes */
} hws_gguf_tensor;

typedef struct hws_gguf hws_gguf;

/* Opens path and reads its header. */
HWS_API hws_status hws_gguf_open(const char *path, hws_gguf **out, hws_error *err);
/* Parses a GGUF held in memory: data is the whole file (size bytes). name is used in messages.
 * The handle points into data, which must outlive it. */
HWS_API hws_status hws_gguf_parse(const uint8_t *data, size_t size, const char *name,
                                  hws_gguf **out, hws_error *err);
HWS_API void hws_gguf_close(hws_gguf *g);

HWS_API uint32_t hws_gguf_version(const hws_gguf *g);
HWS_API uint64_t hws_gguf_alignment(const hws_gguf *g);
/* File offset of the data section; file size of what was parsed. */
HWS_API uint64_t hws_gguf_data_offset(const hws_gguf *g);
HWS_API uint64_t hws_gguf_file_size(const hws_gguf *g);

HWS_API size_t hws_gguf_kv_count(const hws_gguf *g);
HWS_API const hws_gguf_kv *hws_gguf_kv_at(const hws_gguf *g, size_t i);
/* The key/value named key, or NULL. */
HWS_API const hws_gguf_kv *hws_gguf_find(const hws_gguf *g, const char *key);
/* The string value of key, or NULL when absent or not a string. */
HWS_API const char *hws_gguf_get_str(const hws_gguf *g, const char *key);
/* Element i of an array of strings (its bytes and length, not NUL-terminated); false when kv is
 * not such an array or i is out of range. Walks the array: O(i). */
HWS_API bool hws_gguf_array_str(const hws_gguf_kv *kv, uint64_t i, const char **s, uint64_t *len);

/* Element i of an array of integers or bools, as unsigned (negatives clamp to 0); false when kv
 * is not such an array or i is out of range. */
HWS_API bool hws_gguf_array_uint(const hws_gguf_kv *kv, uint64_t i, uint64_t *v);

HWS_API size_t hws_gguf_tensor_count(const hws_gguf *g);
HWS_API const hws_gguf_tensor *hws_gguf_tensor_at(const hws_gguf *g, size_t i);
HWS_API const hws_gguf_tensor *hws_gguf_tensor_find(const hws_gguf *g, const char *name);
/* The sum of every tensor's bytes: the exact weight bytes of the file. */
HWS_API uint64_t hws_gguf_tensor_bytes_total(const hws_gguf *g);

/* ggml tensor types, numbered as in ggml.h (gaps are types removed from ggml). */
enum {
    HWS_GGML_F32 = 0,
    HWS_GGML_F16 = 1,
    HWS_GGML_Q4_0 = 2,
    HWS_GGML_Q4_1 = 3,
    HWS_GGML_Q5_0 = 6,
    HWS_GGML_Q5_1 = 7,
    HWS_GGML_Q8_0 = 8,
    HWS_GGML_Q8_1 = 9,
    HWS_GGML_Q2_K = 10,
    HWS_GGML_Q3_K = 11,
    HWS_GGML_Q4_K = 12,
    HWS_GGML_Q5_K = 13,
    HWS_GGML_Q6_K = 14,
    HWS_GGML_Q8_K = 15,
    HWS_GGML_IQ2_XXS = 16,
    HWS_GGML_IQ2_XS = 17,
    HWS_GGML_IQ3_XXS = 18,
    HWS_GGML_IQ1_S = 19,
    HWS_GGML_IQ4_NL = 20,
    HWS_GGML_IQ3_S = 21,
    HWS_GGML_IQ2_S = 22,
    HWS_GGML_IQ4_XS = 23,
    HWS_GGML_I8 = 24,
    HWS_GGML_I16 = 25,
    HWS_GGML_I32 = 26,
    HWS_GGML_I64 = 27,
    HWS_GGML_F64 = 28,
    HWS_GGML_IQ1_M = 29,
    HWS_GGML_BF16 = 30,
    HWS_GGML_TQ1_0 = 34,
    HWS_GGML_TQ2_0 = 35,
    HWS_GGML_MXFP4 = 39,
    HWS_GGML_NVFP4 = 40,
    HWS_GGML_Q1_0 = 41,
    HWS_GGML_TYPE_COUNT = 42
};

/* "Q4_K" for HWS_GGML_Q4_K; NULL for a number that is no ggml type. */
HWS_API const char *hws_ggml_type_name(int type);
/* The type named name (case-insensitive), or -1. */
HWS_API int hws_ggml_type_from_name(const char *name);
/* Elements per block and bytes per block (Q4_K: 256, 144); false for an unknown type. */
HWS_API bool hws_ggml_type_block(int type, uint32_t *block_elems, uint32_t *block_bytes);
/* Bytes of a tensor of this type and shape; HWS_ERR_INPUT when dims[0] is not a whole number
 * of blocks, the type is unknown or the size overflows 64 bits. */
HWS_API hws_status hws_ggml_tensor_bytes(int type, const uint64_t *dims, uint32_t n_dims,
                                         uint64_t *bytes, hws_error *err);
/* Bits per weight of a ggml type: block bytes x 8 / block elements (Q4_K 4.5, Q6_K 6.5625);
 * NaN for an unknown type. */
HWS_API double hws_gguf_type_bits_per_weight(int ggml_type);

/* File types (general.file_type, llama.cpp's llama_ftype): "Q4_K_M" for 15; NULL if unknown. */
HWS_API const char *hws_gguf_file_type_name(int file_type);
/* The file type named name (case-insensitive: "q4_k_m"), or -1. */
HWS_API int hws_gguf_file_type_from_name(const char *name);
/* Average bits per weight of a whole file quantised to this file type: a mix of tensor types
 * (Q4_K_M keeps some tensors in Q6_K, norms in F32). From llama.cpp's quantize tool
 * (tools/quantize/quantize.cpp, QUANT_OPTIONS): its file sizes for Llama-3-8B (GiB, 8.03e9
 * weights) turned into bits, or the bpw it states for the IQ/TQ types. NaN when unknown. */
HWS_API double hws_gguf_file_type_bits_per_weight(int file_type);
/* Bits per weight of a file-type name ("Q4_K_M" 4.90) or, failing that, a ggml type name
 * ("Q4_K" 4.5, "BF16" 16); NaN when neither. */
HWS_API double hws_gguf_bits_per_weight_by_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif
