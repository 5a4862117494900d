/* safetensors.c - the safetensors reader: header checks, lookup and conversion to float. */
#include "format/safetensors.h"
#include "util/checked.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HEADER_BYTES (100u << 20)
/* the weights are read whole into memory: a bound far above any model the engine runs */
#define SAFETENSORS_MAX_FILE_BYTES ((size_t)1 << 37)

static const struct {
    const char *name;
    hws_st_dtype dtype;
    int size;
} dtypes[] = {
    {"F32", HWS_ST_F32, 4},    {"F16", HWS_ST_F16, 2},       {"BF16", HWS_ST_BF16, 2},
    {"F64", HWS_ST_OTHER, 8},  {"I64", HWS_ST_OTHER, 8},     {"I32", HWS_ST_OTHER, 4},
    {"I16", HWS_ST_OTHER, 2},  {"I8", HWS_ST_OTHER, 1},      {"U8", HWS_ST_OTHER, 1},
    {"BOOL", HWS_ST_OTHER, 1}, {"F8_E4M3", HWS_ST_OTHER, 1}, {"F8_E5M2", HWS_ST_OTHER, 1},
};

static int dtype_size(const char *name, hws_st_dtype *dt) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(name, dtypes[i].name) == 0) {
            *dt = dtypes[i].dtype;
            return dtypes[i].size;
        }
    return 0;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int json_u64(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item))
        return 0;
    double v = item->valuedouble;
    if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static hws_status bad_tensor(hws_safetensors *st, const char *key, const char *what,
                             hws_error *err) {
    return hws_error_set(err, HWS_ERR_INPUT, "%s: tensor '%.128s': %s", st->label, key, what);
}

static hws_status parse_tensor(hws_safetensors *st, const cJSON *e, hws_st_tensor *t,
                               hws_error *err) {
    const char *key = e->string;
    if (strlen(key) >= HWS_ST_NAME_LEN)
        return bad_tensor(st, key, "name is too long", err);
    snprintf(t->name, sizeof t->name, "%s", key);
    if (!cJSON_IsObject(e))
        return bad_tensor(st, key, "entry is not an object", err);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    int esize = cJSON_IsString(dt) ? dtype_size(dt->valuestring, &t->dtype) : 0;
    if (esize == 0)
        return bad_tensor(st, key, "missing or unknown dtype", err);
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > HWS_ST_MAX_DIMS)
        return bad_tensor(st, key, "shape is not an array of at most 8 sizes", err);
    t->ndim = 0;
    t->numel = 1;
    const cJSON *d;
    cJSON_ArrayForEach(d, shape) {
        uint64_t n;
        if (!json_u64(d, &n) || n > (1ull << 40))
            return bad_tensor(st, key, "shape holds a bad size", err);
        if (hws_mul_u64_overflow(t->numel, n, &t->numel) || t->numel > (1ull << 50))
            return bad_tensor(st, key, "shape is too large", err);
        t->shape[t->ndim++] = (int64_t)n;
    }
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        !json_u64(cJSON_GetArrayItem(offs, 0), &t->begin) ||
        !json_u64(cJSON_GetArrayItem(offs, 1), &t->end))
        return bad_tensor(st, key, "data_offsets is not [begin, end]", err);
    if (t->begin > t->end || t->end > st->data_len)
        return bad_tensor(st, key, "data_offsets lie outside the file", err);
    if (t->end - t->begin != t->numel * (uint64_t)esize)
        return bad_tensor(st, key, "data_offsets do not match dtype and shape", err);
    return HWS_OK;
}

static hws_status parse_meta(hws_safetensors *st, const cJSON *m, hws_error *err) {
    if (!cJSON_IsObject(m))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: __metadata__ is not an object", st->label);
    if (st->meta_keys != NULL)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: __metadata__ appears twice", st->label);
    int n = cJSON_GetArraySize(m);
    st->meta_keys = calloc((size_t)n + 1, sizeof *st->meta_keys);
    st->meta_vals = calloc((size_t)n + 1, sizeof *st->meta_vals);
    if (!st->meta_keys || !st->meta_vals)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, m) {
        if (!cJSON_IsString(e))
            return hws_error_set(err, HWS_ERR_INPUT, "%s: __metadata__ '%.128s' is not a string",
                                 st->label, e->string);
        st->meta_keys[st->n_meta] = strdup(e->string);
        st->meta_vals[st->n_meta] = strdup(e->valuestring);
        if (!st->meta_keys[st->n_meta++] || !st->meta_vals[st->n_meta - 1])
            return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    }
    return HWS_OK;
}

static hws_status parse_header(hws_safetensors *st, const cJSON *root, hws_error *err) {
    if (!cJSON_IsObject(root))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: offset 8: header is not a JSON object",
                             st->label);
    int n = cJSON_GetArraySize(root);
    st->t = calloc((size_t)n + 1, sizeof *st->t);
    if (!st->t)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        hws_status s = strcmp(e->string, "__metadata__") == 0
                           ? parse_meta(st, e, err)
                           : parse_tensor(st, e, &st->t[st->n++], err);
        if (s != HWS_OK)
            return s;
    }
    return HWS_OK;
}

/* The header length of the format's first 8 bytes (little-endian). */
static uint64_t header_len(const unsigned char *le) {
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | le[i];
    return hlen;
}

