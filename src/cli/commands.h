/* commands.h - one entry point per hwscope command; each lives in src/cli/<command>.c.
 * argv[0] is the command's own name; the return value is the process exit status
 * (0 success, 1 runtime failure, 2 bad usage or input). */
#ifndef HWSCOPE_CLI_COMMANDS_H
#define HWSCOPE_CLI_COMMANDS_H

#include <stddef.h>

/* One entry of the command table (src/cli/main.c): its name, entry point and one-line summary. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} hws_command;

/* `hwscope version [--json]` (src/cli/version.c). */
int cmd_version(int argc, char **argv);
/* `hwscope __generate man|bash|zsh`: the man page or a shell completion, generated from the
 * command table and each command's option table (src/cli/docgen.c). */
int hws_docgen(int argc, char **argv, const hws_command *commands, size_t ncommands);

int cmd_report(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_top(int argc, char **argv);   /* src/cli/top.c */
int cmd_log(int argc, char **argv);   /* src/cli/log.c */
int cmd_serve(int argc, char **argv); /* src/cli/serve.c */
/* `hwscope bench transformer`, called by cmd_bench for that suite (src/cli/bench_transformer.c) */
int cmd_bench_transformer(int argc, char **argv);

#endif
