/* report_json.c - the report's own parts of hwscope.report/1: the quick measurement and what
 * runs here (the inventory is info's, added by the caller). */
#include "report/figures.h"
#include "report/json.h"
#include "report/report_model.h"
#include "util/units.h"

static cJSON *run_json(const hws_report_run *run) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "weights", run->format);
    cJSON_AddStringToObject(o, "runtime", run->runtime);
    cJSON_AddStringToObject(o, "target", hws_target_name(run->target));
    cJSON_AddBoolToObject(o, "tried", run->tried);
    cJSON_AddBoolToObject(o, "fits", run->fits);
    hws_json_str(o, "placement", run->placement);
    cJSON_AddNumberToObject(o, "gpus", run->ngpus);
    hws_json_num(o, "gpu_bytes", run->gpu_bytes);
    hws_json_num(o, "host_bytes", run->host_bytes);
    hws_json_num(o, "prefill_tokens_per_s", run->prefill_tokens_per_s);
    hws_json_num(o, "decode_tokens_per_s", run->decode_tokens_per_s);
    hws_json_num(o, "decode_bytes_per_step", run->decode_bytes_per_step);
    hws_json_num(o, "prefill_flops_per_token", run->prefill_flops_per_token);
    hws_json_str(o, "bound", run->bound);
    hws_json_str(o, "basis", run->basis);
    hws_json_str(o, "why_not", run->fits ? "" : run->why);
    return o;
}

/* The least any tried format needs on one GPU (what a user must free or buy). */
static double least_gpu_need(const hws_report_model *m) {
    double least = HWS_NA;
    for (int i = 0; i < m->nruns; i++)
        if (m->runs[i].target == HWS_TARGET_GPU && m->runs[i].tried &&
            hws_known(m->runs[i].gpu_bytes) && (!hws_known(least) || m->runs[i].gpu_bytes < least))
            least = m->runs[i].gpu_bytes;
    return least;
}

static cJSON *model_json(const hws_report_model *m) {
    cJSON *o = cJSON_CreateObject();
    const hws_report_run *gpu =
        m->best[HWS_TARGET_GPU] >= 0 ? &m->runs[m->best[HWS_TARGET_GPU]] : NULL;
    cJSON_AddStringToObject(o, "model", m->name);
    hws_json_num(o, "params", m->params);
    hws_json_num(o, "active_params", m->active_params);
    cJSON_AddBoolToObject(o, "moe", m->moe);
    hws_json_num(o, "ctx_tokens", m->ctx_tokens);
    /* the recommendation on the GPUs alone, as the report always gave it */
    cJSON_AddBoolToObject(o, "fits", gpu != NULL);
    hws_json_str(o, "weights", gpu != NULL ? gpu->format : "");
    hws_json_str(o, "runtime", gpu != NULL ? gpu->runtime : "");
    hws_json_str(o, "placement", gpu != NULL ? gpu->placement : "");
    hws_json_num(o, "need_bytes_per_gpu", gpu != NULL ? gpu->gpu_bytes : least_gpu_need(m));
    hws_json_num(o, "prefill_tokens_per_s", gpu != NULL ? gpu->prefill_tokens_per_s : HWS_NA);
    hws_json_num(o, "decode_tokens_per_s", gpu != NULL ? gpu->decode_tokens_per_s : HWS_NA);
    cJSON_AddStringToObject(o, "basis", gpu != NULL ? gpu->basis : "none fits");
    const char *keys[HWS_TARGET_COUNT] = {"on_gpus", "on_gpus_and_cpu", "on_cpu"};
    for (int t = 0; t < HWS_TARGET_COUNT; t++) {
        if (m->best[t] >= 0)
            cJSON_AddItemToObject(o, keys[t], run_json(&m->runs[m->best[t]]));
        else
            cJSON_AddNullToObject(o, keys[t]);
    }
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    for (int i = 0; runs != NULL && i < m->nruns; i++)
        cJSON_AddItemToArray(runs, run_json(&m->runs[i]));
    return o;
}

void hws_report_json_fill(cJSON *doc, const hws_report *r) {
    cJSON *measured = cJSON_AddObjectToObject(doc, "measured");
    cJSON_AddStringToObject(measured, "state", r->bench_state);
    hws_json_str(measured, "note", r->bench_note);
    hws_json_str(measured, "time_utc", r->bench_time_utc);
    hws_json_num(measured, "seconds", r->bench_seconds);
    cJSON_AddItemToObject(measured, "figures", hws_report_figures_json(r));
    cJSON *o = cJSON_AddObjectToObject(doc, "runs_here");
    hws_json_str(o, "fit_against", r->fit_basis);
    hws_json_str(o, "why_no_gpu", r->why_no_gpu);
    hws_json_num(o, "host_mem_bytes", r->cpu_set.host.mem_bytes);
    hws_json_num(o, "host_mem_bw_gbps", r->cpu_set.host.mem_bw_gbps);
    cJSON *list = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; list != NULL && i < r->nmodels; i++)
        cJSON_AddItemToArray(list, model_json(&r->models[i]));
}
