/* bench_transformer.h - the transformer benchmark's result (hwscope/bench_transformer.h) as a
 * table beside the guide's figures, and as the hwscope.bench.transformer/1 document. */
#ifndef HWSCOPE_REPORT_BENCH_TRANSFORMER_H
#define HWSCOPE_REPORT_BENCH_TRANSFORMER_H

#include "hwscope/bench_transformer.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* The document; NULL when out of memory. */
cJSON *hws_tfm_bench_json(const hws_tfm_bench_result *r);
void hws_tfm_bench_print(FILE *out, const hws_tfm_bench_result *r);

#endif
