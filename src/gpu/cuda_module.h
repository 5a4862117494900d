/* cuda_module.h - the door to the CUDA part of hwscope.
 *
 * All CUDA code (the .cu files under src/) is built into one module, libhwscope_cuda.so, opened at
 * run time, so the hwscope binary starts on machines with no CUDA runtime, cuBLAS or GPU. Each part
 * of the module exports one C entry point returning its table of functions, e.g.
 *   const hws_gpu_bench_api *(*get)(void) = hws_cuda_module_sym("hws_gpu_bench_api", &err);
 * The module is looked for at $HWSCOPE_CUDA_MODULE, beside the executable, then in
 * <exe>/../lib/hwscope/. */
#ifndef HWSCOPE_GPU_CUDA_MODULE_H
#define HWSCOPE_GPU_CUDA_MODULE_H

#include "hwscope/hwscope.h"

/* Address of an exported entry point of the module, or NULL with the reason in err (module not
 * built, not found, or CUDA runtime libraries missing). Thread-safe; opens the module once. */
void *hws_cuda_module_sym(const char *name, hws_error *err);

#endif
