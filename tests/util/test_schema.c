/* test_schema.c - the test suite's JSON Schema checker catches what it must: wrong types,
 * missing and unknown members, enum and minimum violations, in nested arrays too. */
#include "hws_test.h"
#include "schema.h"

static const char *schema_text =
    "{\"type\":\"object\",\"required\":[\"schema\",\"gpus\"],\"additionalProperties\":false,"
    "\"properties\":{\"schema\":{\"enum\":[\"x/1\"]},\"gpus\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"object\",\"properties\":{\"mem\":{\"type\":[\"number\",\"null\"],\"minimum\":0},"
    "\"n\":{\"type\":\"integer\"}}}}}}";

static int conforms(const char *doc_text) {
    cJSON *schema = cJSON_Parse(schema_text), *doc = cJSON_Parse(doc_text);
    char why[256];
    assert_non_null(schema);
    assert_non_null(doc);
    int ok = hws_schema_check(schema, doc, why, sizeof why);
    cJSON_Delete(schema);
    cJSON_Delete(doc);
    return ok;
}

static void test_schema_checker(void **state) {
    (void)state;
    assert_true(conforms("{\"schema\":\"x/1\",\"gpus\":[{\"mem\":1,\"n\":2},{\"mem\":null}]}"));
    assert_false(conforms("{\"schema\":\"x/2\",\"gpus\":[]}"));
    assert_false(conforms("{\"schema\":\"x/1\"}"));
    assert_false(conforms("{\"schema\":\"x/1\",\"gpus\":[],\"extra\":1}"));
    assert_false(conforms("{\"schema\":\"x/1\",\"gpus\":[{\"mem\":\"80\"}]}"));
    assert_false(conforms("{\"schema\":\"x/1\",\"gpus\":[{\"mem\":-1}]}"));
    assert_false(conforms("{\"schema\":\"x/1\",\"gpus\":[{\"n\":1.5}]}"));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_schema_checker)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
