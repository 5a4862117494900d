/* test_nvml_gone.c - NVML going away under a running monitor (the fake's driver unloads 300 ms
 * after init): every GPU reports why in the sample, the host goes on being read, and the monitor
 * stops cleanly. */
#include "mon_test.h"

#include "hwscope/monitor.h"
#include "util/units.h"

static int setup(void **state) {
    (void)state;
    mon_setup_script(2, "nvml.gone_after_ms = 300\n");
    setenv("HWSCOPE_FAKE_GPUS", mon_file_script, 1);
    setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
    return 0;
}

static void test_nvml_goes_away(void **state) {
    (void)state;
    hws_monitor *m = mon_start(0.05, 2);
    hws_mon_sample *s = hws_mon_sample_new(m);
    int gone = 0;
    for (int i = 0; i < 400 && !gone; i++) {
        mon_sleep_ms(25);
        hws_monitor_snapshot(m, s);
        gone = strstr(s->gpus[0].error, "Driver Not Loaded") != NULL &&
               strstr(s->gpus[1].error, "Driver Not Loaded") != NULL;
    }
    assert_true(gone);
    assert_false(hws_known(s->gpus[0].util_gpu_pct));
    assert_false(s->gpus[0].lost); /* gone is not lost: the GPU may come back with the driver */
    unsigned long long round = hws_monitor_wait_round(m, 0, 5000);
    assert_true(hws_monitor_wait_round(m, round, 5000) > round); /* readers go on */
    hws_monitor_snapshot(m, s);
    assert_true(s->host.read && hws_known(s->host.mem_total_bytes));
    hws_mon_sample_free(s);
    hws_monitor_stop(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nvml_goes_away),
    };
    return cmocka_run_group_tests(tests, setup, mon_teardown_script);
}
