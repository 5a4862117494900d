/* main.c - the hwscope command line: picks the command and hands it the arguments. */
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/hwscope.h"

#include "util/text.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const hws_command commands[] = {
    {"report", cmd_report, "inventory, quick measurement and what runs here (the default)"},
    {"info", cmd_info, "CPU, memory and GPU facts, with derived peaks"},
    {"bench", cmd_bench, "measured key metrics against the datasheet"},
    {"plan", cmd_plan, "memory, fit, placement and predicted speed of a model"},
    {"advise", cmd_advise, "hardware to buy or rent for a model"},
    {"catalog", cmd_catalog, "the GPU and model catalogs, with sources"},
    {"top", cmd_top, "live monitor of GPUs, processes and the host"},
    {"log", cmd_log, "GPU readings as CSV (nvidia-smi's fields) or JSON lines"},
    {"serve", cmd_serve, "Prometheus exporter (dcgm-exporter's metric names)"},
    {"version", cmd_version, "the version and build commit (also -V, --version)"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: hwscope [COMMAND] [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'hwscope COMMAND --help' shows a command's options; "
                 "every command takes --json.\n"
                 "-V, --version: the version; -h, --help: this help.\n");
}

/* The command's exit status, or 1 when what it printed could not all be written (a full disk,
 * a closed pipe): a table cut short must not exit 0, and the reason is said once, whatever the
 * command and format. */
static int finish(int rc) {
    errno = 0;
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    if (!failed)
        return rc;
    /* the failed write may lie long before this flush, its errno gone: one more byte asks */
    if (errno == 0 && write(STDOUT_FILENO, "\n", 1) < 0)
        (void)0; /* errno now says why */
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
        if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
            return cmd_version(argc - 1, argv + 1);
        /* no command: the report, with whatever flags were given */
        return cmd_report(argc, argv);
    }
    if (strcmp(argv[1], "__generate") == 0) /* build time: man page and completions */
        return hws_docgen(argc - 1, argv + 1, commands, sizeof commands / sizeof commands[0]);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hwscope: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

/* The process environment hwloc reads, set once before any probe (the library never sets
 * environment variables): a recorded tree ($HWSCOPE_SYSROOT) is hwloc's root too, and hwloc's
 * I/O plugins (GL, OpenCL, PCI, libxml), useless for CPU facts, are not even loaded (~50 ms of
 * dlopen per topology), unless the user chose plugins. */
static void hwloc_environment(void) {
    const char *sysroot = getenv("HWSCOPE_SYSROOT");
    if (sysroot != NULL && sysroot[0] != '\0')
        setenv("HWLOC_FSROOT", sysroot, 1);
    setenv("HWLOC_PLUGINS_BLACKLIST", "hwloc_gl,hwloc_opencl,hwloc_pci,hwloc_xml_libxml", 0);
}

/* stderr's writes, cleaned like table cells (lines kept): a path or a driver's message that
 * holds ESC, OSC or broken UTF-8 does not reach the terminal raw. */
static ssize_t clean_stderr_write(void *cookie, const char *buf, size_t n) {
    (void)cookie;
    char *raw = strndup(buf, n);
    char *clean = raw != NULL ? hws_text_clean(raw, HWS_TEXT_LINES) : NULL;
    const char *text = clean != NULL ? clean : "";
    for (size_t len = strlen(text), done = 0; done < len;) {
        ssize_t w = write(STDERR_FILENO, text + done, len - done);
        if (w <= 0 && errno != EINTR)
            break;
        done += w > 0 ? (size_t)w : 0;
    }
    free(clean);
    free(raw);
    return (ssize_t)n;
}

int main(int argc, char **argv) {
    hwloc_environment();
    FILE *clean_err = fopencookie(NULL, "w", (cookie_io_functions_t){.write = clean_stderr_write});
    if (clean_err != NULL) {
        setvbuf(clean_err, NULL, _IOLBF, 0);
        hws_set_terminal_stream(stderr); /* the progress line's own escapes go there as they are */
        stderr = clean_err;
    }
    /* a reader that closes the pipe early (`hwscope info | head -1`) makes writes fail with
     * EPIPE, which finish reports, instead of killing the process without a word */
    signal(SIGPIPE, SIG_IGN);
    return finish(dispatch(argc, argv));
}
