/* fake_nvml.c - a stand-in for libnvidia-ml.so.1 that plays back a GPU script (script.h).
 *
 * Exports the real NVML symbols with the real signatures and struct layouts (nvml.h, API 12/13),
 * so a probe built against the real ABI runs unchanged. Built with -DFAKE_NVML_OLD it plays an
 * old driver (before R510/R535): no nvmlDeviceGetComputeRunningProcesses_v3, no
 * nvmlDeviceGetMemoryInfo_v2, no nvmlDeviceGetCurrentClocksEventReasons, and none of the newer
 * topology calls (nvmlDeviceGetNvLinkRemoteDeviceType, nvmlDeviceGetMemoryAffinity). */
#include "script.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the NVML ABI (values and layouts as nvml.h) ---- */
typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_UNKNOWN = 999,
};
typedef enum { NVML_FEATURE_DISABLED = 0, NVML_FEATURE_ENABLED = 1 } nvmlEnableState_t;
typedef enum {
    NVML_CLOCK_GRAPHICS = 0,
    NVML_CLOCK_SM = 1,
    NVML_CLOCK_MEM = 2,
    NVML_CLOCK_VIDEO = 3
} nvmlClockType_t;
typedef enum { NVML_TEMPERATURE_GPU = 0 } nvmlTemperatureSensors_t;
#define NVML_NVLINK_MAX_LINKS 18

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlPciInfo_st {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;
typedef struct nvmlMemory_st {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;
typedef struct nvmlMemory_v2_st {
    unsigned int version;
    unsigned long long total;
    unsigned long long reserved;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_v2_t;
#define nvmlMemory_v2 ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))
typedef struct nvmlUtilization_st {
    unsigned int gpu;
    unsigned int memory;
} nvmlUtilization_t;
typedef struct nvmlProcessInfo_v1_st {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;
typedef struct nvmlProcessInfo_st { /* nvmlProcessInfo_v2_t; the _v3 call takes it too */
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} nvmlProcessInfo_t;

/* ---- state ---- */
#define FAKE_MAX_MIG 8
struct nvmlDevice_st {
    unsigned index; /* the GPU's NVML index (a MIG handle: its parent's) */
    int mig;        /* -1: the GPU itself; else the MIG slot */
};
static struct nvmlDevice_st devices[FAKE_MAX_GPUS];
static struct nvmlDevice_st mig_devices[FAKE_MAX_GPUS][FAKE_MAX_MIG];
static atomic_uint init_count;
static double init_time_ms; /* CLOCK_MONOTONIC at the first nvmlInit, for gpuI.lost_after_ms */
static atomic_int revived;  /* an nvmlInit came after nvml.back_after_ms */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER; /* readers re-init in threads */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* gpuI.lost = 1, or gpuI.lost_after_ms = N and N ms have passed since nvmlInit. */
static bool gpu_lost(unsigned index) {
    const char *lost = fake_gpu_get(index, "lost");
    const char *after = fake_gpu_get(index, "lost_after_ms");
    unsigned long long ms = 0;
    if (lost && strcmp(lost, "1") == 0)
        return true;
    return after && fake_parse_u64(after, &ms) && now_ms() - init_time_ms >= (double)ms;
}

#define MAX_PROCS 64
typedef struct {
    unsigned pid;
    char name[256];
    unsigned long long used_bytes;
    unsigned gi, ci;
} proc;

/* An error name in a value -> its code; a plain value -> NVML_SUCCESS. */
static nvmlReturn_t value_code(const char *value) {
    int code = fake_nvml_code(value);
    return code > 0 ? code : NVML_SUCCESS;
}

static bool handle_in(nvmlDevice_t dev, const void *array, size_t size) {
    uintptr_t p = (uintptr_t)dev, first = (uintptr_t)array;
    return p >= first && p < first + size && (p - first) % sizeof(devices[0]) == 0;
}

/* 1 when key = N (ms) is scripted and N ms have passed since the first nvmlInit. */
static bool passed(const char *key) {
    const char *after = fake_get(key);
    unsigned long long ms = 0;
    return after && fake_parse_u64(after, &ms) && now_ms() - init_time_ms >= (double)ms;
}

/* nvml.gone_after_ms = N: N ms after nvmlInit the driver is gone (unloaded, reset): calls and
 * nvmlInit answer DRIVER_NOT_LOADED. nvml.back_after_ms = M: from M ms on the driver is back but
 * the library's state went with it: calls answer UNINITIALIZED until an nvmlInit. */
static nvmlReturn_t nvml_state(void) {
    if (!passed("nvml.gone_after_ms"))
        return NVML_SUCCESS;
    if (!passed("nvml.back_after_ms"))
        return NVML_ERROR_DRIVER_NOT_LOADED;
    return atomic_load(&revived) ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
}

static nvmlReturn_t device_index(nvmlDevice_t dev, unsigned *index) {
    if (!init_count)
        return NVML_ERROR_UNINITIALIZED;
    if (nvml_state() != NVML_SUCCESS)
        return nvml_state();
    if (!handle_in(dev, devices, sizeof(devices)) &&
        !handle_in(dev, mig_devices, sizeof(mig_devices)))
        return NVML_ERROR_INVALID_ARGUMENT;
    *index = dev->index;
    return gpu_lost(*index) ? NVML_ERROR_GPU_IS_LOST : NVML_SUCCESS;
}

/* Item `slot` of gpuI.mig_devices ("name:uuid:total:free, ..."), split into its 4 parts in
 * buf; false when there is no such item. */
static bool mig_item(unsigned index, int slot, char *buf, size_t len, char *parts[4]) {
    const char *list = fake_gpu_get(index, "mig_devices");
    if (!list)
        return false;
    snprintf(buf, len, "%s", list);
    char *save = NULL;
    char *item = strtok_r(buf, ",", &save);
    for (int i = 0; item && i < slot; i++)
        item = strtok_r(NULL, ",", &save);
    if (!item)
        return false;
    char *psave = NULL;
    for (int i = 0; i < 4; i++) {
        parts[i] = strtok_r(i == 0 ? item : NULL, ":", &psave);
        if (!parts[i])
            return false;
        while (*parts[i] == ' ')
            parts[i]++;
    }
    return true;
}

/* What a MIG handle answers: its name, UUID and memory; NOT_SUPPORTED for anything else. */
static nvmlReturn_t mig_field(nvmlDevice_t dev, const char *name, const char **text) {
    static char buf[1024], used[32];
    char *parts[4];
    unsigned long long total = 0, free_bytes = 0;
    if (!mig_item(dev->index, dev->mig, buf, sizeof(buf), parts))
        return NVML_ERROR_NOT_FOUND;
    const char *keys[4] = {"name", "uuid", "memory_total", "memory_free"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, keys[i]) == 0) {
            *text = parts[i];
            return NVML_SUCCESS;
        }
    }
    if (strcmp(name, "memory_used") != 0 || !fake_parse_u64(parts[2], &total) ||
        !fake_parse_u64(parts[3], &free_bytes))
        return NVML_ERROR_NOT_SUPPORTED;
    snprintf(used, sizeof(used), "%llu", total - free_bytes);
    *text = used;
    return NVML_SUCCESS;
}

/* The text of a per-GPU key, or the error the call must return. */
static nvmlReturn_t field(nvmlDevice_t dev, const char *name, const char **text) {
    unsigned index = 0;
    nvmlReturn_t rc = device_index(dev, &index);
    if (rc != NVML_SUCCESS)
        return rc;
    if (dev->mig >= 0)
        return mig_field(dev, name, text);
    *text = fake_gpu_get(index, name);
    return *text ? value_code(*text) : NVML_ERROR_NOT_SUPPORTED;
}

static nvmlReturn_t field_u64(nvmlDevice_t dev, const char *name, unsigned long long *out) {
    const char *text = NULL;
    nvmlReturn_t rc = field(dev, name, &text);
    if (rc != NVML_SUCCESS)
        return rc;
    return fake_parse_u64(text, out) ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
}

static nvmlReturn_t field_uint(nvmlDevice_t dev, const char *name, unsigned int *out) {
    unsigned long long v = 0;
    if (!out)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    nvmlReturn_t rc = field_u64(dev, name, &v);
    if (rc == NVML_SUCCESS)
        *out = (unsigned int)v;
    return rc;
}

static nvmlReturn_t copy_string(const char *text, char *buf, unsigned int length) {
    if (!buf)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(text) + 1 > length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(buf, text, strlen(text) + 1);
    return NVML_SUCCESS;
}

static nvmlReturn_t field_string(nvmlDevice_t dev, const char *name, char *buf,
                                 unsigned int length) {
    const char *text = NULL;
    nvmlReturn_t rc = field(dev, name, &text);
    return rc != NVML_SUCCESS ? rc : copy_string(text, buf, length);
}

static nvmlReturn_t system_string(const char *key, char *buf, unsigned int length) {
    if (!init_count)
        return NVML_ERROR_UNINITIALIZED;
    const char *text = fake_get(key);
    if (!text)
        return NVML_ERROR_NOT_SUPPORTED;
    nvmlReturn_t rc = value_code(text);
    return rc != NVML_SUCCESS ? rc : copy_string(text, buf, length);
}

/* "pid:name:bytes[:gi:ci], ..." -> procs; returns the count, or -1 when it does not parse. */
static int parse_procs(const char *text, proc *out, int max) {
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", text);
    int n = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        unsigned long long pid = 0, used = 0, gi = 0xFFFFFFFFu, ci = 0xFFFFFFFFu;
        char *parts[5] = {0};
        int np = 0;
        char *psave = NULL;
        for (char *p = strtok_r(item, ":", &psave); p && np < 5; p = strtok_r(NULL, ":", &psave))
            parts[np++] = p;
        if (np == 1 && strspn(parts[0], " \t") == strlen(parts[0]))
            continue; /* an empty item */
        if (n >= max || (np != 3 && np != 5))
            return -1;
        for (int i = 0; i < np; i++) {
            while (*parts[i] == ' ' || *parts[i] == '\t')
                parts[i]++;
            for (size_t k = strlen(parts[i]); k > 0 && parts[i][k - 1] == ' ';)
                parts[i][--k] = '\0';
        }
        if (!fake_parse_u64(parts[0], &pid) || !fake_parse_u64(parts[2], &used) ||
            (np == 5 && (!fake_parse_u64(parts[3], &gi) || !fake_parse_u64(parts[4], &ci))))
            return -1;
        out[n] = (proc){
            .pid = (unsigned)pid, .used_bytes = used, .gi = (unsigned)gi, .ci = (unsigned)ci};
        snprintf(out[n].name, sizeof(out[n].name), "%s", parts[1]);
        n++;
    }
    return n;
}

/* The shared body of the three process calls; version 1 fills nvmlProcessInfo_v1_t. */
static nvmlReturn_t running_processes(nvmlDevice_t dev, unsigned int *count, void *infos,
                                      int version) {
    const char *text = NULL;
    nvmlReturn_t rc = field(dev, "procs", &text);
    if (rc == NVML_SUCCESS && !count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    proc procs[MAX_PROCS];
    int n = parse_procs(text, procs, MAX_PROCS);
    if (n < 0)
        return NVML_ERROR_UNKNOWN;
    unsigned capacity = *count;
    *count = (unsigned)n;
    if (capacity < (unsigned)n)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    if (n > 0 && !infos)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (int i = 0; i < n; i++) {
        if (version == 1) {
            nvmlProcessInfo_v1_t *o = (nvmlProcessInfo_v1_t *)infos + i;
            *o = (nvmlProcessInfo_v1_t){procs[i].pid, procs[i].used_bytes};
        } else {
            nvmlProcessInfo_t *o = (nvmlProcessInfo_t *)infos + i;
            *o = (nvmlProcessInfo_t){procs[i].pid, procs[i].used_bytes, procs[i].gi, procs[i].ci};
        }
    }
    return NVML_SUCCESS;
}

static unsigned script_gpu_count(nvmlReturn_t *rc) {
    const char *text = fake_get("gpus");
    unsigned long long n = 0;
    *rc = text ? value_code(text) : NVML_SUCCESS;
    if (*rc == NVML_SUCCESS && text && !fake_parse_u64(text, &n))
        *rc = NVML_ERROR_UNKNOWN;
    return n > FAKE_MAX_GPUS ? FAKE_MAX_GPUS : (unsigned)n;
}

/* ---- exported: init and system ---- */
static nvmlReturn_t first_init(void) {
    if (!fake_script_load())
        return NVML_ERROR_DRIVER_NOT_LOADED;
    const char *init = fake_get("nvml.init");
    int code = init ? fake_nvml_code(init) : 0;
    if (code != 0)
        return code < 0 ? NVML_ERROR_UNKNOWN : code;
    for (unsigned i = 0; i < FAKE_MAX_GPUS; i++) {
        devices[i] = (struct nvmlDevice_st){i, -1};
        for (int m = 0; m < FAKE_MAX_MIG; m++)
            mig_devices[i][m] = (struct nvmlDevice_st){i, m};
    }
    init_time_ms = now_ms();
    atomic_store(&revived, 0);
    init_count = 1;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&init_lock);
    if (!init_count) {
        rc = first_init();
    } else if (nvml_state() == NVML_ERROR_DRIVER_NOT_LOADED) {
        rc = NVML_ERROR_DRIVER_NOT_LOADED;
    } else {
        if (passed("nvml.back_after_ms"))
            atomic_store(&revived, 1);
        init_count++;
    }
    pthread_mutex_unlock(&init_lock);
    return rc;
}

nvmlReturn_t nvmlInit(void) {
    return nvmlInit_v2();
}

nvmlReturn_t nvmlShutdown(void) {
    nvmlReturn_t rc = NVML_SUCCESS;
    pthread_mutex_lock(&init_lock);
    if (!init_count)
        rc = NVML_ERROR_UNINITIALIZED;
    else
        init_count--;
    pthread_mutex_unlock(&init_lock);
    return rc;
}

const char *nvmlErrorString(nvmlReturn_t result) {
    return fake_nvml_string(result);
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    return system_string("driver_version", version, length);
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
    return system_string("nvml_version", version, length);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion) {
    char text[32];
    unsigned long long v = 0;
    if (!cudaDriverVersion)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = system_string("cuda_driver_version", text, sizeof(text));
    if (rc == NVML_SUCCESS && !fake_parse_u64(text, &v))
        rc = NVML_ERROR_UNKNOWN;
    if (rc == NVML_SUCCESS)
        *cudaDriverVersion = (int)v;
    return rc;
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion) {
    return nvmlSystemGetCudaDriverVersion(cudaDriverVersion);
}

nvmlReturn_t nvmlSystemGetProcessName(unsigned int pid, char *name, unsigned int length) {
    if (!init_count)
        return NVML_ERROR_UNINITIALIZED;
    if (!name || length == 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    const char *forced = fake_get("process_name");
    if (forced && value_code(forced) != NVML_SUCCESS)
        return value_code(forced);
    nvmlReturn_t rc;
    unsigned ngpus = script_gpu_count(&rc);
    for (unsigned g = 0; g < ngpus; g++) {
        proc procs[MAX_PROCS];
        const char *text = fake_gpu_get(g, "procs");
        int n = text && value_code(text) == NVML_SUCCESS ? parse_procs(text, procs, MAX_PROCS) : 0;
        for (int i = 0; i < n; i++) {
            if (procs[i].pid == pid) { /* the real call truncates to length */
                snprintf(name, length, "%s", procs[i].name);
                return NVML_SUCCESS;
            }
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

/* ---- exported: devices ---- */
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) {
    if (!init_count)
        return NVML_ERROR_UNINITIALIZED;
    if (nvml_state() != NVML_SUCCESS)
        return nvml_state();
    if (!deviceCount)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc;
    unsigned n = script_gpu_count(&rc);
    if (rc == NVML_SUCCESS)
        *deviceCount = n;
    return rc;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    unsigned int count = 0;
    nvmlReturn_t rc = nvmlDeviceGetCount_v2(&count);
    if (rc != NVML_SUCCESS)
        return rc;
    if (index >= count || !device)
        return NVML_ERROR_INVALID_ARGUMENT;
    const char *handle = fake_gpu_get(index, "handle");
    if (handle && value_code(handle) != NVML_SUCCESS)
        return value_code(handle);
    *device = &devices[index];
    return NVML_SUCCESS;
}

/* The pre-_v2 names the real library still exports (same answers here). */
nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount) {
    return nvmlDeviceGetCount_v2(deviceCount);
}

nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device) {
    return nvmlDeviceGetHandleByIndex_v2(index, device);
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    return field_string(device, "name", name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    return field_string(device, "uuid", uuid, length);
}

nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length) {
    return field_string(device, "serial", serial, length);
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    const char *text = NULL;
    nvmlReturn_t rc = field(device, "pci_bus_id", &text);
    if (rc == NVML_SUCCESS && !pci)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    unsigned domain, bus, dev, fn;
    if (sscanf(text, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4 || strlen(text) >= 32)
        return NVML_ERROR_UNKNOWN;
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%04X:%02X:%02X.%X", domain & 0xFFFF,
             bus & 0xFF, dev & 0xFF, fn & 0xF);
    snprintf(pci->busId, sizeof(pci->busId), "%s", text);
    pci->domain = domain;
    pci->bus = bus;
    pci->device = dev;
    unsigned long long id = 0;
    if (fake_parse_u64(fake_gpu_get(device->index, "pci_device_id"), &id))
        pci->pciDeviceId = (unsigned int)id;
    if (fake_parse_u64(fake_gpu_get(device->index, "pci_subsystem_id"), &id))
        pci->pciSubSystemId = (unsigned int)id;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    return nvmlDeviceGetPciInfo_v3(device, pci);
}

/* total, reserved, free, used of a GPU. */
static nvmlReturn_t memory(nvmlDevice_t device, unsigned long long v[4]) {
    static const char *const names[4] = {"memory_total", "memory_reserved", "memory_free",
                                         "memory_used"};
    for (int i = 0; i < 4; i++) {
        nvmlReturn_t rc = field_u64(device, names[i], &v[i]);
        if (rc == NVML_ERROR_NOT_SUPPORTED && i == 1)
            rc = NVML_SUCCESS, v[i] = 0;
        if (rc != NVML_SUCCESS)
            return rc;
    }
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *mem) {
    unsigned long long v[4];
    nvmlReturn_t rc = memory(device, v);
    if (rc == NVML_SUCCESS && !mem)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *mem = (nvmlMemory_t){
            .total = v[0], .free = v[2], .used = v[3] + v[1]}; /* v1: incl. reserved */
    return rc;
}

#ifndef FAKE_NVML_OLD
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *mem) {
    unsigned long long v[4];
    nvmlReturn_t rc = memory(device, v);
    if (rc == NVML_SUCCESS && !mem)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && mem->version != nvmlMemory_v2)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    if (rc == NVML_SUCCESS)
        *mem = (nvmlMemory_v2_t){nvmlMemory_v2, v[0], v[1], v[2], v[3]};
    return rc;
}
#endif

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    const char *text = NULL;
    nvmlReturn_t rc = field(device, "cc", &text);
    if (rc == NVML_SUCCESS && (!major || !minor))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    char tail;
    if (sscanf(text, "%d.%d%c", major, minor, &tail) != 2)
        return NVML_ERROR_UNKNOWN;
    return NVML_SUCCESS;
}

