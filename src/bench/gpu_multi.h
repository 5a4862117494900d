/* gpu_multi.h - the plain C face of the multi-GPU benchmarks in gpu_multi.cu: peer-to-peer
 * copies between two GPUs and NCCL collectives over several, one thread per GPU.
 *
 * The CUDA module exports `hws_gpu_multi_api`, returning this table; the C side looks it up with
 * hws_cuda_module_sym. No function aborts: each returns HWS_OK or a status with the CUDA / NCCL
 * message in err. Times are per run in milliseconds, each run timed alone with CUDA events
 * (`warmup` untimed runs first). NCCL is not opened here: the caller passes the table it loaded
 * (gpu/nccl.h). */
#ifndef HWSCOPE_BENCH_GPU_MULTI_H
#define HWSCOPE_BENCH_GPU_MULTI_H

#include "gpu/nccl.h"
#include "hwscope/hwscope.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_GPU_MULTI_ABI 1
#define HWS_NCCL_MAX_REPS 64 /* = HWS_BENCH_MAX_SAMPLES */

typedef enum {
    HWS_NCCL_ALLREDUCE,
    HWS_NCCL_ALLGATHER,
    HWS_NCCL_REDUCESCATTER,
    HWS_NCCL_BROADCAST, /* root 0 */
    HWS_NCCL_ALLTOALL,  /* grouped ncclSend/ncclRecv, as nccl-tests */
    HWS_NCCL_OPS
} hws_nccl_op;

/* One point of an NCCL sweep. bytes is nccl-tests' "size": the buffer each rank ends with
 * (all-reduce, all-gather, broadcast, all-to-all) or starts from (reduce-scatter); float32. */
typedef struct {
    hws_nccl_op op;
    double bytes;                 /* in; rounded down to a multiple of 4 x ranks */
    int nreps;                    /* out: runs timed */
    double ms[HWS_NCCL_MAX_REPS]; /* out: each run, the slowest rank's time */
    double wrong;                 /* out: output elements not as expected, all ranks */
    double checked;               /* out: elements compared */
} hws_nccl_point;

typedef struct {
    int abi; /* HWS_GPU_MULTI_ABI; the GPU count comes from the benchmark table (gpu_bench.h) */
    /* cudaDeviceCanAccessPeer(a reads or writes b's memory). */
    hws_status (*can_access_peer)(int a, int b, int *can, hws_error *err);
    /* cudaMemcpyPeerAsync of `bytes` from GPU src to GPU dst (peer access enabled where the
     * pair allows it, else the driver stages through host memory); bidir: dst -> src at the same
     * time on the other GPU's stream, ms covering both. After the runs the destination(s) are
     * compared word by word with the source pattern: *wrong = words that differ. */
    hws_status (*p2p_copy)(int src, int dst, double bytes, int bidir, int warmup, int reps,
                           double *ms, double *wrong, hws_error *err);
    /* Runs every point over GPUs 0..ndev-1, one thread and one communicator per GPU (set up
     * once for the whole sweep); each output is checked against the exact expected sums. */
    hws_status (*nccl_sweep)(const hws_nccl *nccl, int ndev, hws_nccl_point *points, int npoints,
                             int warmup, int reps, hws_error *err);
} hws_gpu_multi_table;

typedef const hws_gpu_multi_table *(*hws_gpu_multi_api_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
