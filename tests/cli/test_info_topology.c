/* test_info_topology.c - the GPU link topology of `hwscope info` against scripted machines (the
 * fake NVML): an 8x H100 SXM board on NVSwitch, four PCIe A100s across two sockets, two RTX 4090
 * without NVLink, two GPUs joined by a direct NVLink bridge, and a driver that answers none of
 * the topology calls. JSON checked against the schema and pair by pair; text as nvidia-smi. */
#include "hws_test.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs `hwscope info [--json]` with the fakes playing back the script at path. */
static void run_topo(hws_run *r, const char *path, int json) {
    const char *const *env = hws_fake_gpu_env(path, NULL);
    if (json)
        hws_run_cli(r, env, "info", "--json", NULL);
    else
        hws_run_cli(r, env, "info", NULL);
    if (r->exit_code != 0)
        fprintf(stderr, "stderr: %s\n", r->err);
    assert_int_equal(r->exit_code, 0);
}

static char *fixture_path(const char *script) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/gpus/%s.txt", getenv("HWSCOPE_FIXTURES"), script);
    return path;
}

static cJSON *topo_json(const char *path) {
    hws_run r;
    run_topo(&r, path, 1);
    cJSON *doc = hws_run_json(&r);
    cJSON *schema = hws_schema_load("hwscope.info.1.json");
    hws_assert_schema(schema, doc);
    cJSON_Delete(schema);
    hws_run_free(&r);
    return doc;
}

/* topo_json of a script given as text (written to a temporary file, removed after); with
 * text_out also the text output into *text_out (free it). */
static cJSON *topo_json_text(const char *script, char **text_out) {
    char path[1024];
    snprintf(path, sizeof path, "%s", hws_temp_file(script));
    cJSON *d = topo_json(path);
    if (text_out != NULL) {
        hws_run r;
        run_topo(&r, path, 0);
        *text_out = r.out;
        r.out = NULL;
        hws_run_free(&r);
    }
    unlink(path);
    return d;
}

/* The index in topology.pairs of the ordered pair (a, b) among n GPUs. */
static int pair_at(int n, int a, int b) {
    return a * (n - 1) + (b < a ? b : b - 1);
}

static void assert_pair(const cJSON *d, int n, int a, int b, const char *link, const char *path,
                        const char *p2p) {
    char key[96];
    int i = pair_at(n, a, b);
    snprintf(key, sizeof key, "topology.pairs.%d.a", i);
    hws_assert_json_num(d, key, a, 0);
    snprintf(key, sizeof key, "topology.pairs.%d.b", i);
    hws_assert_json_num(d, key, b, 0);
    snprintf(key, sizeof key, "topology.pairs.%d.link", i);
    hws_assert_json_str(d, key, link);
    snprintf(key, sizeof key, "topology.pairs.%d.pcie_path", i);
    hws_assert_json_str(d, key, path);
    snprintf(key, sizeof key, "topology.pairs.%d.p2p_read", i);
    hws_assert_json_str(d, key, p2p);
}

