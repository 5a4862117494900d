/* json_keys.h - JSON read as Python's json module (and so transformers) reads it: one whole
 * document, nothing after it but blanks, and the last value of a duplicated key wins. */
#ifndef HWSCOPE_UTIL_JSON_KEYS_H
#define HWSCOPE_UTIL_JSON_KEYS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Removes from every object in item (recursively) each member whose key appears again later in
 * the same object, so a lookup finds the last value. Sorts the keys of each object once: linear
 * up to a log factor, whatever the count of duplicates. false when out of memory. */
bool hws_json_keep_last_keys(cJSON *item);

/* Parses text (len bytes, need not be NUL-terminated) as exactly one JSON document followed by
 * nothing but blanks, duplicate keys resolved as hws_json_keep_last_keys does. NULL when it is
 * not, with *error_offset the byte at fault and *trailing true when a valid document was
 * followed by more (a second document, garbage); NULL with *error_offset == len and
 * *trailing false also when out of memory. */
cJSON *hws_json_parse_whole(const char *text, size_t len, size_t *error_offset, bool *trailing);

#endif
