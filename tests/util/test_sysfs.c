/* test_sysfs.c - root-prefixed reads, number parsing and injected read faults. */
#include "hws_test.h"

#include "util/sysfs.h"
#include "util/units.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/hws_sysfs_XXXXXX";

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    hws_write_file(path, text, strlen(text));
}

static int setup(void **state) {
    (void)state;
    if (mkdtemp(root) == NULL)
        return -1;
    write_file("/proc/meminfo", "MemTotal:       24576000 kB\nMemAvailable:   1000 kB\n"
                                "HugePages_Total:      16\n");
    write_file("/sys/x/num", "4200000\n");
    write_file("/sys/x/text", "not a number\n");
    hws_sysroot_set(root);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    hws_sysroot_set(NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_reads_under_root(void **state) {
    (void)state;
    char buf[256];
    assert_true(hws_sys_read("/proc/meminfo", buf, sizeof buf) > 0);
    assert_true(hws_sys_read_keyed_num(buf, "MemTotal") == 24576000.0);
    assert_true(hws_sys_read_keyed_num(buf, "HugePages_Total") == 16.0);
    assert_false(hws_known(hws_sys_read_keyed_num(buf, "SwapTotal")));
    assert_true(hws_sys_read_num("/sys/x/num") == 4200000.0);
    assert_false(hws_known(hws_sys_read_num("/sys/x/text")));
    assert_false(hws_known(hws_sys_read_num("/sys/x/missing")));
    /* a short buffer truncates, never overflows */
    char tiny[8];
    assert_int_equal(hws_sys_read("/proc/meminfo", tiny, sizeof tiny), 7);
    assert_int_equal(tiny[7], '\0');
}

static void test_keyed_value(void **state) {
    (void)state;
    const char *cpuinfo = "processor\t: 0\ncpu family\t: 26\nmodel\t\t: 2\n"
                          "model name\t: AMD EPYC  \r\nflags\t\t: fma avx2\n";
    char out[64];
    assert_non_null(hws_keyed_value(cpuinfo, "model name", out, sizeof out));
    assert_string_equal(out, "AMD EPYC");
    /* "model" is its own line, not the start of "model name" */
    assert_non_null(hws_keyed_value(cpuinfo, "model", out, sizeof out));
    assert_string_equal(out, "2");
    /* "cpu" is no key here, though "cpu family" starts with it */
    assert_null(hws_keyed_value(cpuinfo, "cpu", out, sizeof out));
    assert_string_equal(out, "");
    assert_true(hws_sys_read_keyed_num(cpuinfo, "cpu family") == 26.0);
    char tiny[4];
    assert_non_null(hws_keyed_value(cpuinfo, "flags", tiny, sizeof tiny));
    assert_string_equal(tiny, "fma");
}

static int fail_open(const char *path, int flags) {
    (void)path;
    (void)flags;
    errno = EACCES;
    return -1;
}

static ssize_t fail_read(int fd, void *buf, size_t n) {
    (void)fd;
    (void)buf;
    (void)n;
    errno = EIO;
    return -1;
}

static void test_injected_faults(void **state) {
    (void)state;
    char buf[64];
    const hws_sys_ops no_open = {fail_open, read, close};
    hws_sys_ops_set(&no_open);
    assert_int_equal(hws_sys_read("/sys/x/num", buf, sizeof buf), -1);
    assert_int_equal(errno, EACCES);
    assert_false(hws_known(hws_sys_read_num("/sys/x/num")));
    hws_sys_ops_set(NULL);
    assert_true(hws_sys_read("/sys/x/num", buf, sizeof buf) > 0);
}

static int open_plain(const char *path, int flags) {
    return open(path, flags);
}

static void test_read_error(void **state) {
    (void)state;
    char buf[64];
    const hws_sys_ops bad_read = {open_plain, fail_read, close};
    hws_sys_ops_set(&bad_read);
    assert_int_equal(hws_sys_read("/sys/x/num", buf, sizeof buf), -1);
    assert_int_equal(errno, EIO);
    hws_sys_ops_set(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_under_root),
        cmocka_unit_test(test_keyed_value),
        cmocka_unit_test(test_injected_faults),
        cmocka_unit_test(test_read_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
