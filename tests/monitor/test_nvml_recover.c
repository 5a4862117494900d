/* test_nvml_recover.c - NVML going away and coming back under a running monitor: the fake's driver
 * unloads 300 ms after init and is back at 900 ms (calls then answer UNINITIALIZED until a new
 * nvmlInit). Every GPU reports NVML down with the reason and when it retries, the exporter says
 * NVML is not up, and each reader calls nvmlInit again at its back-off and resumes reading; `log`
 * goes on through it. */
#include "mon_test.h"

#include "hwscope/monitor.h"
#include "monitor/sample_fields.h"
#include "util/units.h"

static int setup(void **state) {
    (void)state;
    mon_setup_script(2, "nvml.gone_after_ms = 300\nnvml.back_after_ms = 900\n");
    setenv("HWSCOPE_FAKE_GPUS", mon_file_script, 1);
    setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
    return 0;
}

/* Polls snapshots (25 ms apart, at most 10 s) until both GPUs are down (want_down) or up again. */
static int wait_for(hws_monitor *m, hws_mon_sample *s, int want_down) {
    for (int i = 0; i < 400; i++) {
        hws_monitor_snapshot(m, s);
        int all = 1;
        for (int g = 0; g < s->ngpus; g++)
            all &= want_down ? s->gpus[g].nvml_down
                             : !s->gpus[g].nvml_down && s->gpus[g].nvml_recoveries > 0;
        if (all)
            return 1;
        mon_sleep_ms(25);
    }
    return 0;
}

static void test_nvml_comes_back(void **state) {
    (void)state;
    hws_monitor *m = mon_start(0.05, 2);
    hws_mon_sample *s = hws_mon_sample_new(m);

    assert_true(wait_for(m, s, 1));
    for (int g = 0; g < 2; g++) {
        hws_assert_contains(s->gpus[g].error, "Driver Not Loaded");
        assert_false(s->gpus[g].lost); /* gone is not lost */
        assert_false(hws_known(s->gpus[g].util_gpu_pct));
        assert_string_equal(s->gpus[g].name, "NVIDIA H100 80GB HBM3"); /* identity kept */
    }
    char *text = mon_prometheus(s, HWS_PROM_DCGM);
    hws_assert_contains(text, "hwscope_nvml_up{Hostname=\"");
    assert_non_null(strstr(strstr(text, "hwscope_nvml_up{"), "} 0\n"));
    free(text);

    assert_true(wait_for(m, s, 0)); /* each reader called nvmlInit again and reads */
    for (int g = 0; g < 2; g++) {
        assert_string_equal(s->gpus[g].error, "");
        assert_true(s->gpus[g].util_gpu_pct == 10 + 7 * g);
        assert_int_equal(s->gpus[g].nvml_recoveries, 1);
    }
    assert_true(s->host.read && hws_known(s->host.mem_total_bytes));
    hws_mon_sample_free(s);
    hws_monitor_stop(m);
}

/* `hwscope log` across the same outage: JSON lines that say NVML is down and why, then lines with
 * readings again; the log never stops. */
static void test_log_across_the_outage(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, mon_env(mon_file_script), "log", "--interval", "0.1", "--count", "40",
                "--format", "jsonl", "--query-gpu", "utilization.gpu", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "\"nvml_down\":true");
    hws_assert_contains(r.out, "Driver Not Loaded; nvmlInit again in");
    char *last = r.out + strlen(r.out) - 1; /* the last line: GPU 1, read again */
    while (last > r.out && last[-1] != '\n')
        last--;
    cJSON *doc = cJSON_Parse(last);
    assert_non_null(doc);
    hws_assert_json_num(doc, "gpu", 1, 0);
    hws_assert_json_num(doc, "util_gpu_pct", 17, 0);
    assert_null(cJSON_GetObjectItem(doc, "error"));
    assert_null(cJSON_GetObjectItem(doc, "nvml_down"));
    cJSON_Delete(doc);
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nvml_comes_back),
        cmocka_unit_test(test_log_across_the_outage),
    };
    return cmocka_run_group_tests(tests, setup, mon_teardown_script);
}
