/* main.c - the hwscope command line: picks the command and hands it the arguments. */
#include "cli/commands.h"
#include "hwscope/hwscope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
    {"top", cmd_top, "live monitor of GPUs, processes and the host"},
    {"log", cmd_log, "GPU readings as CSV (nvidia-smi's fields) or JSON lines"},
    {"serve", cmd_serve, "Prometheus exporter (dcgm-exporter's metric names)"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: hwscope [COMMAND] [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'hwscope COMMAND --help' shows a command's options; "
                 "every command takes --json.\n");
}

/* The command's exit status, or 1 when what it printed could not all be written (a full disk,
 * a closed pipe): a table cut short must not exit 0. */
static int finish(int rc) {
    if (rc != 0) /* the command has said why it failed */
        return rc;
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hwscope: cannot write to stdout: %s\n",
                errno != 0 ? strerror(errno) : "write error");
        return 1;
    }
    return 0;
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

int main(int argc, char **argv) {
    hwloc_environment();
    return finish(dispatch(argc, argv));
}
