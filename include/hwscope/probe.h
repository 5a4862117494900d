/* probe.h - hardware facts of this machine: CPU, memory and GPUs.
 *
 * Conventions: a number that could not be read is HWS_NA (NaN; test with hws_known()), a string
 * that could not be read is "", a tri-state is -1 (unknown), 0 or 1. Units are in the names.
 * Each probe also fills a list of notes saying why a fact is missing ("power_limit_w: NVML: Not
 * Supported"), so the reports can print the reason beside "n/a". */
#ifndef HWSCOPE_PROBE_H
#define HWSCOPE_PROBE_H

#include "hwscope/fields.h"
#include "hwscope/hwscope.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_MAX_NOTES 32
#define HWS_NOTE_LEN  160

typedef struct {
    int count;
    char text[HWS_MAX_NOTES][HWS_NOTE_LEN]; /* "field: reason" */
} hws_notes;

#define HWS_MAX_CACHES 8

typedef struct {
    int level;             /* 1, 2, 3, 4 */
    char type[12];         /* "data", "instruction", "unified" */
    double size_bytes;     /* one instance */
    double instances;      /* how many of it in the machine */
    double shared_by_cpus; /* logical CPUs sharing one instance */
} hws_cache_info;

typedef struct {
    char vendor[64]; /* "GenuineIntel", "AuthenticAMD", "ARM" */
    char model[128]; /* "Intel(R) Xeon(R) Platinum 8480+" */
    char arch[16];   /* "x86_64", "aarch64" */
    double sockets;
    double cores;   /* physical cores, all sockets */
    double threads; /* logical CPUs online */
    double numa_nodes;
    double base_mhz;   /* base clock, MHz */
    double max_mhz;    /* highest boost clock, MHz */
    double cur_mhz;    /* clock now, MHz (/proc/cpuinfo "cpu MHz"; x86 only) */
    double x86_family; /* "cpu family" (25 = Zen 3/4, 26 = Zen 5, 6 = Intel Core/Xeon) */
    int ncaches;
    hws_cache_info caches[HWS_MAX_CACHES];
    /* ISA features that matter for inference kernels (tri-state) */
    int has_fma, has_avx2, has_avx512f, has_avx512_bf16, has_avx512_vnni, has_avx512_fp16;
    int has_amx_tile, has_amx_bf16, has_amx_int8, has_neon, has_sve, has_sve2;
    double simd_width_bits;    /* widest FP32 vector unit used for the peak: 128/256/512 */
    double fma_units_per_core; /* FMA pipes per core assumed for the peak (stated, not read) */
    double usable_cpus;        /* CPUs this process may use: affinity mask and cgroup quota */
    double cgroup_cpu_quota;   /* cgroup cpu.max quota / period, in CPUs; NA when none */
    double fp32_peak_gflops;   /* derived: cores * max clock * SIMD lanes * 2 * FMA units */
    hws_notes notes;
} hws_cpu_info;

typedef struct {
    double total_bytes;
    double available_bytes;
    double swap_total_bytes;
    double hugepages_total; /* count of default-size huge pages */
    double hugepages_free;
    double hugepage_size_bytes;
    double cgroup_limit_bytes; /* memory.max (v2) or limit_in_bytes (v1); NA when none */
    double cgroup_usage_bytes;
    char dimm_type[32];    /* "DDR5"; "" when not readable (needs root and SMBIOS) */
    double dimm_speed_mts; /* MT/s */
    hws_notes notes;
} hws_mem_info;

#define HWS_MAX_GPU_PROCS 32
#define HWS_MAX_MIG       8

/* One MIG instance of a GPU in MIG mode: what a process placed on it sees. */
typedef struct {
    char name[96]; /* "NVIDIA H100 80GB HBM3 MIG 3g.40gb" */
    char uuid[96]; /* "MIG-..." */
    double mem_total_bytes, mem_free_bytes, mem_used_bytes;
} hws_mig_instance;

typedef struct {
    double pid;
    char name[64];
    double used_bytes;
} hws_gpu_process;

typedef struct {
    int index;       /* NVML index */
    char vendor[16]; /* "NVIDIA" */
    char name[96];   /* "NVIDIA H100 80GB HBM3" */
    char uuid[96];
    char pci_bus_id[32]; /* lower case, "0000:18:00.0" */
    char serial[32];
    double mem_total_bytes, mem_used_bytes, mem_free_bytes;
    double cc_major, cc_minor; /* compute capability */
    double sm_count;
    double max_sm_clock_mhz, max_mem_clock_mhz, cur_sm_clock_mhz, cur_mem_clock_mhz;
    double mem_bus_width_bits;
    double l2_bytes;
    double mem_bw_theoretical_gbps; /* derived: memory clock * 2 (DDR) * bus width / 8, GB/s */
    double pcie_gen_cur, pcie_gen_max, pcie_width_cur, pcie_width_max;
    double nvlink_links_active;
    double power_limit_w, default_power_limit_w, power_draw_w;
    double temperature_c;
    double util_gpu_pct, util_mem_pct;
    int ecc_enabled, mig_enabled, persistence_enabled; /* tri-state */
    double ecc_errors_corrected;   /* volatile ECC counts: since the driver last loaded */
    double ecc_errors_uncorrected; /* (a nonzero uncorrected count: the memory is failing) */
    double clock_event_reasons;    /* NVML clocks-event (throttle) bitmask now; NA unreadable */
    char clock_event_text[192];    /* "sw power cap, hw thermal slowdown"; "" when none */
    int mig_count;                 /* MIG instances found (0 when MIG is off or none made) */
    hws_mig_instance mig[HWS_MAX_MIG];
    int lost;   /* 1 when the GPU answered "GPU is lost" (fell off the bus) */
    int nprocs; /* -1: list unreadable */
    hws_gpu_process procs[HWS_MAX_GPU_PROCS];
    hws_notes notes;
} hws_gpu_info;

