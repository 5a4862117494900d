/* monitor_cli.c - the sampler start, stop signals and tick shared by top, log and serve. */
#include "cli/monitor_cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t hws_cli_stop_requested;

static void on_stop(int sig) {
    (void)sig;
    hws_cli_stop_requested = 1;
}

void hws_cli_catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int hws_cli_monitor_start(const char *cmd, double interval_s, bool no_gpu, hws_monitor **m) {
    hws_error err = {""};
    hws_monitor_options opt = {.interval_s = interval_s, .no_gpu = no_gpu};
    hws_status st = hws_monitor_start(&opt, m, &err);
    if (st != HWS_OK) {
        fprintf(stderr, "hwscope %s: %s\n", cmd, err.msg);
        return st == HWS_ERR_INPUT ? 2 : 1;
    }
    hws_monitor_wait_ready(*m, 2000 + (int)(interval_s * 1000));
    return 0;
}

static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool hws_cli_tick(double *next_s, double interval_s) {
    if (*next_s == 0)
        *next_s = monotonic_s();
    *next_s += interval_s;
    if (*next_s < monotonic_s()) /* fell behind (a stopped terminal): no burst of catching up */
        *next_s = monotonic_s();
    struct timespec at = {(time_t)*next_s, (long)((*next_s - (double)(time_t)*next_s) * 1e9)};
    while (!hws_cli_stop_requested) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        if (rc == 0)
            return !hws_cli_stop_requested;
        if (rc != EINTR)
            return false;
    }
    return false;
}
