/* ceilings.h - the measured ceilings of a GPU (memory bandwidth, matrix throughput, links) that
 * `hwscope bench` saves and the planner's predictor reads: the record and its file. Both bench.h
 * and plan.h include this, so neither depends on the other. */
#ifndef HWSCOPE_CEILINGS_H
#define HWSCOPE_CEILINGS_H

#include "hwscope/catalog.h"
#include "hwscope/hwscope.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Measured ceilings of one GPU, as `hwscope bench` saves them. */
typedef struct {
    double mem_bw_gbps; /* large device-to-device copy, (read + write) / time, GB/s */
    double bf16_tflops, fp16_tflops, fp8_tflops, int8_tops, fp32_tflops;
    double allreduce_busbw_gbps; /* NCCL all-reduce bus bandwidth between the GPUs, GB/s */
    double host_mem_bw_gbps;     /* CPU memory bandwidth (STREAM-like), GB/s */
    char measured_at[32];
} hws_ceilings;

/* Where saved ceilings live: $HWSCOPE_CEILINGS if set, else $XDG_CACHE_HOME/hwscope/
 * ceilings.json, else ~/.cache/hwscope/ceilings.json. Format (hwscope.ceilings/1):
 *   {"schema": "hwscope.ceilings/1", "gpus": [{"name": "NVIDIA H100 80GB HBM3",
 *    "mem_bw_gbps": 3000, "bf16_tflops": 790, "fp16_tflops": 790, "fp8_tflops": 1300,
 *    "int8_tops": 1400, "fp32_tflops": 50, "allreduce_busbw_gbps": null,
 *    "host_mem_bw_gbps": 80, "measured_at": "2026-11-25T01:00:00Z",
 *    "hwscope_version": "0.1.0"}]}
 * Missing numbers are null. Returns false when the path does not fit in n bytes (buf then
 * holds a cut path, not to be used); HWS_CEILINGS_PATH_BYTES is the size to give. */
#define HWS_CEILINGS_PATH_BYTES 1024
HWS_API bool hws_ceilings_path(char *buf, size_t n);
/* Reads the ceilings saved for a GPU (matched by name, or catalog row). HWS_ERR_UNSUPPORTED
 * when none are saved for it; HWS_ERR_INPUT for a malformed file. The one reader of that file. */
HWS_API hws_status hws_ceilings_load(const char *path, const char *gpu_name,
                                     const hws_gpu_spec *spec, hws_ceilings *out, hws_error *err);
/* The whole ceilings file, read and checked once (a command that plans many configurations
 * looks each GPU up here instead of re-reading the file). HWS_ERR_UNSUPPORTED when there is no
 * file; HWS_ERR_INPUT naming the file and entry when it is not a hwscope.ceilings/1 document, an
 * entry has no name, or a figure is not a positive number (null is unknown). *out is NULL on
 * failure; every call below takes NULL as an empty set. */
typedef struct hws_ceilings_set hws_ceilings_set;
HWS_API hws_status hws_ceilings_set_load(const char *path, hws_ceilings_set **out, hws_error *err);
/* The entry for gpu_name or the catalog row spec into *out; false when there is none. */
HWS_API bool hws_ceilings_set_find(const hws_ceilings_set *set, const char *gpu_name,
                                   const hws_gpu_spec *spec, hws_ceilings *out);
HWS_API void hws_ceilings_set_free(hws_ceilings_set *set);
/* Saves the ceilings measured for gpu_name into path (folders created): the entry of that name
 * is updated (a known figure replaces the saved one, an unknown one keeps it; measured_at and
 * hwscope_version are this run's), the other GPUs' entries are kept, and the file is replaced
 * at once (temporary file + rename). HWS_ERR_INPUT, file untouched, when the file there is not
 * a hwscope.ceilings/1 document or path is HWS_CEILINGS_PATH_BYTES or longer; HWS_ERR_RUNTIME
 * when it cannot be written. */
HWS_API hws_status hws_ceilings_save(const char *path, const char *gpu_name, const hws_ceilings *c,
                                     hws_error *err);

/* What `hwscope bench llm` measured for one model, format, batch and depth on one device,
 * saved beside that device's ceilings (the entry's "llm" array) so the planner predicts the
 * hwscope runtime from it; or a run of another runtime on that machine (bench/scripts/
 * llm_vs_peers.py save: Hugging Face transformers), which `plan --runtime transformers` fits
 * its host costs to. The planner's own bytes and FLOPs for the run are kept with it, so a fit
 * over saved runs needs no model file. Unknown numbers are HWS_NA. */
typedef struct {
    char runtime[16]; /* "hwscope" (also when the file has none) or "transformers" */
    char variant[8];  /* transformers decode: "eager" (default dynamic cache) or "static"; "" */
    char host[64];    /* the CPU the run's host code ran on, where saved; "" */
    char model[96];
    char device[8]; /* "cuda" or "cpu" */
    char format[8]; /* "bf16", "fp16", "int8", "int4" */
    int batch;      /* sequences decoded together */
    int depth;      /* tokens in the cache before the timed decode */
    int prompt_tokens, gen_tokens;
    double prefill_tokens_per_s, decode_tokens_per_s;
    double decode_bytes_per_step;   /* the planner's weights + KV read per decode step, bytes */
    double prefill_flops_per_token; /* the planner's, at prompt_tokens */
    double prefill_wave_flops_per_token; /* the same, block products counted in whole waves of
                                          * output tiles over the SMs; NA in older files */
    int layers; /* transformer blocks; 0 unknown (files before 2026-12-06) */
    char measured_at[32];
} hws_llm_measured;

#define HWS_LLM_MEASURED_MAX 256 /* entries kept per device; the oldest go first */

/* Reads the runs saved for a device (matched as hws_ceilings_load matches) into out (at most
 * cap), *n of them, through the same reading and checks as hws_ceilings_set_load.
 * HWS_ERR_UNSUPPORTED when none are saved; HWS_ERR_INPUT for a malformed file (an "llm" that
 * is not an array included). Runs with a field out of range are skipped, not trusted. */
HWS_API hws_status hws_llm_measured_load(const char *path, const char *device_name,
                                         const hws_gpu_spec *spec, hws_llm_measured *out, int cap,
                                         int *n, hws_error *err);
/* Saves runs into the entry of device_name (created with null ceilings when new): a run of the
 * same runtime, variant, model, device, format, batch, depth, prompt and gen replaces the saved
 * one; the other keys and devices are kept. Same file rules (and lock) as hws_ceilings_save. */
HWS_API hws_status hws_llm_measured_save(const char *path, const char *device_name,
                                         const hws_llm_measured *runs, int n, hws_error *err);

#ifdef __cplusplus
}
#endif

#endif
