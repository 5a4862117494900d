/* figures.h - the report's quick figures (memory bandwidth and best matrix rate per device):
 * taken from a benchmark run, saved per hardware fingerprint, read back within a day. */
#ifndef HWSCOPE_REPORT_FIGURES_H
#define HWSCOPE_REPORT_FIGURES_H

#include "report/report_model.h"

/* r's figures from a quick bench run of suites mem and gemm. */
void hws_report_figures_from_bench(const hws_bench_result *b, hws_report *r);
/* The figures as a JSON array (the report's "measured.figures" and the saved file's). */
cJSON *hws_report_figures_json(const hws_report *r);
/* The saved file for r's hardware: DIR/report-figures-<fingerprint id>.json. */
void hws_report_figures_file(const hws_report *r, const char *dir, char *buf, size_t n);
/* Writes r's figures there (temporary file + rename). */
hws_status hws_report_figures_save(const hws_report *r, const char *path, hws_error *err);

#endif
