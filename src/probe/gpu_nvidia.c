/* gpu_nvidia.c - NVIDIA GPUs: facts from NVML, completed by the CUDA driver API (SM count, L2),
 * the two joined on the PCI bus id. Every fact NVML refuses becomes n/a with NVML's reason. */
#include "probe/cuda_driver.h"
#include "probe/gpu_cache.h"
#include "probe/gpu_vendor.h"
#include "probe/notes.h"
#include "probe/nvml.h"
#include "util/units.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef nvmlReturn_t (*uint_getter)(nvmlDevice_t, unsigned int *);
typedef nvmlReturn_t (*typed_uint_getter)(nvmlDevice_t, int, unsigned int *);

/* Records why field is unknown; returns 1 when the GPU is lost (stop asking it). */
static int note_failure(const hws_nvml *n, hws_gpu_info *g, const char *field, nvmlReturn_t rc) {
    hws_note_add(&g->notes, "%s: NVML: %s", field, hws_nvml_error(n, rc));
    return rc == NVML_ERROR_GPU_IS_LOST;
}

static double read_uint(const hws_nvml *n, nvmlDevice_t dev, uint_getter fn, hws_gpu_info *g,
                        const char *field, double scale) {
    unsigned int v = 0;
    nvmlReturn_t rc = fn != NULL ? fn(dev, &v) : NVML_ERROR_NOT_SUPPORTED;
    if (rc != NVML_SUCCESS) {
        note_failure(n, g, field, rc);
        return HWS_NA;
    }
    return v * scale;
}

static double read_typed(const hws_nvml *n, nvmlDevice_t dev, typed_uint_getter fn, int type,
                         hws_gpu_info *g, const char *field) {
    unsigned int v = 0;
    nvmlReturn_t rc = fn != NULL ? fn(dev, type, &v) : NVML_ERROR_NOT_SUPPORTED;
    if (rc != NVML_SUCCESS) {
        note_failure(n, g, field, rc);
        return HWS_NA;
    }
    return v;
}

