/* args.h - the one flag parser every command uses, so bad usage reads the same everywhere:
 * "hwscope plan: --ctx: 'abc' is not an integer in 1..1048576", usage on stderr, exit 2.
 *
 * Example:
 *   bool json = false; long ctx = 8192; const char *pos[4]; int npos = 0;
 *   hws_opt opts[] = {
 *       {"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"},
 *       {"ctx", HWS_OPT_INT, &ctx, 1, 1048576, "context length, tokens"},
 *   };
 *   int rc = hws_args_parse("plan", usage, argc, argv, opts, 2, pos, 4, &npos);
 *   if (rc != HWS_ARGS_OK) return rc == HWS_ARGS_HELP ? 0 : 2; */
#ifndef HWSCOPE_CLI_ARGS_H
#define HWSCOPE_CLI_ARGS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    HWS_OPT_FLAG,   /* bool *, no value */
    HWS_OPT_STRING, /* const char **, the value as given */
    HWS_OPT_INT,    /* long *, checked against [min, max] */
    HWS_OPT_DOUBLE  /* double *, checked against [min, max] */
} hws_opt_kind;

typedef struct {
    const char *name; /* long name without "--" */
    hws_opt_kind kind;
    void *out;
    double min, max; /* for INT and DOUBLE */
    const char *help;
} hws_opt;

enum { HWS_ARGS_OK = 0, HWS_ARGS_HELP = 1, HWS_ARGS_BAD = 2 };

/* Parses argv[1..argc-1] (argv[0] is the command name). Positional arguments go to pos (at most
 * max_pos; more is bad usage). On -h/--help prints usage and the options to stdout. */
int hws_args_parse(const char *cmd, const char *usage, int argc, char **argv, const hws_opt *opts,
                   size_t nopts, const char **pos, int max_pos, int *npos);

/* While a describer is set, hws_args_parse parses nothing: it hands the command's usage and its
 * option table to fn and returns HWS_ARGS_HELP, so the man page and the shell completions are
 * generated from the very tables the parser uses (src/cli/docgen.c). NULL stops it. */
typedef void (*hws_args_describer)(void *arg, const char *cmd, const char *usage,
                                   const hws_opt *opts, size_t nopts);
void hws_args_set_describer(hws_args_describer fn, void *arg);

/* Prints doc (NULL: it could not be built) to stdout and deletes it. Returns the exit status:
 * 0, or 1 after saying on stderr why the document was not written. */
int hws_json_emit(const char *cmd, cJSON *doc);
/* Reads exactly n comma-separated integers ("128,32,512") into out; false when s has more or
 * fewer, anything else, or a number outside int's range (never wrapped). */
bool hws_parse_long_list(const char *s, long *out, int n);
/* main replaces stderr by a stream that cleans what is written (names and paths from outside
 * may hold terminal escapes); the CLI's own progress line, which draws with escapes, writes to
 * hws_terminal_stream(), stderr as the process got it. */
void hws_set_terminal_stream(FILE *f);
FILE *hws_terminal_stream(void);
/* Whether hws_json_emit has already said that stdout could not be written. */
bool hws_stdout_error_said(void);
/* Prints "hwscope CMD: message" to stderr (for bad input found after parsing) and returns 2. */
int hws_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
