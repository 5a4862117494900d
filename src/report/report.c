/* report.c - the "what runs here" section of `hwscope` as text and as JSON, from the report
 * model's rows and their field table. */
#include "report/report.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"

#include <string.h>

/* The columns of the text table, by key. */
static const char *const text_keys[] = {"model",
                                        "params",
                                        "weights",
                                        "runtime",
                                        "placement",
                                        "need_bytes_per_gpu",
                                        "decode_tokens_per_s"};
#define NCOLS (sizeof text_keys / sizeof text_keys[0])

void hws_report_print(FILE *out, const hws_report *r) {
    if (!r->have_gpus) {
        fprintf(out, "\nWhat runs here: no GPU to place models on; `hwscope plan MODEL --gpus "
                     "\"1x RTX 4090\"` plans for hardware you name, `hwscope advise MODEL` ranks "
                     "what to buy.\n");
        return;
    }
    hws_print_heading(out, "What runs here (ctx 8192 or the model's maximum, batch 1)");
    fprintf(out, "fit against: %s\n", r->fit_against);
    const hws_field *cols[NCOLS];
    const char *headers[NCOLS];
    for (size_t c = 0; c < NCOLS; c++) {
        cols[c] = hws_field_find(&hws_report_row_table, text_keys[c]);
        headers[c] = cols[c] != NULL ? cols[c]->label : text_keys[c];
    }
    hws_table *t = hws_table_new((int)NCOLS, headers);
    for (int i = 0; t != NULL && i < r->nrows; i++) {
        const hws_report_row *row = &r->rows[i];
        char cells[NCOLS][80];
        const char *line[NCOLS];
        for (size_t c = 0; c < NCOLS; c++) {
            /* a row that does not fit: its name and size, "-" in the rest */
            line[c] = cols[c] == NULL || (!row->fits && c >= 2)
                          ? "-"
                          : hws_field_text(cells[c], sizeof cells[c], cols[c], row, NULL);
            if (cols[c] != NULL && cols[c]->type == HWS_FIELD_STR && !hws_field_known(cols[c], row))
                line[c] = "-";
        }
        if (!row->fits) {
            char need[32];
            snprintf(cells[4], sizeof cells[4], "does not fit (%s needs %s GB)",
                     row->smallest_weights[0] ? row->smallest_weights : "n/a",
                     hws_field_text(need, sizeof need,
                                    hws_field_find(&hws_report_row_table, "need_bytes_per_gpu"),
                                    row, NULL));
            line[4] = cells[4];
        }
        hws_table_row(t, line);
    }
    if (t != NULL)
        hws_table_print(t, out);
    hws_table_free(t);
    fprintf(out, "decode: %s\n",
            r->measured ? "roofline from this machine's `hwscope bench` figures"
                        : "roofline from the datasheet x stated efficiencies "
                          "(run `hwscope bench gpu` to use measured figures)");
}

cJSON *hws_report_json(const hws_report *r) {
    if (!r->have_gpus)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    hws_json_str(o, "fit_against", r->fit_against);
    cJSON *list = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; list != NULL && i < r->nrows; i++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddItemToArray(list, row);
        hws_record_json(row, &hws_report_row_table, &r->rows[i], false);
    }
    return o;
}
