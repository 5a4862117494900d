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

#endif
