/* test_bench_multi.c - the p2p and nccl suites over fake tables (GPU count and bus ids, peer
 * copies, an NCCL sweep) with the fake NVML playing the machine's topology: 8x H100 on NVSwitch
 * (NVLink peaks, GPU 5 in MIG mode refusing P2P), 2x RTX 4090 (no P2P, no NVLink: the reason,
 * never a bare 0), one H100 (P2P waived, NCCL's 1-rank collectives), nccl-tests' bus bandwidth
 * factors, a wrong copy failing its check, NCCL missing, and the all-reduce saved as a ceiling. */
#include "hws_test.h"
#include "bench/bench_int.h"
#include "util/units.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fake_ngpus;
static const char *const *fake_bus; /* CUDA ordinal -> bus id, as the fixture's NVML has it */
static int fake_no_peer = -1;       /* a GPU no other can reach by P2P (-1: none) */
static bool fake_corrupt;           /* copies from GPU 0 to GPU 1 arrive wrong */
static bool fake_sweep_fails;
static double fake_p2p_gbps = 370; /* one way, where P2P works */

static const char *const h100_bus[] = {"0000:18:00.0", "0000:2a:00.0", "0000:3a:00.0",
                                       "0000:5d:00.0", "0000:9a:00.0", "0000:ab:00.0",
                                       "0000:ba:00.0", "0000:db:00.0"};
static const char *const rtx_bus[] = {"0000:01:00.0", "0000:02:00.0"};

static hws_status fake_count(int *count, hws_error *err) {
    (void)err;
    *count = fake_ngpus;
    return HWS_OK;
}

static hws_status fake_props(int device, hws_gpu_dev_props *p, hws_error *err) {
    (void)err;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "NVIDIA H100 80GB HBM3");
    snprintf(p->pci_bus_id, sizeof p->pci_bus_id, "%s", fake_bus[device]);
    p->cc_major = 9;
    p->sm_count = 132;
    p->mem_total_bytes = 80e9;
    return HWS_OK;
}

static const hws_gpu_bench_table fake_gpu = {HWS_GPU_BENCH_ABI, fake_count, fake_props, NULL, NULL};

static hws_status fake_can(int a, int b, int *can, hws_error *err) {
    (void)err;
    *can = a != fake_no_peer && b != fake_no_peer;
    return HWS_OK;
}

/* fake_p2p_gbps each way over P2P (both ways at once as fast), 20 GB/s through the host; 16 B
 * copies take 2 us. */
static hws_status fake_copy(int src, int dst, double bytes, int bidir, int warmup, int reps,
                            double *ms, double *wrong, hws_error *err) {
    int can = 0;
    (void)warmup;
    fake_can(src, dst, &can, err);
    double gbps = can ? fake_p2p_gbps : 20;
    for (int i = 0; i < reps; i++)
        ms[i] = bytes < 1024 ? 2e-3 : (bidir && !can ? 2 : 1) * bytes / (gbps * 1e9) * 1e3;
    *wrong = fake_corrupt && src == 0 && dst == 1 ? 3 : 0;
    return HWS_OK;
}

/* Every collective at an algorithm bandwidth of 200 GB/s: the bus bandwidth is 200 x factor. */
static hws_status fake_sweep(const hws_nccl *nccl, int ndev, hws_nccl_point *points, int npoints,
                             int warmup, int reps, hws_error *err) {
    (void)nccl, (void)warmup;
    if (fake_sweep_fails) {
        snprintf(err->msg, sizeof err->msg, "GPU 3: ncclCommInitRank: unhandled system error");
        return HWS_ERR_RUNTIME;
    }
    for (int p = 0; p < npoints; p++) {
        points[p].nreps = reps;
        for (int i = 0; i < reps; i++)
            points[p].ms[i] = points[p].bytes / 200e9 * 1e3;
        points[p].checked = points[p].bytes / 4 * ndev;
        points[p].wrong = 0;
    }
    return HWS_OK;
}

