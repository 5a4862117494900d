/* test_table.c - column widths, numeric right-alignment, UTF-8 widths and n/a cells. */
#include "hws_test.h"

#include "report/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render(const hws_table *t) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hws_table_print(t, f);
    fclose(f);
    return text;
}

static void test_alignment(void **state) {
    (void)state;
    hws_table *t = hws_table_new(3, (const char *[]){"GPU", "memory", "SMs"});
    assert_non_null(t);
    hws_table_row(t, (const char *[]){"H100", "79.6 GiB", "132"});
    hws_table_row(t, (const char *[]){"RTX 4090", NULL, "128"});
    hws_table_rowf(t, "%s\t%s\t%d", "L4×2", "22.0 GiB", 58);
    char *text = render(t);
    const char *want = "GPU         memory  SMs\n"
                       "H100      79.6 GiB  132\n"
                       "RTX 4090       n/a  128\n"
                       "L4×2      22.0 GiB   58\n";
    if (strcmp(text, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", text, want);
    assert_string_equal(text, want);
    free(text);
    hws_table_free(t);
}

static void test_many_rows(void **state) {
    (void)state;
    hws_table *t = hws_table_new(1, (const char *[]){"n"});
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hws_table_rowf(t, "%d", i), 0);
    char *text = render(t);
    assert_non_null(strstr(text, "\n999\n"));
    assert_non_null(strstr(text, "\n  0\n"));
    free(text);
    hws_table_free(t);
}

/* Column counts rowf and print cannot hold are refused up front (65 once overran rowf's cells). */
static void test_column_limit(void **state) {
    (void)state;
    const char *headers[65];
    for (int c = 0; c < 65; c++)
        headers[c] = "h";
    assert_null(hws_table_new(65, headers));
    assert_null(hws_table_new(0, headers));
    hws_table *t = hws_table_new(64, headers);
    assert_non_null(t);
    assert_int_equal(hws_table_rowf(t, "a\tb"), 0);
    hws_table_free(t);
}

static char *render_width(const hws_table *t, int width) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hws_table_print_width(t, f, width);
    fclose(f);
    return text;
}

/* Asserts t printed at width is want (printing both when not), then frees t. */
static void assert_renders(hws_table *t, int width, const char *want) {
    char *text = render_width(t, width);
    if (strcmp(text, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", text, want);
    assert_string_equal(text, want);
    free(text);
    hws_table_free(t);
}

/* Explanatory columns wrap first, then go (named in a closing line); numbers stay whole. */
static void test_fit_priority(void **state) {
    (void)state;
    hws_table *t = hws_table_new(4, (const char *[]){"model", "GB", "why", "basis"});
    hws_table_set_priority(t, 2, 1);
    hws_table_set_priority(t, 3, 2);
    hws_table_row(t, (const char *[]){"Llama-3.1-70B", "141.11", "does not fit on one GPU here",
                                      "bf16 weights, 68.45B block params x 16 bits"});
    char *wide = render_width(t, 200);
    assert_non_null(strstr(wide, "does not fit on one GPU here  bf16 weights"));
    assert_null(strstr(wide, "left out"));
    free(wide);
    /* 50 columns: both explanatory columns wrap */
    char *text = render_width(t, 50);
    const char *want = "model              GB  why           basis\n"
                       "Llama-3.1-70B  141.11  does not fit  bf16 weights,\n"
                       "                       on one GPU    68.45B block\n"
                       "                       here          params x 16\n"
                       "                                     bits\n";
    if (strcmp(text, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", text, want);
    assert_string_equal(text, want);
    free(text);
    /* 40 columns: wrapping is not enough, basis (priority 2) goes first */
    text = render_width(t, 40);
    assert_non_null(strstr(text, "(left out at 40 columns: basis)"));
    assert_non_null(strstr(text, "141.11  does not fit on\n"));
    free(text);
    /* 20 columns: both go; the number is never cut even when the row cannot fit */
    text = render_width(t, 20);
    assert_non_null(strstr(text, "141.11"));
    assert_non_null(strstr(text, "left out at 20 columns: why, basis"));
    free(text);
    hws_table_free(t);
}

/* Text columns wrap at spaces; a long word breaks; a run of digits does not. */
static void test_fit_wrap(void **state) {
    (void)state;
    hws_table *t = hws_table_new(3, (const char *[]){"GPU", "serial", "note"});
    hws_table_row(t, (const char *[]){"0", "1654422019870", "clocks held back by the power cap"});
    hws_table_row(t, (const char *[]){"1", "n/a", "ok"});
    assert_renders(t, 34,
                   "GPU         serial  note\n"
                   "  0  1654422019870  clocks held\n"
                   "                    back by the\n"
                   "                    power cap\n"
                   "  1            n/a  ok\n");
}

/* With key columns, the others are printed in blocks beside them. */
static void test_fit_blocks(void **state) {
    (void)state;
    hws_table *t = hws_table_new(4, (const char *[]){"fact", "GPU 0", "GPU 1", "GPU 2"});
    hws_table_set_key_columns(t, 1);
    hws_table_row(t, (const char *[]){"name", "NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3",
                                      "NVIDIA A100 80GB"});
    hws_table_row(t, (const char *[]){"SMs", "132", "132", "108"});
    assert_renders(t, 50,
                   "fact  GPU 0                  GPU 1\n"
                   "name  NVIDIA H100 80GB HBM3  NVIDIA H100 80GB HBM3\n"
                   "SMs   132                    132\n"
                   "\n"
                   "fact  GPU 2\n"
                   "name  NVIDIA A100 80GB\n"
                   "SMs   108\n");
}

/* Off a terminal the width is $COLUMNS, else 100. */
static void test_term_width(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    setenv("COLUMNS", "123", 1);
    assert_int_equal(hws_term_width(f), 123);
    setenv("COLUMNS", "12x", 1);
    assert_int_equal(hws_term_width(f), 100);
    setenv("COLUMNS", "5", 1);
    assert_int_equal(hws_term_width(f), 100);
    unsetenv("COLUMNS");
    assert_int_equal(hws_term_width(f), 100);
    fclose(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_priority), cmocka_unit_test(test_fit_wrap),
        cmocka_unit_test(test_fit_blocks),   cmocka_unit_test(test_term_width),
        cmocka_unit_test(test_alignment),    cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_column_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
