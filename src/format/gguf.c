/* gguf.c - the GGUF header reader (metadata and tensor table, every count bounded by the file)
 * and the tables of ggml tensor types and llama.cpp file types with their bits per weight. */
#include "hwscope/gguf.h"
#include "format/model_readers.h"
#include "util/checked.h"
#include "util/file.h"
#include "util/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- ggml types -------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    uint32_t block_elems; /* elements per block */
    uint32_t block_bytes; /* bytes per block */
} ggml_type_info;

/* Block sizes as in ggml (ggml/src/ggml.c type_traits, ggml-common.h block structs; the same
 * numbers as gguf-py's GGML_QUANT_SIZES). Types 31-33 and 36-38 were removed from ggml in 2024
 * (repacked at load time since); files written before still hold them, so they stay here. */
static const ggml_type_info ggml_types[HWS_GGML_TYPE_COUNT] = {
    [HWS_GGML_F32] = {"F32", 1, 4},
    [HWS_GGML_F16] = {"F16", 1, 2},
    [HWS_GGML_Q4_0] = {"Q4_0", 32, 18},        /* f16 d + 16 nibble bytes */
    [HWS_GGML_Q4_1] = {"Q4_1", 32, 20},        /* f16 d, m + 16 */
    [HWS_GGML_Q5_0] = {"Q5_0", 32, 22},        /* f16 d + 4 qh + 16 */
    [HWS_GGML_Q5_1] = {"Q5_1", 32, 24},        /* f16 d, m + 4 qh + 16 */
    [HWS_GGML_Q8_0] = {"Q8_0", 32, 34},        /* f16 d + 32 */
    [HWS_GGML_Q8_1] = {"Q8_1", 32, 36},        /* f16 d, s + 32 */
    [HWS_GGML_Q2_K] = {"Q2_K", 256, 84},       /* 16 scales + 64 qs + f16 d, dmin */
    [HWS_GGML_Q3_K] = {"Q3_K", 256, 110},      /* 32 hmask + 64 qs + 12 scales + f16 d */
    [HWS_GGML_Q4_K] = {"Q4_K", 256, 144},      /* f16 d, dmin + 12 scales + 128 qs */
    [HWS_GGML_Q5_K] = {"Q5_K", 256, 176},      /* f16 d, dmin + 12 scales + 32 qh + 128 qs */
    [HWS_GGML_Q6_K] = {"Q6_K", 256, 210},      /* 128 ql + 64 qh + 16 scales + f16 d */
    [HWS_GGML_Q8_K] = {"Q8_K", 256, 292},      /* f32 d + 256 qs + 16 i16 bsums */
    [HWS_GGML_IQ2_XXS] = {"IQ2_XXS", 256, 66}, /* f16 d + 64 */
    [HWS_GGML_IQ2_XS] = {"IQ2_XS", 256, 74},   /* f16 d + 64 qs + 8 scales */
    [HWS_GGML_IQ3_XXS] = {"IQ3_XXS", 256, 98}, /* f16 d + 64 + 32 */
    [HWS_GGML_IQ1_S] = {"IQ1_S", 256, 50},     /* f16 d + 32 qs + 16 qh */
    [HWS_GGML_IQ4_NL] = {"IQ4_NL", 32, 18},    /* f16 d + 16 */
    [HWS_GGML_IQ3_S] = {"IQ3_S", 256, 110},    /* f16 d + 64 qs + 8 qh + 32 signs + 4 scales */
    [HWS_GGML_IQ2_S] = {"IQ2_S", 256, 82},     /* f16 d + 64 qs + 8 qh + 8 scales */
    [HWS_GGML_IQ4_XS] = {"IQ4_XS", 256, 136},  /* f16 d + 2 scales_h + 4 scales_l + 128 qs */
    [HWS_GGML_I8] = {"I8", 1, 1},
    [HWS_GGML_I16] = {"I16", 1, 2},
    [HWS_GGML_I32] = {"I32", 1, 4},
    [HWS_GGML_I64] = {"I64", 1, 8},
    [HWS_GGML_F64] = {"F64", 1, 8},
    [HWS_GGML_IQ1_M] = {"IQ1_M", 256, 56}, /* 32 qs + 16 qh + 8 scales */
    [HWS_GGML_BF16] = {"BF16", 1, 2},
    [31] = {"Q4_0_4_4", 32, 18},
    [32] = {"Q4_0_4_8", 32, 18},
    [33] = {"Q4_0_8_8", 32, 18},
    [HWS_GGML_TQ1_0] = {"TQ1_0", 256, 54}, /* 48 qs + 4 qh + f16 d */
    [HWS_GGML_TQ2_0] = {"TQ2_0", 256, 66}, /* 64 qs + f16 d */
    [36] = {"IQ4_NL_4_4", 32, 18},
    [37] = {"IQ4_NL_4_8", 32, 18},
    [38] = {"IQ4_NL_8_8", 32, 18},
    [HWS_GGML_MXFP4] = {"MXFP4", 32, 17}, /* e8m0 scale + 16 */
    [HWS_GGML_NVFP4] = {"NVFP4", 64, 36}, /* 4 ue4m3 scales + 32 */
    [HWS_GGML_Q1_0] = {"Q1_0", 128, 18},  /* f16 d + 16 */
};

