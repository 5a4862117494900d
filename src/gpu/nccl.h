/* nccl.h - the part of NCCL hwscope uses, redeclared (nccl.h is not a build dependency) and
 * opened at run time from libnccl.so.2 (or $HWSCOPE_NCCL_LIB), like NVML: one symbol table,
 * a missing optional call clears a capability, a missing library says so and fails nothing.
 *
 * Values and layouts are NCCL's (nccl.h 2.x). The CUDA module gets this table from the C side
 * (hws_nccl_get) and calls through it; it never opens NCCL itself.
 *
 * NCCL_NVLS_ENABLE: NVLink SHARP must stay off on the lent multi-GPU machines. The library
 * never calls setenv, so `hwscope bench` (src/cli/bench.c) sets NCCL_NVLS_ENABLE=0 in its own
 * environment before NCCL is first opened. */
#ifndef HWSCOPE_GPU_NCCL_H
#define HWSCOPE_GPU_NCCL_H

#include "hwscope/hwscope.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int ncclResult_t;
typedef struct ncclComm *ncclComm_t;
typedef struct {
    char internal[128]; /* NCCL_UNIQUE_ID_BYTES */
} ncclUniqueId;
enum { ncclSuccess = 0, ncclInProgress = 7 };
enum { ncclFloat32 = 7 }; /* ncclDataType_t */
enum { ncclSum = 0 };     /* ncclRedOp_t */

/* The functions; NULL when the library lacks an optional one (only GetLastError is). */
typedef struct {
    ncclResult_t (*GetVersion)(int *version);
    ncclResult_t (*GetUniqueId)(ncclUniqueId *id);
    ncclResult_t (*CommInitRank)(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank);
    ncclResult_t (*CommDestroy)(ncclComm_t comm);
    const char *(*GetErrorString)(ncclResult_t result);
    const char *(*GetLastError)(ncclComm_t comm);
    ncclResult_t (*AllReduce)(const void *send, void *recv, size_t count, int dtype, int op,
                              ncclComm_t comm, void *stream);
    ncclResult_t (*AllGather)(const void *send, void *recv, size_t sendcount, int dtype,
                              ncclComm_t comm, void *stream);
    ncclResult_t (*ReduceScatter)(const void *send, void *recv, size_t recvcount, int dtype, int op,
                                  ncclComm_t comm, void *stream);
    ncclResult_t (*Broadcast)(const void *send, void *recv, size_t count, int dtype, int root,
                              ncclComm_t comm, void *stream);
    ncclResult_t (*Send)(const void *send, size_t count, int dtype, int peer, ncclComm_t comm,
                         void *stream);
    ncclResult_t (*Recv)(void *recv, size_t count, int dtype, int peer, ncclComm_t comm,
                         void *stream);
    ncclResult_t (*GroupStart)(void);
    ncclResult_t (*GroupEnd)(void);
    int version; /* ncclGetVersion: 22809 = 2.28.9 */
} hws_nccl;

/* Opens NCCL once per process; NULL with the reason in err ("NCCL not found: ...") when it
 * cannot. Thread-safe. */
const hws_nccl *hws_nccl_get(hws_error *err);

#ifdef __cplusplus
}
#endif

#endif
