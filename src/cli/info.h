/* info.h - gathering the facts `hwscope info` shows (shared with the report command); the record
 * and its renderings are report/info.h. */
#ifndef HWSCOPE_CLI_INFO_H
#define HWSCOPE_CLI_INFO_H

#include "hwscope/probe.h"
#include "hwscope/topology.h"
#include "report/info.h"

#include <cjson/cJSON.h>

/* Probes the CPU, memory and GPUs into a new hws_info (free it). NULL after printing
 * "hwscope CMD: why" on stderr, with *rc the exit status (2: bad input such as a sysroot, 1). */
hws_info *hws_info_gather(const char *cmd, int *rc);
/* The GPU link topology (info_topology.c): as text on stdout, and as the "topology" object of
 * hwscope.info/1 (NULL when out of memory). */
void hws_topology_print_text(const hws_topology *topo);
cJSON *hws_topology_json(const hws_topology *topo);

#endif
