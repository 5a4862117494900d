/* bench_llm.c - the four printers of `hwscope bench llm` (md, csv, json, jsonl), all walking
 * one field table of hws_llm_record, so the formats cannot drift apart. The JSON document's
 * schema is hwscope.bench_llm/1 (docs/schemas/hwscope.bench_llm.1.json). */
#include "report/bench.h"
#include "report/fields.h"
#include "report/json.h"
#include "util/units.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* THE field table of a row. The first MD_FIELDS are the markdown table's columns (llama-bench
 * style); csv, json and jsonl carry every field, plus the samples. */
static const hws_field llm_fields[] = {
    HWS_STR(hws_llm_record, model, "model"),
    HWS_STR(hws_llm_record, format, "format"),
    HWS_STR(hws_llm_record, device, "device"),
    HWS_STR(hws_llm_record, test, "test"),
    HWS_INT(hws_llm_record, batch, "batch"),
    HWS_NUM(hws_llm_record, tokens_per_s, "t/s", 1, 2, ""),
    HWS_NUM(hws_llm_record, stddev, "+/-", 1, 2, ""),
    HWS_NUM(hws_llm_record, bound_tokens_per_s, "bound t/s", 1, 1, ""),
    HWS_NUM(hws_llm_record, frac_of_bound, "of bound", 100, 1, "%"),
    HWS_NUM(hws_llm_record, predicted_tokens_per_s, "predicted t/s", 1, 1, ""),
    HWS_NUM(hws_llm_record, prediction_error, "error", 100, 1, "%"),
    HWS_NUM(hws_llm_record, ttft_ms, "TTFT ms", 1, 2, ""),
    HWS_NUM(hws_llm_record, peak_mem_bytes, "peak GiB", 1.0 / HWS_GIB, 2, ""),
    HWS_NUM(hws_llm_record, avg_power_w, "W", 1, 0, ""),
    HWS_NUM(hws_llm_record, tokens_per_joule, "t/J", 1, 2, ""),
#define MD_FIELDS 15
    HWS_JSON_STR(hws_llm_record, device_name),
    HWS_JSON_STR(hws_llm_record, backend),
    HWS_JSON_INT("n_prompt", hws_llm_record, n_prompt),
    HWS_JSON_INT("n_gen", hws_llm_record, n_gen),
    HWS_JSON_INT("depth", hws_llm_record, depth),
    HWS_JSON_NUM(hws_llm_record, params),
    HWS_JSON_NUM(hws_llm_record, weight_bytes),
    HWS_JSON_STR(hws_llm_record, bound_basis),
    HWS_JSON_STR(hws_llm_record, prediction_basis),
    HWS_JSON_NUM(hws_llm_record, plan_bytes_per_step),
    HWS_JSON_NUM(hws_llm_record, plan_flops_per_token),
    HWS_JSON_NUM(hws_llm_record, plan_wave_flops_per_token),
    HWS_JSON_NUM(hws_llm_record, plan_layers),
    HWS_JSON_STR(hws_llm_record, build_commit),
    HWS_JSON_STR(hws_llm_record, measured_at),
};
#define NFIELDS (sizeof llm_fields / sizeof llm_fields[0])
const hws_field_table hws_llm_record_table = HWS_FIELD_TABLE(hws_llm_record, llm_fields);

bool hws_llm_out_parse(const char *text, hws_llm_out *out) {
    static const char *const names[] = {"md", "csv", "json", "jsonl"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (hws_llm_out)i;
            return true;
        }
    return false;
}

/* One row as a JSON object: every field and the samples. */
static cJSON *row_json(const hws_llm_record *rec) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    hws_fields_json(o, llm_fields, NFIELDS, rec);
    cJSON *s = cJSON_AddArrayToObject(o, "samples_tokens_per_s");
    for (int i = 0; s != NULL && i < rec->nsamples; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber(rec->samples[i]));
    return o;
}

static int print_json(const hws_bench_result *r, FILE *out) {
    cJSON *doc = hws_json_doc_for("hwscope.bench_llm/1", &r->fingerprint);
    if (doc == NULL)
        return -1;
    cJSON *list = cJSON_AddArrayToObject(doc, "records");
    for (int i = 0; list != NULL && i < r->nllm; i++)
        cJSON_AddItemToArray(list, row_json(&r->llm[i]));
    int rc = hws_json_print(doc, out);
    cJSON_Delete(doc);
    return rc;
}

/* One JSON object per line: each row with the fingerprint, as llama-bench's jsonl. */
static int print_jsonl(const hws_bench_result *r, FILE *out) {
    for (int i = 0; i < r->nllm; i++) {
        cJSON *o = row_json(&r->llm[i]);
        if (o == NULL)
            return -1;
        cJSON_AddItemToObject(o, "fingerprint", hws_fingerprint_json(&r->fingerprint));
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (text == NULL)
            return -1;
        fprintf(out, "%s\n", text);
        cJSON_free(text);
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* Every field (the shared CSV writer), the samples first: "t1;t2;..." tokens/s. */
static int print_csv(const hws_bench_result *r, FILE *out) {
    fprintf(out, "samples_tokens_per_s,");
    if (hws_csv_header(out, &hws_llm_record_table) != 0)
        return -1;
    for (int k = 0; k < r->nllm; k++) {
        fputc('"', out);
        for (int s = 0; s < r->llm[k].nsamples; s++)
            fprintf(out, "%s%.10g", s ? ";" : "", r->llm[k].samples[s]);
        fprintf(out, "\",");
        if (hws_csv_row(out, &hws_llm_record_table, &r->llm[k], false) != 0)
            return -1;
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

/* llama-bench's markdown table: one row per test, the first MD_FIELDS columns. */
static int print_md(const hws_bench_result *r, FILE *out) {
    char buf[160];
    for (size_t i = 0; i < MD_FIELDS; i++)
        fprintf(out, "| %s ", llm_fields[i].label);
    fprintf(out, "|\n");
    for (size_t i = 0; i < MD_FIELDS; i++)
        fprintf(out, "|%s", llm_fields[i].type == HWS_FIELD_STR ? " --- " : " ---: ");
    fprintf(out, "|\n");
    for (int k = 0; k < r->nllm; k++) {
        for (size_t i = 0; i < MD_FIELDS; i++)
            fprintf(out, "| %s ",
                    hws_field_text(buf, sizeof buf, &llm_fields[i], &r->llm[k], NULL));
        fprintf(out, "|\n");
    }
    for (int k = 0; k < r->nllm; k++) /* where each row's bound and prediction come from */
        fprintf(out, "%s%s b%d: bound: %s; prediction: %s\n", k == 0 ? "\n" : "", r->llm[k].test,
                r->llm[k].batch, r->llm[k].bound_basis[0] ? r->llm[k].bound_basis : "n/a",
                r->llm[k].prediction_basis);
    if (r->nllm > 0)
        fprintf(out, "build %s\n", r->llm[0].build_commit);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int hws_llm_print(const hws_bench_result *r, hws_llm_out fmt, FILE *out) {
    switch (fmt) {
    case HWS_LLM_OUT_CSV:
        return print_csv(r, out);
    case HWS_LLM_OUT_JSON:
        return print_json(r, out);
    case HWS_LLM_OUT_JSONL:
        return print_jsonl(r, out);
    case HWS_LLM_OUT_MD:
        break;
    }
    return print_md(r, out);
}
