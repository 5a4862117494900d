/* nvml.c - opens NVML at run time through one symbol table, newest versioned names first. */
#include "probe/nvml.h"
#include "util/dynlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hws_nvml nvml;
static hws_error load_error;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(field, required, ...)                                                                  \
    { {__VA_ARGS__}, (void **)&nvml.field, required, -1 }

static void load(void) {
    hws_dynsym syms[] = {
        SYM(Init, true, "nvmlInit_v2", "nvmlInit"),
        SYM(Shutdown, true, "nvmlShutdown"),
        SYM(ErrorString, true, "nvmlErrorString"),
        SYM(SystemGetDriverVersion, false, "nvmlSystemGetDriverVersion"),
        SYM(SystemGetNVMLVersion, false, "nvmlSystemGetNVMLVersion"),
        SYM(SystemGetCudaDriverVersion, false, "nvmlSystemGetCudaDriverVersion_v2",
            "nvmlSystemGetCudaDriverVersion"),
        SYM(SystemGetProcessName, false, "nvmlSystemGetProcessName"),
        SYM(DeviceGetCount, true, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"),
        SYM(DeviceGetHandleByIndex, true, "nvmlDeviceGetHandleByIndex_v2",
            "nvmlDeviceGetHandleByIndex"),
        SYM(DeviceGetName, false, "nvmlDeviceGetName"),
        SYM(DeviceGetUUID, false, "nvmlDeviceGetUUID"),
        SYM(DeviceGetSerial, false, "nvmlDeviceGetSerial"),
        SYM(DeviceGetPciInfo, false, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"),
        SYM(DeviceGetMemoryInfo, false, "nvmlDeviceGetMemoryInfo"),
        SYM(DeviceGetMemoryInfo_v2, false, "nvmlDeviceGetMemoryInfo_v2"),
        SYM(DeviceGetCudaComputeCapability, false, "nvmlDeviceGetCudaComputeCapability"),
        SYM(DeviceGetMaxClockInfo, false, "nvmlDeviceGetMaxClockInfo"),
        SYM(DeviceGetClockInfo, false, "nvmlDeviceGetClockInfo"),
        SYM(DeviceGetMemoryBusWidth, false, "nvmlDeviceGetMemoryBusWidth"),
        SYM(DeviceGetCurrPcieLinkGeneration, false, "nvmlDeviceGetCurrPcieLinkGeneration"),
        SYM(DeviceGetMaxPcieLinkGeneration, false, "nvmlDeviceGetMaxPcieLinkGeneration"),
        SYM(DeviceGetCurrPcieLinkWidth, false, "nvmlDeviceGetCurrPcieLinkWidth"),
        SYM(DeviceGetMaxPcieLinkWidth, false, "nvmlDeviceGetMaxPcieLinkWidth"),
        SYM(DeviceGetNvLinkState, false, "nvmlDeviceGetNvLinkState"),
        SYM(DeviceGetEnforcedPowerLimit, false, "nvmlDeviceGetEnforcedPowerLimit",
            "nvmlDeviceGetPowerManagementLimit"),
        SYM(DeviceGetPowerManagementDefaultLimit, false,
            "nvmlDeviceGetPowerManagementDefaultLimit"),
        SYM(DeviceGetPowerUsage, false, "nvmlDeviceGetPowerUsage"),
        SYM(DeviceGetTemperature, false, "nvmlDeviceGetTemperature"),
        SYM(DeviceGetUtilizationRates, false, "nvmlDeviceGetUtilizationRates"),
        SYM(DeviceGetEccMode, false, "nvmlDeviceGetEccMode"),
        SYM(DeviceGetMigMode, false, "nvmlDeviceGetMigMode"),
        SYM(DeviceGetPersistenceMode, false, "nvmlDeviceGetPersistenceMode"),
        SYM(DeviceGetComputeRunningProcesses, false, "nvmlDeviceGetComputeRunningProcesses_v3",
            "nvmlDeviceGetComputeRunningProcesses_v2", "nvmlDeviceGetComputeRunningProcesses"),
        SYM(DeviceGetCurrentClocksEventReasons, false, "nvmlDeviceGetCurrentClocksEventReasons",
            "nvmlDeviceGetCurrentClocksThrottleReasons"),
        SYM(DeviceGetTotalEnergyConsumption, false, "nvmlDeviceGetTotalEnergyConsumption"),
        SYM(DeviceGetPcieThroughput, false, "nvmlDeviceGetPcieThroughput"),
        SYM(DeviceGetTotalEccErrors, false, "nvmlDeviceGetTotalEccErrors"),
        SYM(DeviceGetPerformanceState, false, "nvmlDeviceGetPerformanceState"),
        SYM(DeviceGetFanSpeed, false, "nvmlDeviceGetFanSpeed"),
        SYM(DeviceGetRemappedRows, false, "nvmlDeviceGetRemappedRows"),
        SYM(DeviceGetRetiredPages, false, "nvmlDeviceGetRetiredPages"),
        SYM(DeviceGetRetiredPagesPendingStatus, false, "nvmlDeviceGetRetiredPagesPendingStatus"),
        SYM(DeviceGetFieldValues, false, "nvmlDeviceGetFieldValues"),
        SYM(EventSetCreate, false, "nvmlEventSetCreate"),
        SYM(DeviceRegisterEvents, false, "nvmlDeviceRegisterEvents"),
        SYM(EventSetWait, false, "nvmlEventSetWait_v2", "nvmlEventSetWait"),
        SYM(EventSetFree, false, "nvmlEventSetFree"),
        SYM(DeviceGetProcessUtilization, false, "nvmlDeviceGetProcessUtilization"),
        SYM(DeviceGetMaxMigDeviceCount, false, "nvmlDeviceGetMaxMigDeviceCount"),
        SYM(DeviceGetMigDeviceHandleByIndex, false, "nvmlDeviceGetMigDeviceHandleByIndex"),
        SYM(DeviceGetTopologyCommonAncestor, false, "nvmlDeviceGetTopologyCommonAncestor"),
        SYM(DeviceGetP2PStatus, false, "nvmlDeviceGetP2PStatus"),
        SYM(DeviceGetNvLinkVersion, false, "nvmlDeviceGetNvLinkVersion"),
        SYM(DeviceGetNvLinkRemotePciInfo, false, "nvmlDeviceGetNvLinkRemotePciInfo_v2"),
        SYM(DeviceGetNvLinkRemoteDeviceType, false, "nvmlDeviceGetNvLinkRemoteDeviceType"),
        SYM(DeviceGetCpuAffinity, false, "nvmlDeviceGetCpuAffinity"),
        SYM(DeviceGetMemoryAffinity, false, "nvmlDeviceGetMemoryAffinity"),
    };
    void *handle;
    size_t n = sizeof syms / sizeof syms[0];
    if (hws_dynlib_load("HWSCOPE_NVML_LIB", "libnvidia-ml.so.1", "NVIDIA driver (NVML)", syms, n,
                        &handle, &load_error) != HWS_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        if (syms[i].ptr == (void **)&nvml.DeviceGetComputeRunningProcesses)
            nvml.processes_api = 3 - syms[i].resolved_index;
    }
    nvml.memory_api = nvml.DeviceGetMemoryInfo_v2 != NULL ? 2 : 1;
    nvmlReturn_t rc = nvml.Init();
    if (rc != NVML_SUCCESS) {
        hws_error_set(&load_error, HWS_ERR_UNSUPPORTED, "NVML: %s", hws_nvml_error(&nvml, rc));
        return;
    }
    loaded = 1;
}

const hws_nvml *hws_nvml_get(hws_error *err) {
    pthread_once(&once, load);
    if (!loaded) {
        hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s", load_error.msg);
        return NULL;
    }
    return &nvml;
}

const char *hws_nvml_error(const hws_nvml *n, nvmlReturn_t rc) {
    static __thread char text[32];
    const char *s = n->ErrorString != NULL ? n->ErrorString(rc) : NULL;
    if (s != NULL)
        return s;
    snprintf(text, sizeof text, "error %d", rc);
    return text;
}

nvmlReturn_t hws_nvml_processes(const hws_nvml *n, nvmlDevice_t dev, nvmlProcessInfo_v1_t *out,
                                unsigned int max, unsigned int *count) {
    size_t stride =
        n->processes_api == 1 ? sizeof(nvmlProcessInfo_v1_t) : sizeof(nvmlProcessInfo_v2_t);
    unsigned int found = 0;
    unsigned char *buf = NULL;
    *count = 0;
    if (n->DeviceGetComputeRunningProcesses == NULL)
        return NVML_ERROR_NOT_SUPPORTED;
    nvmlReturn_t rc = n->DeviceGetComputeRunningProcesses(dev, &found, NULL);
    if (rc == NVML_ERROR_INSUFFICIENT_SIZE) {
        found += 4; /* room for processes started since the first call */
        buf = calloc(found, stride);
        rc =
            buf != NULL ? n->DeviceGetComputeRunningProcesses(dev, &found, buf) : NVML_ERROR_MEMORY;
    } else if (rc == NVML_SUCCESS) {
        found = 0;
    }
    for (unsigned int i = 0; rc == NVML_SUCCESS && i < found && i < max; i++) {
        memcpy(&out[i], buf + i * stride, sizeof out[i]); /* pid and usedGpuMemory lead each */
        *count = i + 1;
    }
    free(buf);
    return rc;
}

nvmlReturn_t hws_nvml_memory(const hws_nvml *n, nvmlDevice_t dev, nvmlMemory_t *out) {
    nvmlReturn_t rc = NVML_ERROR_NOT_SUPPORTED;
    nvmlMemory_v2_t m2 = {.version = NVML_MEMORY_V2_VERSION};
    if (n->DeviceGetMemoryInfo_v2 != NULL &&
        (rc = n->DeviceGetMemoryInfo_v2(dev, &m2)) == NVML_SUCCESS) {
        *out = (nvmlMemory_t){m2.total, m2.free, m2.used};
        return rc;
    }
    if (rc != NVML_ERROR_GPU_IS_LOST && n->DeviceGetMemoryInfo != NULL)
        rc = n->DeviceGetMemoryInfo(dev, out);
    return rc;
}

nvmlReturn_t hws_nvml_ecc_errors(const hws_nvml *n, nvmlDevice_t dev, int type,
                                 unsigned long long *count) {
    return n->DeviceGetTotalEccErrors != NULL
               ? n->DeviceGetTotalEccErrors(dev, type, NVML_VOLATILE_ECC, count)
               : NVML_ERROR_NOT_SUPPORTED;
}

double hws_nvml_field_number(const nvmlFieldValue_t *v) {
    switch (v->valueType) {
    case NVML_VALUE_TYPE_DOUBLE:
        return v->value.dVal;
    case NVML_VALUE_TYPE_UNSIGNED_INT:
        return v->value.uiVal;
    case NVML_VALUE_TYPE_UNSIGNED_LONG:
        return (double)v->value.ulVal;
    case NVML_VALUE_TYPE_SIGNED_LONG_LONG:
        return (double)v->value.sllVal;
    case NVML_VALUE_TYPE_SIGNED_INT:
        return v->value.siVal;
    case NVML_VALUE_TYPE_UNSIGNED_SHORT:
        return v->value.usVal;
    default:
        return (double)v->value.ullVal;
    }
}

int hws_nvml_gone(nvmlReturn_t rc) {
    return rc == NVML_ERROR_UNINITIALIZED || rc == NVML_ERROR_DRIVER_NOT_LOADED ||
           rc == NVML_ERROR_LIB_RM_VERSION_MISMATCH;
}