static const char *clock_key(nvmlClockType_t type, bool max) {
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM:
        return max ? "max_sm_clock_mhz" : "sm_clock_mhz";
    case NVML_CLOCK_MEM:
        return max ? "max_mem_clock_mhz" : "mem_clock_mhz";
    case NVML_CLOCK_VIDEO:
        return max ? "max_video_clock_mhz" : "video_clock_mhz";
    }
    return NULL;
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type,
                                       unsigned int *clock) {
    const char *key = clock_key(type, true);
    return key ? field_uint(device, key, clock) : NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type,
                                    unsigned int *clock) {
    const char *key = clock_key(type, false);
    return key ? field_uint(device, key, clock) : NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvmlDeviceGetMemoryBusWidth(nvmlDevice_t device, unsigned int *busWidth) {
    return field_uint(device, "bus_width", busWidth);
}

nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int *currLinkGen) {
    return field_uint(device, "pcie_gen_cur", currLinkGen);
}

nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *maxLinkGen) {
    return field_uint(device, "pcie_gen_max", maxLinkGen);
}

nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *currLinkWidth) {
    return field_uint(device, "pcie_width_cur", currLinkWidth);
}

nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *maxLinkWidth) {
    return field_uint(device, "pcie_width_max", maxLinkWidth);
}

nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link,
                                      nvmlEnableState_t *isActive) {
    unsigned int active = 0;
    nvmlReturn_t rc = field_uint(device, "nvlink_active", &active);
    if (rc == NVML_SUCCESS && (link >= NVML_NVLINK_MAX_LINKS || !isActive))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *isActive = link < active ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    return rc;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit) {
    return field_uint(device, "power_limit_mw", limit);
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit) {
    return field_uint(device, "power_mgmt_limit_mw", limit);
}

nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device,
                                                      unsigned int *defaultLimit) {
    return field_uint(device, "default_power_limit_mw", defaultLimit);
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
    return field_uint(device, "power_usage_mw", power);
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, nvmlTemperatureSensors_t sensorType,
                                      unsigned int *temp) {
    if (sensorType != NVML_TEMPERATURE_GPU)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return field_uint(device, "temperature_c", temp);
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    unsigned int gpu = 0, mem = 0;
    nvmlReturn_t rc = field_uint(device, "util_gpu", &gpu);
    if (rc == NVML_SUCCESS)
        rc = field_uint(device, "util_mem", &mem);
    if (rc == NVML_SUCCESS && !utilization)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *utilization = (nvmlUtilization_t){gpu, mem};
    return rc;
}

/* A current/pending pair: the pending key defaults to the current value. */
static nvmlReturn_t mode_pair(nvmlDevice_t device, const char *key, const char *pending_key,
                              unsigned int *current, unsigned int *pending) {
    unsigned int cur = 0, pend = 0;
    nvmlReturn_t rc = field_uint(device, key, &cur);
    if (rc == NVML_SUCCESS && (!current || !pending))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    if (field_uint(device, pending_key, &pend) != NVML_SUCCESS)
        pend = cur;
    *current = cur;
    *pending = pend;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, nvmlEnableState_t *current,
                                  nvmlEnableState_t *pending) {
    unsigned int cur = 0, pend = 0;
    nvmlReturn_t rc =
        mode_pair(device, "ecc", "ecc_pending", current ? &cur : NULL, pending ? &pend : NULL);
    if (rc == NVML_SUCCESS) {
        *current = cur ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
        *pending = pend ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    }
    return rc;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode,
                                  unsigned int *pendingMode) {
    return mode_pair(device, "mig", "mig_pending", currentMode, pendingMode);
}

nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, nvmlEnableState_t *mode) {
    unsigned int v = 0;
    nvmlReturn_t rc = field_uint(device, "persistence", mode ? &v : NULL);
    if (rc == NVML_SUCCESS)
        *mode = v ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    return rc;
}

#ifndef FAKE_NVML_OLD
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
    return running_processes(device, infoCount, infos, 3);
}
#endif

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *infoCount,
                                                     nvmlProcessInfo_t *infos) {
    return running_processes(device, infoCount, infos, 2);
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *infoCount,
                                                  nvmlProcessInfo_v1_t *infos) {
    return running_processes(device, infoCount, infos, 1);
}

static nvmlReturn_t event_reasons(nvmlDevice_t device, unsigned long long *reasons) {
    if (!reasons)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return field_u64(device, "clocks_event_reasons", reasons);
}

#ifndef FAKE_NVML_OLD
nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                    unsigned long long *clocksEventReasons) {
    return event_reasons(device, clocksEventReasons);
}
#endif

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                       unsigned long long *clocksThrottleReasons) {
    return event_reasons(device, clocksThrottleReasons);
}

/* ---- the monitor's calls: energy, PCIe throughput, ECC counts, P-state, fan, per-process
 * utilisation ---- */
typedef struct nvmlProcessUtilizationSample_st {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
    if (!energy)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return field_u64(device, "energy_mj", energy);
}

nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, int counter, unsigned int *value) {
    if (counter != 0 && counter != 1)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return field_uint(device, counter == 0 ? "pcie_tx_kbs" : "pcie_rx_kbs", value);
}

nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, int *pState) {
    unsigned int v = 0;
    nvmlReturn_t rc = field_uint(device, "pstate", pState ? &v : NULL);
    if (rc == NVML_SUCCESS)
        *pState = (int)v;
    return rc;
}

nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed) {
    return field_uint(device, "fan_pct", speed);
}

/* gpuI.proc_util = "pid:sm_pct:mem_pct, ...": one sample per process, stamped now. */
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t *utilization,
                                             unsigned int *processSamplesCount,
                                             unsigned long long lastSeenTimeStamp) {
    const char *text = NULL;
    nvmlReturn_t rc = field(device, "proc_util", &text);
    (void)lastSeenTimeStamp;
    if (rc == NVML_SUCCESS && !processSamplesCount)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    nvmlProcessUtilizationSample_t samples[MAX_PROCS];
    unsigned n = 0;
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item && n < MAX_PROCS;
         item = strtok_r(NULL, ",", &save)) {
        unsigned pid = 0, sm = 0, mem = 0;
        if (sscanf(item, " %u:%u:%u", &pid, &sm, &mem) != 3)
            return NVML_ERROR_UNKNOWN;
        samples[n++] = (nvmlProcessUtilizationSample_t){
            pid, (unsigned long long)(now_ms() * 1e3), sm, mem, 0, 0};
    }
    unsigned capacity = *processSamplesCount;
    *processSamplesCount = n;
    if (!utilization || capacity < n)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(utilization, samples, n * sizeof(samples[0]));
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int errorType, int counterType,
                                         unsigned long long *eccCounts) {
    if (!eccCounts || errorType < 0 || errorType > 1 || counterType < 0 || counterType > 1)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return field_u64(device, errorType ? "ecc_errors_uncorrected" : "ecc_errors_corrected",
                     eccCounts);
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
    unsigned index = 0;
    nvmlReturn_t rc = device_index(device, &index);
    if (rc == NVML_SUCCESS && !count)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS)
        *count = FAKE_MAX_MIG;
    return rc;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                 nvmlDevice_t *migDevice) {
    unsigned gpu = 0;
    char buf[1024], *parts[4];
    nvmlReturn_t rc = device_index(device, &gpu);
    if (rc == NVML_SUCCESS && (!migDevice || index >= FAKE_MAX_MIG || device->mig >= 0))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    if (!mig_item(gpu, (int)index, buf, sizeof(buf), parts))
        return NVML_ERROR_NOT_FOUND;
    *migDevice = &mig_devices[gpu][index];
    return NVML_SUCCESS;
}

