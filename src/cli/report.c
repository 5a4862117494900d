/* report.c - `hwscope` with no command: this machine on one screen (CPU, memory, GPUs with
 * their health), the quick measurement beside the datasheet, and what runs here (popular models
 * x formats on the GPUs, with CPU offload, and on the CPU alone); --json as one document,
 * --html FILE as one self-contained page with charts. The report itself is built in the library
 * (src/report/report_model.c); this file parses flags and picks the renderer. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/info.h"
#include "report/json.h"
#include "report/report_model.h"
#include "report/table.h"
#include "util/units.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "[--json] [--html FILE] [--bench|--no-bench] [--models A,B,...] [--ctx N]\n"
    "       [--runtime vllm|llama.cpp|transformers]\n"
    "Inventory with health verdicts; a quick measurement (memory bandwidth and the best matrix\n"
    "rate of each device, CPU included, a few seconds) run when no figures younger than a day\n"
    "are saved for this hardware; what runs here: catalog models in bf16, fp8, Q8_0, int4\n"
    "(AWQ) and Q4_K_M on the GPUs, on GPUs + CPU offload and on the CPU alone.";

/* One progress line on stderr, rewritten in place (only when stderr is a terminal). */
static void progress(void *arg, const char *key, int index, int total) {
    (void)arg;
    fprintf(stderr, "\r\033[Kmeasuring [%d/%d] %s ...", index + 1, total, key);
    fflush(stderr);
}

/* "A,B,C" into o->models (the string is the caller's argv, cut in place). */
static int split_models(char *list, hws_report_opts *o) {
    for (char *save = NULL, *p = strtok_r(list, ",", &save); p != NULL;
         p = strtok_r(NULL, ",", &save)) {
        if (o->nmodels >= HWS_REPORT_MAX_MODELS)
            return hws_usage_error("report", "--models: at most %d models", HWS_REPORT_MAX_MODELS);
        o->models[o->nmodels++] = p;
    }
    return o->nmodels > 0 ? 0 : hws_usage_error("report", "--models: no model named");
}

static int write_html(const hws_report *r, const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "hwscope report: --html %s: %s\n", path, strerror(errno));
        return 1;
    }
    int bad = hws_report_write_html(r, f);
    if (fclose(f) != 0 || bad != 0) {
        fprintf(stderr, "hwscope report: --html %s: cannot write it\n", path);
        return 1;
    }
    return 0;
}

int cmd_report(int argc, char **argv) {
    bool json = false, bench = false, no_bench = false;
    const char *html = NULL, *models = NULL, *runtime = NULL;
    long ctx = 0;
    const char *pos[1];
    int npos;
    const hws_opt opts[] = {
        {"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document (hwscope.report/1)"},
        {"html", HWS_OPT_STRING, &html, 0, 0, "also write the report as one page with charts"},
        {"bench", HWS_OPT_FLAG, &bench, 0, 0, "measure now, even with figures saved today"},
        {"no-bench", HWS_OPT_FLAG, &no_bench, 0, 0, "do not measure (saved figures if any)"},
        {"models", HWS_OPT_STRING, &models, 0, 0,
         "catalog models, comma separated (default: 1B to 72B, dense and MoE)"},
        {"ctx", HWS_OPT_INT, &ctx, 1, 1048576,
         "context per sequence, tokens (8192, or the model's maximum when smaller)"},
        {"runtime", HWS_OPT_STRING, &runtime, 0, 0,
         "vllm, llama.cpp or transformers on the GPUs (default: vLLM for bf16/fp8/int4, "
         "llama.cpp for GGUF types)"},
    };
    int rc = hws_args_parse("report", usage, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0,
                            &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (bench && no_bench)
        return hws_usage_error("report", "--bench and --no-bench contradict each other");
    hws_report_opts o;
    hws_report_opts_default(&o);
    char models_copy[1024];
    if (models != NULL) {
        snprintf(models_copy, sizeof models_copy, "%s", models);
        if (split_models(models_copy, &o) != 0)
            return 2;
    }
    if (runtime != NULL && (o.runtime = hws_runtime_parse(runtime)) < 0)
        return hws_usage_error("report", "--runtime: '%s' is not vllm, llama.cpp or transformers",
                               runtime);
    if (ctx > 0)
        o.ctx_tokens = (double)ctx;
    o.bench = bench ? HWS_BENCH_FORCE : no_bench ? HWS_BENCH_SKIP : HWS_BENCH_AUTO;
    o.ceilings_path = getenv("HWSCOPE_CEILINGS");
    if (isatty(STDERR_FILENO))
        o.progress = progress;
    hws_report *r = NULL;
    hws_error err = {""};
    hws_status st = hws_report_build(&o, &r, &err);
    if (o.progress != NULL)
        fprintf(stderr, "\r\033[K");
    if (st != HWS_OK) {
        fprintf(stderr, "hwscope report: %s\n", err.msg);
        return st == HWS_ERR_INPUT ? 2 : 1;
    }
    rc = html != NULL ? write_html(r, html) : 0;
    if (rc == 0 && json) {
        hws_info *info = malloc(sizeof *info); /* the inventory as info renders it */
        cJSON *doc = NULL;
        if (info != NULL) {
            *info = (hws_info){r->cpu, r->mem, r->gpus};
            doc = hws_info_json(info);
            free(info);
        }
        if (doc != NULL) {
            cJSON_ReplaceItemInObject(doc, "schema", cJSON_CreateString("hwscope.report/1"));
            hws_report_json_fill(doc, r);
        }
        rc = hws_json_emit("report", doc);
    } else if (rc == 0) {
        hws_report_print_text(r, stdout, hws_term_width(stdout));
    }
    hws_report_free(r);
    return rc;
}
