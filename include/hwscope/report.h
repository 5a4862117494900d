/* report.h - the report model: what `hwscope` with no command shows beside the machine's facts,
 * "what runs here": for well-known models, the first weight format that fits this machine's GPUs
 * (free memory), where it goes and how fast it decodes. Built here, rendered by the front ends
 * (text and JSON in the CLI, HTML) by walking hws_report_row_table.
 *
 * Example:
 *   hws_report *r = calloc(1, sizeof *r);
 *   hws_report_build(&gpus, ceilings, r);   gpus from hws_probe_gpus, ceilings may be NULL
 *   for (int i = 0; i < r->nrows; i++) ... r->rows[i] ... */
#ifndef HWSCOPE_REPORT_H
#define HWSCOPE_REPORT_H

#include "hwscope/ceilings.h"
#include "hwscope/fields.h"
#include "hwscope/hwscope.h"
#include "hwscope/plan.h"
#include "hwscope/probe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_REPORT_MAX_ROWS 16

/* One model on this machine. */
typedef struct {
    char model[64];             /* catalog name */
    double params;              /* parameters, all experts */
    int fits;                   /* 1: a format fits the GPUs (not by CPU offload) */
    char weights[16];           /* the first format that fits: "bf16", "Q4_K_M"; "" none */
    char runtime[16];           /* "vllm", "llama.cpp"; "" none */
    char placement[48];         /* "single GPU", "tensor parallel"; "" none */
    double need_bytes_per_gpu;  /* largest per-GPU need; when nothing fits, the least any
                                 * format needs on one GPU */
    double decode_tokens_per_s; /* predicted, batch 1; NA when nothing fits */
    char basis[16];             /* "measured", "datasheet" or "none fits" */
    char smallest_weights[16];  /* when nothing fits: the format that needs least */
} hws_report_row;

/* The fields of a row that every rendering shows (smallest_weights is for the text's "does not
 * fit" note). */
extern HWS_API const hws_field_table hws_report_row_table;

typedef struct {
    int have_gpus;                            /* 0: no GPU to place models on (why in no_gpus) */
    char no_gpus[HWS_ERROR_LEN];              /* why there are none */
    char fit_against[HWS_PLAN_BASIS_LEN * 2]; /* the devices' basis: "local GPUs, free memory" */
    int measured; /* a row predicted from this machine's bench figures */
    int nrows;
    hws_report_row rows[HWS_REPORT_MAX_ROWS];
} hws_report;

/* Plans the report's models (ctx 8192 or the model's maximum, batch 1) on the probed GPUs with
 * the saved ceilings (NULL: datasheet). Formats tried in order: bf16, fp8 (GPUs with FP8 units),
 * int4 (vLLM), Q4_K_M (llama.cpp). */
HWS_API void hws_report_build(const hws_gpu_list *gpus, const hws_ceilings_set *ceilings,
                              hws_report *out);

#ifdef __cplusplus
}
#endif

#endif
