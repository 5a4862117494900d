/* test_bench_spread.c - the runner's answer to repeats that spread widely: a benchmark is re-run
 * (at most HWS_BENCH_MAX_RUNS runs), the narrowest attempt is kept, and a spread that stays wide
 * is flagged and said. Driven by a scripted descriptor whose runs give chosen samples. */
#include "hws_test.h"
#include "bench/bench_int.h"

#include <stdlib.h>
#include <string.h>

/* The samples each run gives, in order; a run past the script fails. */
typedef struct {
    double samples[4][5];
    int nruns;
    int calls; /* runs made */
} script;

static script *current;

static bool always(hws_bench_ctx *ctx, const hws_bench_desc *d, char *why, size_t n) {
    (void)ctx, (void)d, (void)why, (void)n;
    return true;
}

static hws_status scripted_run(hws_bench_ctx *ctx, const hws_bench_desc *d, hws_error *err) {
    int k = current->calls++;
    if (k >= current->nruns)
        return hws_error_set(err, HWS_ERR_RUNTIME, "scripted failure");
    hws_bench_record *rec = hws_bench_add(ctx, d, NULL);
    assert_non_null(rec);
    rec->nsamples = 5;
    memcpy(rec->samples, current->samples[k], sizeof current->samples[k]);
    hws_bench_stats(rec);
    return HWS_OK;
}

static const hws_bench_desc desc = {"test.spread", "cpu", "scripted", 0, always, scripted_run};

/* Runs the descriptor under s; returns the result (free it). */
static hws_bench_result *run_script(script *s) {
    hws_bench_options opt = hws_bench_defaults();
    hws_bench_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = &opt;
    ctx.res = calloc(1, sizeof *ctx.res);
    assert_non_null(ctx.res);
    current = s;
    hws_bench_run_one(&ctx, &desc);
    return ctx.res;
}

static void test_narrow_runs_once(void **state) {
    (void)state;
    script s = {{{100, 101, 102, 99, 100}}, 1, 0};
    hws_bench_result *r = run_script(&s);
    assert_int_equal(s.calls, 1);
    assert_int_equal(r->nrecords, 1);
    assert_int_equal(r->records[0].runs, 1);
    assert_int_equal(r->records[0].unstable, 0);
    assert_string_equal(r->records[0].cause, "");
    hws_bench_result_free(r);
}

static void test_wide_then_narrow_keeps_narrow(void **state) {
    (void)state;
    script s = {{{60, 100, 130, 90, 100}, {200, 201, 199, 200, 202}}, 2, 0};
    hws_bench_result *r = run_script(&s);
    assert_int_equal(s.calls, 2);
    assert_int_equal(r->nrecords, 1); /* the first attempt's record is replaced, not kept */
    assert_float_equal(r->records[0].median, 200, 1e-9);
    assert_int_equal(r->records[0].runs, 2);
    assert_int_equal(r->records[0].unstable, 0);
    hws_bench_result_free(r);
}

static void test_always_wide_is_flagged(void **state) {
    (void)state;
    script s = {{{50, 100, 150, 100, 100},
                 {40, 100, 160, 100, 100},
                 {60, 100, 140, 100, 100},
                 {100, 100, 100, 100, 100}},
                4,
                0};
    hws_bench_result *r = run_script(&s);
    assert_int_equal(s.calls, HWS_BENCH_MAX_RUNS); /* bounded: the fourth run is never made */
    assert_int_equal(r->nrecords, 1);
    const hws_bench_record *rec = &r->records[0];
    assert_int_equal(rec->runs, HWS_BENCH_MAX_RUNS);
    assert_int_equal(rec->unstable, 1);
    assert_float_equal(rec->spread_pct, 80, 1e-9); /* the narrowest of the three kept */
    hws_assert_contains(rec->cause, "repeats spread 80%");
    hws_assert_contains(rec->cause, "after 3 run(s)");
    hws_bench_result_free(r);
}

static void test_failed_rerun_keeps_first(void **state) {
    (void)state;
    script s = {{{50, 100, 150, 100, 100}}, 1, 0};
    hws_bench_result *r = run_script(&s);
    assert_int_equal(s.calls, 2);
    assert_int_equal(r->nrecords, 1);
    assert_int_equal(r->records[0].state, HWS_BENCH_OK);
    assert_float_equal(r->records[0].median, 100, 1e-9);
    assert_int_equal(r->records[0].unstable, 1);
    hws_bench_result_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_narrow_runs_once),
        cmocka_unit_test(test_wide_then_narrow_keeps_narrow),
        cmocka_unit_test(test_always_wide_is_flagged),
        cmocka_unit_test(test_failed_rerun_keeps_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
