/* host_reader.c - the host's share of a monitor sample, from /proc (under the sysroot): CPU busy
 * per core and in all (/proc/stat deltas), memory (/proc/meminfo), load (/proc/loadavg), network
 * (/proc/net/dev, all but lo) and whole-disk I/O (/proc/diskstats) as rates over the interval. */
#include "monitor/readers.h"
#include "util/sysfs.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROC_STAT_BYTES (256 * 1024) /* /proc/stat's intr line is long on big machines */

typedef struct {
    double busy, total; /* jiffies */
} cpu_ticks;

struct hws_host_reader {
    char *text; /* PROC_STAT_BYTES of scratch */
    int have_prev;
    double prev_time_s;
    cpu_ticks prev_all, prev_core[HWS_MON_MAX_CPUS];
    double prev_net_rx, prev_net_tx, prev_disk_read, prev_disk_write; /* bytes */
};

double hws_mon_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

hws_host_reader *hws_host_reader_new(void) {
    hws_host_reader *r = calloc(1, sizeof *r);
    if (r != NULL && (r->text = malloc(PROC_STAT_BYTES)) == NULL) {
        free(r);
        r = NULL;
    }
    return r;
}

void hws_host_reader_free(hws_host_reader *r) {
    if (r != NULL)
        free(r->text);
    free(r);
}

/* Busy share of the interval from two tick counts, percent; HWS_NA without a previous one. */
static double busy_pct(cpu_ticks now, cpu_ticks prev, int have_prev) {
    double total = now.total - prev.total;
    if (!have_prev || total <= 0)
        return HWS_NA;
    return 100.0 * (now.busy - prev.busy) / total;
}

/* "cpu  user nice system idle iowait irq softirq steal ..." -> ticks; 0 when not such a line. */
static int parse_cpu_line(const char *line, cpu_ticks *t) {
    unsigned long long v[8] = {0};
    int got = sscanf(line, "%*s %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (got < 4)
        return 0;
    double idle = (double)v[3] + (double)v[4];
    t->total = 0;
    for (int i = 0; i < 8; i++)
        t->total += (double)v[i];
    t->busy = t->total - idle;
    return 1;
}

static void read_cpu(hws_host_reader *r, hws_mon_host *h) {
    cpu_ticks all = {0, 0};
    h->ncpus = 0;
    h->cpu_busy_pct = HWS_NA;
    if (hws_sys_read("/proc/stat", r->text, PROC_STAT_BYTES) < 0)
        return;
    for (char *save = NULL, *line = strtok_r(r->text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        cpu_ticks t;
        if (strncmp(line, "cpu", 3) != 0 || !parse_cpu_line(line, &t))
            continue;
        if (line[3] == ' ') {
            h->cpu_busy_pct = busy_pct(t, r->prev_all, r->have_prev);
            all = t;
        } else if (h->ncpus < HWS_MON_MAX_CPUS) {
            int i = h->ncpus++;
            h->cpu_core_busy_pct[i] = busy_pct(t, r->prev_core[i], r->have_prev);
            r->prev_core[i] = t;
        }
    }
    r->prev_all = all;
}

/* Sums the receive and transmit byte counters of every interface but lo. */
static void read_net(hws_host_reader *r, double *rx, double *tx) {
    *rx = *tx = HWS_NA;
    if (hws_sys_read("/proc/net/dev", r->text, PROC_STAT_BYTES) < 0)
        return;
    *rx = *tx = 0;
    for (char *save = NULL, *line = strtok_r(r->text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        unsigned long long in = 0, out = 0;
        if (colon == NULL)
            continue;
        *colon = '\0';
        while (*line == ' ')
            line++;
        if (strcmp(line, "lo") == 0 ||
            sscanf(colon + 1, "%llu %*u %*u %*u %*u %*u %*u %*u %llu", &in, &out) != 2)
            continue;
        *rx += (double)in;
        *tx += (double)out;
    }
}

/* Whole disks only (a name /sys/block lists), so partitions are not counted twice. */
static void read_disks(hws_host_reader *r, double *rd, double *wr) {
    *rd = *wr = HWS_NA;
    if (hws_sys_read("/proc/diskstats", r->text, PROC_STAT_BYTES) < 0)
        return;
    *rd = *wr = 0;
    for (char *save = NULL, *line = strtok_r(r->text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char name[64], path[128], full[4608];
        unsigned long long sectors_read = 0, sectors_written = 0;
        struct stat st;
        if (sscanf(line, "%*u %*u %63s %*u %*u %llu %*u %*u %*u %llu", name, &sectors_read,
                   &sectors_written) != 3 ||
            strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0)
            continue;
        snprintf(path, sizeof path, "/sys/block/%s", name);
        if (stat(hws_sys_path(full, sizeof full, path), &st) != 0)
            continue;
        *rd += 512.0 * (double)sectors_read; /* diskstats counts 512-byte sectors */
        *wr += 512.0 * (double)sectors_written;
    }
}

static double rate(double now, double prev, double dt, int have_prev) {
    if (!have_prev || dt <= 0 || !hws_known(now) || !hws_known(prev) || now < prev)
        return HWS_NA;
    return (now - prev) / dt;
}

void hws_host_reader_read(hws_host_reader *r, hws_mon_host *h) {
    double now = monotonic_s(), dt = now - r->prev_time_s;
    double rx, tx, rd, wr;
    char text[512];
    h->timestamp_s = hws_mon_now_s();
    if (gethostname(h->hostname, sizeof h->hostname) != 0)
        h->hostname[0] = '\0';
    h->hostname[sizeof h->hostname - 1] = '\0';
    read_cpu(r, h);
    h->mem_total_bytes = h->mem_available_bytes = HWS_NA;
    if (hws_sys_read("/proc/meminfo", r->text, PROC_STAT_BYTES) >= 0) {
        h->mem_total_bytes = hws_sys_read_keyed_num(r->text, "MemTotal") * 1024;
        h->mem_available_bytes = hws_sys_read_keyed_num(r->text, "MemAvailable") * 1024;
    }
    h->load1 = h->load5 = h->load15 = HWS_NA;
    if (hws_sys_read("/proc/loadavg", text, sizeof text) < 0 ||
        sscanf(text, "%lf %lf %lf", &h->load1, &h->load5, &h->load15) != 3)
        h->load1 = h->load5 = h->load15 = HWS_NA;
    read_net(r, &rx, &tx);
    read_disks(r, &rd, &wr);
    h->net_rx_bytes_s = rate(rx, r->prev_net_rx, dt, r->have_prev);
    h->net_tx_bytes_s = rate(tx, r->prev_net_tx, dt, r->have_prev);
    h->disk_read_bytes_s = rate(rd, r->prev_disk_read, dt, r->have_prev);
    h->disk_write_bytes_s = rate(wr, r->prev_disk_write, dt, r->have_prev);
    r->prev_net_rx = rx;
    r->prev_net_tx = tx;
    r->prev_disk_read = rd;
    r->prev_disk_write = wr;
    r->prev_time_s = now;
    r->have_prev = 1;
    h->read = 1;
}
