/* json.c - JSON documents with null for unknown facts and a schema name at the top. */
#include "report/json.h"
#include "util/text.h"

#include "hwscope/hwscope.h"
#include "util/units.h"

#include <stdlib.h>

cJSON *hws_json_doc(const char *schema) {
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return NULL;
    cJSON_AddStringToObject(doc, "schema", schema);
    cJSON_AddStringToObject(doc, "hwscope_version", hws_version());
    cJSON_AddStringToObject(doc, "build_commit", hws_build_commit());
    return doc;
}

cJSON *hws_json_num(cJSON *obj, const char *key, double value) {
    if (!hws_known(value) || isinf(value))
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddNumberToObject(obj, key, value);
}

cJSON *hws_json_str(cJSON *obj, const char *key, const char *s) {
    if (s == NULL || s[0] == '\0')
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddStringToObject(obj, key, s);
}

cJSON *hws_json_tri(cJSON *obj, const char *key, int tri) {
    if (tri < 0)
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddBoolToObject(obj, key, tri != 0);
}

int hws_json_print(const cJSON *doc, FILE *out) {
    char *raw = cJSON_Print(doc);
    /* strings from files, folders and drivers may hold bytes that are not UTF-8, which strict
     * parsers reject: each becomes \ufffd here, the one way out of every JSON document */
    char *text = raw != NULL ? hws_text_clean(raw, HWS_TEXT_JSON) : NULL;
    cJSON_free(raw);
    if (text == NULL)
        return -1;
    int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF && fflush(out) == 0;
    free(text);
    return ok ? 0 : -1;
}
