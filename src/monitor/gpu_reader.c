/* gpu_reader.c - one reading of one GPU through NVML: utilisation, memory, clocks, power and
 * energy, temperature, fan, P-state, clock-event reasons, PCIe throughput, ECC counts and the
 * processes. A call NVML refuses leaves the field HWS_NA with NVML's reason in the notes; a lost
 * GPU stops the reading at the first call that says so. */
#include "monitor/readers.h"
#include "probe/notes.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

typedef nvmlReturn_t (*uint_fn)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*typed_uint_fn)(nvmlDevice_t, int, unsigned int *);

/* Notes why key is unknown; returns 1 (and marks g lost) when NVML says the GPU is lost. */
static int refused(const hws_nvml *n, hws_mon_gpu *g, const char *key, nvmlReturn_t rc) {
    hws_note_add(&g->notes, "%s: NVML: %s", key, hws_nvml_error(n, rc));
    if (rc == NVML_ERROR_GPU_IS_LOST) {
        g->lost = 1;
        snprintf(g->error, sizeof g->error, "NVML: %s", hws_nvml_error(n, rc));
    }
    return g->lost;
}

/* fn(dev, [type,] &v) * scale, or HWS_NA with the reason noted; type < 0 calls the untyped form. */
static double read_uint(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g, const char *key,
                        void (*fn)(void), int type, double scale) {
    unsigned int v = 0;
    nvmlReturn_t rc = NVML_ERROR_NOT_SUPPORTED;
    if (g->lost)
        return HWS_NA;
    if (fn != NULL)
        rc = type < 0 ? ((uint_fn)fn)(dev, &v) : ((typed_uint_fn)fn)(dev, type, &v);
    if (rc != NVML_SUCCESS) {
        refused(n, g, key, rc);
        return HWS_NA;
    }
    return v * scale;
}

static double read_ecc(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g, const char *key,
                       int type) {
    unsigned long long v = 0;
    if (g->lost)
        return HWS_NA;
    nvmlReturn_t rc = hws_nvml_ecc_errors(n, dev, type, &v);
    if (rc != NVML_SUCCESS) {
        refused(n, g, key, rc);
        return HWS_NA;
    }
    return (double)v;
}

static void read_remapped_rows(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    unsigned int corrected = 0, uncorrected = 0, pending = 0, failed = 0;
    if (g->lost)
        return;
    nvmlReturn_t rc =
        n->DeviceGetRemappedRows != NULL
            ? n->DeviceGetRemappedRows(dev, &corrected, &uncorrected, &pending, &failed)
            : NVML_ERROR_NOT_SUPPORTED;
    if (rc != NVML_SUCCESS) {
        refused(n, g, "remapped_rows_correctable", rc);
        return;
    }
    g->remapped_rows_correctable = corrected;
    g->remapped_rows_uncorrectable = uncorrected;
}

static void read_identity(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    char text[96];
    nvmlPciInfo_t pci;
    nvmlReturn_t rc = n->DeviceGetName != NULL ? n->DeviceGetName(dev, text, sizeof text)
                                               : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        snprintf(g->name, sizeof g->name, "%s", text);
    else if (refused(n, g, "name", rc))
        return;
    rc = n->DeviceGetUUID != NULL ? n->DeviceGetUUID(dev, text, sizeof text)
                                  : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        snprintf(g->uuid, sizeof g->uuid, "%s", text);
    else if (refused(n, g, "uuid", rc))
        return;
    memset(&pci, 0, sizeof pci);
    rc = n->DeviceGetPciInfo != NULL ? n->DeviceGetPciInfo(dev, &pci) : NVML_ERROR_NOT_SUPPORTED;
    pci.busId[sizeof pci.busId - 1] = '\0';
    if (rc == NVML_SUCCESS)
        snprintf(g->pci_bus_id, sizeof g->pci_bus_id, "%s", pci.busId);
    else
        refused(n, g, "pci_bus_id", rc);
}

