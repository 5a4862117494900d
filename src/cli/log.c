/* log.c - `hwscope log`: one line per GPU per interval, as `nvidia-smi --query-gpu=... --format=csv
 * -l` prints it (same field names, header and value layout), or JSON lines.
 *
 * Each line is written whole with one write(2): a pipe never sees half a line, and when a regular
 * file fills up mid-line the part written is cut off again. SIGINT/SIGTERM end after the last
 * whole line (exit 0); a write that fails (full disk, closed pipe) is exit 1 with the reason. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/monitor_cli.h"
#include "monitor/sample_fields.h"
#include "report/json.h"
#include "hwscope/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "[--interval S] [--count N] [--format csv[,noheader][,nounits]|jsonl] "
                            "[--query-gpu FIELD,...] [--json]";

#define MAX_QUERY      64
#define LINE_MAX_BYTES 8192

static const char default_query[] =
    "timestamp,index,name,pci.bus_id,pstate,utilization.gpu,utilization.memory,memory.total,"
    "memory.used,memory.free,temperature.gpu,power.draw,enforced.power.limit,clocks.current.sm,"
    "clocks.current.memory,clocks_event_reasons.active";

typedef struct {
    bool jsonl, header, units;
    const hws_mon_field *fields[MAX_QUERY];
    const char *legacy[MAX_QUERY]; /* the old spelling asked for, kept in the header; or NULL */
    int nfields;
} log_format;

static int parse_format(const char *text, log_format *f) {
    char buf[128];
    int kinds = 0;
    snprintf(buf, sizeof buf, "%s", text);
    f->header = f->units = true;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "csv") == 0)
            kinds++;
        else if (strcmp(t, "jsonl") == 0 || strcmp(t, "json") == 0)
            kinds++, f->jsonl = true;
        else if (strcmp(t, "noheader") == 0)
            f->header = false;
        else if (strcmp(t, "nounits") == 0)
            f->units = false;
        else
            return hws_usage_error("log", "--format: '%s' is not csv, jsonl, noheader or nounits",
                                   t);
    }
    if (kinds != 1)
        return hws_usage_error("log", "--format: '%s' names no format or two (csv or jsonl)", text);
    return 0;
}

static int parse_query(const char *text, log_format *f) {
    char buf[2048];
    if (strlen(text) >= sizeof buf)
        return hws_usage_error("log", "--query-gpu: the list is longer than %zu characters",
                               sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        for (size_t n = strlen(t); n > 0 && t[n - 1] == ' ';)
            t[--n] = '\0';
        const hws_mon_field *field = hws_mon_gpu_field_find(t);
        if (field == NULL) {
            char names[2048] = "";
            for (size_t i = 0, used = 0; i < hws_mon_gpu_nfields && used < sizeof names; i++) {
                const hws_mon_field *k = &hws_mon_gpu_fields[i];
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                         k->smi != NULL ? k->smi : k->f.key);
            }
            return hws_usage_error("log", "--query-gpu: '%s' is not a field; fields: %s", t, names);
        }
        if (f->nfields == MAX_QUERY)
            return hws_usage_error("log", "--query-gpu: more than %d fields", MAX_QUERY);
        /* nvidia-smi heads a column asked for by its pre-R535 name with that name */
        f->legacy[f->nfields] =
            strncmp(t, "clocks_throttle_reasons.", 24) == 0 ? strstr(text, t) : NULL;
        f->fields[f->nfields++] = field;
    }
    if (f->nfields == 0)
        return hws_usage_error("log", "--query-gpu: no field given");
    return 0;
}

/* Writes a whole line to fd 1, or nothing of it: a short write to a regular file is cut off
 * again. Returns 0, or -1 with errno set. */
