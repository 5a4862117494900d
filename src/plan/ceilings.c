/* ceilings.c - the ceilings file (hwscope.ceilings/1): where it lives, its one reader (the whole
 * document parsed once into a set, looked up by binary search, with the runs `hwscope bench llm`
 * saved in each entry) and its one writer (locked read-change-replace). The predictor reads it
 * through the set; see plan/ceilings.h and hwscope/ceilings.h. */
#include "hwscope/ceilings.h"
#include "hwscope/plan.h"

#include "plan/ceilings.h"
#include "util/file.h"
#include "util/json_keys.h"
#include "util/units.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CEILINGS_MAX_FILE_BYTES ((size_t)16 << 20) /* one entry per GPU model: a few KB */

/* ---- measured ceilings ------------------------------------------------------------------ */

bool hws_ceilings_path(char *buf, size_t n) {
    const char *env = getenv("HWSCOPE_CEILINGS");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int len;
    if (env != NULL && env[0] != '\0')
        len = snprintf(buf, n, "%s", env);
    else if (xdg != NULL && xdg[0] != '\0')
        len = snprintf(buf, n, "%s/hwscope/ceilings.json", xdg);
    else
        len = snprintf(buf, n, "%s/.cache/hwscope/ceilings.json", home ? home : ".");
    return len >= 0 && (size_t)len < n;
}

/* The numbers of an entry, in the order the file lists them: the one list the reader and the
 * writer share. */
static const struct {
    const char *key;
    size_t offset; /* of the double in hws_ceilings */
} ceiling_keys[] = {
    {"mem_bw_gbps", offsetof(hws_ceilings, mem_bw_gbps)},
    {"bf16_tflops", offsetof(hws_ceilings, bf16_tflops)},
    {"fp16_tflops", offsetof(hws_ceilings, fp16_tflops)},
    {"fp8_tflops", offsetof(hws_ceilings, fp8_tflops)},
    {"int8_tops", offsetof(hws_ceilings, int8_tops)},
    {"fp32_tflops", offsetof(hws_ceilings, fp32_tflops)},
    {"allreduce_busbw_gbps", offsetof(hws_ceilings, allreduce_busbw_gbps)},
    {"host_mem_bw_gbps", offsetof(hws_ceilings, host_mem_bw_gbps)},
};

static double *ceiling_field(hws_ceilings *c, size_t i) {
    return (double *)((char *)c + ceiling_keys[i].offset);
}

/* One saved entry, its catalog row resolved once when the file is read. */
typedef struct {
    char name[128];
    const hws_gpu_spec *spec; /* the catalog row the name matches, or NULL */
    hws_ceilings c;
    hws_llm_measured *runs; /* the valid runs of its "llm" array (hwscope bench llm) */
    int nruns;
} ceilings_entry;

/* The entries in file order, and their numbers sorted two ways for lookups in log time: by
 * name (case-insensitive) and by catalog row, each then by file order, so the first matching
 * entry of the file is the one found, as a scan would find it. */
struct hws_ceilings_set {
    size_t count;
    ceilings_entry *entries;
    size_t *by_name, *by_spec;
};

/* A ceiling of entry i of path: null or absent is unknown; otherwise a positive finite number. */
static hws_status read_figure(const cJSON *g, size_t key, const char *path, size_t i, double *out,
                              hws_error *err) {
    const char *name = ceiling_keys[key].key;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, name);
    *out = HWS_NA;
    if (v == NULL || cJSON_IsNull(v))
        return HWS_OK;
    if (!cJSON_IsNumber(v))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: gpus[%zu]: \"%s\" is not a number", path, i,
                             name);
    if (!isfinite(v->valuedouble) || v->valuedouble <= 0)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: gpus[%zu]: \"%s\" is %g: a ceiling must be a positive figure",
                             path, i, name, v->valuedouble);
    *out = v->valuedouble;
    return HWS_OK;
}

/* The "llm" array of entry i (the runs hwscope bench llm saved) into e: at most
 * HWS_LLM_MEASURED_MAX, a run with a field out of range skipped, not trusted. HWS_ERR_INPUT when
 * "llm" is there and not an array. */
static hws_status read_runs(const cJSON *g, const char *path, size_t i, ceilings_entry *e,
                            hws_error *err) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(g, "llm"), *run;
    if (list == NULL || cJSON_IsNull(list))
        return HWS_OK;
    if (!cJSON_IsArray(list))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: gpus[%zu]: \"llm\" is not an array", path, i);
    int n = cJSON_GetArraySize(list);
    if (n > HWS_LLM_MEASURED_MAX)
        n = HWS_LLM_MEASURED_MAX;
    if (n == 0)
        return HWS_OK;
    e->runs = calloc((size_t)n, sizeof *e->runs);
    if (e->runs == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", path);
    cJSON_ArrayForEach(run, list) {
        if (e->nruns < n && hws_llm_measured_parse(run, &e->runs[e->nruns]))
            e->nruns++;
    }
    return HWS_OK;
}

