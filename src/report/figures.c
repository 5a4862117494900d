/* figures.c - the report's quick measurement: memory bandwidth and the best matrix rate of each
 * device (CPU included) from a quick `bench mem gemm`, beside the datasheet; saved per hardware
 * fingerprint so a report within a day reuses them, and read back from that file. */
#include "report/figures.h"
#include "report/json.h"
#include "util/units.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FIGURES_SCHEMA "hwscope.report-figures/1"

static hws_report_figure *figure_for(hws_report *r, int device, const char *what) {
    for (int i = 0; i < r->nfigures; i++)
        if (r->figures[i].device == device && strncmp(r->figures[i].what, what, 6) == 0)
            return &r->figures[i];
    if (r->nfigures >= HWS_REPORT_MAX_FIGURES)
        return NULL;
    hws_report_figure *f = &r->figures[r->nfigures++];
    memset(f, 0, sizeof *f);
    f->device = device;
    f->measured = f->datasheet = f->theoretical = HWS_NA;
    snprintf(f->what, sizeof f->what, "%s", what);
    return f;
}

static void device_name(const hws_report *r, int device, char *buf, size_t n) {
    if (device < 0) {
        snprintf(buf, n, "CPU %.90s", r->cpu.model);
        return;
    }
    for (int i = 0; i < r->gpus.count; i++)
        if (r->gpus.gpus[i].index == device) {
            snprintf(buf, n, "GPU %d %.80s", device, r->gpus.gpus[i].name);
            return;
        }
    snprintf(buf, n, "GPU %d", device);
}

/* Memory: the CPU's STREAM triad, a GPU's device-to-device copy. Matrix: the fastest floating-
 * point product of the device (INT8 TOP/s are not FLOP/s). */
void hws_report_figures_from_bench(const hws_bench_result *b, hws_report *r) {
    r->nfigures = 0;
    for (int i = 0; i < b->nrecords; i++) {
        const hws_bench_record *rec = &b->records[i];
        if (rec->state != HWS_BENCH_OK || rec->nsamples == 0 || !hws_known(rec->median))
            continue;
        bool mem =
            strcmp(rec->key, "cpu.stream.triad") == 0 || strncmp(rec->key, "gpu.d2d", 7) == 0;
        bool mm =
            (strncmp(rec->key, "cpu.gemm.", 9) == 0 || strncmp(rec->key, "gpu.gemm.", 9) == 0) &&
            strstr(rec->key, "int8") == NULL;
        if (!mem && !mm)
            continue;
        char what[32];
        if (mem) {
            snprintf(what, sizeof what, "memory bandwidth");
        } else {
            const char *prec = rec->key + 9;
            const char *dot = strchr(prec, '.');
            snprintf(what, sizeof what, "matrix %.*s", dot != NULL ? (int)(dot - prec) : 8, prec);
        }
        hws_report_figure *f = figure_for(r, rec->device, mem ? "memory" : "matrix");
        if (f == NULL || (hws_known(f->measured) && f->measured >= rec->median))
            continue;
        snprintf(f->what, sizeof f->what, "%s", what);
        snprintf(f->key, sizeof f->key, "%s", rec->key);
        snprintf(f->unit, sizeof f->unit, "%s", rec->unit);
        device_name(r, rec->device, f->device_name, sizeof f->device_name);
        f->measured = rec->median;
        f->datasheet = rec->datasheet;
        f->theoretical = rec->theoretical;
    }
}

