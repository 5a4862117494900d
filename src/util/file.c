/* file.c - the one opener and whole-file reader of the library for files it did not write:
 * non-blocking open, regular files only (pipes for whole-file reads), size-bounded reads. */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNKNOWN_SIZE_START_BYTES 65536 /* first buffer when the size is not known up front */

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a pipe (FIFO)";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a plain file";
}

hws_status hws_file_open(const char *path, bool allow_pipe, int *fd, uint64_t *size,
                         hws_error *err) {
    *fd = -1;
    *size = 0;
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0) {
        int e = errno;
        hws_error_set(err, HWS_ERR_INPUT, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return HWS_ERR_INPUT;
    }
    struct stat sb;
    if (fstat(f, &sb) != 0) {
        int e = errno;
        close(f);
        return hws_error_set(err, HWS_ERR_RUNTIME, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode) && !(allow_pipe && S_ISFIFO(sb.st_mode))) {
        close(f);
        return hws_error_set(err, HWS_ERR_INPUT, "%s: %s, not a regular file", path,
                             file_kind(sb.st_mode));
    }
    *fd = f;
    *size = S_ISREG(sb.st_mode) && sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    return HWS_OK;
}

/* Reads up to n bytes of fd, waiting (bounded) when a pipe has nothing yet. Returns the count,
 * 0 at the end, -1 with errno on an error (ETIMEDOUT when a pipe stays silent). */
static ssize_t read_some(int fd, char *buf, size_t n) {
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0)
            return got;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, HWS_FILE_PIPE_IDLE_MS);
        if (ready == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (ready < 0 && errno != EINTR)
            return -1;
    }
}

/* Reads fd to its end into *buf (capacity *cap, grown by doubling), stopping once more than
 * max_bytes have come. Returns HWS_OK with *got, or the failure (err not yet written). */
static hws_status read_all(int fd, char **buf, size_t *cap, size_t max_bytes, size_t *got) {
    size_t len = 0;
    for (;;) {
        if (len == *cap) {
            if (len > max_bytes)
                break;
            size_t want = *cap > max_bytes / 2 ? max_bytes + 2 : *cap * 2;
            char *grown = realloc(*buf, want);
            if (grown == NULL)
                return HWS_ERR_NOMEM;
            *buf = grown;
            *cap = want;
        }
        ssize_t n = read_some(fd, *buf + len, *cap - len);
        if (n < 0)
            return HWS_ERR_RUNTIME;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *got = len;
    return HWS_OK;
}

hws_status hws_file_read(const char *path, size_t max_bytes, char **text, size_t *len,
                         hws_error *err) {
    *text = NULL;
    *len = 0;
    int fd;
    uint64_t size;
    hws_status st = hws_file_open(path, true, &fd, &size, err);
    if (st != HWS_OK)
        return st;
    if (size > max_bytes) {
        close(fd);
        return hws_error_set(err, HWS_ERR_INPUT, "%s: larger than %zu bytes", path, max_bytes);
    }
    /* one byte more than a regular file holds, so its end is seen without growing; /proc and
     * /sys files state no size and pipes have none: those grow from a first buffer */
    size_t cap = size > 0 ? (size_t)size + 1 : UNKNOWN_SIZE_START_BYTES;
    char *buf = malloc(cap);
    size_t got = 0;
    st = buf != NULL ? read_all(fd, &buf, &cap, max_bytes, &got) : HWS_ERR_NOMEM;
    int e = errno;
    close(fd);
    if (st == HWS_OK && got > max_bytes)
        st = hws_error_set(err, HWS_ERR_INPUT, "%s: larger than %zu bytes", path, max_bytes);
    else if (st == HWS_ERR_NOMEM)
        hws_error_set(err, st, "%s: out of memory", path);
    else if (st == HWS_ERR_RUNTIME && e == ETIMEDOUT)
        st = hws_error_set(err, HWS_ERR_INPUT, "%s: the pipe sent nothing for %d s", path,
                           HWS_FILE_PIPE_IDLE_MS / 1000);
    else if (st == HWS_ERR_RUNTIME)
        hws_error_set(err, st, "%s: read failed: %s", path, strerror(e));
    if (st != HWS_OK) {
        free(buf);
        return st;
    }
    if (got == cap) { /* room for the terminator */
        char *grown = realloc(buf, got + 1);
        if (grown == NULL) {
            free(buf);
            return hws_error_set(err, HWS_ERR_NOMEM, "%s: out of memory", path);
        }
        buf = grown;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return HWS_OK;
}

hws_status hws_file_pread(int fd, const char *path, void *buf, size_t n, uint64_t offset,
                          hws_error *err) {
    size_t done = 0;
    while (done < n) {
        ssize_t got = pread(fd, (char *)buf + done, n - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return hws_error_set(err, HWS_ERR_RUNTIME, "%s: read failed: %s", path,
                                 strerror(errno));
        if (got == 0)
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "%s: offset %llu: the file ends %zu bytes short", path,
                                 (unsigned long long)(offset + done), n - done);
        done += (size_t)got;
    }
    return HWS_OK;
}

bool hws_file_exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

hws_status hws_file_make_dirs(const char *dir, hws_error *err) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return hws_error_set(err, HWS_ERR_RUNTIME, "%.64s...: folder path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return hws_error_set(err, HWS_ERR_RUNTIME, "%s: cannot create: %s", path,
                                 strerror(errno));
        *p = c;
        if (c == '\0')
            return HWS_OK;
    }
}

hws_status hws_file_write_atomic(const char *path, const char *text, size_t len, hws_error *err) {
    char tmp[4160];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return hws_error_set(err, HWS_ERR_RUNTIME, "%.64s...: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? (size_t)n : 0;
    }
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        e = errno;
    }
    if (ok)
        return HWS_OK;
    unlink(tmp);
    return hws_error_set(err, HWS_ERR_RUNTIME, "%s: cannot write: %s", path, strerror(e));
}
