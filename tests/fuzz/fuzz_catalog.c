/* fuzz_catalog.c - arbitrary bytes parsed as a user GPU catalog and a user model catalog: the
 * parser must return OK or an error naming file:line, never crash, leak or read out of bounds. */
#include "format/tsv.h"
#include "hwscope/catalog.h"
#include "hwscope/model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void parse_as(const hws_field_table *schema, const uint8_t *data, size_t size) {
    hws_tsv_rows rows = {0};
    hws_error err = {{0}};
    hws_status st = hws_tsv_parse(schema, (const char *)data, size, "fuzz.tsv", &rows, &err);
    if (st != HWS_OK && strncmp(err.msg, "fuzz.tsv:", 9) != 0)
        abort(); /* every error names the file */
    if (st != HWS_OK && rows.count != 0)
        abort(); /* a failed parse adds nothing */
    /* a second parse of the same text replaces every row rather than adding any */
    size_t first = rows.count;
    if (st == HWS_OK &&
        hws_tsv_parse(schema, (const char *)data, size, "fuzz.tsv", &rows, &err) == HWS_OK &&
        rows.count != first)
        abort();
    hws_tsv_rows_free(&rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse_as(&hws_gpu_spec_table, data, size);
    parse_as(&hws_model_spec_table, data, size);
    return 0;
}