/* NVML's "00000000:18:00.0" and CUDA's "0000:18:00.0" both become "0000:18:00.0". */
void hws_bus_id_normalise(const char *in, char *out, size_t n) {
    const char *colon = strchr(in, ':');
    size_t domain_len = colon != NULL ? (size_t)(colon - in) : 0;
    const char *start = domain_len > 4 ? in + domain_len - 4 : in;
    snprintf(out, n, "%s", start);
    for (char *p = out; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* Returns 1 when the GPU answered "lost". */
static int read_identity(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    nvmlReturn_t rc = NVML_SUCCESS;
    nvmlPciInfo_t pci;
    if (n->DeviceGetName == NULL || (rc = n->DeviceGetName(dev, g->name, sizeof g->name)) != 0)
        if (note_failure(n, g, "name", n->DeviceGetName != NULL ? rc : NVML_ERROR_NOT_SUPPORTED))
            return 1;
    if (n->DeviceGetUUID == NULL || (rc = n->DeviceGetUUID(dev, g->uuid, sizeof g->uuid)) != 0)
        note_failure(n, g, "uuid", n->DeviceGetUUID != NULL ? rc : NVML_ERROR_NOT_SUPPORTED);
    if (n->DeviceGetSerial == NULL ||
        (rc = n->DeviceGetSerial(dev, g->serial, sizeof g->serial)) != 0)
        note_failure(n, g, "serial", n->DeviceGetSerial != NULL ? rc : NVML_ERROR_NOT_SUPPORTED);
    memset(&pci, 0, sizeof pci);
    if (n->DeviceGetPciInfo != NULL && (rc = n->DeviceGetPciInfo(dev, &pci)) == 0) {
        pci.busId[sizeof pci.busId - 1] = '\0';
        hws_bus_id_normalise(pci.busId, g->pci_bus_id, sizeof g->pci_bus_id);
    } else {
        note_failure(n, g, "pci_bus_id",
                     n->DeviceGetPciInfo != NULL ? rc : NVML_ERROR_NOT_SUPPORTED);
    }
    return 0;
}

/* The _v2 call (driver 510+) reports used memory without the driver's reservation, as
 * nvidia-smi does; older drivers only have the plain call, whose "used" includes it. */
static void read_memory(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    nvmlMemory_t m = {0, 0, 0};
    nvmlReturn_t rc = hws_nvml_memory(n, dev, &m);
    if (rc != NVML_SUCCESS) {
        note_failure(n, g, "mem_total_bytes", rc);
        note_failure(n, g, "mem_free_bytes", rc);
        note_failure(n, g, "mem_used_bytes", rc);
        return;
    }
    g->mem_total_bytes = (double)m.total;
    g->mem_free_bytes = (double)m.free;
    g->mem_used_bytes = (double)m.used;
}

static void read_modes(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    int cur = 0, pending = 0;
    unsigned int mig = 0, mig_pending = 0;
    nvmlReturn_t rc = n->DeviceGetEccMode != NULL ? n->DeviceGetEccMode(dev, &cur, &pending)
                                                  : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        g->ecc_enabled = cur != 0;
    else
        note_failure(n, g, "ecc_enabled", rc);
    rc = n->DeviceGetMigMode != NULL ? n->DeviceGetMigMode(dev, &mig, &mig_pending)
                                     : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        g->mig_enabled = mig != 0;
    else
        note_failure(n, g, "mig_enabled", rc);
    rc = n->DeviceGetPersistenceMode != NULL ? n->DeviceGetPersistenceMode(dev, &cur)
                                             : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        g->persistence_enabled = cur != 0;
    else
        note_failure(n, g, "persistence_enabled", rc);
}

static void read_nvlink(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    int active_links = 0;
    for (unsigned int link = 0; link < NVML_NVLINK_MAX_LINKS; link++) {
        int active = 0;
        nvmlReturn_t rc = n->DeviceGetNvLinkState != NULL
                              ? n->DeviceGetNvLinkState(dev, link, &active)
                              : NVML_ERROR_NOT_SUPPORTED;
        if (rc != NVML_SUCCESS) {
            if (link == 0) {
                note_failure(n, g, "nvlink_links_active", rc);
                return;
            }
            break;
        }
        active_links += active == 1;
    }
    g->nvlink_links_active = active_links;
}

/* The process list, with each process's name as the driver knows it. */
static void read_processes(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    nvmlProcessInfo_v1_t found[HWS_MAX_GPU_PROCS];
    unsigned int count = 0;
    nvmlReturn_t rc = hws_nvml_processes(n, dev, found, HWS_MAX_GPU_PROCS, &count);
    if (rc != NVML_SUCCESS) {
        note_failure(n, g, "processes", rc);
        g->nprocs = -1;
        return;
    }
    g->nprocs = 0;
    for (unsigned int i = 0; i < count; i++) {
        hws_gpu_process *p = &g->procs[g->nprocs++];
        char path[256] = "";
        p->pid = found[i].pid;
        p->used_bytes = found[i].usedGpuMemory == ~0ULL ? HWS_NA : (double)found[i].usedGpuMemory;
        if (n->SystemGetProcessName != NULL &&
            n->SystemGetProcessName(found[i].pid, path, sizeof path) == NVML_SUCCESS) {
            const char *base = strrchr(path, '/');
            snprintf(p->name, sizeof p->name, "%.63s", base != NULL ? base + 1 : path);
        }
    }
}

/* Clock-event (throttle) reasons now, and the volatile ECC error counts. */
static void read_health(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    unsigned long long v = 0;
    nvmlReturn_t rc = n->DeviceGetCurrentClocksEventReasons != NULL
                          ? n->DeviceGetCurrentClocksEventReasons(dev, &v)
                          : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
        g->clock_event_reasons = (double)v;
        hws_clock_events_text(v, 0, g->clock_event_text, sizeof g->clock_event_text);
        if (g->clock_event_text[0] == '\0') /* known: nothing holds the clocks */
            snprintf(g->clock_event_text, sizeof g->clock_event_text, "none");
    } else {
        note_failure(n, g, "clock_event_reasons", rc);
    }
    const int types[2] = {NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_MEMORY_ERROR_TYPE_UNCORRECTED};
    const char *fields[2] = {"ecc_errors_corrected", "ecc_errors_uncorrected"};
    double *counts[2] = {&g->ecc_errors_corrected, &g->ecc_errors_uncorrected};
    for (int i = 0; i < 2; i++) {
        rc = hws_nvml_ecc_errors(n, dev, types[i], &v);
        if (rc == NVML_SUCCESS)
            *counts[i] = (double)v;
        else
            note_failure(n, g, fields[i], rc);
    }
}

/* The MIG instances of a GPU in MIG mode: each one's name, UUID and memory. */
static void read_mig(const hws_nvml *n, nvmlDevice_t dev, hws_gpu_info *g) {
    unsigned int max = 0;
    nvmlReturn_t rc = n->DeviceGetMaxMigDeviceCount != NULL && n->DeviceGetMigDeviceHandleByIndex
                          ? n->DeviceGetMaxMigDeviceCount(dev, &max)
                          : NVML_ERROR_NOT_SUPPORTED;
    if (rc != NVML_SUCCESS) {
        note_failure(n, g, "mig_instances", rc);
        return;
    }
    for (unsigned int i = 0; i < max && g->mig_count < HWS_MAX_MIG; i++) {
        nvmlDevice_t mig;
        if (n->DeviceGetMigDeviceHandleByIndex(dev, i, &mig) != NVML_SUCCESS)
            continue; /* a slot with no instance made */
        hws_mig_instance *m = &g->mig[g->mig_count++];
        hws_gpu_info scratch; /* the memory reader fills a GPU record */
        hws_gpu_info_init(&scratch, g->index);
        if (n->DeviceGetName != NULL)
            n->DeviceGetName(mig, m->name, sizeof m->name);
        if (n->DeviceGetUUID != NULL)
            n->DeviceGetUUID(mig, m->uuid, sizeof m->uuid);
        read_memory(n, mig, &scratch);
        m->mem_total_bytes = scratch.mem_total_bytes;
        m->mem_free_bytes = scratch.mem_free_bytes;
        m->mem_used_bytes = scratch.mem_used_bytes;
    }
}

static void read_device(const hws_nvml *n, unsigned int index, hws_gpu_info *g) {
    nvmlDevice_t dev;
    int major, minor;
    nvmlReturn_t rc = n->DeviceGetHandleByIndex(index, &dev);
    if (rc != NVML_SUCCESS) {
        note_failure(n, g, "name", rc);
        return;
    }
    if (read_identity(n, dev, g)) {
        g->lost = 1;
        return;
    }
    read_memory(n, dev, g);
    if (n->DeviceGetCudaComputeCapability != NULL &&
        n->DeviceGetCudaComputeCapability(dev, &major, &minor) == NVML_SUCCESS) {
        g->cc_major = major;
        g->cc_minor = minor;
    }
    g->max_sm_clock_mhz =
        read_typed(n, dev, n->DeviceGetMaxClockInfo, NVML_CLOCK_SM, g, "max_sm_clock_mhz");
    g->max_mem_clock_mhz =
        read_typed(n, dev, n->DeviceGetMaxClockInfo, NVML_CLOCK_MEM, g, "max_mem_clock_mhz");
    g->cur_sm_clock_mhz =
        read_typed(n, dev, n->DeviceGetClockInfo, NVML_CLOCK_SM, g, "cur_sm_clock_mhz");
    g->cur_mem_clock_mhz =
        read_typed(n, dev, n->DeviceGetClockInfo, NVML_CLOCK_MEM, g, "cur_mem_clock_mhz");
    g->mem_bus_width_bits =
        read_uint(n, dev, n->DeviceGetMemoryBusWidth, g, "mem_bus_width_bits", 1);
    g->pcie_gen_cur = read_uint(n, dev, n->DeviceGetCurrPcieLinkGeneration, g, "pcie_gen_cur", 1);
    g->pcie_gen_max = read_uint(n, dev, n->DeviceGetMaxPcieLinkGeneration, g, "pcie_gen_max", 1);
    g->pcie_width_cur = read_uint(n, dev, n->DeviceGetCurrPcieLinkWidth, g, "pcie_width_cur", 1);
    g->pcie_width_max = read_uint(n, dev, n->DeviceGetMaxPcieLinkWidth, g, "pcie_width_max", 1);
    g->power_limit_w = read_uint(n, dev, n->DeviceGetEnforcedPowerLimit, g, "power_limit_w", 1e-3);
    g->default_power_limit_w = read_uint(n, dev, n->DeviceGetPowerManagementDefaultLimit, g,
                                         "default_power_limit_w", 1e-3);
    g->power_draw_w = read_uint(n, dev, n->DeviceGetPowerUsage, g, "power_draw_w", 1e-3);
    g->temperature_c =
        read_typed(n, dev, n->DeviceGetTemperature, NVML_TEMPERATURE_GPU, g, "temperature_c");
    nvmlUtilization_t util;
    rc = n->DeviceGetUtilizationRates != NULL ? n->DeviceGetUtilizationRates(dev, &util)
                                              : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS) {
        g->util_gpu_pct = util.gpu;
        g->util_mem_pct = util.memory;
    } else {
        note_failure(n, g, "util_gpu_pct", rc);
    }
    read_nvlink(n, dev, g);
    read_modes(n, dev, g);
    read_processes(n, dev, g);
    read_health(n, dev, g);
    if (g->mig_enabled == 1)
        read_mig(n, dev, g);
}