/* Entry i of the "gpus" array into e; HWS_ERR_INPUT naming what is wrong. */
static hws_status read_entry(const cJSON *g, const char *path, size_t i, ceilings_entry *e,
                             hws_error *err) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
    if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
        return hws_error_set(err, HWS_ERR_INPUT, "%s: gpus[%zu]: no \"name\" string", path, i);
    snprintf(e->name, sizeof e->name, "%s", name->valuestring);
    e->spec = hws_gpu_catalog_find(e->name);
    for (size_t k = 0; k < sizeof ceiling_keys / sizeof ceiling_keys[0]; k++) {
        hws_status st = read_figure(g, k, path, i, ceiling_field(&e->c, k), err);
        if (st != HWS_OK)
            return st;
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(g, "measured_at");
    if (cJSON_IsString(at))
        snprintf(e->c.measured_at, sizeof e->c.measured_at, "%s", at->valuestring);
    return read_runs(g, path, i, e, err);
}

/* Reads the ceilings file into *text (free it); *missing tells a file that is not there from one
 * that cannot be read (err names the fault). */
static hws_status hws_ceilings_read(const char *path, char **text, bool *missing, hws_error *err) {
    size_t len;
    errno = 0;
    hws_status st = hws_file_read(path, CEILINGS_MAX_FILE_BYTES, text, &len, err);
    *missing = st != HWS_OK && errno == ENOENT;
    return st;
}

/* Parses a whole hwscope.ceilings/1 document (nothing after it, the last of a duplicated key
 * kept) of path; NULL when it is not. */
static cJSON *parse_document(const char *text, size_t len, const char *path, hws_error *err) {
    size_t off;
    bool trailing;
    cJSON *doc = hws_json_parse_whole(text, len, &off, &trailing);
    if (doc == NULL || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "gpus"))) {
        cJSON_Delete(doc);
        hws_error_set(err, HWS_ERR_INPUT, "%s: not a hwscope.ceilings/1 document", path);
        return NULL;
    }
    return doc;
}

/* qsort context for the two orders (qsort has none): the entries being sorted. */
typedef struct {
    const ceilings_entry *entries;
    size_t i;
} entry_ref;

static int by_name_then_order(const void *pa, const void *pb) {
    const entry_ref *a = pa, *b = pb;
    int c = strcasecmp(a->entries[a->i].name, b->entries[b->i].name);
    return c != 0 ? c : (a->i > b->i) - (a->i < b->i);
}

static int by_spec_then_order(const void *pa, const void *pb) {
    const entry_ref *a = pa, *b = pb;
    uintptr_t x = (uintptr_t)a->entries[a->i].spec, y = (uintptr_t)b->entries[b->i].spec;
    return x != y ? (x > y) - (x < y) : (a->i > b->i) - (a->i < b->i);
}

/* Fills order with the entry numbers sorted by cmp; false when out of memory. */
static bool sort_entries(const hws_ceilings_set *set, size_t *order,
                         int (*cmp)(const void *, const void *)) {
    entry_ref *refs = malloc((set->count + 1) * sizeof *refs);
    if (refs == NULL)
        return false;
    for (size_t i = 0; i < set->count; i++)
        refs[i] = (entry_ref){set->entries, i};
    qsort(refs, set->count, sizeof *refs, cmp);
    for (size_t i = 0; i < set->count; i++)
        order[i] = refs[i].i;
    free(refs);
    return true;
}

hws_status hws_ceilings_set_parse(const char *text, size_t len, const char *path,
                                  hws_ceilings_set **out, hws_error *err) {
    *out = NULL;
    cJSON *doc = parse_document(text, len, path, err);
    if (doc == NULL)
        return HWS_ERR_INPUT;
    const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(doc, "gpus");
    hws_ceilings_set *set = calloc(1, sizeof *set);
    size_t n = (size_t)cJSON_GetArraySize(gpus);
    if (set != NULL)
        set->entries = calloc(n + 1, sizeof *set->entries);
    if (set == NULL || set->entries == NULL) {
        cJSON_Delete(doc);
        hws_ceilings_set_free(set);
        return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", path);
    }
    hws_status st = HWS_OK;
    const cJSON *g;
    cJSON_ArrayForEach(g, gpus) {
        if ((st = read_entry(g, path, set->count, &set->entries[set->count], err)) != HWS_OK)
            break;
        set->count++;
    }
    cJSON_Delete(doc);
    if (st == HWS_OK) {
        set->by_name = calloc(set->count + 1, sizeof *set->by_name);
        set->by_spec = calloc(set->count + 1, sizeof *set->by_spec);
        if (set->by_name == NULL || set->by_spec == NULL ||
            !sort_entries(set, set->by_name, by_name_then_order) ||
            !sort_entries(set, set->by_spec, by_spec_then_order))
            st = hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", path);
    }
    if (st != HWS_OK) {
        hws_ceilings_set_free(set);
        return st;
    }
    *out = set;
    return HWS_OK;
}

