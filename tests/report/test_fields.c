/* test_fields.c - one field table drives blanking, text cells, JSON and CSV of a record: unknown
 * values come out as n/a, null and empty fields; CSV quotes what it must. */
#include "hws_test.h"

#include "report/fields.h"
#include "report/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[16];
    double mem_bytes;
    int ecc; /* tri-state */
    int count;
} rec;

static const hws_field rec_fields[] = {
    HWS_STR(rec, name, "name"),
    HWS_NUM(rec, mem_bytes, "memory", 1.0 / HWS_GIB, 1, "GiB"),
    HWS_TRI(rec, ecc, "ECC"),
    HWS_INT(rec, count, "count"),
};
static const hws_field_table rec_table = HWS_FIELD_TABLE(rec, rec_fields);

static char *csv_of(const rec *r, size_t n) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(hws_csv_header(f, &rec_table), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hws_csv_row(f, &rec_table, &r[i], false), 0);
    fclose(f);
    return text;
}

static void test_blank_is_unknown_everywhere(void **state) {
    (void)state;
    rec r;
    memset(&r, 0x5a, sizeof r);
    hws_record_blank(&rec_table, &r);
    assert_true(isnan(r.mem_bytes));
    assert_string_equal(r.name, "");
    assert_int_equal(r.ecc, -1);
    assert_int_equal(r.count, 0);
    for (size_t i = 0; i < 3; i++)
        assert_false(hws_field_known(&rec_fields[i], &r));
    assert_true(hws_field_known(&rec_fields[3], &r));
    char cell[64];
    assert_string_equal(hws_field_text(cell, sizeof cell, &rec_fields[1], &r, NULL), "n/a");
    hws_notes notes = {1, {"mem_bytes: not readable"}};
    assert_string_equal(hws_field_text(cell, sizeof cell, &rec_fields[1], &r, &notes),
                        "n/a (not readable)");
    cJSON *o = cJSON_CreateObject();
    hws_record_json(o, &rec_table, &r, false);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "mem_bytes")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "name")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "ecc")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "count")->valueint, 0);
    cJSON_Delete(o);
    char *csv = csv_of(&r, 1);
    assert_string_equal(csv, "name,mem_bytes,ecc,count\n,,,0\n");
    free(csv);
}

static void test_known_values(void **state) {
    (void)state;
    rec r[2] = {{"H100, SXM", 85899345920.0, 1, 8}, {"say \"hi\"", 1.5, 0, 2}};
    char cell[64];
    assert_string_equal(hws_field_text(cell, sizeof cell, &rec_fields[1], &r[0], NULL), "80.0 GiB");
    assert_string_equal(hws_field_text(cell, sizeof cell, &rec_fields[2], &r[0], NULL), "yes");
    assert_string_equal(hws_field_text(cell, sizeof cell, &rec_fields[2], &r[1], NULL), "no");
    assert_true(hws_field_value(&rec_fields[1], &r[0]) == 80.0);
    char *csv = csv_of(r, 2);
    assert_string_equal(csv, "name,mem_bytes,ecc,count\n"
                             "\"H100, SXM\",85899345920,1,8\n"
                             "\"say \"\"hi\"\"\",1.5,0,2\n");
    free(csv);
    assert_ptr_equal(hws_field_find(&rec_table, "ecc"), &rec_fields[2]);
    assert_null(hws_field_find(&rec_table, "nope"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blank_is_unknown_everywhere),
        cmocka_unit_test(test_known_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
