/* test_bench_fake_gpu.c - the GPU suites over a fake benchmark table and the fake NVML playing an
 * A100 whose PCIe link trained at gen3 x8: peaks from the catalog and the clocks, verdicts, the
 * PCIe cause, a wrong product failing its check, a cuBLAS error failing its records, FP8 waived. */
#include "hws_test.h"
#include "bench/bench_int.h"
#include "bench/bench_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hws_status fake_count(int *count, hws_error *err) {
    (void)err;
    *count = 1;
    return HWS_OK;
}

static hws_status fake_props(int device, hws_gpu_dev_props *p, hws_error *err) {
    (void)device, (void)err;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "NVIDIA A100-PCIE-40GB");
    snprintf(p->pci_bus_id, sizeof p->pci_bus_id, "0000:3b:00.0");
    p->cc_major = 8;
    p->sm_count = 108;
    p->max_sm_clock_mhz = 1410;
    p->max_mem_clock_mhz = 1215;
    p->mem_bus_width_bits = 5120;
    p->mem_total_bytes = 40.0 * 1024 * 1024 * 1024;
    p->runtime_version = p->driver_version = 13000;
    p->cublaslt_version = 130100;
    return HWS_OK;
}

/* D2D at 1400 GB/s (read + written), H2D pinned at 6 GB/s (a quarter of gen4 x16), others 20. */
static hws_status fake_copy(int device, hws_gpu_copy_kind kind, double bytes, int warmup, int reps,
                            double *ms, hws_error *err) {
    (void)device, (void)warmup, (void)err;
    bool d2d = kind <= HWS_GPU_COPY_D2D_MEMCPY;
    double gbps = d2d ? 1400 : kind == HWS_GPU_COPY_H2D_PINNED ? 6 : 20;
    for (int i = 0; i < reps; i++)
        ms[i] = (d2d ? 2 : 1) * bytes / (gbps * 1e9) * 1e3 * (1 + 0.01 * i);
    return HWS_OK;
}

/* Products at about two thirds of the A100's datasheet; BF16 fast but wrong; INT8 fails. */
static hws_status fake_gemm(int device, hws_gpu_dtype dt, int m, int n, int k, int warmup, int reps,
                            int settle_ms, double *ms, hws_gpu_check *check, char *note,
                            size_t note_len, hws_error *err) {
    static const double tflops[HWS_GPU_DTYPES] = {13, 100, 200, 400, 0, 400};
    (void)device, (void)warmup, (void)settle_ms;
    if (dt == HWS_GPU_INT8) {
        snprintf(err->msg, sizeof err->msg, "cublasLtMatmul: CUBLAS_STATUS_NOT_SUPPORTED");
        return HWS_ERR_RUNTIME;
    }
    for (int i = 0; i < reps; i++)
        ms[i] = 2.0 * m * n * k / (tflops[dt] * 1e12) * 1e3;
    check->checked = 256;
    check->max_rel_err = dt == HWS_GPU_BF16 ? 0.5 : 1e-6;
    snprintf(note, note_len, "fake");
    return HWS_OK;
}

static const hws_gpu_bench_table fake = {HWS_GPU_BENCH_ABI, fake_count, fake_props, fake_copy,
                                         fake_gemm};

static hws_bench_result *result;

static const hws_bench_record *find(const char *key) {
    for (int i = 0; i < result->nrecords; i++)
        if (strcmp(result->records[i].key, key) == 0)
            return &result->records[i];
    fail_msg("no record %s", key);
    return NULL;
}

static int setup(void **state) {
    (void)state;
    char gpus[4096];
    const char *nvml = getenv("HWSCOPE_FAKE_NVML");
    if (nvml == NULL || getenv("HWSCOPE_FAKE_CUDA") == NULL)
        return -1;
    snprintf(gpus, sizeof gpus, "%s/gpus/pcie-degraded.txt", getenv("HWSCOPE_FIXTURES"));
    setenv("HWSCOPE_NVML_LIB", nvml, 1);
    setenv("HWSCOPE_CUDA_LIB", getenv("HWSCOPE_FAKE_CUDA"), 1);
    setenv("HWSCOPE_FAKE_GPUS", gpus, 1);
    hws_bench_use_gpu_table(&fake);
    hws_bench_options o = hws_bench_defaults();
    o.quick = true;
    hws_error err;
    return hws_bench_run((const char *[]){"gpu"}, 1, &o, &result, &err) == HWS_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    hws_bench_result_free(result);
    hws_bench_use_gpu_table(NULL);
    return 0;
}

