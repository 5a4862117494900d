/* test_args.c - the shared flag parser: values, ranges, unknown flags and their messages. */
#include "hws_test.h"

#include "cli/args.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    bool json;
    long ctx;
    double budget;
    const char *gpus;
} parsed;

static int parse(parsed *p, int argc, char **argv, const char **pos, int *npos) {
    const hws_opt opts[] = {
        {"json", HWS_OPT_FLAG, &p->json, 0, 0, "JSON"},
        {"ctx", HWS_OPT_INT, &p->ctx, 1, 1048576, "context"},
        {"budget", HWS_OPT_DOUBLE, &p->budget, 0, 1e9, "USD"},
        {"gpus", HWS_OPT_STRING, &p->gpus, 0, 0, "GPUs"},
    };
    return hws_args_parse("plan", "MODEL", argc, argv, opts, 4, pos, 1, npos);
}

static void test_values_and_positional(void **state) {
    (void)state;
    parsed p = {false, 8192, 0, NULL};
    const char *pos[1];
    int npos;
    char *argv[] = {"plan",   "--ctx",  "4096",       "Llama-2-70B", "--budget=2500.5",
                    "--json", "--gpus", "4x RTX 4090"};
    assert_int_equal(parse(&p, 8, argv, pos, &npos), HWS_ARGS_OK);
    assert_int_equal(p.ctx, 4096);
    assert_true(p.json);
    assert_true(p.budget > 2500.4 && p.budget < 2500.6);
    assert_string_equal(p.gpus, "4x RTX 4090");
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "Llama-2-70B");
}

static void test_bad_usage(void **state) {
    (void)state;
    const char *pos[1];
    int npos;
    char *cases[][3] = {
        {"plan", "--ctx", "abc"},  {"plan", "--ctx", "0"}, {"plan", "--nope", "1"},
        {"plan", "--json=1", "x"}, {"plan", "-x", "y"},    {"plan", "--budget", "nan"},
        {"plan", "--ctx", "9e99"}, {"plan", "--gpus", ""}, {"plan", "a", "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed p = {false, 8192, 0, NULL};
        FILE *saved = stderr;
        stderr = fopen("/dev/null", "w");
        int rc = parse(&p, 3, cases[i], pos, &npos);
        fclose(stderr);
        stderr = saved;
        if (rc != HWS_ARGS_BAD)
            fprintf(stderr, "case %zu (%s %s) was accepted\n", i, cases[i][1], cases[i][2]);
        assert_int_equal(rc, HWS_ARGS_BAD);
    }
    char *missing[] = {"plan", "--ctx"};
    parsed p = {false, 8192, 0, NULL};
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    int rc = parse(&p, 2, missing, pos, &npos);
    fclose(stderr);
    stderr = saved;
    assert_int_equal(rc, HWS_ARGS_BAD);
}

static void test_double_dash_and_help(void **state) {
    (void)state;
    const char *pos[1];
    int npos;
    parsed p = {false, 8192, 0, NULL};
    char *argv[] = {"plan", "--", "--json"};
    assert_int_equal(parse(&p, 3, argv, pos, &npos), HWS_ARGS_OK);
    assert_false(p.json);
    assert_string_equal(pos[0], "--json");
    char *help[] = {"plan", "--help"};
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    int rc = parse(&p, 2, help, pos, &npos);
    fclose(stdout);
    stdout = saved;
    assert_int_equal(rc, HWS_ARGS_HELP);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_positional),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_double_dash_and_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
