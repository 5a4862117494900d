/* test_catalog.c - `hwscope catalog`: tables, JSON checked field by field against the library's
 * rows, user files, and bad usage (exit 2 with the argument or file:line:field named). */
#include "hws_test.h"

#include "hwscope/catalog.h"
#include "hwscope/model.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every row of array `key` in doc equals the library's row, every field, in the file's unit. */
static void assert_rows_match(const cJSON *doc, const char *key, const hws_field_table *schema,
                              const void *rows, size_t count) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, key);
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), count);
    char fields_key[32];
    snprintf(fields_key, sizeof fields_key, "%s_fields", key);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, fields_key)),
                     schema->nfields);
    for (size_t i = 0; i < count; i++) {
        const void *row = (const unsigned char *)rows + i * schema->record_size;
        const cJSON *obj = cJSON_GetArrayItem(arr, (int)i);
        assert_int_equal(cJSON_GetArraySize(obj), schema->nfields);
        for (size_t k = 0; k < schema->nfields; k++) {
            const hws_field *f = &schema->fields[k];
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
            assert_non_null(v);
            if (f->type == HWS_FIELD_STR) {
                const char *s = hws_field_str(f, row);
                if (s[0] == '\0')
                    assert_true(cJSON_IsNull(v));
                else
                    assert_string_equal(cJSON_GetStringValue(v), s);
            } else if (f->type == HWS_FIELD_BOOL) {
                assert_true(cJSON_IsBool(v));
                assert_int_equal(cJSON_IsTrue(v), hws_field_int(f, row));
            } else if (!hws_known(hws_field_value(f, row))) {
                assert_true(cJSON_IsNull(v));
            } else {
                assert_true(cJSON_IsNumber(v));
                assert_true(fabs(v->valuedouble - hws_field_value(f, row)) < 1e-6);
            }
        }
    }
}

static void gpus_json(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "gpus", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.catalog.gpus/1");
    hws_assert_json_null(doc, "user_file");
    assert_null(cJSON_GetObjectItemCaseSensitive(doc, "models"));
    size_t n;
    const hws_gpu_spec *g = hws_gpu_catalog(&n);
    assert_true(n >= 40);
    assert_rows_match(doc, "gpus", &hws_gpu_spec_table, g, n);
    hws_assert_json_str(doc, "gpus_fields.4.name", "mem_gb");
    hws_assert_json_str(doc, "gpus_fields.4.unit", "GB");
    cJSON_Delete(doc);
    hws_run_free(&r);
}

/* `catalog gpus --csv`: the table's keys as the header, one line per row, numbers in the
 * file's unit (the H100's 80 GB, not 8e10 bytes). */
static void gpus_csv(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "gpus", "--csv", NULL);
    assert_int_equal(r.exit_code, 0);
    size_t n;
    hws_gpu_catalog(&n);
    size_t lines = 0;
    for (const char *p = r.out; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, n + 1);
    assert_true(strncmp(r.out, "name,aliases,vendor,segment,mem_gb,", 35) == 0);
    hws_assert_contains(r.out, "\nH100 SXM 80GB,");
    hws_assert_contains(r.out, ",datacenter,80,HBM3,");
    hws_run_free(&r);
}

static void models_json(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "models", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.catalog.models/1");
    size_t n;
    const hws_model_spec *m = hws_model_catalog(&n);
    assert_true(n >= 30);
    assert_rows_match(doc, "models", &hws_model_spec_table, m, n);
    hws_assert_json_str(doc, "models.0.name", m[0].name);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void both_json(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.catalog/1");
    size_t ng, nm;
    const hws_gpu_spec *g = hws_gpu_catalog(&ng);
    const hws_model_spec *m = hws_model_catalog(&nm);
    assert_rows_match(doc, "gpus", &hws_gpu_spec_table, g, ng);
    assert_rows_match(doc, "models", &hws_model_spec_table, m, nm);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void tables(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "gpus", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "GPU ");
    hws_assert_contains(r.out, "bandwidth GB/s");
    hws_assert_contains(r.out, "FP16/BF16 TFLOP/s");
    hws_assert_contains(r.out, "cloud USD/h");
    /* one line per row, each starting with its name */
    size_t n;
    const hws_gpu_spec *g = hws_gpu_catalog(&n);
    for (size_t i = 0; i < n; i++) {
        char want[80];
        snprintf(want, sizeof want, "\n%s ", g[i].name);
        hws_assert_contains(r.out, want);
    }
    assert_string_equal(r.err, "");
    hws_run_free(&r);

    hws_run_cli(&r, NULL, "catalog", "models", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "\nDeepSeek-V3 ");
    hws_assert_contains(r.out, "MLA 512+64");
    hws_assert_contains(r.out, "MoE 8 of 256 +1 shared");
    hws_assert_contains(r.out, "1024, 5:1");
    hws_run_free(&r);

    hws_run_cli(&r, NULL, "catalog", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "GPUs");
    hws_assert_contains(r.out, "Models");
    hws_assert_contains(r.out, "\nRTX 4090 ");
    hws_assert_contains(r.out, "\nLlama-2-70B ");
    hws_run_free(&r);
}

static void user_file(void **state) {
    (void)state;
    const char *path = hws_temp_file("name\tmem_gb\tmem_bw_gbps\tbf16_tflops\n"
                                     "My Card\t48\t900\t150\n");
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "gpus", "--file", path, "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "user_file", path);
    const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(doc, "gpus");
    const cJSON *last = cJSON_GetArrayItem(gpus, cJSON_GetArraySize(gpus) - 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(last, "name")), "My Card");
    assert_true(cJSON_GetObjectItem(last, "mem_gb")->valuedouble == 48);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(last, "fp8_tflops")));
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "catalog", "gpus", "--file", path, NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "\nMy Card ");
    hws_run_free(&r);
    unlink(path);
}