/* Fills the facts only the driver API has (SM count, L2) and any NVML left unknown, for the GPU
 * with the same PCI bus id; a GPU NVML did not list is added. */
static void join_cuda(const hws_cuda_driver *cu, hws_gpu_list *list) {
    int count = 0;
    if (cu->DeviceGetCount(&count) != 0)
        return;
    for (int i = 0; i < count; i++) {
        CUdevice dev;
        char bus[32] = "", norm[32] = "";
        int v;
        if (cu->DeviceGet(&dev, i) != 0)
            continue;
        if (cu->DeviceGetPCIBusId != NULL && cu->DeviceGetPCIBusId(bus, sizeof bus, dev) == 0)
            hws_bus_id_normalise(bus, norm, sizeof norm);
        hws_gpu_info *g = NULL;
        for (int k = 0; k < list->count && g == NULL; k++)
            if (norm[0] != '\0' && strcmp(list->gpus[k].pci_bus_id, norm) == 0)
                g = &list->gpus[k];
        if (g == NULL) {
            if (list->count >= HWS_MAX_GPUS)
                continue;
            g = &list->gpus[list->count];
            hws_gpu_info_init(g, list->count++);
            snprintf(g->vendor, sizeof g->vendor, "NVIDIA");
            snprintf(g->pci_bus_id, sizeof g->pci_bus_id, "%s", norm);
            if (cu->DeviceGetName != NULL)
                cu->DeviceGetName(g->name, sizeof g->name, dev);
        }
        if (g->lost)
            continue;
        if (cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) == 0)
            g->sm_count = v;
        if (cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev) == 0)
            g->l2_bytes = v;
        if (!hws_known(g->cc_major) &&
            cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) == 0)
            g->cc_major = v;
        if (!hws_known(g->cc_minor) &&
            cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev) == 0)
            g->cc_minor = v;
        if (!hws_known(g->mem_bus_width_bits) &&
            cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, dev) == 0)
            g->mem_bus_width_bits = v;
        if (!hws_known(g->max_mem_clock_mhz) &&
            cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, dev) == 0)
            g->max_mem_clock_mhz = v / 1000.0;
        if (!hws_known(g->max_sm_clock_mhz) &&
            cu->DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, dev) == 0)
            g->max_sm_clock_mhz = v / 1000.0;
        size_t total;
        if (!hws_known(g->mem_total_bytes) && cu->DeviceTotalMem != NULL &&
            cu->DeviceTotalMem(&total, dev) == 0)
            g->mem_total_bytes = (double)total;
    }
}