static int write_line(const char *line, size_t len) {
    struct stat st;
    off_t start = fstat(1, &st) == 0 && S_ISREG(st.st_mode) ? lseek(1, 0, SEEK_CUR) : -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(1, line + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : ENOSPC;
            if (done > 0 && start >= 0 && ftruncate(1, start) == 0)
                lseek(1, start, SEEK_SET);
            errno = saved;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static void csv_header(const log_format *f, char *line, size_t n) {
    size_t used = 0;
    line[0] = '\0';
    for (int i = 0; i < f->nfields && used < n; i++) {
        char name[128];
        hws_mon_csv_header(name, sizeof name, f->fields[i]);
        if (f->legacy[i] != NULL)
            snprintf(name, sizeof name, "%.*s", (int)strcspn(f->legacy[i], ", "), f->legacy[i]);
        used += (size_t)snprintf(line + used, n - used, "%s%s", i ? ", " : "", name);
    }
    if (used < n)
        snprintf(line + used, n - used, "\n");
}

static void csv_line(const log_format *f, const hws_mon_gpu *g, char *line, size_t n) {
    size_t used = 0;
    line[0] = '\0';
    for (int i = 0; i < f->nfields && used < n; i++) {
        char value[256];
        hws_mon_csv_value(value, sizeof value, f->fields[i], g, f->units);
        used += (size_t)snprintf(line + used, n - used, "%s%s", i ? ", " : "", value);
    }
    if (used < n)
        snprintf(line + used, n - used, "\n");
}

static void json_line(const log_format *f, const hws_mon_gpu *g, const char *host, char *line,
                      size_t n) {
    char when[40], stamp[32];
    time_t secs = (time_t)g->timestamp_s;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when, sizeof when, "%s.%03dZ", stamp, (int)((g->timestamp_s - (double)secs) * 1000));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "timestamp", when);
    cJSON_AddStringToObject(o, "hostname", host);
    cJSON_AddNumberToObject(o, "gpu", g->index);
    cJSON_AddBoolToObject(o, "lost", g->lost);
    if (g->nvml_down) /* NVML itself gone: "error" says why and when nvmlInit is tried again */
        cJSON_AddBoolToObject(o, "nvml_down", 1);
    for (int i = 0; i < f->nfields; i++)
        if (cJSON_GetObjectItemCaseSensitive(o, f->fields[i]->f.key) == NULL)
            hws_mon_json_value(o, f->fields[i], g);
    if (g->error[0] != '\0')
        cJSON_AddStringToObject(o, "error", g->error);
    char *text = cJSON_PrintUnformatted(o);
    snprintf(line, n, "%s\n", text != NULL ? text : "{}");
    cJSON_free(text);
    cJSON_Delete(o);
}

static int write_or_fail(const char *line) {
    if (write_line(line, strlen(line)) == 0)
        return 0;
    fprintf(stderr, "hwscope log: cannot write the log: %s\n", strerror(errno));
    return 1;
}

static int log_loop(hws_monitor *m, const log_format *f, double interval, long count) {
    char *line = malloc(LINE_MAX_BYTES);
    hws_mon_sample *s = hws_mon_sample_new(m);
    double next = 0;
    unsigned long long round = 0;
    int rc = line == NULL || s == NULL ? 1 : 0;
    if (rc == 0 && !f->jsonl && f->header) {
        csv_header(f, line, LINE_MAX_BYTES);
        rc = write_or_fail(line);
    }
    for (long done = 0; rc == 0 && (count == 0 || done < count); done++) {
        if (done > 0 && !hws_cli_tick(&next, interval))
            break;
        /* every GPU read since the last record, unless one hangs (then its line repeats) */
        round = hws_monitor_wait_round(m, round, interval < 1 ? (int)(interval * 500) : 500);
        hws_monitor_snapshot(m, s);
        for (int i = 0; i < s->ngpus && rc == 0; i++) {
            if (f->jsonl)
                json_line(f, &s->gpus[i], s->host.hostname, line, LINE_MAX_BYTES);
            else
                csv_line(f, &s->gpus[i], line, LINE_MAX_BYTES);
            rc = write_or_fail(line);
        }
    }
    hws_mon_sample_free(s);
    free(line);
    return rc;
}

int cmd_log(int argc, char **argv) {
    double interval = 1;
    long count = 0;
    bool json = false;
    const char *format = "csv", *query = default_query;
    hws_opt opts[] = {
        {"interval", HWS_OPT_DOUBLE, &interval, 0.05, 3600, "seconds between records (1)"},
        {"count", HWS_OPT_INT, &count, 0, 1e9, "records per GPU, then exit (0: until stopped)"},
        {"format", HWS_OPT_STRING, &format, 0, 0,
         "csv (nvidia-smi's layout; add ,noheader ,nounits) or jsonl"},
        {"query-gpu", HWS_OPT_STRING, &query, 0, 0,
         "fields, nvidia-smi's names (utilization.gpu,memory.used,...) or hwscope's keys"},
        {"json", HWS_OPT_FLAG, &json, 0, 0, "same as --format jsonl"},
    };
    const char *pos[1];
    int npos = 0;
    int rc =
        hws_args_parse("log", usage, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    log_format f = {0};
    if (parse_format(json ? "jsonl" : format, &f) != 0 || parse_query(query, &f) != 0)
        return 2;
    hws_monitor *m = NULL;
    hws_cli_catch_stop_signals();
    if ((rc = hws_cli_monitor_start("log", interval, false, &m)) != 0)
        return rc;
    if (hws_monitor_gpu_count(m) == 0) {
        hws_mon_sample *s = hws_mon_sample_new(m);
        if (s != NULL)
            hws_monitor_snapshot(m, s);
        fprintf(stderr, "hwscope log: no GPU to log: %s\n",
                s != NULL ? s->nvml_error : "out of memory");
        hws_mon_sample_free(s);
        hws_monitor_stop(m);
        return 1;
    }
    rc = log_loop(m, &f, interval, count);
    hws_monitor_stop(m);
    return rc;
}
