/* report.c - `hwscope` with no command: this machine on one screen (CPU, memory, GPUs with the
 * figures `hwscope bench` measured, when saved) and what runs here: for well-known models, the
 * first weight format that fits the GPUs' free memory, where it goes and how fast it decodes.
 * `hwscope info` has every fact; `hwscope plan MODEL` the whole plan of one model. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/info.h"
#include "cli/plan_common.h"
#include "hwscope/model.h"
#include "hwscope/plan.h"
#include "hwscope/report.h"
#include "report/health.h"
#include "report/json.h"
#include "report/report.h"
#include "report/table.h"
#include "hwscope/units.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_summary(const hws_info *info) {
    const hws_cpu_info *c = &info->cpu;
    char peak[32], total[32], avail[32];
    printf("CPU     %s: %.0f socket(s), %.0f cores, %.0f threads%s%s%s; FP32 peak %s (derived)\n",
           c->model[0] ? c->model : "n/a", c->sockets, c->cores, c->threads,
           c->has_avx512f == 1 ? ", AVX-512"
           : c->has_avx2 == 1  ? ", AVX2"
                               : "",
           c->has_amx_tile == 1 ? ", AMX" : "", c->has_sve == 1 ? ", SVE" : "",
           hws_fmt_num(peak, sizeof peak, c->fp32_peak_gflops, 0, "GFLOP/s"));
    printf("Memory  %s, %s available\n", hws_fmt_gib(total, sizeof total, info->mem.total_bytes),
           hws_fmt_gib(avail, sizeof avail, info->mem.available_bytes));
    if (info->gpus.count == 0)
        printf("GPUs    none: %s\n", info->gpus.why_none);
    for (int i = 0; i < info->gpus.count; i++) {
        const hws_gpu_info *g = &info->gpus.gpus[i];
        hws_gpu_health health;
        char verdict[1024];
        hws_gpu_health_judge(g, &health);
        hws_gpu_health_text(verdict, sizeof verdict, &health);
        if (g->lost) {
            printf("GPU %-3d %s\n", g->index, verdict);
            continue;
        }
        char mem[32], free_mem[32], bw[32], sms[32], ccv[32], gen[32], width[32];
        hws_fmt_num(sms, sizeof sms, g->sm_count, 0, NULL);
        if (hws_known(g->cc_major) && hws_known(g->cc_minor))
            snprintf(ccv, sizeof ccv, "%.0f.%.0f", g->cc_major, g->cc_minor);
        else
            snprintf(ccv, sizeof ccv, "n/a");
        hws_fmt_num(gen, sizeof gen, g->pcie_gen_cur, 0, NULL);
        hws_fmt_num(width, sizeof width, g->pcie_width_cur, 0, NULL);
        printf("GPU %-3d %s: %s, %s free; %s SMs, cc %s; PCIe gen %s x%s; "
               "%s memory bandwidth (derived); %s\n",
               g->index, g->name[0] ? g->name : "n/a",
               hws_fmt_gib(mem, sizeof mem, hws_gpu_device_mem_bytes(g)),
               hws_fmt_gib(free_mem, sizeof free_mem, hws_gpu_usable_mem_bytes(g)), sms, ccv, gen,
               width, hws_fmt_num(bw, sizeof bw, g->mem_bw_theoretical_gbps, 0, "GB/s"), verdict);
    }
}

int cmd_report(int argc, char **argv) {
    bool json = false;
    const char *pos[1];
    int npos;
    const hws_opt opts[] = {{"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"}};
    int rc = hws_args_parse("report", "[--json]", argc, argv, opts, 1, pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    hws_info *info = hws_info_gather("report", &rc);
    if (info == NULL)
        return rc;
    hws_report *rep = calloc(1, sizeof *rep);
    if (rep == NULL) {
        free(info);
        fprintf(stderr, "hwscope report: out of memory\n");
        return 1;
    }
    hws_ceilings_set *ceilings = info->gpus.count > 0 ? hws_plan_ceilings_read("report") : NULL;
    hws_report_build(&info->gpus, ceilings, rep);
    hws_ceilings_set_free(ceilings);
    if (json) {
        cJSON *doc = hws_info_json(info);
        if (doc != NULL) {
            cJSON_ReplaceItemInObject(doc, "schema", cJSON_CreateString("hwscope.report/1"));
            cJSON_AddItemToObject(doc, "runs_here", hws_report_json(rep));
        }
        rc = hws_json_emit("report", doc);
    } else {
        print_summary(info);
        hws_report_print(stdout, rep);
        printf("\n`hwscope info` shows every fact, `hwscope plan MODEL` one model in full.\n");
    }
    free(info);
    free(rep);
    return rc;
}
