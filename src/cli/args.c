/* args.c - flag parsing shared by every command (--name value, --name=value, --, -h), and the
 * two ways a command reports: a usage error, or its one JSON document. */
#include "cli/args.h"
#include "report/json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The describer docgen sets for one run of the binary (CLI state, not the library's). */
static hws_args_describer describer;
static void *describer_arg;

void hws_args_set_describer(hws_args_describer fn, void *arg) {
    describer = fn;
    describer_arg = arg;
}

static void print_usage(FILE *out, const char *cmd, const char *usage, const hws_opt *opts,
                        size_t nopts) {
    fprintf(out, "usage: hwscope %s %s\n", cmd, usage);
    if (nopts > 0)
        fprintf(out, "options:\n");
    for (size_t i = 0; i < nopts; i++) {
        const char *arg = opts[i].kind == HWS_OPT_FLAG ? "" : " VALUE";
        fprintf(out, "  --%s%s\n      %s\n", opts[i].name, arg, opts[i].help);
    }
    fprintf(out, "  -h, --help\n      show this help\n");
}

int hws_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "hwscope %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return HWS_ARGS_BAD;
}

/* stderr as the process got it, for the CLI's own progress escapes; main sets it. */
static FILE *terminal_stream;

void hws_set_terminal_stream(FILE *f) {
    terminal_stream = f;
}

FILE *hws_terminal_stream(void) {
    return terminal_stream != NULL ? terminal_stream : stderr;
}

/* Whether a failed write to stdout was already reported (main's last check then stays quiet). */
static bool stdout_error_said;

bool hws_stdout_error_said(void) {
    return stdout_error_said;
}

int hws_json_emit(const char *cmd, cJSON *doc) {
    int rc = 0;
    if (doc == NULL || hws_json_print(doc, stdout) != 0) {
        if (ferror(stdout)) {
            fprintf(stderr, "hwscope %s: cannot write the JSON document to stdout: %s\n", cmd,
                    strerror(errno));
            stdout_error_said = true;
        } else
            fprintf(stderr, "hwscope %s: out of memory building the JSON document\n", cmd);
        rc = 1;
    }
    cJSON_Delete(doc);
    return rc;
}

static int bad(const char *cmd, const char *usage, const hws_opt *opts, size_t nopts) {
    print_usage(stderr, cmd, usage, opts, nopts);
    return HWS_ARGS_BAD;
}

static int store_value(const char *cmd, const hws_opt *o, const char *value) {
    char *end;
    errno = 0;
    switch (o->kind) {
    case HWS_OPT_STRING:
        if (value[0] == '\0')
            return hws_usage_error(cmd, "--%s: empty value", o->name);
        *(const char **)o->out = value;
        return HWS_ARGS_OK;
    case HWS_OPT_INT: {
        long v = strtol(value, &end, 10);
        if (end == value || *end != '\0' || errno != 0 || v < o->min || v > o->max)
            return hws_usage_error(cmd, "--%s: '%s' is not an integer in %.0f..%.0f", o->name,
                                   value, o->min, o->max);
        *(long *)o->out = v;
        return HWS_ARGS_OK;
    }
    case HWS_OPT_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || errno != 0 || !isfinite(v) || v < o->min || v > o->max)
            return hws_usage_error(cmd, "--%s: '%s' is not a number in %g..%g", o->name, value,
                                   o->min, o->max);
        *(double *)o->out = v;
        return HWS_ARGS_OK;
    }
    case HWS_OPT_FLAG:
        break;
    }
    return HWS_ARGS_BAD;
}

static const hws_opt *find_opt(const hws_opt *opts, size_t nopts, const char *name, size_t len) {
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int hws_args_parse(const char *cmd, const char *usage, int argc, char **argv, const hws_opt *opts,
                   size_t nopts, const char **pos, int max_pos, int *npos) {
    bool options_done = false;
    *npos = 0;
    if (describer != NULL) {
        describer(describer_arg, cmd, usage, opts, nopts);
        return HWS_ARGS_HELP;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            print_usage(stdout, cmd, usage, opts, nopts);
            return HWS_ARGS_HELP;
        }
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (*npos >= max_pos) {
                hws_usage_error(cmd, "unexpected argument '%s'", arg);
                return bad(cmd, usage, opts, nopts);
            }
            pos[(*npos)++] = arg;
            continue;
        }
        if (arg[1] != '-') {
            hws_usage_error(cmd, "unknown option '%s'", arg);
            return bad(cmd, usage, opts, nopts);
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const hws_opt *o = find_opt(opts, nopts, name, len);
        if (o == NULL) {
            hws_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
            return bad(cmd, usage, opts, nopts);
        }
        if (o->kind == HWS_OPT_FLAG) {
            if (eq != NULL)
                return hws_usage_error(cmd, "--%s takes no value", o->name);
            *(bool *)o->out = true;
            continue;
        }
        const char *value = eq != NULL ? eq + 1 : NULL;
        if (value == NULL) {
            if (i + 1 >= argc)
                return hws_usage_error(cmd, "--%s needs a value", o->name);
            value = argv[++i];
        }
        if (store_value(cmd, o, value) != HWS_ARGS_OK)
            return HWS_ARGS_BAD;
    }
    return HWS_ARGS_OK;
}

bool hws_parse_long_list(const char *s, long *out, int n) {
    const char *p = s;
    for (int i = 0; i < n; i++) {
        char *end;
        if (!isdigit((unsigned char)*p) && *p != '-')
            return false;
        errno = 0;
        out[i] = strtol(p, &end, 10);
        if (end == p || errno == ERANGE || out[i] > INT_MAX || out[i] < INT_MIN)
            return false;
        if (i + 1 < n && *end != ',')
            return false;
        p = i + 1 < n ? end + 1 : end;
    }
    return *p == '\0';
}
