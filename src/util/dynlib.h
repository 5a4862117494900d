/* dynlib.h - one loader for every library opened at run time (NVML, the CUDA driver, the
 * hwscope CUDA module): a table of symbols resolved in one loop.
 *
 * Each symbol lists its names newest first ("nvmlDeviceGetComputeRunningProcesses_v3", then
 * "_v2", then the plain name); the first that resolves wins. A missing required symbol fails
 * the load; a missing optional one leaves the pointer NULL (the caller clears a capability). */
#ifndef HWSCOPE_UTIL_DYNLIB_H
#define HWSCOPE_UTIL_DYNLIB_H

#include "hwscope/hwscope.h"

#include <stdbool.h>

#define HWS_DYNSYM_NAMES 4

typedef struct {
    const char *names[HWS_DYNSYM_NAMES]; /* tried in order; unused slots NULL */
    void **ptr;                          /* where the resolved address goes */
    bool required;
    int resolved_index; /* out: which name resolved (-1: none) */
} hws_dynsym;

/* Opens the first library in candidates (NULL-terminated) that loads. On failure err holds
 * every dlerror() seen, so "no GPU driver" reads plainly. */
hws_status hws_dynlib_open(const char *const *candidates, void **handle, hws_error *err);
/* Resolves each symbol of the table; fails on the first missing required symbol. */
hws_status hws_dynlib_resolve(void *handle, hws_dynsym *syms, size_t count, const char *libname,
                              hws_error *err);
void hws_dynlib_close(void *handle);
/* Checks path before it is handed to dlopen: a regular 64-bit ELF file whose headers and loaded
 * segments lie inside it. HWS_ERR_INPUT naming path and what is wrong (truncated, not ELF). */
hws_status hws_dynlib_check_file(const char *path, hws_error *err);
/* Opens the library $env_var names (or default_name when unset) and resolves syms. On failure
 * err reads "<what> not found: <dlerror>" or names the missing symbol; a path in $env_var that
 * fails hws_dynlib_check_file is HWS_ERR_INPUT "<env_var>=<path>: <what is wrong>". */
hws_status hws_dynlib_load(const char *env_var, const char *default_name, const char *what,
                           hws_dynsym *syms, size_t count, void **handle, hws_error *err);

#endif
