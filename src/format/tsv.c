/* tsv.c - the catalog file parser: header-named tab-separated columns into row structs. */
#include "format/tsv.h"

#include "util/file.h"
#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TSV_MAX_FILE_BYTES ((size_t)16 << 20)

/* One line of the file being parsed, for messages. */
typedef struct {
    const char *file;
    int line;
} tsv_pos;

/* A field of a line: [p, p + n), trimmed of spaces. */
typedef struct {
    const char *p;
    size_t n;
} tsv_span;

static tsv_span span_trim(const char *p, size_t n) {
    while (n > 0 && (*p == ' ' || *p == '\r'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r'))
        n--;
    return (tsv_span){p, n};
}

static bool span_is(tsv_span s, const char *word) {
    return s.n == strlen(word) && strncasecmp(s.p, word, s.n) == 0;
}

/* Splits line into at most max spans at tabs; returns how many fields the line has (may exceed
 * max, in which case only max are stored). */
static size_t split_tabs(const char *line, size_t n, tsv_span *out, size_t max) {
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && line[i] != '\t')
            continue;
        if (count < max)
            out[count] = span_trim(line + start, i - start);
        count++;
        start = i + 1;
    }
    return count;
}

static size_t count_tabs(const char *line, size_t n) {
    size_t tabs = 0;
    for (size_t i = 0; i < n; i++)
        tabs += line[i] == '\t';
    return tabs;
}

/* The field a header column names; only NUM, STR and BOOL fields are columns. */
static const hws_field *field_for_span(const hws_tsv_schema *schema, tsv_span s) {
    for (size_t i = 0; i < schema->nfields; i++)
        if ((schema->fields[i].type == HWS_FIELD_NUM || schema->fields[i].type == HWS_FIELD_STR ||
             schema->fields[i].type == HWS_FIELD_BOOL) &&
            s.n == strlen(schema->fields[i].key) && memcmp(schema->fields[i].key, s.p, s.n) == 0)
            return &schema->fields[i];
    return NULL;
}

static bool span_unknown(tsv_span s) {
    return s.n == 0 || span_is(s, "n/a") || span_is(s, "-");
}

static hws_status parse_number(const hws_field *f, tsv_span s, void *row, tsv_pos pos,
                               hws_error *err) {
    double *out = (double *)((unsigned char *)row + f->offset);
    if (span_unknown(s)) {
        *out = HWS_NA;
        return HWS_OK;
    }
    char buf[64];
    char *end = buf;
    double v = HWS_NA;
    if (s.n < sizeof buf) {
        memcpy(buf, s.p, s.n);
        buf[s.n] = '\0';
        errno = 0;
        v = strtod(buf, &end);
    }
    if (s.n >= sizeof buf || end != buf + s.n || errno != 0 || !isfinite(v) ||
        !isfinite(v * f->unit_size))
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': '%.*s' is not a number",
                             pos.file, pos.line, f->key, (int)(s.n > 40 ? 40 : s.n), s.p);
    if (v < 0)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': '%.*s' is negative", pos.file,
                             pos.line, f->key, (int)s.n, s.p);
    *out = v * f->unit_size;
    return HWS_OK;
}

static hws_status parse_flag(const hws_field *f, tsv_span s, void *row, tsv_pos pos,
                             hws_error *err) {
    int *out = (int *)((unsigned char *)row + f->offset);
    if (span_is(s, "1") || span_is(s, "yes") || span_is(s, "true"))
        *out = 1;
    else if (span_is(s, "0") || span_is(s, "no") || span_is(s, "false"))
        *out = 0;
    else
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': '%.*s' is not 0 or 1",
                             pos.file, pos.line, f->key, (int)(s.n > 40 ? 40 : s.n), s.p);
    return HWS_OK;
}

static hws_status parse_field(const hws_field *f, tsv_span s, void *row, tsv_pos pos,
                              hws_error *err) {
    if (f->type == HWS_FIELD_NUM)
        return parse_number(f, s, row, pos, err);
    if (f->type == HWS_FIELD_BOOL)
        return parse_flag(f, s, row, pos, err);
    char *out = (char *)row + f->offset;
    if (span_is(s, "n/a") || span_is(s, "-"))
        s.n = 0;
    if (s.n >= f->size)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': longer than %zu characters",
                             pos.file, pos.line, f->key, f->size - 1);
    memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return HWS_OK;
}

static void *rows_push(hws_tsv_rows *rows, const hws_tsv_schema *schema) {
    if (rows->count == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 64;
        unsigned char *grown = realloc(rows->data, cap * schema->record_size);
        if (grown == NULL)
            return NULL;
        rows->data = grown;
        rows->cap = cap;
    }
    return hws_tsv_row(rows, schema, rows->count++);
}

void hws_tsv_rows_free(hws_tsv_rows *rows) {
    free(rows->data);
    *rows = (hws_tsv_rows){0};
}

