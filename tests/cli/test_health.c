/* test_health.c - GPU health verdicts end to end: `hwscope info --json` and the report's GPU
 * lines on the scripted GPUs (throttled, degraded link, lost, MIG, power cap + ECC), checked
 * field by field; a lost GPU prints n/a with the reason, never "nan". */
#include "hws_test.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *info_json(const char *script) {
    hws_run r;
    hws_run_cli(&r, hws_fake_gpu_env(script, NULL), "info", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    cJSON *schema = hws_schema_load("hwscope.info.1.json");
    hws_assert_schema(schema, doc);
    cJSON_Delete(schema);
    hws_run_free(&r);
    return doc;
}

/* The report's text, which must never print "nan". */
static char *report_text(const char *script) {
    hws_run r;
    hws_run_cli(&r, hws_fake_gpu_env(script, "HWSCOPE_CEILINGS=/nonexistent"), "report",
                "--no-bench", NULL);
    assert_int_equal(r.exit_code, 0);
    if (strstr(r.out, "nan") != NULL)
        fail_msg("report prints nan:\n%s", r.out);
    char *out = r.out;
    r.out = NULL;
    hws_run_free(&r);
    return out;
}

static void test_throttled(void **state) {
    (void)state;
    cJSON *d = info_json("throttled");
    hws_assert_json_num(d, "gpus.devices.0.clock_event_reasons", 0x44, 0);
    hws_assert_json_str(d, "gpus.devices.0.clock_event_text", "sw power cap, hw thermal slowdown");
    hws_assert_json_str(d, "gpus.devices.0.health.level", "warning");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.key", "throttle");
    hws_assert_json_str(
        d, "gpus.devices.0.health.reasons.0.text",
        "clocks held back: sw power cap, hw thermal slowdown (SM 1410 of 1980 MHz)");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.1.key", "processes");
    hws_assert_json_str(d, "gpus.devices.1.health.level", "lost");
    hws_assert_json_str(d, "gpus.devices.1.health.reasons.0.key", "lost");
    cJSON_Delete(d);
    char *text = report_text("throttled");
    hws_assert_contains(text, "NVIDIA H100 80GB HBM3  79.6 GiB  32.1 GiB  132, cc 9.0");
    hws_assert_contains(text, "warning: clocks held back: sw power cap, hw thermal slowdown");
    hws_assert_contains(text, "lost: fell off the bus or stopped answering");
    free(text);
}

static void test_degraded_link(void **state) {
    (void)state;
    cJSON *d = info_json("pcie-degraded");
    hws_assert_json_str(d, "gpus.devices.0.health.level", "warning");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.key", "pcie_link");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.level", "warning");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.text",
                        "PCIe gen3 x8, below the card's gen4 x16: host<->device copies and "
                        "offload run slower");
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "gpus.devices.0.health.reasons")), 1);
    cJSON_Delete(d);
    char *text = report_text("pcie-degraded");
    hws_assert_contains(text, "gen3 x8");
    hws_assert_contains(text, "warning: PCIe gen3 x8, below the card's gen4 x16");
    free(text);
}

static void test_lost(void **state) {
    (void)state;
    cJSON *d = info_json("gpu-lost");
    hws_assert_json_str(d, "gpus.devices.0.health.level", "warning"); /* other processes */
    assert_true(cJSON_IsTrue(hws_json_at(d, "gpus.devices.1.lost")));
    hws_assert_json_str(d, "gpus.devices.1.health.level", "lost");
    hws_assert_json_null(d, "gpus.devices.1.sm_count");
    cJSON_Delete(d);
    char *text = report_text("gpu-lost");
    hws_assert_contains(text, "\n  1  n/a  ");
    hws_assert_contains(text,
                        "lost: fell off the bus or stopped answering (NVML: GPU is lost); its "
                        "facts are n/a");
    free(text);
}

static void test_mig(void **state) {
    (void)state;
    cJSON *d = info_json("mig");
    assert_true(cJSON_IsTrue(hws_json_at(d, "gpus.devices.0.mig_enabled")));
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "gpus.devices.0.mig_instances")), 2);
    hws_assert_json_str(d, "gpus.devices.0.mig_instances.0.name",
                        "NVIDIA H100 80GB HBM3 MIG 3g.40gb");
    hws_assert_json_str(d, "gpus.devices.0.mig_instances.1.uuid",
                        "MIG-7a3c9d12-e45b-5f08-a6c1-9b2e7d4f3a58");
    hws_assert_json_num(d, "gpus.devices.0.mig_instances.0.mem_total_bytes", 42949672960.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.mig_instances.0.mem_free_bytes", 42520176640.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.mig_instances.0.mem_used_bytes", 429496320.0, 0);
    hws_assert_json_str(d, "gpus.devices.0.health.level", "note");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.key", "mig");
    cJSON_Delete(d);
    /* models are judged against the 40 GiB slice, not the 80 GiB card */
    char *text = report_text("mig");
    hws_assert_contains(text, "NVIDIA H100 80GB HBM3  40.0 GiB  39.6 GiB");
    hws_assert_contains(text, "note: MIG on: 2 instance(s), the largest 40.0 GiB");
    free(text);
}

static void test_power_and_ecc(void **state) {
    (void)state;
    cJSON *d = info_json("power-ecc");
    hws_assert_json_num(d, "gpus.devices.0.ecc_errors_corrected", 12, 0);
    hws_assert_json_num(d, "gpus.devices.0.ecc_errors_uncorrected", 2, 0);
    hws_assert_json_str(d, "gpus.devices.0.health.level", "warning");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.key", "pcie_link");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.0.level", "note");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.1.key", "power_cap");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.1.text",
                        "power limit 400 W, below the default 700 W (57%)");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.2.key", "ecc");
    hws_assert_json_str(d, "gpus.devices.0.health.reasons.2.level", "warning");
    cJSON_Delete(d);
}

static void test_healthy_h100(void **state) {
    (void)state;
    cJSON *d = info_json("h100-8");
    for (int i = 0; i < 8; i++) {
        char path[64];
        snprintf(path, sizeof path, "gpus.devices.%d.health.level", i);
        const char *level = cJSON_GetStringValue(hws_json_at(d, path));
        assert_non_null(level);
        assert_true(strcmp(level, "lost") != 0);
    }
    cJSON_Delete(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttled),     cmocka_unit_test(test_degraded_link),
        cmocka_unit_test(test_lost),          cmocka_unit_test(test_mig),
        cmocka_unit_test(test_power_and_ecc), cmocka_unit_test(test_healthy_h100),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
