/* sysfs.c - root-prefixed, fault-injectable reads of system files. */
#include "util/sysfs.h"
#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int real_open(const char *path, int flags) {
    return open(path, flags);
}

static const hws_sys_ops real_ops = {real_open, read, close};
static const hws_sys_ops *ops = &real_ops;
static char sysroot[4096];
static int sysroot_set;
static int sysroot_from_env; /* names the variable in hws_sysroot_check's message */

void hws_sysroot_set(const char *root) {
    snprintf(sysroot, sizeof sysroot, "%s", root != NULL ? root : "");
    sysroot_set = 1;
    sysroot_from_env = 0;
}

const char *hws_sysroot(void) {
    if (!sysroot_set) {
        const char *env = getenv("HWSCOPE_SYSROOT");
        hws_sysroot_set(env);
        sysroot_from_env = env != NULL && env[0] != '\0';
    }
    return sysroot;
}

hws_status hws_sysroot_check(hws_error *err) {
    const char *root = hws_sysroot();
    struct stat sb;
    if (root[0] == '\0')
        return HWS_OK;
    const char *name = sysroot_from_env ? "HWSCOPE_SYSROOT=" : "system root ";
    if (stat(root, &sb) != 0)
        return hws_error_set(err, HWS_ERR_INPUT, "%s%s: %s", name, root, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return hws_error_set(err, HWS_ERR_INPUT, "%s%s: not a directory", name, root);
    return HWS_OK;
}

void hws_sys_ops_set(const hws_sys_ops *new_ops) {
    ops = new_ops != NULL ? new_ops : &real_ops;
}

char *hws_sys_path(char *out, size_t n, const char *path) {
    snprintf(out, n, "%s%s", hws_sysroot(), path);
    return out;
}

ssize_t hws_sys_read(const char *path, char *buf, size_t n) {
    char full[4608];
    size_t len = 0;
    int fd;
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    /* non-blocking, so a FIFO planted in a recorded tree cannot hang the probe; only regular
     * files (which the pseudo-files of /proc and /sys are) are read, and at most n-1 bytes */
    fd = ops->open(hws_sys_path(full, sizeof full, path), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        ops->close(fd);
        errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    while (len + 1 < n) {
        ssize_t got = ops->read(fd, buf + len, n - 1 - len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            ops->close(fd);
            errno = saved;
            return -1;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    ops->close(fd);
    buf[len] = '\0';
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        buf[--len] = '\0';
    return (ssize_t)len;
}

double hws_sys_read_num(const char *path) {
    char buf[128];
    char *end;
    double value;
    if (hws_sys_read(path, buf, sizeof buf) <= 0)
        return HWS_NA;
    errno = 0;
    value = strtod(buf, &end);
    if (end == buf || errno != 0)
        return HWS_NA;
    return value;
}

/* Start of the value of the first line "key<spaces>:<spaces>value" (leading blanks allowed),
 * or NULL. */
static const char *keyed_value_start(const char *text, const char *key) {
    size_t key_len = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, key, key_len) == 0) {
            p += key_len;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == ':') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                return p;
            }
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return NULL;
}

char *hws_keyed_value(const char *text, const char *key, char *out, size_t n) {
    const char *v = keyed_value_start(text, key);
    if (v == NULL) {
        out[0] = '\0';
        return NULL;
    }
    size_t len = strcspn(v, "\n");
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'))
        len--;
    snprintf(out, n, "%.*s", (int)len, v);
    return out;
}

double hws_sys_read_keyed_num(const char *text, const char *key) {
    const char *v = keyed_value_start(text, key);
    char *end;
    if (v == NULL)
        return HWS_NA;
    double value = strtod(v, &end);
    return end == v ? HWS_NA : value;
}
