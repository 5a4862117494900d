/* json.h - JSON output helpers over cJSON: unknown numbers and empty strings become null,
 * and a document is printed whole or not at all. */
#ifndef HWSCOPE_REPORT_JSON_H
#define HWSCOPE_REPORT_JSON_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* A new document {"schema": schema, "hwscope_version": ..., "build_commit": ...}. */
cJSON *hws_json_doc(const char *schema);
/* Adds value, or null when it is HWS_NA. Returns the added item (NULL: out of memory). */
cJSON *hws_json_num(cJSON *obj, const char *key, double value);
/* Adds s, or null when s is NULL or empty. */
cJSON *hws_json_str(cJSON *obj, const char *key, const char *s);
/* Adds true/false, or null when tri is negative. */
cJSON *hws_json_tri(cJSON *obj, const char *key, int tri);
/* Prints the document formatted, with a trailing newline, and flushes out. Returns 0, or -1
 * when it could not be serialised (nothing is printed then) or written (ferror(out) is set). */
int hws_json_print(const cJSON *doc, FILE *out);

#endif
