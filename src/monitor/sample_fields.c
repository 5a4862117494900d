/* sample_fields.c - the monitor sample's descriptor table and its renderings (see the header). */
#include "monitor/sample_fields.h"
#include "report/json.h"
#include "util/units.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#define MIB (1.0 / 1048576)

/* A numeric GPU field: key, top's label/scale/decimals/unit, nvidia-smi name/unit/scale/decimals,
 * metric/type/scale and help. */
#define GPU_NUM(member, label, tscale, tdec, tunit, smi, sunit, sscale, sdec, style, metric,       \
                mtype, mscale, help)                                                               \
    {                                                                                              \
        HWS_NUM(hws_mon_gpu, member, label, tscale, tdec, tunit), smi, sunit, sscale, sdec, style, \
            metric, mtype, mscale, help                                                            \
    }
#define GPU_STR(member, label, smi)                                                                \
    { HWS_STR(hws_mon_gpu, member, label), smi, NULL, 0, 0, HWS_MON_PLAIN, NULL, NULL, 0, NULL }
#define HOST_NUM(member, label, tscale, tdec, tunit, metric, mtype, help)                          \
    {                                                                                              \
        HWS_NUM(hws_mon_host, member, label, tscale, tdec, tunit), NULL, NULL, 0, 0,               \
            HWS_MON_PLAIN, metric, mtype, 0, help                                                  \
    }

