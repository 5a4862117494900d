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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_column_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
