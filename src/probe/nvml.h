/* nvml.h - the part of NVML hwscope uses, redeclared (nvml.h is not a build dependency) and
 * opened at run time from libnvidia-ml.so.1 (or $HWSCOPE_NVML_LIB, which tests point at a fake).
 *
 * Layouts and constants are NVML's (nvml.h, CUDA 12/13). Versioned calls are resolved newest
 * first: a driver that lacks the _v3 process list still answers _v2 or the plain call, each with
 * its own struct. */
#ifndef HWSCOPE_PROBE_NVML_H
#define HWSCOPE_PROBE_NVML_H

#include "hwscope/hwscope.h"

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1, /* nvmlInit not called, or every init shut down again */
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18, /* the driver was replaced under the library */
    NVML_ERROR_MEMORY = 20,
};
enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2 };
enum { NVML_TEMPERATURE_GPU = 0 };
enum { NVML_NVLINK_MAX_LINKS = 18 };
enum { NVML_MEMORY_ERROR_TYPE_CORRECTED = 0, NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1 };
enum { NVML_VOLATILE_ECC = 0 };
/* nvmlPageRetirementCause_t */
enum { NVML_PAGE_RETIREMENT_CAUSE_SBE = 0, NVML_PAGE_RETIREMENT_CAUSE_DBE = 1 };
/* nvmlEventType: an XID critical error (the event's eventData is the XID) */
#define NVML_EVENT_TYPE_XID_CRITICAL_ERROR 0x0000000000000008ULL
/* Field ids of nvmlDeviceGetFieldValues: NVLink data counters in KiB since the driver loaded;
 * scopeId is the link, or NVML_SCOPE_ALL_LINKS for the sum over every link. */
enum { NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX = 138, NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX = 139 };
#define NVML_SCOPE_ALL_LINKS 0xFFFFFFFFu
/* nvmlValueType_t */
enum {
    NVML_VALUE_TYPE_DOUBLE = 0,
    NVML_VALUE_TYPE_UNSIGNED_INT = 1,
    NVML_VALUE_TYPE_UNSIGNED_LONG = 2,
    NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3,
    NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4,
    NVML_VALUE_TYPE_SIGNED_INT = 5,
    NVML_VALUE_TYPE_UNSIGNED_SHORT = 6,
};
/* nvmlGpuTopologyLevel_t: the closest common ancestor of two GPUs on the PCIe tree. */
enum {
    NVML_TOPOLOGY_INTERNAL = 0,    /* on one board */
    NVML_TOPOLOGY_SINGLE = 10,     /* one PCIe switch */
    NVML_TOPOLOGY_MULTIPLE = 20,   /* several PCIe switches, no host bridge */
    NVML_TOPOLOGY_HOSTBRIDGE = 30, /* a PCIe host bridge */
    NVML_TOPOLOGY_NODE = 40,       /* host bridges of one NUMA node */
    NVML_TOPOLOGY_SYSTEM = 50,     /* across NUMA nodes (QPI/UPI, Infinity Fabric) */
};
/* nvmlIntNvLinkDeviceType_t: what the far end of an NVLink is. */
enum {
    NVML_NVLINK_DEVICE_TYPE_GPU = 0,
    NVML_NVLINK_DEVICE_TYPE_IBMNPU = 1,
    NVML_NVLINK_DEVICE_TYPE_SWITCH = 2,
    NVML_NVLINK_DEVICE_TYPE_UNKNOWN = 0xFF,
};
/* nvmlGpuP2PCapsIndex_t and nvmlGpuP2PStatus_t (0 OK, 1 chipset, 2 GPU, 3 IOH topology,
 * 4 disabled by registry key, 5 not supported, 6 unknown). */
enum { NVML_P2P_CAPS_INDEX_READ = 0, NVML_P2P_CAPS_INDEX_WRITE = 1 };
enum { NVML_P2P_STATUS_OK = 0, NVML_P2P_STATUS_UNKNOWN = 6 };
enum { NVML_AFFINITY_SCOPE_NODE = 0 };

typedef struct {
    unsigned long long total, free, used; /* bytes */
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used; /* bytes */
} nvmlMemory_v2_t;
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32]; /* "00000000:18:00.0" */
} nvmlPciInfo_t;

typedef struct {
    unsigned int gpu, memory; /* percent */
} nvmlUtilization_t;

