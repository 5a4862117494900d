/* readers.h - the monitor's sources, each read by its own thread (monitor.c): one GPU through
 * NVML, the host through /proc, and the /proc facts of a GPU process. Each call fills the record
 * it is given and touches nothing else, so readers share no state. */
#ifndef HWSCOPE_MONITOR_READERS_H
#define HWSCOPE_MONITOR_READERS_H

#include "hwscope/monitor.h"
#include "probe/nvml.h"

/* The reader of GPU `index`: it keeps the previous NVLink counters (for rates), its XID event set
 * and, when NVML goes away or the GPU is lost, when to call nvmlInit again. */
typedef struct hws_gpu_reader hws_gpu_reader;
hws_gpu_reader *hws_gpu_reader_new(const hws_nvml *nvml, int index, double interval_s);
/* Frees r: its event set, and an nvmlShutdown for each nvmlInit it made. */
void hws_gpu_reader_free(hws_gpu_reader *r);
/* Reads the GPU now into g (the record of the reader's previous reading, or zeroed), keeping g's
 * identity strings when the GPU no longer answers. */
void hws_gpu_reader_read(hws_gpu_reader *r, hws_mon_gpu *g);

/* The host reader keeps the previous counters, to turn them into rates. */
typedef struct hws_host_reader hws_host_reader;
hws_host_reader *hws_host_reader_new(void);
void hws_host_reader_free(hws_host_reader *r);
void hws_host_reader_read(hws_host_reader *r, hws_mon_host *h);

/* How many PID namespaces deep hwscope sits below the one of the /proc it reads (the entries of
 * NSpid in /proc/self/status, under the sysroot, less one): 0 on the host or when /proc is this
 * namespace's own. */
int hws_mon_pid_depth(void);
/* Fills user, cmdline, container, visible, local_pid and ns_pid of p from /proc/<pid> (under the
 * sysroot), p->pid being a PID of that /proc's namespace (NVML's host PID), depth what
 * hws_mon_pid_depth() says. */
void hws_mon_process_join(hws_mon_process *p, int depth);
/* The container a /proc/<pid>/cgroup text names: a 12-hex container id (docker, containerd,
 * cri-o, podman) or "pod:<uid>" (Kubernetes), into out ("" when none). */
void hws_mon_container_of(const char *cgroup_text, char *out, size_t n);

/* Unix time now, seconds. */
double hws_mon_now_s(void);

#endif
