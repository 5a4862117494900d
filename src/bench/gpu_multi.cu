// gpu_multi.cu - peer-to-peer copies between two GPUs and NCCL collectives over several (one host
// thread and one communicator per GPU), behind the C table of gpu_multi.h; the module's entry
// point hws_gpu_multi_api(). Every copy and every collective output is checked on the device.
#include "bench/gpu_common.cuh"
#include "bench/gpu_multi.h"

#include <cstdlib>
#include <cstring>
#include <pthread.h>

// ---- data patterns and checks ----

__host__ __device__ static inline uint32_t pattern_word(size_t i, uint32_t seed) {
    return (uint32_t)(i * 2654435761u) ^ (seed * 0x9E3779B9u);
}

__global__ void pattern_fill(uint32_t *p, size_t n, uint32_t seed) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        p[i] = pattern_word(i, seed);
}

__global__ void pattern_check(const uint32_t *p, size_t n, uint32_t seed,
                              unsigned long long *wrong) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    unsigned long long bad = 0;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        bad += p[i] != pattern_word(i, seed);
    if (bad)
        atomicAdd(wrong, bad);
}

// Collective inputs: rank r holds (r + 1) * f(k), f(k) = k % 7 + 1, so every expected output
// is a small integer, exact in float.
__host__ __device__ static inline float coll_f(size_t k) {
    return (float)(k % 7 + 1);
}

__global__ void coll_fill(float *p, size_t n, int rank) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride)
        p[k] = (float)(rank + 1) * coll_f(k);
}

// The expected element k of rank r's output after op over n ranks, c = elements per chunk.
__device__ static float coll_expected(int op, size_t k, int r, int n, size_t c) {
    float tri = (float)n * (float)(n + 1) / 2;
    switch (op) {
    case HWS_NCCL_ALLREDUCE:
        return tri * coll_f(k);
    case HWS_NCCL_ALLGATHER:
        return (float)(k / c + 1) * coll_f(k % c);
    case HWS_NCCL_REDUCESCATTER:
        return tri * coll_f((size_t)r * c + k);
    case HWS_NCCL_BROADCAST:
        return coll_f(k);
    default: // all-to-all: chunk j came from rank j, its chunk r
        return (float)(k / c + 1) * coll_f((size_t)r * c + k % c);
    }
}

__global__ void coll_check(const float *p, size_t n_out, int op, int rank, int nranks, size_t c,
                           unsigned long long *wrong) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    unsigned long long bad = 0;
    for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < n_out; k += stride)
        bad += p[k] != coll_expected(op, k, rank, nranks, c);
    if (bad)
        atomicAdd(wrong, bad);
}

// ---- peer-to-peer ----

static hws_status can_access_peer(int a, int b, int *can, hws_error *err) {
    hws_status st = HWS_OK;
    *can = 0;
    HWS_CUDA_TRY(cudaDeviceCanAccessPeer(can, a, b));
done:
    return st;
}

// Enables access from the current device to peer's memory; already enabled is fine.
static cudaError_t enable_peer(int peer) {
    cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
    if (e == cudaErrorPeerAccessAlreadyEnabled) {
        cudaGetLastError();
        return cudaSuccess;
    }
    return e;
}

// One side of a peer copy: its GPU, stream, the buffer copied from it and the one it receives.
typedef struct {
    int dev, peer_ok;
    cudaStream_t stream;
    uint32_t *from, *into;
    cudaEvent_t sync;
    unsigned long long *wrong;
} p2p_side;

