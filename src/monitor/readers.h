/* readers.h - the monitor's sources, each read by its own thread (monitor.c): one GPU through
 * NVML, the host through /proc, and the /proc facts of a GPU process. Each call fills the record
 * it is given and touches nothing else, so readers share no state. */
#ifndef HWSCOPE_MONITOR_READERS_H
#define HWSCOPE_MONITOR_READERS_H

#include "hwscope/monitor.h"
#include "probe/nvml.h"

/* Reads GPU `index` now into g, keeping g's identity strings when the GPU no longer answers. */
void hws_mon_read_gpu(const hws_nvml *nvml, int index, hws_mon_gpu *g);

/* The host reader keeps the previous counters, to turn them into rates. */
typedef struct hws_host_reader hws_host_reader;
hws_host_reader *hws_host_reader_new(void);
void hws_host_reader_free(hws_host_reader *r);
void hws_host_reader_read(hws_host_reader *r, hws_mon_host *h);

/* Fills user, cmdline, container and visible of p from /proc/<pid> (under the sysroot). */
void hws_mon_process_join(hws_mon_process *p);
/* The container a /proc/<pid>/cgroup text names: a 12-hex container id (docker, containerd,
 * cri-o, podman) or "pod:<uid>" (Kubernetes), into out ("" when none). */
void hws_mon_container_of(const char *cgroup_text, char *out, size_t n);

/* Unix time now, seconds. */
double hws_mon_now_s(void);

#endif
