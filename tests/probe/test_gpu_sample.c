/* test_gpu_sample.c - hws_gpu_sample_read against the fake NVML: clocks, power, temperature and
 * the clocks-event (throttle) reasons in words; a lost GPU is a runtime error, not a crash. */
#include "hws_test.h"

#include "hwscope/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state) {
    (void)state;
    static char script[4096];
    snprintf(script, sizeof script, "%s/gpus/throttled.txt", getenv("HWSCOPE_FIXTURES"));
    setenv("HWSCOPE_FAKE_GPUS", script, 1);
    setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
    return 0;
}

static void test_throttled_gpu(void **state) {
    (void)state;
    hws_gpu_sample s;
    hws_error err = {""};
    assert_int_equal(hws_gpu_sample_read(0, &s, &err), HWS_OK);
    assert_true(s.sm_clock_mhz == 1410);
    assert_true(s.mem_clock_mhz == 2619);
    assert_true(s.power_w > 312.44 && s.power_w < 312.46);
    assert_true(s.temperature_c == 41);
    assert_true(s.clock_event_reasons == 0x44);
    assert_string_equal(s.clock_event_text, "sw power cap, hw thermal slowdown");
}

static void test_lost_and_missing_gpu(void **state) {
    (void)state;
    hws_gpu_sample s;
    hws_error err = {""};
    assert_int_equal(hws_gpu_sample_read(1, &s, &err), HWS_ERR_RUNTIME);
    hws_assert_contains(err.msg, "GPU 1");
    hws_assert_contains(err.msg, "lost");
    assert_int_equal(hws_gpu_sample_read(7, &s, &err), HWS_ERR_RUNTIME);
    hws_assert_contains(err.msg, "GPU 7");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttled_gpu),
        cmocka_unit_test(test_lost_and_missing_gpu),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
