/* health.h - GPU health verdicts (hws_gpu_health) as text and JSON, the same words in both. */
#ifndef HWSCOPE_REPORT_HEALTH_H
#define HWSCOPE_REPORT_HEALTH_H

#include "hwscope/probe.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* "ok", or "warning: clocks held back: ...; PCIe gen3 x8, ..." (every reason, worst first). */
char *hws_gpu_health_text(char *buf, size_t n, const hws_gpu_health *h);
/* {"level": "warning", "reasons": [{"key": "pcie_link", "level": "warning", "text": ...}]} */
cJSON *hws_gpu_health_json(const hws_gpu_health *h);
/* The MIG instances of g as a JSON array (empty when MIG is off). */
cJSON *hws_mig_json(const hws_gpu_info *g);

#endif
