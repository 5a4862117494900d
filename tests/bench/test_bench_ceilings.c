/* test_bench_ceilings.c - `hwscope bench` saving the measured ceilings for `hwscope plan`: over
 * the fake GPU table and the fake NVML (an A100 PCIe) with XDG_CACHE_HOME in a temporary folder,
 * the file is created, merged with other GPUs' entries, read back by hws_ceilings_load and used
 * by the planner; a corrupt file is an error naming it and is left alone; --no-save skips it. */
#include "hws_test.h"
#include "bench/bench_int.h"
#include "cli/commands.h"
#include "fake_gpu_table.h"
#include "util/units.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPU "NVIDIA A100-PCIE-40GB"

static char dir[256], path[512];

/* Runs `hwscope bench gpu --quick [extra]` in this process (so it measures the fake table),
 * with stdout dropped and stderr into err_text. Returns the exit code. */
static int bench_cli(const char *extra, char *err_text, size_t len) {
    char *argv[] = {"bench", "gpu", "--quick", (char *)extra, NULL};
    char errfile[600];
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", dir);
    fflush(stdout);
    fflush(stderr);
    int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY), ef = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(out >= 0 && err >= 0 && null >= 0 && ef >= 0);
    dup2(null, STDOUT_FILENO);
    dup2(ef, STDERR_FILENO);
    int rc = cmd_bench(extra != NULL ? 4 : 3, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    close(out), close(err), close(null), close(ef);
    char *text = hws_read_file(errfile);
    assert_non_null(text);
    snprintf(err_text, len, "%s", text);
    free(text);
    return rc;
}

/* The saved file, parsed. */
static cJSON *saved_doc(void) {
    char *text = hws_read_file(path);
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}

static void write_text(const char *text) {
    hws_write_file(path, text, strlen(text));
}

static int setup(void **state) {
    (void)state;
    if (fake_gpu_env() != 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/hws-ceilings-XXXXXX", P_tmpdir);
    if (mkdtemp(dir) == NULL)
        return -1;
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("HWSCOPE_CEILINGS");
    snprintf(path, sizeof path, "%s/hwscope/ceilings.json", dir);
    fake_wrong_bf16 = fake_int8_fails = false; /* every figure measured and right */
    hws_bench_use_gpu_table(&fake);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[600];
    hws_bench_use_gpu_table(NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* No file and no folder yet: both are made, with the figures the fake table gives. */
static void test_written_and_read_back(void **state) {
    (void)state;
    char err[4096];
    unlink(path);
    assert_int_equal(bench_cli(NULL, err, sizeof err), 0);
    hws_assert_contains(err, "saved the measured ceilings of " GPU " to ");
    hws_assert_contains(err, path);
    hws_ceilings c;
    hws_error e;
    assert_int_equal(hws_ceilings_load(path, GPU, NULL, &c, &e), HWS_OK);
    assert_float_equal(c.mem_bw_gbps, 1400 / 1.02, 0.1); /* the middle of 5 runs, 1% apart */
    assert_float_equal(c.fp32_tflops, 13, 0.1);
    assert_float_equal(c.fp16_tflops, 200, 0.1);
    assert_float_equal(c.bf16_tflops, 100 * 2, 0.1);
    assert_float_equal(c.int8_tops, 400, 0.1);
    assert_false(hws_known(c.fp8_tflops)); /* waived before compute capability 8.9 */
    assert_false(hws_known(c.allreduce_busbw_gbps));
    assert_false(hws_known(c.host_mem_bw_gbps)); /* no CPU suite ran */
    assert_int_equal(strlen(c.measured_at), strlen("2026-11-25T02:10:00Z"));
    cJSON *doc = saved_doc();
    hws_assert_json_str(doc, "schema", "hwscope.ceilings/1");
    hws_assert_json_str(doc, "gpus.0.hwscope_version", hws_version());
    cJSON_Delete(doc);
}

/* Other GPUs' entries stay; this GPU's entry keeps what the run did not measure. */
static void test_merged(void **state) {
    (void)state;
    char err[4096];
    write_text("{\"schema\": \"hwscope.ceilings/1\", \"gpus\": ["
               "{\"name\": \"NVIDIA H100 80GB HBM3\", \"mem_bw_gbps\": 3000, \"bf16_tflops\": 790,"
               " \"measured_at\": \"2026-11-24T00:00:00Z\"},"
               "{\"name\": \"" GPU "\", \"mem_bw_gbps\": 1, \"fp8_tflops\": 5,"
               " \"allreduce_busbw_gbps\": 200, \"measured_at\": \"2026-11-24T00:00:00Z\"}]}");
    assert_int_equal(bench_cli(NULL, err, sizeof err), 0);
    hws_ceilings c;
    hws_error e;
    assert_int_equal(hws_ceilings_load(path, "NVIDIA H100 80GB HBM3", NULL, &c, &e), HWS_OK);
    assert_float_equal(c.mem_bw_gbps, 3000, 0);
    assert_float_equal(c.bf16_tflops, 790, 0);
    assert_string_equal(c.measured_at, "2026-11-24T00:00:00Z");
    assert_int_equal(hws_ceilings_load(path, GPU, NULL, &c, &e), HWS_OK);
    assert_float_equal(c.mem_bw_gbps, 1400 / 1.02, 0.1);
    assert_float_equal(c.fp8_tflops, 5, 0);
    assert_float_equal(c.allreduce_busbw_gbps, 200, 0);
    assert_string_not_equal(c.measured_at, "2026-11-24T00:00:00Z");
    cJSON *doc = saved_doc();
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "gpus")), 2);
    cJSON_Delete(doc);
}