static const hws_gpu_multi_table fake_multi = {HWS_GPU_MULTI_ABI, fake_can, fake_copy, fake_sweep};
static const hws_nccl fake_nccl = {.version = 22809};

static hws_bench_result *result;

static const hws_bench_record *find(const char *key) {
    return hws_find_record(result, key);
}

static int count_prefix(const char *prefix) {
    int n = 0;
    for (int i = 0; i < result->nrecords; i++)
        n += strncmp(result->records[i].key, prefix, strlen(prefix)) == 0;
    return n;
}

/* The library opens NVML and the CUDA driver once per process: a fake already open is made to
 * read the new script (nvmlShutdown + nvmlInit_v2, cuInit). */
static void replay_script(void) {
    void *nvml = dlopen(getenv("HWSCOPE_FAKE_NVML"), RTLD_NOW | RTLD_NOLOAD);
    void *cuda = dlopen(getenv("HWSCOPE_FAKE_CUDA"), RTLD_NOW | RTLD_NOLOAD);
    if (nvml != NULL) {
        int (*shutdown)(void), (*init)(void);
        *(void **)&shutdown = dlsym(nvml, "nvmlShutdown");
        *(void **)&init = dlsym(nvml, "nvmlInit_v2");
        assert_int_equal(shutdown(), 0);
        assert_int_equal(init(), 0);
        dlclose(nvml);
    }
    if (cuda != NULL) {
        int (*cu_init)(unsigned);
        *(void **)&cu_init = dlsym(cuda, "cuInit");
        assert_int_equal(cu_init(0), 0);
        dlclose(cuda);
    }
}

/* Plays `script` through the fake NVML and runs the suites over ngpus fake GPUs. */
static void run_on(const char *script, int ngpus, const char *const *bus, const char *suite) {
    char gpus[1024];
    const char *nvml = getenv("HWSCOPE_FAKE_NVML"), *cuda = getenv("HWSCOPE_FAKE_CUDA");
    if (nvml == NULL || cuda == NULL) {
        fail_msg("the fake NVML and CUDA libraries were not built");
        return;
    }
    snprintf(gpus, sizeof gpus, "%s/gpus/%s.txt", getenv("HWSCOPE_FIXTURES"), script);
    setenv("HWSCOPE_NVML_LIB", nvml, 1);
    setenv("HWSCOPE_CUDA_LIB", cuda, 1);
    setenv("HWSCOPE_FAKE_GPUS", gpus, 1);
    replay_script();
    fake_ngpus = ngpus;
    fake_bus = bus;
    hws_bench_use_gpu_table(&fake_gpu);
    hws_bench_use_multi_table(&fake_multi, &fake_nccl);
    hws_bench_options o = hws_bench_defaults();
    o.quick = true;
    hws_error err;
    assert_int_equal(hws_bench_run((const char *[]){suite}, 1, &o, &result, &err), HWS_OK);
}

static int teardown(void **state) {
    (void)state;
    hws_bench_result_free(result);
    result = NULL;
    hws_bench_use_gpu_table(NULL);
    hws_bench_use_multi_table(NULL, NULL);
    fake_no_peer = -1;
    fake_corrupt = fake_sweep_fails = false;
    fake_p2p_gbps = 370;
    return 0;
}

