/* pool.c - the worker pool: workers sleep on a condition variable between jobs; a job is a
 * generation number, a function and a range. */
#include "engine/pool.h"

#include <pthread.h>
#include <stdlib.h>

struct hws_pool {
    int n; /* threads, the caller included */
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen; /* bumped per job */
    int pending;       /* workers still on the current job */
    int quit;
    hws_pool_fn fn;
    void *ctx;
    long total;
};

typedef struct {
    hws_pool *p;
    int index;
} worker_arg;

static void chunk(const hws_pool *p, int i, long *b, long *e) {
    long per = p->total / p->n, extra = p->total % p->n;
    *b = i * per + (i < extra ? i : extra);
    *e = *b + per + (i < extra);
}

static void *worker(void *arg) {
    worker_arg a = *(worker_arg *)arg;
    free(arg);
    hws_pool *p = a.p;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        long b, e;
        chunk(p, a.index, &b, &e);
        if (b < e)
            p->fn(p->ctx, b, e, a.index);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

hws_pool *hws_pool_new(int nthreads) {
    hws_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = nthreads < 1 ? 1 : nthreads;
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
    p->pending = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    long b, e;
    chunk(p, 0, &b, &e);
    if (b < e)
        fn(ctx, b, e, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
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
    p->quit = 1;
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
