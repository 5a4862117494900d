/* test_log.c - `hwscope log` against the fake NVML: the CSV header and field names are
 * nvidia-smi's (as a real nvidia-smi printed them, tests/fixtures/monitor/), values and JSON
 * lines match the script, SIGINT/SIGTERM end after whole lines with exit 0, a full disk and a
 * closed pipe are exit 1 with a message and no torn line, bad flags are exit 2. */
#include "mon_test.h"

#include "monitor/sample_fields.h"

#include <errno.h>
#include <poll.h>

static int setup(void **state) {
    (void)state;
    return mon_setup_script(2, "gpu1.fan_pct = NVML_ERROR_NOT_SUPPORTED\n");
}

/* Splits a CSV line at ", " in place; returns the number of cells. */
static int cells(char *line, char **out, int max) {
    int n = 0;
    line[strcspn(line, "\n")] = '\0';
    for (char *p = line; p != NULL && n < max;) {
        out[n++] = p;
        p = strstr(p, ", ");
        if (p != NULL)
            *p = '\0', p += 2;
    }
    return n;
}

/* The header and row a real nvidia-smi printed on an H100 (tests/fixtures/monitor/README.md);
 * hwscope log, playing the same readings, heads and fills every column it shares the same way. */
static void test_layout_is_nvidia_smis(void **state) {
    (void)state;
    char *capture = hws_read_file(hws_fixture("monitor/nvidia-smi-h100-590.48.01.csv"));
    char *row = strchr(capture, '\n') + 1, *head[256], *value[256];
    row[-1] = '\0';
    int n = cells(capture, head, 256);
    assert_int_equal(cells(row, value, 256), n);
    char query[4096] = "--query-gpu=";
    char *want_head[64], *want_value[64];
    int nq = 0;
    for (int i = 1; i < n && nq < 64; i++) { /* every column but the timestamp hwscope knows */
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(head[i], " "), head[i]);
        if (hws_mon_gpu_field_find(name) == NULL)
            continue;
        snprintf(query + strlen(query), sizeof query - strlen(query), "%s%s", nq ? "," : "", name);
        want_head[nq] = head[i];
        want_value[nq++] = value[i];
    }
    assert_true(nq >= 20);
    hws_run r;
    hws_run_cli(&r, mon_env(hws_fixture("gpus/h100-capture-590.txt")), "log", "--count", "1", query,
                "--format=csv", NULL);
    assert_int_equal(r.exit_code, 0);
    char *line2 = strchr(r.out, '\n');
    assert_non_null(line2);
    *line2++ = '\0';
    char *got_head[64], *got_value[64];
    assert_int_equal(cells(r.out, got_head, 64), nq);
    assert_int_equal(cells(line2, got_value, 64), nq);
    for (int i = 0; i < nq; i++) {
        assert_string_equal(got_head[i], want_head[i]);
        assert_string_equal(got_value[i], want_value[i]);
    }
    hws_run_free(&r);
    /* an alias heads its column with the canonical name, as nvidia-smi does */
    hws_run_cli(&r, mon_env(hws_fixture("gpus/h100-capture-590.txt")), "log", "--count", "1",
                "--query-gpu=clocks.sm,clocks.mem,power.draw", "--format=csv,nounits", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.out, "clocks.current.sm [MHz], clocks.current.memory [MHz], power.draw "
                               "[W]\n1980, 2619, 631.95\n");
    hws_run_free(&r);
    free(capture);
}

static void test_values_and_jsonl(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, mon_env(mon_file_script), "log", "--count", "1",
                "--query-gpu=index,utilization.gpu,memory.used,power.draw,fan.speed,pstate",
                "--format=csv,noheader", NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.out, "0, 10 %, 1024 MiB, 100.00 W, [N/A], P0\n"
                               "1, 17 %, 2048 MiB, 110.00 W, [N/A], P0\n");
    hws_run_free(&r);
    hws_run_cli(&r, mon_env(mon_file_script), "log", "--count", "1", "--format", "jsonl",
                "--query-gpu", "utilization.gpu,memory.used,energy_mj", NULL);
    assert_int_equal(r.exit_code, 0);
    char *second = strchr(r.out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    cJSON *doc = cJSON_Parse(second);
    assert_non_null(doc);
    hws_assert_json_num(doc, "gpu", 1, 0);
    hws_assert_json_num(doc, "util_gpu_pct", 17, 0);
    hws_assert_json_num(doc, "mem_used_bytes", 2147483648.0, 0);
    hws_assert_json_num(doc, "energy_mj", 1000001, 0);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "timestamp")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "hostname")));
    cJSON_Delete(doc);
    hws_run_free(&r);
}

