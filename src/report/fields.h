/* fields.h - one descriptor table per record type feeds both the JSON and the text output, so
 * the two formats cannot drift apart.
 *
 * JSON gets the raw value under `key` (units in the key: "mem_total_bytes"); the table gets the
 * value times `scale`, with `decimals` and `unit` ("79.6 GiB"). An unknown value is null / "n/a",
 * followed in the table by the reason a hws_notes list holds for that key. */
#ifndef HWSCOPE_REPORT_FIELDS_H
#define HWSCOPE_REPORT_FIELDS_H

#include "hwscope/probe.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum {
    HWS_FIELD_NUM, /* double, HWS_NA unknown */
    HWS_FIELD_STR, /* char[], "" unknown */
    HWS_FIELD_TRI, /* int, -1 unknown, printed yes/no (or enabled/disabled) */
    HWS_FIELD_INT  /* int, always known, printed as a number */
} hws_field_type;

typedef struct {
    const char *key;   /* JSON key and the name notes use */
    const char *label; /* text label */
    hws_field_type type;
    size_t offset; /* offsetof the member in the record */
    double scale;  /* for NUM in text: value * scale is printed (0 means 1) */
    int decimals;
    const char *unit; /* for NUM in text */
} hws_field;

#define HWS_NUM(rec, member, label, scale, decimals, unit)                                         \
    { #member, label, HWS_FIELD_NUM, offsetof(rec, member), scale, decimals, unit }
#define HWS_STR(rec, member, label)                                                                \
    { #member, label, HWS_FIELD_STR, offsetof(rec, member), 0, 0, "" }
#define HWS_TRI(rec, member, label)                                                                \
    { #member, label, HWS_FIELD_TRI, offsetof(rec, member), 0, 0, "" }
/* Fields for JSON only: the key is the member's name (HWS_JSON_INT names its key), values raw. */
#define HWS_JSON_NUM(rec, member) HWS_NUM(rec, member, #member, 1, 0, "")
#define HWS_JSON_STR(rec, member) HWS_STR(rec, member, #member)
#define HWS_JSON_INT(key, rec, member)                                                             \
    { key, key, HWS_FIELD_INT, offsetof(rec, member), 0, 0, "" }

/* Adds every field of rec to obj. */
void hws_fields_json(cJSON *obj, const hws_field *fields, size_t n, const void *rec);
/* The text of one field of rec; "n/a (reason)" when unknown and notes has a reason. */
char *hws_field_text(char *buf, size_t n, const hws_field *f, const void *rec,
                     const hws_notes *notes);
/* The reason notes hold for key, or NULL. */
const char *hws_notes_find(const hws_notes *notes, const char *key);
/* Adds notes as a JSON object {"key": "reason", ...} under name. */
void hws_notes_json(cJSON *obj, const char *name, const hws_notes *notes);

#endif
