/* plan_common.c - flags, model resolution and JSON shared by `hwscope plan` and `advise`. */
#include "cli/plan_common.h"

#include "report/fields.h"
#include "report/json.h"
#include "hwscope/units.h"

#include <stdio.h>
#include <string.h>

void hws_plan_args_default(hws_plan_args *a) {
    memset(a, 0, sizeof *a);
    a->ctx = 0; /* not given: HWS_PLAN_DEFAULT_CTX, or the model's maximum when smaller */
    a->batch = 1;
    a->prompt = 512;
}

int hws_plan_setup(const char *cmd, const char *model_arg, const hws_plan_args *a,
                   hws_model_spec *model, hws_plan_opts *o, hws_memory *mem) {
    hws_error err = {{0}};
    hws_status st = hws_model_resolve(model_arg, model, &err);
    if (st != HWS_OK) {
        if (st == HWS_ERR_INPUT)
            return hws_usage_error(cmd, "%s", err.msg);
        fprintf(stderr, "hwscope %s: %s\n", cmd, err.msg);
        return 1;
    }
    if (model->warning[0] != '\0')
        fprintf(stderr, "hwscope %s: warning: %s\n", cmd, model->warning);
    hws_plan_opts_default(o);
    if (a->dtype != NULL && a->quant != NULL)
        return hws_usage_error(cmd, "--dtype and --quant: give one weight format");
    const char *fmt = a->dtype != NULL ? a->dtype : a->quant;
    if (fmt != NULL && (o->weights = hws_weight_format_find(fmt)) == NULL)
        return hws_usage_error(cmd, "--%s: unknown weight format '%s' (see --help)",
                               a->dtype ? "dtype" : "quant", fmt);
    if (a->kv != NULL && (o->kv = hws_kv_format_find(a->kv)) == NULL)
        return hws_usage_error(cmd, "--kv-dtype: unknown KV format '%s'", a->kv);
    int file_gguf = o->weights == NULL && strstr(model_arg, ".gguf") != NULL;
    if ((o->weights != NULL && o->weights->gguf) || file_gguf)
        o->runtime = HWS_RUNTIME_LLAMACPP;
    if (a->runtime != NULL) {
        int rt = hws_runtime_parse(a->runtime);
        if (rt < 0)
            return hws_usage_error(
                cmd, "--runtime: '%s' is not transformers, vllm, llama.cpp or hwscope", a->runtime);
        o->runtime = (hws_runtime)rt;
    }
    if (a->cache != NULL && strcmp(a->cache, "static") != 0 && strcmp(a->cache, "dynamic") != 0)
        return hws_usage_error(cmd, "--cache: '%s' is not dynamic or static", a->cache);
    o->static_cache = a->cache != NULL && strcmp(a->cache, "static") == 0;
    if (o->static_cache && o->runtime != HWS_RUNTIME_TRANSFORMERS)
        return hws_usage_error(cmd, "--cache static: only --runtime transformers has a choice");
    long ctx = a->ctx > 0 ? a->ctx : (long)hws_plan_default_ctx(model);
    if (a->ctx > 0 && hws_known(model->max_context) && a->ctx > model->max_context)
        fprintf(stderr, "hwscope %s: warning: --ctx %ld is beyond %s's context of %.0f tokens\n",
                cmd, a->ctx, model->name, model->max_context);
    o->ctx_tokens = (double)ctx;
    o->batch = (double)a->batch;
    o->prompt_tokens = (double)(a->prompt < ctx ? a->prompt : ctx);
    o->depth_tokens = a->depth > 0 ? (double)a->depth : HWS_NA;
    st = hws_memory_estimate(model, o, mem, &err);
    if (st != HWS_OK)
        return hws_usage_error(cmd, "%s", err.msg);
    return 0;
}

int hws_plan_host(const char *cmd, const char *host_name, double ram_gb, hws_host *host) {
    hws_error err = {{0}};
    if (host_name != NULL && hws_host_named(host_name, host, &err) != HWS_OK)
        return hws_usage_error(cmd, "%s", err.msg);
    if (host_name == NULL && hws_host_local(host, &err) != HWS_OK)
        hws_host_unknown(host);
    if (ram_gb > 0) {
        host->mem_bytes = ram_gb * 1e9;
        snprintf(host->basis, sizeof host->basis, "%s with --ram %g GB: RAM checked against that",
                 host->name, ram_gb);
    }
    return 0;
}

const char *hws_plan_weights_name(const hws_plan_opts *o, const hws_model_spec *m) {
    if (o->weights != NULL)
        return o->weights->name;
    int experts_only;
    if (hws_known(m->file_weight_bytes))
        return m->file_weight_type[0] ? m->file_weight_type : "file";
    if (hws_checkpoint_format(m, &experts_only) != NULL) /* as the checkpoint ships */
        return m->file_weight_type;
    return "bf16";
}

void hws_json_model(cJSON *doc, const hws_model_spec *m, const hws_memory *mem) {
    cJSON *o = cJSON_AddObjectToObject(doc, "model");
    hws_json_str(o, "name", m->name);
    hws_json_str(o, "family", m->family);
    hws_json_str(o, "source", m->source);
    static const hws_field model_fields[] = {
        HWS_JSON_NUM(hws_model_spec, params_published), HWS_JSON_NUM(hws_model_spec, n_layers),
        HWS_JSON_NUM(hws_model_spec, n_heads),          HWS_JSON_NUM(hws_model_spec, n_kv_heads),
        HWS_JSON_NUM(hws_model_spec, max_context),      HWS_JSON_NUM(hws_model_spec, vision_params),
    };
    hws_json_num(o, "params", mem->params);
    hws_json_num(o, "active_params", mem->active_params);
    hws_fields_json(o, model_fields, sizeof model_fields / sizeof model_fields[0], m);
}

void hws_json_options(cJSON *doc, const hws_plan_opts *o, const hws_model_spec *m) {
    cJSON *j = cJSON_AddObjectToObject(doc, "options");
    hws_json_str(j, "weights", hws_plan_weights_name(o, m));
    hws_json_num(j, "bits_per_weight", o->weights ? o->weights->bits_per_weight : HWS_NA);
    hws_json_str(j, "kv_dtype", o->kv->name);
    hws_json_num(j, "ctx_tokens", o->ctx_tokens);
    hws_json_num(j, "batch", o->batch);
    hws_json_num(j, "prompt_tokens", o->prompt_tokens);
    hws_json_num(j, "gen_tokens", o->gen_tokens);
    hws_json_str(j, "runtime", hws_runtime_name(o->runtime));
}

void hws_ceilings_warn(const char *cmd, const char *warning) {
    if (warning[0] != '\0')
        fprintf(stderr,
                "hwscope %s: warning: saved ceilings not used, predictions from the "
                "datasheet: %s\n",
                cmd, warning);
}

hws_ceilings_set *hws_plan_ceilings_read(const char *cmd) {
    char path[HWS_CEILINGS_PATH_BYTES];
    hws_ceilings_set *set = NULL;
    hws_error why = {""};
    if (!hws_ceilings_path(path, sizeof path))
        return NULL;
    hws_status st = hws_ceilings_set_load(path, &set, &why);
    if (st != HWS_OK && st != HWS_ERR_UNSUPPORTED)
        hws_ceilings_warn(cmd, why.msg);
    return set;
}
