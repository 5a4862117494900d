/* cgroup.c - cgroup v2 and v1 limits of this process: CPU quota and memory limit.
 *
 * /proc/self/cgroup names the process's group ("0::/user.slice/x" in v2; "4:memory:/x" in v1);
 * its files sit under /sys/fs/cgroup/<group>/ (v2) or /sys/fs/cgroup/<controller>/<group>/ (v1).
 * Inside a container the group path often does not exist in the mounted tree; then the files at
 * the mount root are the container's own. */
#include "probe/cgroup.h"
#include "util/sysfs.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The group path of controller ("" for v2) from /proc/self/cgroup, into out. */
static int group_path(const char *controller, char *out, size_t n) {
    char text[4096];
    if (hws_sys_read("/proc/self/cgroup", text, sizeof text) < 0)
        return -1;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *first = strchr(line, ':');
        char *second = first != NULL ? strchr(first + 1, ':') : NULL;
        if (second == NULL)
            continue;
        *second = '\0';
        const char *ctrls = first + 1;
        int match = controller[0] == '\0' ? ctrls[0] == '\0' : strstr(ctrls, controller) != NULL;
        if (match) {
            snprintf(out, n, "%s", second + 1);
            return 0;
        }
    }
    return -1;
}

/* Reads file of the group (falling back to the mount root) into buf. */
static int read_group_file(const char *controller, const char *file, char *buf, size_t n) {
    char group[1024] = "", path[2048];
    const char *mount = controller[0] == '\0' ? "/sys/fs/cgroup" : NULL;
    char v1mount[64];
    if (mount == NULL) {
        snprintf(v1mount, sizeof v1mount, "/sys/fs/cgroup/%s", controller);
        mount = v1mount;
    }
    if (group_path(controller, group, sizeof group) == 0 && strcmp(group, "/") != 0) {
        snprintf(path, sizeof path, "%s%s/%s", mount, group, file);
        if (hws_sys_read(path, buf, n) >= 0)
            return 0;
    }
    snprintf(path, sizeof path, "%s/%s", mount, file);
    return hws_sys_read(path, buf, n) >= 0 ? 0 : -1;
}

double hws_cgroup_cpu_quota(void) {
    char buf[128];
    if (read_group_file("", "cpu.max", buf, sizeof buf) == 0) {
        double quota, period;
        if (strncmp(buf, "max", 3) == 0)
            return HWS_NA;
        if (sscanf(buf, "%lf %lf", &quota, &period) == 2 && quota > 0 && period > 0)
            return quota / period;
        return HWS_NA;
    }
    char q[64], p[64];
    if (read_group_file("cpu", "cpu.cfs_quota_us", q, sizeof q) == 0 &&
        read_group_file("cpu", "cpu.cfs_period_us", p, sizeof p) == 0) {
        double quota = strtod(q, NULL), period = strtod(p, NULL);
        if (quota > 0 && period > 0)
            return quota / period;
    }
    return HWS_NA;
}

/* v1 reports "no limit" as a huge number near 2^63. */
static double limit_or_na(const char *text) {
    if (strncmp(text, "max", 3) == 0)
        return HWS_NA;
    char *end;
    double v = strtod(text, &end);
    if (end == text || v <= 0 || v >= 4.0e18)
        return HWS_NA;
    return v;
}

double hws_cgroup_mem_limit(void) {
    char buf[128];
    if (read_group_file("", "memory.max", buf, sizeof buf) == 0)
        return limit_or_na(buf);
    if (read_group_file("memory", "memory.limit_in_bytes", buf, sizeof buf) == 0)
        return limit_or_na(buf);
    return HWS_NA;
}

double hws_cgroup_mem_usage(void) {
    char buf[128];
    if (read_group_file("", "memory.current", buf, sizeof buf) == 0 ||
        read_group_file("memory", "memory.usage_in_bytes", buf, sizeof buf) == 0)
        return limit_or_na(buf);
    return HWS_NA;
}
