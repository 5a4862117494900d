/* json.c - JSON documents with null for unknown facts and a schema name at the top. */
#include "report/json.h"
#include "util/text.h"

#include "hwscope/hwscope.h"
#include "util/units.h"

#include <stdbool.h>
#include <stdlib.h>

cJSON *hws_fingerprint_json(const hws_bench_fingerprint *fp) {
    char id[17];
    cJSON *o = cJSON_CreateObject();
    hws_fingerprint_id(fp, id);
    cJSON_AddStringToObject(o, "id", id);
    hws_json_str(o, "time_utc", fp->time_utc);
    hws_json_str(o, "hostname", fp->hostname);
    cJSON *cpu = cJSON_AddObjectToObject(o, "cpu");
    hws_json_str(cpu, "model", fp->cpu_model);
    hws_json_num(cpu, "cores", fp->cpu_cores);
    hws_json_num(cpu, "threads", fp->cpu_threads);
    hws_json_num(cpu, "fp32_peak_gflops", fp->cpu_fp32_peak_gflops);
    hws_json_str(cpu, "blas", fp->blas);
    cJSON *gpus = cJSON_AddArrayToObject(o, "gpus");
    for (int i = 0; i < fp->ngpus; i++) {
        cJSON *g = cJSON_CreateObject();
        hws_json_str(g, "name", fp->gpu_name[i]);
        hws_json_str(g, "pci_bus_id", fp->gpu_pci_bus_id[i]);
        hws_json_num(g, "sm_count", fp->gpu_sm_count[i]);
        hws_json_num(g, "compute_capability", fp->gpu_cc[i]);
        cJSON_AddItemToArray(gpus, g);
    }
    hws_json_str(o, "driver_version", fp->driver_version);
    hws_json_str(o, "cuda_driver", fp->cuda_driver);
    hws_json_str(o, "cuda_runtime", fp->cuda_runtime);
    hws_json_str(o, "cublaslt", fp->cublaslt);
    hws_json_str(o, "hwscope_version", fp->hwscope_version);
    hws_json_str(o, "build_commit", fp->build_commit);
    return o;
}

cJSON *hws_json_doc_for(const char *schema, const hws_bench_fingerprint *fp) {
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return NULL;
    cJSON_AddStringToObject(doc, "schema", schema);
    cJSON_AddStringToObject(doc, "hwscope_version", hws_version());
    cJSON_AddStringToObject(doc, "build_commit", hws_build_commit());
    hws_json_str(doc, "time_utc", fp->time_utc);
    hws_json_str(doc, "hostname", fp->hostname);
    cJSON_AddItemToObject(doc, "fingerprint", hws_fingerprint_json(fp));
    return doc;
}

cJSON *hws_json_doc(const char *schema) {
    hws_cpu_info *cpu = calloc(1, sizeof *cpu);
    hws_gpu_list *gpus = calloc(1, sizeof *gpus);
    hws_bench_fingerprint fp;
    hws_error ignored; /* what cannot be probed is null in the fingerprint */
    bool have_cpu = cpu != NULL && hws_probe_cpu(cpu, &ignored) == HWS_OK;
    bool have_gpus = gpus != NULL && hws_probe_gpus(gpus, &ignored) == HWS_OK;
    hws_fingerprint_fill(&fp, have_cpu ? cpu : NULL, have_gpus ? gpus : NULL);
    free(cpu);
    free(gpus);
    return hws_json_doc_for(schema, &fp);
}

cJSON *hws_json_num(cJSON *obj, const char *key, double value) {
    if (!hws_known(value) || isinf(value))
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddNumberToObject(obj, key, value);
}

cJSON *hws_json_str(cJSON *obj, const char *key, const char *s) {
    if (s == NULL || s[0] == '\0')
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddStringToObject(obj, key, s);
}

cJSON *hws_json_tri(cJSON *obj, const char *key, int tri) {
    if (tri < 0)
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddBoolToObject(obj, key, tri != 0);
}

int hws_json_print(const cJSON *doc, FILE *out) {
    char *raw = cJSON_Print(doc);
    /* strings from files, folders and drivers may hold bytes that are not UTF-8, which strict
     * parsers reject: each becomes \ufffd here, the one way out of every JSON document */
    char *text = raw != NULL ? hws_text_clean(raw, HWS_TEXT_JSON) : NULL;
    cJSON_free(raw);
    if (text == NULL)
        return -1;
    int ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF && fflush(out) == 0;
    free(text);
    return ok ? 0 : -1;
}
