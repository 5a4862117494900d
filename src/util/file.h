/* file.h - the one way the library opens and reads files it did not write: without blocking,
 * only regular files (and pipes where a whole-file read allows them), with a size bound. */
#ifndef HWSCOPE_UTIL_FILE_H
#define HWSCOPE_UTIL_FILE_H

#include "hwscope/hwscope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long a whole-file read waits for a pipe whose writer sends nothing, milliseconds. */
#define HWS_FILE_PIPE_IDLE_MS 10000

/* Opens path read-only, close-on-exec and non-blocking (a FIFO without a writer opens at once),
 * then fstat's it: a regular file passes (its size in *size, bytes), so does a pipe or FIFO
 * when allow_pipe (*size 0). Anything else (a directory, /dev/zero, a socket) is HWS_ERR_INPUT
 * naming path and what it is. *fd is -1 on failure; errno keeps open's (ENOENT can be told). */
hws_status hws_file_open(const char *path, bool allow_pipe, int *fd, uint64_t *size,
                         hws_error *err);

/* Reads path (a regular file, a /proc or /sys pseudo-file, or a pipe; see hws_file_open) of at
 * most max_bytes into a new NUL-terminated buffer: *text (free it) and its length *len. On
 * failure *text is NULL and err names path: HWS_ERR_INPUT when it cannot be opened, is not a
 * file, is larger than max_bytes or a pipe stays silent for HWS_FILE_PIPE_IDLE_MS;
 * HWS_ERR_RUNTIME when the read fails; HWS_ERR_NOMEM. */
hws_status hws_file_read(const char *path, size_t max_bytes, char **text, size_t *len,
                         hws_error *err);

/* Reads exactly n bytes at offset of the open fd; HWS_ERR_INPUT naming path when the file
 * ends first, HWS_ERR_RUNTIME on a read error. */
hws_status hws_file_pread(int fd, const char *path, void *buf, size_t n, uint64_t offset,
                          hws_error *err);

/* Creates the folder dir and those above it (mkdir -p, mode 0755); HWS_ERR_RUNTIME naming the
 * one that cannot be made. */
hws_status hws_file_make_dirs(const char *dir, hws_error *err);
/* Replaces path at once with len bytes of text: written to a temporary file beside it, then
 * renamed over it, so a reader sees the old file or the new one, never half of one.
 * HWS_ERR_RUNTIME naming path when it cannot be written (the temporary file is removed). */
hws_status hws_file_write_atomic(const char *path, const char *text, size_t len, hws_error *err);

/* Whether path exists as anything at all (a sibling file worth opening and checking). */
bool hws_file_exists(const char *path);

#endif