hws_status hws_safetensors_data_bytes(const char *path, double *bytes, hws_error *err) {
    if (!hws_file_exists(path))
        return HWS_OK;
    int fd;
    uint64_t size;
    hws_status st = hws_file_open(path, false, &fd, &size, err);
    if (st != HWS_OK)
        return st;
    unsigned char le[8];
    if (size < 8) {
        close(fd);
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: offset 0: %llu bytes, too short for the 8-byte header length",
                             path, (unsigned long long)size);
    }
    st = hws_file_pread(fd, path, le, sizeof le, 0, err);
    close(fd);
    if (st != HWS_OK)
        return st;
    uint64_t header = header_len(le);
    if (header > size - 8)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: offset 0: header length %llu does not fit the %llu-byte file",
                             path, (unsigned long long)header, (unsigned long long)size);
    *bytes = (double)(size - 8 - header);
    return HWS_OK;
}

hws_status hws_safetensors_parse(const unsigned char *buf, size_t len, const char *label,
                                 hws_safetensors *st, hws_error *err) {
    memset(st, 0, sizeof *st);
    snprintf(st->label, sizeof st->label, "%s", label);
    if (len < 8)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: offset 0: file is %zu bytes, too short",
                             label, len);
    uint64_t hlen = header_len(buf);
    if (hlen > MAX_HEADER_BYTES || hlen > len - 8)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: offset 0: header length %llu overruns the file (%zu bytes)",
                             label, (unsigned long long)hlen, len);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)buf + 8, (size_t)hlen, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - (const char *)buf) : 8;
        return hws_error_set(err, HWS_ERR_INPUT, "%s: offset %zu: header is not valid JSON", label,
                             at);
    }
    st->data = buf + 8 + hlen;
    st->data_len = len - 8 - hlen;
    hws_status s = parse_header(st, root, err);
    cJSON_Delete(root);
    if (s != HWS_OK)
        hws_safetensors_close(st);
    return s;
}

hws_status hws_safetensors_open(const char *path, hws_safetensors *st, hws_error *err) {
    memset(st, 0, sizeof *st);
    char *buf;
    size_t size;
    hws_status s = hws_file_read(path, SAFETENSORS_MAX_FILE_BYTES, &buf, &size, err);
    if (s != HWS_OK)
        return s;
    s = hws_safetensors_parse((unsigned char *)buf, size, path, st, err);
    if (s != HWS_OK)
        free(buf);
    else
        st->owned = (unsigned char *)buf;
    return s;
}

void hws_safetensors_close(hws_safetensors *st) {
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_vals[i]);
    }
    free(st->meta_keys);
    free(st->meta_vals);
    free(st->t);
    free(st->owned);
    memset(st, 0, sizeof *st);
}

const hws_st_tensor *hws_safetensors_find(const hws_safetensors *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0)
            return &st->t[i];
    return NULL;
}

const char *hws_safetensors_meta(const hws_safetensors *st, const char *key) {
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0)
            return st->meta_vals[i];
    return NULL;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f)
        bits = sign | 0x7f800000 | man << 13;
    else if (exp)
        bits = sign | (exp + 112) << 23 | man << 13;
    else if (!man)
        bits = sign;
    else { /* subnormal: normalise */
        exp = 113;
        while (!(man & 0x400)) {
            man <<= 1;
            exp--;
        }
        bits = sign | exp << 23 | (man & 0x3ff) << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Slab `slab` of the first dimension of tensor name (slab -1: the whole tensor), whose shape
 * must be dims[0..ndim-1], converted to float into out. */
static hws_status read_part(const hws_safetensors *st, const char *name, int64_t slab, int ndim,
                            const int64_t *dims, float *out, hws_error *err) {
    const hws_st_tensor *t = hws_safetensors_find(st, name);
    if (!t)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: tensor '%s' is missing", st->label, name);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == dims[i];
    if (!same)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: tensor '%s' has shape of %d dims, not the "
                             "expected [%lld%s]",
                             st->label, name, t->ndim, (long long)dims[0], ndim > 1 ? ", ..." : "");
    if (slab >= 0 && (ndim < 1 || slab >= t->shape[0]))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: tensor '%s' has no slab %lld", st->label,
                             name, (long long)slab);
    uint64_t per = slab >= 0 ? t->numel / (uint64_t)t->shape[0] : t->numel;
    uint64_t first = slab >= 0 ? per * (uint64_t)slab : 0;
    const unsigned char *p = st->data + t->begin;
    for (uint64_t i = first, o = 0; o < per; i++, o++) {
        uint32_t bits;
        switch (t->dtype) {
        case HWS_ST_F32:
            memcpy(&out[o], p + 4 * i, 4);
            break;
        case HWS_ST_F16:
            out[o] = half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
            break;
        case HWS_ST_BF16:
            bits = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
            memcpy(&out[o], &bits, 4);
            break;
        default:
            return hws_error_set(err, HWS_ERR_INPUT, "%s: tensor '%s' is not F32, F16 or BF16",
                                 st->label, name);
        }
    }
    return HWS_OK;
}

hws_status hws_safetensors_read(const hws_safetensors *st, const char *name, int ndim,
                                const int64_t *dims, float *out, hws_error *err) {
    return read_part(st, name, -1, ndim, dims, out, err);
}

hws_status hws_safetensors_read_slab(const hws_safetensors *st, const char *name, int64_t slab,
                                     int ndim, const int64_t *dims, float *out, hws_error *err) {
    return read_part(st, name, slab, ndim, dims, out, err);
}
