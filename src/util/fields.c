/* fields.c - the operations on a record that its field table allows: blank it, read a field,
 * tell whether a field is known. The renderers (text, JSON, CSV) are in src/report/. */
#include "hwscope/fields.h"

#include <string.h>

double hws_field_num(const hws_field *f, const void *rec) {
    double v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

const char *hws_field_str(const hws_field *f, const void *rec) {
    return (const char *)rec + f->offset;
}

int hws_field_int(const hws_field *f, const void *rec) {
    int v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

double hws_field_value(const hws_field *f, const void *rec) {
    return hws_field_num(f, rec) / (f->unit_size != 0 ? f->unit_size : 1);
}

bool hws_field_known(const hws_field *f, const void *rec) {
    switch (f->type) {
    case HWS_FIELD_NUM:
        return hws_known(hws_field_num(f, rec));
    case HWS_FIELD_STR:
        return hws_field_str(f, rec)[0] != '\0';
    case HWS_FIELD_TRI:
        return hws_field_int(f, rec) >= 0;
    case HWS_FIELD_INT:
    case HWS_FIELD_BOOL:
        break;
    }
    return true;
}

void hws_fields_blank(const hws_field *fields, size_t n, void *rec) {
    static const double na = HWS_NA;
    static const int tri_unknown = -1, zero = 0;
    for (size_t i = 0; i < n; i++) {
        const hws_field *f = &fields[i];
        char *at = (char *)rec + f->offset;
        if (f->type == HWS_FIELD_NUM)
            memcpy(at, &na, sizeof na);
        else if (f->type == HWS_FIELD_TRI)
            memcpy(at, &tri_unknown, sizeof tri_unknown);
        else if (f->type == HWS_FIELD_STR)
            at[0] = '\0';
        else
            memcpy(at, &zero, sizeof zero);
    }
}

void hws_record_blank(const hws_field_table *table, void *rec) {
    memset(rec, 0, table->record_size);
    hws_fields_blank(table->fields, table->nfields, rec);
}

const hws_field *hws_field_find(const hws_field_table *table, const char *key) {
    for (size_t i = 0; i < table->nfields; i++)
        if (strcmp(table->fields[i].key, key) == 0)
            return &table->fields[i];
    return NULL;
}
