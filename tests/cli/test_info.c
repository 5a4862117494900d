/* test_info.c - `hwscope info` against scripted GPUs (the fake NVML and CUDA driver libraries):
 * 0, 1 and 8 GPUs, no driver, no permission, a lost GPU, unsupported fields, a degraded PCIe
 * link and an old driver; text and JSON checked field by field; bad usage exits 2. */
#include "hws_test.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs `hwscope info [--json]` with the fakes playing back tests/fixtures/gpus/<script>.txt. */
static void run_info(hws_run *r, const char *script, const char *nvml_env, int json) {
    static char nvml[1024], cuda[1024], gpus[1024];
    const char *lib = getenv(nvml_env);
    assert_non_null(lib);
    snprintf(nvml, sizeof nvml, "HWSCOPE_NVML_LIB=%s", lib);
    snprintf(cuda, sizeof cuda, "HWSCOPE_CUDA_LIB=%s", getenv("HWSCOPE_FAKE_CUDA"));
    snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s/gpus/%s.txt", getenv("HWSCOPE_FIXTURES"),
             script);
    const char *env[] = {nvml, cuda, gpus, NULL};
    if (json)
        hws_run_cli(r, env, "info", "--json", NULL);
    else
        hws_run_cli(r, env, "info", NULL);
    if (r->exit_code != 0)
        fprintf(stderr, "stderr: %s\n", r->err);
    assert_int_equal(r->exit_code, 0);
}

static cJSON *info_json(const char *script, const char *nvml_env) {
    hws_run r;
    run_info(&r, script, nvml_env, 1);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.info/1");
    cJSON *schema = hws_schema_load("hwscope.info.1.json");
    hws_assert_schema(schema, doc);
    cJSON_Delete(schema);
    /* the CPU and memory facts print whatever the GPUs do */
    assert_true(cJSON_IsNumber(hws_json_at(doc, "cpu.threads")));
    assert_true(cJSON_IsNumber(hws_json_at(doc, "memory.total_bytes")));
    hws_run_free(&r);
    return doc;
}