static void read_memory(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    nvmlMemory_t m = {0, 0, 0};
    if (g->lost)
        return;
    nvmlReturn_t rc = hws_nvml_memory(n, dev, &m);
    if (rc != NVML_SUCCESS) {
        refused(n, g, "mem_used_bytes", rc);
        return;
    }
    g->mem_total_bytes = (double)m.total;
    g->mem_free_bytes = (double)m.free;
    g->mem_used_bytes = (double)m.used;
}

static void read_utilisation(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    nvmlUtilization_t u;
    unsigned long long reasons = 0, energy = 0;
    int pstate = 0;
    nvmlReturn_t rc = n->DeviceGetUtilizationRates != NULL ? n->DeviceGetUtilizationRates(dev, &u)
                                                           : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
        g->util_gpu_pct = u.gpu;
        g->util_mem_pct = u.memory;
    } else if (refused(n, g, "util_gpu_pct", rc)) {
        return;
    }
    rc = n->DeviceGetCurrentClocksEventReasons != NULL
             ? n->DeviceGetCurrentClocksEventReasons(dev, &reasons)
             : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        g->clocks_event_reasons = (double)reasons;
    else if (refused(n, g, "clocks_event_reasons", rc))
        return;
    rc = n->DeviceGetTotalEnergyConsumption != NULL
             ? n->DeviceGetTotalEnergyConsumption(dev, &energy)
             : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        g->energy_mj = (double)energy;
    else if (refused(n, g, "energy_mj", rc))
        return;
    rc = n->DeviceGetPerformanceState != NULL ? n->DeviceGetPerformanceState(dev, &pstate)
                                              : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS && pstate >= 0 && pstate <= 15)
        g->pstate = pstate;
    else if (rc != NVML_SUCCESS)
        refused(n, g, "pstate", rc);
}

/* Each process's SM share over the last interval, where the driver keeps it. */
static void read_process_util(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    nvmlProcessUtilizationSample_t samples[HWS_MON_MAX_PROCS * 2];
    unsigned int count = sizeof samples / sizeof samples[0];
    if (n->DeviceGetProcessUtilization == NULL ||
        n->DeviceGetProcessUtilization(dev, samples, &count, 0) != NVML_SUCCESS)
        return;
    for (int i = 0; i < g->nprocs; i++)
        for (unsigned int k = 0; k < count; k++)
            if (samples[k].pid == g->procs[i].pid)
                g->procs[i].sm_util_pct = samples[k].smUtil;
}

static void read_processes(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    nvmlProcessInfo_v1_t found[HWS_MON_MAX_PROCS];
    unsigned int count = 0;
    nvmlReturn_t rc;
    g->nprocs = -1;
    if (g->lost)
        return;
    rc = hws_nvml_processes(n, dev, found, HWS_MON_MAX_PROCS, &count);
    if (rc != NVML_SUCCESS) {
        refused(n, g, "processes", rc);
        return;
    }
    g->nprocs = (int)count;
    for (unsigned int i = 0; i < count; i++) {
        hws_mon_process *p = &g->procs[i];
        char path[256] = "";
        memset(p, 0, sizeof *p);
        p->pid = found[i].pid;
        p->gpu = g->index;
        p->sm_util_pct = HWS_NA;
        p->used_bytes = found[i].usedGpuMemory == ~0ULL ? HWS_NA : (double)found[i].usedGpuMemory;
        if (n->SystemGetProcessName != NULL &&
            n->SystemGetProcessName(p->pid, path, sizeof path) == NVML_SUCCESS) {
            const char *base = strrchr(path, '/');
            snprintf(p->name, sizeof p->name, "%s", base != NULL ? base + 1 : path);
        }
        hws_mon_process_join(p);
    }
    read_process_util(n, dev, g);
}

