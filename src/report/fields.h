/* fields.h - the renderers of records described by field tables (hwscope/fields.h): text cells
 * and two-column tables, JSON objects and CSV rows, so every format walks the same table.
 *
 * JSON and CSV get the raw stored value under `key` (units in the key: "mem_total_bytes"); the
 * text gets the value in its unit, with `decimals` and `unit` ("79.6 GiB"). An unknown value is
 * null in JSON, empty in CSV and "n/a" in text, followed in text by the reason a hws_notes list
 * holds for that key. */
#ifndef HWSCOPE_REPORT_FIELDS_H
#define HWSCOPE_REPORT_FIELDS_H

#include "hwscope/fields.h"
#include "hwscope/probe.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* Adds every field of rec to obj, raw values. */
void hws_fields_json(cJSON *obj, const hws_field *fields, size_t n, const void *rec);
/* The same over a table; in_unit: numbers in their unit (catalog rows: "mem_gb": 80), rounded
 * to 6 decimals, BOOL fields true/false. */
void hws_record_json(cJSON *obj, const hws_field_table *table, const void *rec, bool in_unit);
/* A JSON array describing the table's fields: {"name": key, "unit": unit, "meaning": help}. */
cJSON *hws_fields_doc_json(const hws_field_table *table);

/* The text of one field of rec; "n/a (reason)" when unknown and notes has a reason. */
char *hws_field_text(char *buf, size_t n, const hws_field *f, const void *rec,
                     const hws_notes *notes);
/* Prints a two-column table (fact, value) of the fields of rec to out. */
void hws_record_print(FILE *out, const hws_field *fields, size_t n, const void *rec,
                      const hws_notes *notes);

/* CSV (RFC 4180): a header line of the keys, and one line per record with raw values (in_unit:
 * numbers in their unit, as catalog files hold them); unknown values are empty fields, strings
 * are quoted when they hold a comma, quote or line break. Return 0, or -1 when writing failed. */
int hws_csv_header(FILE *out, const hws_field_table *table);
int hws_csv_row(FILE *out, const hws_field_table *table, const void *rec, bool in_unit);

/* The reason notes hold for key, or NULL. */
const char *hws_notes_find(const hws_notes *notes, const char *key);
/* Adds notes as a JSON object {"key": "reason", ...} under name. */
void hws_notes_json(cJSON *obj, const char *name, const hws_notes *notes);

#endif
