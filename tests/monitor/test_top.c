/* test_top.c - `hwscope top` driven in tmux (send-keys, capture-pane) against the fake NVML: 0, 1,
 * 8 and 16 GPUs and host only at 80x24 and larger; keys for help, sort, select, kill (with
 * confirmation, of a process this test started) and quit; resize; a GPU lost while running; host
 * PIDs seen from a container. */
#include "mon_test.h"

static char socket_name[64];

/* Runs `tmux -L <socket> <args>`; returns its exit status. */
static int tmux(const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "tmux -L %s -f /dev/null %s >/dev/null 2>&1", socket_name, args);
    return system(cmd);
}

static char *capture(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -t mon 2>/dev/null", socket_name);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, p);
    text[n] = '\0';
    pclose(p);
    return text;
}

/* Waits (at most 10 s) until the screen shows want; fails the test with the screen when not. */
static void wait_for(const char *want) {
    char *screen = NULL;
    for (int i = 0; i < 100; i++) {
        free(screen);
        screen = capture();
        if (strstr(screen, want) != NULL) {
            free(screen);
            return;
        }
        mon_sleep_ms(100);
    }
    fail_msg("the screen never showed '%s'; it shows:\n%s", want, screen);
}

/* 1 when the screen shows text now. */
static int showing(const char *text) {
    char *screen = capture();
    int found = strstr(screen, text) != NULL;
    free(screen);
    return found;
}

/* Starts top in a new tmux session of cols x rows; the pane stays after top ends and shows
 * "EXIT=<status>". */
static void start_top(const char *script, int cols, int rows, const char *flags) {
    static int started;
    char args[2048];
    /* a fresh server per start: a server still shutting down cannot refuse the next one */
    snprintf(socket_name, sizeof socket_name, "hws_top_%d_%d", (int)getpid(), started++);
    snprintf(args, sizeof args,
             "new-session -d -s mon -x %d -y %d \"env -u COLUMNS -u LINES HWSCOPE_NVML_LIB=%s "
             "HWSCOPE_FAKE_GPUS=%s "
             "%s top --interval 0.2 %s; echo EXIT=\\$?; sleep 60\"",
             cols, rows, getenv("HWSCOPE_FAKE_NVML"), script, getenv("HWSCOPE_BIN"), flags);
    assert_int_equal(tmux(args), 0);
    wait_for("hwscope top");
}

static void quit_top(void) {
    tmux("send-keys -t mon q");
    wait_for("EXIT=0");
    tmux("kill-server");
}

static void keys(const char *k) {
    char args[128];
    snprintf(args, sizeof args, "send-keys -t mon %s", k);
    assert_int_equal(tmux(args), 0);
}