typedef struct { /* the plain (v1) process list */
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct { /* one process's utilisation over the last sampling period */
    unsigned int pid;
    unsigned long long timeStamp;                   /* microseconds */
    unsigned int smUtil, memUtil, encUtil, decUtil; /* percent */
} nvmlProcessUtilizationSample_t;

enum { NVML_PCIE_UTIL_TX_BYTES = 0, NVML_PCIE_UTIL_RX_BYTES = 1 };

typedef struct { /* _v2 and _v3 process lists */
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v2_t;

typedef struct nvmlEventSet_st *nvmlEventSet_t;
typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType;
    unsigned long long eventData; /* the XID, for an XID event */
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlEventData_t;

typedef union {
    double dVal;
    unsigned int uiVal;
    unsigned long ulVal;
    unsigned long long ullVal;
    signed long long sllVal;
    signed int siVal;
    unsigned short usVal;
} nvmlValue_t;

typedef struct {
    unsigned int fieldId;
    unsigned int scopeId;    /* the link, for NVLink fields */
    long long timestamp;     /* microseconds since 1970 */
    long long latencyUsec;   /* how old the value is */
    int valueType;           /* NVML_VALUE_TYPE_* */
    nvmlReturn_t nvmlReturn; /* this field's own status */
    nvmlValue_t value;
} nvmlFieldValue_t;

/* The functions, NULL when the loaded library lacks an optional one. */
typedef struct {
    nvmlReturn_t (*Init)(void);
    nvmlReturn_t (*Shutdown)(void);
    const char *(*ErrorString)(nvmlReturn_t);
    nvmlReturn_t (*SystemGetDriverVersion)(char *, unsigned int);
    nvmlReturn_t (*SystemGetNVMLVersion)(char *, unsigned int);
    nvmlReturn_t (*SystemGetCudaDriverVersion)(int *);
    nvmlReturn_t (*SystemGetProcessName)(unsigned int, char *, unsigned int);
    nvmlReturn_t (*DeviceGetCount)(unsigned int *);
    nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, nvmlDevice_t *);
    nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*DeviceGetSerial)(nvmlDevice_t, char *, unsigned int);
    nvmlReturn_t (*DeviceGetPciInfo)(nvmlDevice_t, nvmlPciInfo_t *);
    nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*DeviceGetMemoryInfo_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
    nvmlReturn_t (*DeviceGetCudaComputeCapability)(nvmlDevice_t, int *, int *);
    nvmlReturn_t (*DeviceGetMaxClockInfo)(nvmlDevice_t, int, unsigned int *);
    nvmlReturn_t (*DeviceGetClockInfo)(nvmlDevice_t, int, unsigned int *);
    nvmlReturn_t (*DeviceGetMemoryBusWidth)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetCurrPcieLinkGeneration)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetMaxPcieLinkGeneration)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetCurrPcieLinkWidth)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetMaxPcieLinkWidth)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetNvLinkState)(nvmlDevice_t, unsigned int, int *);
    nvmlReturn_t (*DeviceGetEnforcedPowerLimit)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetPowerManagementDefaultLimit)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetTemperature)(nvmlDevice_t, int, unsigned int *);
    nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t *);
    nvmlReturn_t (*DeviceGetEccMode)(nvmlDevice_t, int *, int *);
    nvmlReturn_t (*DeviceGetMigMode)(nvmlDevice_t, unsigned int *, unsigned int *);
    nvmlReturn_t (*DeviceGetPersistenceMode)(nvmlDevice_t, int *);
    nvmlReturn_t (*DeviceGetComputeRunningProcesses)(nvmlDevice_t, unsigned int *, void *);
    nvmlReturn_t (*DeviceGetCurrentClocksEventReasons)(nvmlDevice_t, unsigned long long *);
    /* the monitor's (src/monitor/) */
    nvmlReturn_t (*DeviceGetTotalEnergyConsumption)(nvmlDevice_t, unsigned long long *); /* mJ */
    nvmlReturn_t (*DeviceGetPcieThroughput)(nvmlDevice_t, int, unsigned int *);          /* KB/s */
    nvmlReturn_t (*DeviceGetTotalEccErrors)(nvmlDevice_t, int, int, unsigned long long *);
    nvmlReturn_t (*DeviceGetPerformanceState)(nvmlDevice_t, int *);
    nvmlReturn_t (*DeviceGetFanSpeed)(nvmlDevice_t, unsigned int *); /* percent */
    /* rows remapped for correctable / uncorrectable errors, remapping pending, failed (A100+) */
    nvmlReturn_t (*DeviceGetRemappedRows)(nvmlDevice_t, unsigned int *, unsigned int *,
                                          unsigned int *, unsigned int *);
    nvmlReturn_t (*DeviceGetRetiredPages)(nvmlDevice_t, int, unsigned int *, unsigned long long *);
    nvmlReturn_t (*DeviceGetRetiredPagesPendingStatus)(nvmlDevice_t, int *);
    nvmlReturn_t (*DeviceGetFieldValues)(nvmlDevice_t, int, nvmlFieldValue_t *);
    nvmlReturn_t (*EventSetCreate)(nvmlEventSet_t *);
    nvmlReturn_t (*DeviceRegisterEvents)(nvmlDevice_t, unsigned long long, nvmlEventSet_t);
    nvmlReturn_t (*EventSetWait)(nvmlEventSet_t, nvmlEventData_t *, unsigned int); /* ms */
    nvmlReturn_t (*EventSetFree)(nvmlEventSet_t);
    nvmlReturn_t (*DeviceGetProcessUtilization)(nvmlDevice_t, nvmlProcessUtilizationSample_t *,
                                                unsigned int *, unsigned long long);
    nvmlReturn_t (*DeviceGetMaxMigDeviceCount)(nvmlDevice_t, unsigned int *);
    nvmlReturn_t (*DeviceGetMigDeviceHandleByIndex)(nvmlDevice_t, unsigned int, nvmlDevice_t *);
    /* topology (probe/topology.c) */
    nvmlReturn_t (*DeviceGetTopologyCommonAncestor)(nvmlDevice_t, nvmlDevice_t, int *);
    nvmlReturn_t (*DeviceGetP2PStatus)(nvmlDevice_t, nvmlDevice_t, int, int *);
    nvmlReturn_t (*DeviceGetNvLinkVersion)(nvmlDevice_t, unsigned int, unsigned int *);
    nvmlReturn_t (*DeviceGetNvLinkRemotePciInfo)(nvmlDevice_t, unsigned int, nvmlPciInfo_t *);
    nvmlReturn_t (*DeviceGetNvLinkRemoteDeviceType)(nvmlDevice_t, unsigned int, int *);
    nvmlReturn_t (*DeviceGetCpuAffinity)(nvmlDevice_t, unsigned int, unsigned long *);
    nvmlReturn_t (*DeviceGetMemoryAffinity)(nvmlDevice_t, unsigned int, unsigned long *, int);
    int processes_api; /* 3, 2 or 1: which process list call resolved (its struct follows) */
    int memory_api;    /* 2 or 1 */
} hws_nvml;

