/* notes.c - the "field: reason" list each probe fills for facts it could not read. */
#include "probe/notes.h"
#include "util/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

void hws_note_add(hws_notes *notes, const char *fmt, ...) {
    if (notes->count >= HWS_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes->text[notes->count], HWS_NOTE_LEN, fmt, ap);
    va_end(ap);
    notes->count++;
}

double hws_note_plausible(hws_notes *notes, const char *field, const char *source, double value,
                          double lo, double hi) {
    if (isnan(value) || (isfinite(value) && value >= lo && value <= hi))
        return value;
    hws_note_add(notes, "%s: %s gives %g, not a possible value", field, source, value);
    return HWS_NA;
}
