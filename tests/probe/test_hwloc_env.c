/* test_hwloc_env.c - the CPU probe never touches the environment: hwloc reads a recorded tree
 * only when $HWLOC_FSROOT (the caller's to set) names the sysroot; otherwise the topology is
 * unknown with the reason, not this machine's facts passed off as the tree's. */
#include "hws_test.h"

#include "hwscope/probe.h"
#include "util/sysfs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_topology_follows_fsroot_only(void **state) {
    (void)state;
    char root[4096];
    snprintf(root, sizeof root, "%s", hws_fixture("machines/two-socket"));
    hws_sysroot_set(root);
    unsetenv("HWSCOPE_HWLOC_XML");
    unsetenv("HWLOC_FSROOT");
    hws_cpu_info cpu;
    hws_error err = {{0}};
    assert_int_equal(hws_probe_cpu(&cpu, &err), HWS_OK);
    assert_null(getenv("HWLOC_FSROOT")); /* not set behind the caller's back */
    assert_true(isnan(cpu.sockets));
    bool noted = false;
    for (int i = 0; i < cpu.notes.count; i++)
        noted |= strstr(cpu.notes.text[i], "HWLOC_FSROOT") != NULL;
    assert_true(noted);
    setenv("HWLOC_FSROOT", root, 1);
    assert_int_equal(hws_probe_cpu(&cpu, &err), HWS_OK);
    assert_true(cpu.sockets == 2);
    assert_string_equal(getenv("HWLOC_FSROOT"), root);
    unsetenv("HWLOC_FSROOT");
    hws_sysroot_set(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topology_follows_fsroot_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