static void test_hgx_h100_nvswitch(void **state) {
    (void)state;
    cJSON *d = topo_json(fixture_path("h100-8"));
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "topology.gpus")), 8);
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "topology.pairs")), 56);
    hws_assert_json_str(d, "topology.gpus.0.pci_bus_id", "0000:18:00.0");
    hws_assert_json_num(d, "topology.gpus.0.nvlinks_active", 18, 0);
    hws_assert_json_num(d, "topology.gpus.0.nvlinks_to_switch", 18, 0);
    hws_assert_json_str(d, "topology.gpus.0.nvlink_gen", "4.0");
    hws_assert_json_str(d, "topology.gpus.0.cpu_affinity", "0-55,112-167");
    hws_assert_json_str(d, "topology.gpus.0.numa_affinity", "0");
    hws_assert_json_str(d, "topology.gpus.6.cpu_affinity", "56-111,168-223");
    hws_assert_json_str(d, "topology.gpus.6.numa_affinity", "1");
    /* links 0 and 1 on different switches, the last item standing for links 2..17 */
    hws_assert_json_str(d, "topology.gpus.0.nvlinks.0.remote_type", "switch");
    hws_assert_json_str(d, "topology.gpus.0.nvlinks.0.remote_pci_bus_id", "0000:05:00.0");
    hws_assert_json_str(d, "topology.gpus.0.nvlinks.17.remote_pci_bus_id", "0000:06:00.0");
    hws_assert_json_null(d, "topology.gpus.0.nvlinks.0.remote_gpu");
    assert_pair(d, 8, 0, 1, "NV18", "NODE", "OK");
    assert_pair(d, 8, 0, 4, "NV18", "SYS", "OK");
    assert_pair(d, 8, 7, 6, "NV18", "NODE", "OK");
    assert_pair(d, 8, 0, 5, "NV18", "SYS", "GNS"); /* GPU 5 is in MIG mode */
    assert_pair(d, 8, 5, 0, "NV18", "SYS", "GNS");
    assert_true(cJSON_IsTrue(hws_json_at(d, "topology.pairs.0.via_nvswitch")));
    hws_assert_json_num(d, "topology.pairs.0.nvlinks", 18, 0);
    hws_assert_json_null(d, "topology.pairs.0.p2p_why");
    hws_assert_json_str(d, "topology.pairs.4.p2p_why", "the GPU does not support it");
    cJSON_Delete(d);

    hws_run r;
    run_topo(&r, fixture_path("h100-8"), 0);
    hws_assert_contains(r.out, "GPU link topology (as nvidia-smi topo -m)");
    hws_assert_contains(r.out, "GPU0  X     NV18  NV18  NV18  NV18  NV18  NV18  NV18");
    hws_assert_contains(r.out, "GPU5  GNS   GNS   GNS   GNS   GNS   X     GNS   GNS");
    hws_assert_contains(r.out, "GPU0-GPU5: no P2P: the GPU does not support it");
    hws_run_free(&r);
}

static void test_pcie_two_sockets(void **state) {
    (void)state;
    cJSON *d = topo_json(fixture_path("pcie-4-2socket"));
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "topology.pairs")), 12);
    assert_pair(d, 4, 0, 1, "PIX", "PIX", "OK");
    assert_pair(d, 4, 2, 3, "PIX", "PIX", "OK");
    assert_pair(d, 4, 0, 2, "SYS", "SYS", "CNS");
    assert_pair(d, 4, 3, 1, "SYS", "SYS", "CNS");
    hws_assert_json_num(d, "topology.pairs.0.nvlinks", 0, 0);
    assert_true(cJSON_IsFalse(hws_json_at(d, "topology.pairs.0.via_nvswitch")));
    hws_assert_json_num(d, "topology.gpus.3.nvlinks_active", 0, 0);
    hws_assert_json_str(d, "topology.gpus.2.numa_affinity", "1");
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "topology.gpus.0.nvlinks")), 0);
    cJSON_Delete(d);
    hws_run r;
    run_topo(&r, fixture_path("pcie-4-2socket"), 0);
    hws_assert_contains(r.out, "GPU0  X     PIX   SYS   SYS     0-31,64-95");
    hws_assert_contains(r.out, "GPU1-GPU3: no P2P: the chipset does not support it");
    assert_null(strstr(r.out, "GPU0-GPU1: no P2P"));
    hws_run_free(&r);
}

static void test_rtx4090_no_nvlink(void **state) {
    (void)state;
    cJSON *d = topo_json(fixture_path("rtx4090-2"));
    assert_pair(d, 2, 0, 1, "PHB", "PHB", "GNS");
    assert_pair(d, 2, 1, 0, "PHB", "PHB", "GNS");
    /* NVML answers Not Supported: a card without NVLink, 0 links, not unknown */
    hws_assert_json_num(d, "topology.gpus.0.nvlinks_active", 0, 0);
    hws_assert_json_num(d, "topology.pairs.0.nvlinks", 0, 0);
    hws_assert_json_null(d, "topology.gpus.0.nvlink_gen");
    cJSON_Delete(d);
}

/* Two GPUs joined by a 4-link NVLink 3.0 bridge (A100 PCIe pair); the bridge's links name the
 * other GPU's bus id, so the pair counts them as direct. */
