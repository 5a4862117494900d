/* mon_test.h - helpers the monitor tests share (included by each; tests/CMakeLists.txt builds only
 * test_*.c): a fake-GPU script of N GPUs, starting hwscope in the background with the fake NVML,
 * finding a tool on PATH, and a sampler started in the test on the fake NVML. */
#ifndef HWSCOPE_TESTS_MON_TEST_H
#define HWSCOPE_TESTS_MON_TEST_H

#include "hws_test.h"
#include "hwscope/monitor.h"
#include "monitor/sample_fields.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A fake-GPU script with n H100s: GPU i at util (10 + 7i) % 100 %, 1 + i GiB used, 40 + i C,
 * (100 + 10i) W; `extra` lines appended (may be NULL). Returns a path in a static buffer. */
static inline const char *mon_script(int n, const char *extra) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hws_mon_gpus_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "nvml.init = ok\ndriver_version = 580.159.04\ngpus = %d\n", n);
    for (int i = 0; i < n; i++) {
        double used = (1.0 + i) * 1073741824.0, total = 85520809984.0;
        fprintf(f,
                "gpu%d.name = NVIDIA H100 80GB HBM3\n"
                "gpu%d.uuid = GPU-00000000-0000-0000-0000-%012d\n"
                "gpu%d.pci_bus_id = 00000000:%02X:00.0\n"
                "gpu%d.memory_total = %.0f\ngpu%d.memory_used = %.0f\ngpu%d.memory_free = %.0f\n"
                "gpu%d.util_gpu = %d\ngpu%d.util_mem = %d\ngpu%d.temperature_c = %d\n"
                "gpu%d.power_usage_mw = %d\ngpu%d.power_limit_mw = 700000\n"
                "gpu%d.sm_clock_mhz = 1980\ngpu%d.mem_clock_mhz = 2619\n"
                "gpu%d.max_sm_clock_mhz = 1980\ngpu%d.clocks_event_reasons = 0x0\n"
                "gpu%d.pstate = 0\ngpu%d.energy_mj = %d\ngpu%d.pcie_gen_cur = 5\n"
                "gpu%d.pcie_width_cur = 16\ngpu%d.ecc_errors_corrected = 0\n"
                "gpu%d.ecc_errors_uncorrected = 0\ngpu%d.procs = \"\"\n",
                i, i, i, i, 0x18 + i, i, total, i, used, i, total - used, i, (10 + 7 * i) % 100, i,
                5 + i, i, 40 + i, i, 100000 + 10000 * i, i, i, i, i, i, i, i, 1000000 + i, i, i, i,
                i, i);
    }
    if (extra != NULL)
        fputs(extra, f);
    fclose(f);
    return path;
}

/* The environment entries that point hwscope at the fake NVML playing script. */
static inline const char *const *mon_env(const char *script) {
    static char lib[1024], gpus[256];
    snprintf(lib, sizeof lib, "HWSCOPE_NVML_LIB=%s", getenv("HWSCOPE_FAKE_NVML"));
    snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s", script);
    static const char *env[3];
    env[0] = lib;
    env[1] = gpus;
    env[2] = NULL;
    return env;
}

/* Starts $HWSCOPE_BIN argv... in the background with the fake NVML playing script; stdout and
 * stderr go to the given fds (-1: /dev/null). Returns the pid. */
static inline pid_t mon_spawn(const char *script, int out_fd, int err_fd, const char *const *argv) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that fails midway leaves no server behind */
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 0);
        dup2(out_fd >= 0 ? out_fd : null_fd, 1);
        dup2(err_fd >= 0 ? err_fd : null_fd, 2);
        for (int fd = 3; fd < 1024; fd++) /* the test's pipe ends must not stay open in here */
            close(fd);
        setenv("HWSCOPE_NVML_LIB", getenv("HWSCOPE_FAKE_NVML"), 1);
        setenv("HWSCOPE_FAKE_GPUS", script, 1);
        const char *args[32] = {getenv("HWSCOPE_BIN")};
        for (int i = 0; argv[i] != NULL && i < 30; i++)
            args[i + 1] = argv[i];
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    return pid;
}

/* Waits for pid; returns its exit status, 128 + signal when killed. */
static inline int mon_wait(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* 1 when tool is an executable on PATH. */
static inline int mon_have(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* Skips the current test, saying why on stdout, when tool is missing (scripts/deps.sh installs
 * every tool the monitor tests use; a skip means this machine lacks it). */
#define MON_REQUIRE(tool)                                                                          \
    do {                                                                                           \
        if (!mon_have(tool)) {                                                                     \
            printf("SKIPPED: '%s' is not on PATH (scripts/deps.sh installs it)\n", tool);          \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* Reads what fd gives until it closes (at most n - 1 bytes), NUL-terminated; closes fd. */
static inline char *mon_read_fd(int fd, char *buf, size_t n) {
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = '\0';
    close(fd);
    return buf;
}

/* A script of n GPUs (mon_script) kept for a whole test file: group setup and teardown. */
static const char *mon_file_script __attribute__((unused));
static inline int mon_setup_script(int n, const char *extra) {
    static char path[64];
    snprintf(path, sizeof path, "%s", mon_script(n, extra));
    mon_file_script = path;
    return 0;
}
static inline int mon_teardown_script(void **state) {
    (void)state;
    unlink(mon_file_script);
    return 0;
}

/* Sleeps ms milliseconds. */
static inline void mon_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A monitor reading every interval_s on the fake NVML (the script in the environment), which
 * must list want_gpus GPUs; waits until every reader has published once. */
static inline hws_monitor *mon_start(double interval_s, int want_gpus) {
    hws_monitor *m = NULL;
    hws_error err = {""};
    assert_int_equal(hws_monitor_start(&(hws_monitor_options){.interval_s = interval_s}, &m, &err),
                     HWS_OK);
    assert_int_equal(hws_monitor_gpu_count(m), want_gpus);
    assert_true(hws_monitor_wait_ready(m, 5000));
    return m;
}

/* The Prometheus text of s in the given names (the caller frees it). */
static inline char *mon_prometheus(const hws_mon_sample *s, hws_prom_names names) {
    FILE *out = tmpfile();
    assert_non_null(out);
    hws_mon_prometheus(out, s, names);
    long len = ftell(out);
    char *text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(out);
    assert_int_equal(fread(text, 1, (size_t)len, out), (size_t)len);
    fclose(out);
    return text;
}

#endif
