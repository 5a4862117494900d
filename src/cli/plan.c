/* plan.c - `hwscope plan MODEL`: memory breakdown, fit per device, placement and predicted speed
 * of a model at a precision, context and batch, on this machine's GPUs or named hardware. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/plan_common.h"
#include "hwscope/plan.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "hwscope/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "MODEL [--dtype FMT | --quant GGUF_TYPE] [--kv-dtype fp16|fp8|q8_0|q4] [--ctx N] [--batch B]\n"
    "       [--gpus local|cpu|\"4x RTX 4090\"|\"2x H100 SXM 80GB\"|...] [--host CPU] [--ram GB]\n"
    "       [--depth N] [--runtime transformers|vllm|llama.cpp|hwscope] [--cache dynamic|static]\n"
    "       [--json]\n"
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
    if (t != NULL)
        hws_table_set_priority(t, 3, 1); /* the basis wraps on a narrow terminal */
    struct {
        const char *name;
        double bytes;
        const char *basis;
    } rows[] = {
        {"weights", m->weights_bytes, m->weights_basis},
        {"  of which vision", m->vision_bytes, m->vision_basis},
        {"KV cache", m->kv_bytes, m->kv_basis},
        {"activations", m->activation_bytes, m->activation_basis},
        {"CUDA context", m->cuda_context_bytes, "per GPU"},
        {"runtime", m->runtime_bytes, m->overhead_basis},
        {"total (1 GPU)", m->total_bytes, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i].bytes <= 0 && rows[i].basis == m->vision_basis)
            continue; /* a text-only model has no vision line */
        hws_table_row(
            t, (const char *[]){
                   rows[i].name, hws_fmt_num(a, sizeof a, rows[i].bytes / HWS_GB, 2, NULL),
                   hws_fmt_num(b, sizeof b, rows[i].bytes / HWS_GIB, 2, NULL), rows[i].basis});
    }
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
    /* the load's figures, weights to available, as its field table labels and formats them */
    const hws_field *figures = hws_field_find(&hws_device_load_table, "weights_bytes");
    enum { NFIG = 6 };
    const char *headers[NFIG + 4] = {"GPU", "name", "layers"};
    for (int k = 0; k < NFIG; k++)
        headers[3 + k] = figures[k].label;
    headers[NFIG + 3] = "fits";
    hws_table *t = hws_table_new(NFIG + 4, headers);
    if (t == NULL)
        return;
    hws_table_set_priority(t, 5, 1); /* narrow terminals: activations and overhead go (total */
    hws_table_set_priority(t, 6, 1); /* holds them) */
    for (int i = 0; i < p->ndev; i++) {
        const hws_device_load *l = &p->load[i];
        char index[16], layers[48], cells[NFIG][32];
        const char *row[NFIG + 4] = {index, r->devs.dev[i].name, layers};
        snprintf(index, sizeof index, "%d", i);
        snprintf(layers, sizeof layers, "%d-%d%s%s", l->first_layer,
                 l->first_layer + l->n_layers - 1, l->has_embeddings ? " +emb" : "",
                 l->has_head ? " +head" : "");
        for (int k = 0; k < NFIG; k++)
            row[3 + k] = hws_field_text(cells[k], sizeof cells[k], &figures[k], l, NULL);
        row[NFIG + 3] = l->fits ? "yes" : "NO";
        hws_table_row(t, row);
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
    if (p->cpu_bytes > 0)
        hws_print_line(stdout, "CPU: %d layers%s, %.2f GiB in host memory (%s)", p->cpu_layers,
                       p->cpu_moe_layers > 0 ? " + routed experts" : "", p->cpu_bytes / HWS_GIB,
                       r->devs.host.basis);
    if (p->launch[0])
        hws_print_line(stdout, "launch: %s", p->launch);
    if (p->note[0])
        hws_print_line(stdout, "note: %s", p->note);
    if (!p->fits && p->why[0])
        hws_print_line(stdout, "why: %s", p->why);
    hws_print_heading(stdout, "other placements");
    t = hws_table_new(6, (const char *[]){"method", "TP x PP", "fits", "largest GPU need GiB",
                                          "host GiB", "why"});
    if (t != NULL)
        hws_table_set_priority(t, 5, 1);
    for (int k = 0; k < HWS_PLACE_COUNT; k++) {
        const hws_placement *a = &r->alt[k];
        hws_table_rowf(t, "%s\t%dx%d\t%s\t%.2f\t%.2f\t%s", hws_place_name(a->kind), a->tp, a->pp,
                       !a->possible ? "n/a" : (a->fits ? "yes" : "no"),
                       hws_placement_largest_need(a) / HWS_GIB, a->cpu_bytes / HWS_GIB,
                       a->why[0] ? a->why : "-");
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
}

static void print_prediction(const plan_result *r) {
    const hws_prediction *p = &r->pred;
    hws_print_heading(stdout, "predicted speed");
    /* the speeds, as the prediction's field table labels and formats them */
    enum { NSPEED = 6 };
    const hws_field *speeds = hws_prediction_table.fields;
    const char *headers[NSPEED + 1], *row[NSPEED + 1];
    char cells[NSPEED][32];
    for (int k = 0; k < NSPEED; k++) {
        headers[k] = speeds[k].label;
        row[k] = hws_field_text(cells[k], sizeof cells[k], &speeds[k], p, NULL);
    }
    headers[NSPEED] = "bound";
    row[NSPEED] = p->decode_bound;
    hws_table *t = hws_table_new(NSPEED + 1, headers);
    hws_table_row(t, row);
    hws_table_print(t, stdout);
    hws_table_free(t);
    hws_print_line(stdout, "basis: %s", p->basis);
}

static void print_human(const plan_result *r) {
    char title[256];
    snprintf(title, sizeof title, "%s: %s weights, %s KV, ctx %.0f x batch %.0f, %s", r->model.name,
             hws_plan_weights_name(&r->opts, &r->model), r->opts.kv->name, r->opts.ctx_tokens,
             r->opts.batch, hws_runtime_name(r->opts.runtime));
    hws_print_heading(stdout, title);
    print_memory(r);
    if (!r->have_devs) {
        fputc('\n', stdout); /* (hws_print_line cleans control characters out of its line) */
        hws_print_line(stdout, "no placement: %s", r->devs_err.msg);
        return;
    }
    fputc('\n', stdout);
    hws_print_line(stdout, "%s", r->devs.basis);
    print_placement(r);
    print_prediction(r);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void json_load(cJSON *arr, const hws_device_load *l, const hws_device *d, int i) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, o);
    cJSON_AddNumberToObject(o, "index", i);
    hws_json_str(o, "name", d->name);
    hws_record_json(o, &hws_device_load_table, l, false);
}