hws_status hws_ceilings_set_load(const char *path, hws_ceilings_set **out, hws_error *err) {
    *out = NULL;
    bool missing;
    char *text;
    hws_status st = hws_ceilings_read(path, &text, &missing, err);
    if (st != HWS_OK && missing)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s: no saved ceilings", path);
    if (st != HWS_OK)
        return st;
    st = hws_ceilings_set_parse(text, strlen(text), path, out, err);
    free(text);
    return st;
}

/* The first entry (in file order) named name, or SIZE_MAX: a lower-bound search. */
static size_t find_name(const hws_ceilings_set *set, const char *name) {
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcasecmp(set->entries[set->by_name[mid]].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->count && strcasecmp(set->entries[set->by_name[lo]].name, name) == 0
               ? set->by_name[lo]
               : SIZE_MAX;
}

/* The first entry whose name is the catalog row spec, or SIZE_MAX. */
static size_t find_spec(const hws_ceilings_set *set, const hws_gpu_spec *spec) {
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)set->entries[set->by_spec[mid]].spec < (uintptr_t)spec)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->count && set->entries[set->by_spec[lo]].spec == spec ? set->by_spec[lo]
                                                                          : SIZE_MAX;
}

/* The entry saved for gpu_name or the catalog row spec (the first in file order), or NULL. */
static const ceilings_entry *find_entry(const hws_ceilings_set *set, const char *gpu_name,
                                        const hws_gpu_spec *spec) {
    if (set == NULL || set->count == 0)
        return NULL;
    size_t best = gpu_name != NULL ? find_name(set, gpu_name) : SIZE_MAX;
    if (spec != NULL) {
        size_t by_row = find_spec(set, spec), by_name = find_name(set, spec->name);
        best = by_row < best ? by_row : best;
        best = by_name < best ? by_name : best;
    }
    return best == SIZE_MAX ? NULL : &set->entries[best];
}

bool hws_ceilings_set_find(const hws_ceilings_set *set, const char *gpu_name,
                           const hws_gpu_spec *spec, hws_ceilings *out) {
    const ceilings_entry *e = find_entry(set, gpu_name, spec);
    memset(out, 0, sizeof *out);
    if (e != NULL)
        *out = e->c;
    return e != NULL;
}

int hws_ceilings_set_runs(const hws_ceilings_set *set, const char *gpu_name,
                          const hws_gpu_spec *spec, const hws_llm_measured **runs) {
    const ceilings_entry *e = find_entry(set, gpu_name, spec);
    *runs = e != NULL ? e->runs : NULL;
    return e != NULL ? e->nruns : 0;
}

void hws_ceilings_set_free(hws_ceilings_set *set) {
    if (set != NULL) {
        for (size_t i = 0; set->entries != NULL && i < set->count; i++)
            free(set->entries[i].runs);
        free(set->entries);
        free(set->by_name);
        free(set->by_spec);
    }
    free(set);
}

hws_status hws_ceilings_load(const char *path, const char *gpu_name, const hws_gpu_spec *spec,
                             hws_ceilings *out, hws_error *err) {
    hws_ceilings_set *set;
    memset(out, 0, sizeof *out);
    hws_status st = hws_ceilings_set_load(path, &set, err);
    if (st != HWS_OK)
        return st;
    if (!hws_ceilings_set_find(set, gpu_name, spec, out))
        st = hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s: nothing saved for '%s'", path,
                           gpu_name ? gpu_name : "?");
    hws_ceilings_set_free(set);
    return st;
}

void hws_ceilings_put(cJSON *o, const char *key, cJSON *item) {
    if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
    else
        cJSON_AddItemToObject(o, key, item);
}

/* The entry of gpu_name in gpus, a new one (numbers null) when there is none. */
cJSON *hws_ceilings_entry_for(cJSON *gpus, const char *gpu_name) {
    cJSON *g;
    cJSON_ArrayForEach(g, gpus) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
        if (cJSON_IsString(name) && strcasecmp(name->valuestring, gpu_name) == 0)
            return g;
    }
    g = cJSON_CreateObject();
    if (g == NULL)
        return NULL;
    cJSON_AddItemToArray(gpus, g);
    cJSON_AddStringToObject(g, "name", gpu_name);
    for (size_t i = 0; i < sizeof ceiling_keys / sizeof ceiling_keys[0]; i++)
        cJSON_AddNullToObject(g, ceiling_keys[i].key);
    return g;
}

