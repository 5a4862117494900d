/* fake_cuda.c - a stand-in for libcuda.so.1 (the CUDA driver API) that plays back a GPU script.
 *
 * Exports the device-query part of the driver API with the real signatures (CUresult and
 * CUdevice are int, attribute numbers as cuda.h). CUDA ordinals map to the script's GPUs
 * through `cuda.order` (default: NVML order); see script.h for the keys. */
#include "script.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- the driver ABI (values as cuda.h) ---- */
typedef int CUresult;
typedef int CUdevice;
typedef int CUdevice_attribute;
typedef struct CUuuid_st {
    char bytes[16];
} CUuuid;
enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_ECC_UNCORRECTABLE = 214,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_UNKNOWN = 999,
};
enum {
    CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33,
    CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34,
    CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36,
    CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37,
    CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
    CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

/* ---- state ---- */
static bool loaded;                   /* a script has been read (by cuInit or cuDriverGetVersion) */
static bool initialized;              /* cuInit succeeded */
static unsigned order[FAKE_MAX_GPUS]; /* CUDA ordinal -> script GPU index */
static int device_count;

static void ensure_loaded(void) {
    if (!loaded)
        loaded = fake_script_load();
}

/* A scripted value -> CUDA result: CUDA error names give their code, NVML error names
 * CUDA_ERROR_NOT_SUPPORTED, anything else CUDA_SUCCESS. */
static CUresult value_code(const char *value) {
    int code = fake_cuda_code(value);
    if (code > 0)
        return code;
    return fake_nvml_code(value) > 0 ? CUDA_ERROR_NOT_SUPPORTED : CUDA_SUCCESS;
}

static CUresult gpu_of(CUdevice dev, unsigned *gpu) {
    if (!initialized)
        return CUDA_ERROR_NOT_INITIALIZED;
    if (dev < 0 || dev >= device_count)
        return CUDA_ERROR_INVALID_DEVICE;
    *gpu = order[dev];
    const char *forced = fake_gpu_get(*gpu, "cuda_error");
    if (forced && value_code(forced) != CUDA_SUCCESS)
        return value_code(forced);
    const char *lost = fake_gpu_get(*gpu, "lost");
    return lost && strcmp(lost, "1") == 0 ? CUDA_ERROR_ECC_UNCORRECTABLE : CUDA_SUCCESS;
}

static CUresult field(CUdevice dev, const char *name, const char **text) {
    unsigned gpu = 0;
    CUresult rc = gpu_of(dev, &gpu);
    if (rc != CUDA_SUCCESS)
        return rc;
    *text = fake_gpu_get(gpu, name);
    return *text ? value_code(*text) : CUDA_ERROR_INVALID_VALUE;
}

static CUresult field_u64(CUdevice dev, const char *name, unsigned long long *out) {
    const char *text = NULL;
    CUresult rc = field(dev, name, &text);
    if (rc != CUDA_SUCCESS)
        return rc;
    return fake_parse_u64(text, out) ? CUDA_SUCCESS : CUDA_ERROR_UNKNOWN;
}

/* domain, bus, device of the GPU's "pci_bus_id". */
static CUresult pci_address(CUdevice dev, unsigned v[3]) {
    const char *text = NULL;
    CUresult rc = field(dev, "pci_bus_id", &text);
    if (rc != CUDA_SUCCESS)
        return rc;
    unsigned fn;
    return sscanf(text, "%x:%x:%x.%x", &v[0], &v[1], &v[2], &fn) == 4 ? CUDA_SUCCESS
                                                                      : CUDA_ERROR_UNKNOWN;
}

/* Reads "major.minor" of the GPU's "cc"; part 0 is major, 1 minor. */
static CUresult cc_part(CUdevice dev, int part, int *out) {
    const char *text = NULL;
    CUresult rc = field(dev, "cc", &text);
    if (rc != CUDA_SUCCESS)
        return rc;
    int v[2];
    char tail;
    if (sscanf(text, "%d.%d%c", &v[0], &v[1], &tail) != 2)
        return CUDA_ERROR_UNKNOWN;
    *out = v[part];
    return CUDA_SUCCESS;
}

/* ---- exported ---- */
CUresult cuInit(unsigned int Flags) {
    if (Flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    initialized = false;
    loaded = fake_script_load();
    if (!loaded)
        return CUDA_ERROR_NO_DEVICE;
    const char *init = fake_get("cuda.init");
    int code = init ? fake_cuda_code(init) : 0;
    if (code != 0)
        return code < 0 ? CUDA_ERROR_UNKNOWN : code;
    unsigned long long gpus = 0;
    if (!fake_parse_u64(fake_get("gpus"), &gpus) || gpus == 0)
        return CUDA_ERROR_NO_DEVICE;
    const char *list = fake_get("cuda.order");
    device_count = 0;
    if (list) {
        char buf[512], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", list);
        for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            unsigned long long i = 0;
            if (fake_parse_u64(t, &i) && i < gpus && device_count < FAKE_MAX_GPUS)
                order[device_count++] = (unsigned)i;
        }
    } else {
        for (unsigned i = 0; i < gpus && i < FAKE_MAX_GPUS; i++)
            order[device_count++] = i;
    }
    if (device_count == 0)
        return CUDA_ERROR_NO_DEVICE;
    initialized = true;
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *driverVersion) {
    if (!driverVersion)
        return CUDA_ERROR_INVALID_VALUE;
    ensure_loaded();
    const char *text = fake_get("cuda_driver_version");
    unsigned long long v = 0;
    if (!text)
        return CUDA_ERROR_INVALID_VALUE;
    if (value_code(text) != CUDA_SUCCESS)
        return value_code(text);
    if (!fake_parse_u64(text, &v))
        return CUDA_ERROR_UNKNOWN;
    *driverVersion = (int)v;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
    if (!initialized)
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!count)
        return CUDA_ERROR_INVALID_VALUE;
    *count = device_count;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    if (!initialized)
        return CUDA_ERROR_NOT_INITIALIZED;
    if (!device)
        return CUDA_ERROR_INVALID_VALUE;
    if (ordinal < 0 || ordinal >= device_count)
        return CUDA_ERROR_INVALID_DEVICE;
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
    const char *text = NULL;
    CUresult rc = field(dev, "name", &text);
    if (rc == CUDA_SUCCESS && (!name || len <= 0))
        rc = CUDA_ERROR_INVALID_VALUE;
    if (rc == CUDA_SUCCESS) /* the real call truncates to len */
        snprintf(name, (size_t)len, "%s", text);
    return rc;
}

CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev) {
    static const struct {
        int attrib;
        const char *key;
        unsigned long long scale;
    } plain[] = {
        {CU_DEVICE_ATTRIBUTE_CLOCK_RATE, "max_sm_clock_mhz", 1000},
        {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "sm_count", 1},
        {CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, "max_mem_clock_mhz", 1000},
        {CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, "bus_width", 1},
        {CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "l2_bytes", 1},
    };
    if (!pi)
        return CUDA_ERROR_INVALID_VALUE;
    char key[32];
    snprintf(key, sizeof(key), "cuda_attr.%d", attrib);
    unsigned long long v = 0;
    CUresult rc = CUDA_ERROR_INVALID_VALUE;
    const char *text = NULL;
    unsigned gpu = 0;
    if (gpu_of(dev, &gpu) == CUDA_SUCCESS && (text = fake_gpu_get(gpu, key)) != NULL) {
        rc = field_u64(dev, key, &v); /* an explicit cuda_attr.N wins */
        if (rc == CUDA_SUCCESS)
            *pi = (int)v;
        return rc;
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (plain[i].attrib == attrib) {
            rc = field_u64(dev, plain[i].key, &v);
            if (rc == CUDA_SUCCESS)
                *pi = (int)(v * plain[i].scale);
            return rc;
        }
    }
    unsigned pci[3];
    switch (attrib) {
    case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID:
    case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID:
    case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID:
        rc = pci_address(dev, pci);
        if (rc == CUDA_SUCCESS)
            *pi = (int)pci[attrib == CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID ? 0
                           : attrib == CU_DEVICE_ATTRIBUTE_PCI_BUS_ID  ? 1
                                                                       : 2];
        return rc;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
        return cc_part(dev, attrib == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, pi);
    default:
        rc = gpu_of(dev, &gpu);
        return rc != CUDA_SUCCESS ? rc : CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev) {
    unsigned long long v = 0;
    if (!bytes)
        return initialized ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
    CUresult rc = field_u64(dev, "cuda_memory_total", &v);
    if (rc == CUDA_ERROR_INVALID_VALUE)
        rc = field_u64(dev, "memory_total", &v);
    if (rc == CUDA_SUCCESS)
        *bytes = (size_t)v;
    return rc;
}

/* "GPU-6fa2b8e3-..." -> 16 bytes. */
static bool parse_uuid(const char *text, CUuuid *out) {
    if (strncmp(text, "GPU-", 4) == 0 || strncmp(text, "MIG-", 4) == 0)
        text += 4;
    int n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '-')
            continue;
        unsigned hi, lo;
        if (n >= 16 || !p[1] || sscanf(p, "%1x%1x", &hi, &lo) != 2)
            return false;
        out->bytes[n++] = (char)(hi << 4 | lo);
        p++;
    }
    return n == 16;
}

CUresult cuDeviceGetUuid(CUuuid *uuid, CUdevice dev) {
    const char *text = NULL;
    CUresult rc = field(dev, "uuid", &text);
    if (rc == CUDA_SUCCESS && !uuid)
        rc = CUDA_ERROR_INVALID_VALUE;
    if (rc == CUDA_SUCCESS && !parse_uuid(text, uuid))
        rc = CUDA_ERROR_UNKNOWN;
    return rc;
}

CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev) {
    return cuDeviceGetUuid(uuid, dev);
}

CUresult cuDeviceGetPCIBusId(char *pciBusId, int len, CUdevice dev) {
    unsigned v[3];
    CUresult rc = pci_address(dev, v);
    if (rc == CUDA_SUCCESS && (!pciBusId || len < 13))
        rc = CUDA_ERROR_INVALID_VALUE;
    if (rc == CUDA_SUCCESS)
        snprintf(pciBusId, (size_t)len, "%04X:%02X:%02X.0", v[0] & 0xFFFF, v[1] & 0xFF,
                 v[2] & 0xFF);
    return rc;
}

CUresult cuGetErrorString(CUresult error, const char **pStr) {
    if (!pStr)
        return CUDA_ERROR_INVALID_VALUE;
    *pStr = fake_cuda_string(error);
    return *pStr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorName(CUresult error, const char **pStr) {
    if (!pStr)
        return CUDA_ERROR_INVALID_VALUE;
    *pStr = fake_cuda_name(error);
    return *pStr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