static void test_p2p_hgx_nvswitch(void **state) {
    (void)state;
    fake_no_peer = 5; /* in MIG mode, as the fixture's NVML says */
    run_on("h100-8", 8, h100_bus, "p2p");
    assert_int_equal(count_prefix("gpu.p2p."), 56 + 28 + 56);
    const hws_bench_record *r = find("gpu.p2p.0-1");
    assert_int_equal(r->state, HWS_BENCH_OK);
    assert_float_equal(r->median, 370, 0.5);
    assert_float_equal(r->theoretical, 18 * 25, 1e-9);
    hws_assert_contains(r->theoretical_basis, "18 NVLink 4.0 links through NVSwitch");
    assert_int_equal(r->verdict, HWS_VERDICT_NORMAL);
    assert_int_equal(r->device, 0);
    const hws_bench_record *bi = find("gpu.p2p.2-7.bidir");
    assert_float_equal(bi->median, 740, 1);
    assert_float_equal(bi->theoretical, 900, 1e-9);
    const hws_bench_record *lat = find("gpu.p2p.7-2.latency");
    assert_string_equal(lat->unit, "us");
    assert_float_equal(lat->median, 2, 1e-9);
    /* GPU 5 (MIG) has no P2P: measured through the host, with the reason, not a bare 0 */
    const hws_bench_record *mig = find("gpu.p2p.0-5");
    assert_int_equal(mig->state, HWS_BENCH_OK);
    assert_float_equal(mig->median, 20, 0.1);
    assert_false(hws_known(mig->theoretical));
    hws_assert_contains(mig->cause, "no P2P between GPU 0 and GPU 5 (cudaDeviceCanAccessPeer = "
                                    "0; NVML: the GPU does not support it): traffic goes through "
                                    "host memory, PCIe path SYS");
    assert_int_equal(mig->verdict, HWS_VERDICT_NONE);
    assert_string_equal(find("gpu.p2p.4-6")->cause, ""); /* NVLink, P2P: nothing to explain */
}

static void test_p2p_rtx4090_no_p2p(void **state) {
    (void)state;
    fake_no_peer = 1;
    run_on("rtx4090-2", 2, rtx_bus, "p2p");
    assert_int_equal(count_prefix("gpu.p2p."), 2 + 1 + 2);
    const hws_bench_record *r = find("gpu.p2p.1-0");
    assert_true(r->median > 0);
    hws_assert_contains(r->cause, "NVML: the GPU does not support it");
    hws_assert_contains(r->cause, "PCIe path PHB");
}

static void test_p2p_pcie_no_nvlink(void **state) {
    (void)state;
    static const char *const bus[] = {"0000:17:00.0", "0000:18:00.0", "0000:ca:00.0",
                                      "0000:cb:00.0"};
    fake_p2p_gbps = 25;
    run_on("pcie-4-2socket", 4, bus, "p2p");
    const hws_bench_record *r = find("gpu.p2p.0-1");
    hws_assert_contains(r->cause, "no NVLink between GPU 0 and GPU 1: P2P over PCIe PIX");
    assert_float_equal(r->theoretical, 16 * 16 * 128.0 / 130 / 8, 0.01); /* gen4 x16 */
    hws_assert_contains(find("gpu.p2p.1-2")->cause, "across the socket interconnect SYS");
}

static void test_p2p_wrong_copy_fails(void **state) {
    (void)state;
    fake_corrupt = true;
    run_on("rtx4090-2", 2, rtx_bus, "p2p");
    const hws_bench_record *r = find("gpu.p2p.0-1");
    assert_int_equal(r->state, HWS_BENCH_FAILED);
    hws_assert_contains(r->reason, "wrong result");
    assert_int_equal(find("gpu.p2p.1-0")->state, HWS_BENCH_OK);
}

static void test_p2p_one_gpu_waived(void **state) {
    (void)state;
    run_on("h100-1", 1, h100_bus, "p2p");
    const hws_bench_record *r = find("gpu.p2p");
    assert_int_equal(r->state, HWS_BENCH_WAIVED);
    hws_assert_contains(r->reason, "one GPU: peer-to-peer copies need two");
}

