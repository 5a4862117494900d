/* report.c - `hwscope` with no command: this machine on one screen (CPU, memory, GPUs with the
 * figures `hwscope bench` measured, when saved) and what runs here: for well-known models, the
 * first weight format that fits the GPUs' free memory, where it goes and how fast it decodes.
 * `hwscope info` has every fact; `hwscope plan MODEL` the whole plan of one model. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/info.h"
#include "cli/plan_common.h"
#include "hwscope/model.h"
#include "hwscope/plan.h"
#include "report/health.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

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

typedef struct {
    const char *model;
    double params;
    const char *format; /* NULL: nothing fits */
    const char *runtime;
    const char *placement;
    const char *smallest_format; /* when nothing fits: the format that needs least */
    double need_bytes; /* largest per-GPU need of the placement; when nothing fits, the least
                        * any format needs on one GPU */
    double decode_tokens_per_s;
    int measured; /* 1: prediction from this machine's saved bench figures */
} runs_here_row;

/* fp8 weights need FP8 matrix units (compute capability 8.9+). */
static bool format_runs(const char *format, const hws_device_set *devs) {
    if (strcmp(format, "fp8") != 0)
        return true;
    const hws_gpu_spec *s = devs->dev[0].spec;
    return s != NULL && hws_known(s->fp8_tflops);
}

static void plan_row(const hws_model_spec *m, const hws_device_set *devs,
                     const hws_ceilings_set *ceilings, runs_here_row *row) {
    hws_memory mem;
    hws_placement *pl = calloc(1, sizeof *pl);
    hws_error err;
    row->model = m->name;
    row->params = hws_model_params(m);
    row->need_bytes = HWS_NA;
    row->decode_tokens_per_s = HWS_NA;
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
        if (!hws_known(row->need_bytes) || mem.total_bytes < row->need_bytes) {
            row->need_bytes = mem.total_bytes;
            row->smallest_format = report_formats[f].format;
        }
        if (!pl->fits || kind == HWS_PLACE_CPU_OFFLOAD)
            continue;
        hws_predict_inputs in;
        hws_prediction pred;
        hws_predict_inputs_from(&o, &mem, devs, ceilings, &in);
        hws_prediction_compute(m, &o, &mem, pl, &in, &pred);
        row->format = report_formats[f].format;
        row->runtime = hws_runtime_name(o.runtime);
        row->placement = hws_place_name(kind);
        row->need_bytes = hws_placement_largest_need(pl);
        row->decode_tokens_per_s = pred.decode_tokens_per_s;
        row->measured = in.measured;
        break;
    }
    free(pl);
}

static size_t collect_rows(const hws_device_set *devs, runs_here_row *rows) {
    size_t n = 0;
    hws_ceilings_set *ceilings = hws_plan_ceilings_read("report");
    for (size_t i = 0; i < sizeof report_models / sizeof report_models[0]; i++) {
        const hws_model_spec *m = hws_model_catalog_find(report_models[i]);
        if (m == NULL)
            continue;
        memset(&rows[n], 0, sizeof rows[n]);
        plan_row(m, devs, ceilings, &rows[n++]);
    }
    hws_ceilings_set_free(ceilings);
    return n;
}

static void print_summary(const hws_info *info) {
    const hws_cpu_info *c = &info->cpu;
    char peak[32], total[32], avail[32];
    printf("CPU     %s: %.0f socket(s), %.0f cores, %.0f threads%s%s%s; FP32 peak %s (derived)\n",
           c->model[0] ? c->model : "n/a", c->sockets, c->cores, c->threads,
           c->has_avx512f == 1 ? ", AVX-512"
           : c->has_avx2 == 1  ? ", AVX2"
                               : "",
           c->has_amx_tile == 1 ? ", AMX" : "", c->has_sve == 1 ? ", SVE" : "",
           hws_fmt_num(peak, sizeof peak, c->fp32_peak_gflops, 0, "GFLOP/s"));
    printf("Memory  %s, %s available\n", hws_fmt_gib(total, sizeof total, info->mem.total_bytes),
           hws_fmt_gib(avail, sizeof avail, info->mem.available_bytes));
    if (info->gpus.count == 0)
        printf("GPUs    none: %s\n", info->gpus.why_none);
    for (int i = 0; i < info->gpus.count; i++) {
        const hws_gpu_info *g = &info->gpus.gpus[i];
        hws_gpu_health health;
        char verdict[1024];
        hws_gpu_health_judge(g, &health);
        hws_gpu_health_text(verdict, sizeof verdict, &health);
        if (g->lost) {
            printf("GPU %-3d %s\n", g->index, verdict);
            continue;
        }
        char mem[32], free_mem[32], bw[32], sms[32], ccv[32], gen[32], width[32];
        hws_fmt_num(sms, sizeof sms, g->sm_count, 0, NULL);
        if (hws_known(g->cc_major) && hws_known(g->cc_minor))
            snprintf(ccv, sizeof ccv, "%.0f.%.0f", g->cc_major, g->cc_minor);
        else
            snprintf(ccv, sizeof ccv, "n/a");
        hws_fmt_num(gen, sizeof gen, g->pcie_gen_cur, 0, NULL);
        hws_fmt_num(width, sizeof width, g->pcie_width_cur, 0, NULL);
        printf("GPU %-3d %s: %s, %s free; %s SMs, cc %s; PCIe gen %s x%s; "
               "%s memory bandwidth (derived); %s\n",
               g->index, g->name[0] ? g->name : "n/a",
               hws_fmt_gib(mem, sizeof mem, hws_gpu_device_mem_bytes(g)),
               hws_fmt_gib(free_mem, sizeof free_mem, hws_gpu_usable_mem_bytes(g)), sms, ccv, gen,
               width, hws_fmt_num(bw, sizeof bw, g->mem_bw_theoretical_gbps, 0, "GB/s"), verdict);
    }
}

