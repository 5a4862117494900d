/* monitor.c - the sampler's threads: one per source (the host, each GPU), each reading into its
 * own scratch record and publishing it into its slot under the slot's own lock, so no reader ever
 * waits for another; a snapshot takes each slot's lock only for a copy.
 *
 * Locks: slot.lock guards slot.host / slot.gpu; m->wake_lock with m->wake lets stop() cut every
 * wait short and wait_ready() sleep until readers have published. generation and stopping are
 * atomics, read without a lock. */
#include "hwscope/monitor.h"
#include "monitor/readers.h"
#include "util/sysfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    hws_monitor *m;
    int gpu_index; /* -1: the host */
    pthread_t thread;
    int started;
    atomic_ullong readings; /* published so far */
    pthread_mutex_t lock;   /* guards host / gpu */
    hws_mon_host host;
    hws_mon_gpu gpu;
} slot;

struct hws_monitor {
    double interval_s;
    const hws_nvml *nvml; /* NULL: no GPUs */
    char nvml_error[HWS_ERROR_LEN];
    atomic_ullong generation;
    atomic_int stopping;
    pthread_mutex_t wake_lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    int nslots;          /* 1 + GPUs */
    slot *slots;         /* [0] is the host */
};

static int before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Sleeps until the deadline or stop(); returns 0 when stopping. */
static int sleep_until(hws_monitor *m, const struct timespec *deadline) {
    pthread_mutex_lock(&m->wake_lock);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (atomic_load(&m->stopping) || !before(&now, deadline))
            break;
        pthread_cond_timedwait(&m->wake, &m->wake_lock, deadline);
    }
    pthread_mutex_unlock(&m->wake_lock);
    return !atomic_load(&m->stopping);
}

static void published(hws_monitor *m, slot *s) {
    atomic_fetch_add(&m->generation, 1);
    atomic_fetch_add(&s->readings, 1);
    pthread_mutex_lock(&m->wake_lock);
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->wake_lock);
}

static void advance(struct timespec *t, double seconds) {
    double ns = t->tv_nsec + seconds * 1e9;
    t->tv_sec += (time_t)(ns / 1e9);
    t->tv_nsec = (long)(ns - (double)(time_t)(ns / 1e9) * 1e9);
}

/* Reads one source at every interval until stop(): into scratch, then a copy under the lock. */
static void *reader_thread(void *arg) {
    slot *s = arg;
    int host = s->gpu_index < 0;
    hws_host_reader *r = host ? hws_host_reader_new() : NULL;
    hws_gpu_reader *gr =
        host ? NULL : hws_gpu_reader_new(s->m->nvml, s->gpu_index, s->m->interval_s);
    void *scratch = calloc(1, host ? sizeof(hws_mon_host) : sizeof(hws_mon_gpu));
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (scratch != NULL && (r != NULL || gr != NULL)) {
        if (host)
            hws_host_reader_read(r, scratch);
        else
            hws_gpu_reader_read(gr, scratch);
        pthread_mutex_lock(&s->lock);
        if (host)
            s->host = *(hws_mon_host *)scratch;
        else
            s->gpu = *(hws_mon_gpu *)scratch;
        if (!host)
            s->gpu.read = 1;
        pthread_mutex_unlock(&s->lock);
        published(s->m, s);
        advance(&next, s->m->interval_s);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (before(&next, &now)) { /* a read took longer than the interval: no catching up */
            next = now;
            advance(&next, s->m->interval_s);
        }
        if (!sleep_until(s->m, &next))
            break;
    }
    free(scratch);
    hws_host_reader_free(r);
    hws_gpu_reader_free(gr);
    return NULL;
}

/* The GPUs NVML lists, or 0 with the reason in m->nvml_error. */
static int open_gpus(hws_monitor *m, int no_gpu) {
    hws_error err = {""};
    unsigned int count = 0;
    if (no_gpu) {
        snprintf(m->nvml_error, sizeof m->nvml_error, "GPUs not read (host only)");
        return 0;
    }
    m->nvml = hws_nvml_get(&err);
    if (m->nvml == NULL) {
        snprintf(m->nvml_error, sizeof m->nvml_error, "%s", err.msg);
        return 0;
    }
    nvmlReturn_t rc = m->nvml->DeviceGetCount(&count);
    if (rc != NVML_SUCCESS) {
        snprintf(m->nvml_error, sizeof m->nvml_error, "NVML: cannot count GPUs: %s",
                 hws_nvml_error(m->nvml, rc));
        return 0;
    }
    if (count == 0)
        snprintf(m->nvml_error, sizeof m->nvml_error, "NVML lists no GPU");
    return count > HWS_MON_MAX_GPUS ? HWS_MON_MAX_GPUS : (int)count;
}