/* ---- exported: topology (script keys topo.I.J, p2p.I.J, gpuI.nvlink_*, gpuI.*_affinity) ---- */
typedef enum { NVML_TOPOLOGY_INTERNAL = 0 } nvmlGpuTopologyLevel_t;
typedef enum { NVML_P2P_STATUS_OK = 0 } nvmlGpuP2PStatus_t;
typedef int nvmlGpuP2PCapsIndex_t;
typedef int nvmlIntNvLinkDeviceType_t;
typedef int nvmlAffinityScope_t;

/* The value of "<prefix>.A.B", else "<prefix>.B.A", else "<prefix>" (every pair). */
static const char *pair_value(const char *prefix, unsigned a, unsigned b) {
    char key[64];
    snprintf(key, sizeof(key), "%s.%u.%u", prefix, a, b);
    const char *v = fake_get(key);
    if (!v) {
        snprintf(key, sizeof(key), "%s.%u.%u", prefix, b, a);
        v = fake_get(key);
    }
    return v ? v : fake_get(prefix);
}

/* The pair's value, or the error the call must return. */
static nvmlReturn_t pair_field(nvmlDevice_t d1, nvmlDevice_t d2, const char *prefix,
                               const char **text) {
    unsigned a = 0, b = 0;
    nvmlReturn_t rc = device_index(d1, &a);
    if (rc == NVML_SUCCESS)
        rc = device_index(d2, &b);
    if (rc != NVML_SUCCESS)
        return rc;
    *text = pair_value(prefix, a, b);
    return *text ? value_code(*text) : NVML_ERROR_NOT_SUPPORTED;
}

nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t device1, nvmlDevice_t device2,
                                                 nvmlGpuTopologyLevel_t *pathInfo) {
    static const struct {
        const char *name;
        int level;
    } levels[] = {{"BRD", 0}, {"PIX", 10}, {"PXB", 20}, {"PHB", 30}, {"NODE", 40}, {"SYS", 50}};
    const char *text = NULL;
    nvmlReturn_t rc = pair_field(device1, device2, "topo", &text);
    if (rc == NVML_SUCCESS && !pathInfo)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(text, levels[i].name) == 0) {
            *pathInfo = (nvmlGpuTopologyLevel_t)levels[i].level;
            return NVML_SUCCESS;
        }
    return NVML_ERROR_UNKNOWN;
}

nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t device1, nvmlDevice_t device2,
                                    nvmlGpuP2PCapsIndex_t p2pIndex, nvmlGpuP2PStatus_t *p2pStatus) {
    static const char *const names[] = {"ok",
                                        "CHIPSET_NOT_SUPPORTED",
                                        "GPU_NOT_SUPPORTED",
                                        "IOH_TOPOLOGY_NOT_SUPPORTED",
                                        "DISABLED_BY_REGKEY",
                                        "NOT_SUPPORTED",
                                        "UNKNOWN"};
    const char *text = NULL;
    nvmlReturn_t rc = pair_field(device1, device2, p2pIndex == 1 ? "p2p_write" : "p2p", &text);
    if (rc == NVML_ERROR_NOT_SUPPORTED && p2pIndex == 1)
        rc = pair_field(device1, device2, "p2p", &text); /* writes as reads unless scripted */
    if (rc == NVML_SUCCESS && (!p2pStatus || p2pIndex < 0 || p2pIndex > 4))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(text, names[i]) == 0) {
            *p2pStatus = (nvmlGpuP2PStatus_t)i;
            return NVML_SUCCESS;
        }
    return NVML_ERROR_UNKNOWN;
}

/* Item `link` of gpuI.nvlink_remote ("gpu:BUSID, switch:BUSID, ..."; the last item stands for
 * every link after it): its type and bus id. */
static nvmlReturn_t nvlink_remote(nvmlDevice_t device, unsigned int link, int *type, char *bus,
                                  size_t bus_len) {
    nvmlEnableState_t active = NVML_FEATURE_DISABLED;
    nvmlReturn_t rc = nvmlDeviceGetNvLinkState(device, link, &active);
    if (rc == NVML_SUCCESS && active != NVML_FEATURE_ENABLED)
        rc = NVML_ERROR_NOT_SUPPORTED; /* the real call answers so for a link that is down */
    const char *text = NULL;
    if (rc == NVML_SUCCESS)
        rc = field(device, "nvlink_remote", &text);
    if (rc != NVML_SUCCESS)
        return rc;
    char buf[2048], item[64] = "";
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    unsigned i = 0;
    for (char *p = strtok_r(buf, ",", &save); p && i <= link; p = strtok_r(NULL, ",", &save), i++)
        snprintf(item, sizeof(item), "%s", p + strspn(p, " "));
    char *colon = strchr(item, ':');
    if (!colon)
        return NVML_ERROR_UNKNOWN;
    *colon = '\0';
    *type = strcmp(item, "gpu") == 0      ? 0
            : strcmp(item, "npu") == 0    ? 1
            : strcmp(item, "switch") == 0 ? 2
                                          : 0xFF;
    snprintf(bus, bus_len, "%s", colon + 1);
    return NVML_SUCCESS;
}