static const ggml_type_info *ggml_type(int type) {
    if (type < 0 || type >= HWS_GGML_TYPE_COUNT || ggml_types[type].name == NULL)
        return NULL;
    return &ggml_types[type];
}

const char *hws_ggml_type_name(int type) {
    const ggml_type_info *t = ggml_type(type);
    return t != NULL ? t->name : NULL;
}

int hws_ggml_type_from_name(const char *name) {
    for (int i = 0; name != NULL && i < HWS_GGML_TYPE_COUNT; i++)
        if (ggml_types[i].name != NULL && strcasecmp(ggml_types[i].name, name) == 0)
            return i;
    return -1;
}

bool hws_ggml_type_block(int type, uint32_t *block_elems, uint32_t *block_bytes) {
    const ggml_type_info *t = ggml_type(type);
    if (t == NULL)
        return false;
    *block_elems = t->block_elems;
    *block_bytes = t->block_bytes;
    return true;
}

double hws_gguf_type_bits_per_weight(int ggml_type_id) {
    const ggml_type_info *t = ggml_type(ggml_type_id);
    return t != NULL ? t->block_bytes * 8.0 / t->block_elems : HWS_NA;
}

/* Writes the element count and bytes of a tensor, or a message (without file or offset). */
static bool tensor_size(int type, const uint64_t *dims, uint32_t n_dims, uint64_t *elems,
                        uint64_t *bytes, char *why, size_t why_len) {
    const ggml_type_info *t = ggml_type(type);
    if (t == NULL) {
        snprintf(why, why_len, "unknown ggml type %d", type);
        return false;
    }
    uint64_t n = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (hws_mul_u64_overflow(n, dims[i], &n) || n > (uint64_t)INT64_MAX) {
            snprintf(why, why_len, "element count overflows 63 bits");
            return false;
        }
    }
    if (n_dims > 0 && dims[0] % t->block_elems != 0) {
        snprintf(why, why_len, "row of %llu elements is not a whole number of %s blocks of %u",
                 (unsigned long long)dims[0], t->name, t->block_elems);
        return false;
    }
    /* 2^62 F64 elements are 2^65 bytes: the product is checked, not trusted to fit */
    if (hws_mul_u64_overflow(n / t->block_elems, t->block_bytes, bytes) ||
        *bytes > (uint64_t)INT64_MAX) {
        snprintf(why, why_len, "%llu elements of %s: byte count overflows 63 bits",
                 (unsigned long long)n, t->name);
        return false;
    }
    *elems = n;
    return true;
}

hws_status hws_ggml_tensor_bytes(int type, const uint64_t *dims, uint32_t n_dims, uint64_t *bytes,
                                 hws_error *err) {
    char why[160];
    uint64_t elems;
    if (n_dims > HWS_GGUF_MAX_DIMS)
        return HWS_FAIL(err, HWS_ERR_INPUT, "%u dimensions: at most %d", n_dims, HWS_GGUF_MAX_DIMS);
    if (!tensor_size(type, dims, n_dims, &elems, bytes, why, sizeof why))
        return HWS_FAIL(err, HWS_ERR_INPUT, "%s", why);
    return HWS_OK;
}

/* ---- llama.cpp file types ---------------------------------------------------------------- */

typedef struct {
    int id;           /* llama_ftype */
    const char *name; /* as llama.cpp's quantize tool names it */
    double bpw;       /* average bits per weight of a whole file; NA when unknown */
} file_type_info;

