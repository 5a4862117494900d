/* gpu_vendor.h - what each GPU vendor's probe provides (nvtop-style vtable), and the helpers the
 * vendors share. The list of vendors is in gpu.c. */
#ifndef HWSCOPE_PROBE_GPU_VENDOR_H
#define HWSCOPE_PROBE_GPU_VENDOR_H

#include "hwscope/probe.h"

typedef struct {
    const char *name;
    /* Appends this vendor's GPUs to list; a missing driver is not an error (list->why_none). */
    hws_status (*list)(hws_gpu_list *list, hws_error *err);
    /* Reads the changing state of GPU index (the vendor's own numbering). */
    hws_status (*sample)(int index, hws_gpu_sample *sample, hws_error *err);
} hws_gpu_vendor;

extern const hws_gpu_vendor hws_gpu_vendor_nvidia;

/* NVML's "00000000:18:00.0" and CUDA's "0000:18:00.0" both become "0000:18:00.0". */
void hws_bus_id_normalise(const char *in, char *out, size_t n);

/* Every number unknown, tri-states unknown, strings empty. */
void hws_gpu_info_init(hws_gpu_info *g, int index);

#endif