static void test_pcie_cause(void **state) {
    (void)state;
    const hws_bench_record *h2d = find("gpu.h2d.pinned");
    assert_int_equal(h2d->state, HWS_BENCH_OK);
    assert_float_equal(h2d->median, 6 / 1.02, 0.01); /* the middle of 5 runs, 1% apart */
    assert_float_equal(h2d->theoretical, 16 * 16 * 128.0 / 130 / 8, 0.01); /* gen4 x16 */
    assert_int_equal(h2d->verdict, HWS_VERDICT_SUSPECT);
    hws_assert_contains(h2d->cause, "PCIe link at gen 3 x8, below its max gen 4 x16");
    const hws_bench_record *d2h = find("gpu.d2h.pinned");
    assert_int_equal(d2h->verdict, HWS_VERDICT_LOW);
    hws_assert_contains(d2h->cause, "gen 3 x8");
    const hws_bench_record *d2d = find("gpu.d2d");
    assert_int_equal(d2d->verdict, HWS_VERDICT_NORMAL);
    assert_string_equal(d2d->cause, "");
    assert_float_equal(d2d->median, 1400 / 1.02, 0.1);
}

static void test_products(void **state) {
    (void)state;
    const hws_bench_record *fp16 = find("gpu.gemm.fp16.4096");
    assert_int_equal(fp16->state, HWS_BENCH_OK);
    assert_float_equal(fp16->median, 200, 0.5);
    assert_true(fp16->datasheet > 250 && fp16->datasheet < 400); /* A100 PCIe: 312 */
    assert_float_equal(fp16->theoretical, 2048 * 108 * 1410e6 / 1e12, 0.01);
    assert_int_equal(fp16->verdict, HWS_VERDICT_NORMAL);
    const hws_bench_record *bf16 = find("gpu.gemm.bf16.4096"); /* fast and wrong */
    assert_int_equal(bf16->state, HWS_BENCH_FAILED);
    assert_int_equal(bf16->verdict, HWS_VERDICT_SUSPECT);
    hws_assert_contains(bf16->reason, "wrong result");
    const hws_bench_record *fp8 = find("gpu.gemm.fp8");
    assert_int_equal(fp8->state, HWS_BENCH_WAIVED);
    hws_assert_contains(fp8->reason, "compute capability 8.9");
    const hws_bench_record *int8 = find("gpu.gemm.int8");
    assert_int_equal(int8->state, HWS_BENCH_FAILED);
    hws_assert_contains(int8->reason, "NOT_SUPPORTED");
}

static void test_fingerprint_and_json(void **state) {
    (void)state;
    const hws_bench_fingerprint *fp = &result->fingerprint;
    assert_int_equal(fp->ngpus, 1);
    assert_string_equal(fp->gpu_name[0], "NVIDIA A100-PCIE-40GB");
    assert_string_equal(fp->driver_version, "580.159.04");
    cJSON *doc = hws_bench_json(result, (const char *[]){"gpu"}, 1, true);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON *back = cJSON_Parse(text);
    assert_non_null(back);
    const cJSON *rec;
    int n = 0;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItem(back, "records")) {
        hws_assert_json_str(rec, "fingerprint.gpus.0.name", "NVIDIA A100-PCIE-40GB");
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(rec, "gpu_samples")));
        n++;
    }
    assert_int_equal(n, result->nrecords);
    hws_assert_json_str(back, "records.0.key", "gpu.d2d.kernel");
    cJSON_Delete(back);
    cJSON_free(text);
    cJSON_Delete(doc);
}

static void test_table(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    hws_bench_print(result, out);
    fclose(out);
    hws_assert_contains(buf, "gpu.h2d.pinned");
    hws_assert_contains(buf, "suspect");
    hws_assert_contains(buf, "PCIe link at gen 3 x8");
    hws_assert_contains(buf, "Ampere GA100: 2048 FLOP per SM per clock x 108 SMs x 1410 MHz");
    free(buf);
}

/* A GPU index the runtime does not have is bad input, found before anything is measured. */
static void test_missing_device(void **state) {
    (void)state;
    hws_bench_options o = hws_bench_defaults();
    o.quick = true;
    o.device = 3;
    hws_bench_result *r = NULL;
    hws_error err;
    assert_int_equal(hws_bench_run((const char *[]){"gpu"}, 1, &o, &r, &err), HWS_ERR_INPUT);
    assert_null(r);
    hws_assert_contains(err.msg, "--device 3: the CUDA runtime sees 1 GPU(s)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcie_cause),           cmocka_unit_test(test_products),
        cmocka_unit_test(test_fingerprint_and_json), cmocka_unit_test(test_table),
        cmocka_unit_test(test_missing_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
