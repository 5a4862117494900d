/* test_sampler.c - the monitor library against the fake NVML: readings equal the script, a field
 * NVML does not support is n/a with its reason, a GPU lost mid-run is reported while the others
 * go on, the host is read; the container parser; the field table's renderings. */
#include "mon_test.h"

#include "hwscope/monitor.h"
#include "monitor/readers.h"
#include "monitor/sample_fields.h"
#include "util/units.h"

static int setup(void **state) {
    (void)state;
    /* GPU 1 has no fan, no utilisation counters; GPU 2 falls off the bus 400 ms after init */
    const char *script = mon_script(3, "gpu1.util_gpu = NVML_ERROR_NOT_SUPPORTED\n"
                                       "gpu1.fan_pct = NVML_ERROR_NOT_SUPPORTED\n"
                                       "gpu0.fan_pct = 35\n"
                                       "gpu2.lost_after_ms = 400\n");
    static char path[64];
    snprintf(path, sizeof path, "%s", script);
    setenv("HWSCOPE_FAKE_GPUS", path, 1);
    setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
    *state = path;
    return 0;
}

static int teardown(void **state) {
    unlink(*state);
    return 0;
}

static void test_readings_and_lost_gpu(void **state) {
    (void)state;
    hws_monitor *m = NULL;
    hws_error err = {""};
    assert_int_equal(hws_monitor_start(&(hws_monitor_options){.interval_s = 0.05}, &m, &err),
                     HWS_OK);
    assert_int_equal(hws_monitor_gpu_count(m), 3);
    assert_true(hws_monitor_wait_ready(m, 5000));
    hws_mon_sample *s = hws_mon_sample_new(m);
    hws_monitor_snapshot(m, s);
    assert_string_equal(s->nvml_error, "");
    assert_int_equal(s->ngpus, 3);
    const hws_mon_gpu *g0 = &s->gpus[0];
    assert_string_equal(g0->name, "NVIDIA H100 80GB HBM3");
    assert_string_equal(g0->pci_bus_id, "00000000:18:00.0");
    assert_true(g0->util_gpu_pct == 10 && g0->util_mem_pct == 5);
    assert_true(g0->mem_used_bytes == 1073741824.0);
    assert_true(g0->power_w > 99.99 && g0->power_w < 100.01);
    assert_true(g0->fan_pct == 35 && g0->pstate == 0 && g0->energy_mj == 1000000);
    assert_int_equal(g0->nprocs, 0);
    const hws_mon_gpu *g1 = &s->gpus[1];
    assert_true(!hws_known(g1->util_gpu_pct) && !hws_known(g1->fan_pct));
    assert_true(g1->temperature_c == 41); /* the rest of the GPU is read */
    hws_assert_contains(g1->notes.text[0], "Not Supported");
    assert_false(g1->lost);

    /* GPU 2 goes lost; GPUs 0 and 1 keep being read */
    int lost = 0;
    for (int i = 0; i < 200 && !lost; i++) {
        mon_sleep_ms(25);
        hws_monitor_snapshot(m, s);
        lost = s->gpus[2].lost;
    }
    assert_true(lost);
    hws_assert_contains(s->gpus[2].error, "GPU is lost");
    assert_false(hws_known(s->gpus[2].util_gpu_pct));
    assert_string_equal(s->gpus[2].name, "NVIDIA H100 80GB HBM3"); /* identity kept */
    unsigned long long round = hws_monitor_wait_round(m, 0, 5000);
    assert_true(hws_monitor_wait_round(m, round, 5000) > round);
    hws_monitor_snapshot(m, s);
    assert_false(s->gpus[0].lost);
    assert_true(s->gpus[0].util_gpu_pct == 10);
    /* the host: memory and load at once, the CPU share from the second reading on */
    assert_true(s->host.read);
    assert_true(hws_known(s->host.mem_total_bytes) && s->host.mem_total_bytes > 0);
    assert_true(s->host.ncpus > 0);
    assert_true(hws_known(s->host.cpu_busy_pct) && s->host.cpu_busy_pct >= 0 &&
                s->host.cpu_busy_pct <= 100);
    assert_true(s->host.hostname[0] != '\0');
    hws_mon_sample_free(s);
    hws_monitor_stop(m);
}