static cudaError_t side_open(p2p_side *s, int dev, int peer, size_t bytes, uint32_t seed,
                             bool sends) {
    cudaError_t e = cudaSetDevice(dev);
    if (e == cudaSuccess && s->peer_ok)
        e = enable_peer(peer);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
    if (e == cudaSuccess)
        e = cudaEventCreateWithFlags(&s->sync, cudaEventDisableTiming);
    if (e == cudaSuccess)
        e = cudaMalloc(&s->into, bytes);
    if (e == cudaSuccess)
        e = cudaMemsetAsync(s->into, 0, bytes, s->stream);
    if (e == cudaSuccess)
        e = cudaMalloc(&s->wrong, sizeof *s->wrong);
    if (e == cudaSuccess)
        e = cudaMemsetAsync(s->wrong, 0, sizeof *s->wrong, s->stream);
    if (e == cudaSuccess && sends)
        e = cudaMalloc(&s->from, bytes);
    if (e == cudaSuccess && sends) {
        pattern_fill<<<1024, 256, 0, s->stream>>>(s->from, bytes / 4, seed);
        e = cudaGetLastError();
    }
    if (e == cudaSuccess)
        e = cudaStreamSynchronize(s->stream);
    return e;
}

static void side_close(p2p_side *s) {
    if (cudaSetDevice(s->dev) != cudaSuccess)
        return;
    if (s->stream != nullptr)
        cudaStreamSynchronize(s->stream);
    cudaFree(s->from);
    cudaFree(s->into);
    cudaFree(s->wrong);
    if (s->sync != nullptr)
        cudaEventDestroy(s->sync);
    if (s->stream != nullptr)
        cudaStreamDestroy(s->stream);
}

// Words of side s's received buffer that differ from the pattern seed, or -1 on a CUDA error.
static double side_wrong(p2p_side *s, size_t bytes, uint32_t seed) {
    unsigned long long bad = 0;
    if (cudaSetDevice(s->dev) != cudaSuccess)
        return -1;
    pattern_check<<<1024, 256, 0, s->stream>>>(s->into, bytes / 4, seed, s->wrong);
    if (cudaMemcpyAsync(&bad, s->wrong, sizeof bad, cudaMemcpyDeviceToHost, s->stream) !=
            cudaSuccess ||
        cudaStreamSynchronize(s->stream) != cudaSuccess)
        return -1;
    return (double)bad;
}

// One run: src -> dst on src's stream; with bidir dst -> src at the same time on dst's stream,
// src's stream waiting for it.
static cudaError_t p2p_once(p2p_side *a, p2p_side *b, size_t bytes, bool bidir) {
    cudaError_t e = cudaSuccess;
    if (bidir) {
        e = cudaEventRecord(a->sync, a->stream);
        if (e == cudaSuccess)
            e = cudaStreamWaitEvent(b->stream, a->sync, 0);
    }
    if (e == cudaSuccess)
        e = cudaMemcpyPeerAsync(b->into, b->dev, a->from, a->dev, bytes, a->stream);
    if (bidir && e == cudaSuccess)
        e = cudaMemcpyPeerAsync(a->into, a->dev, b->from, b->dev, bytes, b->stream);
    if (bidir && e == cudaSuccess)
        e = cudaEventRecord(b->sync, b->stream);
    if (bidir && e == cudaSuccess)
        e = cudaStreamWaitEvent(a->stream, b->sync, 0);
    return e;
}

