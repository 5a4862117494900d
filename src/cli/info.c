/* info.c - `hwscope info`: gathers the CPU, memory and GPU facts and the GPU link topology
 * (info_topology.c), and renders them through report/info.c as tables or as one JSON document
 * (schema hwscope.info/1). */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/info.h"
#include "hwscope/probe.h"
#include "report/fields.h"
#include "report/health.h"
#include "report/json.h"
#include "report/table.h"
#include "hwscope/units.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

hws_info *hws_info_gather(const char *cmd, int *rc) {
    hws_info *info = calloc(1, sizeof *info);
    if (info == NULL) {
        fprintf(stderr, "hwscope %s: out of memory\n", cmd);
        *rc = 1;
        return NULL;
    }
    hws_error err = {""};
    hws_status st = hws_probe_cpu(&info->cpu, &err);
    if (st == HWS_OK)
        st = hws_probe_mem(&info->mem, &err);
    if (st == HWS_OK)
        st = hws_probe_gpus(&info->gpus, &err);
    if (st == HWS_OK)
        return info;
    fprintf(stderr, "hwscope %s: %s\n", cmd, err.msg);
    free(info);
    *rc = st == HWS_ERR_INPUT ? 2 : 1;
    return NULL;
}

int cmd_info(int argc, char **argv) {
    bool json = false;
    const char *pos[1];
    int npos;
    const hws_opt opts[] = {{"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"}};
    int rc = hws_args_parse("info", "[--json]", argc, argv, opts, COUNT(opts), pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    hws_info *info = hws_info_gather("info", &rc);
    if (info == NULL)
        return rc;
    hws_error err = {""};
    hws_topology *topo = calloc(1, sizeof *topo);
    if (topo == NULL || hws_probe_topology(topo, &err) != HWS_OK) {
        fprintf(stderr, "hwscope info: %s\n", topo == NULL ? "out of memory" : err.msg);
        free(topo);
        free(info);
        return 1;
    }
    if (json) {
        cJSON *doc = hws_info_json(info);
        if (doc != NULL)
            cJSON_AddItemToObject(doc, "topology", hws_topology_json(topo));
        rc = hws_json_emit("info", doc);
    } else {
        hws_info_print_text(info);
        hws_topology_print_text(topo);
        rc = 0;
    }
    free(topo);
    free(info);
    return rc;
}
