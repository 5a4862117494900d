/* pool.c - the worker pool: a job is a generation number, a function and a range, which the
 * threads take in pieces from a shared counter, so a thread the host preempts holds up less.
 * Between jobs workers spin briefly on the generation (the forward pass posts its products back
 * to back), then sleep on a condition variable; the caller waits for the last worker the same
 * way. */
#include "engine/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define PIECES 4 /* a job's range is cut into about this many pieces per thread */

struct hws_pool {
    int n; /* threads, the caller included */
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_ulong gen;   /* bumped per job, after fn, ctx and total are set */
    atomic_int pending; /* workers still on the current job */
    atomic_int quit;
    int spin;         /* rounds to spin between jobs (0: none) */
    atomic_long next; /* the next unclaimed index of the job's range */
    hws_pool_fn fn;
    void *ctx;
    long total, grain;
};

typedef struct {
    hws_pool *p;
    int index;
} worker_arg;

/* Runs pieces of the current job until none is left. */
static void take_pieces(hws_pool *p, int tid) {
    for (;;) {
        long b = atomic_fetch_add_explicit(&p->next, p->grain, memory_order_relaxed);
        if (b >= p->total)
            return;
        p->fn(p->ctx, b, b + p->grain < p->total ? b + p->grain : p->total, tid);
    }
}

/* Spins until a job after seen is posted or quit is set; then sleeps for it. */
static void wait_job(hws_pool *p, unsigned long seen) {
    for (int i = 0; i < p->spin; i++) {
        if (atomic_load_explicit(&p->gen, memory_order_acquire) != seen ||
            atomic_load_explicit(&p->quit, memory_order_relaxed))
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit))
        pthread_cond_wait(&p->go, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg) {
    worker_arg a = *(worker_arg *)arg;
    free(arg);
    hws_pool *p = a.p;
    unsigned long seen = 0;
    for (;;) {
        wait_job(p, seen);
        if (atomic_load(&p->quit))
            break;
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        take_pieces(p, a.index);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu); /* the caller may be between its check and its wait */
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

hws_pool *hws_pool_new(int nthreads, int spin_rounds) {
    hws_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = nthreads < 1 ? 1 : nthreads;
    p->spin = spin_rounds < 0 ? HWS_POOL_SPIN_DEFAULT : spin_rounds;
    p->tid = calloc((size_t)p->n, sizeof *p->tid);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    int started = 1;
    for (int i = 1; p->tid && i < p->n; i++, started++) {
        worker_arg *a = malloc(sizeof *a);
        if (a)
            *a = (worker_arg){p, i};
        if (!a || pthread_create(&p->tid[i], NULL, worker, a) != 0) {
            free(a);
            break;
        }
    }
    if (!p->tid || started < p->n) {
        p->n = started;
        hws_pool_free(p);
        return NULL;
    }
    return p;
}

void hws_pool_run(hws_pool *p, hws_pool_fn fn, void *ctx, long n) {
    if (n <= 0)
        return;
    if (p->n == 1 || n == 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->total = n;
    p->grain = n / ((long)p->n * PIECES);
    p->grain = p->grain < 1 ? 1 : p->grain;
    atomic_store(&p->next, 0);
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    take_pieces(p, 0);
    for (int i = 0; i < p->spin && atomic_load(&p->pending) > 0; i++)
        cpu_relax();
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->pending) > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

int hws_pool_threads(const hws_pool *p) {
    return p->n;
}

void hws_pool_free(hws_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; p->tid && i < p->n; i++)
        pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->tid);
    free(p);
}