static void read_versions(const hws_nvml *n, hws_gpu_list *list) {
    int cuda = 0;
    if (n->SystemGetDriverVersion != NULL)
        n->SystemGetDriverVersion(list->driver_version, sizeof list->driver_version);
    if (n->SystemGetNVMLVersion != NULL)
        n->SystemGetNVMLVersion(list->nvml_version, sizeof list->nvml_version);
    if (n->SystemGetCudaDriverVersion != NULL && n->SystemGetCudaDriverVersion(&cuda) == 0)
        list->cuda_driver_version = cuda;
}

/* Fills every GPU NVML listed from the cache (hws_gpu_cache_read); true when each had an entry,
 * so the driver API need not be initialised. All or nothing: false changes no GPU. */
static bool fill_from_cache(hws_gpu_list *list, const char *dir) {
    hws_gpu_cache_entry entries[HWS_MAX_GPUS];
    if (list->count <= 0 || list->count > HWS_MAX_GPUS || list->driver_version[0] == '\0')
        return false;
    for (int i = 0; i < list->count; i++)
        if (list->gpus[i].lost ||
            !hws_gpu_cache_read(dir, &list->gpus[i], list->driver_version, &entries[i]))
            return false;
    for (int i = 0; i < list->count; i++)
        hws_gpu_cache_apply(&entries[i], &list->gpus[i]);
    if (!hws_known(list->cuda_driver_version))
        list->cuda_driver_version = entries[0].cuda_driver_version;
    return true;
}

