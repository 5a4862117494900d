/* schema.c - the JSON Schema subset our output schemas use, checked recursively. */
#include "schema.h"
#include "hws_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int type_is(const char *type, const cJSON *v) {
    if (strcmp(type, "null") == 0)
        return cJSON_IsNull(v);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(type, "integer") == 0)
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(v);
    if (strcmp(type, "array") == 0)
        return cJSON_IsArray(v);
    return 0;
}

static int fail_at(char *why, size_t n, const char *path, const char *what) {
    snprintf(why, n, "%s: %s", path[0] ? path : "(root)", what);
    return 0;
}

static int check(const cJSON *s, const cJSON *v, const char *path, char *why, size_t n) {
    char sub[512];
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(type) && !type_is(type->valuestring, v))
        return fail_at(why, n, path, "wrong type");
    if (cJSON_IsArray(type)) {
        int any = 0;
        for (const cJSON *t = type->child; t != NULL; t = t->next)
            any |= cJSON_IsString(t) && type_is(t->valuestring, v);
        if (!any)
            return fail_at(why, n, path, "wrong type");
    }
    const cJSON *enumeration = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (cJSON_IsArray(enumeration)) {
        int any = 0;
        for (const cJSON *e = enumeration->child; e != NULL; e = e->next)
            any |= cJSON_Compare(e, v, 1);
        if (!any)
            return fail_at(why, n, path, "not one of the enum values");
    }
    const cJSON *minimum = cJSON_GetObjectItemCaseSensitive(s, "minimum");
    if (cJSON_IsNumber(minimum) && cJSON_IsNumber(v) && v->valuedouble < minimum->valuedouble)
        return fail_at(why, n, path, "below minimum");
    if (cJSON_IsObject(v)) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
        for (const cJSON *r = req != NULL ? req->child : NULL; r != NULL; r = r->next)
            if (cJSON_IsString(r) && cJSON_GetObjectItemCaseSensitive(v, r->valuestring) == NULL) {
                snprintf(sub, sizeof sub, "%s.%s", path, r->valuestring);
                return fail_at(why, n, sub, "required but missing");
            }
        const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
        for (const cJSON *m = v->child; m != NULL; m = m->next) {
            const cJSON *ps =
                props != NULL ? cJSON_GetObjectItemCaseSensitive(props, m->string) : NULL;
            snprintf(sub, sizeof sub, "%s.%s", path, m->string);
            if (ps == NULL && cJSON_IsFalse(extra))
                return fail_at(why, n, sub, "not in the schema");
            if (ps == NULL && cJSON_IsObject(extra) && !check(extra, m, sub, why, n))
                return 0;
            if (ps != NULL && !check(ps, m, sub, why, n))
                return 0;
        }
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    if (cJSON_IsArray(v) && cJSON_IsObject(items)) {
        int i = 0;
        for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
            snprintf(sub, sizeof sub, "%s.%d", path, i);
            if (!check(items, e, sub, why, n))
                return 0;
        }
    }
    return 1;
}

cJSON *hws_schema_load(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/schemas/%s", getenv("HWSCOPE_SOURCE_DIR"), name);
    char *text = hws_read_file(path);
    cJSON *schema = cJSON_Parse(text);
    free(text);
    if (schema == NULL) {
        fprintf(stderr, "%s: not JSON\n", path);
        fail();
    }
    return schema;
}

int hws_schema_check(const cJSON *schema, const cJSON *doc, char *why, size_t why_len) {
    return check(schema, doc, "", why, why_len);
}

void hws_assert_schema(const cJSON *schema, const cJSON *doc) {
    char why[600];
    if (!hws_schema_check(schema, doc, why, sizeof why)) {
        fprintf(stderr, "schema violation: %s\n", why);
        fail();
    }
}
