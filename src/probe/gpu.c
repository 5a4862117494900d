/* gpu.c - the GPUs of this machine, from every vendor probe in the list below, and the derived
 * facts (theoretical memory bandwidth) computed the same way for all. */
#include "probe/gpu_vendor.h"
#include "util/units.h"

#include <string.h>

static const hws_gpu_vendor *const vendors[] = {
    &hws_gpu_vendor_nvidia,
};

void hws_gpu_info_init(hws_gpu_info *g, int index) {
    memset(g, 0, sizeof *g);
    g->index = index;
    double *nums[] = {
        &g->mem_total_bytes,
        &g->mem_used_bytes,
        &g->mem_free_bytes,
        &g->cc_major,
        &g->cc_minor,
        &g->sm_count,
        &g->max_sm_clock_mhz,
        &g->max_mem_clock_mhz,
        &g->cur_sm_clock_mhz,
        &g->cur_mem_clock_mhz,
        &g->mem_bus_width_bits,
        &g->l2_bytes,
        &g->mem_bw_theoretical_gbps,
        &g->pcie_gen_cur,
        &g->pcie_gen_max,
        &g->pcie_width_cur,
        &g->pcie_width_max,
        &g->nvlink_links_active,
        &g->power_limit_w,
        &g->default_power_limit_w,
        &g->power_draw_w,
        &g->temperature_c,
        &g->util_gpu_pct,
        &g->util_mem_pct,
        &g->ecc_errors_corrected,
        &g->ecc_errors_uncorrected,
        &g->clock_event_reasons,
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        *nums[i] = HWS_NA;
    g->ecc_enabled = g->mig_enabled = g->persistence_enabled = -1;
    g->nprocs = -1;
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

hws_status hws_gpu_sample_read(int index, hws_gpu_sample *sample, hws_error *err) {
    return vendors[0]->sample(index, sample, err);
}
