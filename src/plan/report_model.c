/* report_model.c - the report model (hwscope/report.h): "what runs here" for well-known models
 * on this machine's GPUs, and the field table its renderings walk. */
#include "hwscope/report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Models people ask about first, small to large (catalog names). */
static const char *const report_models[] = {
    "Llama-3.2-3B", "Llama-3.1-8B",      "Qwen2.5-14B",   "Qwen3-30B-A3B",
    "Qwen2.5-32B",  "Mixtral-8x7B-v0.1", "Llama-3.1-70B", "Qwen2.5-72B",
};

/* Formats tried in order: full precision first, then what a user quantises to. */
static const struct {
    const char *format;
    hws_runtime runtime;
} report_formats[] = {
    {"bf16", HWS_RUNTIME_VLLM},
    {"fp8", HWS_RUNTIME_VLLM},
    {"int4", HWS_RUNTIME_VLLM},
    {"Q4_K_M", HWS_RUNTIME_LLAMACPP},
};

static const hws_field report_row_fields[] = {
    HWS_STR(hws_report_row, model, "model"),
    HWS_NUM_IN(hws_report_row, params, "params", 1e9, 1, "B"),
    {.key = "fits",
     .label = "fits",
     .type = HWS_FIELD_BOOL,
     .offset = offsetof(hws_report_row, fits),
     .unit = ""},
    HWS_STR(hws_report_row, weights, "weights"),
    HWS_STR(hws_report_row, runtime, "runtime"),
    HWS_STR(hws_report_row, placement, "placement"),
    HWS_NUM_IN(hws_report_row, need_bytes_per_gpu, "GB per GPU", 1e9, 1, ""),
    HWS_NUM(hws_report_row, decode_tokens_per_s, "decode tok/s", 1, 0, ""),
    HWS_STR(hws_report_row, basis, "basis"),
};
const hws_field_table hws_report_row_table = HWS_FIELD_TABLE(hws_report_row, report_row_fields);

/* fp8 weights need FP8 matrix units (compute capability 8.9+). */
static bool format_runs(const char *format, const hws_device_set *devs) {
    if (strcmp(format, "fp8") != 0)
        return true;
    const hws_gpu_spec *s = devs->dev[0].spec;
    return s != NULL && hws_known(s->fp8_tflops);
}

static void plan_row(const hws_model_spec *m, const hws_device_set *devs,
                     const hws_ceilings_set *ceilings, hws_report_row *row) {
    hws_memory mem;
    hws_placement *pl = calloc(1, sizeof *pl);
    hws_error err;
    hws_record_blank(&hws_report_row_table, row);
    snprintf(row->model, sizeof row->model, "%s", m->name);
    snprintf(row->basis, sizeof row->basis, "none fits");
    row->params = hws_model_params(m);
    for (size_t f = 0; pl != NULL && f < sizeof report_formats / sizeof report_formats[0]; f++) {
        hws_plan_opts o;
        hws_plan_opts_default(&o);
        o.weights = hws_weight_format_find(report_formats[f].format);
        o.runtime = report_formats[f].runtime;
        o.ctx_tokens = hws_plan_default_ctx(m);
        if (o.weights == NULL || !format_runs(report_formats[f].format, devs) ||
            hws_memory_estimate(m, &o, &mem, &err) != HWS_OK)
            continue;
        hws_place_kind kind = hws_placement_best(m, &o, &mem, devs, pl);
        if (!hws_known(row->need_bytes_per_gpu) || mem.total_bytes < row->need_bytes_per_gpu) {
            row->need_bytes_per_gpu = mem.total_bytes;
            snprintf(row->smallest_weights, sizeof row->smallest_weights, "%s",
                     report_formats[f].format);
        }
        if (!pl->fits || kind == HWS_PLACE_CPU_OFFLOAD)
            continue;
        hws_predict_inputs in;
        hws_prediction pred;
        hws_predict_inputs_from(&o, &mem, devs, ceilings, &in);
        hws_prediction_compute(m, &o, &mem, pl, &in, &pred);
        row->fits = 1;
        snprintf(row->weights, sizeof row->weights, "%s", report_formats[f].format);
        snprintf(row->runtime, sizeof row->runtime, "%s", hws_runtime_name(o.runtime));
        snprintf(row->placement, sizeof row->placement, "%s", hws_place_name(kind));
        row->need_bytes_per_gpu = hws_placement_largest_need(pl);
        row->decode_tokens_per_s = pred.decode_tokens_per_s;
        snprintf(row->basis, sizeof row->basis, "%s", in.measured ? "measured" : "datasheet");
        break;
    }
    free(pl);
}

void hws_report_build(const hws_gpu_list *gpus, const hws_ceilings_set *ceilings, hws_report *out) {
    memset(out, 0, sizeof *out);
    hws_device_set *devs = calloc(1, sizeof *devs);
    hws_error err = {""};
    if (devs == NULL) {
        snprintf(out->no_gpus, sizeof out->no_gpus, "out of memory");
        return;
    }
    out->have_gpus = hws_devices_from_gpus(gpus, devs, &err) == HWS_OK;
    if (!out->have_gpus)
        snprintf(out->no_gpus, sizeof out->no_gpus, "%s", err.msg);
    snprintf(out->fit_against, sizeof out->fit_against, "%s", devs->basis);
    for (size_t i = 0; out->have_gpus && i < sizeof report_models / sizeof report_models[0] &&
                       out->nrows < HWS_REPORT_MAX_ROWS;
         i++) {
        const hws_model_spec *m = hws_model_catalog_find(report_models[i]);
        if (m == NULL)
            continue;
        hws_report_row *row = &out->rows[out->nrows++];
        plan_row(m, devs, ceilings, row);
        out->measured |= strcmp(row->basis, "measured") == 0;
    }
    free(devs);
}
