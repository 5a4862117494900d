/* units.h - quantities written the way hwscope prints them: a number with its unit, "n/a" when
 * unknown (HWS_NA). GB = 1e9 bytes, GiB = 2^30 bytes; every formatter says which it used. For
 * any front end (the CLI, a report renderer) that shows hwscope's figures. */
#ifndef HWSCOPE_UNITS_H
#define HWSCOPE_UNITS_H

#include "hwscope/hwscope.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Each writes into buf (size n) and returns buf; an unknown value writes "n/a". */
HWS_API char *hws_fmt_num(char *buf, size_t n, double value, int decimals, const char *unit);
HWS_API char *hws_fmt_gib(char *buf, size_t n, double bytes); /* "79.6 GiB" */
HWS_API char *hws_fmt_gb(char *buf, size_t n, double bytes);  /* "85.5 GB" */
/* B, KiB, MiB or GiB, whichever reads best. */
HWS_API char *hws_fmt_bytes(char *buf, size_t n, double bytes);

#ifdef __cplusplus
}
#endif

#endif
