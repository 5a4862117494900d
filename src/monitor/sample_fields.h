/* sample_fields.h - the one descriptor table of a monitor sample, and the renderings built on it:
 * nvidia-smi's --query-gpu CSV, JSON lines, the Prometheus text format and the labels of
 * `hwscope top`. A field added to the table appears in every output at once.
 *
 * Each GPU field has hwscope's key (JSON, units in the name: "mem_used_bytes"), nvidia-smi's name
 * and unit where nvidia-smi has the field ("memory.used", "MiB": header "memory.used [MiB]",
 * value "48681 MiB"), and dcgm-exporter's metric where it has one ("DCGM_FI_DEV_FB_USED", in
 * MiB). Host fields have hwscope's own metric names ("hwscope_host_cpu_busy_percent"). */
#ifndef HWSCOPE_MONITOR_SAMPLE_FIELDS_H
#define HWSCOPE_MONITOR_SAMPLE_FIELDS_H

#include "hwscope/monitor.h"
#include "report/fields.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    HWS_MON_PLAIN,  /* a number (or a string, for HWS_FIELD_STR) */
    HWS_MON_HEX,    /* "0x0000000000000044", as nvidia-smi prints bit masks */
    HWS_MON_PSTATE, /* "P0" */
    HWS_MON_TIME,   /* "2026/12/06 03:18:26.123" (local time), as nvidia-smi's timestamp */
    HWS_MON_YESNO   /* "Yes" (non-zero) or "No", as nvidia-smi prints a pending state */
} hws_mon_style;

typedef struct {
    hws_field f;          /* key, label (top), scale/decimals/unit for top's text */
    const char *smi;      /* nvidia-smi --query-gpu name; NULL when nvidia-smi has none */
    const char *smi_unit; /* NULL: printed bare */
    double smi_scale;     /* raw value * smi_scale is printed (0 means 1) */
    int smi_decimals;
    hws_mon_style style;
    const char *metric;      /* Prometheus metric name (dcgm-exporter's for GPUs); NULL: none */
    const char *metric_type; /* "gauge" or "counter" */
    double metric_scale;     /* raw value * metric_scale is exported (0 means 1) */
    const char *help;
} hws_mon_field;

extern const hws_mon_field hws_mon_gpu_fields[];
extern const size_t hws_mon_gpu_nfields;
extern const hws_mon_field hws_mon_host_fields[];
extern const size_t hws_mon_host_nfields;

/* The GPU field called name (nvidia-smi's name, an alias it accepts, or hwscope's key), or NULL. */
const hws_mon_field *hws_mon_gpu_field_find(const char *name);
/* The CSV header name of f: "memory.used [MiB]" (nvidia-smi keeps the unit under nounits too). */
void hws_mon_csv_header(char *buf, size_t n, const hws_mon_field *f);
/* f's value in g as nvidia-smi prints it: "48681 MiB" ("48681" when !units), "[N/A]" when
 * unknown, "[GPU is lost]" for a lost GPU's readings. */
void hws_mon_csv_value(char *buf, size_t n, const hws_mon_field *f, const hws_mon_gpu *g,
                       bool units);
/* f's value in rec as text for top ("48.7 GiB"), "n/a" when unknown. */
void hws_mon_text_value(char *buf, size_t n, const hws_mon_field *f, const void *rec);
/* Adds f's raw value in g to a JSON object under f's key (null when unknown). */
void hws_mon_json_value(cJSON *obj, const hws_mon_field *f, const hws_mon_gpu *g);

/* The names the exporter writes: dcgm-exporter's (DCGM_FI_DEV_FB_USED in MiB; labels gpu, UUID,
 * pci_bus_id, device, modelName, Hostname, as dashboards for it expect), or hwscope's own
 * (hwscope_gpu_mem_used_bytes from the field's key, raw units, counters ending in _total,
 * snake_case labels), which `promtool check metrics` passes without a lint remark. */
typedef enum { HWS_PROM_DCGM, HWS_PROM_HWSCOPE } hws_prom_names;

/* Writes the whole Prometheus text exposition of s to out. */
void hws_mon_prometheus(FILE *out, const hws_mon_sample *s, hws_prom_names names);

#endif
