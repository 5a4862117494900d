/* test_bench_width.c - `hwscope bench` tables fit 80, 100 and 200 columns: the note, spread and
 * check-error columns wrap or go, every figure stays whole. */
#include "hws_test.h"
#include "width.h"

#include "report/bench.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void record(hws_bench_record *rec, const char *key, double median, const char *cause) {
    memset(rec, 0, sizeof *rec);
    snprintf(rec->key, sizeof rec->key, "%s", key);
    snprintf(rec->suite, sizeof rec->suite, "gpu gemm");
    snprintf(rec->unit, sizeof rec->unit, "TFLOP/s");
    snprintf(rec->cause, sizeof rec->cause, "%s", cause);
    rec->state = HWS_BENCH_OK;
    rec->device = 0;
    rec->nsamples = 1;
    rec->samples[0] = rec->median = rec->min = rec->max = median;
    rec->spread_pct = 1.25;
    rec->datasheet = 989;
    rec->theoretical = 1070.5;
    rec->frac_datasheet = median / 989;
    rec->frac_theoretical = median / 1070.5;
    rec->check_err = 1.5e-3;
    rec->check_tol = 1e-2;
    rec->headline = true;
    rec->verdict = HWS_VERDICT_LOW;
}

static void test_widths(void **state) {
    (void)state;
    hws_bench_record recs[2];
    record(&recs[0], "gpu.gemm.bf16.8192", 612.25,
           "clocks held down (sw power cap, hw thermal slowdown): SM 1410 of 1980 MHz, power "
           "at the 700 W limit");
    record(&recs[1], "gpu.gemm.fp8.8192", 1234.75, "");
    hws_bench_result r;
    memset(&r, 0, sizeof r);
    r.nrecords = 2;
    r.records = recs;
    const int widths[] = {80, 100, 200};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        char cols[16], what[64], *text = NULL;
        size_t len = 0;
        snprintf(cols, sizeof cols, "%d", widths[w]);
        setenv("COLUMNS", cols, 1);
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        hws_bench_print(&r, f);
        fclose(f);
        snprintf(what, sizeof what, "bench at %d columns", widths[w]);
        hws_assert_fits(text, widths[w], what);
        hws_assert_contains(text, "612");
        hws_assert_contains(text, "1235");
        hws_assert_contains(text, "gpu.gemm.bf16.8192");
        if (widths[w] == 200)
            hws_assert_contains(text, "power at the 700 W limit");
        free(text);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_widths)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
