/* cuda_driver.c - opens the CUDA driver API at run time through one symbol table. */
#include "probe/cuda_driver.h"
#include "util/dynlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static hws_cuda_driver cu;
static hws_error load_error;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(field, required, ...)                                                                  \
    { {__VA_ARGS__}, (void **)&cu.field, required, -1 }

static void load(void) {
    hws_dynsym syms[] = {
        SYM(Init, true, "cuInit"),
        SYM(DriverGetVersion, true, "cuDriverGetVersion"),
        SYM(DeviceGetCount, true, "cuDeviceGetCount"),
        SYM(DeviceGet, true, "cuDeviceGet"),
        SYM(DeviceGetName, false, "cuDeviceGetName"),
        SYM(DeviceGetAttribute, true, "cuDeviceGetAttribute"),
        SYM(DeviceTotalMem, false, "cuDeviceTotalMem_v2"),
        SYM(DeviceGetPCIBusId, false, "cuDeviceGetPCIBusId"),
        SYM(GetErrorString, false, "cuGetErrorString"),
    };
    const char *env = getenv("HWSCOPE_CUDA_LIB");
    const char *candidates[] = {env != NULL && env[0] != '\0' ? env : "libcuda.so.1", NULL};
    void *handle;
    if (hws_dynlib_open(candidates, &handle, &load_error) != HWS_OK) {
        char why[HWS_ERROR_LEN];
        snprintf(why, sizeof why, "%s", load_error.msg);
        hws_error_set(&load_error, HWS_ERR_UNSUPPORTED, "CUDA driver not found: %.420s", why);
        return;
    }
    if (hws_dynlib_resolve(handle, syms, sizeof syms / sizeof syms[0], "libcuda", &load_error) !=
        HWS_OK)
        return;
    CUresult rc = cu.Init(0);
    if (rc != 0) {
        const char *why = NULL;
        if (cu.GetErrorString != NULL)
            cu.GetErrorString(rc, &why);
        hws_error_set(&load_error, HWS_ERR_UNSUPPORTED, "CUDA driver: cuInit failed: %s (%d)",
                      why != NULL ? why : "unknown error", rc);
        return;
    }
    loaded = 1;
}

const hws_cuda_driver *hws_cuda_driver_get(hws_error *err) {
    pthread_once(&once, load);
    if (!loaded) {
        hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s", load_error.msg);
        return NULL;
    }
    return &cu;
}
