/* info.h - the machine's facts as `hwscope info` shows them: the record the probes fill (CPU,
 * memory, GPUs) and its text and JSON renderings. */
#ifndef HWSCOPE_REPORT_INFO_H
#define HWSCOPE_REPORT_INFO_H

#include "hwscope/probe.h"

#include <cjson/cJSON.h>

typedef struct {
    hws_cpu_info cpu;
    hws_mem_info mem;
    hws_gpu_list gpus;
} hws_info;

/* CPU, caches, ISA features, memory and GPUs (with health and processes) as tables on stdout. */
void hws_info_print_text(const hws_info *info);
/* The hwscope.info/1 document; NULL when out of memory. */
cJSON *hws_info_json(const hws_info *info);

#endif
