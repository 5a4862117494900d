/* test_pidns.c - GPU processes seen from another PID namespace, against a recorded /proc
 * (tests/fixtures/monitor/pidns: hwscope is PID 23 of a container, 5000 on the host, reading the
 * host's /proc): NVML's host PIDs are mapped through NSpid to the PIDs of hwscope's namespace,
 * each process's container named; a process of another namespace or one /proc does not show is
 * kept with its host PID and marked not visible, never dropped. */
#include "mon_test.h"

#include "hwscope/monitor.h"
#include "monitor/readers.h"
#include "monitor/sample_fields.h"
#include "util/sysfs.h"

static char root[1024];

static int setup(void **state) {
    (void)state;
    snprintf(root, sizeof root, "%s/monitor/pidns", getenv("HWSCOPE_FIXTURES"));
    hws_sysroot_set(root);
    mon_setup_script(1, "gpu0.procs = \"4242:python3:1073741824, 4243:Xorg:1048576, "
                        "9999:ghost:5\"\n");
    setenv("HWSCOPE_FAKE_GPUS", mon_file_script, 1);
    setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
    return 0;
}

static hws_mon_process joined(unsigned int pid, int depth) {
    hws_mon_process p = {.pid = pid};
    hws_mon_process_join(&p, depth);
    assert_int_equal(p.pid, pid); /* the host PID is kept as NVML gave it */
    return p;
}

static void test_from_a_container(void **state) {
    (void)state;
    int depth = hws_mon_pid_depth();
    assert_int_equal(depth, 1);
    hws_mon_process p = joined(4242, depth); /* in hwscope's container */
    assert_true(p.visible);
    assert_int_equal(p.local_pid, 17);
    assert_int_equal(p.ns_pid, 17);
    assert_string_equal(p.container, "4f2a9c1b7e3d");
    assert_string_equal(p.cmdline, "python3 train.py --bf16");
    assert_string_equal(p.user, "root");
    p = joined(4243, depth); /* a host process: facts read, but no PID here */
    assert_false(p.visible);
    assert_int_equal(p.local_pid, 0);
    assert_int_equal(p.ns_pid, 4243);
    assert_string_equal(p.name, "Xorg");
    assert_string_equal(p.container, "");
    p = joined(4244, depth); /* another container (its ns/pid differs): not ours to show */
    assert_false(p.visible);
    assert_int_equal(p.ns_pid, 9);
    assert_string_equal(p.container, "aa11bb22cc33"); /* the container id, before the pod */
    p = joined(4245, depth); /* no NSpid (a kernel before 4.1): cannot be placed */
    assert_false(p.visible);
    p = joined(9999, depth); /* not in /proc at all */
    assert_false(p.visible);
    assert_string_equal(p.user, "");
}

static void test_from_the_host(void **state) {
    (void)state;
    hws_mon_process p = joined(4242, 0);
    assert_true(p.visible);
    assert_int_equal(p.local_pid, 4242);
    assert_int_equal(p.ns_pid, 17); /* the PID its container sees */
    p = joined(4244, 0);
    assert_true(p.visible && p.local_pid == 4244 && p.ns_pid == 9);
    p = joined(4245, 0);
    assert_true(p.visible && p.local_pid == 4245);
    p = joined(9999, 0);
    assert_false(p.visible);
}

static void test_through_the_monitor(void **state) {
    (void)state;
    hws_monitor *m = mon_start(0.05, 1);
    hws_mon_sample *s = hws_mon_sample_new(m);
    hws_monitor_snapshot(m, s);
    const hws_mon_gpu *g = &s->gpus[0];
    assert_int_equal(g->nprocs, 3); /* none dropped */
    assert_true(g->procs[0].pid == 4242 && g->procs[0].visible && g->procs[0].local_pid == 17);
    assert_true(g->procs[1].pid == 4243 && !g->procs[1].visible);
    assert_true(g->procs[2].pid == 9999 && !g->procs[2].visible);
    assert_string_equal(g->procs[2].name, "ghost"); /* NVML's name for it */
    char *text = mon_prometheus(s, HWS_PROM_DCGM);
    hws_assert_contains(text, "pid=\"9999\",command=\"ghost\"");
    hws_assert_contains(text, "pid=\"4242\",command=\"python3\",container=\"4f2a9c1b7e3d\"");
    free(text);
    hws_mon_sample_free(s);
    hws_monitor_stop(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_a_container),
        cmocka_unit_test(test_from_the_host),
        cmocka_unit_test(test_through_the_monitor),
    };
    return cmocka_run_group_tests(tests, setup, mon_teardown_script);
}