/* Each bad invocation: exit 2, nothing on stdout, the culprit named on stderr. */
static void bad_usage(void **state) {
    (void)state;
    const char *path = hws_temp_file("name\tn_layers\nA\t3\nB\tthree\n");
    static const char *const bad_file_want = ":3: field 'n_layers': 'three' is not a number";
    struct {
        const char *args[5];
        const char *want;
    } cases[] = {
        {{"catalog", "cards", NULL}, "'cards' is not a catalog"},
        {{"catalog", "gpus", "--bogus", NULL}, "--bogus"},
        {{"catalog", "gpus", "models", NULL}, "usage"},
        {{"catalog", "--file", path, NULL}, "--file: say which catalog"},
        {{"catalog", "gpus", "--file", NULL}, "--file"},
        {{"catalog", "models", "--file", path, NULL}, bad_file_want},
        {{"catalog", "models", "--file", path, "--json"}, bad_file_want},
        {{"catalog", "gpus", "--file", "/nonexistent.tsv", NULL}, "/nonexistent.tsv: cannot open"},
        {{"catalog", "--csv", NULL}, "--csv: say which catalog"},
        {{"catalog", "gpus", "--csv", "--json", NULL}, "choose one"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hws_run r;
        hws_run_cli(&r, NULL, cases[i].args[0], cases[i].args[1], cases[i].args[2],
                    cases[i].args[3], cases[i].args[4], NULL);
        hws_assert_bad_input(&r, cases[i].want);
        if (cases[i].want == bad_file_want)
            hws_assert_contains(r.err, path);
        hws_run_free(&r);
    }
    unlink(path);
    hws_run r;
    hws_run_cli(&r, NULL, "catalog", "--help", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "usage: hwscope catalog");
    hws_run_free(&r);
}

/* Runs `hwscope ARGS >/dev/full` and returns its exit status; stderr into a new string. */
static int run_to_full_disk(const char *args, char **err) {
    char err_path[64], cmd[600];
    snprintf(err_path, sizeof err_path, "/tmp/hws_cli_full_%d.txt", (int)getpid());
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/full 2>%s", getenv("HWSCOPE_BIN"), args, err_path);
    int status = system(cmd);
    assert_true(WIFEXITED(status));
    *err = hws_read_file(err_path);
    unlink(err_path);
    return WEXITSTATUS(status);
}

/* Output that cannot be written (stdout is /dev/full) is exit 1 with the reason on stderr, not
 * a silent exit 0: the JSON document and the text table alike. */
static void write_error(void **state) {
    (void)state;
    char *err;
    assert_int_equal(run_to_full_disk("catalog gpus --json", &err), 1);
    hws_assert_contains(err, "hwscope catalog: cannot write the JSON document to stdout");
    assert_null(strstr(err, "hwscope: cannot write")); /* said once */
    free(err);
    assert_int_equal(run_to_full_disk("catalog gpus", &err), 1);
    hws_assert_contains(err, "hwscope: cannot write to stdout");
    free(err);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gpus_json),   cmocka_unit_test(models_json), cmocka_unit_test(both_json),
        cmocka_unit_test(tables),      cmocka_unit_test(user_file),   cmocka_unit_test(bad_usage),
        cmocka_unit_test(write_error), cmocka_unit_test(gpus_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