static void print_runs_here(const runs_here_row *rows, size_t n, const hws_device_set *devs) {
    hws_print_heading(stdout, "What runs here (ctx 8192 or the model's maximum, batch 1)");
    printf("fit against: %s\n", devs->basis);
    hws_table *t = hws_table_new(7, (const char *[]){"model", "params", "weights", "runtime",
                                                     "placement", "GB per GPU", "decode tok/s"});
    int measured = 0;
    for (size_t i = 0; t != NULL && i < n; i++) {
        char params[32], need[32], tps[32];
        hws_fmt_num(params, sizeof params, rows[i].params / 1e9, 1, "B");
        hws_fmt_num(need, sizeof need, rows[i].need_bytes / 1e9, 1, NULL);
        hws_fmt_num(tps, sizeof tps, rows[i].decode_tokens_per_s, 0, NULL);
        if (rows[i].format == NULL) {
            char why[80];
            snprintf(why, sizeof why, "does not fit (%s needs %s GB)",
                     rows[i].smallest_format != NULL ? rows[i].smallest_format : "n/a", need);
            hws_table_row(t, (const char *[]){rows[i].model, params, "-", "-", why, "-", "-"});
            continue;
        }
        measured |= rows[i].measured;
        hws_table_row(t, (const char *[]){rows[i].model, params, rows[i].format, rows[i].runtime,
                                          rows[i].placement, need, tps});
    }
    if (t != NULL)
        hws_table_print(t, stdout);
    hws_table_free(t);
    printf("decode: %s\n", measured ? "roofline from this machine's `hwscope bench` figures"
                                    : "roofline from the datasheet x stated efficiencies "
                                      "(run `hwscope bench gpu` to use measured figures)");
}

static cJSON *runs_here_json(const runs_here_row *rows, size_t n, const hws_device_set *devs) {
    cJSON *o = cJSON_CreateObject();
    hws_json_str(o, "fit_against", devs->basis);
    cJSON *list = cJSON_AddArrayToObject(o, "models");
    for (size_t i = 0; i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "model", rows[i].model);
        hws_json_num(r, "params", rows[i].params);
        cJSON_AddBoolToObject(r, "fits", rows[i].format != NULL);
        hws_json_str(r, "weights", rows[i].format);
        hws_json_str(r, "runtime", rows[i].runtime);
        hws_json_str(r, "placement", rows[i].placement);
        hws_json_num(r, "need_bytes_per_gpu", rows[i].need_bytes);
        hws_json_num(r, "decode_tokens_per_s", rows[i].decode_tokens_per_s);
        cJSON_AddStringToObject(r, "basis",
                                rows[i].format == NULL ? "none fits"
                                : rows[i].measured     ? "measured"
                                                       : "datasheet");
        cJSON_AddItemToArray(list, r);
    }
    return o;
}

int cmd_report(int argc, char **argv) {
    bool json = false;
    const char *pos[1];
    int npos;
    const hws_opt opts[] = {{"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"}};
    int rc = hws_args_parse("report", "[--json]", argc, argv, opts, 1, pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    hws_info *info = hws_info_gather("report", &rc);
    if (info == NULL)
        return rc;
    hws_device_set *devs = calloc(1, sizeof *devs);
    runs_here_row rows[sizeof report_models / sizeof report_models[0]];
    hws_error err = {""};
    if (devs == NULL) {
        free(info);
        fprintf(stderr, "hwscope report: out of memory\n");
        return 1;
    }
    int have_gpus = hws_devices_from_gpus(&info->gpus, devs, &err) == HWS_OK;
    size_t n = have_gpus ? collect_rows(devs, rows) : 0;
    if (json) {
        cJSON *doc = hws_info_json(info);
        if (doc != NULL) {
            cJSON_ReplaceItemInObject(doc, "schema", cJSON_CreateString("hwscope.report/1"));
            if (have_gpus)
                cJSON_AddItemToObject(doc, "runs_here", runs_here_json(rows, n, devs));
            else
                cJSON_AddNullToObject(doc, "runs_here");
        }
        rc = hws_json_emit("report", doc);
    } else {
        print_summary(info);
        if (have_gpus)
            print_runs_here(rows, n, devs);
        else
            printf("\nWhat runs here: no GPU to place models on; `hwscope plan MODEL --gpus "
                   "\"1x RTX 4090\"` plans for hardware you name, `hwscope advise MODEL` ranks "
                   "what to buy.\n");
        printf("\n`hwscope info` shows every fact, `hwscope plan MODEL` one model in full.\n");
    }
    free(info);
    free(devs);
    return rc;
}
