/* ceilings.h - the ceilings file parsed from memory, for the loader and the fuzzer. */
#ifndef HWSCOPE_PLAN_CEILINGS_H
#define HWSCOPE_PLAN_CEILINGS_H

#include "hwscope/plan.h"

#include <stddef.h>

/* Parses the text of a ceilings file (len bytes, need not be NUL-terminated) named path in
 * messages, as hws_ceilings_set_load does after reading it. */
hws_status hws_ceilings_set_parse(const char *text, size_t len, const char *path,
                                  hws_ceilings_set **out, hws_error *err);

#endif
