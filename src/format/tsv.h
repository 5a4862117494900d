/* tsv.h - catalog files as tab-separated rows described by a field table, so the GPU catalog, the
 * model catalog and any later catalog share one parser, one error format and one JSON view.
 *
 * File format (data/gpus.tsv, data/models.tsv, a user's file):
 *   # comment lines and blank lines are skipped anywhere
 *   name<TAB>mem_gb<TAB>...          the first other line is the header: column names
 *   H100 SXM 80GB<TAB>80<TAB>...     then one row per line, fields in the header's order
 * A user file may list any subset of the columns in any order ("name" is required); a column it
 * leaves out is unknown (HWS_NA, "" or 0). Numbers are plain decimals (strtod syntax, >= 0);
 * "n/a", "-" or an empty field is unknown. Flags are 0/1 (also no/yes, false/true).
 * Every fault is HWS_ERR_INPUT "FILE:LINE: field 'COLUMN': what is wrong".
 *
 * Columns are the records' field tables (hwscope/fields.h): a column is a field's key, a number
 * in the file is in the field's unit (stored value = file value * unit_size), STR fields are
 * strings, BOOL fields flags; every other field of the table is unknown in a fresh row.
 *
 * Example:
 *   static const hws_field fields[] = {
 *       HWS_COL_STR(my_row, name, "name", ""),
 *       HWS_COL_NUM(my_row, mem_bytes, "mem_gb", 1e9, "GB", "memory, GB"),
 *   };
 *   static const hws_field_table schema = HWS_FIELD_TABLE(my_row, fields);
 *   hws_tsv_rows rows = {0};
 *   st = hws_tsv_parse(&schema, text, len, "data/gpus.tsv", &rows, &err); */
#ifndef HWSCOPE_FORMAT_TSV_H
#define HWSCOPE_FORMAT_TSV_H

#include "hwscope/fields.h"

#include <stdbool.h>
#include <stddef.h>

/* A row type is a field table whose first field is the string key "name". */
typedef hws_field_table hws_tsv_schema;

/* A growing array of rows of schema->record_size bytes each. */
typedef struct {
    unsigned char *data;
    size_t count;
    size_t cap;
} hws_tsv_rows;

/* Parses text (len bytes, need not be NUL-terminated) named file in messages and merges its rows
 * into rows: a row whose name (case-insensitive) is already there replaces it; the same name twice
 * in one file is an error. On error rows keeps what it held before the call. */
hws_status hws_tsv_parse(const hws_tsv_schema *schema, const char *text, size_t len,
                         const char *file, hws_tsv_rows *rows, hws_error *err);
/* Reads the file at path and parses it as above (unreadable: HWS_ERR_INPUT naming path). */
hws_status hws_tsv_parse_file(const hws_tsv_schema *schema, const char *path, hws_tsv_rows *rows,
                              hws_error *err);
void hws_tsv_rows_free(hws_tsv_rows *rows);
/* Row i, as a pointer to its struct. */
static inline void *hws_tsv_row(const hws_tsv_rows *rows, const hws_tsv_schema *schema, size_t i) {
    return rows->data + i * schema->record_size;
}
/* The row named name (case-insensitive), or NULL. */
void *hws_tsv_find(const hws_tsv_rows *rows, const hws_tsv_schema *schema, const char *name);

/* A catalog: built-in text plus an optional user file, loaded on first use. */
typedef struct {
    const hws_tsv_schema *schema;
    const char *builtin; /* embedded data/ file */
    const unsigned long *builtin_len;
    const char *builtin_name; /* "data/gpus.tsv", for messages */
    hws_tsv_rows rows;
    bool loaded;
} hws_tsv_catalog;

/* (Re)loads the built-in rows, then user_path's rows on top when not NULL. On error the catalog
 * keeps what it held before. */
hws_status hws_tsv_catalog_load(hws_tsv_catalog *cat, const char *user_path, hws_error *err);
/* The rows, loading the built-in ones on first use (none if they fail to parse). Not thread-safe:
 * load before starting threads; a reload invalidates rows handed out before. */
const void *hws_tsv_catalog_rows(hws_tsv_catalog *cat, size_t *count);

#endif
