/* test_width.c - every command's tables fit the terminal: at 80, 100 and 200 columns ($COLUMNS,
 * as off a terminal) report, advise, plan and info with 8 scripted GPUs print no table line
 * wider than that, keep every number whole, and say which columns they left out. */
#include "hws_test.h"
#include "width.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int widths[] = {80, 100, 200};

/* Runs hwscope ARGS (up to 5, NULL-terminated) with the 8-GPU script at each width; checks the
 * fit and that every `whole` string (numbers that must not be cut) is printed. */
static void check(const char *const *args, const char *const *whole) {
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        char columns[32], what[128];
        snprintf(columns, sizeof columns, "COLUMNS=%d", widths[w]);
        snprintf(what, sizeof what, "hwscope %s at %d columns", args[0], widths[w]);
        const char *const *env = hws_fake_gpu_env("h100-8", columns);
        hws_run r;
        hws_run_cli(&r, env, args[0], args[1], args[2], args[3], args[4], NULL);
        if (r.exit_code != 0)
            fail_msg("%s: exit %d: %s", what, r.exit_code, r.err);
        hws_assert_fits(r.out, widths[w], what);
        for (int i = 0; whole[i] != NULL; i++)
            hws_assert_contains(r.out, whole[i]);
        if (widths[w] == 200)
            assert_null(strstr(r.out, "(left out at"));
        hws_run_free(&r);
    }
}

static void test_info_8_gpus(void **state) {
    (void)state;
    /* serials and UUIDs of the script, whole; the derived bandwidth */
    const char *whole[] = {"1654422019870", "1654422019887", "3352 GB/s", "GPU 7", NULL};
    check((const char *[]){"info", NULL, NULL, NULL, NULL}, whole);
}

static void test_report(void **state) {
    (void)state;
    const char *whole[] = {"Llama-3.1-8B", NULL};
    check((const char *[]){"report", "--no-bench", NULL, NULL, NULL}, whole);
}

static void test_advise(void **state) {
    (void)state;
    const char *whole[] = {"Llama-3.1-70B", NULL};
    check((const char *[]){"advise", "Llama-3.1-70B", "--top", "5", "--rent"}, whole);
}

static void test_plan(void **state) {
    (void)state;
    const char *whole[] = {"135.10", "141.11", "68.14", NULL};
    check((const char *[]){"plan", "Llama-3.1-70B", "--gpus", "2x H100 SXM 80GB", NULL}, whole);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_8_gpus),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_advise),
        cmocka_unit_test(test_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
