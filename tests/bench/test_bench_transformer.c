/* test_bench_transformer.c - the transformer benchmark as descriptors of the bench runner (suite
 * "engine"): a CPU record in milliseconds per forward with its samples, and GPU records that
 * are measured or waived with the reason, never failed for a missing GPU. */
#include "hws_test.h"

#include "hwscope/bench.h"

#include <string.h>

static void test_transformer_suite(void **state) {
    (void)state;
    hws_bench_options o = hws_bench_defaults();
    o.quick = true;
    hws_bench_result *r = NULL;
    hws_error err = {""};
    assert_int_equal(hws_bench_run((const char *[]){"engine"}, 1, &o, &r, &err), HWS_OK);
    assert_int_equal(r->nrecords, 5);
    const hws_bench_record *cpu = &r->records[0];
    assert_string_equal(cpu->key, "engine.transformer.cpu.fp32");
    assert_int_equal(cpu->state, HWS_BENCH_OK);
    assert_string_equal(cpu->unit, "ms");
    assert_int_equal(cpu->nsamples, 3);
    assert_true(cpu->median > 0 && cpu->min <= cpu->median && cpu->median <= cpu->max);
    assert_non_null(strstr(cpu->method, "GFLOP"));
    for (int i = 1; i < r->nrecords; i++) {
        const hws_bench_record *g = &r->records[i];
        assert_non_null(strstr(g->key, "engine.transformer.gpu."));
        if (g->state == HWS_BENCH_WAIVED)
            assert_true(g->reason[0] != '\0');
        else
            assert_true(g->state == HWS_BENCH_OK && g->median > 0);
    }
    hws_bench_result_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transformer_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
