/* units.h - formatting of quantities with their unit, and the "unknown" convention.
 *
 * A numeric fact that could not be read is stored as HWS_NA (a NaN) and printed "n/a".
 * GB = 1e9 bytes, GiB = 2^30 bytes; every formatter says which it used. */
#ifndef HWSCOPE_UTIL_UNITS_H
#define HWSCOPE_UTIL_UNITS_H

#include "hwscope/hwscope.h" /* HWS_NA, hws_known, HWS_GIB, HWS_GB */

#include <stddef.h>

/* Each writes into buf (size n) and returns buf; an unknown value writes "n/a". */
char *hws_fmt_num(char *buf, size_t n, double value, int decimals, const char *unit);
char *hws_fmt_gib(char *buf, size_t n, double bytes); /* "79.6 GiB" */
char *hws_fmt_gb(char *buf, size_t n, double bytes);  /* "85.5 GB" */
char *hws_fmt_bytes(char *buf, size_t n,
                    double bytes); /* B, KiB, MiB or GiB, whichever reads best */

#endif