static cJSON *json_placement(const hws_placement *p, const hws_device_set *devs) {
    cJSON *o = cJSON_CreateObject();
    hws_json_str(o, "method", hws_place_name(p->kind));
    hws_record_json(o, &hws_placement_table, p, false);
    cJSON *arr = cJSON_AddArrayToObject(o, "devices");
    for (int i = 0; p->possible && i < p->ndev; i++)
        json_load(arr, &p->load[i], &devs->dev[i], i);
    return o;
}

static void json_prediction(cJSON *doc, const plan_result *r) {
    const hws_prediction *p = &r->pred;
    const hws_predict_inputs *in = &r->inputs;
    cJSON *o = cJSON_AddObjectToObject(doc, "prediction");
    hws_record_json(o, &hws_prediction_table, p, false);
    hws_json_str(o, "decode_bound", p->decode_bound);
    hws_json_str(o, "basis", p->basis);
    cJSON *i = cJSON_AddObjectToObject(o, "inputs");
    hws_record_json(i, &hws_predict_inputs_table, in, false);
}

static int print_json(const plan_result *r) {
    const hws_memory *m = &r->mem;
    cJSON *doc = hws_json_doc("hwscope.plan/1");
    if (doc == NULL)
        return 1;
    hws_json_model(doc, &r->model, m);
    hws_json_options(doc, &r->opts, &r->model);
    cJSON *mo = cJSON_AddObjectToObject(doc, "memory");
    hws_record_json(mo, &hws_memory_table, m, false);
    cJSON *basis = cJSON_AddObjectToObject(mo, "basis");
    hws_json_str(basis, "weights", m->weights_basis);
    hws_json_str(basis, "kv", m->kv_basis);
    hws_json_str(basis, "activations", m->activation_basis);
    hws_json_str(basis, "overhead", m->overhead_basis);
    cJSON *dv = cJSON_AddObjectToObject(doc, "devices");
    hws_json_str(dv, "basis", r->have_devs ? r->devs.basis : NULL);
    hws_json_str(dv, "error", r->devs_err.msg[0] ? r->devs_err.msg : NULL);
    cJSON *host = cJSON_AddObjectToObject(dv, "host");
    hws_json_str(host, "name", r->devs.host.name);
    hws_json_num(host, "mem_bytes", r->devs.host.mem_bytes);
    hws_json_num(host, "mem_bw_gbps", r->devs.host.mem_bw_gbps);
    hws_json_num(host, "matmul_tflops", r->devs.host.matmul_tflops);
    hws_json_str(host, "basis", r->devs.host.basis);
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
    const char *gpus = "local", *host = NULL;
    double ram_gb = 0;
    bool json = false;
    const char *pos[2];
    int npos = 0;
    hws_opt opts[] = {
        HWS_PLAN_COMMON_OPTS(a),
        {"gpus", HWS_OPT_STRING, &gpus, 0, 0,
         "local (free memory now), cpu (no GPU) or named hardware: \"4x RTX 4090\", "
         "\"2x H100 SXM 80GB\""},
        {"host", HWS_OPT_STRING, &host, 0, 0,
         "CPU server the GPUs sit in (data/cpus.tsv: \"EPYC 9654\"...; this machine)"},
        {"ram", HWS_OPT_DOUBLE, &ram_gb, 1, 1e6, "host RAM for offload and CPU plans, GB"},
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
        if (st == HWS_ERR_UNSUPPORTED) /* no GPU here: plan for the CPU */
            r->devs.cpu_only = 1;
        r->have_devs = st == HWS_OK || st == HWS_ERR_UNSUPPORTED;
        if (rc == 0)
            rc = hws_plan_host("plan", host, ram_gb, &r->devs.host);
    }
    if (rc == 0 && r->have_devs) {
        for (int k = 0; k < HWS_PLACE_COUNT; k++)
            hws_placement_compute(&r->model, &r->opts, &r->mem, &r->devs, (hws_place_kind)k,
                                  &r->alt[k]);
        hws_placement_best(&r->model, &r->opts, &r->mem, &r->devs, &r->best);
        hws_predict_inputs_fill(&r->opts, &r->mem, &r->devs, NULL, &r->inputs);
        hws_ceilings_warn("plan", r->inputs.ceilings_warning);
        hws_prediction_compute(&r->model, &r->opts, &r->mem, &r->best, &r->inputs, &r->pred);
    }
    if (rc == 0 && r->devs.cpu_only && r->devs_err.msg[0] && !json)
        fprintf(stderr,
                "hwscope plan: %s; planning for the CPU (or name GPUs: --gpus \"1x H100 "
                "SXM 80GB\")\n",
                r->devs_err.msg);
    if (rc == 0)
        rc = json ? print_json(r) : (print_human(r), 0);
    free(r);
    return rc;
}
