/* fields.c - JSON and text renderings of records described by hws_field tables. */
#include "report/fields.h"
#include "report/json.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

static double num_at(const hws_field *f, const void *rec) {
    double v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

static int int_at(const hws_field *f, const void *rec) {
    int v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

void hws_fields_json(cJSON *obj, const hws_field *fields, size_t n, const void *rec) {
    for (size_t i = 0; i < n; i++) {
        const hws_field *f = &fields[i];
        switch (f->type) {
        case HWS_FIELD_NUM:
            hws_json_num(obj, f->key, num_at(f, rec));
            break;
        case HWS_FIELD_STR:
            hws_json_str(obj, f->key, (const char *)rec + f->offset);
            break;
        case HWS_FIELD_TRI:
            hws_json_tri(obj, f->key, int_at(f, rec));
            break;
        case HWS_FIELD_INT:
            cJSON_AddNumberToObject(obj, f->key, int_at(f, rec));
            break;
        }
    }
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
    bool known = true;
    switch (f->type) {
    case HWS_FIELD_NUM: {
        double v = num_at(f, rec);
        known = hws_known(v);
        hws_fmt_num(buf, n, v * (f->scale != 0 ? f->scale : 1), f->decimals, f->unit);
        break;
    }
    case HWS_FIELD_STR: {
        const char *s = (const char *)rec + f->offset;
        known = s[0] != '\0';
        snprintf(buf, n, "%s", known ? s : "n/a");
        break;
    }
    case HWS_FIELD_TRI: {
        int v = int_at(f, rec);
        known = v >= 0;
        snprintf(buf, n, "%s", !known ? "n/a" : v ? "yes" : "no");
        break;
    }
    case HWS_FIELD_INT:
        snprintf(buf, n, "%d", int_at(f, rec));
        break;
    }
    const char *why = known ? NULL : hws_notes_find(notes, f->key);
    if (why != NULL)
        snprintf(buf, n, "n/a (%s)", why);
    return buf;
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
