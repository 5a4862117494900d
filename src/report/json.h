/* json.h - JSON output helpers over cJSON: unknown numbers and empty strings become null,
 * and a document is printed whole or not at all. */
#ifndef HWSCOPE_REPORT_JSON_H
#define HWSCOPE_REPORT_JSON_H

#include "hwscope/bench.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* A new document {"schema": schema, "hwscope_version", "build_commit", "time_utc", "hostname",
 * "fingerprint": {..., "id"}}, the fingerprint of this machine as probed now (CPU and GPUs). */
cJSON *hws_json_doc(const char *schema);
/* The same with a fingerprint the caller has (a benchmark run's, or one filled from facts it
 * probed already): time_utc and hostname are the fingerprint's. */
cJSON *hws_json_doc_for(const char *schema, const hws_bench_fingerprint *fp);
/* The fingerprint as a JSON object, with its hardware id (hws_fingerprint_id) under "id". */
cJSON *hws_fingerprint_json(const hws_bench_fingerprint *fp);
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
