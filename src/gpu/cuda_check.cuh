// cuda_check.cuh - the one way CUDA and cuBLAS failures become an hws_status in the CUDA module:
// the failing call is named in err, nothing exits. HWS_CUDA_TRY jumps to `done` with st set (for
// functions that clean up); HWS_CUDA_RET returns the status.
#ifndef HWSCOPE_GPU_CUDA_CHECK_CUH
#define HWSCOPE_GPU_CUDA_CHECK_CUH

#include "hwscope/hwscope.h"

#include <cstdarg>
#include <cstdio>
#include <cublasLt.h>
#include <cuda_runtime.h>

// Writes "what: msg" into err and returns HWS_ERR_RUNTIME.
static inline hws_status hws_gpu_fail(hws_error *err, const char *what, const char *msg) {
    if (err != nullptr)
        snprintf(err->msg, sizeof err->msg, "%s: %s", what, msg);
    return HWS_ERR_RUNTIME;
}

// hws_error_set for the module, which links nothing of libhwscope: the message into err, status
// returned.
static inline hws_status hws_gpu_errorf(hws_error *err, hws_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline hws_status hws_gpu_errorf(hws_error *err, hws_status st, const char *fmt, ...) {
    if (err != nullptr) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

// HWS_OK, or the failure of call (named what) written into err.
static inline hws_status hws_cuda_status(cudaError_t e, const char *what, hws_error *err) {
    return e == cudaSuccess ? HWS_OK : hws_gpu_fail(err, what, cudaGetErrorString(e));
}
static inline hws_status hws_cublas_status(cublasStatus_t s, const char *what, hws_error *err) {
    if (s == CUBLAS_STATUS_SUCCESS)
        return HWS_OK;
    char msg[32];
    snprintf(msg, sizeof msg, "cuBLAS status %d", (int)s);
    return hws_gpu_fail(err, what, msg);
}

#define HWS_CUDA_TRY(call)                                                                         \
    do {                                                                                           \
        if ((st = hws_cuda_status((call), #call, err)) != HWS_OK)                                  \
            goto done;                                                                             \
    } while (0)

#define HWS_CUDA_RET(call)                                                                         \
    do {                                                                                           \
        hws_status s_ = hws_cuda_status((call), #call, err);                                       \
        if (s_ != HWS_OK)                                                                          \
            return s_;                                                                             \
    } while (0)

#define HWS_CUBLAS_RET(call)                                                                       \
    do {                                                                                           \
        hws_status s_ = hws_cublas_status((call), #call, err);                                     \
        if (s_ != HWS_OK)                                                                          \
            return s_;                                                                             \
    } while (0)

#endif
