/* gpu.c - the GPUs of this machine, from every vendor probe in the list below, and the derived
 * facts (theoretical memory bandwidth) computed the same way for all. */
#include "probe/gpu_vendor.h"
#include "util/units.h"

#include <stdlib.h>
#include <string.h>

static const hws_gpu_vendor *const vendors[] = {
    &hws_gpu_vendor_nvidia,
};

/* The field table of a GPU's facts. */
#define GIB (1.0 / HWS_GIB)
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
    HWS_NUM(hws_gpu_info, ecc_errors_corrected, "ECC errors corrected", 1, 0, ""),
    HWS_NUM(hws_gpu_info, ecc_errors_uncorrected, "ECC errors uncorrected", 1, 0, ""),
    HWS_NUM(hws_gpu_info, clock_event_reasons, "clock-event reasons mask", 1, 0, ""),
    HWS_STR(hws_gpu_info, clock_event_text, "clocks held by"),
};
const hws_field_table hws_gpu_info_table = HWS_FIELD_TABLE(hws_gpu_info, gpu_fields);

void hws_gpu_info_init(hws_gpu_info *g, int index) {
    hws_record_blank(&hws_gpu_info_table, g);
    g->index = index;
    g->nprocs = -1; /* the process list is unread */
}

/* Memory clock x 2 transfers per clock x bus width: NVML reports HBM and GDDR clocks so that
 * this gives the datasheet figure (H100 SXM: 2619 MHz x 2 x 5120 bit / 8 = 3352 GB/s). */
static void derive(hws_gpu_info *g) {
    g->mem_bw_theoretical_gbps = g->max_mem_clock_mhz * 1e6 * 2 * g->mem_bus_width_bits / 8 / 1e9;
}

hws_status hws_probe_gpus(hws_gpu_list *list, hws_error *err) {
    memset(list, 0, sizeof *list);
    list->cuda_driver_version = HWS_NA;
    for (size_t v = 0; v < sizeof vendors / sizeof vendors[0]; v++) {
        hws_status st = vendors[v]->list(list, err);
        if (st != HWS_OK)
            return st;
    }
    for (int i = 0; i < list->count; i++)
        derive(&list->gpus[i]);
    return HWS_OK;
}

struct hws_gpus {
    hws_gpu_list list;
};

hws_status hws_gpus_probe(hws_gpus **out, hws_error *err) {
    *out = NULL;
    hws_gpus *g = calloc(1, sizeof *g);
    if (g == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory for the GPU list");
    hws_status st = hws_probe_gpus(&g->list, err);
    if (st != HWS_OK) {
        free(g);
        return st;
    }
    *out = g;
    return HWS_OK;
}

int hws_gpus_count(const hws_gpus *g) {
    return g->list.count;
}

const void *hws_gpus_record(const hws_gpus *g, int i) {
    return i >= 0 && i < g->list.count ? &g->list.gpus[i] : NULL;
}

const char *hws_gpus_driver_version(const hws_gpus *g) {
    return g->list.driver_version;
}

const char *hws_gpus_why_none(const hws_gpus *g) {
    return g->list.count == 0 ? g->list.why_none : "";
}

void hws_gpus_free(hws_gpus *g) {
    free(g);
}

hws_status hws_gpu_sample_read(int index, hws_gpu_sample *sample, hws_error *err) {
    return vendors[0]->sample(index, sample, err);
}
