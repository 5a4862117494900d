/* table.h - aligned text tables for human output (stdout).
 *
 * Cells are copied in; a column whose cells all look numeric is right-aligned. Example:
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
void hws_table_print(const hws_table *t, FILE *out);
void hws_table_free(hws_table *t);

/* Prints one formatted line (a newline is added) made safe for a terminal like table cells:
 * no control bytes or broken UTF-8 from names and paths reach the screen. */
void hws_print_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A section heading: "== title ==" style used between tables. */
void hws_print_heading(FILE *out, const char *title);

#endif
