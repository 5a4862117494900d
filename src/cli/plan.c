/* plan.c - `hwscope plan MODEL`: memory breakdown, fit per device, placement and predicted speed
 * of a model at a precision, context and batch, on this machine's GPUs or named hardware. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/plan_common.h"
#include "hwscope/plan.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "MODEL [--dtype FMT | --quant GGUF_TYPE] [--kv-dtype fp16|fp8|q8_0|q4] [--ctx N] [--batch B]\n"
    "       [--gpus local|\"4x RTX 4090\"|\"2x H100 SXM 80GB\"|...] "
    "[--runtime transformers|vllm|llama.cpp|hwscope] [--json]\n"
    "MODEL is a catalog name (hwscope catalog), a config.json (or its folder) or a .gguf file.";

typedef struct {
    hws_model_spec model;
    hws_plan_opts opts;
    hws_memory mem;
    hws_device_set devs;
    hws_error devs_err; /* why there are no devices (local GPU missing) */
    int have_devs;
    hws_placement best;
    hws_placement alt[HWS_PLACE_COUNT];
    hws_predict_inputs inputs;
    hws_prediction pred;
} plan_result;

/* ---- human output ----------------------------------------------------------------------- */

static void print_memory(const plan_result *r) {
    const hws_memory *m = &r->mem;
    char a[32], b[32];
    hws_table *t = hws_table_new(4, (const char *[]){"part", "GB", "GiB", "basis"});
    struct {
        const char *name;
        double bytes;
        const char *basis;
    } rows[] = {
        {"weights", m->weights_bytes, m->weights_basis},
        {"KV cache", m->kv_bytes, m->kv_basis},
        {"activations", m->activation_bytes, m->activation_basis},
        {"CUDA context", m->cuda_context_bytes, "per GPU"},
        {"runtime", m->runtime_bytes, m->overhead_basis},
        {"total (1 GPU)", m->total_bytes, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        hws_table_row(
            t, (const char *[]){
                   rows[i].name, hws_fmt_num(a, sizeof a, rows[i].bytes / HWS_GB, 2, NULL),
                   hws_fmt_num(b, sizeof b, rows[i].bytes / HWS_GIB, 2, NULL), rows[i].basis});
    hws_table_print(t, stdout);
    hws_table_free(t);
    printf("parameters %.3fB (%.3fB read per token); KV %s per token\n", m->params / 1e9,
           m->active_params / 1e9, hws_fmt_bytes(a, sizeof a, m->kv_bytes_per_token));
}

static void print_placement(const plan_result *r) {
    const hws_placement *p = &r->best;
    char title[160];
    snprintf(title, sizeof title, "placement: %s (%s)", hws_place_name(p->kind),
             p->fits ? "fits" : "does NOT fit");
    hws_print_heading(stdout, title);
    hws_table *t = hws_table_new(10, (const char *[]){"GPU", "name", "layers", "weights GiB",
                                                      "KV GiB", "act GiB", "overhead GiB",
                                                      "total GiB", "available GiB", "fits"});
    for (int i = 0; i < p->ndev; i++) {
        const hws_device_load *l = &p->load[i];
        hws_table_rowf(t, "%d\t%s\t%d-%d%s%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s", i,
                       r->devs.dev[i].name, l->first_layer, l->first_layer + l->n_layers - 1,
                       l->has_embeddings ? " +emb" : "", l->has_head ? " +head" : "",
                       l->weights_bytes / HWS_GIB, l->kv_bytes / HWS_GIB,
                       l->activation_bytes / HWS_GIB, l->overhead_bytes / HWS_GIB,
                       l->total_bytes / HWS_GIB, l->avail_bytes / HWS_GIB, l->fits ? "yes" : "NO");
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
    if (p->cpu_layers > 0)
        printf("CPU: %d layers, %.2f GiB in host memory\n", p->cpu_layers, p->cpu_bytes / HWS_GIB);
    if (!p->fits && p->why[0])
        printf("why: %s\n", p->why);
    hws_print_heading(stdout, "other placements");
    t = hws_table_new(4, (const char *[]){"method", "fits", "largest GPU need GiB", "why"});
    for (int k = 0; k < HWS_PLACE_COUNT; k++) {
        const hws_placement *a = &r->alt[k];
        hws_table_rowf(t, "%s\t%s\t%.2f\t%s", hws_place_name(a->kind),
                       !a->possible ? "n/a" : (a->fits ? "yes" : "no"),
                       hws_placement_largest_need(a) / HWS_GIB, a->why[0] ? a->why : "-");
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
}

static void print_prediction(const plan_result *r) {
    const hws_prediction *p = &r->pred;
    char a[32], b[32], c[32], d[32];
    hws_print_heading(stdout, "predicted speed");
    hws_table *t = hws_table_new(
        5, (const char *[]){"prefill tok/s", "decode tok/s", "TTFT ms", "per token ms", "bound"});
    hws_table_row(t,
                  (const char *[]){hws_fmt_num(a, sizeof a, p->prefill_tokens_per_s, 0, NULL),
                                   hws_fmt_num(b, sizeof b, p->decode_tokens_per_s, 1, NULL),
                                   hws_fmt_num(c, sizeof c, p->ttft_ms, 1, NULL),
                                   hws_fmt_num(d, sizeof d, p->tpot_ms, 2, NULL), p->decode_bound});
    hws_table_print(t, stdout);
    hws_table_free(t);
    printf("basis: %s\n", p->basis);
}

static void print_human(const plan_result *r) {
    char title[256];
    snprintf(title, sizeof title, "%s: %s weights, %s KV, ctx %.0f x batch %.0f, %s", r->model.name,
             hws_plan_weights_name(&r->opts, &r->model), r->opts.kv->name, r->opts.ctx_tokens,
             r->opts.batch, hws_runtime_name(r->opts.runtime));
    hws_print_heading(stdout, title);
    print_memory(r);
    if (!r->have_devs) {
        printf("\nno placement: %s\n", r->devs_err.msg);
        return;
    }
    printf("\n%s\n", r->devs.basis);
    print_placement(r);
    print_prediction(r);
}

/* The numbers of each struct that go into the document, by member name. */
static const hws_field memory_fields[] = {
    HWS_JSON_NUM(hws_memory, weights_bytes),        HWS_JSON_NUM(hws_memory, embed_bytes),
    HWS_JSON_NUM(hws_memory, active_weights_bytes), HWS_JSON_NUM(hws_memory, kv_bytes),
    HWS_JSON_NUM(hws_memory, kv_bytes_per_token),   HWS_JSON_NUM(hws_memory, activation_bytes),
    HWS_JSON_NUM(hws_memory, prefill_chunk_tokens), HWS_JSON_NUM(hws_memory, cuda_context_bytes),
    HWS_JSON_NUM(hws_memory, runtime_bytes),        HWS_JSON_NUM(hws_memory, total_bytes),
};
static const hws_field load_fields[] = {
    HWS_JSON_NUM(hws_device_load, weights_bytes),    HWS_JSON_NUM(hws_device_load, kv_bytes),
    HWS_JSON_NUM(hws_device_load, activation_bytes), HWS_JSON_NUM(hws_device_load, overhead_bytes),
    HWS_JSON_NUM(hws_device_load, total_bytes),      HWS_JSON_NUM(hws_device_load, avail_bytes),
};
static const hws_field pred_fields[] = {
    HWS_JSON_NUM(hws_prediction, prefill_tokens_per_s),
    HWS_JSON_NUM(hws_prediction, decode_tokens_per_s),
    HWS_JSON_NUM(hws_prediction, ttft_ms),
    HWS_JSON_NUM(hws_prediction, tpot_ms),
    HWS_JSON_NUM(hws_prediction, decode_bytes_per_step),
    HWS_JSON_NUM(hws_prediction, prefill_flops_per_token),
    HWS_JSON_NUM(hws_prediction, allreduce_ms_per_step),
};
static const hws_field input_fields[] = {
    HWS_JSON_NUM(hws_predict_inputs, mem_bw_gbps),
    HWS_JSON_NUM(hws_predict_inputs, matmul_tflops),
    HWS_JSON_NUM(hws_predict_inputs, link_gbps),
    HWS_JSON_NUM(hws_predict_inputs, host_mem_bw_gbps),
    HWS_JSON_NUM(hws_predict_inputs, bw_eff),
    HWS_JSON_NUM(hws_predict_inputs, mm_eff),
    HWS_JSON_NUM(hws_predict_inputs, link_eff),
    HWS_JSON_NUM(hws_predict_inputs, host_bw_eff),
    HWS_JSON_NUM(hws_predict_inputs, allreduce_latency_us),
    HWS_JSON_NUM(hws_predict_inputs, hop_latency_us),
    HWS_JSON_NUM(hws_predict_inputs, layer_overhead_us),
    HWS_JSON_NUM(hws_predict_inputs, step_overhead_us),
};

/* ---- JSON ------------------------------------------------------------------------------- */

static void json_load(cJSON *arr, const hws_device_load *l, const hws_device *d, int i) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, o);
    cJSON_AddNumberToObject(o, "index", i);
    hws_json_str(o, "name", d->name);
    cJSON_AddNumberToObject(o, "first_layer", l->first_layer);
    cJSON_AddNumberToObject(o, "n_layers", l->n_layers);
    cJSON_AddBoolToObject(o, "embeddings", l->has_embeddings);
    cJSON_AddBoolToObject(o, "head", l->has_head);
    hws_fields_json(o, load_fields, sizeof load_fields / sizeof load_fields[0], l);
    cJSON_AddBoolToObject(o, "fits", l->fits);
}

static cJSON *json_placement(const hws_placement *p, const hws_device_set *devs) {
    cJSON *o = cJSON_CreateObject();
    hws_json_str(o, "method", hws_place_name(p->kind));
    cJSON_AddBoolToObject(o, "possible", p->possible);
    cJSON_AddBoolToObject(o, "fits", p->fits);
    hws_json_str(o, "why", p->why);
    cJSON *arr = cJSON_AddArrayToObject(o, "devices");
    for (int i = 0; p->possible && i < p->ndev; i++)
        json_load(arr, &p->load[i], &devs->dev[i], i);
    cJSON_AddNumberToObject(o, "cpu_layers", p->cpu_layers);
    hws_json_num(o, "cpu_bytes", p->cpu_bytes);
    return o;
}

static void json_prediction(cJSON *doc, const plan_result *r) {
    const hws_prediction *p = &r->pred;
    const hws_predict_inputs *in = &r->inputs;
    cJSON *o = cJSON_AddObjectToObject(doc, "prediction");
    hws_fields_json(o, pred_fields, sizeof pred_fields / sizeof pred_fields[0], p);
    hws_json_str(o, "decode_bound", p->decode_bound);
    hws_json_str(o, "basis", p->basis);
    cJSON *i = cJSON_AddObjectToObject(o, "inputs");
    cJSON_AddBoolToObject(i, "measured", in->measured);
    hws_fields_json(i, input_fields, sizeof input_fields / sizeof input_fields[0], in);
}

static int print_json(const plan_result *r) {
    const hws_memory *m = &r->mem;
    cJSON *doc = hws_json_doc("hwscope.plan/1");
    if (doc == NULL)
        return 1;
    hws_json_model(doc, &r->model, m);
    hws_json_options(doc, &r->opts, &r->model);
    cJSON *mo = cJSON_AddObjectToObject(doc, "memory");
    hws_fields_json(mo, memory_fields, sizeof memory_fields / sizeof memory_fields[0], m);
    cJSON *basis = cJSON_AddObjectToObject(mo, "basis");
    hws_json_str(basis, "weights", m->weights_basis);
    hws_json_str(basis, "kv", m->kv_basis);
    hws_json_str(basis, "activations", m->activation_basis);
    hws_json_str(basis, "overhead", m->overhead_basis);
    cJSON *dv = cJSON_AddObjectToObject(doc, "devices");
    hws_json_str(dv, "basis", r->have_devs ? r->devs.basis : NULL);
    hws_json_str(dv, "error", r->have_devs ? NULL : r->devs_err.msg);
    cJSON *list = cJSON_AddArrayToObject(dv, "list");
    for (int i = 0; i < r->devs.count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(list, o);
        hws_json_str(o, "name", r->devs.dev[i].name);
        hws_json_str(o, "catalog_name", r->devs.dev[i].spec ? r->devs.dev[i].spec->name : NULL);
        cJSON_AddBoolToObject(o, "local", r->devs.dev[i].local);
        hws_json_num(o, "mem_total_bytes", r->devs.dev[i].mem_total_bytes);
        hws_json_num(o, "mem_avail_bytes", r->devs.dev[i].mem_avail_bytes);
    }
    if (r->have_devs) {
        cJSON_AddItemToObject(doc, "placement", json_placement(&r->best, &r->devs));
        cJSON *alts = cJSON_AddArrayToObject(doc, "alternatives");
        for (int k = 0; k < HWS_PLACE_COUNT; k++)
            cJSON_AddItemToArray(alts, json_placement(&r->alt[k], &r->devs));
        json_prediction(doc, r);
    } else {
        cJSON_AddNullToObject(doc, "placement");
        cJSON_AddNullToObject(doc, "alternatives");
        cJSON_AddNullToObject(doc, "prediction");
    }
    return hws_json_emit("plan", doc);
}

/* ---- command ---------------------------------------------------------------------------- */

int cmd_plan(int argc, char **argv) {
    hws_plan_args a;
    hws_plan_args_default(&a);
    const char *gpus = "local";
    bool json = false;
    const char *pos[2];
    int npos = 0;
    hws_opt opts[] = {
        HWS_PLAN_COMMON_OPTS(a),
        {"gpus", HWS_OPT_STRING, &gpus, 0, 0,
         "local (free memory now) or named hardware: \"4x RTX 4090\", \"2x H100 SXM 80GB\""},
        {"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document (hwscope.plan/1)"},
    };
    int rc = hws_args_parse("plan", usage, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
                            &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (npos != 1)
        return hws_usage_error("plan", "one MODEL expected (see --help)");
    plan_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return 1;
    rc = hws_plan_setup("plan", pos[0], &a, &r->model, &r->opts, &r->mem);
    if (rc == 0) {
        hws_status st = strcmp(gpus, "local") == 0
                            ? hws_devices_local(&r->devs, &r->devs_err)
                            : hws_devices_parse(gpus, &r->devs, &r->devs_err);
        if (st == HWS_ERR_INPUT)
            rc = hws_usage_error("plan", "%s", r->devs_err.msg);
        r->have_devs = st == HWS_OK;
    }
    if (rc == 0 && r->have_devs) {
        for (int k = 0; k < HWS_PLACE_COUNT; k++)
            hws_place(&r->model, &r->opts, &r->mem, &r->devs, (hws_place_kind)k, &r->alt[k]);
        hws_place_best(&r->model, &r->opts, &r->mem, &r->devs, &r->best);
        hws_predict_inputs_fill(&r->opts, &r->mem, &r->devs, NULL, &r->inputs);
        hws_predict(&r->model, &r->opts, &r->mem, &r->best, &r->inputs, &r->pred);
    }
    if (rc == 0 && !r->have_devs && !json)
        fprintf(stderr, "hwscope plan: %s; showing memory only (try --gpus \"1x H100 SXM 80GB\")\n",
                r->devs_err.msg);
    if (rc == 0)
        rc = json ? print_json(r) : (print_human(r), 0);
    free(r);
    return rc;
}
