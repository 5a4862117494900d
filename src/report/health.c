/* health.c - renders GPU health verdicts: one line of text, or a JSON object. */
#include "report/health.h"
#include "report/json.h"

#include <stdio.h>
#include <string.h>

char *hws_gpu_health_text(char *buf, size_t n, const hws_gpu_health *h) {
    const char *sep = ": ";
    snprintf(buf, n, "%s", hws_health_level_name(h->level));
    for (int level = HWS_HEALTH_LOST; level > HWS_HEALTH_OK; level--) {
        for (int i = 0; i < h->count; i++) {
            if ((int)h->reasons[i].level != level)
                continue;
            size_t used = strlen(buf);
            snprintf(buf + used, n - used, "%s%s", sep, h->reasons[i].text);
            sep = "; ";
        }
    }
    return buf;
}

cJSON *hws_gpu_health_json(const hws_gpu_health *h) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "level", hws_health_level_name(h->level));
    cJSON *list = cJSON_AddArrayToObject(o, "reasons");
    for (int i = 0; list != NULL && i < h->count; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "key", h->reasons[i].key);
        cJSON_AddStringToObject(r, "level", hws_health_level_name(h->reasons[i].level));
        cJSON_AddStringToObject(r, "text", h->reasons[i].text);
        cJSON_AddItemToArray(list, r);
    }
    return o;
}

cJSON *hws_mig_json(const hws_gpu_info *g) {
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list != NULL && i < g->mig_count; i++) {
        cJSON *m = cJSON_CreateObject();
        hws_json_str(m, "name", g->mig[i].name);
        hws_json_str(m, "uuid", g->mig[i].uuid);
        hws_json_num(m, "mem_total_bytes", g->mig[i].mem_total_bytes);
        hws_json_num(m, "mem_free_bytes", g->mig[i].mem_free_bytes);
        hws_json_num(m, "mem_used_bytes", g->mig[i].mem_used_bytes);
        cJSON_AddItemToArray(list, m);
    }
    return list;
}
