/* units.h - the "unknown" convention and quantity formatting, for the library's own files: both
 * are public (hwscope/hwscope.h: HWS_NA, hws_known, HWS_GIB, HWS_GB; hwscope/units.h: the
 * formatters, defined in units.c). */
#ifndef HWSCOPE_UTIL_UNITS_H
#define HWSCOPE_UTIL_UNITS_H

#include "hwscope/hwscope.h"
#include "hwscope/units.h"

#endif
