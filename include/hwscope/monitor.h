/* monitor.h - the live sampler behind `hwscope top`, `log` and `serve`.
 *
 * One reader thread per source (the host; each GPU), each reading at the interval and publishing
 * into its own slot under its own lock, so a GPU whose driver calls hang does not hold up the
 * others. A snapshot copies every slot as last published. Nothing here is fatal: a GPU that falls
 * off the bus is `lost` with NVML's reason, a field NVML does not support is HWS_NA with a note
 * ("fan_pct: NVML: Not Supported"), NVML missing altogether is `nvml_error` with no GPUs, and
 * NVML going away mid-run (driver unloaded or replaced, every init shut down) is `nvml_down` on
 * each GPU with the reason: its reader calls nvmlInit again one interval later, then twice as
 * late each time (at most 10 s, or the interval when longer), and resumes reading.
 *
 * Example:
 *   hws_monitor *m; hws_error err;
 *   if (hws_monitor_start(&(hws_monitor_options){.interval_s = 1}, &m, &err) != HWS_OK) ...
 *   hws_mon_sample *s = hws_mon_sample_new(m);
 *   hws_monitor_wait_ready(m, 2000);
 *   hws_monitor_snapshot(m, s);  // s->gpus[0].util_gpu_pct, s->host.cpu_busy_pct, ...
 *   hws_mon_sample_free(s); hws_monitor_stop(m); */
#ifndef HWSCOPE_MONITOR_H
#define HWSCOPE_MONITOR_H

#include "hwscope/probe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_MON_MAX_GPUS  64
#define HWS_MON_MAX_PROCS 32
#define HWS_MON_MAX_CPUS  512

/* A process on a GPU, joined with what /proc says about it. */
typedef struct {
    unsigned int pid;   /* host PID, as NVML reports it */
    int gpu;            /* NVML index of the GPU it runs on */
    double used_bytes;  /* GPU memory it holds; HWS_NA when the driver does not say */
    double sm_util_pct; /* its share of SM time; HWS_NA when unknown */
    char name[64];      /* executable base name ("python3"); "" unknown */
    char user[32];      /* owner's login name or uid; "" when /proc has no such PID */
    char container[80]; /* container id (12 hex) or "pod:<uid>"; "" when none */
    char cmdline[160];  /* arguments joined by spaces, cut to fit */
    int visible;        /* 1 when the process is in hwscope's PID namespace (local_pid is known) */
    unsigned int local_pid; /* its PID in hwscope's namespace (what kill takes); 0: not visible */
    unsigned int ns_pid; /* its PID in its own innermost namespace (its container's); 0 unknown */
} hws_mon_process;

/* One GPU's reading. Units in the names; HWS_NA unknown, "" unknown string. */
typedef struct {
    int index;           /* NVML index */
    int read;            /* 1 once the reader has published a reading */
    int lost;            /* 1 when NVML says the GPU is lost (fell off the bus) */
    char error[160];     /* why the GPU could not be read at all; "" when it could */
    double timestamp_s;  /* Unix time of the reading */
    char name[96];       /* "NVIDIA H100 80GB HBM3" */
    char uuid[96];       /* "GPU-4f5d..." */
    char pci_bus_id[32]; /* NVML's form "00000000:18:00.0" */
    char driver_version[32];
    double util_gpu_pct, util_mem_pct;
    double mem_total_bytes, mem_used_bytes, mem_free_bytes;
    double sm_clock_mhz, mem_clock_mhz, max_sm_clock_mhz;
    double power_w, power_limit_w;
    double energy_mj; /* since the driver loaded */
    double temperature_c;
    double fan_pct;
    double pstate;               /* 0 (P0) .. 15 */
    double clocks_event_reasons; /* NVML bit mask */
    double pcie_tx_bytes_s, pcie_rx_bytes_s;
    double pcie_gen, pcie_width;
    double ecc_corrected, ecc_uncorrected;                         /* volatile counts */
    double remapped_rows_correctable, remapped_rows_uncorrectable; /* rows remapped (A100+) */
    double remapped_rows_pending,
        remapped_rows_failure;                   /* 1: a remap waits for a GPU reset; failed */
    double retired_pages_sbe, retired_pages_dbe; /* pages retired for single / double-bit errors */
    double retired_pages_pending; /* 1: a page waits to be retired at the next driver load */
    double xid_last;              /* the last XID critical error seen since the monitor started */
    double xid_count;             /* XID critical errors seen since the monitor started */
    double nvlink_tx_bytes_s, nvlink_rx_bytes_s; /* data over all NVLinks, over the last interval */
    int nvml_down; /* 1 while NVML itself is gone (error says why): nvmlInit is retried, backing off
                    */
    unsigned int
        nvml_recoveries; /* times this GPU's reader brought NVML back with a new nvmlInit */
    int nprocs;          /* -1: the process list could not be read */
    hws_mon_process procs[HWS_MON_MAX_PROCS];
    hws_notes notes; /* "field: reason" for each HWS_NA above */
} hws_mon_gpu;