static void test_host_only_and_bad_interval(void **state) {
    (void)state;
    hws_monitor *m = NULL;
    hws_error err = {""};
    assert_int_equal(hws_monitor_start(&(hws_monitor_options){.interval_s = 0.01}, &m, &err),
                     HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "interval");
    assert_int_equal(
        hws_monitor_start(&(hws_monitor_options){.interval_s = 0.05, .no_gpu = 1}, &m, &err),
        HWS_OK);
    assert_int_equal(hws_monitor_gpu_count(m), 0);
    assert_true(hws_monitor_wait_ready(m, 5000));
    hws_mon_sample *s = hws_mon_sample_new(m);
    hws_monitor_snapshot(m, s);
    assert_int_equal(s->ngpus, 0);
    hws_assert_contains(s->nvml_error, "host only");
    assert_true(s->host.read);
    hws_mon_sample_free(s);
    hws_monitor_stop(m);
}

static void test_container_of(void **state) {
    (void)state;
    char out[80];
    hws_mon_container_of("0::/system.slice/docker-"
                         "4f2a9c1b7e3d5a8f6b0c2d4e6f8a0b1c3d5e7f9a1b2c3d4e5f6a7b8c9d0e1f2a.scope\n",
                         out, sizeof out);
    assert_string_equal(out, "4f2a9c1b7e3d");
    hws_mon_container_of("12:memory:/docker/"
                         "aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44\n",
                         out, sizeof out);
    assert_string_equal(out, "aa11bb22cc33");
    hws_mon_container_of("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
                         "pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/cri-containerd-x.scope\n",
                         out, sizeof out);
    assert_string_equal(out, "pod:1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d");
    hws_mon_container_of("0::/user.slice/user-1000.slice/session-2.scope\n", out, sizeof out);
    assert_string_equal(out, "");
    hws_mon_container_of("0::/docker-1234.scope\n", out, sizeof out); /* too short for an id */
    assert_string_equal(out, "");
}

static void test_field_table(void **state) {
    (void)state;
    /* every name is unique, so --query-gpu and the metrics are unambiguous */
    for (size_t i = 0; i < hws_mon_gpu_nfields; i++)
        for (size_t k = i + 1; k < hws_mon_gpu_nfields; k++) {
            const hws_mon_field *a = &hws_mon_gpu_fields[i], *b = &hws_mon_gpu_fields[k];
            assert_string_not_equal(a->f.key, b->f.key);
            if (a->smi != NULL && b->smi != NULL)
                assert_string_not_equal(a->smi, b->smi);
            if (a->metric != NULL && b->metric != NULL)
                assert_string_not_equal(a->metric, b->metric);
        }
    assert_ptr_equal(hws_mon_gpu_field_find("clocks_throttle_reasons.active"),
                     hws_mon_gpu_field_find("clocks_event_reasons.active"));
    assert_ptr_equal(hws_mon_gpu_field_find("memory.used"),
                     hws_mon_gpu_field_find("mem_used_bytes"));
    assert_null(hws_mon_gpu_field_find("memory.bogus"));

    hws_mon_gpu g;
    memset(&g, 0, sizeof g);
    g.mem_used_bytes = 48682.0 * 1048576 + 5;
    g.power_w = 312.456;
    g.clocks_event_reasons = 0x44;
    g.pstate = 2;
    g.fan_pct = HWS_NA;
    char buf[128];
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("memory.used"), &g, true);
    assert_string_equal(buf, "48682 MiB");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("memory.used"), &g, false);
    assert_string_equal(buf, "48682");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("power.draw"), &g, true);
    assert_string_equal(buf, "312.46 W");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("clocks_event_reasons.active"), &g,
                      true);
    assert_string_equal(buf, "0x0000000000000044");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("pstate"), &g, true);
    assert_string_equal(buf, "P2");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("fan.speed"), &g, true);
    assert_string_equal(buf, "[N/A]");
    g.lost = 1;
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("fan.speed"), &g, true);
    assert_string_equal(buf, "[GPU is lost]");
    hws_mon_csv_header(buf, sizeof buf, hws_mon_gpu_field_find("memory.used"));
    assert_string_equal(buf, "memory.used [MiB]");
    hws_mon_csv_header(buf, sizeof buf, hws_mon_gpu_field_find("temperature.gpu"));
    assert_string_equal(buf, "temperature.gpu");
}