/* A file that is not a ceilings document is named and left as it is: exit 1, unless --no-save;
 * no temporary file is left beside it. */
static void test_corrupt_file(void **state) {
    (void)state;
    static const char *const bad[] = {"{\"gpus\": [", "{\"schema\": \"other/1\", \"gpus\": []}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[4096];
        write_text(bad[i]);
        assert_int_equal(bench_cli(NULL, err, sizeof err), 1);
        hws_assert_contains(err, path);
        hws_assert_contains(err, "not a hwscope.ceilings/1 document");
        hws_assert_contains(err, "--no-save");
        char *now = hws_read_file(path);
        assert_string_equal(now, bad[i]);
        free(now);
        assert_int_equal(bench_cli("--no-save", err, sizeof err), 0);
        assert_null(strstr(err, "ceilings"));
        now = hws_read_file(path);
        assert_string_equal(now, bad[i]);
        free(now);
    }
    char folder[600];
    snprintf(folder, sizeof folder, "%s/hwscope", dir);
    DIR *d = opendir(folder);
    const struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        assert_null(strstr(ent->d_name, ".tmp"));
    closedir(d);
}

/* `hwscope plan --gpus local` on the same (fake) machine predicts from the saved figures. */
static void test_plan_uses_them(void **state) {
    (void)state;
    char err[4096], want[128];
    unlink(path);
    assert_int_equal(bench_cli(NULL, err, sizeof err), 0);
    hws_ceilings c;
    hws_error e;
    assert_int_equal(hws_ceilings_load(path, GPU, NULL, &c, &e), HWS_OK);
    hws_run r;
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--gpus", "local", NULL);
    assert_int_equal(r.exit_code, 0);
    snprintf(want, sizeof want, "measured on this machine (%s, hwscope bench)", c.measured_at);
    hws_assert_contains(r.out, "basis: ");
    hws_assert_contains(r.out, want);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "plan", "Llama-3.1-8B", "--gpus", "local", "--json", NULL);
    cJSON *doc = hws_run_json(&r);
    assert_true(cJSON_IsTrue(hws_json_at(doc, "prediction.inputs.measured")));
    hws_assert_json_num(doc, "prediction.inputs.mem_bw_gbps", c.mem_bw_gbps, 0.01);
    cJSON_Delete(doc);
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_and_read_back),
        cmocka_unit_test(test_merged),
        cmocka_unit_test(test_corrupt_file),
        cmocka_unit_test(test_plan_uses_them),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
