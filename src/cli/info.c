/* info.c - `hwscope info`: CPU, memory and per-GPU facts with the derived peaks and the GPU link
 * topology (info_topology.c), as tables or as one JSON document (schema hwscope.info/1). The field
 * tables below feed both formats. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/info.h"
#include "hwscope/probe.h"
#include "report/fields.h"
#include "report/health.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

hws_info *hws_info_gather(const char *cmd, int *rc) {
    hws_info *info = calloc(1, sizeof *info);
    if (info == NULL) {
        fprintf(stderr, "hwscope %s: out of memory\n", cmd);
        *rc = 1;
        return NULL;
    }
    hws_error err = {""};
    hws_status st = hws_probe_cpu(&info->cpu, &err);
    if (st == HWS_OK)
        st = hws_probe_mem(&info->mem, &err);
    if (st == HWS_OK)
        st = hws_probe_gpus(&info->gpus, &err);
    if (st == HWS_OK)
        return info;
    fprintf(stderr, "hwscope %s: %s\n", cmd, err.msg);
    free(info);
    *rc = st == HWS_ERR_INPUT ? 2 : 1;
    return NULL;
}

/* A two-column table of the fields of one record. */
static void print_record(const hws_field_table *table, const void *rec, const hws_notes *notes) {
    hws_record_print(stdout, table->fields, table->nfields, rec, notes);
}

static void print_cpu(const hws_cpu_info *cpu) {
    hws_print_heading(stdout, "CPU");
    print_record(&hws_cpu_info_table, cpu, &cpu->notes);
    hws_print_heading(stdout, "CPU caches");
    hws_table *t =
        hws_table_new(5, (const char *[]){"level", "type", "size", "instances", "shared by CPUs"});
    const hws_field *instances = hws_field_find(&hws_cache_info_table, "instances");
    const hws_field *shared_by = hws_field_find(&hws_cache_info_table, "shared_by_cpus");
    for (int i = 0; t != NULL && i < cpu->ncaches; i++) {
        const hws_cache_info *c = &cpu->caches[i];
        char level[8], size[32], inst[32], shared[32];
        snprintf(level, sizeof level, "L%d", c->level);
        hws_fmt_bytes(size, sizeof size, c->size_bytes);
        hws_table_row(t,
                      (const char *[]){level, c->type, size,
                                       hws_field_text(inst, sizeof inst, instances, c, NULL),
                                       hws_field_text(shared, sizeof shared, shared_by, c, NULL)});
    }
    if (t != NULL)
        hws_table_print(t, stdout);
    hws_table_free(t);
    hws_print_heading(stdout, "CPU features for inference");
    print_record(&hws_cpu_isa_table, cpu, &cpu->notes);
}

void hws_print_gpu_columns(const hws_field *fields, size_t nfields, const void *recs, size_t stride,
                           int count, size_t index_offset, size_t notes_offset) {
    const char *headers[HWS_MAX_GPUS + 1] = {"fact"};
    char names[HWS_MAX_GPUS][16];
    for (int i = 0; i < count && i < HWS_MAX_GPUS; i++) {
        int index;
        memcpy(&index, (const char *)recs + (size_t)i * stride + index_offset, sizeof index);
        snprintf(names[i], sizeof names[i], "GPU %d", index);
        headers[i + 1] = names[i];
    }
    hws_table *t = hws_table_new(count + 1, headers);
    if (t != NULL)
        hws_table_set_key_columns(t, 1); /* narrow terminals: GPUs in blocks beside the facts */
    for (size_t f = 0; t != NULL && f < nfields; f++) {
        char cells[HWS_MAX_GPUS][256];
        const char *row[HWS_MAX_GPUS + 1] = {fields[f].label};
        for (int i = 0; i < count && i < HWS_MAX_GPUS; i++) {
            const char *rec = (const char *)recs + (size_t)i * stride;
            row[i + 1] = hws_field_text(cells[i], sizeof cells[i], &fields[f], rec,
                                        (const hws_notes *)(const void *)(rec + notes_offset));
        }
        hws_table_row(t, row);
    }
    if (t != NULL)
        hws_table_print(t, stdout);
    hws_table_free(t);
}

static void print_gpus(const hws_gpu_list *list) {
    char title[160];
    snprintf(title, sizeof title, "GPUs: %d (driver %s, CUDA %s)", list->count,
             list->driver_version[0] ? list->driver_version : "n/a",
             list->cuda_version[0] ? list->cuda_version : "n/a");
    hws_print_heading(stdout, title);
    if (list->count == 0) {
        hws_print_line(stdout, "no GPU information: %s", list->why_none);
        return;
    }
    hws_print_gpu_columns(hws_gpu_info_table.fields, hws_gpu_info_table.nfields, list->gpus,
                          sizeof list->gpus[0], list->count, offsetof(hws_gpu_info, index),
                          offsetof(hws_gpu_info, notes));
    for (int i = 0; i < list->count; i++) {
        hws_gpu_health health;
        char text[1024];
        hws_gpu_health_judge(&list->gpus[i], &health);
        printf("GPU %d health: %s\n", list->gpus[i].index,
               hws_gpu_health_text(text, sizeof text, &health));
    }
    for (int i = 0; i < list->count; i++)
        if (list->gpus[i].lost)
            printf("GPU %d: lost (fell off the bus or stopped answering); its facts are n/a\n",
                   list->gpus[i].index);
    hws_print_heading(stdout, "GPU processes");
    hws_table *t = hws_table_new(4, (const char *[]){"GPU", "pid", "name", "memory"});
    for (int i = 0; t != NULL && i < list->count; i++) {
        const hws_gpu_info *g = &list->gpus[i];
        if (g->nprocs < 0) {
            const char *why = hws_notes_find(&g->notes, "processes");
            hws_table_rowf(t, "%d\tn/a\t%s\t", g->index, why != NULL ? why : "n/a");
        }
        for (int p = 0; p < g->nprocs; p++) {
            char mem[32];
            hws_table_rowf(
                t, "%d\t%.0f\t%s\t%s", g->index, g->procs[p].pid,
                g->procs[p].name[0] ? g->procs[p].name : "n/a",
                hws_fmt_num(mem, sizeof mem, g->procs[p].used_bytes / 1048576, 0, "MiB"));
        }
    }
    if (t != NULL)
        hws_table_print(t, stdout);
    hws_table_free(t);
}