static void test_one_h100_json(void **state) {
    (void)state;
    cJSON *d = info_json("h100-1", "HWSCOPE_FAKE_NVML");
    hws_assert_json_num(d, "gpus.count", 1, 0);
    assert_true(cJSON_IsTrue(hws_json_at(d, "gpus.cuda_available")));
    hws_assert_json_str(d, "gpus.driver_version", "580.159.04");
    hws_assert_json_str(d, "gpus.cuda_version", "13.0");
    hws_assert_json_num(d, "gpus.cuda_driver_version", 13000, 0);
    hws_assert_json_null(d, "gpus.why_none");
    hws_assert_json_str(d, "gpus.devices.0.name", "NVIDIA H100 80GB HBM3");
    hws_assert_json_str(d, "gpus.devices.0.uuid", "GPU-4f5d7c2a-8b1e-3c9d-a6f0-2e7b9d1c5a83");
    hws_assert_json_str(d, "gpus.devices.0.pci_bus_id", "0000:18:00.0");
    hws_assert_json_str(d, "gpus.devices.0.serial", "1652923016542");
    hws_assert_json_num(d, "gpus.devices.0.mem_total_bytes", 85520809984.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.mem_used_bytes", 51046776832.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.mem_free_bytes", 34474033152.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.cc_major", 9, 0);
    hws_assert_json_num(d, "gpus.devices.0.cc_minor", 0, 0);
    hws_assert_json_num(d, "gpus.devices.0.sm_count", 132, 0);
    hws_assert_json_num(d, "gpus.devices.0.max_sm_clock_mhz", 1980, 0);
    hws_assert_json_num(d, "gpus.devices.0.max_mem_clock_mhz", 2619, 0);
    hws_assert_json_num(d, "gpus.devices.0.mem_bus_width_bits", 5120, 0);
    hws_assert_json_num(d, "gpus.devices.0.l2_bytes", 52428800, 0);
    /* 2619 MHz x 2 x 5120 bit / 8 */
    hws_assert_json_num(d, "gpus.devices.0.mem_bw_theoretical_gbps", 3352.32, 0.01);
    hws_assert_json_num(d, "gpus.devices.0.pcie_gen_cur", 5, 0);
    hws_assert_json_num(d, "gpus.devices.0.pcie_gen_max", 5, 0);
    hws_assert_json_num(d, "gpus.devices.0.pcie_width_cur", 16, 0);
    hws_assert_json_num(d, "gpus.devices.0.pcie_width_max", 16, 0);
    hws_assert_json_num(d, "gpus.devices.0.nvlink_links_active", 0, 0);
    hws_assert_json_num(d, "gpus.devices.0.power_limit_w", 700, 0);
    hws_assert_json_num(d, "gpus.devices.0.default_power_limit_w", 700, 0);
    hws_assert_json_num(d, "gpus.devices.0.power_draw_w", 312.45, 1e-9);
    hws_assert_json_num(d, "gpus.devices.0.temperature_c", 41, 0);
    hws_assert_json_num(d, "gpus.devices.0.util_gpu_pct", 87, 0);
    hws_assert_json_num(d, "gpus.devices.0.util_mem_pct", 34, 0);
    assert_true(cJSON_IsTrue(hws_json_at(d, "gpus.devices.0.ecc_enabled")));
    assert_true(cJSON_IsFalse(hws_json_at(d, "gpus.devices.0.mig_enabled")));
    assert_true(cJSON_IsTrue(hws_json_at(d, "gpus.devices.0.persistence_enabled")));
    assert_true(cJSON_IsFalse(hws_json_at(d, "gpus.devices.0.lost")));
    hws_assert_json_num(d, "gpus.devices.0.processes.0.pid", 48213, 0);
    hws_assert_json_str(d, "gpus.devices.0.processes.0.name", "python3");
    hws_assert_json_num(d, "gpus.devices.0.processes.0.used_bytes", 41901096960.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.processes.1.pid", 51877, 0);
    hws_assert_json_num(d, "gpus.devices.0.processes.1.used_bytes", 8589934592.0, 0);
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "gpus.devices.0.processes")), 2);
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "gpus.devices.0.unavailable")), 0);
    cJSON_Delete(d);
}

static void test_one_h100_text(void **state) {
    (void)state;
    hws_run r;
    run_info(&r, "h100-1", "HWSCOPE_FAKE_NVML", 0);
    const char *lines[] = {
        "GPUs: 1 (driver 580.159.04, CUDA 13.0)",
        "name                        NVIDIA H100 80GB HBM3",
        "PCI bus id                  0000:18:00.0",
        "memory total                79.6 GiB",
        "SMs                         132",
        "memory bus width            5120 bit",
        "L2 cache                    50 MiB",
        "memory bandwidth (derived)  3352 GB/s",
        "PCIe width max              16 lanes",
        "default power limit (TDP)   700 W",
        "ECC                         yes",
        "MIG                         no",
        "  0  48213  python3  39960 MiB",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        hws_assert_contains(r.out, lines[i]);
    hws_run_free(&r);
}

static void test_no_gpu_and_no_driver(void **state) {
    (void)state;
    cJSON *d = info_json("none", "HWSCOPE_FAKE_NVML");
    hws_assert_json_num(d, "gpus.count", 0, 0);
    assert_true(cJSON_IsFalse(hws_json_at(d, "gpus.cuda_available")));
    hws_assert_contains(cJSON_GetStringValue(hws_json_at(d, "gpus.why_none")), "NVML sees no GPU");
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "gpus.devices")), 0);
    cJSON_Delete(d);

    d = info_json("no-driver", "HWSCOPE_FAKE_NVML");
    hws_assert_json_num(d, "gpus.count", 0, 0);
    hws_assert_json_null(d, "gpus.driver_version");
    hws_assert_contains(cJSON_GetStringValue(hws_json_at(d, "gpus.why_none")),
                        "NVML: Driver Not Loaded");
    cJSON_Delete(d);

    hws_run r;
    const char *env[] = {"HWSCOPE_NVML_LIB=/nonexistent/libnvidia-ml.so.1",
                         "HWSCOPE_CUDA_LIB=/nonexistent/libcuda.so.1", NULL};
    hws_run_cli(&r, env, "info", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_assert_contains(r.out, "no GPU information: NVIDIA driver (NVML) not found");
    hws_assert_contains(r.out, "CUDA driver not found");
    hws_assert_contains(r.out, "CPU features for inference");
    hws_run_free(&r);
}