static void test_nccl_bus_bandwidth(void **state) {
    (void)state;
    run_on("h100-8", 8, h100_bus, "nccl");
    assert_int_equal(count_prefix("gpu.nccl."), 5 * 2);
    /* algbw 200 GB/s; busbw = 200 x 2(n-1)/n, (n-1)/n, 1 */
    const hws_bench_record *ar = find("gpu.nccl.allreduce.x8.67108864");
    assert_float_equal(ar->median, 200 * 2 * 7 / 8.0, 1e-6);
    assert_float_equal(find("gpu.nccl.allgather.x8.67108864")->median, 175, 1e-6);
    assert_float_equal(find("gpu.nccl.reducescatter.x8.1048576")->median, 175, 1e-6);
    assert_float_equal(find("gpu.nccl.broadcast.x8.67108864")->median, 200, 1e-6);
    assert_float_equal(find("gpu.nccl.alltoall.x8.67108864")->median, 175, 1e-6);
    assert_float_equal(ar->datasheet, 450, 1e-9); /* NVLink 4: 900 GB/s both ways */
    assert_true(ar->headline);
    assert_false(find("gpu.nccl.allreduce.x8.1048576")->headline);
    assert_int_equal(ar->verdict, HWS_VERDICT_NORMAL);
    hws_assert_contains(ar->method, "NCCL 2.28.9");
    hws_ceilings c;
    assert_true(hws_bench_ceilings(result, &c));
    assert_float_equal(c.allreduce_busbw_gbps, 350, 1e-6);
}

/* One GPU: the 1-rank collectives run (the path is exercised), reported as algorithm bandwidth
 * and never saved as a link ceiling. */
static void test_nccl_one_rank(void **state) {
    (void)state;
    run_on("h100-1", 1, h100_bus, "nccl");
    const hws_bench_record *ar = find("gpu.nccl.allreduce.x1.67108864");
    assert_int_equal(ar->state, HWS_BENCH_OK);
    assert_float_equal(ar->median, 200, 1e-6);
    hws_assert_contains(ar->description, "algorithm bandwidth (1 rank: no bus)");
    assert_int_equal(ar->verdict, HWS_VERDICT_NONE);
    hws_ceilings c;
    hws_bench_ceilings(result, &c);
    assert_false(hws_known(c.allreduce_busbw_gbps));
}

static void test_nccl_failure(void **state) {
    (void)state;
    fake_sweep_fails = true;
    run_on("h100-8", 8, h100_bus, "nccl");
    const hws_bench_record *r = find("gpu.nccl");
    assert_int_equal(r->state, HWS_BENCH_FAILED);
    hws_assert_contains(r->reason, "ncclCommInitRank: unhandled system error");
}

/* No NCCL library: waived with the loader's reason (runs first: the loader keeps its answer). */
static void test_nccl_missing(void **state) {
    (void)state;
    setenv("HWSCOPE_NCCL_LIB", "/nonexistent/libnccl.so.2", 1);
    run_on("h100-1", 1, h100_bus, "nccl");
    hws_bench_use_multi_table(&fake_multi, NULL);
    hws_bench_result_free(result);
    hws_bench_options o = hws_bench_defaults();
    o.quick = true;
    hws_error err;
    assert_int_equal(hws_bench_run((const char *[]){"nccl"}, 1, &o, &result, &err), HWS_OK);
    const hws_bench_record *r = find("gpu.nccl");
    assert_int_equal(r->state, HWS_BENCH_WAIVED);
    hws_assert_contains(r->reason, "NCCL not found");
    hws_assert_contains(r->reason, "HWSCOPE_NCCL_LIB");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_nccl_missing, teardown),
        cmocka_unit_test_teardown(test_p2p_hgx_nvswitch, teardown),
        cmocka_unit_test_teardown(test_p2p_rtx4090_no_p2p, teardown),
        cmocka_unit_test_teardown(test_p2p_pcie_no_nvlink, teardown),
        cmocka_unit_test_teardown(test_p2p_wrong_copy_fails, teardown),
        cmocka_unit_test_teardown(test_p2p_one_gpu_waived, teardown),
        cmocka_unit_test_teardown(test_nccl_bus_bandwidth, teardown),
        cmocka_unit_test_teardown(test_nccl_one_rank, teardown),
        cmocka_unit_test_teardown(test_nccl_failure, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
