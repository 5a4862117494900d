/* gpu_cache.h - the facts of a GPU that only the CUDA driver API gives (SM count, L2 size, and
 * any NVML left unknown), kept per GPU UUID and driver version, so `hwscope info` reads them
 * without paying the driver's initialisation (cuInit, ~250 ms on an H100 host) on every call.
 *
 * Where: $HWSCOPE_GPU_CACHE if set ("off": no cache), else $XDG_CACHE_HOME/hwscope, else
 * ~/.cache/hwscope; one file per GPU, gpu-<uuid>-<driver>.txt, written whole (temporary file +
 * rename), read with the bounded reader. A new driver or another GPU has another file name, so
 * an entry never outlives the driver that gave it. Format (hwscope.gpu-cache/1):
 *   hwscope.gpu-cache/1
 *   uuid GPU-4f5d7c2a-8b1e-3c9d-a6f0-2e7b9d1c5a83
 *   driver 580.65.06
 *   sm_count 132
 *   l2_bytes 52428800
 *   ...                       (one "key number" line per field of hws_gpu_cache_entry) */
#ifndef HWSCOPE_PROBE_GPU_CACHE_H
#define HWSCOPE_PROBE_GPU_CACHE_H

#include "hwscope/probe.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    double sm_count, l2_bytes; /* bytes */
    double cc_major, cc_minor;
    double mem_bus_width_bits;
    double max_mem_clock_mhz, max_sm_clock_mhz;
    double mem_total_bytes;
    double cuda_driver_version; /* 13000 for CUDA 13.0 */
} hws_gpu_cache_entry;

#define HWS_GPU_CACHE_MAX_BYTES 4096

/* The cache folder into buf; false when the cache is off or the path does not fit. */
bool hws_gpu_cache_dir(char *buf, size_t n);
/* Parses the text of a cache file (len bytes, need not be NUL-terminated) that must belong to
 * uuid and driver. HWS_ERR_INPUT naming path and line when it is not such a file. */
hws_status hws_gpu_cache_parse(const char *text, size_t len, const char *path, const char *uuid,
                               const char *driver, hws_gpu_cache_entry *out, hws_error *err);
/* Reads the entry of g (its uuid) under driver from dir; false when there is none or it
 * cannot be used (then the driver API is asked). */
bool hws_gpu_cache_read(const char *dir, const hws_gpu_info *g, const char *driver,
                        hws_gpu_cache_entry *out);
/* Saves what g holds of the entry's fields under driver in dir (folders created); best
 * effort: a cache that cannot be written only costs the next call its cuInit. */
void hws_gpu_cache_write(const char *dir, const hws_gpu_info *g, const char *driver,
                         double cuda_driver_version);
/* Fills the fields of g that the entry knows: SM count and L2 always, the others where NVML
 * left them unknown. */
void hws_gpu_cache_apply(const hws_gpu_cache_entry *e, hws_gpu_info *g);

#endif
