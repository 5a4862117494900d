/* notes.h - inside the probes: adding the reason a fact is missing to a record's notes, and
 * turning a value read from outside (a sysroot file, /proc/cpuinfo) that no hardware could have
 * into n/a with its reason. */
#ifndef HWSCOPE_PROBE_NOTES_H
#define HWSCOPE_PROBE_NOTES_H

#include "hwscope/probe.h"

/* Adds "field: reason" to notes (ignored when full). */
void hws_note_add(hws_notes *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns value when it is unknown (HWS_NA, left to the caller's own note) or finite within
 * [lo, hi]; otherwise HWS_NA and a note "field: <source> gives <value>, not a possible value"
 * (a negative clock, infinite memory, a CPU count of 2^63). */
double hws_note_plausible(hws_notes *notes, const char *field, const char *source, double value,
                          double lo, double hi);

#endif
