/* sysfs.h - reads of /proc, /sys and other system files under a replaceable root.
 *
 * Every probe reads the machine through these calls, so tests can point them at a recorded
 * tree (HWSCOPE_SYSROOT=tests/fixtures/x86-ci) and inject faults through the ops table. */
#ifndef HWSCOPE_UTIL_SYSFS_H
#define HWSCOPE_UTIL_SYSFS_H

#include "hwscope/hwscope.h"

#include <stddef.h>
#include <sys/types.h>

/* The system calls used, replaceable for fault injection (as sqlite's VFS table). */
typedef struct {
    int (*open)(const char *path, int flags);
    ssize_t (*read)(int fd, void *buf, size_t n);
    int (*close)(int fd);
} hws_sys_ops;

/* Sets the root prefix ("" or NULL: the real machine). Call once before probing. */
void hws_sysroot_set(const char *root);
/* The root in use; defaults to $HWSCOPE_SYSROOT, else "". */
const char *hws_sysroot(void);
/* HWS_ERR_INPUT naming $HWSCOPE_SYSROOT (or the root set) when a root is in use and is not a
 * directory: a recorded tree that is missing is bad input, not a machine without facts. */
hws_status hws_sysroot_check(hws_error *err);
/* Replaces the system calls (NULL restores the real ones). */
void hws_sys_ops_set(const hws_sys_ops *ops);

/* Writes root + path into out; returns out. */
char *hws_sys_path(char *out, size_t n, const char *path);
/* Reads a whole file (at most n-1 bytes), NUL-terminates it and trims trailing whitespace.
 * Returns the length, or -1 with errno set. */
ssize_t hws_sys_read(const char *path, char *buf, size_t n);
/* Reads a file holding one number; returns it, or HWS_NA when unreadable or not a number. */
double hws_sys_read_num(const char *path);
/* Reads the "key: value" line of a file such as /proc/meminfo; returns the value's number
 * (the unit after it is the caller's to apply), or HWS_NA. */
double hws_sys_read_keyed_num(const char *text, const char *key);
/* The value of the first "key: value" line of text (/proc/cpuinfo, /proc/self/status), trimmed,
 * into out; returns out, or NULL with out = "" when no line has that key. */
char *hws_keyed_value(const char *text, const char *key, char *out, size_t n);

#endif
