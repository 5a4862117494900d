/* catalogs.h - the field tables of the GPU, model and CPU catalogs (data/gpus.tsv,
 * data/models.tsv, data/cpus.tsv), shared by the loaders, `hwscope catalog` (tables and JSON) and
 * the fuzz target. */
#ifndef HWSCOPE_PLAN_CATALOGS_H
#define HWSCOPE_PLAN_CATALOGS_H

#include "plan/tsv.h"

extern const hws_tsv_schema hws_gpu_schema;   /* rows are hws_gpu_spec */
extern const hws_tsv_schema hws_model_schema; /* rows are hws_model_spec */
extern const hws_tsv_schema hws_cpu_schema;   /* rows are hws_cpu_row */

/* One CPU host of data/cpus.tsv (units as the file's header comment states). */
typedef struct {
    char name[64];
    char vendor[16];
    double cores;
    double mem_bytes;
    double mem_channels;
    double mem_mts;
    double mem_bw_gbps;
    double fp32_tflops;
    double price_usd;
    char price_date[12];
    double cloud_usd_per_hour;
    char source[320];
} hws_cpu_row;

/* The CPU catalog's rows (built in), and the row named name, or whose name the text contains
 * ("AMD EPYC 9654 96-Core Processor" finds "EPYC 9654"); NULL when none. */
const hws_cpu_row *hws_cpu_catalog(size_t *count);
const hws_cpu_row *hws_cpu_catalog_find(const char *name);

#endif
