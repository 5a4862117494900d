/* json_keys.h - duplicate keys in parsed JSON resolved as Python's json module (and so
 * transformers) resolves them: the last value of a key wins. */
#ifndef HWSCOPE_UTIL_JSON_KEYS_H
#define HWSCOPE_UTIL_JSON_KEYS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Removes from every object in item (recursively) each member whose key appears again later in
 * the same object, so a lookup finds the last value. Sorts the keys of each object once: linear
 * up to a log factor, whatever the count of duplicates. false when out of memory. */
bool hws_json_keep_last_keys(cJSON *item);

#endif
