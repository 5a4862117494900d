/* width.h - checks that text output fits a terminal width: every table line within it, and
 * the numbers a test names printed whole. */
#ifndef HWSCOPE_TESTS_WIDTH_H
#define HWSCOPE_TESTS_WIDTH_H

/* Fails the test when a line of text is wider than width display columns and is a table line
 * (two column gaps; prose lines wrap in the terminal). */
void hws_assert_fits(const char *text, int width, const char *what);

#endif
