/* table.h - aligned text tables for human output (stdout), fitted to the terminal's width.
 *
 * Cells are copied in; a column whose cells all look numeric is right-aligned and is never cut
 * or wrapped. When a table is wider than the terminal, it is fitted in this order: explanatory
 * columns (priority > 0) wrap at spaces, then they are left out, highest priority first (a
 * closing line names them); then the other text columns and the headers wrap; then, when the
 * table has key columns, the other columns are printed in blocks beside the key columns. A
 * table that still does not fit is printed whole: a number is never cut. Example:
 *   hws_table *t = hws_table_new(3, (const char *[]){"GPU", "memory", "SMs"});
 *   hws_table_row(t, (const char *[]){"H100", "79.6 GiB", "132"});
 *   hws_table_print(t, stdout); hws_table_free(t); */
#ifndef HWSCOPE_REPORT_TABLE_H
#define HWSCOPE_REPORT_TABLE_H

#include <stdio.h>

typedef struct hws_table hws_table;

/* A table of ncols (1..64) columns; NULL when out of memory or ncols is out of range. */
hws_table *hws_table_new(int ncols, const char *const *headers);
/* Adds a row of ncols cells (NULL cells print as "n/a"). Returns 0, or -1 when out of memory. */
int hws_table_row(hws_table *t, const char *const *cells);
/* Adds a row whose cells come from one format: cells separated by '\t'. */
int hws_table_rowf(hws_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks column col as explanatory: priority 1.. (higher is left out first); 0 (the default):
 * kept. */
void hws_table_set_priority(hws_table *t, int col, int priority);
/* The first n columns name the row (a fact, a GPU): repeated in each block when the other
 * columns are split to fit. */
void hws_table_set_key_columns(hws_table *t, int n);
/* Prints fitted to hws_term_width(out). */
void hws_table_print(const hws_table *t, FILE *out);
/* Prints fitted to width columns (<= 0: no limit). */
void hws_table_print_width(const hws_table *t, FILE *out, int width);
/* The width to fit output on out to: the terminal's (TIOCGWINSZ) when out is a terminal, else
 * $COLUMNS when it is a number in 20..1000, else 100. */
int hws_term_width(FILE *out);
void hws_table_free(hws_table *t);

/* Prints one formatted line (a newline is added) made safe for a terminal like table cells:
 * no control bytes or broken UTF-8 from names and paths reach the screen. */
void hws_print_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A section heading: "== title ==" style used between tables. */
void hws_print_heading(FILE *out, const char *title);

#endif
