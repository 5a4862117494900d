/* test_health.c - hws_gpu_health_judge on GPU records built by hand: each rule (throttle, PCIe
 * link, power cap, ECC, processes, MIG, lost) fires on its fault and stays quiet without it. */
#include "hws_test.h"

#include "hwscope/probe.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

/* A healthy H100: full clocks, gen5 x16, default power, no errors, no processes. */
static void healthy(hws_gpu_info *g) {
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "NVIDIA H100 80GB HBM3");
    g->mem_total_bytes = 85520809984.0;
    g->mem_free_bytes = 85520809984.0;
    g->cur_sm_clock_mhz = g->max_sm_clock_mhz = 1980;
    g->pcie_gen_cur = g->pcie_gen_max = 5;
    g->pcie_width_cur = g->pcie_width_max = 16;
    g->power_limit_w = g->default_power_limit_w = 700;
    g->util_gpu_pct = 50;
    g->ecc_errors_corrected = g->ecc_errors_uncorrected = 0;
    g->clock_event_reasons = 0;
    g->mig_enabled = 0;
    g->nprocs = 0;
}

static const hws_health_reason *reason(const hws_gpu_health *h, const char *key) {
    for (int i = 0; i < h->count; i++)
        if (strcmp(h->reasons[i].key, key) == 0)
            return &h->reasons[i];
    return NULL;
}

static void test_healthy(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.clock_event_reasons = 0x1 | 0x2; /* idle, application clocks: not a slowdown */
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(h.level, HWS_HEALTH_OK);
    assert_int_equal(h.count, 0);
    assert_string_equal(hws_health_level_name(h.level), "ok");
}

static void test_throttle(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.clock_event_reasons = 0x44;
    g.cur_sm_clock_mhz = 1410;
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(h.level, HWS_HEALTH_WARN);
    assert_non_null(reason(&h, "throttle"));
    assert_string_equal(
        reason(&h, "throttle")->text,
        "clocks held back: sw power cap, hw thermal slowdown (SM 1410 of 1980 MHz)");
}

static void test_pcie(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.pcie_gen_cur = 3;
    g.pcie_width_cur = 8;
    g.util_gpu_pct = 0; /* narrower is a fault even at idle */
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(reason(&h, "pcie_link")->level, HWS_HEALTH_WARN);
    hws_assert_contains(reason(&h, "pcie_link")->text, "PCIe gen3 x8, below the card's gen5 x16");
    /* only the generation lower, idle: power saving, a note */
    healthy(&g);
    g.pcie_gen_cur = 1;
    g.util_gpu_pct = 0;
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(h.level, HWS_HEALTH_NOTE);
    hws_assert_contains(reason(&h, "pcie_link")->text, "power saving");
    /* the same under load: a warning */
    g.util_gpu_pct = 90;
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(h.level, HWS_HEALTH_WARN);
    /* link unknown: nothing said */
    g.pcie_gen_cur = HWS_NA;
    hws_gpu_health_judge(&g, &h);
    assert_null(reason(&h, "pcie_link"));
}

static void test_power_and_ecc(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.power_limit_w = 400;
    g.ecc_errors_corrected = 3;
    hws_gpu_health_judge(&g, &h);
    assert_string_equal(reason(&h, "power_cap")->text,
                        "power limit 400 W, below the default 700 W (57%)");
    assert_int_equal(reason(&h, "ecc")->level, HWS_HEALTH_NOTE);
    g.ecc_errors_uncorrected = 1;
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(reason(&h, "ecc")->level, HWS_HEALTH_WARN);
    hws_assert_contains(reason(&h, "ecc")->text, "1 uncorrected ECC error(s)");
    /* a limit within a watt of the default is the default */
    healthy(&g);
    g.power_limit_w = 699.5;
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(h.count, 0);
}

static void test_processes(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.nprocs = 2;
    g.procs[0] = (hws_gpu_process){1, "python3", 39.0 * HWS_GIB};
    g.procs[1] = (hws_gpu_process){2, "vllm", 8.0 * HWS_GIB};
    g.mem_free_bytes = 32.1 * HWS_GIB;
    hws_gpu_health_judge(&g, &h);
    assert_string_equal(reason(&h, "processes")->text,
                        "2 other process(es) hold 47.0 GiB (python3 39.0 GiB, vllm 8.0 GiB); "
                        "32.1 GiB free");
}

static void test_mig_and_usable_memory(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.mig_enabled = 1;
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(reason(&h, "mig")->level, HWS_HEALTH_WARN); /* no instance made */
    g.mig_count = 2;
    g.mig[0] = (hws_mig_instance){"3g.40gb", "MIG-a", 40 * HWS_GIB, 39 * HWS_GIB, 1 * HWS_GIB};
    g.mig[1] = (hws_mig_instance){"2g.20gb", "MIG-b", 20 * HWS_GIB, 20 * HWS_GIB, 0};
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(reason(&h, "mig")->level, HWS_HEALTH_NOTE);
    hws_assert_contains(reason(&h, "mig")->text, "2 instance(s), the largest 40.0 GiB");
    assert_true(hws_gpu_usable_mem_bytes(&g) == 39 * HWS_GIB);
    assert_true(hws_gpu_device_mem_bytes(&g) == 40 * HWS_GIB);
    g.mig_enabled = 0; /* instances listed but MIG off: the card */
    assert_true(hws_gpu_usable_mem_bytes(&g) == 85520809984.0);
}

static void test_lost(void **state) {
    (void)state;
    hws_gpu_info g;
    hws_gpu_health h;
    healthy(&g);
    g.lost = 1;
    g.clock_event_reasons = 0x44; /* nothing else is judged on a lost GPU */
    hws_gpu_health_judge(&g, &h);
    assert_int_equal(h.level, HWS_HEALTH_LOST);
    assert_int_equal(h.count, 1);
    assert_string_equal(h.reasons[0].key, "lost");
    assert_false(hws_known(hws_gpu_usable_mem_bytes(&g)));
}

static void test_clock_event_names(void **state) {
    (void)state;
    char text[256];
    hws_clock_events_text(0x1ff, 0, text, sizeof text);
    assert_string_equal(text, "applications clocks setting, sw power cap, hw slowdown, sync boost, "
                              "sw thermal slowdown, hw thermal slowdown, hw power brake, "
                              "display clock setting");
    hws_clock_events_text(0x1ff, 1, text, sizeof text);
    assert_string_equal(text, "sw power cap, hw slowdown, sw thermal slowdown, hw thermal "
                              "slowdown, hw power brake");
    hws_clock_events_text(0, 0, text, sizeof text);
    assert_string_equal(text, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy),   cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_pcie),      cmocka_unit_test(test_power_and_ecc),
        cmocka_unit_test(test_processes), cmocka_unit_test(test_mig_and_usable_memory),
        cmocka_unit_test(test_lost),      cmocka_unit_test(test_clock_event_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
