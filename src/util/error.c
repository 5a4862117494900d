/* error.c - the caller's error buffer and the library version strings. */
#include "hwscope/hwscope.h"

#include <stdarg.h>
#include <stdio.h>

#ifndef HWSCOPE_VERSION
#define HWSCOPE_VERSION "0.0.0"
#endif
#ifndef HWSCOPE_COMMIT
#define HWSCOPE_COMMIT "unknown"
#endif

hws_status hws_error_set(hws_error *err, hws_status status, const char *fmt, ...) {
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *hws_version(void) {
    return HWSCOPE_VERSION;
}

const char *hws_build_commit(void) {
    return HWSCOPE_COMMIT;
}
