/* catalog.c - `hwscope catalog [gpus|models] [--file USER.tsv] [--json]`: the GPU and model
 * catalogs the planner uses, as tables or as JSON with every field and its source. */
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/catalog.h"
#include "hwscope/model.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

static const char usage[] = "[gpus|models] [--file USER.tsv] [--json | --csv]";

/* One catalog as the command shows it. */
typedef struct {
    const char *key;    /* "gpus": subcommand and JSON array name */
    const char *schema; /* JSON schema when shown alone */
    const hws_field_table *fields;
    hws_status (*load)(const char *user_path, hws_error *err);
    const void *(*rows)(size_t *count);
    void (*table)(const void *rows, size_t count);
} catalog_view;

static const void *gpu_rows(size_t *count) {
    return hws_gpu_catalog(count);
}

static const void *model_rows(size_t *count) {
    return hws_model_catalog(count);
}

/* A number cell: value with decimals, "n/a" when unknown. */
static const char *num(char *buf, size_t n, double v, int decimals) {
    return hws_fmt_num(buf, n, v, decimals, NULL);
}

static void gpu_table(const void *rows, size_t count) {
    const hws_gpu_spec *g = rows;
    hws_table *t = hws_table_new(10, (const char *[]){"GPU", "memory GB", "type", "bandwidth GB/s",
                                                      "FP16/BF16 TFLOP/s", "FP8 TFLOP/s", "TDP W",
                                                      "price USD", "cloud USD/h", "year"});
    for (size_t i = 0; i < count; i++) {
        char c[8][32];
        double half = hws_known(g[i].bf16_tflops) ? g[i].bf16_tflops : g[i].fp16_tflops;
        hws_table_row(
            t, (const char *[]){
                   g[i].name, num(c[0], 32, g[i].mem_bytes / HWS_GB, 0),
                   g[i].mem_type[0] ? g[i].mem_type : NULL, num(c[1], 32, g[i].mem_bw_gbps, 0),
                   num(c[2], 32, half, 0), num(c[3], 32, g[i].fp8_tflops, 0),
                   num(c[4], 32, g[i].tdp_w, 0), num(c[5], 32, g[i].price_usd, 0),
                   num(c[6], 32, g[i].cloud_usd_per_hour, 2), num(c[7], 32, g[i].launch_year, 0)});
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
    printf("Tensor figures are dense (no sparsity). Prices: street, list or MSRP at a date; cloud: "
           "on-demand per GPU-hour. --json gives every field and its source.\n");
}

/* "GQA", "MHA", "MQA" or "MLA 512+64" (latent KV width + rotary key width). */
static const char *attention_kind(char *buf, size_t n, const hws_model_spec *m) {
    if (hws_known(m->kv_lora_rank))
        snprintf(buf, n, "MLA %.0f+%.0f", m->kv_lora_rank, m->qk_rope_head_dim);
    else if (!hws_known(m->n_kv_heads) || !hws_known(m->n_heads))
        snprintf(buf, n, "n/a");
    else
        snprintf(buf, n, "%s",
                 m->n_kv_heads == 1            ? "MQA"
                 : m->n_kv_heads == m->n_heads ? "MHA"
                                               : "GQA");
    return buf;
}

/* "dense" or "MoE 8 of 256 +1 shared". */
static const char *mlp_kind(char *buf, size_t n, const hws_model_spec *m) {
    if (!hws_known(m->n_experts))
        snprintf(buf, n, "dense");
    else if (m->n_shared_experts > 0)
        snprintf(buf, n, "MoE %.0f of %.0f +%.0f shared", m->n_experts_active, m->n_experts,
                 m->n_shared_experts);
    else
        snprintf(buf, n, "MoE %.0f of %.0f", m->n_experts_active, m->n_experts);
    return buf;
}

/* Sliding window and pattern: "4096, 1:1", "1024, 5:1", "4096, all"; NULL when none. */
static const char *window_kind(char *buf, size_t n, const hws_model_spec *m) {
    if (!hws_known(m->sliding_window))
        return NULL;
    if (m->sliding_layers_per_global > 0)
        snprintf(buf, n, "%.0f, %.0f:1", m->sliding_window, m->sliding_layers_per_global);
    else
        snprintf(buf, n, "%.0f, all", m->sliding_window);
    return buf;
}

static void model_table(const void *rows, size_t count) {
    const hws_model_spec *m = rows;
    hws_table *t = hws_table_new(
        11, (const char *[]){"model", "family", "params B", "layers", "hidden", "heads q/kv",
                             "head dim", "attention", "MLP", "window, local:global", "context"});
    for (size_t i = 0; i < count; i++) {
        char c[6][32], heads[32], att[32], mlp[48], win[32];
        snprintf(heads, sizeof heads, "%s/%s", num(c[0], 32, m[i].n_heads, 0),
                 num(c[1], 32, m[i].n_kv_heads, 0));
        hws_table_row(
            t, (const char *[]){
                   m[i].name, m[i].family[0] ? m[i].family : NULL,
                   num(c[2], 32, m[i].params_published / 1e9, 2), num(c[3], 32, m[i].n_layers, 0),
                   num(c[4], 32, m[i].hidden_size, 0), heads, num(c[5], 32, m[i].head_dim, 0),
                   attention_kind(att, sizeof att, &m[i]), mlp_kind(mlp, sizeof mlp, &m[i]),
                   window_kind(win, sizeof win, &m[i]), num(c[0], 32, m[i].max_context, 0)});
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
    printf("Shapes from each model's config.json; params as the model card publishes them. "
           "--json gives every field and its source.\n");
}

static const catalog_view views[] = {
    {"gpus", "hwscope.catalog.gpus/1", &hws_gpu_spec_table, hws_gpu_catalog_load, gpu_rows,
     gpu_table},
    {"models", "hwscope.catalog.models/1", &hws_model_spec_table, hws_model_catalog_load,
     model_rows, model_table},
};

/* Adds "<key>_fields" (column, unit, meaning) and "<key>" (the rows) to doc. */
static void add_view_json(cJSON *doc, const catalog_view *v) {
    char key[32];
    snprintf(key, sizeof key, "%s_fields", v->key);
    cJSON_AddItemToObject(doc, key, hws_fields_doc_json(v->fields));
    size_t count = 0;
    const unsigned char *rows = v->rows(&count);
    cJSON *arr = cJSON_AddArrayToObject(doc, v->key);
    for (size_t i = 0; arr != NULL && i < count; i++) {
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, obj);
        hws_record_json(obj, v->fields, rows + i * v->fields->record_size, true);
    }
}

static int print_json(const catalog_view *only, const char *user_file) {
    cJSON *doc = hws_json_doc(only ? only->schema : "hwscope.catalog/1");
    hws_json_str(doc, "user_file", user_file);
    for (size_t i = 0; i < sizeof views / sizeof *views; i++)
        if (only == NULL || only == &views[i])
            add_view_json(doc, &views[i]);
    return hws_json_emit("catalog", doc);
}

/* One catalog as CSV: the file's columns, numbers in the file's units. A write error is
 * main's to report. */
static int print_csv(const catalog_view *v) {
    size_t count = 0;
    const unsigned char *rows = v->rows(&count);
    int rc = hws_csv_header(stdout, v->fields);
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = hws_csv_row(stdout, v->fields, rows + i * v->fields->record_size, true);
    return 0;
}

int cmd_catalog(int argc, char **argv) {
    bool json = false, csv = false;
    const char *file = NULL;
    const char *pos[1];
    int npos = 0;
    hws_opt opts[] = {
        {"file", HWS_OPT_STRING, &file, 0, 0,
         "a user catalog (TSV, same columns) whose rows add to or replace the built-in ones"},
        {"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"},
        {"csv", HWS_OPT_FLAG, &csv, 0, 0, "print one catalog as CSV (its file's columns)"},
    };
    int rc = hws_args_parse("catalog", usage, argc, argv, opts, sizeof opts / sizeof opts[0], pos,
                            1, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    const catalog_view *only = NULL;
    for (size_t i = 0; npos == 1 && i < sizeof views / sizeof *views; i++)
        if (strcmp(pos[0], views[i].key) == 0)
            only = &views[i];
    if (npos == 1 && only == NULL)
        return hws_usage_error("catalog", "'%s' is not a catalog: gpus or models", pos[0]);
    if (json && csv)
        return hws_usage_error("catalog", "--json and --csv: choose one");
    if (csv && only == NULL)
        return hws_usage_error("catalog", "--csv: say which catalog: gpus or models");
    if (file != NULL && only == NULL)
        return hws_usage_error("catalog", "--file: say which catalog it extends: gpus or models");
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        hws_error err = {{0}};
        hws_status st = views[i].load(only == &views[i] ? file : NULL, &err);
        if (st == HWS_ERR_INPUT)
            return hws_usage_error("catalog", "%s", err.msg);
        if (st != HWS_OK) {
            fprintf(stderr, "hwscope catalog: %s\n", err.msg);
            return 1;
        }
    }
    if (json)
        return print_json(only, file);
    if (csv)
        return print_csv(only);
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        if (only != NULL && only != &views[i])
            continue;
        size_t count = 0;
        const void *rows = views[i].rows(&count);
        if (only == NULL)
            hws_print_heading(stdout, i == 0 ? "GPUs" : "Models");
        views[i].table(rows, count);
    }
    return 0;
}
