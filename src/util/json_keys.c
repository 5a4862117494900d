/* json_keys.c - keep the last value of a duplicated JSON key, as Python does. */
#include "util/json_keys.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key;
    size_t index; /* position in the object: the larger one of equal keys is kept */
    cJSON *item;
} keyed_member;

static int by_key_then_position(const void *pa, const void *pb) {
    const keyed_member *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c != 0)
        return c;
    return a->index < b->index ? -1 : (a->index > b->index ? 1 : 0);
}

bool hws_json_keep_last_keys(cJSON *item) {
    size_t n = 0;
    for (cJSON *c = item->child; c != NULL; c = c->next, n++)
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !hws_json_keep_last_keys(c))
            return false;
    if (!cJSON_IsObject(item) || n < 2)
        return true;
    keyed_member *members = malloc(n * sizeof *members);
    if (members == NULL)
        return false;
    size_t i = 0;
    for (cJSON *c = item->child; c != NULL; c = c->next, i++)
        members[i] = (keyed_member){c->string != NULL ? c->string : "", i, c};
    qsort(members, n, sizeof *members, by_key_then_position);
    for (i = 0; i + 1 < n; i++)
        if (strcmp(members[i].key, members[i + 1].key) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(item, members[i].item));
    free(members);
    return true;
}

cJSON *hws_json_parse_whole(const char *text, size_t len, size_t *error_offset, bool *trailing) {
    const char *end = NULL;
    *trailing = false;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (doc == NULL) {
        *error_offset = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        return NULL;
    }
    size_t rest = (size_t)(end - text);
    while (rest < len && text[rest] != '\0' && strchr(" \t\r\n", text[rest]) != NULL)
        rest++;
    if (rest < len) { /* a second document, or garbage after the first */
        cJSON_Delete(doc);
        *error_offset = rest;
        *trailing = true;
        return NULL;
    }
    if (!hws_json_keep_last_keys(doc)) {
        cJSON_Delete(doc);
        *error_offset = len;
        return NULL;
    }
    return doc;
}