/* Opens and initialises NVML once per process; NULL with the reason in err when it cannot
 * ("NVML not found: ...", "NVML: Driver Not Loaded"). */
const hws_nvml *hws_nvml_get(hws_error *err);
/* The compute processes on dev through whichever versioned call the driver has (each has its own
 * struct): pid and used memory (~0ULL when the driver does not say) of at most max into out;
 * *count says how many. */
nvmlReturn_t hws_nvml_processes(const hws_nvml *n, nvmlDevice_t dev, nvmlProcessInfo_v1_t *out,
                                unsigned int max, unsigned int *count);
/* Total, free and used memory of dev: used without the driver's reservation (the _v2 call of
 * driver 510+, as nvidia-smi shows it), else the plain call's, which includes it. */
nvmlReturn_t hws_nvml_memory(const hws_nvml *n, nvmlDevice_t dev, nvmlMemory_t *out);
/* The volatile (since the driver loaded) ECC error count of dev of one type
 * (NVML_MEMORY_ERROR_TYPE_CORRECTED or _UNCORRECTED); NOT_SUPPORTED when the driver lacks the call.
 */
nvmlReturn_t hws_nvml_ecc_errors(const hws_nvml *n, nvmlDevice_t dev, int type,
                                 unsigned long long *count);
/* The number in a field value, whatever its type. */
double hws_nvml_field_number(const nvmlFieldValue_t *v);
/* 1 when rc says NVML itself is unusable (not initialised, no driver, driver replaced), so only a
 * new nvmlInit can bring it back. */
int hws_nvml_gone(nvmlReturn_t rc);
/* NVML's text for rc ("Not Supported"), or "error N". */
const char *hws_nvml_error(const hws_nvml *nvml, nvmlReturn_t rc);

#endif
