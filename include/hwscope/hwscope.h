/* hwscope.h - common types of the libhwscope public API: status codes, error buffer, version. */
#ifndef HWSCOPE_HWSCOPE_H
#define HWSCOPE_HWSCOPE_H

#include <math.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks what the shared library exports: the declarations of include/hwscope/ and nothing else
 * (the library is built with hidden visibility, so internal helpers stay internal). */
#define HWS_API __attribute__((visibility("default")))

/* Every library call returns one of these; the detail goes into a caller's hws_error. */
typedef enum {
    HWS_OK = 0,
    HWS_ERR_RUNTIME = 1,     /* something failed while running (I/O, driver, GPU lost) */
    HWS_ERR_INPUT = 2,       /* bad input: a file, an argument, a value; the message names it */
    HWS_ERR_UNSUPPORTED = 3, /* the thing asked for does not exist here (no GPU, no CUDA) */
    HWS_ERR_NOMEM = 4
} hws_status;

/* A number that could not be read, measured or derived is HWS_NA (a NaN): test it with
 * hws_known(), print it "n/a", write it as JSON null. */
#define HWS_NA NAN
static inline int hws_known(double x) {
    return !isnan(x);
}

/* Byte units: GB = 1e9 bytes, GiB = 2^30 bytes. */
#define HWS_GIB 1073741824.0
#define HWS_GB  1e9

#define HWS_ERROR_LEN 512

/* A caller-owned error buffer: the library writes what went wrong here, never to a global. */
typedef struct {
    char msg[HWS_ERROR_LEN];
} hws_error;

/* Formats a message into err (if not NULL) and returns status, so error paths read
 * `return hws_error_set(err, HWS_ERR_INPUT, "%s: line %d: ...", path, line);` */
HWS_API hws_status hws_error_set(hws_error *err, hws_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Version of the library ("0.1.0") and the git commit it was built from ("unknown" if none). */
HWS_API const char *hws_version(void);
HWS_API const char *hws_build_commit(void);

#ifdef __cplusplus
}
#endif

#endif
