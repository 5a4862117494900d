/* test_top_layout.c - the screen layout of `hwscope top` for 0, 1, 8, 16 and 64 GPUs at sizes from
 * 40x10 to 200x60: the parts stay on screen and never overlap, the process table keeps its
 * rows, and 80x24 shows every GPU up to 16. */
#include "hws_test.h"

#include "monitor/top_layout.h"

static void check(int rows, int cols, int ngpus) {
    hws_top_layout l;
    hws_top_layout_compute(rows, cols, ngpus, &l);
    assert_false(l.too_small);
    int gpu_end = l.gpu_row + l.gpus_shown * l.gpu_rows_each;
    assert_true(l.host_row == 1 && l.gpu_row == 3);
    assert_true(l.gpu_rows_each == 1 || l.gpu_rows_each == 2);
    assert_true(l.gpus_shown <= (ngpus > 0 ? ngpus : 1));
    if (l.more_row >= 0) {
        assert_int_equal(l.more_row, gpu_end);
        assert_true(l.gpus_shown < ngpus);
        gpu_end++;
    } else {
        assert_int_equal(l.gpus_shown, ngpus > 0 ? ngpus : 1);
    }
    if (l.graph_rows > 0) {
        assert_int_equal(l.graph_row, gpu_end);
        assert_true(l.graph_rows >= 4);
        gpu_end += l.graph_rows;
    }
    assert_int_equal(l.proc_row, gpu_end);
    assert_true(l.proc_rows >= 4); /* the header and three processes */
    assert_int_equal(l.proc_row + l.proc_rows, l.status_row);
    assert_int_equal(l.status_row, rows - 1);
    /* "NN name " + two bars + figures fit the width */
    assert_true(18 + 2 * l.bar_width + 1 <= cols);
}

static void test_sizes_and_counts(void **state) {
    (void)state;
    const int sizes[][2] = {{10, 40}, {24, 80}, {30, 100}, {40, 120}, {60, 200}};
    const int counts[] = {0, 1, 2, 8, 16, 64};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
            check(sizes[s][0], sizes[s][1], counts[c]);
}

static void test_80x24(void **state) {
    (void)state;
    hws_top_layout l;
    hws_top_layout_compute(24, 80, 1, &l);
    assert_int_equal(l.gpu_rows_each, 2); /* room for details and a graph */
    assert_true(l.graph_rows > 0);
    hws_top_layout_compute(24, 80, 8, &l);
    assert_int_equal(l.gpus_shown, 8);
    hws_top_layout_compute(24, 80, 16, &l);
    assert_int_equal(l.gpus_shown, 16);
    assert_int_equal(l.gpu_rows_each, 1);
    assert_int_equal(l.more_row, -1);
    hws_top_layout_compute(24, 80, 64, &l);
    assert_true(l.more_row > 0);
    hws_top_layout_compute(9, 80, 1, &l);
    assert_true(l.too_small);
    hws_top_layout_compute(24, 39, 1, &l);
    assert_true(l.too_small);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_counts),
        cmocka_unit_test(test_80x24),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
