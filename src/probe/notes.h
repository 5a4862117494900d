/* notes.h - inside the probes: adding the reason a fact is missing to a record's notes. */
#ifndef HWSCOPE_PROBE_NOTES_H
#define HWSCOPE_PROBE_NOTES_H

#include "hwscope/probe.h"

/* Adds "field: reason" to notes (ignored when full). */
void hws_note_add(hws_notes *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
