/* info.h - the facts `hwscope info` gathers, shared with the report command. */
#ifndef HWSCOPE_CLI_INFO_H
#define HWSCOPE_CLI_INFO_H

#include "hwscope/probe.h"
#include "hwscope/topology.h"
#include "report/fields.h"

#include <cjson/cJSON.h>

typedef struct {
    hws_cpu_info cpu;
    hws_mem_info mem;
    hws_gpu_list gpus;
} hws_info;

/* Probes the CPU, memory and GPUs into a new hws_info (free it). NULL after printing
 * "hwscope CMD: why" on stderr, with *rc the exit status (2: bad input such as a sysroot, 1). */
hws_info *hws_info_gather(const char *cmd, int *rc);
void hws_info_print_text(const hws_info *info);
/* The hwscope.info/1 document; NULL when out of memory. */
cJSON *hws_info_json(const hws_info *info);
/* One column per GPU, one row per field: count records of stride bytes from recs, each holding
 * its GPU index (an int) and its notes (hws_notes) at the offsets given. */
void hws_print_gpu_columns(const hws_field *fields, size_t nfields, const void *recs, size_t stride,
                           int count, size_t index_offset, size_t notes_offset);
/* The GPU link topology (info_topology.c): as text on stdout, and as the "topology" object of
 * hwscope.info/1 (NULL when out of memory). */
void hws_topology_print_text(const hws_topology *topo);
cJSON *hws_topology_json(const hws_topology *topo);

#endif