/* Source: llama.cpp tools/quantize/quantize.cpp, QUANT_OPTIONS (2025-2026). For the k-quants
 * and legacy quants the tool gives a file size for Llama-3-8B in GiB ("4.58G" for Q4_K_M);
 * bpw = size x 2^30 x 8 / 8,030,261,248 weights. For IQ/TQ types the tool states the bpw.
 * F16/BF16/F32 are exact. MXFP4_MOE, NVFP4, Q1_0: no figure; the bpw of their tensor type. */
static const file_type_info file_types[] = {
    {0, "F32", 32.0},
    {1, "F16", 16.0},
    {2, "Q4_0", 4.64},
    {3, "Q4_1", 5.11},
    {4, "Q4_1_SOME_F16", HWS_NA},
    {7, "Q8_0", 8.51},
    {8, "Q5_0", 5.57},
    {9, "Q5_1", 6.04},
    {10, "Q2_K", 3.17},
    {11, "Q3_K_S", 3.65},
    {12, "Q3_K_M", 4.00},
    {13, "Q3_K_L", 4.31},
    {14, "Q4_K_S", 4.67},
    {15, "Q4_K_M", 4.90},
    {16, "Q5_K_S", 5.57},
    {17, "Q5_K_M", 5.70},
    {18, "Q6_K", 6.57},
    {19, "IQ2_XXS", 2.06},
    {20, "IQ2_XS", 2.31},
    {21, "Q2_K_S", 3.17},
    {22, "IQ3_XS", 3.30},
    {23, "IQ3_XXS", 3.06},
    {24, "IQ1_S", 1.56},
    {25, "IQ4_NL", 4.50},
    {26, "IQ3_S", 3.44},
    {27, "IQ3_M", 3.66},
    {28, "IQ2_S", 2.50},
    {29, "IQ2_M", 2.70},
    {30, "IQ4_XS", 4.25},
    {31, "IQ1_M", 1.75},
    {32, "BF16", 16.0},
    {33, "Q4_0_4_4", 4.64},
    {34, "Q4_0_4_8", 4.64},
    {35, "Q4_0_8_8", 4.64},
    {36, "TQ1_0", 1.69},
    {37, "TQ2_0", 2.06},
    {38, "MXFP4_MOE", 4.25},
    {39, "NVFP4", 4.50},
    {40, "Q1_0", 1.125},
};

#define FILE_TYPE_GUESSED 1024 /* llama_ftype flag: not read from the file */

static const file_type_info *file_type(int id) {
    id &= ~FILE_TYPE_GUESSED;
    for (size_t i = 0; i < sizeof file_types / sizeof file_types[0]; i++)
        if (file_types[i].id == id)
            return &file_types[i];
    return NULL;
}

const char *hws_gguf_file_type_name(int id) {
    const file_type_info *f = file_type(id);
    return f != NULL ? f->name : NULL;
}

int hws_gguf_file_type_from_name(const char *name) {
    for (size_t i = 0; name != NULL && i < sizeof file_types / sizeof file_types[0]; i++)
        if (strcasecmp(file_types[i].name, name) == 0)
            return file_types[i].id;
    return -1;
}

double hws_gguf_file_type_bits_per_weight(int id) {
    const file_type_info *f = file_type(id);
    return f != NULL ? f->bpw : HWS_NA;
}

double hws_gguf_bits_per_weight_by_name(const char *name) {
    int id = hws_gguf_file_type_from_name(name);
    if (id >= 0)
        return hws_gguf_file_type_bits_per_weight(id);
    return hws_gguf_type_bits_per_weight(hws_ggml_type_from_name(name));
}

/* ---- the reader -------------------------------------------------------------------------- */

struct hws_gguf {
    const uint8_t *data; /* the whole file */
    uint64_t size;
    void *map; /* non-NULL when hws_gguf_open mapped the file */
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    hws_gguf_kv *kv;
    size_t n_kv;
    hws_gguf_tensor *tensors;
    size_t n_tensors;
    uint64_t tensor_bytes;
};

/* A cursor over the file; every read checks what remains. */
typedef struct {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;
    const char *name;
    hws_error *err;
} reader;