hws_status hws_monitor_start(const hws_monitor_options *opt, hws_monitor **out, hws_error *err) {
    pthread_condattr_t attr;
    *out = NULL;
    if (opt->interval_s < 0.05 || opt->interval_s > 3600)
        return hws_error_set(err, HWS_ERR_INPUT, "interval %g s is outside 0.05..3600",
                             opt->interval_s);
    hws_monitor *m = calloc(1, sizeof *m);
    if (m == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    m->interval_s = opt->interval_s;
    (void)hws_sysroot(); /* read $HWSCOPE_SYSROOT once, before any thread reads /proc */
    int ngpus = open_gpus(m, opt->no_gpu);
    m->nslots = 1 + ngpus;
    m->slots = calloc((size_t)m->nslots, sizeof *m->slots);
    if (m->slots == NULL) {
        free(m);
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&m->wake_lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &attr);
    pthread_condattr_destroy(&attr);
    for (int i = 0; i < m->nslots; i++) {
        slot *s = &m->slots[i];
        s->m = m;
        s->gpu_index = i - 1;
        pthread_mutex_init(&s->lock, NULL);
        int rc = pthread_create(&s->thread, NULL, reader_thread, s);
        if (rc != 0) {
            hws_monitor_stop(m);
            return hws_error_set(err, HWS_ERR_RUNTIME, "cannot start a reader thread: %s",
                                 strerror(rc));
        }
        s->started = 1;
    }
    *out = m;
    return HWS_OK;
}

void hws_monitor_stop(hws_monitor *m) {
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->wake_lock);
    atomic_store(&m->stopping, 1);
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->wake_lock);
    for (int i = 0; i < m->nslots; i++) {
        if (m->slots[i].started)
            pthread_join(m->slots[i].thread, NULL);
        pthread_mutex_destroy(&m->slots[i].lock);
    }
    pthread_cond_destroy(&m->wake);
    pthread_mutex_destroy(&m->wake_lock);
    free(m->slots);
    free(m);
}

int hws_monitor_gpu_count(const hws_monitor *m) {
    return m->nslots - 1;
}

/* The readings every slot has published (the smallest count). */
static unsigned long long rounds(hws_monitor *m) {
    unsigned long long least = ~0ULL;
    for (int i = 0; i < m->nslots; i++) {
        unsigned long long n = atomic_load(&m->slots[i].readings);
        least = n < least ? n : least;
    }
    return least;
}

unsigned long long hws_monitor_wait_round(hws_monitor *m, unsigned long long after,
                                          int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    advance(&deadline, timeout_ms / 1e3);
    pthread_mutex_lock(&m->wake_lock);
    while (rounds(m) <= after && !atomic_load(&m->stopping)) {
        if (pthread_cond_timedwait(&m->wake, &m->wake_lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&m->wake_lock);
    return rounds(m);
}

int hws_monitor_wait_ready(hws_monitor *m, int timeout_ms) {
    return hws_monitor_wait_round(m, 0, timeout_ms) > 0;
}

unsigned long long hws_monitor_generation(hws_monitor *m) {
    return atomic_load(&m->generation);
}

void hws_monitor_snapshot(hws_monitor *m, hws_mon_sample *s) {
    s->generation = atomic_load(&m->generation);
    snprintf(s->nvml_error, sizeof s->nvml_error, "%s", m->nvml_error);
    pthread_mutex_lock(&m->slots[0].lock);
    s->host = m->slots[0].host;
    pthread_mutex_unlock(&m->slots[0].lock);
    s->ngpus = m->nslots - 1;
    for (int i = 0; i < s->ngpus; i++) {
        slot *sl = &m->slots[i + 1];
        pthread_mutex_lock(&sl->lock);
        s->gpus[i] = sl->gpu;
        pthread_mutex_unlock(&sl->lock);
        s->gpus[i].index = i;
    }
}

hws_mon_sample *hws_mon_sample_new(const hws_monitor *m) {
    hws_mon_sample *s = calloc(1, sizeof *s);
    int n = m->nslots - 1;
    if (s != NULL && n > 0 && (s->gpus = calloc((size_t)n, sizeof *s->gpus)) == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void hws_mon_sample_free(hws_mon_sample *s) {
    if (s != NULL)
        free(s->gpus);
    free(s);
}
