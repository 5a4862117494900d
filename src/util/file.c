/* file.c - the one whole-file reader of the library: a file or pipe, size-limited, into memory. */
#include "util/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PIPE_START_BYTES 65536 /* first buffer when the size is not known up front */

/* Reads f to its end into buf (capacity *cap, grown by doubling), stopping once more than
 * max_bytes have come. Returns the byte count, or (size_t)-1 when out of memory. */
static size_t read_all(FILE *f, char **buf, size_t *cap, size_t max_bytes) {
    size_t len = 0;
    for (;;) {
        len += fread(*buf + len, 1, *cap - len, f);
        if (len < *cap || len > max_bytes)
            return len; /* end of file, an error (ferror tells), or too large */
        size_t want = *cap > max_bytes / 2 ? max_bytes + 2 : *cap * 2;
        char *grown = realloc(*buf, want);
        if (grown == NULL)
            return (size_t)-1;
        *buf = grown;
        *cap = want;
    }
}

/* Reads the open file f (path, for messages) into *text; the fstat and size checks first. */
static hws_status read_open(FILE *f, const char *path, size_t max_bytes, char **text, size_t *len,
                            hws_error *err) {
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return hws_error_set(err, HWS_ERR_RUNTIME, "%s: cannot stat: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return hws_error_set(err, HWS_ERR_INPUT, "%s: a directory, not a regular file", path);
    bool regular = S_ISREG(sb.st_mode);
    if (regular && (unsigned long long)sb.st_size > max_bytes)
        return hws_error_set(err, HWS_ERR_INPUT, "%s: larger than %zu bytes", path, max_bytes);
    /* one byte more than a regular file holds, so its end is seen without growing */
    size_t cap = regular ? (size_t)sb.st_size + 1 : PIPE_START_BYTES;
    char *buf = malloc(cap);
    size_t got = buf != NULL ? read_all(f, &buf, &cap, max_bytes) : (size_t)-1;
    if (got == (size_t)-1 || ferror(f) || got > max_bytes) {
        free(buf);
        if (got == (size_t)-1)
            return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", path);
        if (got > max_bytes)
            return hws_error_set(err, HWS_ERR_INPUT, "%s: larger than %zu bytes", path, max_bytes);
        return hws_error_set(err, HWS_ERR_RUNTIME, "%s: read failed", path);
    }
    buf[got] = '\0'; /* read_all stops short of cap unless the file was too large */
    *text = buf;
    *len = got;
    return HWS_OK;
}

hws_status hws_file_read(const char *path, size_t max_bytes, char **text, size_t *len,
                         hws_error *err) {
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        hws_error_set(err, HWS_ERR_INPUT, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return HWS_ERR_INPUT;
    }
    hws_status st = read_open(f, path, max_bytes, text, len, err);
    fclose(f);
    return st;
}
