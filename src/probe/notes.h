/* notes.h - probe-private helpers around the "field: reason" notes: a value read from outside
 * (a sysroot file, /proc/cpuinfo) that no hardware could have becomes n/a with its reason. */
#ifndef HWSCOPE_PROBE_NOTES_H
#define HWSCOPE_PROBE_NOTES_H

#include "hwscope/probe.h"

/* Returns value when it is unknown (HWS_NA, left to the caller's own note) or finite within
 * [lo, hi]; otherwise HWS_NA and a note "field: <source> gives <value>, not a possible value"
 * (a negative clock, infinite memory, a CPU count of 2^63). */
double hws_note_plausible(hws_notes *notes, const char *field, const char *source, double value,
                          double lo, double hi);

#endif