static void test_prometheus_text(void **state) {
    (void)state;
    hws_mon_gpu gpus[2];
    hws_mon_sample s = {.ngpus = 2, .gpus = gpus};
    memset(gpus, 0, sizeof gpus);
    snprintf(s.host.hostname, sizeof s.host.hostname, "node\"7");
    s.host.ncpus = 2;
    s.host.cpu_core_busy_pct[0] = 25;
    s.host.cpu_core_busy_pct[1] = HWS_NA;
    for (int i = 0; i < 2; i++) {
        hws_mon_gpu *g = &gpus[i];
        for (size_t f = 0; f < hws_mon_gpu_nfields; f++) {
            double na = HWS_NA;
            if (hws_mon_gpu_fields[f].f.type == HWS_FIELD_NUM)
                memcpy((char *)g + hws_mon_gpu_fields[f].f.offset, &na, sizeof na);
        }
        g->index = i;
        snprintf(g->name, sizeof g->name, "NVIDIA H100\\x");
        g->util_gpu_pct = 50 + i;
        g->mem_used_bytes = 2.0 * 1048576;
        g->nprocs = 1;
        g->procs[0] = (hws_mon_process){.pid = 42, .gpu = i, .used_bytes = 1e6};
        snprintf(g->procs[0].container, sizeof g->procs[0].container, "abc123");
    }
    gpus[1].lost = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    hws_mon_prometheus(out, &s, HWS_PROM_DCGM);
    fclose(out);
    hws_assert_contains(text, "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n");
    hws_assert_contains(text, "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",");
    hws_assert_contains(text, "modelName=\"NVIDIA H100\\\\x\",Hostname=\"node\\\"7\"");
    hws_assert_contains(text, ",container=\"abc123\"} 51\n");
    hws_assert_contains(text, "DCGM_FI_DEV_FB_USED{gpu=\"0\""); /* MiB, as dcgm-exporter */
    hws_assert_contains(text, "} 2\n");
    assert_null(strstr(text, "DCGM_FI_DEV_FAN_SPEED{")); /* unknown: left out */
    hws_assert_contains(text, "hwscope_gpu_lost{gpu=\"1\"");
    hws_assert_contains(text, "hwscope_nvml_up{Hostname=\"node\\\"7\"} 1\n");
    hws_assert_contains(text, "hwscope_host_cpu_core_busy_percent{cpu=\"0\",Hostname=");
    assert_null(strstr(text, "{cpu=\"1\""));
    free(text);
    out = open_memstream(&text, &len);
    hws_mon_prometheus(out, &s, HWS_PROM_HWSCOPE);
    fclose(out);
    hws_assert_contains(text, "hwscope_gpu_mem_used_bytes{gpu=\"0\",uuid=");
    hws_assert_contains(text, "model_name=");
    assert_null(strstr(text, "DCGM_"));
    assert_null(strstr(text, "modelName"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readings_and_lost_gpu),
        cmocka_unit_test(test_host_only_and_bad_interval),
        cmocka_unit_test(test_container_of),
        cmocka_unit_test(test_field_table),
        cmocka_unit_test(test_prometheus_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
