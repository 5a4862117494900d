/* schema.h - a small JSON Schema checker for tests: the subset our schemas in docs/schemas/ use
 * (type — one name or a list, "integer" included —, required, properties, additionalProperties:
 * false, items, enum, minimum). Example:
 *   cJSON *schema = hws_schema_load("hwscope.info.1.json");  // from docs/schemas/
 *   hws_assert_schema(schema, doc); */
#ifndef HWSCOPE_TESTS_SCHEMA_H
#define HWSCOPE_TESTS_SCHEMA_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Loads $HWSCOPE_SOURCE_DIR/docs/schemas/<name>; fails the test when unreadable. */
cJSON *hws_schema_load(const char *name);
/* 1 when doc conforms; otherwise 0 with the path and reason of the first violation in why. */
int hws_schema_check(const cJSON *schema, const cJSON *doc, char *why, size_t why_len);
/* Fails the test, printing the violation, when doc does not conform. */
void hws_assert_schema(const cJSON *schema, const cJSON *doc);

#endif
