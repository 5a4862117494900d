/* process_join.c - what /proc says about a GPU process NVML listed: its owner, command line, the
 * container it runs in (from /proc/<pid>/cgroup) and its PID as hwscope's namespace sees it.
 *
 * NVML reports host PIDs. The /proc read (under the sysroot) names each process by its PID in the
 * namespace of that /proc, and its NSpid line lists the PIDs from that namespace inwards, so:
 *  - hwscope on the host, or in a container with the host's /proc (HWSCOPE_SYSROOT at a host
 *    mount): /proc/<host PID> is the process; NSpid's entry at hwscope's depth (the entries of
 *    /proc/self/status's NSpid, less one) is its PID here when it shares hwscope's namespace (the
 *    ns/pid links agree, where they can be read), and NSpid's last entry its PID in its container;
 *  - a process of another namespace, or one /proc does not show (a container with its own /proc
 *    cannot see host PIDs): visible = 0, kept with its host PID, never dropped. */
#include "monitor/readers.h"
#include "util/sysfs.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSPID_MAX 32 /* the kernel nests PID namespaces 32 deep at most */

/* The PIDs of status's NSpid line, outermost first, into out; how many (0: no such line, or one
 * that is not all PIDs). */
static int nspids(const char *status, unsigned int *out, int max) {
    char value[NSPID_MAX * 12];
    int n = 0;
    if (hws_keyed_value(status, "NSpid", value, sizeof value) == NULL)
        return 0;
    for (const char *p = value; *p != '\0' && n < max;) {
        char *end = NULL;
        if (!isdigit((unsigned char)*p))
            return 0;
        unsigned long pid = strtoul(p, &end, 10);
        if (pid == 0 || pid > 0x7fffffffUL)
            return 0;
        out[n++] = (unsigned int)pid;
        p = end + strspn(end, " \t");
    }
    return n;
}

int hws_mon_pid_depth(void) {
    char text[4096];
    unsigned int ids[NSPID_MAX];
    if (hws_sys_read("/proc/self/status", text, sizeof text) < 0)
        return 0;
    int n = nspids(text, ids, NSPID_MAX);
    return n > 1 ? n - 1 : 0;
}

/* 0 when /proc/<pid>/ns/pid and /proc/self/ns/pid both read and differ (another namespace). */
static int same_namespace(const char *dir) {
    char path[64], mine[256], theirs[256], full[1024];
    snprintf(path, sizeof path, "%s/ns/pid", dir);
    ssize_t a = readlink(hws_sys_path(full, sizeof full, path), theirs, sizeof theirs - 1);
    ssize_t b =
        readlink(hws_sys_path(full, sizeof full, "/proc/self/ns/pid"), mine, sizeof mine - 1);
    if (a <= 0 || b <= 0)
        return 1; /* unreadable (another user's process): NSpid alone decides */
    return a == b && memcmp(mine, theirs, (size_t)a) == 0;
}

/* visible, local_pid and ns_pid of p from its status text. */
static void map_pid(hws_mon_process *p, const char *dir, const char *status, int depth) {
    unsigned int ids[NSPID_MAX];
    int n = nspids(status, ids, NSPID_MAX);
    if (n == 0) { /* a kernel before 4.1 has no NSpid: the PID is this namespace's */
        p->visible = depth == 0;
        p->local_pid = depth == 0 ? p->pid : 0;
        return;
    }
    p->ns_pid = ids[n - 1];
    if (n > depth && (depth == 0 || same_namespace(dir))) {
        p->visible = 1;
        p->local_pid = ids[depth];
    }
}

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
    while (len > 0 && text[len - 1] == ' ') /* the NUL that ends the last argument */
        text[--len] = '\0';
    snprintf(p->cmdline, sizeof p->cmdline, "%s", len > 0 ? text : "");
}

void hws_mon_process_join(hws_mon_process *p, int depth) {
    char dir[32], path[64], text[4096], value[64];
    snprintf(dir, sizeof dir, "/proc/%u", p->pid);
    snprintf(path, sizeof path, "%s/status", dir);
    p->visible = 0;
    p->local_pid = p->ns_pid = 0;
    if (hws_sys_read(path, text, sizeof text) < 0)
        return;
    map_pid(p, dir, text, depth);
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