#define HWS_MAX_GPUS 16

typedef struct {
    int count;               /* GPUs found (0 with a reason in why_none) */
    char driver_version[32]; /* "580.159.04" */
    char nvml_version[32];
    double cuda_driver_version;   /* e.g. 13000 as cuDriverGetVersion gives; NA when unknown */
    char cuda_version[16];        /* "13.0" */
    char why_none[HWS_ERROR_LEN]; /* why there is no GPU information, when count is 0 */
    hws_gpu_info gpus[HWS_MAX_GPUS];
} hws_gpu_list;

/* The field tables of the records above (hwscope/fields.h): the CPU's facts and its ISA
 * features (two tables over hws_cpu_info), one cache level, the memory, one GPU's facts. */
extern HWS_API const hws_field_table hws_cpu_info_table;
extern HWS_API const hws_field_table hws_cpu_isa_table;
extern HWS_API const hws_field_table hws_cache_info_table;
extern HWS_API const hws_field_table hws_mem_info_table;
extern HWS_API const hws_field_table hws_gpu_info_table;

HWS_API hws_status hws_probe_cpu(hws_cpu_info *cpu, hws_error *err);
HWS_API hws_status hws_probe_mem(hws_mem_info *mem, hws_error *err);
/* Never fails for a missing driver: count = 0 and why_none says why. */
HWS_API hws_status hws_probe_gpus(hws_gpu_list *list, hws_error *err);

/* The GPUs as an opaque handle, for programs that must not depend on the layout of hws_gpu_list
 * (fixed arrays that grow with every new field): read each GPU's facts through
 * hws_gpu_info_table (hws_field_find, hws_field_num/str/int), whose offsets come from the
 * library itself. Never fails for a missing driver: count 0 and why_none says why. */
typedef struct hws_gpus hws_gpus;
HWS_API hws_status hws_gpus_probe(hws_gpus **out, hws_error *err);
HWS_API int hws_gpus_count(const hws_gpus *g);
/* GPU i's facts (0 <= i < count), a record hws_gpu_info_table describes; NULL out of range. */
HWS_API const void *hws_gpus_record(const hws_gpus *g, int i);
HWS_API const char *hws_gpus_driver_version(const hws_gpus *g); /* "" when unknown */
HWS_API const char *hws_gpus_why_none(const hws_gpus *g);       /* "" when there are GPUs */
HWS_API void hws_gpus_free(hws_gpus *g);

/* A reading of a GPU's changing state, for sampling during benchmarks and monitoring. */
typedef struct {
    double sm_clock_mhz, mem_clock_mhz;
    double power_w;
    double temperature_c;
    double util_gpu_pct, util_mem_pct;
    double mem_used_bytes;
    double clock_event_reasons; /* NVML clocks-event (throttle) bitmask; NA when unreadable */
    char clock_event_text[128]; /* "sw power cap, hw thermal slowdown"; "" when none active */
} hws_gpu_sample;

/* Reads GPU `index` (NVML's numbering) now. NVML is opened once per process. */
HWS_API hws_status hws_gpu_sample_read(int index, hws_gpu_sample *sample, hws_error *err);

/* ---- health: is each GPU fit to run on, and if not, why ---------------------------------- */

typedef enum {
    HWS_HEALTH_OK,   /* nothing found */
    HWS_HEALTH_NOTE, /* worth knowing, not a fault (MIG on, link at idle power saving) */
    HWS_HEALTH_WARN, /* runs, but slower or with less memory than it should */
    HWS_HEALTH_LOST  /* not usable: fell off the bus */
} hws_health_level;

#define HWS_MAX_HEALTH_REASONS 8

typedef struct {
    hws_health_level level;
    char key[24];   /* "throttle", "pcie_link", "power_cap", "ecc", "processes", "mig", "lost" */
    char text[200]; /* "PCIe gen3 x8, below the card's gen4 x16: host<->device copies slow" */
} hws_health_reason;

typedef struct {
    hws_health_level level; /* the worst of the reasons; OK with none */
    int count;
    hws_health_reason reasons[HWS_MAX_HEALTH_REASONS];
} hws_gpu_health;

/* Judges one probed GPU: clock-event (throttle) reasons, PCIe link below its maximum (generation
 * and width; a lower generation while idle is power saving, a note), power limit below the
 * default, ECC errors, memory held by processes, lost, MIG. Pure: reads only g. */
HWS_API void hws_gpu_health_judge(const hws_gpu_info *g, hws_gpu_health *out);
/* "ok", "note", "warning", "lost". */
HWS_API const char *hws_health_level_name(hws_health_level level);
/* The memory a model placed on g can use, bytes: free memory; on a GPU in MIG mode the largest
 * instance's free memory (a process sees one slice, not the card); NA when unknown or lost. */
HWS_API double hws_gpu_usable_mem_bytes(const hws_gpu_info *g);
/* The total memory of that same device (the card, or the largest MIG slice), bytes. */
HWS_API double hws_gpu_device_mem_bytes(const hws_gpu_info *g);
/* Names the set bits of an NVML clocks-event mask into text ("sw power cap, hw thermal
 * slowdown"); idle and application-clock bits are left out when only_slowdowns is set. */
HWS_API void hws_clock_events_text(unsigned long long mask, int only_slowdowns, char *text,
                                   size_t len);

#ifdef __cplusplus
}
#endif

#endif