#ifndef FAKE_NVML_OLD
nvmlReturn_t nvmlDeviceGetNvLinkRemoteDeviceType(nvmlDevice_t device, unsigned int link,
                                                 nvmlIntNvLinkDeviceType_t *pNvLinkDeviceType) {
    char bus[64];
    int type = 0;
    if (!pNvLinkDeviceType)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = nvlink_remote(device, link, &type, bus, sizeof(bus));
    if (rc == NVML_SUCCESS)
        *pNvLinkDeviceType = type;
    return rc;
}
#endif

nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned int link,
                                                 nvmlPciInfo_t *pci) {
    char bus[64];
    int type = 0;
    unsigned domain, b, dev, fn;
    if (!pci)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = nvlink_remote(device, link, &type, bus, sizeof(bus));
    if (rc != NVML_SUCCESS)
        return rc;
    if (sscanf(bus, "%x:%x:%x.%x", &domain, &b, &dev, &fn) != 4 || strlen(bus) >= 32)
        return NVML_ERROR_UNKNOWN;
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->busId, sizeof(pci->busId), "%s", bus);
    pci->domain = domain;
    pci->bus = b;
    pci->device = dev;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkVersion(nvmlDevice_t device, unsigned int link,
                                        unsigned int *version) {
    if (link >= NVML_NVLINK_MAX_LINKS)
        return NVML_ERROR_INVALID_ARGUMENT;
    return field_uint(device, "nvlink_version", version);
}

/* "0-3,8" -> bits 0..3 and 8 of words; false when it does not parse or does not fit. */
static bool parse_cpu_list(const char *text, unsigned int words, unsigned long *mask) {
    char buf[1024];
    const unsigned bits = 8 * sizeof(unsigned long);
    snprintf(buf, sizeof(buf), "%s", text);
    memset(mask, 0, words * sizeof(unsigned long));
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        unsigned lo = 0, hi = 0;
        char tail;
        int n = sscanf(p, " %u-%u%c", &lo, &hi, &tail);
        if (n == 1)
            hi = lo;
        else if (n != 2)
            return false;
        if (hi < lo || hi >= words * bits)
            return false;
        for (unsigned c = lo; c <= hi; c++)
            mask[c / bits] |= 1UL << (c % bits);
    }
    return true;
}

static nvmlReturn_t affinity(nvmlDevice_t device, const char *key, unsigned int words,
                             unsigned long *mask) {
    const char *text = NULL;
    nvmlReturn_t rc = field(device, key, &text);
    if (rc == NVML_SUCCESS && (!mask || words == 0))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    return parse_cpu_list(text, words, mask) ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
}

nvmlReturn_t nvmlDeviceGetCpuAffinity(nvmlDevice_t device, unsigned int cpuSetSize,
                                      unsigned long *cpuSet) {
    return affinity(device, "cpu_affinity", cpuSetSize, cpuSet);
}

#ifndef FAKE_NVML_OLD
nvmlReturn_t nvmlDeviceGetMemoryAffinity(nvmlDevice_t device, unsigned int nodeSetSize,
                                         unsigned long *nodeSet, nvmlAffinityScope_t scope) {
    if (scope != 0)
        return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
    return affinity(device, "numa_affinity", nodeSetSize, nodeSet);
}
#endif
/* gpuI.remapped_rows = "corrected,uncorrected,pending,failed" */
nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows,
                                       unsigned int *uncRows, unsigned int *isPending,
                                       unsigned int *failureOccurred) {
    const char *text = NULL;
    nvmlReturn_t rc = field(device, "remapped_rows", &text);
    if (rc == NVML_SUCCESS && (!corrRows || !uncRows || !isPending || !failureOccurred))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    char tail;
    if (sscanf(text, "%u,%u,%u,%u%c", corrRows, uncRows, isPending, failureOccurred, &tail) != 4)
        return NVML_ERROR_UNKNOWN;
    return NVML_SUCCESS;
}

/* ---- retired pages, field values (NVLink counters) and events (XID) ---- */

/* gpuI.retired_pages = "sbe,dbe,pending" into count[3] (pages per cause, 0 single-bit and 1
 * double-bit, and whether one is pending), or the error the calls return. */
static nvmlReturn_t retired_pages(nvmlDevice_t device, const void *out, unsigned int count[3]) {
    const char *text = NULL;
    char tail;
    nvmlReturn_t rc = field(device, "retired_pages", &text);
    if (rc == NVML_SUCCESS && !out)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS &&
        sscanf(text, "%u,%u,%u%c", &count[0], &count[1], &count[2], &tail) != 3)
        rc = NVML_ERROR_UNKNOWN;
    return rc;
}

