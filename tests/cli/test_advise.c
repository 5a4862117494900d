/* test_advise.c - `hwscope advise`: the hwscope.advise/1 document (ranked configurations, why the
 * rejected ones fail, the budget tree), renting, and bad usage. */
#include "hws_test.h"

#include "hwscope/catalog.h"

#include <stdio.h>
#include <string.h>

static void json_document(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "advise", "Llama-3.1-8B", "--min-tokens-per-s", "40", "--budget", "3000",
                "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.advise/1");
    hws_assert_json_str(doc, "target.mode", "buy");
    const cJSON *ok = hws_json_at(doc, "configurations");
    assert_true(cJSON_GetArraySize(ok) > 0);
    double prev = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, ok) {
        double cost = cJSON_GetObjectItem(c, "buy_usd")->valuedouble;
        assert_true(cost <= 3000 && cost >= prev);
        assert_true(cJSON_GetObjectItem(c, "decode_tokens_per_s")->valuedouble >= 40);
        prev = cost;
    }
    const cJSON *bad = hws_json_at(doc, "rejected");
    assert_true(cJSON_GetArraySize(bad) > 0);
    cJSON_ArrayForEach(c, bad) assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "why")));
    assert_int_equal(cJSON_GetArraySize(hws_json_at(doc, "budget_tree")), 4);
    hws_assert_json_str(doc, "budget_tree.0.tier", "< $1,000");
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void renting_and_text(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "advise", "Qwen2.5-32B", "--rent", "--top", "3", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "$/h");
    hws_assert_contains(r.out, "why the others fail");
    hws_assert_contains(r.out, "budget tree");
    hws_run_free(&r);
}

/* llama.cpp splits a model over GPUs by layers: the GPUs take turns, so N of them add memory but
 * not bandwidth, and no llama.cpp configuration may decode faster than one GPU streaming all the
 * weights (the weights on each GPU x N, over one GPU's bandwidth). */
static void llamacpp_layer_split(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "advise", "Llama-2-70B", "--buy", "--top", "200", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    int checked = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, hws_json_at(doc, "configurations")) {
        const char *runtime = cJSON_GetStringValue(hws_json_at(c, "runtime"));
        double count = hws_json_at(c, "count")->valuedouble;
        if (runtime == NULL || strcmp(runtime, "llama.cpp") != 0 || count < 2)
            continue;
        hws_assert_json_str(c, "placement", "layer split");
        const hws_gpu_spec *g = hws_gpu_catalog_find(cJSON_GetStringValue(hws_json_at(c, "gpu")));
        assert_non_null(g);
        double per_gpu = hws_json_at(c, "mem_needed_bytes")->valuedouble;
        double bound = g->mem_bw_gbps * 1e9 / (per_gpu * count * 0.9);
        if (hws_json_at(c, "decode_tokens_per_s")->valuedouble > bound)
            fail_msg("%s x%.0f: decode %.1f tok/s beats one GPU streaming the weights (%.1f)",
                     g->name, count, hws_json_at(c, "decode_tokens_per_s")->valuedouble, bound);
        checked++;
    }
    assert_true(checked > 0);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void bad_usage(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, NULL, "advise", "Llama-3.1-8B", "--buy", "--rent", NULL);
    hws_assert_bad_input(&r, "--rent");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "advise", "Lama-3.1-8B", "--json", NULL);
    hws_assert_bad_input(&r, "unknown model 'Lama-3.1-8B'");
    hws_assert_contains(r.err, "close matches");
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "advise", "Llama-3.1-8B", "--budget", "lots", NULL);
    hws_assert_bad_input(&r, "--budget");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_document),
        cmocka_unit_test(renting_and_text),
        cmocka_unit_test(llamacpp_layer_split),
        cmocka_unit_test(bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
