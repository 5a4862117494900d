/* gpu_reader.c - the reader of one GPU through NVML: utilisation, memory, clocks, power and
 * energy, temperature, fan, P-state, clock-event reasons, PCIe and NVLink throughput, ECC counts,
 * retired pages and remapped rows, XID critical errors (NVML events) and the processes. A call
 * NVML refuses leaves the field HWS_NA with NVML's reason in the notes; a lost GPU stops the
 * reading at the first call that says so.
 *
 * The reader keeps what turns readings into rates and events into counts (the previous NVLink
 * counters, its own event set) and, when NVML itself goes away (UNINITIALIZED, DRIVER_NOT_LOADED,
 * a replaced driver) or the GPU is lost, calls nvmlInit again after a back-off that doubles from
 * the interval up to RETRY_MAX_S (or the interval, when longer), then resumes. Every nvmlInit it
 * makes it balances with an nvmlShutdown when freed. */
#include "monitor/readers.h"
#include "probe/notes.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_MAX_S       10.0 /* the longest wait between two nvmlInit calls of a reader */
#define EVENTS_PER_READ   64   /* XID events taken from the set in one reading, at most */
#define NVLINK_FIELDS_MAX (2 * NVML_NVLINK_MAX_LINKS)

struct hws_gpu_reader {
    const hws_nvml *nvml;
    int index;
    double interval_s;
    nvmlEventSet_t events;  /* NULL: not made yet (or made again after a recovery) */
    nvmlReturn_t events_rc; /* why there is no event set: the XID fields' note */
    double xid_last, xid_count;
    double nvlink_kib[2], nvlink_at_s; /* the previous TX and RX counters (KiB) and when (s) */
    int nvlink_have; /* 0: no previous reading; 1: timed by the reader's clock; 2: by NVML's */
    int nvlink_unsupported; /* 1: the GPU has no NVLink counters (asked again after a recovery) */
    int down;               /* 1: NVML gone (or the GPU lost): waiting to retry */
    char down_reason[160];
    double backoff_s, retry_at_s; /* monotonic */
    unsigned int inits;           /* nvmlInit calls that succeeded, to balance when freed */
    unsigned int recoveries;
};

static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 once the reading has to stop: the GPU is lost or NVML itself went away. */
static int stopped(const hws_mon_gpu *g) {
    return g->lost || g->nvml_down;
}

typedef nvmlReturn_t (*uint_fn)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*typed_uint_fn)(nvmlDevice_t, int, unsigned int *);

/* Notes why key is unknown; returns 1 (and marks g lost or NVML down) when NVML says the GPU is
 * lost or NVML itself is gone. */
static int refused(const hws_nvml *n, hws_mon_gpu *g, const char *key, nvmlReturn_t rc) {
    hws_note_add(&g->notes, "%s: NVML: %s", key, hws_nvml_error(n, rc));
    if (rc == NVML_ERROR_GPU_IS_LOST || hws_nvml_gone(rc)) {
        g->lost |= rc == NVML_ERROR_GPU_IS_LOST;
        g->nvml_down |= hws_nvml_gone(rc);
        snprintf(g->error, sizeof g->error, "NVML: %s", hws_nvml_error(n, rc));
    }
    return stopped(g);
}

/* fn(dev, [type,] &v) * scale, or HWS_NA with the reason noted; type < 0 calls the untyped form. */
static double read_uint(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g, const char *key,
                        void (*fn)(void), int type, double scale) {
    unsigned int v = 0;
    nvmlReturn_t rc = NVML_ERROR_NOT_SUPPORTED;
    if (stopped(g))
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
    if (stopped(g))
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
    if (stopped(g))
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
    g->remapped_rows_pending = pending != 0;
    g->remapped_rows_failure = failed != 0;
}

/* Pages retired for single- and double-bit errors and whether one waits (before A100; newer GPUs
 * remap rows instead and answer Not Supported). */