static void test_direct_nvlink_bridge(void **state) {
    (void)state;
    cJSON *d = topo_json_text(
        "nvml.init = ok\ngpus = 2\ntopo = SYS\np2p = ok\n"
        "gpu0.pci_bus_id = 00000000:17:00.0\ngpu1.pci_bus_id = 00000000:CA:00.0\n"
        "gpu0.nvlink_active = 4\ngpu1.nvlink_active = 4\n"
        "gpu0.nvlink_version = 4\ngpu1.nvlink_version = 4\n"
        "gpu0.nvlink_remote = gpu:00000000:CA:00.0\ngpu1.nvlink_remote = gpu:00000000:17:00.0\n",
        NULL);
    assert_pair(d, 2, 0, 1, "NV4", "SYS", "OK");
    assert_true(cJSON_IsFalse(hws_json_at(d, "topology.pairs.0.via_nvswitch")));
    hws_assert_json_num(d, "topology.gpus.0.nvlinks.3.remote_gpu", 1, 0);
    hws_assert_json_str(d, "topology.gpus.1.nvlinks.0.remote_type", "gpu");
    hws_assert_json_str(d, "topology.gpus.0.nvlink_gen", "3.0");
    hws_assert_json_num(d, "topology.gpus.0.nvlinks_to_switch", 0, 0);
    cJSON_Delete(d);
}

/* A driver that answers none of the topology calls: facts n/a with NVML's reason, no failure. */
static void test_topology_not_supported(void **state) {
    (void)state;
    char *text = NULL;
    cJSON *d = topo_json_text("nvml.init = ok\ngpus = 2\n"
                              "gpu0.pci_bus_id = 00000000:17:00.0\n"
                              "gpu1.pci_bus_id = 00000000:18:00.0\n"
                              "gpu0.nvlink_active = NVML_ERROR_UNKNOWN\n"
                              "gpu1.cpu_affinity = NVML_ERROR_NO_PERMISSION\n",
                              &text);
    assert_pair(d, 2, 0, 1, "n/a", NULL, NULL);
    hws_assert_json_null(d, "topology.pairs.0.nvlinks");
    hws_assert_json_null(d, "topology.gpus.0.nvlinks_active");
    hws_assert_json_str(d, "topology.gpus.0.unavailable.nvlinks_active", "NVML: Unknown Error");
    hws_assert_json_str(d, "topology.unavailable.path 0-1", "NVML: Not Supported");
    hws_assert_json_str(d, "topology.gpus.1.unavailable.cpu_affinity",
                        "NVML: Insufficient Permissions");
    cJSON_Delete(d);
    hws_assert_contains(text, "n/a (NVML: Insufficient Permissions)");
    free(text);
}

/* An old driver without nvmlDeviceGetNvLinkRemoteDeviceType and nvmlDeviceGetMemoryAffinity:
 * those facts are unknown with the reason, the pairs' links unknown (NV?), nothing fails. */
static void test_old_driver(void **state) {
    (void)state;
    hws_run r;
    char old_nvml[1024];
    snprintf(old_nvml, sizeof old_nvml, "HWSCOPE_NVML_LIB=%s", getenv("HWSCOPE_FAKE_NVML_OLD"));
    hws_run_cli(&r, hws_fake_gpu_env(fixture_path("h100-8"), old_nvml), "info", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *d = hws_run_json(&r);
    hws_run_free(&r);
    hws_assert_json_null(d, "topology.gpus.0.numa_affinity");
    hws_assert_json_str(d, "topology.gpus.0.unavailable.numa_affinity", "NVML: Not Supported");
    hws_assert_json_str(d, "topology.gpus.0.cpu_affinity", "0-55,112-167");
    hws_assert_json_null(d, "topology.gpus.0.nvlinks.0.remote_type");
    hws_assert_json_str(d, "topology.gpus.0.nvlinks.0.remote_pci_bus_id", "0000:05:00.0");
    assert_pair(d, 8, 0, 1, "NV?", "NODE", "OK");
    hws_assert_json_null(d, "topology.pairs.0.nvlinks");
    cJSON_Delete(d);
}

static void test_no_driver(void **state) {
    (void)state;
    cJSON *d = topo_json(fixture_path("no-driver"));
    assert_int_equal(cJSON_GetArraySize(hws_json_at(d, "topology.gpus")), 0);
    assert_true(cJSON_IsString(hws_json_at(d, "topology.why_none")));
    cJSON_Delete(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hgx_h100_nvswitch),
        cmocka_unit_test(test_pcie_two_sockets),
        cmocka_unit_test(test_rtx4090_no_nvlink),
        cmocka_unit_test(test_direct_nvlink_bridge),
        cmocka_unit_test(test_topology_not_supported),
        cmocka_unit_test(test_no_driver),
        cmocka_unit_test(test_old_driver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
