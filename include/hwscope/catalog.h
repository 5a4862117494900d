/* catalog.h - the GPU catalog: datasheet facts, prices and sources of the GPUs people run LLMs on.
 *
 * Rows live in data/gpus.tsv (compiled into the library) and may be added to or overridden by a
 * user file (same format; a row whose name matches a built-in row replaces it). Unknown figures
 * are HWS_NA. Throughputs are dense (no structured sparsity) unless the name says sparse. */
#ifndef HWSCOPE_CATALOG_H
#define HWSCOPE_CATALOG_H

#include "hwscope/fields.h"
#include "hwscope/hwscope.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[64];      /* catalog name, "H100 SXM 80GB" */
    char aliases[160];  /* ';'-separated other names, incl. NVML's ("NVIDIA H100 80GB HBM3") */
    char vendor[16];    /* NVIDIA, AMD, Intel, Apple */
    char segment[16];   /* datacenter, workstation, consumer, apple */
    double mem_bytes;   /* memory size, bytes (GB = 1e9 as vendors state; GiB noted in source) */
    char mem_type[16];  /* HBM3, GDDR6X, LPDDR5X ... */
    double mem_bw_gbps; /* memory bandwidth, GB/s */
    double fp32_tflops; /* non-tensor FP32 */
    double tf32_tflops; /* tensor, dense */
    double fp16_tflops; /* tensor FP16, dense, FP32 accumulate where the vendor states both */
    double bf16_tflops;
    double fp8_tflops;
    double int8_tops;
    double fp4_tflops;
    double sparsity_factor; /* sparse / dense ratio (2 for 2:4), NA when none */
    double sm_count;        /* streaming multiprocessors (AMD: compute units); NA unknown */
    double tdp_w;
    char interconnect[32];    /* "NVLink 4", "PCIe", "Infinity Fabric" */
    double interconnect_gbps; /* per GPU, GB/s, both directions */
    double pcie_gen;
    double launch_year;
    double price_usd;          /* street or list price, USD */
    char price_kind[8];        /* "street", "list", "msrp" */
    char price_date[12];       /* YYYY-MM */
    double cloud_usd_per_hour; /* published on-demand price per GPU-hour */
    char source[512];          /* where the figures come from */
} hws_gpu_spec;

/* The fields of hws_gpu_spec: the catalog's columns (data/gpus.tsv), numbers in the file's unit. */
extern HWS_API const hws_field_table hws_gpu_spec_table;

/* Loads the built-in catalog and, when user_path is not NULL, the user's rows on top. A malformed
 * row is HWS_ERR_INPUT naming file, line and field. Safe to call again (reloads). */
HWS_API hws_status hws_gpu_catalog_load(const char *user_path, hws_error *err);
/* The rows loaded (the built-in ones if hws_gpu_catalog_load was never called). */
HWS_API const hws_gpu_spec *hws_gpu_catalog(size_t *count);
/* Finds a row by name or alias, case-insensitively; also matches NVML's device names
 * ("NVIDIA H100 80GB HBM3"). NULL when none matches. */
HWS_API const hws_gpu_spec *hws_gpu_catalog_find(const char *name);

/* One CPU host of the CPU catalog (data/cpus.tsv): what a CPU-only or offload plan runs on. */
typedef struct {
    char name[64];
    char vendor[16];
    double cores;
    double mem_bytes; /* RAM of the configuration planned */
    double mem_channels;
    double mem_mts;            /* DIMM speed, MT/s */
    double mem_bw_gbps;        /* peak memory bandwidth, GB/s */
    double fp32_tflops;        /* FP32 FMA peak at base clock */
    double price_usd;          /* the CPU's launch price */
    char price_date[12];       /* YYYY-MM */
    double cloud_usd_per_hour; /* on-demand instance price */
    char source[320];          /* where the figures come from */
} hws_cpu_row;

/* The fields of hws_cpu_row: the columns of data/cpus.tsv, numbers in the file's unit. */
extern HWS_API const hws_field_table hws_cpu_row_table;

/* The CPU catalog's rows (built in), and the row named name, or whose name the text contains
 * ("AMD EPYC 9654 96-Core Processor" finds "EPYC 9654"); NULL when none. */
HWS_API const hws_cpu_row *hws_cpu_catalog(size_t *count);
HWS_API const hws_cpu_row *hws_cpu_catalog_find(const char *name);

/* Resolves a name as people write it ("A100-80GB", "h100 sxm5", "RTX-4090", "NVIDIA H100 PCIe",
 * "4090") by its words: vendor words dropped, SXM4/SXM5 read as SXM, "80G"/"80 GB" as 80GB; a row
 * matches when it has every word. One match: *out. Several: the one whose own name's words are
 * all given, else none (ambiguous). Returns the number of rows matched and lists them, comma-
 * separated, in `which` (n bytes), so the caller can ask which was meant. */
HWS_API int hws_gpu_catalog_resolve(const char *name, const hws_gpu_spec **out, char *which,
                                    size_t n);

#ifdef __cplusplus
}
#endif

#endif
