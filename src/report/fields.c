/* fields.c - text, JSON and CSV renderings of records described by hws_field tables. */
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds field f of rec to obj; numbers raw, or in their unit rounded to 6 decimals. */
static void field_json(cJSON *obj, const hws_field *f, const void *rec, bool in_unit) {
    switch (f->type) {
    case HWS_FIELD_NUM:
        if (in_unit) /* rounded so 1.23e9 / 1e9 prints 1.23 */
            hws_json_num(obj, f->key, round(hws_field_value(f, rec) * 1e6) / 1e6);
        else
            hws_json_num(obj, f->key, hws_field_num(f, rec));
        break;
    case HWS_FIELD_STR:
        hws_json_str(obj, f->key, hws_field_str(f, rec));
        break;
    case HWS_FIELD_TRI:
    case HWS_FIELD_BOOL:
        hws_json_tri(obj, f->key, hws_field_int(f, rec));
        break;
    case HWS_FIELD_INT:
        cJSON_AddNumberToObject(obj, f->key, hws_field_int(f, rec));
        break;
    }
}

void hws_fields_json(cJSON *obj, const hws_field *fields, size_t n, const void *rec) {
    for (size_t i = 0; i < n; i++)
        field_json(obj, &fields[i], rec, false);
}

void hws_record_json(cJSON *obj, const hws_field_table *table, const void *rec, bool in_unit) {
    for (size_t i = 0; obj != NULL && i < table->nfields; i++)
        field_json(obj, &table->fields[i], rec, in_unit);
}

cJSON *hws_fields_doc_json(const hws_field_table *table) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < table->nfields; i++) {
        const hws_field *f = &table->fields[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        hws_json_str(o, "name", f->key);
        hws_json_str(o, "unit", f->unit);
        hws_json_str(o, "meaning", f->help);
    }
    return arr;
}

const char *hws_notes_find(const hws_notes *notes, const char *key) {
    size_t len = strlen(key);
    for (int i = 0; notes != NULL && i < notes->count; i++)
        if (strncmp(notes->text[i], key, len) == 0 && notes->text[i][len] == ':')
            return notes->text[i] + len + 2;
    return NULL;
}

char *hws_field_text(char *buf, size_t n, const hws_field *f, const void *rec,
                     const hws_notes *notes) {
    switch (f->type) {
    case HWS_FIELD_NUM:
        hws_fmt_num(buf, n, hws_field_value(f, rec), f->decimals, f->unit);
        break;
    case HWS_FIELD_STR:
        snprintf(buf, n, "%s", hws_field_known(f, rec) ? hws_field_str(f, rec) : "n/a");
        break;
    case HWS_FIELD_TRI:
    case HWS_FIELD_BOOL:
        snprintf(buf, n, "%s",
                 !hws_field_known(f, rec) ? "n/a"
                 : hws_field_int(f, rec)  ? "yes"
                                          : "no");
        break;
    case HWS_FIELD_INT:
        snprintf(buf, n, "%d", hws_field_int(f, rec));
        break;
    }
    const char *why = hws_field_known(f, rec) ? NULL : hws_notes_find(notes, f->key);
    if (why != NULL)
        snprintf(buf, n, "n/a (%s)", why);
    return buf;
}

void hws_record_print(FILE *out, const hws_field *fields, size_t n, const void *rec,
                      const hws_notes *notes) {
    hws_table *t = hws_table_new(2, (const char *[]){"fact", "value"});
    for (size_t i = 0; t != NULL && i < n; i++) {
        char cell[256];
        hws_table_row(t, (const char *[]){fields[i].label, hws_field_text(cell, sizeof cell,
                                                                          &fields[i], rec, notes)});
    }
    if (t != NULL)
        hws_table_print(t, out);
    hws_table_free(t);
}

/* Writes s as one CSV field, quoted when it must be. */
static void csv_str(FILE *out, const char *s) {
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Writes v with the fewest digits (15, else 17) that read back as v, as cJSON does. */
static void csv_num(FILE *out, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, out);
}

int hws_csv_header(FILE *out, const hws_field_table *table) {
    for (size_t i = 0; i < table->nfields; i++) {
        if (i > 0)
            fputc(',', out);
        csv_str(out, table->fields[i].key);
    }
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}

int hws_csv_row(FILE *out, const hws_field_table *table, const void *rec, bool in_unit) {
    for (size_t i = 0; i < table->nfields; i++) {
        const hws_field *f = &table->fields[i];
        if (i > 0)
            fputc(',', out);
        if (!hws_field_known(f, rec))
            continue;
        if (f->type == HWS_FIELD_NUM)
            csv_num(out, in_unit ? hws_field_value(f, rec) : hws_field_num(f, rec));
        else if (f->type == HWS_FIELD_STR)
            csv_str(out, hws_field_str(f, rec));
        else
            fprintf(out, "%d", hws_field_int(f, rec));
    }
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}

void hws_notes_json(cJSON *obj, const char *name, const hws_notes *notes) {
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    for (int i = 0; o != NULL && i < notes->count; i++) {
        char key[HWS_NOTE_LEN];
        const char *colon = strchr(notes->text[i], ':');
        if (colon == NULL)
            continue;
        snprintf(key, sizeof key, "%.*s", (int)(colon - notes->text[i]), notes->text[i]);
        const char *why = colon[1] == ' ' ? colon + 2 : colon + 1;
        if (cJSON_GetObjectItemCaseSensitive(o, key) == NULL)
            cJSON_AddStringToObject(o, key, why);
    }
}