static void read_retired_pages(const hws_nvml *n, nvmlDevice_t dev, hws_mon_gpu *g) {
    static const char *const keys[2] = {"retired_pages_sbe", "retired_pages_dbe"};
    double *out[2] = {&g->retired_pages_sbe, &g->retired_pages_dbe};
    for (int cause = 0; cause < 2 && !stopped(g); cause++) {
        unsigned int count = 0;
        nvmlReturn_t rc = n->DeviceGetRetiredPages != NULL
                              ? n->DeviceGetRetiredPages(dev, cause, &count, NULL)
                              : NVML_ERROR_NOT_SUPPORTED;
        if (rc == NVML_SUCCESS || rc == NVML_ERROR_INSUFFICIENT_SIZE) /* count is the size */
            *out[cause] = count;
        else
            refused(n, g, keys[cause], rc);
    }
    int pending = 0;
    nvmlReturn_t rc = n->DeviceGetRetiredPagesPendingStatus != NULL
                          ? n->DeviceGetRetiredPagesPendingStatus(dev, &pending)
                          : NVML_ERROR_NOT_SUPPORTED;
    if (stopped(g))
        return;
    if (rc == NVML_SUCCESS)
        g->retired_pages_pending = pending != 0;
    else
        refused(n, g, "retired_pages_pending", rc);
}

/* Makes the reader's event set for XID critical errors on dev, once; events_rc says why not. */
static void open_events(hws_gpu_reader *r, nvmlDevice_t dev) {
    const hws_nvml *n = r->nvml;
    if (r->events != NULL || r->events_rc == NVML_ERROR_NOT_SUPPORTED)
        return;
    if (n->EventSetCreate == NULL || n->DeviceRegisterEvents == NULL || n->EventSetWait == NULL ||
        n->EventSetFree == NULL) {
        r->events_rc = NVML_ERROR_NOT_SUPPORTED;
        return;
    }
    nvmlEventSet_t set = NULL;
    r->events_rc = n->EventSetCreate(&set);
    if (r->events_rc != NVML_SUCCESS)
        return;
    r->events_rc = n->DeviceRegisterEvents(dev, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, set);
    if (r->events_rc != NVML_SUCCESS) {
        n->EventSetFree(set);
        return;
    }
    r->events = set;
}

static void close_events(hws_gpu_reader *r) {
    if (r->events != NULL)
        r->nvml->EventSetFree(r->events);
    r->events = NULL;
    r->events_rc = NVML_SUCCESS;
}

/* Takes the XID critical errors that came since the last reading (never waiting for one). */
static void read_xid_events(hws_gpu_reader *r, nvmlDevice_t dev, hws_mon_gpu *g) {
    if (stopped(g))
        return;
    open_events(r, dev);
    for (int i = 0; r->events != NULL && i < EVENTS_PER_READ; i++) {
        nvmlEventData_t e;
        memset(&e, 0, sizeof e);
        nvmlReturn_t rc = r->nvml->EventSetWait(r->events, &e, 0);
        if (rc == NVML_ERROR_TIMEOUT)
            break;
        if (rc != NVML_SUCCESS) {
            refused(r->nvml, g, "xid_last", rc);
            r->events_rc = rc;
            if (!stopped(g))
                close_events(r); /* made again at the next reading */
            break;
        }
        if (e.eventType & NVML_EVENT_TYPE_XID_CRITICAL_ERROR) {
            r->xid_last = (double)e.eventData;
            r->xid_count++;
        }
    }
    if (r->events == NULL && !stopped(g)) {
        if (r->events_rc != NVML_SUCCESS)
            refused(r->nvml, g, "xid_last", r->events_rc);
        return;
    }
    g->xid_last = r->xid_last;
    g->xid_count = r->xid_count;
}

/* The NVLink data counters (KiB) of every link of dev into kib[0] (TX) and kib[1] (RX), and NVML's
 * time of them (microseconds since 1970; 0 when it gives none) into *at_us: NVML's sum over all
 * links, or the links one by one where the driver does not take the all-links scope.
 * NVML_SUCCESS, or why not (a GPU without NVLink: Not Supported). */