/* mkdir -p of the folder path is in. */
static hws_status make_parent(const char *path, hws_error *err) {
    char dir[HWS_CEILINGS_PATH_BYTES];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return HWS_OK;
    *slash = '\0';
    return hws_file_make_dirs(dir, err);
}

/* Writes doc to path through a temporary file beside it and a rename. */
static hws_status write_atomic(const char *path, const cJSON *doc, hws_error *err) {
    char *text = cJSON_Print(doc);
    if (text == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (line == NULL) {
        cJSON_free(text);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    hws_status st = hws_file_write_atomic(path, line, len + 1, err);
    free(line);
    return st;
}

/* The document now in path into *out (a new one when there is no file). HWS_ERR_INPUT when it
 * is not a hwscope.ceilings/1 document; the reader's status when it cannot be read. */
static hws_status read_for_update(const char *path, cJSON **out, hws_error *err) {
    bool missing;
    char *text;
    hws_status st = hws_ceilings_read(path, &text, &missing, err);
    if (st != HWS_OK && !missing)
        return st;
    if (st != HWS_OK) {
        *out = cJSON_CreateObject();
        if (*out == NULL || cJSON_AddStringToObject(*out, "schema", "hwscope.ceilings/1") == NULL ||
            cJSON_AddArrayToObject(*out, "gpus") == NULL) {
            cJSON_Delete(*out);
            return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
        }
        return HWS_OK;
    }
    size_t off;
    bool trailing;
    *out = hws_json_parse_whole(text, strlen(text), &off, &trailing);
    free(text);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(*out, "schema");
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*out, "gpus")) || !cJSON_IsString(schema) ||
        strcmp(schema->valuestring, "hwscope.ceilings/1") != 0) {
        cJSON_Delete(*out);
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s: not a hwscope.ceilings/1 document; left as it is", path);
    }
    return HWS_OK;
}

static hws_status update_locked(const char *path, const char *gpu_name, hws_ceilings_edit_fn edit,
                                const void *arg, hws_error *err);

hws_status hws_ceilings_update(const char *path, const char *gpu_name, hws_ceilings_edit_fn edit,
                               const void *arg, hws_error *err) {
    if (strlen(path) >= HWS_CEILINGS_PATH_BYTES)
        return hws_error_set(err, HWS_ERR_INPUT, "%.64s...: path longer than %d bytes", path,
                             HWS_CEILINGS_PATH_BYTES - 1);
    hws_status st = make_parent(path, err);
    if (st != HWS_OK)
        return st;
    /* concurrent bench runs (one per GPU) each read, change and replace the file: a lock file
     * beside it makes those steps one at a time, so no run's entry is lost */
    char lock_path[HWS_CEILINGS_PATH_BYTES + 8];
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        st = hws_error_set(err, HWS_ERR_RUNTIME, "%s: cannot lock: %s", lock_path, strerror(errno));
        if (lock >= 0)
            close(lock);
        return st;
    }
    st = update_locked(path, gpu_name, edit, arg, err);
    close(lock); /* releases the lock */
    return st;
}

/* hws_ceilings_update's read, change and replace, under its lock. */
static hws_status update_locked(const char *path, const char *gpu_name, hws_ceilings_edit_fn edit,
                                const void *arg, hws_error *err) {
    hws_status st;
    cJSON *doc = NULL;
    if ((st = read_for_update(path, &doc, err)) != HWS_OK)
        return st;
    cJSON *g = hws_ceilings_entry_for(cJSON_GetObjectItemCaseSensitive(doc, "gpus"), gpu_name);
    if (g == NULL || edit(g, arg) != 0) {
        cJSON_Delete(doc);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    }
    st = write_atomic(path, doc, err);
    cJSON_Delete(doc);
    return st;
}

/* The ceilings of one run into an entry (hws_ceilings_edit_fn over a hws_ceilings). */
static int edit_ceilings(cJSON *g, const void *arg) {
    const hws_ceilings *c = arg;
    for (size_t i = 0; i < sizeof ceiling_keys / sizeof ceiling_keys[0]; i++) {
        double v = *(const double *)((const char *)c + ceiling_keys[i].offset);
        if (hws_known(v)) /* what this run did not measure keeps its earlier figure */
            hws_ceilings_put(g, ceiling_keys[i].key, cJSON_CreateNumber(round(v * 10) / 10));
    }
    hws_ceilings_put(g, "measured_at", cJSON_CreateString(c->measured_at));
    hws_ceilings_put(g, "hwscope_version", cJSON_CreateString(hws_version()));
    return 0;
}

hws_status hws_ceilings_save(const char *path, const char *gpu_name, const hws_ceilings *c,
                             hws_error *err) {
    return hws_ceilings_update(path, gpu_name, edit_ceilings, c, err);
}