cJSON *hws_report_figures_json(const hws_report *r) {
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list != NULL && i < r->nfigures; i++) {
        const hws_report_figure *f = &r->figures[i];
        cJSON *o = cJSON_CreateObject();
        if (f->device < 0)
            cJSON_AddNullToObject(o, "device");
        else
            cJSON_AddNumberToObject(o, "device", f->device);
        hws_json_str(o, "device_name", f->device_name);
        hws_json_str(o, "what", f->what);
        hws_json_str(o, "key", f->key);
        hws_json_str(o, "unit", f->unit);
        hws_json_num(o, "measured", f->measured);
        hws_json_num(o, "datasheet", f->datasheet);
        hws_json_num(o, "theoretical", f->theoretical);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

/* "2026-12-06T03:45:00Z" -> seconds since the epoch; NA when it is not that form. */
static double parse_utc(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (s == NULL || strlen(s) != 20 || s[19] != 'Z')
        return HWS_NA;
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return HWS_NA;
    return (double)timegm(&tm);
}

static const char *str_at(const cJSON *o, const char *key) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double num_at(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12 ? v->valuedouble
                                                                             : HWS_NA;
}

hws_status hws_report_figures_parse(const char *text, size_t len, const char *fp_id, double now_s,
                                    double max_age_s, hws_report *r, hws_error *err) {
    cJSON *doc = cJSON_ParseWithLength(text, len);
    hws_status st = HWS_OK;
    if (doc == NULL || !cJSON_IsObject(doc)) {
        st = hws_error_set(err, HWS_ERR_INPUT, "not a JSON object");
        goto done;
    }
    const char *schema = str_at(doc, "schema");
    if (schema == NULL || strcmp(schema, FIGURES_SCHEMA) != 0) {
        st = hws_error_set(err, HWS_ERR_INPUT, "schema is not %s", FIGURES_SCHEMA);
        goto done;
    }
    const char *id = str_at(doc, "fingerprint_id");
    if (id == NULL || strcmp(id, fp_id) != 0) {
        st = hws_error_set(err, HWS_ERR_UNSUPPORTED, "saved for other hardware");
        goto done;
    }
    const char *when = str_at(doc, "time_utc");
    double t = parse_utc(when);
    if (!hws_known(t) || now_s - t > max_age_s || t - now_s > 3600) {
        st = hws_error_set(err, HWS_ERR_UNSUPPORTED, "older than a day (or no valid time)");
        goto done;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "figures");
    if (!cJSON_IsArray(list)) {
        st = hws_error_set(err, HWS_ERR_INPUT, "figures is not an array");
        goto done;
    }
    r->nfigures = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (r->nfigures >= HWS_REPORT_MAX_FIGURES || !cJSON_IsObject(item))
            break;
        hws_report_figure *f = &r->figures[r->nfigures++];
        memset(f, 0, sizeof *f);
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(item, "device");
        f->device = cJSON_IsNumber(dev) && dev->valuedouble >= 0 && dev->valuedouble < 64
                        ? (int)dev->valuedouble
                        : -1;
        snprintf(f->device_name, sizeof f->device_name, "%s",
                 str_at(item, "device_name") ? str_at(item, "device_name") : "");
        snprintf(f->what, sizeof f->what, "%s", str_at(item, "what") ? str_at(item, "what") : "");
        snprintf(f->key, sizeof f->key, "%s", str_at(item, "key") ? str_at(item, "key") : "");
        snprintf(f->unit, sizeof f->unit, "%s", str_at(item, "unit") ? str_at(item, "unit") : "");
        f->measured = num_at(item, "measured");
        f->datasheet = num_at(item, "datasheet");
        f->theoretical = num_at(item, "theoretical");
    }
    snprintf(r->bench_time_utc, sizeof r->bench_time_utc, "%s", when);
done:
    cJSON_Delete(doc);
    return st;
}

void hws_report_figures_file(const hws_report *r, const char *dir, char *buf, size_t n) {
    snprintf(buf, n, "%s/report-figures-%s.json", dir, r->fingerprint_id);
}

hws_status hws_report_figures_save(const hws_report *r, const char *path, hws_error *err) {
    cJSON *doc = cJSON_CreateObject();
    char tmp[PATH_MAX + 8];
    if (doc == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(doc, "schema", FIGURES_SCHEMA);
    cJSON_AddStringToObject(doc, "fingerprint_id", r->fingerprint_id);
    hws_json_str(doc, "time_utc", r->bench_time_utc);
    cJSON_AddItemToObject(doc, "figures", hws_report_figures_json(r));
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL && fputs(text, f) >= 0;
    if (f != NULL && fclose(f) != 0)
        ok = false;
    free(text);
    if (!ok || rename(tmp, path) != 0) {
        hws_status st = hws_error_set(err, HWS_ERR_RUNTIME, "%s: %s", path, strerror(errno));
        remove(tmp);
        return st;
    }
    return HWS_OK;
}