void *hws_tsv_find(const hws_tsv_rows *rows, const hws_tsv_schema *schema, const char *name) {
    /* the key is the first field, a string */
    size_t key = schema->fields[0].offset;
    for (size_t i = 0; i < rows->count; i++) {
        unsigned char *row = hws_tsv_row(rows, schema, i);
        if (strcasecmp((const char *)row + key, name) == 0)
            return row;
    }
    return NULL;
}

/* An open-addressing set of row numbers keyed by the row's name (case-insensitive), so the
 * duplicate check and the merge cost one hash per row, not a scan of every row before it. */
typedef struct {
    size_t *slot; /* row number + 1; 0 = empty */
    size_t cap;   /* a power of two, more than twice the rows held */
    size_t used;
} name_index;

static uint64_t name_hash(const char *name) { /* FNV-1a over the lower-cased bytes */
    uint64_t h = 1469598103934665603ull;
    for (; *name != '\0'; name++)
        h = (h ^ (unsigned char)tolower((unsigned char)*name)) * 1099511628211ull;
    return h;
}

static const char *row_name(const hws_tsv_rows *rows, const hws_tsv_schema *schema, size_t i) {
    return hws_field_str(&schema->fields[0], hws_tsv_row(rows, schema, i));
}

/* The slot where name is, or the empty slot where it would go. */
static size_t index_slot(const name_index *ix, const hws_tsv_rows *rows,
                         const hws_tsv_schema *schema, const char *name) {
    size_t at = (size_t)name_hash(name) & (ix->cap - 1);
    while (ix->slot[at] != 0 && strcasecmp(row_name(rows, schema, ix->slot[at] - 1), name) != 0)
        at = (at + 1) & (ix->cap - 1);
    return at;
}

/* The number of the row of rows named name, or SIZE_MAX. */
static size_t index_find(const name_index *ix, const hws_tsv_rows *rows,
                         const hws_tsv_schema *schema, const char *name) {
    if (ix->cap == 0)
        return SIZE_MAX;
    size_t at = index_slot(ix, rows, schema, name);
    return ix->slot[at] != 0 ? ix->slot[at] - 1 : SIZE_MAX;
}

/* Adds row i of rows (whose name is not in ix yet); false when out of memory. */
static bool index_add(name_index *ix, const hws_tsv_rows *rows, const hws_tsv_schema *schema,
                      size_t i) {
    if ((ix->used + 1) * 2 > ix->cap) {
        name_index grown = {calloc(ix->cap ? ix->cap * 2 : 64, sizeof(size_t)),
                            ix->cap ? ix->cap * 2 : 64, 0};
        if (grown.slot == NULL)
            return false;
        for (size_t k = 0; k < ix->cap; k++)
            if (ix->slot[k] != 0)
                grown.slot[index_slot(&grown, rows, schema,
                                      row_name(rows, schema, ix->slot[k] - 1))] = ix->slot[k];
        grown.used = ix->used;
        free(ix->slot);
        *ix = grown;
    }
    ix->slot[index_slot(ix, rows, schema, row_name(rows, schema, i))] = i + 1;
    ix->used++;
    return true;
}

/* Reads the header line: cols[i] = field of column i; spans gets room for a row's fields. */
static hws_status parse_header(const hws_tsv_schema *schema, const char *line, size_t n,
                               tsv_pos pos, const hws_field ***cols, tsv_span **spans,
                               size_t *ncols, hws_error *err) {
    size_t count = count_tabs(line, n) + 1;
    *ncols = count;
    *spans = malloc(count * sizeof(tsv_span));
    *cols = calloc(count, sizeof(const hws_field *));
    if (*spans == NULL || *cols == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", pos.file);
    split_tabs(line, n, *spans, count);
    bool has_key = false;
    for (size_t i = 0; i < count; i++) {
        tsv_span s = (*spans)[i];
        const hws_field *f = field_for_span(schema, s);
        if (f == NULL)
            return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%.*s': unknown column",
                                 pos.file, pos.line, (int)(s.n > 40 ? 40 : s.n), s.p);
        for (size_t j = 0; j < i; j++)
            if ((*cols)[j] == f)
                return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': column appears twice",
                                     pos.file, pos.line, f->key);
        (*cols)[i] = f;
        has_key |= f == &schema->fields[0];
    }
    if (!has_key)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': header has no such column",
                             pos.file, pos.line, schema->fields[0].key);
    return HWS_OK;
}

