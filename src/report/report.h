/* report.h - the renderings of the report model (hwscope/report.h): the "what runs here" table
 * and its JSON object, both walking hws_report_row_table. */
#ifndef HWSCOPE_REPORT_REPORT_H
#define HWSCOPE_REPORT_REPORT_H

#include "hwscope/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* "What runs here" as a heading, the devices' basis, a table and the decode basis; without GPUs
 * the sentence saying where to go instead. */
void hws_report_print(FILE *out, const hws_report *r);
/* {"fit_against": ..., "models": [row, ...]}, or a JSON null without GPUs; NULL when out of
 * memory. */
cJSON *hws_report_json(const hws_report *r);

#endif