static hws_status p2p_copy(int src, int dst, double bytes_in, int bidir, int warmup, int reps,
                           double *ms, double *wrong, hws_error *err) {
    hws_status st = HWS_OK;
    size_t bytes = (size_t)bytes_in & ~(size_t)15;
    p2p_side a, b;
    hws_gpu_timer t;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    t.n = 0;
    a.dev = src;
    b.dev = dst;
    *wrong = 0;
    if (reps < 1 || reps > HWS_GPU_MAX_REPS || bytes == 0 || src == dst)
        return hws_gpu_fail(err, "p2p copy", "bad arguments");
    HWS_CUDA_TRY(cudaDeviceCanAccessPeer(&a.peer_ok, src, dst));
    HWS_CUDA_TRY(cudaDeviceCanAccessPeer(&b.peer_ok, dst, src));
    HWS_CUDA_TRY(side_open(&a, src, dst, bytes, 1, true));
    HWS_CUDA_TRY(side_open(&b, dst, src, bytes, 2, bidir != 0));
    HWS_CUDA_TRY(cudaSetDevice(src));
    for (int i = 0; i < warmup; i++)
        HWS_CUDA_TRY(p2p_once(&a, &b, bytes, bidir != 0));
    HWS_CUDA_TRY(cudaStreamSynchronize(a.stream));
    HWS_CUDA_TRY(hws_gpu_timer_init(&t, reps));
    for (int i = 0; i < reps; i++) {
        HWS_CUDA_TRY(cudaEventRecord(t.start[i], a.stream));
        HWS_CUDA_TRY(p2p_once(&a, &b, bytes, bidir != 0));
        HWS_CUDA_TRY(cudaEventRecord(t.stop[i], a.stream));
    }
    HWS_CUDA_TRY(hws_gpu_timer_read(&t, ms));
    *wrong = side_wrong(&b, bytes, 1);
    if (bidir && *wrong >= 0) {
        double back = side_wrong(&a, bytes, 2);
        *wrong = back < 0 ? back : *wrong + back;
    }
    if (*wrong < 0)
        st = hws_gpu_fail(err, "p2p check", cudaGetErrorString(cudaGetLastError()));
done:
    if (cudaSetDevice(src) == cudaSuccess)
        hws_gpu_timer_free(&t);
    side_close(&a);
    side_close(&b);
    if (a.peer_ok && cudaSetDevice(src) == cudaSuccess)
        cudaDeviceDisablePeerAccess(dst);
    if (b.peer_ok && cudaSetDevice(dst) == cudaSuccess)
        cudaDeviceDisablePeerAccess(src);
    cudaGetLastError();
    return st;
}

// ---- NCCL collectives, one thread per GPU ----

typedef struct {
    const hws_nccl *nccl;
    ncclUniqueId id;
    int n, npoints, warmup, reps;
    hws_nccl_point *points;
    pthread_barrier_t barrier;
    volatile int failed; // set by any rank before a barrier: every rank stops there
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    int gate; // 0 until every thread started, then 1 (go) or -1 (a thread could not start)
} sweep_shared;

typedef struct {
    sweep_shared *sh;
    int rank;
    double *ms;    // [npoints][reps]
    double *wrong; // [npoints]
    double *checked;
    hws_status st;
    hws_error err;
} rank_job;

// Elements each rank sends and receives for a point of count elements.
static void coll_counts(int op, size_t count, int n, size_t *send, size_t *recv) {
    *send = op == HWS_NCCL_ALLGATHER ? count / n : count;
    *recv = op == HWS_NCCL_REDUCESCATTER ? count / n : count;
}

static size_t point_count(const hws_nccl_point *p, int n) {
    size_t count = (size_t)(p->bytes / 4);
    return count / (size_t)n * (size_t)n;
}

static ncclResult_t coll_once(const hws_nccl *nc, int op, const float *send, float *recv,
                              size_t count, int n, ncclComm_t comm, cudaStream_t s) {
    size_t c = count / n;
    switch (op) {
    case HWS_NCCL_ALLREDUCE:
        return nc->AllReduce(send, recv, count, ncclFloat32, ncclSum, comm, s);
    case HWS_NCCL_ALLGATHER:
        return nc->AllGather(send, recv, c, ncclFloat32, comm, s);
    case HWS_NCCL_REDUCESCATTER:
        return nc->ReduceScatter(send, recv, c, ncclFloat32, ncclSum, comm, s);
    case HWS_NCCL_BROADCAST:
        return nc->Broadcast(send, recv, count, ncclFloat32, 0, comm, s);
    default: {
        ncclResult_t r = nc->GroupStart();
        for (int p = 0; p < n && r == ncclSuccess; p++) {
            r = nc->Send(send + (size_t)p * c, c, ncclFloat32, p, comm, s);
            if (r == ncclSuccess)
                r = nc->Recv(recv + (size_t)p * c, c, ncclFloat32, p, comm, s);
        }
        ncclResult_t end = nc->GroupEnd();
        return r != ncclSuccess ? r : end;
    }
    }
}