/* The addresses are made up (0x1000 * page). */
nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, int cause, unsigned int *pageCount,
                                       unsigned long long *addresses) {
    unsigned int count[3];
    nvmlReturn_t rc = retired_pages(device, pageCount, count);
    if (rc == NVML_SUCCESS && (cause < 0 || cause > 1))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    unsigned int capacity = *pageCount;
    *pageCount = count[cause];
    if (capacity < count[cause])
        return NVML_ERROR_INSUFFICIENT_SIZE;
    for (unsigned int i = 0; addresses && i < count[cause]; i++)
        addresses[i] = 0x1000ULL * (i + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device,
                                                    nvmlEnableState_t *isPending) {
    unsigned int count[3];
    nvmlReturn_t rc = retired_pages(device, isPending, count);
    if (rc == NVML_SUCCESS)
        *isPending = count[2] ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
    return rc;
}

typedef union {
    double dVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    signed int siVal;
    unsigned short usVal;
} nvmlValue_t;
typedef struct nvmlFieldValue_st {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;
enum { FI_NVLINK_DATA_TX = 138, FI_NVLINK_DATA_RX = 139, VALUE_TYPE_ULL = 3 };

/* One NVLink data counter: gpuI.nvlink_tx_kib_s / _rx_kib_s KiB/s since nvmlInit, split evenly
 * over the gpuI.nvlink_active links (scopeId = link) or summed (scopeId = UINT_MAX, refused with
 * NOT_SUPPORTED when gpuI.nvlink_per_link_only = 1). */
static nvmlReturn_t nvlink_counter(nvmlDevice_t device, nvmlFieldValue_t *v) {
    const char *key = v->fieldId == FI_NVLINK_DATA_TX ? "nvlink_tx_kib_s" : "nvlink_rx_kib_s";
    unsigned long long rate = 0;
    unsigned int links = 0;
    nvmlReturn_t rc = field_u64(device, key, &rate);
    if (rc == NVML_SUCCESS)
        rc = field_uint(device, "nvlink_active", &links);
    if (rc != NVML_SUCCESS)
        return rc;
    const char *per_link = fake_gpu_get(device->index, "nvlink_per_link_only");
    unsigned long long total = (unsigned long long)(rate * (now_ms() - init_time_ms) / 1e3);
    if (v->scopeId == 0xFFFFFFFFu && !(per_link && strcmp(per_link, "1") == 0))
        v->value.ullVal = total;
    else if (v->scopeId < links)
        v->value.ullVal = total / links;
    else
        return NVML_ERROR_NOT_SUPPORTED;
    v->valueType = VALUE_TYPE_ULL;
    v->timestamp = (long long)(now_ms() * 1e3);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount,
                                      nvmlFieldValue_t *values) {
    unsigned index = 0;
    nvmlReturn_t rc = device_index(device, &index);
    if (rc == NVML_SUCCESS && (valuesCount < 0 || (valuesCount > 0 && !values)))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc != NVML_SUCCESS)
        return rc;
    for (int i = 0; i < valuesCount; i++) {
        nvmlFieldValue_t *v = &values[i];
        v->nvmlReturn = v->fieldId == FI_NVLINK_DATA_TX || v->fieldId == FI_NVLINK_DATA_RX
                            ? nvlink_counter(device, v)
                            : NVML_ERROR_NOT_SUPPORTED;
    }
    return NVML_SUCCESS;
}

typedef struct nvmlEventSet_st {
    bool registered[FAKE_MAX_GPUS];
    unsigned delivered[FAKE_MAX_GPUS]; /* events of each GPU handed out so far */
} * nvmlEventSet_t;
typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType, eventData;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlEventData_t;
#define EVENT_XID 0x8ULL

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
    if (!init_count)
        return NVML_ERROR_UNINITIALIZED;
    if (!set)
        return NVML_ERROR_INVALID_ARGUMENT;
    *set = calloc(1, sizeof(**set));
    return *set ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
}

/* gpuI.xid = "79@200, 48@500": XID 79 200 ms after nvmlInit, then XID 48 at 500 ms ("" none);
 * without the key the GPU does not support XID events. */
nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long eventTypes,
                                      nvmlEventSet_t set) {
    const char *text = NULL;
    nvmlReturn_t rc = field(device, "xid", &text);
    if (rc == NVML_SUCCESS && (!set || device->mig >= 0))
        rc = NVML_ERROR_INVALID_ARGUMENT;
    if (rc == NVML_SUCCESS && eventTypes & ~EVENT_XID)
        rc = NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        set->registered[device->index] = true;
    return rc;
}

/* The XID of event `k` of GPU `index` when it is due, else 0. */
static unsigned xid_due(unsigned index, unsigned k) {
    const char *text = fake_gpu_get(index, "xid");
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", text ? text : "");
    char *save = NULL;
    unsigned i = 0;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), i++) {
        unsigned xid = 0, ms = 0;
        if (i == k && sscanf(item, " %u@%u", &xid, &ms) == 2 && now_ms() - init_time_ms >= ms)
            return xid;
    }
    return 0;
}

nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data,
                                 unsigned int timeoutms) {
    (void)timeoutms; /* never waits: the fake's events are due or not */
    if (!init_count)
        return NVML_ERROR_UNINITIALIZED;
    if (nvml_state() != NVML_SUCCESS)
        return nvml_state();
    if (!set || !data)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (unsigned g = 0; g < FAKE_MAX_GPUS; g++) {
        unsigned xid = set->registered[g] ? xid_due(g, set->delivered[g]) : 0;
        if (xid != 0) {
            set->delivered[g]++;
            *data = (nvmlEventData_t){&devices[g], EVENT_XID, xid, 0xFFFFFFFFu, 0xFFFFFFFFu};
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_TIMEOUT;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
    if (!set)
        return NVML_ERROR_INVALID_ARGUMENT;
    free(set);
    return NVML_SUCCESS;
}
