/* gpu_cache.c - per GPU UUID and driver version, what the CUDA driver API told about a GPU, so
 * later calls need not initialise it. */
#include "probe/gpu_cache.h"
#include "util/file.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "hwscope.gpu-cache/1"

#define NOT_IN_GPU ((size_t)-1)

/* The numbers of an entry, in file order, with where each sits in hws_gpu_info: the one list
 * the reader, the writer and hws_gpu_cache_apply share. */
static const struct {
    const char *key;
    size_t offset;     /* of the double in hws_gpu_cache_entry */
    size_t gpu_offset; /* of the double in hws_gpu_info, NOT_IN_GPU for list-wide facts */
    bool always;       /* replaces what NVML gave (only CUDA knows it) */
} entry_keys[] = {
#define KEY(member, always)                                                                        \
    { #member, offsetof(hws_gpu_cache_entry, member), offsetof(hws_gpu_info, member), always }
    KEY(sm_count, true),
    KEY(l2_bytes, true),
    KEY(cc_major, false),
    KEY(cc_minor, false),
    KEY(mem_bus_width_bits, false),
    KEY(max_mem_clock_mhz, false),
    KEY(max_sm_clock_mhz, false),
    KEY(mem_total_bytes, false),
#undef KEY
    {"cuda_driver_version", offsetof(hws_gpu_cache_entry, cuda_driver_version), NOT_IN_GPU, false},
};
#define NKEYS (sizeof entry_keys / sizeof entry_keys[0])

static double *entry_field(hws_gpu_cache_entry *e, size_t i) {
    return (double *)((char *)e + entry_keys[i].offset);
}

static double *gpu_field(hws_gpu_info *g, size_t i) {
    return (double *)((char *)g + entry_keys[i].gpu_offset);
}

bool hws_gpu_cache_dir(char *buf, size_t n) {
    const char *env = getenv("HWSCOPE_GPU_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int len;
    if (env != NULL && strcmp(env, "off") == 0)
        return false;
    if (env != NULL && env[0] != '\0')
        len = snprintf(buf, n, "%s", env);
    else if (xdg != NULL && xdg[0] != '\0')
        len = snprintf(buf, n, "%s/hwscope", xdg);
    else if (home != NULL && home[0] != '\0')
        len = snprintf(buf, n, "%s/.cache/hwscope", home);
    else
        return false;
    return len >= 0 && (size_t)len < n;
}

/* Whether s may stand in a file name as it is: letters, digits, '-', '.', '_' only. */
static bool name_safe(const char *s) {
    if (s[0] == '\0' || s[0] == '.')
        return false;
    for (; *s != '\0'; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
              *s == '-' || *s == '.' || *s == '_'))
            return false;
    return true;
}

/* The file of g under driver in dir into buf; false when uuid or driver cannot name a file. */
static bool entry_path(char *buf, size_t n, const char *dir, const char *uuid, const char *driver) {
    if (!name_safe(uuid) || !name_safe(driver))
        return false;
    int len = snprintf(buf, n, "%s/gpu-%s-%s.txt", dir, uuid, driver);
    return len >= 0 && (size_t)len < n;
}

/* Line `line` (lineno) of a cache file: "key value". */
static hws_status parse_line(const char *line, size_t n, int lineno, const char *path,
                             const char *uuid, const char *driver, hws_gpu_cache_entry *out,
                             hws_error *err) {
    char text[256];
    if (n >= sizeof text)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: line longer than %zu bytes", path, lineno,
                             sizeof text - 1);
    memcpy(text, line, n);
    text[n] = '\0';
    char *space = strchr(text, ' ');
    if (space == NULL)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: not \"key value\"", path, lineno);
    *space = '\0';
    const char *value = space + 1;
    if (strcmp(text, "uuid") == 0 || strcmp(text, "driver") == 0) {
        const char *want = text[0] == 'u' ? uuid : driver;
        if (strcmp(value, want) != 0)
            return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: %s is not %s", path, lineno, text,
                                 want);
        return HWS_OK;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(text, entry_keys[i].key) != 0)
            continue;
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || !isfinite(v) || v < 0 || v > 1e15)
            return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: %s: '%.40s' is not a count", path,
                                 lineno, text, value);
        *entry_field(out, i) = v;
        return HWS_OK;
    }
    return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: unknown key '%.40s'", path, lineno, text);
}

hws_status hws_gpu_cache_parse(const char *text, size_t len, const char *path, const char *uuid,
                               const char *driver, hws_gpu_cache_entry *out, hws_error *err) {
    for (size_t i = 0; i < NKEYS; i++)
        *entry_field(out, i) = HWS_NA;
    int lineno = 0;
    bool magic = false;
    for (size_t at = 0; at < len;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - at;
        at += n + 1;
        lineno++;
        if (memchr(line, '\0', n) != NULL)
            return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: a NUL byte", path, lineno);
        if (lineno == 1) {
            magic = n == strlen(MAGIC) && memcmp(line, MAGIC, n) == 0;
            if (!magic)
                break;
            continue;
        }
        hws_status st = parse_line(line, n, lineno, path, uuid, driver, out, err);
        if (st != HWS_OK)
            return st;
    }
    if (!magic)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:1: not a %s file", path, MAGIC);
    if (!hws_known(out->sm_count))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: no sm_count", path);
    return HWS_OK;
}

bool hws_gpu_cache_read(const char *dir, const hws_gpu_info *g, const char *driver,
                        hws_gpu_cache_entry *out) {
    char path[4096], *text;
    size_t len;
    hws_error err;
    if (!entry_path(path, sizeof path, dir, g->uuid, driver) ||
        hws_file_read(path, HWS_GPU_CACHE_MAX_BYTES, &text, &len, &err) != HWS_OK)
        return false;
    hws_status st = hws_gpu_cache_parse(text, len, path, g->uuid, driver, out, &err);
    free(text);
    return st == HWS_OK;
}

void hws_gpu_cache_write(const char *dir, const hws_gpu_info *g, const char *driver,
                         double cuda_driver_version) {
    char path[4096], text[HWS_GPU_CACHE_MAX_BYTES];
    hws_error err;
    if (!hws_known(g->sm_count) || g->lost || !entry_path(path, sizeof path, dir, g->uuid, driver))
        return;
    size_t len =
        (size_t)snprintf(text, sizeof text, "%s\nuuid %s\ndriver %s\n", MAGIC, g->uuid, driver);
    for (size_t i = 0; i < NKEYS && len < sizeof text; i++) {
        double v = entry_keys[i].gpu_offset == NOT_IN_GPU ? cuda_driver_version
                                                          : *gpu_field((hws_gpu_info *)g, i);
        if (hws_known(v))
            len +=
                (size_t)snprintf(text + len, sizeof text - len, "%s %.17g\n", entry_keys[i].key, v);
    }
    if (len >= sizeof text || hws_file_make_dirs(dir, &err) != HWS_OK)
        return;
    hws_file_write_atomic(path, text, len, &err);
}

void hws_gpu_cache_apply(const hws_gpu_cache_entry *e, hws_gpu_info *g) {
    for (size_t i = 0; i < NKEYS; i++) {
        double v = *entry_field((hws_gpu_cache_entry *)e, i);
        if (entry_keys[i].gpu_offset != NOT_IN_GPU && hws_known(v) &&
            (entry_keys[i].always || !hws_known(*gpu_field(g, i))))
            *gpu_field(g, i) = v;
    }
}