static void clear_reading(hws_mon_gpu *g, int index) {
    double *nums[] = {&g->util_gpu_pct,    &g->util_mem_pct,     &g->mem_total_bytes,
                      &g->mem_used_bytes,  &g->mem_free_bytes,   &g->sm_clock_mhz,
                      &g->mem_clock_mhz,   &g->max_sm_clock_mhz, &g->power_w,
                      &g->power_limit_w,   &g->energy_mj,        &g->temperature_c,
                      &g->fan_pct,         &g->pstate,           &g->clocks_event_reasons,
                      &g->pcie_tx_bytes_s, &g->pcie_rx_bytes_s,  &g->pcie_gen,
                      &g->pcie_width,      &g->ecc_corrected,    &g->ecc_uncorrected};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        *nums[i] = HWS_NA;
    g->index = index;
    g->lost = 0;
    g->error[0] = '\0';
    g->nprocs = -1;
    g->notes.count = 0;
}

void hws_mon_read_gpu(const hws_nvml *n, int index, hws_mon_gpu *g) {
    nvmlDevice_t dev;
    char version[32];
    clear_reading(g, index);
    g->timestamp_s = hws_mon_now_s();
    nvmlReturn_t rc = n->DeviceGetHandleByIndex((unsigned int)index, &dev);
    if (rc != NVML_SUCCESS) {
        refused(n, g, "name", rc);
        snprintf(g->error, sizeof g->error, "NVML: %s", hws_nvml_error(n, rc));
        g->lost = rc == NVML_ERROR_GPU_IS_LOST;
        return;
    }
    if (n->SystemGetDriverVersion != NULL &&
        n->SystemGetDriverVersion(version, sizeof version) == NVML_SUCCESS)
        snprintf(g->driver_version, sizeof g->driver_version, "%s", version);
    read_identity(n, dev, g);
    read_memory(n, dev, g);
    if (!g->lost)
        read_utilisation(n, dev, g);
    void (*clock)(void) = (void (*)(void))n->DeviceGetClockInfo;
    g->sm_clock_mhz = read_uint(n, dev, g, "sm_clock_mhz", clock, NVML_CLOCK_SM, 1);
    g->mem_clock_mhz = read_uint(n, dev, g, "mem_clock_mhz", clock, NVML_CLOCK_MEM, 1);
    g->max_sm_clock_mhz = read_uint(n, dev, g, "max_sm_clock_mhz",
                                    (void (*)(void))n->DeviceGetMaxClockInfo, NVML_CLOCK_SM, 1);
    g->power_w = read_uint(n, dev, g, "power_w", (void (*)(void))n->DeviceGetPowerUsage, -1, 1e-3);
    g->power_limit_w = read_uint(n, dev, g, "power_limit_w",
                                 (void (*)(void))n->DeviceGetEnforcedPowerLimit, -1, 1e-3);
    g->temperature_c = read_uint(n, dev, g, "temperature_c",
                                 (void (*)(void))n->DeviceGetTemperature, NVML_TEMPERATURE_GPU, 1);
    g->fan_pct = read_uint(n, dev, g, "fan_pct", (void (*)(void))n->DeviceGetFanSpeed, -1, 1);
    void (*pcie)(void) = (void (*)(void))n->DeviceGetPcieThroughput;
    g->pcie_tx_bytes_s =
        read_uint(n, dev, g, "pcie_tx_bytes_s", pcie, NVML_PCIE_UTIL_TX_BYTES, 1e3);
    g->pcie_rx_bytes_s =
        read_uint(n, dev, g, "pcie_rx_bytes_s", pcie, NVML_PCIE_UTIL_RX_BYTES, 1e3);
    g->pcie_gen =
        read_uint(n, dev, g, "pcie_gen", (void (*)(void))n->DeviceGetCurrPcieLinkGeneration, -1, 1);
    g->pcie_width =
        read_uint(n, dev, g, "pcie_width", (void (*)(void))n->DeviceGetCurrPcieLinkWidth, -1, 1);
    g->ecc_corrected = read_ecc(n, dev, g, "ecc_corrected", NVML_MEMORY_ERROR_TYPE_CORRECTED);
    g->ecc_uncorrected = read_ecc(n, dev, g, "ecc_uncorrected", NVML_MEMORY_ERROR_TYPE_UNCORRECTED);
    read_remapped_rows(n, dev, g);
    read_processes(n, dev, g);
}
