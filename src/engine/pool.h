/* pool.h - a fixed pool of worker threads for the CPU backend's own kernels: run fn over a range
 * cut into pieces that the threads, the caller included, take as they come free. */
#ifndef HWSCOPE_ENGINE_POOL_H
#define HWSCOPE_ENGINE_POOL_H

typedef struct hws_pool hws_pool;

/* tid: 0 for the caller, 1..nthreads-1 for the workers (an index for per-thread scratch) */
typedef void (*hws_pool_fn)(void *ctx, long begin, long end, int tid);

/* Pause rounds a worker spins between jobs before it sleeps, by default (about 0.1-1 ms). */
#define HWS_POOL_SPIN_DEFAULT 20000

/* nthreads counts the caller; 1 runs everything on the caller. spin_rounds: pause instructions
 * a worker spins between jobs before sleeping (0: sleep at once; negative: the default). NULL
 * when out of memory or threads cannot be started. */
hws_pool *hws_pool_new(int nthreads, int spin_rounds);
/* Calls fn(ctx, b, e, tid) over [0, n) in disjoint pieces covering it (a thread may get several,
 * one after another); returns when all are done. */
void hws_pool_run(hws_pool *p, hws_pool_fn fn, void *ctx, long n);
int hws_pool_threads(const hws_pool *p);
void hws_pool_free(hws_pool *p);

#endif
