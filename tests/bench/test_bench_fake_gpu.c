/* test_bench_fake_gpu.c - the GPU suites over a fake benchmark table and the fake NVML playing an
 * A100 whose PCIe link trained at gen3 x8: peaks from the catalog and the clocks, verdicts, the
 * PCIe cause, a wrong product failing its check, a cuBLAS error failing its records, FP8 waived. */
#include "hws_test.h"
#include "bench/bench_int.h"
#include "report/bench.h"
#include "fake_gpu_table.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hws_bench_result *result;

static const hws_bench_record *find(const char *key) {
    return hws_find_record(result, key);
}

static int setup(void **state) {
    (void)state;
    if (fake_gpu_env() != 0)
        return -1;
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
    hws_ceilings c; /* what would be saved: nothing wrong or failed */
    assert_true(hws_bench_ceilings(result, &c));
    assert_float_equal(c.fp16_tflops, 200, 0.5);
    assert_false(hws_known(c.bf16_tflops));
    assert_false(hws_known(c.int8_tops));
    assert_false(hws_known(c.fp8_tflops));
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
    /* an int field: the record's count of GPU samples, a JSON number */
    hws_assert_json_num(back, "records.0.gpu_state.samples", result->records[0].gpu.nsamples, 0);
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
