/* info.c - `hwscope info`: CPU, memory and per-GPU facts with the derived peaks and the GPU link
 * topology (info_topology.c), as tables or as one JSON document (schema hwscope.info/1). The field
 * tables below feed both formats. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/info.h"
#include "hwscope/probe.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB (1.0 / HWS_GIB)

static const hws_field cpu_fields[] = {
    HWS_STR(hws_cpu_info, model, "model"),
    HWS_STR(hws_cpu_info, vendor, "vendor"),
    HWS_STR(hws_cpu_info, arch, "architecture"),
    HWS_NUM(hws_cpu_info, sockets, "sockets", 1, 0, ""),
    HWS_NUM(hws_cpu_info, cores, "cores", 1, 0, ""),
    HWS_NUM(hws_cpu_info, threads, "threads", 1, 0, ""),
    HWS_NUM(hws_cpu_info, numa_nodes, "NUMA nodes", 1, 0, ""),
    HWS_NUM(hws_cpu_info, usable_cpus, "usable CPUs", 1, 2, ""),
    HWS_NUM(hws_cpu_info, cgroup_cpu_quota, "cgroup CPU quota", 1, 2, "CPUs"),
    HWS_NUM(hws_cpu_info, base_mhz, "base clock", 1, 0, "MHz"),
    HWS_NUM(hws_cpu_info, max_mhz, "max clock", 1, 0, "MHz"),
    HWS_NUM(hws_cpu_info, cur_mhz, "clock now", 1, 0, "MHz"),
    HWS_NUM(hws_cpu_info, simd_width_bits, "SIMD width", 1, 0, "bit"),
    HWS_NUM(hws_cpu_info, fma_units_per_core, "FMA units per core (assumed)", 1, 0, ""),
    HWS_NUM(hws_cpu_info, fp32_peak_gflops, "FP32 peak (derived)", 1, 0, "GFLOP/s"),
};

static const hws_field isa_fields[] = {
    HWS_TRI(hws_cpu_info, has_fma, "FMA"),
    HWS_TRI(hws_cpu_info, has_avx2, "AVX2"),
    HWS_TRI(hws_cpu_info, has_avx512f, "AVX-512F"),
    HWS_TRI(hws_cpu_info, has_avx512_bf16, "AVX-512 BF16"),
    HWS_TRI(hws_cpu_info, has_avx512_vnni, "AVX-512 VNNI"),
    HWS_TRI(hws_cpu_info, has_avx512_fp16, "AVX-512 FP16"),
    HWS_TRI(hws_cpu_info, has_amx_tile, "AMX tile"),
    HWS_TRI(hws_cpu_info, has_amx_bf16, "AMX BF16"),
    HWS_TRI(hws_cpu_info, has_amx_int8, "AMX INT8"),
    HWS_TRI(hws_cpu_info, has_neon, "NEON"),
    HWS_TRI(hws_cpu_info, has_sve, "SVE"),
    HWS_TRI(hws_cpu_info, has_sve2, "SVE2"),
};

static const hws_field cache_fields[] = {
    HWS_NUM(hws_cache_info, size_bytes, "size", 1.0 / 1024, 0, "KiB"),
    HWS_NUM(hws_cache_info, instances, "instances", 1, 0, ""),
    HWS_NUM(hws_cache_info, shared_by_cpus, "shared by CPUs", 1, 0, ""),
};

static const hws_field mem_fields[] = {
    HWS_NUM(hws_mem_info, total_bytes, "total", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, available_bytes, "available", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, swap_total_bytes, "swap", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, cgroup_limit_bytes, "cgroup limit", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, cgroup_usage_bytes, "cgroup usage", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, hugepages_total, "huge pages", 1, 0, ""),
    HWS_NUM(hws_mem_info, hugepages_free, "huge pages free", 1, 0, ""),
    HWS_NUM(hws_mem_info, hugepage_size_bytes, "huge page size", 1.0 / 1024, 0, "KiB"),
    HWS_STR(hws_mem_info, dimm_type, "DIMM type"),
    HWS_NUM(hws_mem_info, dimm_speed_mts, "DIMM speed", 1, 0, "MT/s"),
};

static const hws_field gpu_fields[] = {
    HWS_STR(hws_gpu_info, name, "name"),
    HWS_STR(hws_gpu_info, uuid, "UUID"),
    HWS_STR(hws_gpu_info, pci_bus_id, "PCI bus id"),
    HWS_STR(hws_gpu_info, serial, "serial"),
    HWS_NUM(hws_gpu_info, mem_total_bytes, "memory total", GIB, 1, "GiB"),
    HWS_NUM(hws_gpu_info, mem_used_bytes, "memory used", GIB, 1, "GiB"),
    HWS_NUM(hws_gpu_info, mem_free_bytes, "memory free", GIB, 1, "GiB"),
    HWS_NUM(hws_gpu_info, cc_major, "compute capability major", 1, 0, ""),
    HWS_NUM(hws_gpu_info, cc_minor, "compute capability minor", 1, 0, ""),
    HWS_NUM(hws_gpu_info, sm_count, "SMs", 1, 0, ""),
    HWS_NUM(hws_gpu_info, max_sm_clock_mhz, "max SM clock", 1, 0, "MHz"),
    HWS_NUM(hws_gpu_info, max_mem_clock_mhz, "max memory clock", 1, 0, "MHz"),
    HWS_NUM(hws_gpu_info, cur_sm_clock_mhz, "SM clock now", 1, 0, "MHz"),
    HWS_NUM(hws_gpu_info, cur_mem_clock_mhz, "memory clock now", 1, 0, "MHz"),
    HWS_NUM(hws_gpu_info, mem_bus_width_bits, "memory bus width", 1, 0, "bit"),
    HWS_NUM(hws_gpu_info, l2_bytes, "L2 cache", 1.0 / 1048576, 0, "MiB"),
    HWS_NUM(hws_gpu_info, mem_bw_theoretical_gbps, "memory bandwidth (derived)", 1, 0, "GB/s"),
    HWS_NUM(hws_gpu_info, pcie_gen_cur, "PCIe generation now", 1, 0, ""),
    HWS_NUM(hws_gpu_info, pcie_gen_max, "PCIe generation max", 1, 0, ""),
    HWS_NUM(hws_gpu_info, pcie_width_cur, "PCIe width now", 1, 0, "lanes"),
    HWS_NUM(hws_gpu_info, pcie_width_max, "PCIe width max", 1, 0, "lanes"),
    HWS_NUM(hws_gpu_info, nvlink_links_active, "NVLink links active", 1, 0, ""),
    HWS_NUM(hws_gpu_info, power_limit_w, "power limit", 1, 0, "W"),
    HWS_NUM(hws_gpu_info, default_power_limit_w, "default power limit (TDP)", 1, 0, "W"),
    HWS_NUM(hws_gpu_info, power_draw_w, "power draw", 1, 0, "W"),
    HWS_NUM(hws_gpu_info, temperature_c, "temperature", 1, 0, "C"),
    HWS_NUM(hws_gpu_info, util_gpu_pct, "utilisation", 1, 0, "%"),
    HWS_NUM(hws_gpu_info, util_mem_pct, "memory utilisation", 1, 0, "%"),
    HWS_TRI(hws_gpu_info, ecc_enabled, "ECC"),
    HWS_TRI(hws_gpu_info, mig_enabled, "MIG"),
    HWS_TRI(hws_gpu_info, persistence_enabled, "persistence mode"),
};

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
static void print_record(const hws_field *fields, size_t n, const void *rec,
                         const hws_notes *notes) {
    hws_table *t = hws_table_new(2, (const char *[]){"fact", "value"});
    for (size_t i = 0; t != NULL && i < n; i++) {
        char cell[256];
        hws_table_row(t, (const char *[]){fields[i].label, hws_field_text(cell, sizeof cell,
                                                                          &fields[i], rec, notes)});
    }
    if (t != NULL)
        hws_table_print(t, stdout);
    hws_table_free(t);
}

static void print_cpu(const hws_cpu_info *cpu) {
    hws_print_heading(stdout, "CPU");
    print_record(cpu_fields, COUNT(cpu_fields), cpu, &cpu->notes);
    hws_print_heading(stdout, "CPU caches");
    hws_table *t =
        hws_table_new(5, (const char *[]){"level", "type", "size", "instances", "shared by CPUs"});
    for (int i = 0; t != NULL && i < cpu->ncaches; i++) {
        const hws_cache_info *c = &cpu->caches[i];
        char level[8], size[32], inst[32], shared[32];
        snprintf(level, sizeof level, "L%d", c->level);
        hws_fmt_bytes(size, sizeof size, c->size_bytes);
        hws_table_row(
            t, (const char *[]){level, c->type, size,
                                hws_field_text(inst, sizeof inst, &cache_fields[1], c, NULL),
                                hws_field_text(shared, sizeof shared, &cache_fields[2], c, NULL)});
    }
    if (t != NULL)
        hws_table_print(t, stdout);
    hws_table_free(t);
    hws_print_heading(stdout, "CPU features for inference");
    print_record(isa_fields, COUNT(isa_fields), cpu, &cpu->notes);
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
        printf("no GPU information: %s\n", list->why_none);
        return;
    }
    hws_print_gpu_columns(gpu_fields, COUNT(gpu_fields), list->gpus, sizeof list->gpus[0],
                          list->count, offsetof(hws_gpu_info, index),
                          offsetof(hws_gpu_info, notes));
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
    print_record(mem_fields, COUNT(mem_fields), &info->mem, &info->mem.notes);
    print_gpus(&info->gpus);
}

static cJSON *cpu_json(const hws_cpu_info *cpu) {
    cJSON *o = cJSON_CreateObject();
    hws_fields_json(o, cpu_fields, COUNT(cpu_fields), cpu);
    cJSON *caches = cJSON_AddArrayToObject(o, "caches");
    for (int i = 0; i < cpu->ncaches; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "level", cpu->caches[i].level);
        cJSON_AddStringToObject(c, "type", cpu->caches[i].type);
        hws_fields_json(c, cache_fields, COUNT(cache_fields), &cpu->caches[i]);
        cJSON_AddItemToArray(caches, c);
    }
    cJSON *isa = cJSON_AddObjectToObject(o, "isa");
    hws_fields_json(isa, isa_fields, COUNT(isa_fields), cpu);
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
        hws_fields_json(d, gpu_fields, COUNT(gpu_fields), g);
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
        hws_notes_json(d, "unavailable", &g->notes);
        cJSON_AddItemToArray(devices, d);
    }
    return o;
}

cJSON *hws_info_json(const hws_info *info) {
    cJSON *doc = hws_json_doc("hwscope.info/1");
    if (doc == NULL)
        return NULL;
    cJSON_AddItemToObject(doc, "cpu", cpu_json(&info->cpu));
    cJSON *mem = cJSON_AddObjectToObject(doc, "memory");
    hws_fields_json(mem, mem_fields, COUNT(mem_fields), &info->mem);
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
