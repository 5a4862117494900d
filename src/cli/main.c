/* main.c - the hwscope command line: picks the command and hands it the arguments. */
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/hwscope.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"report", cmd_report, "inventory, quick measurement and what runs here (the default)"},
    {"info", cmd_info, "CPU, memory and GPU facts, with derived peaks"},
    {"bench", cmd_bench, "measured key metrics against the datasheet"},
    {"plan", cmd_plan, "memory, fit, placement and predicted speed of a model"},
    {"advise", cmd_advise, "hardware to buy or rent for a model"},
    {"catalog", cmd_catalog, "the GPU and model catalogs, with sources"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: hwscope [COMMAND] [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'hwscope COMMAND --help' shows a command's options; "
                 "every command takes --json.\n");
}

/* The command's exit status, or 1 when what it printed could not all be written (a full disk,
 * a closed pipe): a table cut short must not exit 0, and the reason is said once, whatever the
 * command and format. */
static int finish(int rc) {
    errno = 0;
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    if (!failed)
        return rc;
    if (!hws_stdout_error_said())
        fprintf(stderr, "hwscope: cannot write to stdout: %s\n",
                errno != 0 ? strerror(errno) : "write error");
    return rc != 0 ? rc : 1;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
            usage(stdout);
            return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
            printf("hwscope %s (%s)\n", hws_version(), hws_build_commit());
            return 0;
        }
        /* no command: the report, with whatever flags were given */
        return cmd_report(argc, argv);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hwscope: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv) {
    /* a reader that closes the pipe early (`hwscope info | head -1`) makes writes fail with
     * EPIPE, which finish reports, instead of killing the process without a word */
    signal(SIGPIPE, SIG_IGN);
    return finish(dispatch(argc, argv));
}