static void test_keys_and_kill(void **state) {
    (void)state;
    MON_REQUIRE("tmux");
    pid_t victim = fork();
    assert_true(victim >= 0);
    if (victim == 0) {
        execlp("sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             "gpu0.procs = %d:/usr/bin/sleep:4294967296, 4242:/usr/bin/python3:8589934592\n"
             "gpu0.proc_util = %d:30:10, 4242:60:20\n",
             (int)victim, (int)victim);
    const char *script = mon_script(1, extra);
    start_top(script, 80, 24, "");
    wait_for("1 GPU");
    wait_for("H100 80GB");
    wait_for("sort: GPU memory");
    keys("h");
    wait_for("keys");
    wait_for("kill the selected process");
    keys("x"); /* any key closes the help */
    wait_for("PID GPU USER");
    keys("s");
    wait_for("sort: utilisation");
    keys("p");
    wait_for("sort: PID");
    keys("m"); /* by memory: python3 (8 GiB) first, the sleep (4 GiB) second */
    wait_for("sort: GPU memory");
    keys("Down");
    keys("k");
    char prompt[64];
    snprintf(prompt, sizeof prompt, "Kill PID %d", (int)victim);
    wait_for(prompt);
    keys("n");
    wait_for("kill cancelled");
    assert_int_equal(waitpid(victim, NULL, WNOHANG), 0); /* still alive */
    keys("k");
    wait_for(prompt);
    keys("y");
    char sent[64];
    snprintf(sent, sizeof sent, "sent SIGTERM to PID %d", (int)victim);
    wait_for(sent);
    assert_int_equal(mon_wait(victim), 128 + SIGTERM);
    quit_top();
    unlink(script);
}

static void test_gpu_counts_and_host_only(void **state) {
    (void)state;
    MON_REQUIRE("tmux");
    start_top(hws_fixture("gpus/no-driver.txt"), 80, 24, "");
    wait_for("No GPU:");
    wait_for("CPU [");
    quit_top();
    start_top(hws_fixture("gpus/h100-1.txt"), 80, 24, "--no-gpu");
    wait_for("host only");
    quit_top();
    const int counts[] = {8, 16};
    const int sizes[][2] = {{80, 24}, {120, 40}};
    for (size_t c = 0; c < 2; c++)
        for (size_t s = 0; s < 2; s++) {
            const char *script = mon_script(counts[c], NULL);
            char last[32];
            start_top(script, sizes[s][0], sizes[s][1], "");
            snprintf(last, sizeof last, "%2d H100 80GB HBM", counts[c] - 1);
            wait_for(last); /* every GPU is on screen */
            assert_false(showing("more GPUs"));
            quit_top();
            unlink(script);
        }
}

static void test_resize(void **state) {
    (void)state;
    MON_REQUIRE("tmux");
    const char *script = mon_script(16, NULL);
    start_top(script, 80, 24, "");
    wait_for("15 H100 80GB HBM");
    assert_false(showing("utilisation, last")); /* no room for the graph at 80x24 */
    assert_int_equal(tmux("resize-window -t mon -x 100 -y 30"), 0);
    wait_for("utilisation, last");
    assert_int_equal(tmux("resize-window -t mon -x 30 -y 8"), 0);
    wait_for("terminal too small");
    assert_int_equal(tmux("resize-window -t mon -x 80 -y 24"), 0);
    wait_for("15 H100 80GB HBM");
    quit_top();
    unlink(script);
}

static void test_gpu_lost_while_running(void **state) {
    (void)state;
    MON_REQUIRE("tmux");
    const char *script = mon_script(2, "gpu1.lost_after_ms = 1500\n");
    start_top(script, 80, 24, "");
    wait_for(" 1 H100 80GB HBM [");
    wait_for("LOST");
    wait_for(" 0 H100 80GB HBM ["); /* the other GPU is still shown with its bars */
    quit_top();
    unlink(script);
}

/* From a container reading the host's /proc (a recorded one): the process of hwscope's container
 * shows its PID here, the host's process its host PID marked '*', which k refuses to kill (that
 * PID names another process here, or none). Nothing is ever sent a signal: y is never pressed. */
static void test_host_pids_from_a_container(void **state) {
    (void)state;
    MON_REQUIRE("tmux");
    char root[1024];
    snprintf(root, sizeof root, "%s", hws_fixture("monitor/pidns"));
    const char *script =
        mon_script(1, "gpu0.procs = \"4242:python3:8589934592, 4243:Xorg:1048576\"\n");
    setenv("HWSCOPE_SYSROOT", root, 1); /* the new tmux server, and top in it, inherit it */
    start_top(script, 100, 30, "");
    unsetenv("HWSCOPE_SYSROOT");
    wait_for("17    0 root"); /* 4242 is PID 17 in hwscope's namespace */
    wait_for("4243*   0 root");
    wait_for("* host PID: not in this PID namespace");
    keys("Down");
    keys("k");
    wait_for("PID 4243 is a host PID not in this PID namespace: not killed");
    quit_top();
    unlink(script);
}

/* A test that fails midway leaves no tmux server (and no top) behind. */
static int kill_tmux(void **state) {
    (void)state;
    if (socket_name[0] != '\0')
        tmux("kill-server");
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_keys_and_kill, kill_tmux),
        cmocka_unit_test_teardown(test_gpu_counts_and_host_only, kill_tmux),
        cmocka_unit_test_teardown(test_resize, kill_tmux),
        cmocka_unit_test_teardown(test_gpu_lost_while_running, kill_tmux),
        cmocka_unit_test_teardown(test_host_pids_from_a_container, kill_tmux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