void hws_info_print_text(const hws_info *info) {
    print_cpu(&info->cpu);
    hws_print_heading(stdout, "Memory");
    print_record(&hws_mem_info_table, &info->mem, &info->mem.notes);
    print_gpus(&info->gpus);
}

static cJSON *cpu_json(const hws_cpu_info *cpu) {
    cJSON *o = cJSON_CreateObject();
    hws_record_json(o, &hws_cpu_info_table, cpu, false);
    cJSON *caches = cJSON_AddArrayToObject(o, "caches");
    for (int i = 0; i < cpu->ncaches; i++) {
        cJSON *c = cJSON_CreateObject();
        hws_record_json(c, &hws_cache_info_table, &cpu->caches[i], false);
        cJSON_AddItemToArray(caches, c);
    }
    cJSON *isa = cJSON_AddObjectToObject(o, "isa");
    hws_record_json(isa, &hws_cpu_isa_table, cpu, false);
    hws_notes_json(o, "unavailable", &cpu->notes);
    return o;
}

static cJSON *gpus_json(const hws_gpu_list *list) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "cuda_available", list->count > 0 && list->cuda_version[0] != '\0');
    cJSON_AddNumberToObject(o, "count", list->count);
    hws_json_str(o, "driver_version", list->driver_version);
    hws_json_str(o, "nvml_version", list->nvml_version);
    hws_json_num(o, "cuda_driver_version", list->cuda_driver_version);
    hws_json_str(o, "cuda_version", list->cuda_version);
    hws_json_str(o, "why_none", list->count == 0 ? list->why_none : "");
    cJSON *devices = cJSON_AddArrayToObject(o, "devices");
    for (int i = 0; i < list->count; i++) {
        const hws_gpu_info *g = &list->gpus[i];
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "index", g->index);
        hws_json_str(d, "vendor", g->vendor);
        cJSON_AddBoolToObject(d, "lost", g->lost);
        hws_record_json(d, &hws_gpu_info_table, g, false);
        if (g->nprocs < 0) {
            cJSON_AddNullToObject(d, "processes");
        } else {
            cJSON *procs = cJSON_AddArrayToObject(d, "processes");
            for (int p = 0; p < g->nprocs; p++) {
                cJSON *pr = cJSON_CreateObject();
                hws_json_num(pr, "pid", g->procs[p].pid);
                hws_json_str(pr, "name", g->procs[p].name);
                hws_json_num(pr, "used_bytes", g->procs[p].used_bytes);
                cJSON_AddItemToArray(procs, pr);
            }
        }
        hws_gpu_health health;
        hws_gpu_health_judge(g, &health);
        cJSON_AddItemToObject(d, "health", hws_gpu_health_json(&health));
        cJSON_AddItemToObject(d, "mig_instances", hws_mig_json(g));
        hws_notes_json(d, "unavailable", &g->notes);
        cJSON_AddItemToArray(devices, d);
    }
    return o;
}

cJSON *hws_info_json(const hws_info *info) {
    hws_bench_fingerprint fp; /* from the facts at hand: no second probe */
    hws_fingerprint_fill(&fp, &info->cpu, &info->gpus);
    cJSON *doc = hws_json_doc_for("hwscope.info/1", &fp);
    if (doc == NULL)
        return NULL;
    cJSON_AddItemToObject(doc, "cpu", cpu_json(&info->cpu));
    cJSON *mem = cJSON_AddObjectToObject(doc, "memory");
    hws_record_json(mem, &hws_mem_info_table, &info->mem, false);
    hws_notes_json(mem, "unavailable", &info->mem.notes);
    cJSON_AddItemToObject(doc, "gpus", gpus_json(&info->gpus));
    return doc;
}

int cmd_info(int argc, char **argv) {
    bool json = false;
    const char *pos[1];
    int npos;
    const hws_opt opts[] = {{"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"}};
    int rc = hws_args_parse("info", "[--json]", argc, argv, opts, COUNT(opts), pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    hws_info *info = hws_info_gather("info", &rc);
    if (info == NULL)
        return rc;
    hws_error err = {""};
    hws_topology *topo = calloc(1, sizeof *topo);
    if (topo == NULL || hws_probe_topology(topo, &err) != HWS_OK) {
        fprintf(stderr, "hwscope info: %s\n", topo == NULL ? "out of memory" : err.msg);
        free(topo);
        free(info);
        return 1;
    }
    if (json) {
        cJSON *doc = hws_info_json(info);
        if (doc != NULL)
            cJSON_AddItemToObject(doc, "topology", hws_topology_json(topo));
        rc = hws_json_emit("info", doc);
    } else {
        hws_info_print_text(info);
        hws_topology_print_text(topo);
        rc = 0;
    }
    free(topo);
    free(info);
    return rc;
}
