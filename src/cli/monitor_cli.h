/* monitor_cli.h - what `hwscope top`, `log` and `serve` share: starting the sampler with the
 * command's interval, and SIGINT/SIGTERM turned into a flag the command's loop checks. */
#ifndef HWSCOPE_CLI_MONITOR_CLI_H
#define HWSCOPE_CLI_MONITOR_CLI_H

#include "hwscope/monitor.h"

#include <signal.h>
#include <stdbool.h>

/* Set by SIGINT and SIGTERM once hws_cli_catch_stop_signals has run. */
extern volatile sig_atomic_t hws_cli_stop_requested;

/* Installs the SIGINT/SIGTERM handlers (without SA_RESTART, so sleeps and reads return EINTR)
 * and ignores SIGPIPE (a closed pipe becomes EPIPE, reported by the command). */
void hws_cli_catch_stop_signals(void);
/* Starts the sampler and waits (at most 2 s + one interval) for its first readings. Returns 0,
 * or the exit status after saying on stderr why it could not start. */
int hws_cli_monitor_start(const char *cmd, double interval_s, bool no_gpu, hws_monitor **m);
/* Sleeps until the monotonic deadline *next_s (seconds), then advances it by interval_s.
 * Returns false when a stop signal came first. */
bool hws_cli_tick(double *next_s, double interval_s);

#endif
