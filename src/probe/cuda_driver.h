/* cuda_driver.h - the part of the CUDA driver API hwscope reads device facts with, opened at run
 * time from libcuda.so.1 (or $HWSCOPE_CUDA_LIB, which tests point at a fake). NVML lacks the SM
 * count and L2 size; the driver API has them. */
#ifndef HWSCOPE_PROBE_CUDA_DRIVER_H
#define HWSCOPE_PROBE_CUDA_DRIVER_H

#include "hwscope/hwscope.h"

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;

/* CUdevice_attribute values (cuda.h). */
enum {
    CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13, /* kHz */
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36,       /* kHz */
    CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37, /* bits */
    CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,           /* bytes */
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

typedef struct {
    CUresult (*Init)(unsigned int);
    CUresult (*DriverGetVersion)(int *);
    CUresult (*DeviceGetCount)(int *);
    CUresult (*DeviceGet)(CUdevice *, int);
    CUresult (*DeviceGetName)(char *, int, CUdevice);
    CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
    CUresult (*DeviceTotalMem)(size_t *, CUdevice);
    CUresult (*DeviceGetPCIBusId)(char *, int, CUdevice);
    CUresult (*GetErrorString)(CUresult, const char **);
} hws_cuda_driver;

/* Opens and initialises the driver API once; NULL with the reason in err. */
const hws_cuda_driver *hws_cuda_driver_get(hws_error *err);

#endif