/* The host's reading; rates are over the last interval (HWS_NA on the first). */
typedef struct {
    int read;
    double timestamp_s;
    char hostname[64];
    int ncpus;
    double cpu_busy_pct;                        /* all CPUs */
    double cpu_core_busy_pct[HWS_MON_MAX_CPUS]; /* per CPU, ncpus of them */
    double mem_total_bytes, mem_available_bytes;
    double load1, load5, load15;
    double net_rx_bytes_s, net_tx_bytes_s;        /* all interfaces but lo */
    double disk_read_bytes_s, disk_write_bytes_s; /* whole disks */
} hws_mon_host;

typedef struct {
    unsigned long long generation;  /* grows with every reading published by any reader */
    char nvml_error[HWS_ERROR_LEN]; /* why there are no GPUs ("" when NVML answered) */
    hws_mon_host host;
    int ngpus;
    hws_mon_gpu *gpus; /* ngpus of them */
} hws_mon_sample;

typedef struct {
    double interval_s; /* between readings of each source; 0.05 .. 3600 */
    int no_gpu;        /* 1: host only, NVML is not opened */
} hws_monitor_options;

typedef struct hws_monitor hws_monitor;

/* Starts the readers. Fails only when a thread cannot be started or memory runs out; a missing
 * driver is a monitor with no GPUs and nvml_error set. */
HWS_API hws_status hws_monitor_start(const hws_monitor_options *opt, hws_monitor **out,
                                     hws_error *err);
/* Stops and joins every reader, frees m. */
HWS_API void hws_monitor_stop(hws_monitor *m);
/* GPUs the monitor reads (fixed at start). */
HWS_API int hws_monitor_gpu_count(const hws_monitor *m);
/* Waits until every reader has published once, at most timeout_ms; returns 1 when all have. */
HWS_API int hws_monitor_wait_ready(hws_monitor *m, int timeout_ms);
/* Waits until every reader has published more than `after` readings (a full round newer than
 * the one a caller last saw), at most timeout_ms; returns the rounds complete now. */
HWS_API unsigned long long hws_monitor_wait_round(hws_monitor *m, unsigned long long after,
                                                  int timeout_ms);
/* Copies the latest reading of every source into s (made by hws_mon_sample_new for m). */
HWS_API void hws_monitor_snapshot(hws_monitor *m, hws_mon_sample *s);
/* The generation of the newest reading (cheap: an atomic load). */
HWS_API unsigned long long hws_monitor_generation(hws_monitor *m);

HWS_API hws_mon_sample *hws_mon_sample_new(const hws_monitor *m);
HWS_API void hws_mon_sample_free(hws_mon_sample *s);

/* ---- the exporter's web configuration (Prometheus exporter-toolkit format) ---- */

#define HWS_WEB_MAX_USERS 32

typedef struct {
    char cert_file[1024], key_file[1024]; /* both "" when TLS is off */
    int nusers;                           /* 0: no authentication */
    struct {
        char name[64];
        char hash[128];
    } users[HWS_WEB_MAX_USERS];
} hws_web_config;

/* Parses text (the file at path, used for messages and relative paths) into cfg; HWS_ERR_INPUT
 * with "PATH:LINE: ..." when it is not such a file. */
HWS_API hws_status hws_web_config_parse(const char *text, const char *path, hws_web_config *cfg,
                                        hws_error *err);
/* Reads the web configuration file at path (bounded, without blocking) into cfg, and the
 * certificate and key files it names into *cert and *key (NUL-terminated, the caller frees them;
 * both NULL when TLS is off). HWS_ERR_INPUT naming the file at fault. */
HWS_API hws_status hws_web_config_load(const char *path, hws_web_config *cfg, char **cert,
                                       char **key, hws_error *err);

#ifdef __cplusplus
}
#endif

#endif