// Waits for every rank; true when one of them failed (all stop then).
static bool rank_sync(rank_job *j, bool ok) {
    if (!ok)
        j->sh->failed = 1;
    pthread_barrier_wait(&j->sh->barrier);
    return j->sh->failed != 0;
}

#define NCCL_TRY(call)                                                                             \
    do {                                                                                           \
        ncclResult_t r_ = (call);                                                                  \
        if (r_ != ncclSuccess) {                                                                   \
            st = hws_gpu_fail(err, #call, nc->GetErrorString(r_));                                 \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

// Point p on this rank, before the timed runs: inputs filled, output cleared, warm-up runs.
static hws_status point_prepare(rank_job *j, int p, ncclComm_t comm, cudaStream_t s, float *send,
                                float *recv, unsigned long long *d_wrong) {
    hws_status st = HWS_OK;
    hws_error *err = &j->err;
    const hws_nccl *nc = j->sh->nccl;
    const hws_nccl_point *pt = &j->sh->points[p];
    size_t count = point_count(pt, j->sh->n), nsend, nrecv;
    coll_counts(pt->op, count, j->sh->n, &nsend, &nrecv);
    coll_fill<<<1024, 256, 0, s>>>(send, nsend, j->rank);
    HWS_CUDA_TRY(cudaGetLastError());
    HWS_CUDA_TRY(cudaMemsetAsync(recv, 0, nrecv * sizeof(float), s));
    HWS_CUDA_TRY(cudaMemsetAsync(d_wrong, 0, sizeof *d_wrong, s));
    for (int i = 0; i < j->sh->warmup; i++)
        NCCL_TRY(coll_once(nc, pt->op, send, recv, count, j->sh->n, comm, s));
    HWS_CUDA_TRY(cudaStreamSynchronize(s));
done:
    return st;
}

// Timed run i of point p.
static hws_status point_run(rank_job *j, int p, int i, ncclComm_t comm, cudaStream_t s,
                            const float *send, float *recv, hws_gpu_timer *t) {
    hws_status st = HWS_OK;
    hws_error *err = &j->err;
    const hws_nccl *nc = j->sh->nccl;
    const hws_nccl_point *pt = &j->sh->points[p];
    HWS_CUDA_TRY(cudaEventRecord(t->start[i], s));
    NCCL_TRY(coll_once(nc, pt->op, send, recv, point_count(pt, j->sh->n), j->sh->n, comm, s));
    HWS_CUDA_TRY(cudaEventRecord(t->stop[i], s));
    HWS_CUDA_TRY(cudaStreamSynchronize(s));
done:
    return st;
}

// Point p after its timed runs: the times, and the output compared with the exact sums.
static hws_status point_finish(rank_job *j, int p, cudaStream_t s, const float *recv,
                               unsigned long long *d_wrong, hws_gpu_timer *t) {
    hws_status st = HWS_OK;
    hws_error *err = &j->err;
    const hws_nccl_point *pt = &j->sh->points[p];
    int n = j->sh->n;
    size_t count = point_count(pt, n), nsend, nrecv;
    unsigned long long bad = 0;
    coll_counts(pt->op, count, n, &nsend, &nrecv);
    HWS_CUDA_TRY(hws_gpu_timer_read(t, j->ms + (size_t)p * j->sh->reps));
    coll_check<<<1024, 256, 0, s>>>(recv, nrecv, pt->op, j->rank, n, count / n, d_wrong);
    HWS_CUDA_TRY(cudaGetLastError());
    HWS_CUDA_TRY(cudaMemcpyAsync(&bad, d_wrong, sizeof bad, cudaMemcpyDeviceToHost, s));
    HWS_CUDA_TRY(cudaStreamSynchronize(s));
    j->wrong[p] = (double)bad;
    j->checked[p] = (double)nrecv;
done:
    return st;
}

// Sets up this rank's GPU: stream, buffers for the largest point, counter, timer.
static hws_status rank_setup(rank_job *j, cudaStream_t *s, float **send, float **recv,
                             unsigned long long **d_wrong, hws_gpu_timer *t) {
    hws_status st = HWS_OK;
    hws_error *err = &j->err;
    sweep_shared *sh = j->sh;
    size_t max_send = 1, max_recv = 1;
    for (int p = 0; p < sh->npoints; p++) {
        size_t ns, nr;
        coll_counts(sh->points[p].op, point_count(&sh->points[p], sh->n), sh->n, &ns, &nr);
        max_send = ns > max_send ? ns : max_send;
        max_recv = nr > max_recv ? nr : max_recv;
    }
    HWS_CUDA_TRY(cudaSetDevice(j->rank));
    HWS_CUDA_TRY(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking));
    HWS_CUDA_TRY(cudaMalloc(send, max_send * sizeof(float)));
    HWS_CUDA_TRY(cudaMalloc(recv, max_recv * sizeof(float)));
    HWS_CUDA_TRY(cudaMalloc(d_wrong, sizeof **d_wrong));
    HWS_CUDA_TRY(hws_gpu_timer_init(t, sh->reps));
done:
    return st;
}

// One rank's thread. Every rank waits at the barrier the same number of times, 2 + npoints x
// (1 + reps), whatever fails: a failure only skips work (and makes every rank skip from the
// next barrier on), so no rank is left waiting for one that gave up.
static void *rank_main(void *arg) {
    rank_job *j = (rank_job *)arg;
    sweep_shared *sh = j->sh;
    const hws_nccl *nc = sh->nccl;
    cudaStream_t s = nullptr;
    float *send = nullptr, *recv = nullptr;
    unsigned long long *d_wrong = nullptr;
    ncclComm_t comm = nullptr;
    hws_gpu_timer t;
    t.n = 0;
    pthread_mutex_lock(&sh->gate_lock);
    while (sh->gate == 0)
        pthread_cond_wait(&sh->gate_cond, &sh->gate_lock);
    int go = sh->gate > 0;
    pthread_mutex_unlock(&sh->gate_lock);
    if (!go) {
        j->st = HWS_ERR_RUNTIME;
        return nullptr;
    }
    hws_status st = rank_setup(j, &s, &send, &recv, &d_wrong, &t);
    if (!rank_sync(j, st == HWS_OK)) { // all set up: join the communicator together
        ncclResult_t r = nc->CommInitRank(&comm, sh->n, sh->id, j->rank);
        if (r != ncclSuccess) {
            st = hws_gpu_fail(&j->err, "ncclCommInitRank", nc->GetErrorString(r));
            comm = nullptr;
        }
    }
    rank_sync(j, st == HWS_OK);
    for (int p = 0; p < sh->npoints; p++) {
        bool skip = rank_sync(j, st == HWS_OK);
        if (!skip)
            st = point_prepare(j, p, comm, s, send, recv, d_wrong);
        for (int i = 0; i < sh->reps; i++) {
            skip = rank_sync(j, st == HWS_OK) || skip;
            if (!skip)
                st = point_run(j, p, i, comm, s, send, recv, &t);
        }
        if (!skip && st == HWS_OK)
            st = point_finish(j, p, s, recv, d_wrong, &t);
    }
    if (st == HWS_OK && sh->failed)
        st = HWS_ERR_RUNTIME; // another GPU failed; its message says why
    if (comm != nullptr)
        nc->CommDestroy(comm);
    hws_gpu_timer_free(&t);
    cudaFree(send);
    cudaFree(recv);
    cudaFree(d_wrong);
    if (s != nullptr)
        cudaStreamDestroy(s);
    j->st = st;
    return nullptr;
}

static hws_status nccl_sweep(const hws_nccl *nccl, int ndev, hws_nccl_point *points, int npoints,
                             int warmup, int reps, hws_error *err) {
    sweep_shared sh;
    rank_job jobs[64];
    pthread_t threads[64];
    int started = 0;
    hws_status st = HWS_OK;
    if (nccl == nullptr || ndev < 1 || ndev > 64 || npoints < 1 || reps < 1 ||
        reps > HWS_NCCL_MAX_REPS)
        return hws_gpu_fail(err, "nccl sweep", "bad arguments");
    memset(&sh, 0, sizeof sh);
    memset(jobs, 0, sizeof jobs);
    sh.nccl = nccl;
    sh.n = ndev;
    sh.points = points;
    sh.npoints = npoints;
    sh.warmup = warmup;
    sh.reps = reps;
    ncclResult_t r = nccl->GetUniqueId(&sh.id);
    if (r != ncclSuccess)
        return hws_gpu_fail(err, "ncclGetUniqueId", nccl->GetErrorString(r));
    if (pthread_barrier_init(&sh.barrier, nullptr, (unsigned)ndev) != 0)
        return hws_gpu_fail(err, "nccl sweep", "cannot create a thread barrier");
    for (int i = 0; i < ndev; i++) {
        jobs[i].sh = &sh;
        jobs[i].rank = i;
        jobs[i].ms = (double *)calloc((size_t)npoints * reps, sizeof(double));
        jobs[i].wrong = (double *)calloc((size_t)npoints, sizeof(double));
        jobs[i].checked = (double *)calloc((size_t)npoints, sizeof(double));
        if (jobs[i].ms == nullptr || jobs[i].wrong == nullptr || jobs[i].checked == nullptr)
            st = hws_gpu_fail(err, "nccl sweep", "out of memory");
    }
    // all threads or none: each waits at the gate until every one has started
    pthread_mutex_init(&sh.gate_lock, nullptr);
    pthread_cond_init(&sh.gate_cond, nullptr);
    for (int i = 0; st == HWS_OK && i < ndev; i++) {
        if (pthread_create(&threads[i], nullptr, rank_main, &jobs[i]) != 0) {
            st = hws_gpu_fail(err, "nccl sweep", "cannot start a thread per GPU");
            break;
        }
        started++;
    }
    pthread_mutex_lock(&sh.gate_lock);
    sh.gate = st == HWS_OK ? 1 : -1;
    pthread_cond_broadcast(&sh.gate_cond);
    pthread_mutex_unlock(&sh.gate_lock);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], nullptr);
    for (int i = 0; st == HWS_OK && i < ndev; i++) // the rank that failed, with its message
        if (jobs[i].st != HWS_OK && jobs[i].err.msg[0] != '\0') {
            st = jobs[i].st;
            snprintf(err->msg, sizeof err->msg, "GPU %d: %.480s", i, jobs[i].err.msg);
        }
    for (int i = 0; st == HWS_OK && i < ndev; i++)
        if (jobs[i].st != HWS_OK)
            st = hws_gpu_fail(err, "nccl sweep", "a GPU thread failed");
    for (int p = 0; st == HWS_OK && p < npoints; p++) {
        points[p].nreps = reps;
        points[p].wrong = points[p].checked = 0;
        for (int k = 0; k < reps; k++) {
            double worst = 0;
            for (int i = 0; i < ndev; i++)
                worst = fmax(worst, jobs[i].ms[(size_t)p * reps + k]);
            points[p].ms[k] = worst;
        }
        for (int i = 0; i < ndev; i++) {
            points[p].wrong += jobs[i].wrong[p];
            points[p].checked += jobs[i].checked[p];
        }
    }
    for (int i = 0; i < ndev; i++) {
        free(jobs[i].ms);
        free(jobs[i].wrong);
        free(jobs[i].checked);
    }
    pthread_barrier_destroy(&sh.barrier);
    pthread_cond_destroy(&sh.gate_cond);
    pthread_mutex_destroy(&sh.gate_lock);
    return st;
}

static const hws_gpu_multi_table api = {
    HWS_GPU_MULTI_ABI,
    can_access_peer,
    p2p_copy,
    nccl_sweep,
};

extern "C" __attribute__((visibility("default"))) const hws_gpu_multi_table *
hws_gpu_multi_api(void) {
    return &api;
}
