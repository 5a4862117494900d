/* fuzz_procfs.c - the CPU and memory probes on arbitrary /proc and /sys contents: the input is
 * cut at "\n@@\n" into /proc/cpuinfo, /proc/meminfo, /proc/self/cgroup, /proc/self/status,
 * /sys/fs/cgroup/cpu.max, cpu0's cpufreq cpuinfo_max_freq and base_frequency, and the cgroup's
 * memory.max and memory.current of a scratch sysroot, then both probes run over it; no fact
 * they return may be infinite or negative (impossible values are n/a with a note). The topology
 * comes from a one-core hwloc XML, so each run spends its time in our parsers, not in hwloc's. */
#include "hwscope/probe.h"
#include "util/sysfs.h"

#include "fuzz_sysroot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const files[] = {"/proc/cpuinfo",
                                    "/proc/meminfo",
                                    "/proc/self/cgroup",
                                    "/proc/self/status",
                                    "/sys/fs/cgroup/cpu.max",
                                    "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
                                    "/sys/devices/system/cpu/cpu0/cpufreq/base_frequency",
                                    "/sys/fs/cgroup/memory.max",
                                    "/sys/fs/cgroup/memory.current"};

static char root[64];

/* lstopo --input "pack:1 core:1 pu:1" --of xml */
static const char topology_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
    "<topology version=\"2.0\">\n"
    "  <object type=\"Machine\" os_index=\"0\" cpuset=\"0x00000001\" "
    "complete_cpuset=\"0x00000001\" allowed_cpuset=\"0x00000001\" nodeset=\"0x00000001\" "
    "complete_nodeset=\"0x00000001\" allowed_nodeset=\"0x00000001\" gp_index=\"1\">\n"
    "    <info name=\"Backend\" value=\"Synthetic\"/>\n"
    "    <info name=\"SyntheticDescription\" value=\"pack:1 core:1 pu:1\"/>\n"
    "    <object type=\"Package\" os_index=\"0\" cpuset=\"0x00000001\" "
    "complete_cpuset=\"0x00000001\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" "
    "gp_index=\"4\">\n"
    "      <object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x00000001\" "
    "complete_cpuset=\"0x00000001\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" "
    "gp_index=\"5\" local_memory=\"1073741824\">\n"
    "        <page_type size=\"4096\" count=\"262144\"/>\n"
    "      </object>\n"
    "      <object type=\"Core\" os_index=\"0\" cpuset=\"0x00000001\" "
    "complete_cpuset=\"0x00000001\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" "
    "gp_index=\"3\">\n"
    "        <object type=\"PU\" os_index=\"0\" cpuset=\"0x00000001\" "
    "complete_cpuset=\"0x00000001\" nodeset=\"0x00000001\" complete_nodeset=\"0x00000001\" "
    "gp_index=\"2\"/>\n"
    "      </object>\n"
    "    </object>\n"
    "  </object>\n"
    "  <support name=\"discovery.pu\"/>\n"
    "  <support name=\"discovery.numa\"/>\n"
    "  <support name=\"discovery.numa_memory\"/>\n"
    "  <support name=\"custom.exported_support\"/>\n"
    "</topology>\n";

static void make_dirs(void) {
    const char *dirs[] = {"",
                          "/proc",
                          "/proc/self",
                          "/sys",
                          "/sys/fs",
                          "/sys/fs/cgroup",
                          "/sys/devices",
                          "/sys/devices/system",
                          "/sys/devices/system/cpu",
                          "/sys/devices/system/cpu/cpu0",
                          "/sys/devices/system/cpu/cpu0/cpufreq"};
    fuzz_sysroot_dirs(root, dirs, sizeof dirs / sizeof dirs[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (root[0] == '\0') {
        snprintf(root, sizeof root, "/tmp/hws_fuzz_procfs_%d", (int)getpid());
        make_dirs();
        hws_sysroot_set(root);
        fuzz_sysroot_write(root, "/topology.xml", (const uint8_t *)topology_xml,
                           sizeof topology_xml - 1);
        char xml[96];
        snprintf(xml, sizeof xml, "%s/topology.xml", root);
        setenv("HWSCOPE_HWLOC_XML", xml, 1);
    }
    fuzz_sysroot_fill(root, files, sizeof files / sizeof files[0], data, size);
    hws_cpu_info *cpu = malloc(sizeof *cpu);
    hws_mem_info *mem = malloc(sizeof *mem);
    hws_error err;
    if (cpu != NULL && hws_probe_cpu(cpu, &err) == HWS_OK) {
        double facts[] = {cpu->max_mhz, cpu->base_mhz, cpu->cur_mhz, cpu->usable_cpus,
                          cpu->cgroup_cpu_quota};
        for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
            if (!isnan(facts[i]) && !(isfinite(facts[i]) && facts[i] >= 0))
                abort();
    }
    if (mem != NULL && hws_probe_mem(mem, &err) == HWS_OK) {
        double facts[] = {mem->total_bytes, mem->available_bytes, mem->swap_total_bytes,
                          mem->cgroup_limit_bytes, mem->cgroup_usage_bytes};
        for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++)
            if (!isnan(facts[i]) && !(isfinite(facts[i]) && facts[i] >= 0))
                abort();
    }
    free(cpu);
    free(mem);
    return 0;
}