static nvmlReturn_t nvlink_counters(const hws_nvml *n, nvmlDevice_t dev, double kib[2],
                                    double *at_us) {
    static const unsigned int ids[2] = {NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX,
                                        NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX};
    nvmlFieldValue_t v[NVLINK_FIELDS_MAX];
    if (n->DeviceGetFieldValues == NULL)
        return NVML_ERROR_NOT_SUPPORTED;
    memset(v, 0, sizeof v);
    for (int k = 0; k < 2; k++)
        v[k] = (nvmlFieldValue_t){.fieldId = ids[k], .scopeId = NVML_SCOPE_ALL_LINKS};
    nvmlReturn_t rc = n->DeviceGetFieldValues(dev, 2, v);
    if (rc == NVML_SUCCESS && v[0].nvmlReturn == NVML_SUCCESS && v[1].nvmlReturn == NVML_SUCCESS) {
        kib[0] = hws_nvml_field_number(&v[0]);
        kib[1] = hws_nvml_field_number(&v[1]);
        *at_us = (double)v[0].timestamp;
        return NVML_SUCCESS;
    }
    if (rc != NVML_SUCCESS)
        return rc;
    memset(v, 0, sizeof v);
    for (int i = 0; i < NVLINK_FIELDS_MAX; i++)
        v[i] = (nvmlFieldValue_t){.fieldId = ids[i % 2], .scopeId = (unsigned int)i / 2};
    rc = n->DeviceGetFieldValues(dev, NVLINK_FIELDS_MAX, v);
    nvmlReturn_t why = NVML_ERROR_NOT_SUPPORTED;
    int links = 0;
    kib[0] = kib[1] = 0;
    for (int i = 0; rc == NVML_SUCCESS && i < NVLINK_FIELDS_MAX; i++) {
        if (v[i].nvmlReturn == NVML_SUCCESS) {
            kib[i % 2] += hws_nvml_field_number(&v[i]);
            *at_us = (double)v[i].timestamp > *at_us ? (double)v[i].timestamp : *at_us;
            links++;
        } else if (hws_nvml_gone(v[i].nvmlReturn) || v[i].nvmlReturn == NVML_ERROR_GPU_IS_LOST) {
            why = v[i].nvmlReturn;
        }
    }
    return rc != NVML_SUCCESS ? rc : links > 0 ? NVML_SUCCESS : why;
}

/* NVLink TX and RX in bytes/s between this reading and the last (timed by NVML's timestamps where
 * it gives them, else by the reader's clock); unknown at the first. */
static void read_nvlink(hws_gpu_reader *r, nvmlDevice_t dev, hws_mon_gpu *g) {
    double kib[2] = {0, 0}, at_us = 0;
    if (stopped(g))
        return;
    nvmlReturn_t rc = r->nvlink_unsupported ? NVML_ERROR_NOT_SUPPORTED
                                            : nvlink_counters(r->nvml, dev, kib, &at_us);
    if (rc != NVML_SUCCESS) {
        r->nvlink_unsupported = rc == NVML_ERROR_NOT_SUPPORTED; /* not asked again */
        r->nvlink_have = 0;
        refused(r->nvml, g, "nvlink_tx_bytes_s", rc);
        return;
    }
    int nvml_clock = at_us > 0;
    double at_s = nvml_clock ? at_us / 1e6 : monotonic_s();
    double seconds = at_s - r->nvlink_at_s;
    if (r->nvlink_have == 1 + nvml_clock && seconds > 0 && kib[0] >= r->nvlink_kib[0] &&
        kib[1] >= r->nvlink_kib[1]) { /* a counter that went back (reset) gives no rate */
        g->nvlink_tx_bytes_s = (kib[0] - r->nvlink_kib[0]) * 1024 / seconds;
        g->nvlink_rx_bytes_s = (kib[1] - r->nvlink_kib[1]) * 1024 / seconds;
    } else {
        hws_note_add(&g->notes, "nvlink_tx_bytes_s: a rate needs a second reading");
    }
    memcpy(r->nvlink_kib, kib, sizeof kib);
    r->nvlink_at_s = at_s;
    r->nvlink_have = 1 + nvml_clock; /* which clock timed it: 1 the reader's, 2 NVML's */
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
    if (stopped(g))
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
    if (stopped(g))
        return;
    rc = hws_nvml_processes(n, dev, found, HWS_MON_MAX_PROCS, &count);
    if (rc != NVML_SUCCESS) {
        refused(n, g, "processes", rc);
        return;
    }
    g->nprocs = (int)count;
    int depth = count > 0 ? hws_mon_pid_depth() : 0;
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
        hws_mon_process_join(p, depth);
    }
    read_process_util(n, dev, g);
}

static void clear_reading(hws_mon_gpu *g, int index) {
    double *nums[] = {&g->util_gpu_pct,
                      &g->util_mem_pct,
                      &g->mem_total_bytes,
                      &g->mem_used_bytes,
                      &g->mem_free_bytes,
                      &g->sm_clock_mhz,
                      &g->mem_clock_mhz,
                      &g->max_sm_clock_mhz,
                      &g->power_w,
                      &g->power_limit_w,
                      &g->energy_mj,
                      &g->temperature_c,
                      &g->fan_pct,
                      &g->pstate,
                      &g->clocks_event_reasons,
                      &g->pcie_tx_bytes_s,
                      &g->pcie_rx_bytes_s,
                      &g->pcie_gen,
                      &g->pcie_width,
                      &g->ecc_corrected,
                      &g->ecc_uncorrected,
                      &g->remapped_rows_correctable,
                      &g->remapped_rows_uncorrectable,
                      &g->remapped_rows_pending,
                      &g->remapped_rows_failure,
                      &g->retired_pages_sbe,
                      &g->retired_pages_dbe,
                      &g->retired_pages_pending,
                      &g->xid_last,
                      &g->xid_count,
                      &g->nvlink_tx_bytes_s,
                      &g->nvlink_rx_bytes_s};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        *nums[i] = HWS_NA;
    g->index = index;
    g->lost = 0;
    g->nvml_down = 0;
    g->error[0] = '\0';
    g->nprocs = -1;
    g->notes.count = 0;
}

