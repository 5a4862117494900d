/* file.h - reading a whole file into memory, with a size limit. */
#ifndef HWSCOPE_UTIL_FILE_H
#define HWSCOPE_UTIL_FILE_H

#include "hwscope/hwscope.h"

#include <stddef.h>

/* Reads path (a file or a pipe; not a directory) of at most max_bytes into a new NUL-terminated
 * buffer: *text (free it) and its length *len. On failure *text is NULL and err names path:
 * HWS_ERR_INPUT when it cannot be opened (errno is fopen's, so ENOENT can be told apart), is a
 * directory or is larger than max_bytes; HWS_ERR_RUNTIME when the read fails; HWS_ERR_NOMEM. */
hws_status hws_file_read(const char *path, size_t max_bytes, char **text, size_t *len,
                         hws_error *err);

#endif