static hws_status nvidia_list(hws_gpu_list *list, hws_error *err) {
    hws_error nvml_err = {""}, cuda_err = {""};
    const hws_nvml *n = hws_nvml_get(&nvml_err);
    const hws_cuda_driver *cu = NULL;
    char cache[4096];
    bool use_cache = hws_gpu_cache_dir(cache, sizeof cache);
    (void)err;
    if (n != NULL) {
        unsigned int count = 0;
        nvmlReturn_t rc;
        read_versions(n, list);
        if ((rc = n->DeviceGetCount(&count)) != NVML_SUCCESS)
            snprintf(nvml_err.msg, sizeof nvml_err.msg, "NVML: cannot count GPUs: %s",
                     hws_nvml_error(n, rc));
        for (unsigned int i = 0; i < count && list->count < HWS_MAX_GPUS; i++) {
            hws_gpu_info *g = &list->gpus[list->count];
            hws_gpu_info_init(g, list->count++);
            snprintf(g->vendor, sizeof g->vendor, "NVIDIA");
            read_device(n, i, g);
        }
    }
    /* what only CUDA knows: from the cache when every GPU has an entry, else from the driver
     * API, whose answers are then kept for the next call */
    if (!(use_cache && n != NULL && fill_from_cache(list, cache)))
        cu = hws_cuda_driver_get(&cuda_err);
    if (cu != NULL) {
        int version = 0;
        const hws_cuda_driver *d = cu;
        if (!hws_known(list->cuda_driver_version) && d->DriverGetVersion(&version) == 0)
            list->cuda_driver_version = version;
        join_cuda(cu, list);
        for (int i = 0; use_cache && n != NULL && i < list->count; i++)
            hws_gpu_cache_write(cache, &list->gpus[i], list->driver_version,
                                list->cuda_driver_version);
    }
    if (hws_known(list->cuda_driver_version))
        snprintf(list->cuda_version, sizeof list->cuda_version, "%d.%d",
                 (int)list->cuda_driver_version / 1000,
                 ((int)list->cuda_driver_version % 1000) / 10);
    if (list->count == 0)
        snprintf(list->why_none, sizeof list->why_none, "%.250s%s%.250s",
                 n != NULL ? "NVML sees no GPU" : nvml_err.msg, "; ",
                 cu != NULL ? "CUDA sees no GPU" : cuda_err.msg);
    else if (n == NULL)
        for (int i = 0; i < list->count; i++)
            hws_note_add(&list->gpus[i].notes, "nvml: %.140s", nvml_err.msg);
    return HWS_OK;
}

