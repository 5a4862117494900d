/* test_impossible_values.c - values in /proc and /sys that no machine has (a negative or
 * infinite clock, infinite memory, a CPU list of 2^63 CPUs, a CPU quota of 1e308) become n/a,
 * each with a note saying what the file gave; a recorded tree with sane values keeps them. */
#include "hws_test.h"

#include "hwscope/probe.h"
#include "util/sysfs.h"
#include "util/units.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char root[] = "/tmp/hws_impossible_XXXXXX";

static void put(const char *rel, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s%s", root, rel);
    hws_write_file(path, text, strlen(text));
}

static void mkdirs(const char *rel) {
    char path[256];
    snprintf(path, sizeof path, "%s%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    mkdir(path, 0700);
}

/* A tree whose values are the ones given. */
static void tree(const char *max_khz, const char *mem_total_kb, const char *cpus,
                 const char *cpu_max, const char *cur_mhz) {
    char text[512];
    mkdirs("/proc/self");
    mkdirs("/sys/devices/system/cpu/cpu0/cpufreq");
    mkdirs("/sys/fs/cgroup");
    snprintf(text, sizeof text,
             "processor : 0\nvendor_id : GenuineIntel\nmodel name : Xeon\n"
             "cpu family : 6\ncpu MHz : %s\nflags : fpu avx2 fma\n",
             cur_mhz);
    put("/proc/cpuinfo", text);
    snprintf(text, sizeof text, "MemTotal: %s kB\nMemAvailable: 1000 kB\n", mem_total_kb);
    put("/proc/meminfo", text);
    snprintf(text, sizeof text, "Name: hwscope\nCpus_allowed_list: %s\n", cpus);
    put("/proc/self/status", text);
    put("/proc/self/cgroup", "0::/\n");
    put("/sys/fs/cgroup/cpu.max", cpu_max);
    put("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", max_khz);
}

static int setup(void **state) {
    (void)state;
    if (mkdtemp(root) == NULL)
        return -1;
    hws_sysroot_set(root);
    return setenv("HWSCOPE_HWLOC_XML", hws_fixture("machines/x86-ci/topology.xml"), 1);
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    hws_sysroot_set(NULL);
    return system(cmd) == 0 ? 0 : -1;
}

static bool has_note(const hws_notes *notes, const char *field, const char *text) {
    for (int i = 0; i < notes->count; i++)
        if (strncmp(notes->text[i], field, strlen(field)) == 0 && strstr(notes->text[i], text))
            return true;
    return false;
}

static void test_impossible(void **state) {
    (void)state;
    const char *clocks[] = {"-2000", "inf", "1e300"};
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        tree(clocks[i], "inf", "0-9223372036854775806", "1e308 1e-300\n", "-5");
        hws_cpu_info cpu;
        hws_mem_info mem;
        hws_error err = {""};
        assert_int_equal(hws_probe_cpu(&cpu, &err), HWS_OK);
        assert_false(hws_known(cpu.max_mhz));
        assert_true(has_note(&cpu.notes, "max_mhz", "not a possible value"));
        assert_false(hws_known(cpu.cur_mhz));
        assert_true(has_note(&cpu.notes, "cur_mhz", "/proc/cpuinfo gives -5"));
        assert_false(hws_known(cpu.cgroup_cpu_quota));
        assert_true(has_note(&cpu.notes, "cgroup_cpu_quota", "not a possible value"));
        /* the CPU list of 2^63 CPUs is no count: the topology's threads stand */
        assert_true(hws_known(cpu.usable_cpus) && cpu.usable_cpus >= 1 &&
                    cpu.usable_cpus <= cpu.threads);
        assert_int_equal(hws_probe_mem(&mem, &err), HWS_OK);
        assert_false(hws_known(mem.total_bytes));
        assert_true(has_note(&mem.notes, "total_bytes", "/proc/meminfo gives inf"));
        assert_float_equal(mem.available_bytes, 1000 * 1024.0, 0);
    }
}

static void test_sane_values_kept(void **state) {
    (void)state;
    tree("3500000", "16000000", "0-3", "200000 100000\n", "2100.5");
    hws_cpu_info cpu;
    hws_mem_info mem;
    hws_error err = {""};
    assert_int_equal(hws_probe_cpu(&cpu, &err), HWS_OK);
    assert_float_equal(cpu.max_mhz, 3500, 1e-9);
    assert_float_equal(cpu.cur_mhz, 2100.5, 1e-9);
    assert_float_equal(cpu.cgroup_cpu_quota, 2, 1e-9);
    assert_int_equal(hws_probe_mem(&mem, &err), HWS_OK);
    assert_float_equal(mem.total_bytes, 16000000 * 1024.0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_impossible),
        cmocka_unit_test(test_sane_values_kept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
