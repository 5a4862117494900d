/* fuzz_monitor_proc.c - the monitor's /proc readers on arbitrary contents: the input is cut at
 * "\n@@\n" into /proc/stat, /proc/meminfo, /proc/loadavg, /proc/net/dev, /proc/diskstats and
 * /proc/1/{status,cmdline,cgroup} and /proc/self/status (NSpid) of a scratch sysroot; the host
 * reader runs twice (so rates are computed) and a GPU process with PID 1 is joined with /proc. */
#include "monitor/readers.h"
#include "util/sysfs.h"

#include "fuzz_sysroot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const files[] = {"/proc/stat",      "/proc/meminfo",   "/proc/loadavg",
                                    "/proc/net/dev",   "/proc/diskstats", "/proc/1/status",
                                    "/proc/1/cmdline", "/proc/1/cgroup",  "/proc/self/status"};

static char root[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (root[0] == '\0') {
        const char *dirs[] = {"",     "/proc",      "/proc/net",      "/proc/1",
                              "/sys", "/sys/block", "/sys/block/sda", "/proc/self"};
        snprintf(root, sizeof root, "/tmp/hws_fuzz_monitor_%d", (int)getpid());
        fuzz_sysroot_dirs(root, dirs, sizeof dirs / sizeof dirs[0]);
        hws_sysroot_set(root);
    }
    fuzz_sysroot_fill(root, files, sizeof files / sizeof files[0], data, size);
    hws_host_reader *r = hws_host_reader_new();
    hws_mon_host *h = malloc(sizeof *h);
    if (r != NULL && h != NULL) {
        hws_host_reader_read(r, h);
        hws_host_reader_read(r, h);
    }
    free(h);
    hws_host_reader_free(r);
    hws_mon_process p = {.pid = 1};
    hws_mon_process_join(&p, hws_mon_pid_depth());
    return 0;
}
