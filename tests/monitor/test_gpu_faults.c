/* test_gpu_faults.c - the monitor's memory-fault, XID and NVLink fields against the fake NVML:
 * XID critical errors counted from NVML events, retired pages and remapped rows as the script
 * says, NVLink rates from the growing counters (all-links scope and link by link), and each field a
 * GPU does not support unknown with NVML's reason, never fatal; then the same fields in the
 * Prometheus text and nvidia-smi's CSV. */
#include "mon_test.h"

#include "hwscope/monitor.h"
#include "monitor/sample_fields.h"
#include "util/units.h"

/* GPU 0: two XIDs, retired pages, a pending remap, 18 NVLinks at 1e6 / 5e5 KiB/s; GPU 1: none of
 * these supported; GPU 2: 4 links the driver reads only one by one, XID events but none yet. */
static const char extra[] = "gpu0.xid = 79@0, 48@0\n"
                            "gpu0.retired_pages = 2,1,1\n"
                            "gpu0.remapped_rows = 3,1,1,0\n"
                            "gpu0.nvlink_active = 18\n"
                            "gpu0.nvlink_tx_kib_s = 1000000\n"
                            "gpu0.nvlink_rx_kib_s = 500000\n"
                            "gpu1.retired_pages = NVML_ERROR_NOT_SUPPORTED\n"
                            "gpu2.xid = \"\"\n"
                            "gpu2.nvlink_active = 4\n"
                            "gpu2.nvlink_per_link_only = 1\n"
                            "gpu2.nvlink_tx_kib_s = 400000\n"
                            "gpu2.nvlink_rx_kib_s = 400000\n";

static int setup(void **state) {
    (void)state;
    mon_setup_script(3, extra);
    setenv("HWSCOPE_FAKE_GPUS", mon_file_script, 1);
    setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
    return 0;
}

/* 1 when some note of g starts with prefix and holds text. */
static int noted(const hws_mon_gpu *g, const char *prefix, const char *text) {
    for (int i = 0; i < g->notes.count; i++)
        if (strncmp(g->notes.text[i], prefix, strlen(prefix)) == 0 &&
            strstr(g->notes.text[i], text) != NULL)
            return 1;
    return 0;
}

static int near(double v, double want) {
    return hws_known(v) && v > want * 0.98 && v < want * 1.02;
}

static hws_mon_sample *sample_after_rounds(hws_monitor *m, int rounds) {
    unsigned long long done = 0;
    for (int i = 0; i < rounds; i++)
        done = hws_monitor_wait_round(m, done, 5000);
    assert_true(done >= (unsigned long long)rounds);
    hws_mon_sample *s = hws_mon_sample_new(m);
    assert_non_null(s);
    hws_monitor_snapshot(m, s);
    return s;
}

static void test_faults_and_nvlink(void **state) {
    (void)state;
    hws_monitor *m = mon_start(0.05, 3);
    hws_mon_sample *s = sample_after_rounds(m, 3);
    const hws_mon_gpu *g0 = &s->gpus[0], *g1 = &s->gpus[1], *g2 = &s->gpus[2];
    assert_string_equal(g0->error, "");
    assert_true(g0->xid_last == 48 && g0->xid_count == 2); /* both events, each counted once */
    assert_true(g0->retired_pages_sbe == 2 && g0->retired_pages_dbe == 1);
    assert_true(g0->retired_pages_pending == 1);
    assert_true(g0->remapped_rows_correctable == 3 && g0->remapped_rows_uncorrectable == 1);
    assert_true(g0->remapped_rows_pending == 1 && g0->remapped_rows_failure == 0);
    assert_true(near(g0->nvlink_tx_bytes_s, 1e6 * 1024));
    assert_true(near(g0->nvlink_rx_bytes_s, 5e5 * 1024));

    /* GPU 1 supports none of it: each unknown, with the reason, the rest read */
    assert_false(hws_known(g1->xid_last) || hws_known(g1->xid_count));
    assert_true(noted(g1, "xid_last", "Not Supported"));
    assert_false(hws_known(g1->retired_pages_sbe) || hws_known(g1->retired_pages_pending));
    assert_true(noted(g1, "retired_pages_sbe", "Not Supported"));
    assert_false(hws_known(g1->remapped_rows_pending));
    assert_false(hws_known(g1->nvlink_tx_bytes_s) || hws_known(g1->nvlink_rx_bytes_s));
    assert_true(noted(g1, "nvlink_tx_bytes_s", "Not Supported"));
    assert_true(g1->temperature_c == 41 && g1->util_gpu_pct == 17);
    assert_false(g1->lost || g1->nvml_down);

    /* GPU 2: XID events work but none came; NVLink summed link by link */
    assert_true(g2->xid_last == 0 && g2->xid_count == 0);
    assert_true(near(g2->nvlink_tx_bytes_s, 4e5 * 1024));

    hws_mon_sample *later = hws_mon_sample_new(m);
    hws_monitor_wait_round(m, hws_monitor_wait_round(m, 0, 5000), 5000);
    hws_monitor_snapshot(m, later);
    assert_true(later->gpus[0].xid_count == 2); /* an event is not counted twice */
    hws_mon_sample_free(later);

    /* the exporter: dcgm-exporter's names, GPUs that lack a field left out */
    char *text = mon_prometheus(s, HWS_PROM_DCGM);
    hws_assert_contains(text, "# TYPE DCGM_FI_DEV_XID_ERRORS gauge\n");
    hws_assert_contains(text, "DCGM_FI_DEV_XID_ERRORS{gpu=\"0\"");
    assert_null(strstr(text, "DCGM_FI_DEV_XID_ERRORS{gpu=\"1\""));
    hws_assert_contains(text, "# TYPE DCGM_FI_DEV_RETIRED_SBE counter\n");
    hws_assert_contains(text, "DCGM_FI_DEV_ROW_REMAP_PENDING{gpu=\"0\"");
    hws_assert_contains(text, "DCGM_FI_PROF_NVLINK_TX_BYTES{gpu=\"0\"");
    hws_assert_contains(text, "DCGM_FI_PROF_NVLINK_RX_BYTES{gpu=\"2\"");
    assert_null(strstr(text, "DCGM_FI_PROF_NVLINK_TX_BYTES{gpu=\"1\""));
    hws_assert_contains(text, "hwscope_nvml_up{Hostname=");
    hws_assert_contains(text, "} 1\n");
    free(text);

    /* nvidia-smi's CSV forms */
    char buf[64];
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("retired_pages.pending"), g0, true);
    assert_string_equal(buf, "Yes");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("remapped_rows.failure"), g0, true);
    assert_string_equal(buf, "No");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("retired_pages.sbe"), g0, true);
    assert_string_equal(buf, "2");
    hws_mon_csv_value(buf, sizeof buf, hws_mon_gpu_field_find("retired_pages.pending"), g1, true);
    assert_string_equal(buf, "[N/A]");
    hws_mon_sample_free(s);
    hws_monitor_stop(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_and_nvlink),
    };
    return cmocka_run_group_tests(tests, setup, mon_teardown_script);
}