const hws_mon_field hws_mon_gpu_fields[] = {
    GPU_NUM(timestamp_s, "time", 1, 3, "s", "timestamp", NULL, 1, 0, HWS_MON_TIME, NULL, NULL, 0,
            NULL),
    {{.key = "index",
      .label = "GPU",
      .type = HWS_FIELD_INT,
      .offset = offsetof(hws_mon_gpu, index),
      .unit = ""},
     "index",
     NULL,
     0,
     0,
     HWS_MON_PLAIN,
     NULL,
     NULL,
     0,
     NULL},
    GPU_STR(name, "name", "name"),
    GPU_STR(uuid, "UUID", "uuid"),
    GPU_STR(pci_bus_id, "PCI bus id", "pci.bus_id"),
    GPU_STR(driver_version, "driver", "driver_version"),
    GPU_NUM(pstate, "P-state", 1, 0, "", "pstate", NULL, 1, 0, HWS_MON_PSTATE, NULL, NULL, 0, NULL),
    GPU_NUM(util_gpu_pct, "util", 1, 0, "%", "utilization.gpu", "%", 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_GPU_UTIL", "gauge", 1, "GPU utilization (in %)."),
    GPU_NUM(util_mem_pct, "mem util", 1, 0, "%", "utilization.memory", "%", 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", 1, "Memory utilization (in %)."),
    GPU_NUM(mem_total_bytes, "memory", 1 / HWS_GIB, 1, "GiB", "memory.total", "MiB", MIB, 0,
            HWS_MON_PLAIN, "DCGM_FI_DEV_FB_TOTAL", "gauge", MIB,
            "Total framebuffer memory (in MiB)."),
    GPU_NUM(mem_used_bytes, "used", 1 / HWS_GIB, 1, "GiB", "memory.used", "MiB", MIB, 0,
            HWS_MON_PLAIN, "DCGM_FI_DEV_FB_USED", "gauge", MIB,
            "Framebuffer memory used (in MiB)."),
    GPU_NUM(mem_free_bytes, "free", 1 / HWS_GIB, 1, "GiB", "memory.free", "MiB", MIB, 0,
            HWS_MON_PLAIN, "DCGM_FI_DEV_FB_FREE", "gauge", MIB,
            "Framebuffer memory free (in MiB)."),
    GPU_NUM(temperature_c, "temp", 1, 0, "C", "temperature.gpu", NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_GPU_TEMP", "gauge", 1, "GPU temperature (in C)."),
    GPU_NUM(fan_pct, "fan", 1, 0, "%", "fan.speed", "%", 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_FAN_SPEED", "gauge", 1, "Fan speed (in %)."),
    GPU_NUM(power_w, "power", 1, 0, "W", "power.draw", "W", 1, 2, HWS_MON_PLAIN,
            "DCGM_FI_DEV_POWER_USAGE", "gauge", 1, "Power draw (in W)."),
    GPU_NUM(power_limit_w, "limit", 1, 0, "W", "enforced.power.limit", "W", 1, 2, HWS_MON_PLAIN,
            "DCGM_FI_DEV_ENFORCED_POWER_LIMIT", "gauge", 1, "Enforced power limit (in W)."),
    GPU_NUM(energy_mj, "energy", 1e-6, 3, "kJ", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", 1,
            "Total energy consumption since boot (in mJ)."),
    GPU_NUM(sm_clock_mhz, "SM clock", 1, 0, "MHz", "clocks.current.sm", "MHz", 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_SM_CLOCK", "gauge", 1, "SM clock frequency (in MHz)."),
    GPU_NUM(mem_clock_mhz, "mem clock", 1, 0, "MHz", "clocks.current.memory", "MHz", 1, 0,
            HWS_MON_PLAIN, "DCGM_FI_DEV_MEM_CLOCK", "gauge", 1, "Memory clock frequency (in MHz)."),
    GPU_NUM(max_sm_clock_mhz, "max SM clock", 1, 0, "MHz", "clocks.max.sm", "MHz", 1, 0,
            HWS_MON_PLAIN, NULL, NULL, 0, NULL),
    GPU_NUM(clocks_event_reasons, "clock events", 1, 0, "", "clocks_event_reasons.active", NULL, 1,
            0, HWS_MON_HEX, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "gauge", 1,
            "Current clock event reasons (bitmask of NVML's clocks event reasons)."),
    GPU_NUM(pcie_gen, "PCIe gen", 1, 0, "", "pcie.link.gen.current", NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_PCIE_LINK_GEN", "gauge", 1, "PCIe current link generation."),
    GPU_NUM(pcie_width, "PCIe width", 1, 0, "x", "pcie.link.width.current", NULL, 1, 0,
            HWS_MON_PLAIN, "DCGM_FI_DEV_PCIE_LINK_WIDTH", "gauge", 1, "PCIe current link width."),
    GPU_NUM(pcie_tx_bytes_s, "PCIe tx", 1e-6, 1, "MB/s", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_PROF_PCIE_TX_BYTES", "gauge", 1,
            "The rate of data transmitted over the PCIe bus, in bytes per second."),
    GPU_NUM(pcie_rx_bytes_s, "PCIe rx", 1e-6, 1, "MB/s", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_PROF_PCIE_RX_BYTES", "gauge", 1,
            "The rate of data received over the PCIe bus, in bytes per second."),
    GPU_NUM(ecc_corrected, "ECC corrected", 1, 0, "", "ecc.errors.corrected.volatile.total", NULL,
            1, 0, HWS_MON_PLAIN, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", 1,
            "Total number of single-bit volatile ECC errors."),
    GPU_NUM(ecc_uncorrected, "ECC uncorrected", 1, 0, "", "ecc.errors.uncorrected.volatile.total",
            NULL, 1, 0, HWS_MON_PLAIN, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", 1,
            "Total number of double-bit volatile ECC errors."),
    GPU_NUM(remapped_rows_correctable, "remapped rows (corrected)", 1, 0, "",
            "remapped_rows.correctable", NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", 1,
            "Number of remapped rows for correctable errors."),
    GPU_NUM(remapped_rows_uncorrectable, "remapped rows (uncorrected)", 1, 0, "",
            "remapped_rows.uncorrectable", NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", 1,
            "Number of remapped rows for uncorrectable errors."),
    GPU_NUM(remapped_rows_pending, "remap pending", 1, 0, "", "remapped_rows.pending", NULL, 1, 0,
            HWS_MON_YESNO, "DCGM_FI_DEV_ROW_REMAP_PENDING", "gauge", 1,
            "Whether remapping of rows is pending (1: the GPU needs a reset)."),
    GPU_NUM(remapped_rows_failure, "remap failed", 1, 0, "", "remapped_rows.failure", NULL, 1, 0,
            HWS_MON_YESNO, "DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", 1,
            "Whether remapping of rows has failed."),
    GPU_NUM(retired_pages_sbe, "retired pages (SBE)", 1, 0, "",
            "retired_pages.single_bit_ecc.count", NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_RETIRED_SBE", "counter", 1,
            "Total number of retired pages due to single-bit errors."),
    GPU_NUM(retired_pages_dbe, "retired pages (DBE)", 1, 0, "", "retired_pages.double_bit.count",
            NULL, 1, 0, HWS_MON_PLAIN, "DCGM_FI_DEV_RETIRED_DBE", "counter", 1,
            "Total number of retired pages due to double-bit errors."),
    GPU_NUM(retired_pages_pending, "retire pending", 1, 0, "", "retired_pages.pending", NULL, 1, 0,
            HWS_MON_YESNO, "DCGM_FI_DEV_RETIRED_PENDING", "gauge", 1,
            "Whether a page waits to be retired (1: at the next driver load)."),
    GPU_NUM(xid_last, "last XID", 1, 0, "", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_DEV_XID_ERRORS", "gauge", 1,
            "Value of the last XID error encountered (0: none since the exporter started)."),
    GPU_NUM(xid_count, "XIDs", 1, 0, "", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "hwscope_gpu_xid_count_total", "counter", 1,
            "XID critical errors seen since the exporter started."),
    GPU_NUM(nvlink_tx_bytes_s, "NVLink tx", 1e-9, 1, "GB/s", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_PROF_NVLINK_TX_BYTES", "gauge", 1,
            "The rate of data transmitted over NVLink (all links), in bytes per second."),
    GPU_NUM(nvlink_rx_bytes_s, "NVLink rx", 1e-9, 1, "GB/s", NULL, NULL, 1, 0, HWS_MON_PLAIN,
            "DCGM_FI_PROF_NVLINK_RX_BYTES", "gauge", 1,
            "The rate of data received over NVLink (all links), in bytes per second."),
};
const size_t hws_mon_gpu_nfields = sizeof hws_mon_gpu_fields / sizeof hws_mon_gpu_fields[0];

const hws_mon_field hws_mon_host_fields[] = {
    HOST_NUM(cpu_busy_pct, "CPU", 1, 0, "%", "hwscope_host_cpu_busy_percent", "gauge",
             "Share of the last interval all CPUs were busy (in %)."),
    HOST_NUM(mem_total_bytes, "memory", 1 / HWS_GIB, 1, "GiB", "hwscope_host_memory_total_bytes",
             "gauge", "Host memory (MemTotal), bytes."),
    HOST_NUM(mem_available_bytes, "available", 1 / HWS_GIB, 1, "GiB",
             "hwscope_host_memory_available_bytes", "gauge",
             "Host memory available (MemAvailable), bytes."),
    HOST_NUM(load1, "load", 1, 2, "", "hwscope_host_load1", "gauge", "Load average over 1 min."),
    HOST_NUM(load5, "load5", 1, 2, "", "hwscope_host_load5", "gauge", "Load average over 5 min."),
    HOST_NUM(load15, "load15", 1, 2, "", "hwscope_host_load15", "gauge",
             "Load average over 15 min."),
    HOST_NUM(net_rx_bytes_s, "net rx", 1e-6, 1, "MB/s", "hwscope_host_network_receive_bytes_rate",
             "gauge", "Bytes received per second by all interfaces but lo."),
    HOST_NUM(net_tx_bytes_s, "net tx", 1e-6, 1, "MB/s", "hwscope_host_network_transmit_bytes_rate",
             "gauge", "Bytes sent per second by all interfaces but lo."),
    HOST_NUM(disk_read_bytes_s, "disk rd", 1e-6, 1, "MB/s", "hwscope_host_disk_read_bytes_rate",
             "gauge", "Bytes read per second from whole disks."),
    HOST_NUM(disk_write_bytes_s, "disk wr", 1e-6, 1, "MB/s", "hwscope_host_disk_written_bytes_rate",
             "gauge", "Bytes written per second to whole disks."),
};
const size_t hws_mon_host_nfields = sizeof hws_mon_host_fields / sizeof hws_mon_host_fields[0];

/* Names nvidia-smi accepts for the same field; its header shows the canonical name
 * (`--query-gpu=clocks.sm` prints "clocks.current.sm [MHz]"). */
static const struct {
    const char *alias, *name;
} aliases[] = {
    {"gpu_name", "name"},
    {"gpu_uuid", "uuid"},
    {"gpu_bus_id", "pci.bus_id"},
    {"clocks.sm", "clocks.current.sm"},
    {"clocks.mem", "clocks.current.memory"},
    {"clocks.memory", "clocks.current.memory"},
    {"clocks_throttle_reasons.active", "clocks_event_reasons.active"},
    {"retired_pages.sbe", "retired_pages.single_bit_ecc.count"},
    {"retired_pages.dbe", "retired_pages.double_bit.count"},
};

const hws_mon_field *hws_mon_gpu_field_find(const char *name) {
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].alias) == 0)
            name = aliases[i].name;
    for (size_t i = 0; i < hws_mon_gpu_nfields; i++) {
        const hws_mon_field *f = &hws_mon_gpu_fields[i];
        if ((f->smi != NULL && strcasecmp(name, f->smi) == 0) || strcmp(name, f->f.key) == 0)
            return f;
    }
    return NULL;
}

void hws_mon_csv_header(char *buf, size_t n, const hws_mon_field *f) {
    const char *name = f->smi != NULL ? f->smi : f->f.key;
    if (f->smi_unit != NULL)
        snprintf(buf, n, "%s [%s]", name, f->smi_unit);
    else
        snprintf(buf, n, "%s", name);
}

static double num_at(const hws_mon_field *f, const void *rec) {
    double v;
    memcpy(&v, (const char *)rec + f->f.offset, sizeof v);
    return v;
}

static void smi_time(char *buf, size_t n, double t) {
    time_t secs = (time_t)t;
    struct tm tm;
    char text[32];
    localtime_r(&secs, &tm);
    strftime(text, sizeof text, "%Y/%m/%d %H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03d", text, (int)((t - (double)secs) * 1000));
}

void hws_mon_csv_value(char *buf, size_t n, const hws_mon_field *f, const hws_mon_gpu *g,
                       bool units) {
    if (f->f.type == HWS_FIELD_INT) {
        int v;
        memcpy(&v, (const char *)g + f->f.offset, sizeof v);
        snprintf(buf, n, "%d", v);
        return;
    }
    if (f->f.type == HWS_FIELD_STR) {
        const char *s = (const char *)g + f->f.offset;
        snprintf(buf, n, "%s", s[0] != '\0' ? s : "[N/A]");
        return;
    }
    double v = num_at(f, g);
    if (!hws_known(v)) {
        snprintf(buf, n, "%s", g->lost && f->style != HWS_MON_TIME ? "[GPU is lost]" : "[N/A]");
        return;
    }
    v *= f->smi_scale != 0 ? f->smi_scale : 1;
    switch (f->style) {
    case HWS_MON_TIME:
        smi_time(buf, n, v);
        return;
    case HWS_MON_HEX:
        snprintf(buf, n, "0x%016llx", (unsigned long long)v);
        return;
    case HWS_MON_PSTATE:
        snprintf(buf, n, "P%d", (int)v);
        return;
    case HWS_MON_YESNO:
        snprintf(buf, n, "%s", v != 0 ? "Yes" : "No");
        return;
    case HWS_MON_PLAIN:
        break;
    }
    if (f->smi_decimals == 0)
        v = floor(v); /* nvidia-smi truncates MiB */
    if (units && f->smi_unit != NULL)
        snprintf(buf, n, "%.*f %s", f->smi_decimals, v, f->smi_unit);
    else
        snprintf(buf, n, "%.*f", f->smi_decimals, v);
}

void hws_mon_text_value(char *buf, size_t n, const hws_mon_field *f, const void *rec) {
    hws_field_text(buf, n, &f->f, rec, NULL);
}

void hws_mon_json_value(cJSON *obj, const hws_mon_field *f, const hws_mon_gpu *g) {
    hws_fields_json(obj, &f->f, 1, g);
}

/* ---- Prometheus ---- */

/* A label value with \, " and newline escaped, as the text format wants. */
static void put_label(FILE *out, const char *name, const char *value, int first) {
    fprintf(out, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* The container that holds every process on g, or "" (none, or several). */
static const char *sole_container(const hws_mon_gpu *g) {
    const char *c = NULL;
    for (int i = 0; i < g->nprocs; i++) {
        if (g->procs[i].container[0] == '\0' ||
            (c != NULL && strcmp(c, g->procs[i].container) != 0))
            return "";
        c = g->procs[i].container;
    }
    return c != NULL ? c : "";
}

/* Label names in each style: gpu, UUID, pci_bus_id, device, modelName, Hostname. */
static const char *const label_names[2][6] = {
    {"gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname"},
    {"gpu", "uuid", "pci_bus_id", "device", "model_name", "hostname"},
};

static void gpu_labels(FILE *out, const hws_mon_gpu *g, const char *host, hws_prom_names names) {
    char num[16], dev[24];
    const char *const *ln = label_names[names];
    snprintf(num, sizeof num, "%d", g->index);
    snprintf(dev, sizeof dev, "nvidia%d", g->index);
    fputc('{', out);
    put_label(out, ln[0], num, 1);
    put_label(out, ln[1], g->uuid, 0);
    put_label(out, ln[2], g->pci_bus_id, 0);
    put_label(out, ln[3], dev, 0);
    put_label(out, ln[4], g->name, 0);
    put_label(out, ln[5], host, 0);
    const char *container = sole_container(g);
    if (container[0] != '\0')
        put_label(out, "container", container, 0);
    fputc('}', out);
}

static void put_header(FILE *out, const char *metric, const char *type, const char *help) {
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

static void put_value(FILE *out, double v) {
    if (v == floor(v) && fabs(v) < 1e15)
        fprintf(out, " %.0f\n", v);
    else
        fprintf(out, " %.6g\n", v);
}

/* f's metric name in the style asked for, into buf; its scale into *scale. */
static const char *metric_name(const hws_mon_field *f, hws_prom_names names, char *buf, size_t n,
                               double *scale) {
    *scale = names == HWS_PROM_DCGM && f->metric_scale != 0 ? f->metric_scale : 1;
    if (names == HWS_PROM_DCGM)
        return f->metric;
    snprintf(buf, n, "hwscope_gpu_%s%s", f->f.key,
             strcmp(f->metric_type, "counter") == 0 ? "_total" : "");
    return buf;
}

static void process_metrics(FILE *out, const hws_mon_sample *s, hws_prom_names names) {
    const char *const *ln = label_names[names];
    put_header(out, "hwscope_gpu_process_memory_bytes", "gauge",
               "GPU memory held by a process, bytes.");
    for (int k = 0; k < s->ngpus; k++) {
        const hws_mon_gpu *g = &s->gpus[k];
        for (int p = 0; p < g->nprocs; p++) {
            char pid[16], num[16];
            if (!hws_known(g->procs[p].used_bytes))
                continue;
            snprintf(pid, sizeof pid, "%u", g->procs[p].pid);
            snprintf(num, sizeof num, "%d", g->index);
            fputs("hwscope_gpu_process_memory_bytes{", out);
            put_label(out, ln[0], num, 1);
            put_label(out, ln[1], g->uuid, 0);
            put_label(out, "pid", pid, 0);
            put_label(out, "command", g->procs[p].name, 0);
            put_label(out, "container", g->procs[p].container, 0);
            put_label(out, ln[5], s->host.hostname, 0);
            fputc('}', out);
            put_value(out, g->procs[p].used_bytes);
        }
    }
}

void hws_mon_prometheus(FILE *out, const hws_mon_sample *s, hws_prom_names names) {
    const char *host = s->host.hostname;
    const char *host_label = label_names[names][5];
    for (size_t i = 0; i < hws_mon_gpu_nfields && s->ngpus > 0; i++) {
        const hws_mon_field *f = &hws_mon_gpu_fields[i];
        char buf[96];
        double scale;
        if (f->metric == NULL)
            continue;
        const char *metric = metric_name(f, names, buf, sizeof buf, &scale);
        put_header(out, metric, f->metric_type, f->help);
        for (int k = 0; k < s->ngpus; k++) {
            double v = num_at(f, &s->gpus[k]);
            if (!hws_known(v))
                continue; /* as dcgm-exporter: a field the GPU does not report is left out */
            fputs(metric, out);
            gpu_labels(out, &s->gpus[k], host, names);
            put_value(out, v * scale);
        }
    }
    if (s->ngpus > 0) {
        put_header(out, "hwscope_gpu_lost", "gauge",
                   "1 when NVML reports the GPU lost (fallen off the bus), else 0.");
        for (int k = 0; k < s->ngpus; k++) {
            fputs("hwscope_gpu_lost", out);
            gpu_labels(out, &s->gpus[k], host, names);
            put_value(out, s->gpus[k].lost);
        }
        process_metrics(out, s, names);
    }
    int nvml_up = s->nvml_error[0] == '\0';
    for (int k = 0; k < s->ngpus; k++)
        nvml_up &= !s->gpus[k].nvml_down;
    put_header(out, "hwscope_nvml_up", "gauge",
               "1 when NVML answered, else 0 (not found, or gone: its readers retry nvmlInit).");
    fputs("hwscope_nvml_up{", out);
    put_label(out, host_label, host, 1);
    fprintf(out, "} %d\n", nvml_up);
    put_header(out, "hwscope_host_cpu_core_busy_percent", "gauge",
               "Share of the last interval each CPU was busy (in %).");
    for (int c = 0; c < s->host.ncpus; c++) {
        char cpu[16];
        if (!hws_known(s->host.cpu_core_busy_pct[c]))
            continue;
        snprintf(cpu, sizeof cpu, "%d", c);
        fputs("hwscope_host_cpu_core_busy_percent{", out);
        put_label(out, "cpu", cpu, 1);
        put_label(out, host_label, host, 0);
        fputc('}', out);
        put_value(out, s->host.cpu_core_busy_pct[c]);
    }
    for (size_t i = 0; i < hws_mon_host_nfields; i++) {
        const hws_mon_field *f = &hws_mon_host_fields[i];
        double v = num_at(f, &s->host);
        if (!hws_known(v))
            continue;
        put_header(out, f->metric, f->metric_type, f->help);
        fputs(f->metric, out);
        fputc('{', out);
        put_label(out, host_label, host, 1);
        fputc('}', out);
        put_value(out, v);
    }
}
