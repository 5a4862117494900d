/* host.c - the host a plan's offloaded layers or CPU-only run live on: this machine's RAM
 * (available now, cgroup limit applied) and CPU ceilings, or a CPU server of data/cpus.tsv. */
#include "hwscope/plan.h"

#include "format/tsv.h"
#include "hwscope/catalog.h"
#include "plan/shape.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const char hws_data_cpus_tsv[];
extern const unsigned long hws_data_cpus_tsv_len;

#define C(member, column, scale, unit, help)                                                       \
    HWS_COL_NUM(hws_cpu_row, member, column, scale, unit, help)

static const hws_field cpu_fields[] = {
    HWS_COL_STR(hws_cpu_row, name, "name", "catalog name"),
    HWS_COL_STR(hws_cpu_row, vendor, "vendor", "AMD, Intel"),
    C(cores, "cores", 1, "", "physical cores"),
    C(mem_bytes, "mem_gb", 1e9, "GB", "RAM of the configuration planned"),
    C(mem_channels, "mem_channels", 1, "", "memory channels"),
    C(mem_mts, "mem_mts", 1, "MT/s", "DIMM speed"),
    C(mem_bw_gbps, "mem_bw_gbps", 1, "GB/s", "peak memory bandwidth"),
    C(fp32_tflops, "fp32_tflops", 1, "TFLOP/s", "FP32 FMA peak at base clock"),
    C(price_usd, "price_usd", 1, "USD", "the CPU's launch price"),
    HWS_COL_STR(hws_cpu_row, price_date, "price_date", "YYYY-MM of the price"),
    C(cloud_usd_per_hour, "cloud_usd_per_hour", 1, "USD/h", "on-demand instance price"),
    HWS_COL_STR(hws_cpu_row, source, "source", "where the figures come from"),
};

const hws_field_table hws_cpu_row_table = HWS_FIELD_TABLE(hws_cpu_row, cpu_fields);

static hws_tsv_catalog catalog = {
    &hws_cpu_row_table, hws_data_cpus_tsv, &hws_data_cpus_tsv_len, "data/cpus.tsv", {0}, false};

const hws_cpu_row *hws_cpu_catalog(size_t *count) {
    return hws_tsv_catalog_rows(&catalog, count);
}

const hws_cpu_row *hws_cpu_catalog_find(const char *name) {
    size_t n;
    const hws_cpu_row *rows = hws_cpu_catalog(&n);
    if (name == NULL || name[0] == '\0')
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(rows[i].name, name) == 0)
            return &rows[i];
    for (size_t i = 0; i < n; i++)
        if (strcasestr(name, rows[i].name) != NULL)
            return &rows[i];
    return NULL;
}

void hws_host_unknown(hws_host *h) {
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "host not known");
    h->mem_bytes = h->price_usd = h->usd_per_hour = HWS_NA;
    h->mem_bw_gbps = HWS_HOST_DEFAULT_BW_GBPS;
    h->mem_bw_basis = "assumed (dual-channel DDR5)";
    h->matmul_tflops = HWS_NA;
    snprintf(h->basis, sizeof h->basis,
             "host RAM not known (not checked); bandwidth %.0f GB/s assumed (dual-channel DDR5)",
             HWS_HOST_DEFAULT_BW_GBPS);
}

static void host_from_row(const hws_cpu_row *r, hws_host *h) {
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", r->name);
    h->catalog = r->name;
    h->mem_bytes = r->mem_bytes;
    h->mem_bw_gbps = r->mem_bw_gbps;
    h->mem_bw_basis = "the named host's data/cpus.tsv peak";
    h->matmul_tflops = r->fp32_tflops;
    h->price_usd = r->price_usd;
    h->usd_per_hour = r->cloud_usd_per_hour;
    snprintf(h->basis, sizeof h->basis,
             "named host %s (data/cpus.tsv): %.0f GB RAM, %.0f channels x %.0f MT/s = %.1f GB/s, "
             "%.2f TFLOP/s FP32",
             r->name, r->mem_bytes / 1e9, r->mem_channels, r->mem_mts, r->mem_bw_gbps,
             r->fp32_tflops);
}

hws_status hws_host_named(const char *name, hws_host *h, hws_error *err) {
    const hws_cpu_row *r = hws_cpu_catalog_find(name);
    if (r == NULL) {
        size_t n;
        char near[256];
        const hws_cpu_row *rows = hws_cpu_catalog(&n);
        hws_near_names(name, rows, n, sizeof *rows, near, sizeof near);
        return hws_error_set(err, HWS_ERR_INPUT, "--host: unknown CPU host '%s'%s%s%s", name,
                             near[0] ? " (close matches: " : "", near, near[0] ? ")" : "");
    }
    host_from_row(r, h);
    return HWS_OK;
}

void hws_host_from_probe(const hws_mem_info *mem, const hws_cpu_info *cpu, double measured_bw_gbps,
                         hws_host *h) {
    const hws_cpu_row *row = cpu != NULL ? hws_cpu_catalog_find(cpu->model) : NULL;
    hws_host_unknown(h);
    snprintf(h->name, sizeof h->name, "this machine%s%.80s%s", cpu && cpu->model[0] ? " (" : "",
             cpu ? cpu->model : "", cpu && cpu->model[0] ? ")" : "");
    double avail = mem != NULL ? mem->available_bytes : HWS_NA;
    const char *ram_basis = "available now (/proc/meminfo)";
    if (mem != NULL && hws_known(mem->cgroup_limit_bytes) && mem->cgroup_limit_bytes > 0) {
        double used = hws_known(mem->cgroup_usage_bytes) ? mem->cgroup_usage_bytes : 0;
        double room = mem->cgroup_limit_bytes > used ? mem->cgroup_limit_bytes - used : 0;
        if (!hws_known(avail) || room < avail) {
            avail = room;
            ram_basis = "cgroup memory limit less its usage";
        }
    }
    h->mem_bytes = avail;
    const char *bw_basis = "assumed (dual-channel DDR5; run `hwscope bench cpu` to measure)";
    if (hws_known(measured_bw_gbps) && measured_bw_gbps > 0) {
        h->mem_bw_gbps = measured_bw_gbps;
        bw_basis = "measured (hwscope bench, STREAM triad)";
    } else if (row != NULL) {
        h->mem_bw_gbps = row->mem_bw_gbps;
        bw_basis = "the CPU's data/cpus.tsv peak";
    }
    h->mem_bw_basis = bw_basis;
    if (cpu != NULL && hws_known(cpu->fp32_peak_gflops) && cpu->fp32_peak_gflops > 0)
        h->matmul_tflops = cpu->fp32_peak_gflops / 1e3;
    else if (row != NULL)
        h->matmul_tflops = row->fp32_tflops;
    snprintf(h->basis, sizeof h->basis, "RAM %.1f GiB %s; bandwidth %.0f GB/s %s",
             hws_known(avail) ? avail / HWS_GIB : 0.0, ram_basis, h->mem_bw_gbps, bw_basis);
}

hws_status hws_host_local(hws_host *h, hws_error *err) {
    hws_mem_info mem;
    hws_cpu_info cpu;
    hws_error ignored;
    memset(&mem, 0, sizeof mem);
    memset(&cpu, 0, sizeof cpu);
    hws_status st = hws_probe_mem(&mem, err);
    if (st != HWS_OK)
        return st;
    int have_cpu = hws_probe_cpu(&cpu, &ignored) == HWS_OK;
    hws_host_from_probe(&mem, have_cpu ? &cpu : NULL, HWS_NA, h);
    return HWS_OK;
}
