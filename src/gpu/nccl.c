/* nccl.c - opens NCCL at run time through one symbol table (see nccl.h). */
#include "gpu/nccl.h"
#include "util/dynlib.h"

#include <pthread.h>

static hws_nccl nccl;
static hws_error load_error;
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define SYM(field, required, ...)                                                                  \
    { {__VA_ARGS__}, (void **)&nccl.field, required, -1 }

static void load(void) {
    hws_dynsym syms[] = {
        SYM(GetVersion, true, "ncclGetVersion"),
        SYM(GetUniqueId, true, "ncclGetUniqueId"),
        SYM(CommInitRank, true, "ncclCommInitRank"),
        SYM(CommDestroy, true, "ncclCommDestroy"),
        SYM(GetErrorString, true, "ncclGetErrorString"),
        SYM(GetLastError, false, "ncclGetLastError"),
        SYM(AllReduce, true, "ncclAllReduce"),
        SYM(AllGather, true, "ncclAllGather"),
        SYM(ReduceScatter, true, "ncclReduceScatter"),
        SYM(Broadcast, true, "ncclBroadcast"),
        SYM(Send, true, "ncclSend"),
        SYM(Recv, true, "ncclRecv"),
        SYM(GroupStart, true, "ncclGroupStart"),
        SYM(GroupEnd, true, "ncclGroupEnd"),
    };
    void *handle;
    if (hws_dynlib_load("HWSCOPE_NCCL_LIB", "libnccl.so.2", "NCCL", syms,
                        sizeof syms / sizeof syms[0], &handle, &load_error) != HWS_OK)
        return;
    int version = 0;
    ncclResult_t rc = nccl.GetVersion(&version);
    if (rc != ncclSuccess) {
        hws_error_set(&load_error, HWS_ERR_UNSUPPORTED, "NCCL: ncclGetVersion: %s",
                      nccl.GetErrorString(rc));
        return;
    }
    nccl.version = version;
    loaded = 1;
}

const hws_nccl *hws_nccl_get(hws_error *err) {
    pthread_once(&once, load);
    if (!loaded) {
        hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s", load_error.msg);
        return NULL;
    }
    return &nccl;
}
