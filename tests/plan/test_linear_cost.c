/* test_linear_cost.c - inputs large enough that work quadratic in their size would run past
 * this test's timeout (tests/CMakeLists.txt gives it 120 s; linear work takes well under a
 * second): a catalog of 300,000 models (the duplicate check and the merge), a duplicate name at
 * the end of it still found, and `advise` with a ceilings file of 100,000 GPUs (read once, not
 * once per configuration). Nothing is timed here; the timeout is the judge. */
#include "hws_test.h"

#include "hwscope/model.h"
#include "hwscope/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 300000

/* A model TSV of ROWS distinct names (then dup, when not NULL, once more at the end). */
static const char *big_catalog(const char *dup) {
    static char path[32];
    snprintf(path, sizeof path, "/tmp/hws_linear_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("name\thidden_size\tn_layers\tn_heads\n", f);
    for (int i = 0; i < ROWS; i++)
        fprintf(f, "model-%d\t4096\t32\t32\n", i);
    if (dup != NULL)
        fprintf(f, "%s\t4096\t32\t32\n", dup);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_big_catalog(void **state) {
    (void)state;
    hws_error err = {""};
    const char *path = big_catalog(NULL);
    assert_int_equal(hws_model_catalog_load(path, &err), HWS_OK);
    size_t n;
    hws_model_catalog(&n);
    assert_true(n >= ROWS);
    assert_non_null(hws_model_catalog_find("model-299999"));
    unlink(path);
    path = big_catalog("MODEL-17"); /* names compare without case */
    assert_int_equal(hws_model_catalog_load(path, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, ":300002: field 'name': 'MODEL-17' appears twice");
    unlink(path);
    assert_int_equal(hws_model_catalog_load(NULL, &err), HWS_OK);
}

static void test_advise_big_ceilings(void **state) {
    (void)state;
    char path[] = "/tmp/hws_ceil_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [", f);
    for (int i = 0; i < 100000; i++)
        fprintf(f, "{\"name\": \"GPU %d\", \"mem_bw_gbps\": %d, \"bf16_tflops\": 100},", i,
                1000 + i);
    fputs("{\"name\": \"H100 SXM 80GB\", \"mem_bw_gbps\": 2900, \"bf16_tflops\": 700}]}", f);
    assert_int_equal(fclose(f), 0);
    char env[64];
    snprintf(env, sizeof env, "HWSCOPE_CEILINGS=%s", path);
    hws_run r;
    hws_run_cli(&r, (const char *[]){env, NULL}, "advise", "Llama-2-70B", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_null(strstr(r.err, "warning"));
    cJSON *doc = hws_run_json(&r);
    cJSON_Delete(doc);
    hws_run_free(&r);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_big_catalog),
        cmocka_unit_test(test_advise_big_ceilings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