/* Parses one data line into a new row of fresh. */
static hws_status parse_row(const hws_tsv_schema *schema, const hws_field **cols, size_t ncols,
                            const char *line, size_t n, tsv_pos pos, tsv_span *spans,
                            hws_tsv_rows *fresh, name_index *names, hws_error *err) {
    size_t count = split_tabs(line, n, spans, ncols);
    if (count > ncols)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s:%d: field %zu: the header has only %zu columns", pos.file,
                             pos.line, ncols + 1, ncols);
    const hws_field *missing = count < ncols ? cols[count] : NULL;
    if (missing != NULL)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s:%d: field '%s': missing (the row has %zu of %zu fields)", pos.file,
                             pos.line, missing->key, count, ncols);
    void *row = rows_push(fresh, schema);
    if (row == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", pos.file);
    hws_record_blank(schema, row);
    for (size_t i = 0; i < ncols; i++) {
        hws_status st = parse_field(cols[i], spans[i], row, pos, err);
        if (st != HWS_OK)
            return st;
    }
    char why[160];
    const char *column = schema->check != NULL ? schema->check(row, why, sizeof why) : NULL;
    if (column != NULL)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': %s", pos.file, pos.line,
                             column, why);
    const hws_field *key = &schema->fields[0];
    const char *name = hws_field_str(key, row);
    if (name[0] == '\0')
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: field '%s': empty", pos.file, pos.line,
                             key->key);
    if (index_find(names, fresh, schema, name) != SIZE_MAX)
        return hws_error_set(err, HWS_ERR_INPUT,
                             "%s:%d: field '%s': '%s' appears twice in the file", pos.file,
                             pos.line, key->key, name);
    if (!index_add(names, fresh, schema, fresh->count - 1))
        return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", pos.file);
    return HWS_OK;
}

/* Moves fresh's rows into rows, replacing same-named ones. */
static hws_status merge_rows(const hws_tsv_schema *schema, hws_tsv_rows *rows,
                             const hws_tsv_rows *fresh, const char *file, hws_error *err) {
    size_t need = rows->count + fresh->count;
    if (need > rows->cap) {
        unsigned char *grown = realloc(rows->data, need * schema->record_size);
        if (grown == NULL)
            return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", file);
        rows->data = grown;
        rows->cap = need;
    }
    name_index names = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < rows->count; i++)
        ok = index_add(&names, rows, schema, i);
    for (size_t i = 0; ok && i < fresh->count; i++) {
        const void *src = hws_tsv_row(fresh, schema, i);
        size_t at = index_find(&names, rows, schema, row_name(fresh, schema, i));
        if (at == SIZE_MAX)
            at = rows->count++;
        memcpy(hws_tsv_row(rows, schema, at), src, schema->record_size);
        if (at == rows->count - 1)
            ok = index_add(&names, rows, schema, at);
    }
    free(names.slot);
    return ok ? HWS_OK : hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", file);
}

hws_status hws_tsv_parse(const hws_tsv_schema *schema, const char *text, size_t len,
                         const char *file, hws_tsv_rows *rows, hws_error *err) {
    hws_tsv_rows fresh = {0};
    name_index names = {0};
    const hws_field **cols = NULL;
    tsv_span *spans = NULL;
    size_t ncols = 0;
    hws_status st = HWS_OK;
    tsv_pos pos = {file, 0};
    for (size_t at = 0; at < len && st == HWS_OK;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + 1;
        pos.line++;
        tsv_span all = span_trim(line, n);
        if (all.n == 0 || all.p[0] == '#')
            continue;
        if (memchr(line, '\0', n) != NULL) {
            st = hws_error_set(err, HWS_ERR_INPUT, "%s:%d: a NUL byte in the line", file, pos.line);
        } else if (cols == NULL) {
            st = parse_header(schema, line, n, pos, &cols, &spans, &ncols, err);
        } else {
            st = parse_row(schema, cols, ncols, line, n, pos, spans, &fresh, &names, err);
        }
    }
    if (st == HWS_OK && cols == NULL)
        st = hws_error_set(err, HWS_ERR_INPUT, "%s:%d: no header line (column names)", file,
                           pos.line);
    if (st == HWS_OK)
        st = merge_rows(schema, rows, &fresh, file, err);
    free(cols);
    free(spans);
    free(names.slot);
    hws_tsv_rows_free(&fresh);
    return st;
}

hws_status hws_tsv_parse_file(const hws_tsv_schema *schema, const char *path, hws_tsv_rows *rows,
                              hws_error *err) {
    char *text;
    size_t len;
    hws_status st = hws_file_read(path, TSV_MAX_FILE_BYTES, &text, &len, err);
    if (st == HWS_OK)
        st = hws_tsv_parse(schema, text, len, path, rows, err);
    free(text);
    return st;
}

hws_status hws_tsv_catalog_load(hws_tsv_catalog *cat, const char *user_path, hws_error *err) {
    hws_tsv_rows rows = {0};
    hws_status st =
        hws_tsv_parse(cat->schema, cat->builtin, *cat->builtin_len, cat->builtin_name, &rows, err);
    if (st == HWS_OK && user_path != NULL)
        st = hws_tsv_parse_file(cat->schema, user_path, &rows, err);
    if (st != HWS_OK) {
        hws_tsv_rows_free(&rows);
        return st;
    }
    hws_tsv_rows_free(&cat->rows);
    cat->rows = rows;
    cat->loaded = true;
    return HWS_OK;
}

const void *hws_tsv_catalog_rows(hws_tsv_catalog *cat, size_t *count) {
    if (!cat->loaded) {
        hws_error err;
        if (hws_tsv_catalog_load(cat, NULL, &err) != HWS_OK)
            cat->loaded = true; /* a broken built-in file: an empty catalog, tests catch it */
    }
    if (count != NULL)
        *count = cat->rows.count;
    return cat->rows.data;
}
