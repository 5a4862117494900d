/* catalogs.h - the field tables of the GPU and model catalogs (data/gpus.tsv, data/models.tsv),
 * shared by the loaders, `hwscope catalog` (tables and JSON) and the fuzz target. */
#ifndef HWSCOPE_PLAN_CATALOGS_H
#define HWSCOPE_PLAN_CATALOGS_H

#include "format/tsv.h"

extern const hws_tsv_schema hws_gpu_schema;   /* rows are hws_gpu_spec */
extern const hws_tsv_schema hws_model_schema; /* rows are hws_model_spec */

#endif