static hws_status nvidia_sample(int index, hws_gpu_sample *s, hws_error *err) {
    const hws_nvml *n = hws_nvml_get(err);
    nvmlDevice_t dev;
    hws_gpu_info scratch; /* receives the notes of failed reads */
    unsigned long long reasons = 0;
    if (n == NULL)
        return HWS_ERR_UNSUPPORTED;
    nvmlReturn_t rc = n->DeviceGetHandleByIndex((unsigned int)index, &dev);
    if (rc != NVML_SUCCESS)
        return hws_error_set(err, HWS_ERR_RUNTIME, "GPU %d: NVML: %s", index,
                             hws_nvml_error(n, rc));
    memset(s, 0, sizeof *s);
    hws_gpu_info_init(&scratch, index);
    unsigned int probe_clock = 0;
    if (n->DeviceGetClockInfo != NULL &&
        n->DeviceGetClockInfo(dev, NVML_CLOCK_SM, &probe_clock) == NVML_ERROR_GPU_IS_LOST)
        return hws_error_set(err, HWS_ERR_RUNTIME, "GPU %d: NVML: %s", index,
                             hws_nvml_error(n, NVML_ERROR_GPU_IS_LOST));
    s->sm_clock_mhz = read_typed(n, dev, n->DeviceGetClockInfo, NVML_CLOCK_SM, &scratch, "sm");
    s->mem_clock_mhz = read_typed(n, dev, n->DeviceGetClockInfo, NVML_CLOCK_MEM, &scratch, "mem");
    s->power_w = read_uint(n, dev, n->DeviceGetPowerUsage, &scratch, "power", 1e-3);
    s->temperature_c =
        read_typed(n, dev, n->DeviceGetTemperature, NVML_TEMPERATURE_GPU, &scratch, "temperature");
    nvmlUtilization_t util;
    s->util_gpu_pct = s->util_mem_pct = HWS_NA;
    if (n->DeviceGetUtilizationRates != NULL &&
        n->DeviceGetUtilizationRates(dev, &util) == NVML_SUCCESS) {
        s->util_gpu_pct = util.gpu;
        s->util_mem_pct = util.memory;
    }
    nvmlMemory_t mem;
    s->mem_used_bytes = HWS_NA;
    if (n->DeviceGetMemoryInfo != NULL && n->DeviceGetMemoryInfo(dev, &mem) == NVML_SUCCESS)
        s->mem_used_bytes = (double)mem.used;
    unsigned long long energy_mj;
    s->energy_mj = HWS_NA;
    if (n->DeviceGetTotalEnergyConsumption != NULL &&
        n->DeviceGetTotalEnergyConsumption(dev, &energy_mj) == NVML_SUCCESS)
        s->energy_mj = (double)energy_mj;
    s->clock_event_reasons = HWS_NA;
    if (n->DeviceGetCurrentClocksEventReasons != NULL &&
        n->DeviceGetCurrentClocksEventReasons(dev, &reasons) == NVML_SUCCESS) {
        s->clock_event_reasons = (double)reasons;
        hws_clock_events_text(reasons, 0, s->clock_event_text, sizeof s->clock_event_text);
    }
    return HWS_OK;
}

const hws_gpu_vendor hws_gpu_vendor_nvidia = {
    .name = "NVIDIA",
    .list = nvidia_list,
    .sample = nvidia_sample,
};