static void test_eight_gpus(void **state) {
    (void)state;
    cJSON *d = info_json("h100-8", "HWSCOPE_FAKE_NVML");
    hws_assert_json_num(d, "gpus.count", 8, 0);
    const cJSON *devices = hws_json_at(d, "gpus.devices");
    int mig = 0;
    for (int i = 0; i < 8; i++) {
        const cJSON *g = cJSON_GetArrayItem(devices, i);
        hws_assert_json_num(g, "index", i, 0);
        int in_mig = cJSON_IsTrue(hws_json_at(g, "mig_enabled"));
        /* a GPU in MIG mode shows CUDA the SMs of its instance (3g.40gb: 60) */
        hws_assert_json_num(g, "sm_count", in_mig ? 60 : 132, 0);
        hws_assert_json_num(g, "nvlink_links_active", 18, 0);
        const char *bus = cJSON_GetStringValue(hws_json_at(g, "pci_bus_id"));
        assert_non_null(bus);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(bus, cJSON_GetStringValue(hws_json_at(
                                             cJSON_GetArrayItem(devices, k), "pci_bus_id")));
        mig += in_mig;
    }
    assert_int_equal(mig, 1);
    cJSON_Delete(d);
}

static void test_no_permission(void **state) {
    (void)state;
    cJSON *d = info_json("no-permission", "HWSCOPE_FAKE_NVML");
    hws_assert_json_null(d, "gpus.devices.0.processes");
    hws_assert_json_null(d, "gpus.devices.0.power_draw_w");
    hws_assert_json_null(d, "gpus.devices.0.serial");
    hws_assert_json_str(d, "gpus.devices.0.unavailable.processes",
                        "NVML: Insufficient Permissions");
    hws_assert_json_str(d, "gpus.devices.0.unavailable.power_draw_w",
                        "NVML: Insufficient Permissions");
    /* what needs no permission is still read */
    hws_assert_json_num(d, "gpus.devices.0.mem_total_bytes", 85520809984.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.power_limit_w", 700, 0);
    cJSON_Delete(d);
    hws_run r;
    run_info(&r, "no-permission", "HWSCOPE_FAKE_NVML", 0);
    hws_assert_contains(r.out, "power draw                  n/a (NVML: Insufficient Permissions)");
    hws_assert_contains(r.out, "  0  n/a  NVML: Insufficient Permissions");
    hws_run_free(&r);
}

static void test_lost_gpu(void **state) {
    (void)state;
    cJSON *d = info_json("gpu-lost", "HWSCOPE_FAKE_NVML");
    hws_assert_json_num(d, "gpus.count", 2, 0);
    assert_true(cJSON_IsFalse(hws_json_at(d, "gpus.devices.0.lost")));
    hws_assert_json_str(d, "gpus.devices.0.name", "NVIDIA H100 80GB HBM3");
    hws_assert_json_num(d, "gpus.devices.0.sm_count", 132, 0);
    assert_true(cJSON_IsTrue(hws_json_at(d, "gpus.devices.1.lost")));
    hws_assert_json_null(d, "gpus.devices.1.name");
    hws_assert_json_null(d, "gpus.devices.1.mem_total_bytes");
    hws_assert_json_str(d, "gpus.devices.1.unavailable.name", "NVML: GPU is lost");
    cJSON_Delete(d);
    hws_run r;
    run_info(&r, "gpu-lost", "HWSCOPE_FAKE_NVML", 0);
    hws_assert_contains(r.out, "GPU 1: lost");
    hws_run_free(&r);
}

static void test_not_supported_fields(void **state) {
    (void)state;
    cJSON *d = info_json("not-supported", "HWSCOPE_FAKE_NVML");
    hws_assert_json_str(d, "gpus.devices.0.name", "NVIDIA GeForce RTX 4090");
    hws_assert_json_null(d, "gpus.devices.0.ecc_enabled");
    hws_assert_json_null(d, "gpus.devices.0.mig_enabled");
    hws_assert_json_null(d, "gpus.devices.0.nvlink_links_active");
    hws_assert_json_null(d, "gpus.devices.0.default_power_limit_w");
    hws_assert_json_str(d, "gpus.devices.0.unavailable.ecc_enabled", "NVML: Not Supported");
    hws_assert_json_str(d, "gpus.devices.0.unavailable.nvlink_links_active", "NVML: Not Supported");
    /* GDDR6X: 10501 MHz x 2 x 384 bit / 8 = 1008 GB/s, the datasheet figure */
    hws_assert_json_num(d, "gpus.devices.0.mem_bw_theoretical_gbps", 1008.1, 0.1);
    hws_assert_json_num(d, "gpus.devices.0.cc_minor", 9, 0);
    cJSON_Delete(d);
}

static void test_degraded_pcie(void **state) {
    (void)state;
    cJSON *d = info_json("pcie-degraded", "HWSCOPE_FAKE_NVML");
    hws_assert_json_num(d, "gpus.devices.0.pcie_gen_cur", 3, 0);
    hws_assert_json_num(d, "gpus.devices.0.pcie_gen_max", 4, 0);
    hws_assert_json_num(d, "gpus.devices.0.pcie_width_cur", 8, 0);
    hws_assert_json_num(d, "gpus.devices.0.pcie_width_max", 16, 0);
    hws_assert_json_str(d, "gpus.devices.0.pci_bus_id", "0000:3b:00.0");
    cJSON_Delete(d);
}

/* A driver without the _v3 process call and the _v2 memory call: hwscope falls back to the
 * older calls and their smaller structs, and still lists the processes right. */
static void test_old_driver(void **state) {
    (void)state;
    cJSON *d = info_json("h100-1", "HWSCOPE_FAKE_NVML_OLD");
    hws_assert_json_num(d, "gpus.devices.0.processes.0.pid", 48213, 0);
    hws_assert_json_num(d, "gpus.devices.0.processes.0.used_bytes", 41901096960.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.processes.1.pid", 51877, 0);
    hws_assert_json_num(d, "gpus.devices.0.processes.1.used_bytes", 8589934592.0, 0);
    hws_assert_json_num(d, "gpus.devices.0.mem_total_bytes", 85520809984.0, 0);
    cJSON_Delete(d);
}

static void test_bad_usage(void **state) {
    (void)state;
    const char *cases[][2] = {{"--bogus", "unknown option '--bogus'"},
                              {"extra", "unexpected argument 'extra'"},
                              {"--json=yes", "--json takes no value"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hws_run r;
        hws_run_cli(&r, NULL, "info", cases[i][0], NULL);
        hws_assert_bad_input(&r, cases[i][1]);
        hws_run_free(&r);
    }
    hws_run r;
    hws_run_cli(&r, NULL, "frobnicate", NULL);
    hws_assert_bad_input(&r, "unknown command 'frobnicate'");
    hws_assert_contains(r.err, "usage: hwscope");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_h100_json),        cmocka_unit_test(test_one_h100_text),
        cmocka_unit_test(test_no_gpu_and_no_driver), cmocka_unit_test(test_eight_gpus),
        cmocka_unit_test(test_no_permission),        cmocka_unit_test(test_lost_gpu),
        cmocka_unit_test(test_not_supported_fields), cmocka_unit_test(test_degraded_pcie),
        cmocka_unit_test(test_old_driver),           cmocka_unit_test(test_bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