static void test_bad_input_and_no_gpu(void **state) {
    (void)state;
    hws_run r;
    hws_run_cli(&r, mon_env(mon_file_script), "log", "--format=xml", NULL);
    hws_assert_bad_input(&r, "--format");
    hws_run_free(&r);
    hws_run_cli(&r, mon_env(mon_file_script), "log", "--query-gpu=memory.used,bogus.field", NULL);
    hws_assert_bad_input(&r, "bogus.field");
    hws_run_free(&r);
    hws_run_cli(&r, mon_env(mon_file_script), "log", "--interval", "0", NULL);
    hws_assert_bad_input(&r, "--interval");
    hws_run_free(&r);
    hws_run_cli(&r, mon_env(hws_fixture("gpus/no-driver.txt")), "log", "--count", "1", NULL);
    assert_int_equal(r.exit_code, 1);
    assert_string_equal(r.out, "");
    hws_assert_contains(r.err, "no GPU");
    hws_run_free(&r);
}

/* Every line of text ends in a newline and has n_fields comma-separated fields. */
static void assert_whole_lines(const char *text, int n_fields) {
    assert_true(text[0] == '\0' || text[strlen(text) - 1] == '\n');
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        int fields = 1;
        for (const char *p = line; p < end; p++)
            fields += *p == ',';
        assert_int_equal(fields, n_fields);
        line = end + 1;
    }
}

static void stop_with(int sig) {
    char out_path[] = "/tmp/hws_log_out_XXXXXX";
    int out = mkstemp(out_path);
    assert_true(out >= 0);
    const char *argv[] = {"log", "--interval", "0.05", "--query-gpu=index,memory.used,power.draw",
                          NULL};
    pid_t pid = mon_spawn(mon_file_script, out, -1, argv);
    close(out);
    for (int i = 0; i < 200; i++) { /* until a few records are out */
        struct stat st;
        if (stat(out_path, &st) == 0 && st.st_size > 300)
            break;
        mon_sleep_ms(20);
    }
    kill(pid, sig);
    assert_int_equal(mon_wait(pid), 0);
    char *text = hws_read_file(out_path);
    assert_true(strlen(text) > 300);
    assert_whole_lines(text, 3);
    free(text);
    unlink(out_path);
}

static void test_sigint_sigterm_end_cleanly(void **state) {
    (void)state;
    stop_with(SIGINT);
    stop_with(SIGTERM);
}

static void test_full_disk(void **state) {
    (void)state;
    int full = open("/dev/full", O_WRONLY);
    if (full < 0) {
        printf("SKIPPED: no /dev/full on this machine\n");
        skip();
    }
    int err_pipe[2];
    assert_int_equal(pipe(err_pipe), 0);
    const char *argv[] = {"log", "--count", "3", "--interval", "0.05", NULL};
    pid_t pid = mon_spawn(mon_file_script, full, err_pipe[1], argv);
    close(full);
    close(err_pipe[1]);
    char err[1024];
    mon_read_fd(err_pipe[0], err, sizeof err);
    assert_int_equal(mon_wait(pid), 1);
    hws_assert_contains(err, "cannot write");
    hws_assert_contains(err, "No space left");
}

static void test_closed_pipe(void **state) {
    (void)state;
    int out[2], err_pipe[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err_pipe), 0);
    const char *argv[] = {"log", "--interval", "0.05", "--query-gpu=index,memory.used", NULL};
    pid_t pid = mon_spawn(mon_file_script, out[1], err_pipe[1], argv);
    close(out[1]);
    close(err_pipe[1]);
    char buf[4096];
    size_t got = 0;
    while (got < 200) { /* read a few lines, then hang up mid-stream */
        struct pollfd p = {out[0], POLLIN, 0};
        assert_true(poll(&p, 1, 10000) == 1);
        ssize_t n = read(out[0], buf + got, sizeof buf - 1 - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(out[0]);
    char err[1024];
    mon_read_fd(err_pipe[0], err, sizeof err);
    assert_int_equal(mon_wait(pid), 1);
    hws_assert_contains(err, "Broken pipe");
    /* what was read is whole lines: each write is one line, atomic on a pipe */
    char *last_nl = strrchr(buf, '\n');
    assert_non_null(last_nl);
    assert_int_equal(last_nl[1], '\0');
    assert_whole_lines(buf, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_is_nvidia_smis),
        cmocka_unit_test(test_values_and_jsonl),
        cmocka_unit_test(test_bad_input_and_no_gpu),
        cmocka_unit_test(test_sigint_sigterm_end_cleanly),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_closed_pipe),
    };
    return cmocka_run_group_tests(tests, setup, mon_teardown_script);
}