/* Writes "<file>: offset <off>: <what>" and is HWS_ERR_INPUT. */
#define fail_at(r, off, fmt, ...)                                                                  \
    HWS_FAIL((r)->err, HWS_ERR_INPUT, "%s: offset %llu: " fmt, (r)->name,                          \
             (unsigned long long)(off), ##__VA_ARGS__)

static uint64_t remaining(const reader *r) {
    return r->size - r->pos;
}

static hws_status read_bytes(reader *r, uint64_t n, const uint8_t **out, const char *what) {
    if (n > remaining(r))
        return fail_at(r, r->pos, "%s needs %llu bytes, the file has %llu left", what,
                       (unsigned long long)n, (unsigned long long)remaining(r));
    *out = r->data + r->pos;
    r->pos += n;
    return HWS_OK;
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static hws_status read_u32(reader *r, uint32_t *v, const char *what) {
    const uint8_t *p = NULL;
    hws_status st = read_bytes(r, 4, &p, what);
    if (st == HWS_OK)
        *v = (uint32_t)le(p, 4);
    return st;
}

static hws_status read_u64(reader *r, uint64_t *v, const char *what) {
    const uint8_t *p = NULL;
    hws_status st = read_bytes(r, 8, &p, what);
    if (st == HWS_OK)
        *v = le(p, 8);
    return st;
}

/* A string: u64 length, then that many bytes, bounded by the file. */
static hws_status read_str(reader *r, const uint8_t **s, uint64_t *len, const char *what) {
    uint64_t at = r->pos;
    hws_status st = read_u64(r, len, what);
    if (st != HWS_OK)
        return st;
    if (*len > remaining(r))
        return fail_at(r, at, "%s of %llu bytes runs past the end of the file", what,
                       (unsigned long long)*len);
    return read_bytes(r, *len, s, what);
}

static char *copy_str(const uint8_t *s, uint64_t len) {
    char *c = malloc(len + 1);
    if (c != NULL) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* Bytes of one scalar of a value type; 0 for strings and arrays. */
static int scalar_size(uint32_t type) {
    static const int sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return type < sizeof sizes / sizeof sizes[0] ? sizes[type] : -1;
}

/* The two's-complement value of the low bytes x 8 bits of raw. */
static int64_t sign_extend(uint64_t raw, int bytes) {
    if (bytes == 8) {
        int64_t v;
        memcpy(&v, &raw, sizeof v);
        return v;
    }
    uint64_t m = 1ull << (bytes * 8 - 1);
    return (int64_t)(raw ^ m) - (int64_t)m;
}

static void set_number(hws_gguf_kv *kv, const uint8_t *p) {
    uint64_t raw = le(p, scalar_size(kv->type));
    if (kv->type == HWS_GGUF_BOOL)
        raw = raw != 0;
    switch (kv->type) {
    case HWS_GGUF_INT8:
    case HWS_GGUF_INT16:
    case HWS_GGUF_INT32:
    case HWS_GGUF_INT64:
        kv->i = sign_extend(raw, scalar_size(kv->type));
        break;
    case HWS_GGUF_FLOAT32: {
        float f;
        uint32_t bits = (uint32_t)raw;
        memcpy(&f, &bits, sizeof f);
        kv->f = f;
        return;
    }
    case HWS_GGUF_FLOAT64:
        memcpy(&kv->f, &raw, sizeof kv->f);
        return;
    default: /* unsigned and bool */
        kv->u = raw;
        kv->i = raw > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)raw;
        kv->f = (double)raw;
        return;
    }
    kv->u = kv->i < 0 ? 0 : (uint64_t)kv->i;
    kv->f = (double)kv->i;
}

/* An array value: element type, count, elements (strings walked one by one). */
static hws_status read_array(reader *r, hws_gguf_kv *kv) {
    uint32_t type;
    uint64_t at = r->pos;
    hws_status st;
    if ((st = read_u32(r, &type, "array type")) || (st = read_u64(r, &kv->array_len, "array")))
        return st;
    int size = scalar_size(type);
    if (size < 0 || type == HWS_GGUF_ARRAY)
        return fail_at(r, at, "key %s: array of %s type %u", kv->key,
                       type == HWS_GGUF_ARRAY ? "nested array" : "unknown", type);
    kv->array_type = (hws_gguf_value_type)type;
    kv->array_data = r->data + r->pos;
    if (type != HWS_GGUF_STRING) {
        if (kv->array_len > remaining(r) / (uint64_t)size)
            return fail_at(r, at, "key %s: array of %llu elements runs past the end of the file",
                           kv->key, (unsigned long long)kv->array_len);
        r->pos += kv->array_len * (uint64_t)size;
        return HWS_OK;
    }
    if (kv->array_len > remaining(r) / 8) /* each string takes at least its length */
        return fail_at(r, at, "key %s: array of %llu strings runs past the end of the file",
                       kv->key, (unsigned long long)kv->array_len);
    for (uint64_t i = 0; i < kv->array_len; i++) {
        const uint8_t *s;
        uint64_t len;
        if ((st = read_str(r, &s, &len, "array string")) != HWS_OK)
            return st;
    }
    return HWS_OK;
}

static hws_status read_kv(reader *r, hws_gguf_kv *kv) {
    const uint8_t *s;
    uint64_t len;
    uint32_t type;
    hws_status st;
    kv->offset = r->pos;
    if ((st = read_str(r, &s, &len, "key")) != HWS_OK)
        return st;
    if ((kv->key = copy_str(s, len)) == NULL)
        return HWS_FAIL(r->err, HWS_ERR_NOMEM, "%s: out of memory", r->name);
    uint64_t at = r->pos;
    if ((st = read_u32(r, &type, "value type")) != HWS_OK)
        return st;
    kv->type = (hws_gguf_value_type)type;
    if (type == HWS_GGUF_ARRAY)
        return read_array(r, kv);
    if (type == HWS_GGUF_STRING) {
        if ((st = read_str(r, &s, &kv->str_len, "string value")) != HWS_OK)
            return st;
        if ((kv->str = copy_str(s, kv->str_len)) == NULL)
            return HWS_FAIL(r->err, HWS_ERR_NOMEM, "%s: out of memory", r->name);
        return HWS_OK;
    }
    int size = scalar_size(type);
    if (size <= 0)
        return fail_at(r, at, "key %s: unknown value type %u", kv->key, type);
    const uint8_t *p = NULL;
    if ((st = read_bytes(r, (uint64_t)size, &p, "value")) != HWS_OK)
        return st;
    set_number(kv, p);
    return HWS_OK;
}

/* Grows an array of n items of size item to hold one more; doubles, so the memory follows what
 * was actually read, never a count claimed by the file. */
static bool grow(void **items, size_t n, size_t *cap, size_t item) {
    if (n < *cap)
        return true;
    size_t want = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, want * item);
    if (p == NULL)
        return false;
    memset((char *)p + *cap * item, 0, (want - *cap) * item);
    *items = p;
    *cap = want;
    return true;
}

static hws_status read_tensor(reader *r, const hws_gguf *g, hws_gguf_tensor *t) {
    const uint8_t *s;
    uint64_t len, at = r->pos;
    uint32_t type;
    hws_status st;
    if ((st = read_str(r, &s, &len, "tensor name")) != HWS_OK)
        return st;
    if ((t->name = copy_str(s, len)) == NULL)
        return HWS_FAIL(r->err, HWS_ERR_NOMEM, "%s: out of memory", r->name);
    if ((st = read_u32(r, &t->n_dims, "tensor dimensions")) != HWS_OK)
        return st;
    if (t->n_dims > HWS_GGUF_MAX_DIMS)
        return fail_at(r, at, "tensor %s: %u dimensions, at most %d", t->name, t->n_dims,
                       HWS_GGUF_MAX_DIMS);
    for (int i = 0; i < HWS_GGUF_MAX_DIMS; i++)
        t->dims[i] = 1;
    for (uint32_t i = 0; i < t->n_dims; i++)
        if ((st = read_u64(r, &t->dims[i], "tensor dimension")) != HWS_OK)
            return st;
    if ((st = read_u32(r, &type, "tensor type")) || (st = read_u64(r, &t->offset, "tensor offset")))
        return st;
    t->type = type > INT32_MAX ? -1 : (int)type;
    char why[160];
    if (!tensor_size(t->type, t->dims, t->n_dims, &t->n_elements, &t->bytes, why, sizeof why))
        return fail_at(r, at, "tensor %s: %s", t->name, why);
    if (t->offset % g->alignment != 0)
        return fail_at(r, at, "tensor %s: data offset %llu is not a multiple of the alignment %llu",
                       t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment);
    return HWS_OK;
}

/* general.alignment: an unsigned integer, a power of two. */
static hws_status read_alignment(const reader *r, hws_gguf *g) {
    g->alignment = 32;
    const hws_gguf_kv *kv = hws_gguf_find(g, "general.alignment");
    if (kv == NULL)
        return HWS_OK;
    bool unsigned_int = kv->type == HWS_GGUF_UINT8 || kv->type == HWS_GGUF_UINT16 ||
                        kv->type == HWS_GGUF_UINT32 || kv->type == HWS_GGUF_UINT64;
    if (!unsigned_int || kv->u == 0 || (kv->u & (kv->u - 1)) != 0 || kv->u > (1u << 30))
        return fail_at(r, kv->offset, "key general.alignment: expected a power of two");
    g->alignment = kv->u;
    return HWS_OK;
}

static hws_status read_header(reader *r, hws_gguf *g, uint64_t *n_kv, uint64_t *n_tensors) {
    const uint8_t *magic = NULL;
    hws_status st;
    if ((st = read_bytes(r, 4, &magic, "magic")) != HWS_OK)
        return st;
    if (memcmp(magic, "GGUF", 4) != 0)
        return fail_at(r, 0, "not a GGUF file (magic \"%c%c%c%c\")",
                       magic[0] >= 32 && magic[0] < 127 ? magic[0] : '?',
                       magic[1] >= 32 && magic[1] < 127 ? magic[1] : '?',
                       magic[2] >= 32 && magic[2] < 127 ? magic[2] : '?',
                       magic[3] >= 32 && magic[3] < 127 ? magic[3] : '?');
    if ((st = read_u32(r, &g->version, "version")) != HWS_OK)
        return st;
    if (g->version == 0x02000000 || g->version == 0x03000000)
        return fail_at(r, 4, "big-endian GGUF is not supported");
    if (g->version != 2 && g->version != 3)
        return fail_at(r, 4, "GGUF version %u is not supported (only 2 and 3)", g->version);
    if ((st = read_u64(r, n_tensors, "tensor count")) || (st = read_u64(r, n_kv, "key count")))
        return st;
    /* a key/value takes at least 13 bytes, a tensor entry at least 24 */
    if (*n_kv > remaining(r) / 13)
        return fail_at(r, 16, "%llu key/values cannot fit in the %llu bytes left",
                       (unsigned long long)*n_kv, (unsigned long long)remaining(r));
    if (*n_tensors > remaining(r) / 24)
        return fail_at(r, 8, "%llu tensors cannot fit in the %llu bytes left",
                       (unsigned long long)*n_tensors, (unsigned long long)remaining(r));
    return HWS_OK;
}

/* Each tensor's data must lie inside the file. */
static hws_status check_data(const reader *r, hws_gguf *g) {
    for (size_t i = 0; i < g->n_tensors; i++) {
        const hws_gguf_tensor *t = &g->tensors[i];
        uint64_t room = g->size - g->data_offset;
        if (g->data_offset > g->size || t->offset > room || t->bytes > room - t->offset)
            return fail_at(r, g->data_offset + t->offset,
                           "tensor %s: its %llu bytes of data run past the end of the file "
                           "(%llu bytes)",
                           t->name, (unsigned long long)t->bytes, (unsigned long long)g->size);
        g->tensor_bytes += t->bytes;
    }
    return HWS_OK;
}

static hws_status parse(reader *r, hws_gguf *g) {
    uint64_t n_kv, n_tensors;
    size_t cap = 0;
    hws_status st = read_header(r, g, &n_kv, &n_tensors);
    for (uint64_t i = 0; st == HWS_OK && i < n_kv; i++) {
        if (!grow((void **)&g->kv, g->n_kv, &cap, sizeof *g->kv))
            return HWS_FAIL(r->err, HWS_ERR_NOMEM, "%s: out of memory", r->name);
        st = read_kv(r, &g->kv[g->n_kv++]);
    }
    if (st != HWS_OK || (st = read_alignment(r, g)) != HWS_OK)
        return st;
    cap = 0;
    for (uint64_t i = 0; st == HWS_OK && i < n_tensors; i++) {
        if (!grow((void **)&g->tensors, g->n_tensors, &cap, sizeof *g->tensors))
            return HWS_FAIL(r->err, HWS_ERR_NOMEM, "%s: out of memory", r->name);
        st = read_tensor(r, g, &g->tensors[g->n_tensors++]);
    }
    if (st != HWS_OK)
        return st;
    uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
    g->data_offset = r->pos + pad;
    return check_data(r, g);
}

hws_status hws_gguf_parse(const uint8_t *data, size_t size, const char *name, hws_gguf **out,
                          hws_error *err) {
    *out = NULL;
    hws_gguf *g = calloc(1, sizeof *g);
    if (g == NULL)
        return HWS_FAIL(err, HWS_ERR_NOMEM, "%s: out of memory", name);
    g->data = data;
    g->size = size;
    reader r = {data, size, 0, name, err};
    hws_status st = parse(&r, g);
    if (st != HWS_OK) {
        hws_gguf_close(g);
        return st;
    }
    *out = g;
    return HWS_OK;
}

hws_status hws_gguf_open(const char *path, hws_gguf **out, hws_error *err) {
    *out = NULL;
    int fd;
    uint64_t size;
    hws_status st = hws_file_open(path, false, &fd, &size, err);
    if (st != HWS_OK)
        return st;
    if (size == 0 || size > SIZE_MAX) {
        close(fd);
        return HWS_FAIL(err, HWS_ERR_INPUT, "%s: offset 0: not a GGUF file (empty)", path);
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return HWS_FAIL(err, HWS_ERR_RUNTIME, "%s: mmap: %s", path, strerror(errno));
    st = hws_gguf_parse(map, (size_t)size, path, out, err);
    if (st != HWS_OK) {
        munmap(map, (size_t)size);
        return st;
    }
    (*out)->map = map;
    return HWS_OK;
}

void hws_gguf_close(hws_gguf *g) {
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_kv; i++) {
        free((void *)g->kv[i].key);
        free((void *)g->kv[i].str);
    }
    for (size_t i = 0; i < g->n_tensors; i++)
        free((void *)g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->map != NULL)
        munmap(g->map, (size_t)g->size);
    free(g);
}

uint32_t hws_gguf_version(const hws_gguf *g) {
    return g->version;
}

uint64_t hws_gguf_alignment(const hws_gguf *g) {
    return g->alignment;
}

uint64_t hws_gguf_data_offset(const hws_gguf *g) {
    return g->data_offset;
}

uint64_t hws_gguf_file_size(const hws_gguf *g) {
    return g->size;
}

size_t hws_gguf_kv_count(const hws_gguf *g) {
    return g->n_kv;
}

const hws_gguf_kv *hws_gguf_kv_at(const hws_gguf *g, size_t i) {
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const hws_gguf_kv *hws_gguf_find(const hws_gguf *g, const char *key) {
    for (size_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key != NULL && strcmp(g->kv[i].key, key) == 0)
            return &g->kv[i];
    return NULL;
}

const char *hws_gguf_get_str(const hws_gguf *g, const char *key) {
    const hws_gguf_kv *kv = hws_gguf_find(g, key);
    return kv != NULL && kv->type == HWS_GGUF_STRING ? kv->str : NULL;
}

bool hws_gguf_array_str(const hws_gguf_kv *kv, uint64_t i, const char **s, uint64_t *len) {
    if (kv == NULL || kv->type != HWS_GGUF_ARRAY || kv->array_type != HWS_GGUF_STRING ||
        i >= kv->array_len)
        return false;
    const uint8_t *p = kv->array_data; /* bounds were checked when the file was read */
    for (uint64_t k = 0;; k++) {
        uint64_t n = le(p, 8);
        if (k == i) {
            *s = (const char *)p + 8;
            *len = n;
            return true;
        }
        p += 8 + n;
    }
}

bool hws_gguf_array_uint(const hws_gguf_kv *kv, uint64_t i, uint64_t *v) {
    if (kv == NULL || kv->type != HWS_GGUF_ARRAY || i >= kv->array_len ||
        kv->array_type == HWS_GGUF_FLOAT32 || kv->array_type == HWS_GGUF_FLOAT64 ||
        scalar_size(kv->array_type) <= 0)
        return false;
    hws_gguf_kv element = {.type = kv->array_type};
    set_number(&element, kv->array_data + i * (uint64_t)scalar_size(kv->array_type));
    *v = element.u;
    return true;
}

size_t hws_gguf_tensor_count(const hws_gguf *g) {
    return g->n_tensors;
}

const hws_gguf_tensor *hws_gguf_tensor_at(const hws_gguf *g, size_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const hws_gguf_tensor *hws_gguf_tensor_find(const hws_gguf *g, const char *name) {
    for (size_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return &g->tensors[i];
    return NULL;
}

uint64_t hws_gguf_tensor_bytes_total(const hws_gguf *g) {
    return g->tensor_bytes;
}
