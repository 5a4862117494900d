/* bench.h - the two printers of a benchmark result: an aligned table and one JSON
 * document (schema "hwscope.bench/1"). */
#ifndef HWSCOPE_REPORT_BENCH_H
#define HWSCOPE_REPORT_BENCH_H

#include "hwscope/bench.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* The whole result as a JSON document; each record carries the fingerprint and the NVML samples
 * taken while it ran. NULL when out of memory. */
cJSON *hws_bench_json(const hws_bench_result *r, const char *const *suites, int nsuites,
                      bool quick);
/* The result as tables on out: figures, then GPU state and peak derivations. */
void hws_bench_print(const hws_bench_result *r, FILE *out);

/* `hwscope bench llm` output formats, each walking the one field table of hws_llm_record. */
typedef enum { HWS_LLM_OUT_MD, HWS_LLM_OUT_CSV, HWS_LLM_OUT_JSON, HWS_LLM_OUT_JSONL } hws_llm_out;
/* "md", "csv", "json", "jsonl" into *out; false when text is none of them. */
bool hws_llm_out_parse(const char *text, hws_llm_out *out);
/* Writes the result's llm rows to out in one format. Returns 0, or -1 when a document could
 * not be built (out of memory; nothing is written then) or out has an error. */
int hws_llm_print(const hws_bench_result *r, hws_llm_out fmt, FILE *out);

#endif
