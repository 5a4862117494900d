/* process_join.c - what /proc says about a GPU process NVML listed: its owner, command line and
 * the container it runs in (from /proc/<pid>/cgroup).
 *
 * NVML reports host PIDs. Inside a container with its own PID namespace such a PID is usually
 * missing from this /proc (visible = 0; user and command stay unknown) and could even name
 * another process: run with the host's /proc (pid: host, or HWSCOPE_SYSROOT at a host mount) for
 * the join to be right. */
#include "monitor/readers.h"
#include "util/sysfs.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hex run of at least 32 characters that follows one of the runtimes' markers. */
static int container_id(const char *text, char *out, size_t n) {
    static const char *const markers[] = {"docker-", "docker/",     "cri-containerd-", "crio-",
                                          "libpod-", "containerd/", "cri-o/"};
    for (size_t m = 0; m < sizeof markers / sizeof markers[0]; m++) {
        for (const char *p = strstr(text, markers[m]); p != NULL; p = strstr(p + 1, markers[m])) {
            const char *id = p + strlen(markers[m]);
            size_t len = 0;
            while (isxdigit((unsigned char)id[len]))
                len++;
            if (len >= 32) {
                snprintf(out, n, "%.12s", id);
                return 1;
            }
        }
    }
    return 0;
}

/* Kubernetes: ".../kubepods-burstable-pod<uid with _>.slice" or ".../kubepods/besteffort/pod<uid>".
 */
static int pod_uid(const char *text, char *out, size_t n) {
    const char *p = strstr(text, "kubepods");
    p = p != NULL ? strstr(p, "pod") : NULL;
    while (p != NULL && strncmp(p, "pods", 4) == 0)
        p = strstr(p + 4, "pod");
    if (p == NULL)
        return 0;
    char uid[64];
    size_t len = 0;
    for (p += 3; len + 1 < sizeof uid && (isxdigit((unsigned char)*p) || *p == '-' || *p == '_');
         p++)
        uid[len++] = *p == '_' ? '-' : *p;
    uid[len] = '\0';
    if (len < 32)
        return 0;
    snprintf(out, n, "pod:%s", uid);
    return 1;
}

void hws_mon_container_of(const char *cgroup_text, char *out, size_t n) {
    out[0] = '\0';
    if (!container_id(cgroup_text, out, n) && !pod_uid(cgroup_text, out, n))
        out[0] = '\0';
}

static void read_cmdline(hws_mon_process *p, const char *dir) {
    char path[64], text[sizeof p->cmdline];
    snprintf(path, sizeof path, "%s/cmdline", dir);
    ssize_t len = hws_sys_read(path, text, sizeof text);
    for (ssize_t i = 0; i < len; i++)
        if (text[i] == '\0' || !isprint((unsigned char)text[i]))
            text[i] = ' ';
    snprintf(p->cmdline, sizeof p->cmdline, "%s", len > 0 ? text : "");
}

void hws_mon_process_join(hws_mon_process *p) {
    char dir[32], path[64], text[4096], value[64];
    snprintf(dir, sizeof dir, "/proc/%u", p->pid);
    snprintf(path, sizeof path, "%s/status", dir);
    p->visible = 0;
    if (hws_sys_read(path, text, sizeof text) < 0)
        return;
    p->visible = 1;
    if (hws_keyed_value(text, "Uid", value, sizeof value) != NULL) {
        unsigned long uid = strtoul(value, NULL, 10);
        struct passwd pw, *found = NULL;
        char buf[1024];
        if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &found) == 0 && found != NULL)
            snprintf(p->user, sizeof p->user, "%s", pw.pw_name);
        else
            snprintf(p->user, sizeof p->user, "%lu", uid);
    }
    if (p->name[0] == '\0' && hws_keyed_value(text, "Name", value, sizeof value) != NULL)
        snprintf(p->name, sizeof p->name, "%s", value);
    read_cmdline(p, dir);
    snprintf(path, sizeof path, "%s/cgroup", dir);
    if (hws_sys_read(path, text, sizeof text) >= 0)
        hws_mon_container_of(text, p->container, sizeof p->container);
}
