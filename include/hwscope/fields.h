/* fields.h - field descriptors: one table per record type (GPU facts, CPU, memory, plan results,
 * advice rows, bench records, catalog rows) kept beside the record in the library. The library
 * blanks a record by walking its table; every output format (text tables, JSON, CSV, catalog
 * files) walks the same table, so the formats cannot drift apart.
 *
 * A descriptor says where a member lives (offset), what it holds (type, which also fixes how
 * "unknown" is spelled: the validity rule), its name in machine formats (key: JSON key, CSV and
 * catalog column, and the name notes use), its text label, and its unit: the stored value
 * divided by unit_size is the value in `unit` ("GiB": unit_size 2^30 over a bytes member).
 *
 * Example:
 *   static const hws_field my_fields[] = {
 *       HWS_STR(my_rec, name, "name"),
 *       HWS_NUM(my_rec, mem_bytes, "memory", 1.0 / HWS_GIB, 1, "GiB"),
 *   };
 *   const hws_field_table my_table = HWS_FIELD_TABLE(my_rec, my_fields);
 *   hws_record_blank(&my_table, &rec);   every number HWS_NA, every string "", tri-states -1 */
#ifndef HWSCOPE_FIELDS_H
#define HWSCOPE_FIELDS_H

#include "hwscope/hwscope.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    HWS_FIELD_NUM, /* double; HWS_NA when unknown */
    HWS_FIELD_STR, /* char[size]; "" when unknown */
    HWS_FIELD_TRI, /* int: -1 unknown, 0 no, 1 yes */
    HWS_FIELD_INT, /* int, always known: a count or an index */
    HWS_FIELD_BOOL /* int 0 or 1, always known (a catalog flag) */
} hws_field_type;

typedef struct {
    const char *key;   /* JSON key, CSV or catalog column, the name notes use */
    const char *label; /* text label */
    hws_field_type type;
    size_t offset;    /* offsetof the member in the record */
    double unit_size; /* NUM: stored value / unit_size = value in unit (0 means 1) */
    int decimals;     /* NUM: decimals in text */
    const char *unit; /* NUM: unit of the shown value ("GiB", "GB/s"); "" when none */
    size_t size;      /* STR: bytes of the char array */
    const char *help; /* one line for docs and --help; may be NULL */
} hws_field;

/* A record type: its fields, the size of one record and, optionally, a check of a whole record:
 * NULL when it is consistent, else the key of the field at fault with what is wrong in why ("8
 * exceeds the 4 attention heads"); readers of outside files (catalog rows) call it. */
typedef struct {
    const hws_field *fields;
    size_t nfields;
    size_t record_size;
    const char *(*check)(const void *rec, char *why, size_t n);
} hws_field_table;

#define HWS_FIELD_TABLE(rec, array)                                                                \
    { array, sizeof(array) / sizeof((array)[0]), sizeof(rec), NULL }

#define HWS_FIELD_SIZEOF(rec, member) sizeof(((rec *)0)->member)

/* Shown fields: the key is the member's name. HWS_NUM shows value * scale in unit. */
#define HWS_NUM(rec, member, label_, scale, decimals_, unit_)                                      \
    {                                                                                              \
        .key = #member, .label = label_, .type = HWS_FIELD_NUM, .offset = offsetof(rec, member),   \
        .unit_size = 1.0 / (scale), .decimals = decimals_, .unit = unit_                           \
    }
#define HWS_STR(rec, member, label_)                                                               \
    {                                                                                              \
        .key = #member, .label = label_, .type = HWS_FIELD_STR, .offset = offsetof(rec, member),   \
        .unit = "", .size = HWS_FIELD_SIZEOF(rec, member)                                          \
    }
#define HWS_TRI(rec, member, label_)                                                               \
    {                                                                                              \
        .key = #member, .label = label_, .type = HWS_FIELD_TRI, .offset = offsetof(rec, member),   \
        .unit = ""                                                                                 \
    }
#define HWS_INT(rec, member, label_)                                                               \
    {                                                                                              \
        .key = #member, .label = label_, .type = HWS_FIELD_INT, .offset = offsetof(rec, member),   \
        .unit = ""                                                                                 \
    }
/* Fields for machine formats only: the label is the key, numbers raw. HWS_JSON_INT names its
 * key. */
#define HWS_JSON_NUM(rec, member) HWS_NUM(rec, member, #member, 1, 0, "")
#define HWS_JSON_STR(rec, member) HWS_STR(rec, member, #member)
#define HWS_JSON_INT(key_, rec, member)                                                            \
    {                                                                                              \
        .key = key_, .label = key_, .type = HWS_FIELD_INT, .offset = offsetof(rec, member),        \
        .unit = ""                                                                                 \
    }
/* Catalog columns: the column name differs from the member; numbers in the file are in unit,
 * stored value = file value * unit_size. */
#define HWS_COL_STR(rec, member, column, help_)                                                    \
    {                                                                                              \
        .key = column, .label = column, .type = HWS_FIELD_STR, .offset = offsetof(rec, member),    \
        .unit = "", .size = HWS_FIELD_SIZEOF(rec, member), .help = help_                           \
    }
#define HWS_COL_NUM(rec, member, column, unit_size_, unit_, help_)                                 \
    {                                                                                              \
        .key = column, .label = column, .type = HWS_FIELD_NUM, .offset = offsetof(rec, member),    \
        .unit_size = unit_size_, .decimals = 2, .unit = unit_, .help = help_                       \
    }
#define HWS_COL_BOOL(rec, member, column, help_)                                                   \
    {                                                                                              \
        .key = column, .label = column, .type = HWS_FIELD_BOOL, .offset = offsetof(rec, member),   \
        .unit = "", .help = help_                                                                  \
    }

/* Sets every byte of rec (table->record_size) to 0, then every NUM field to HWS_NA and every TRI
 * field to -1: the record with everything unknown. */
HWS_API void hws_record_blank(const hws_field_table *table, void *rec);
/* Sets the n fields of rec to unknown (NUM HWS_NA, STR "", TRI -1, INT and BOOL 0), leaving the
 * rest of rec as it is: for a second table over the same record. */
HWS_API void hws_fields_blank(const hws_field *fields, size_t n, void *rec);

/* The stored value of a NUM field; of a STR field; of a TRI, INT or BOOL field. */
HWS_API double hws_field_num(const hws_field *f, const void *rec);
HWS_API const char *hws_field_str(const hws_field *f, const void *rec);
HWS_API int hws_field_int(const hws_field *f, const void *rec);
/* A NUM field's value in its unit (stored / unit_size). */
HWS_API double hws_field_value(const hws_field *f, const void *rec);
/* The validity rule: false when the field holds its type's "unknown". */
HWS_API bool hws_field_known(const hws_field *f, const void *rec);
/* The field whose key is key, or NULL. */
HWS_API const hws_field *hws_field_find(const hws_field_table *table, const char *key);

#ifdef __cplusplus
}
#endif

#endif
