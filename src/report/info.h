/* info.h - the machine's facts as `hwscope info` shows them: the record the probes fill (CPU,
 * memory, GPUs) and its text and JSON renderings. */
#ifndef HWSCOPE_REPORT_INFO_H
#define HWSCOPE_REPORT_INFO_H

#include "hwscope/probe.h"
#include "report/fields.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
    hws_cpu_info cpu;
    hws_mem_info mem;
    hws_gpu_list gpus;
} hws_info;

/* CPU, caches, ISA features, memory and GPUs (with health and processes) as tables on stdout. */
void hws_info_print_text(const hws_info *info);
/* The hwscope.info/1 document; NULL when out of memory. */
cJSON *hws_info_json(const hws_info *info);
/* One column per GPU, one row per field: count records of stride bytes from recs, each holding
 * its GPU index (an int) and its notes (hws_notes) at the offsets given. */
void hws_print_gpu_columns(const hws_field *fields, size_t nfields, const void *recs, size_t stride,
                           int count, size_t index_offset, size_t notes_offset);

#endif