/* One reading of every field through dev's handle; stops at the first call that says the GPU is
 * lost or NVML is gone. */
static void read_all(hws_gpu_reader *r, hws_mon_gpu *g) {
    const hws_nvml *n = r->nvml;
    nvmlDevice_t dev;
    char version[32];
    nvmlReturn_t rc = n->DeviceGetHandleByIndex((unsigned int)r->index, &dev);
    if (rc != NVML_SUCCESS) {
        refused(n, g, "name", rc);
        snprintf(g->error, sizeof g->error, "NVML: %s", hws_nvml_error(n, rc));
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
    read_retired_pages(n, dev, g);
    read_nvlink(r, dev, g);
    read_xid_events(r, dev, g);
    read_processes(n, dev, g);
}

hws_gpu_reader *hws_gpu_reader_new(const hws_nvml *nvml, int index, double interval_s) {
    hws_gpu_reader *r = calloc(1, sizeof *r);
    if (r != NULL)
        *r = (hws_gpu_reader){.nvml = nvml, .index = index, .interval_s = interval_s};
    return r;
}

void hws_gpu_reader_free(hws_gpu_reader *r) {
    if (r == NULL)
        return;
    close_events(r);
    for (unsigned int i = 0; i < r->inits; i++)
        r->nvml->Shutdown();
    free(r);
}

/* Marks the reader down after a reading that stopped (g->error says why): the first retry one
 * interval later, each next one twice as late, up to RETRY_MAX_S. */
static void went_down(hws_gpu_reader *r, const hws_mon_gpu *g, double now) {
    double longest = r->interval_s > RETRY_MAX_S ? r->interval_s : RETRY_MAX_S;
    r->backoff_s = !r->down                     ? r->interval_s
                   : r->backoff_s * 2 < longest ? r->backoff_s * 2
                                                : longest;
    r->down = 1;
    r->retry_at_s = now + r->backoff_s;
    snprintf(r->down_reason, sizeof r->down_reason, "%s", g->error);
}

/* A retry: a new nvmlInit (a driver reloaded or a GPU reset gives new handles), then a reading.
 * The init is kept when the reading succeeds and given back when it does not, so the reader holds
 * at most one init per recovery. */
static void retry(hws_gpu_reader *r, hws_mon_gpu *g, double now) {
    nvmlReturn_t rc = r->nvml->Init();
    if (rc != NVML_SUCCESS) {
        refused(r->nvml, g, "name", rc);
        if (!stopped(g)) /* an error that is not one of the gone kinds: still down */
            g->nvml_down = 1;
        went_down(r, g, now);
        return;
    }
    if (r->events != NULL)
        close_events(r); /* the old set went with the old session */
    r->events_rc = NVML_SUCCESS;
    r->nvlink_have = r->nvlink_unsupported = 0;
    read_all(r, g);
    if (stopped(g)) {
        r->nvml->Shutdown();
        went_down(r, g, now);
        return;
    }
    r->inits++;
    r->recoveries++;
    r->down = 0;
}

void hws_gpu_reader_read(hws_gpu_reader *r, hws_mon_gpu *g) {
    int was_lost = g->lost;
    double now = monotonic_s();
    clear_reading(g, r->index);
    g->timestamp_s = hws_mon_now_s();
    if (r->down && now < r->retry_at_s) { /* waiting: say why and when the next try is */
        g->lost = was_lost;
        g->nvml_down = !was_lost;
        snprintf(g->error, sizeof g->error, "%.100s; nvmlInit again in %.1f s", r->down_reason,
                 r->retry_at_s - now);
    } else if (r->down) {
        retry(r, g, now);
    } else {
        read_all(r, g);
        if (stopped(g))
            went_down(r, g, now);
    }
    g->nvml_recoveries = r->recoveries;
}
