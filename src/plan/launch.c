/* launch.c - the command line that runs a placement: vLLM's serve flags, llama.cpp's
 * llama-server flags (-ngl, --tensor-split, --n-cpu-moe, -c, -ctk), transformers'
 * from_pretrained(device_map, max_memory) and DeepSpeed ZeRO-3, from the plan's own numbers. */
#include "hwscope/plan.h"

#include "util/units.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Appends to buf (n bytes) at *len, stopping quietly at the end. */
static void add(char *buf, size_t n, size_t *len, const char *fmt, ...) {
    if (*len >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    *len = k < 0 ? n : (*len + (size_t)k < n ? *len + (size_t)k : n);
}

/* "org/name" of a Hugging Face config URL, else the model's name. */
static void model_id(const hws_model_spec *m, char *id, size_t n) {
    const char *hf = strstr(m->source, "huggingface.co/");
    if (hf != NULL) {
        hf += strlen("huggingface.co/");
        const char *end = strstr(hf, "/blob/");
        if (end == NULL)
            end = strstr(hf, "/resolve/");
        if (end != NULL && (size_t)(end - hf) < n) {
            snprintf(id, n, "%.*s", (int)(end - hf), hf);
            return;
        }
    }
    snprintf(id, n, "%s", m->name);
}

static void vllm(const hws_model_spec *m, const hws_plan_opts *o, const hws_placement *pl,
                 const char *id, char *buf, size_t n, size_t *len) {
    add(buf, n, len, "vllm serve %s --tensor-parallel-size %d --pipeline-parallel-size %d", id,
        pl->tp, pl->pp);
    add(buf, n, len, " --gpu-memory-utilization %.2f --max-model-len %.0f --max-num-seqs %.0f",
        pl->gpu_mem_util > 0 ? pl->gpu_mem_util : o->vllm_gpu_mem_util, o->ctx_tokens, o->batch);
    if (o->kv->bytes_per_elem < 2)
        add(buf, n, len, " --kv-cache-dtype fp8");
    if (o->weights != NULL && strcmp(o->weights->name, "fp8") == 0)
        add(buf, n, len, " --quantization fp8");
    if (pl->kind == HWS_PLACE_CPU_OFFLOAD && pl->cpu_bytes > 0)
        add(buf, n, len, " --cpu-offload-gb %.0f", pl->cpu_bytes / HWS_GB + 0.5);
    (void)m;
}

/* llama.cpp's cache types by our KV format. */
static const char *llama_kv(const hws_plan_opts *o) {
    if (strcasecmp(o->kv->name, "q8_0") == 0)
        return "q8_0";
    if (o->kv->bytes_per_elem < 1)
        return "q4_0";
    return NULL;
}

static void llamacpp(const hws_model_spec *m, const hws_plan_opts *o, const hws_placement *pl,
                     const char *id, char *buf, size_t n, size_t *len) {
    int gpu_layers = 0;
    for (int d = 0; d < pl->ndev; d++)
        gpu_layers += pl->load[d].n_layers;
    const char *q = o->weights != NULL ? o->weights->name : "BF16";
    add(buf, n, len, "llama-server -m %s-%s.gguf", id, q);
    if (hws_known(m->vision_params) && m->vision_params > 0) /* the vision tower's own file */
        add(buf, n, len, " --mmproj mmproj-%s-F16.gguf", id);
    if (pl->kind == HWS_PLACE_CPU_ONLY)
        add(buf, n, len, " -ngl 0");
    else if (pl->kind == HWS_PLACE_CPU_OFFLOAD)
        add(buf, n, len, " -ngl %d", gpu_layers);
    else
        add(buf, n, len, " -ngl 99");
    if (pl->ndev > 1) {
        add(buf, n, len, " --tensor-split ");
        for (int d = 0; d < pl->ndev; d++)
            add(buf, n, len, "%s%d", d ? "," : "", pl->load[d].n_layers);
        if (pl->kind == HWS_PLACE_TENSOR_PARALLEL)
            add(buf, n, len, " --split-mode row");
    }
    if (pl->kind == HWS_PLACE_EXPERT_OFFLOAD) {
        if (pl->cpu_moe_below >= (int)m->n_layers)
            add(buf, n, len, " -ot exps=CPU");
        else
            add(buf, n, len, " --n-cpu-moe %d", pl->cpu_moe_below);
    }
    add(buf, n, len, " -c %.0f -np %.0f", o->ctx_tokens * o->batch, o->batch);
    const char *kv = llama_kv(o);
    if (kv != NULL)
        add(buf, n, len, " -fa on -ctk %s -ctv %s", kv, kv);
}

static const char *torch_dtype(const hws_plan_opts *o) {
    return o->weights != NULL && strcmp(o->weights->name, "fp16") == 0 ? "float16" : "bfloat16";
}

/* The transformers Auto class that loads the checkpoint whole: a vision-language model's
 * ForConditionalGeneration class comes from AutoModelForImageTextToText. */
static const char *auto_class(const hws_model_spec *m) {
    return hws_known(m->vision_params) && m->vision_params > 0 ? "AutoModelForImageTextToText"
                                                               : "AutoModelForCausalLM";
}

static void transformers(const hws_model_spec *m, const hws_plan_opts *o,
                         const hws_device_set *devs, const hws_placement *pl, const char *id,
                         char *buf, size_t n, size_t *len) {
    if (pl->kind == HWS_PLACE_TENSOR_PARALLEL) {
        add(buf, n, len,
            "torchrun --nproc-per-node %d app.py  # %s.from_pretrained(\"%s\", "
            "torch_dtype=\"%s\", tp_plan=\"auto\")",
            pl->tp, auto_class(m), id, torch_dtype(o));
        return;
    }
    add(buf, n, len, "%s.from_pretrained(\"%s\", torch_dtype=\"%s\"", auto_class(m), id,
        torch_dtype(o));
    if (o->weights != NULL && strcmp(o->weights->name, "nf4") == 0)
        add(buf, n, len, ", quantization_config=BitsAndBytesConfig(load_in_4bit=True)");
    if (o->weights != NULL && strcmp(o->weights->name, "int8") == 0)
        add(buf, n, len, ", quantization_config=BitsAndBytesConfig(load_in_8bit=True)");
    if (pl->kind == HWS_PLACE_CPU_ONLY) {
        add(buf, n, len, ", device_map=\"cpu\")");
        return;
    }
    if (pl->kind == HWS_PLACE_SINGLE) {
        add(buf, n, len, ", device_map=\"cuda:0\")");
        return;
    }
    add(buf, n, len, ", device_map=\"auto\", max_memory={");
    for (int d = 0; d < pl->ndev; d++) {
        const hws_device_load *l = &pl->load[d];
        double room = l->avail_bytes - l->activation_bytes - l->overhead_bytes;
        add(buf, n, len, "%s%d: \"%.0fGiB\"", d ? ", " : "", d, (room > 0 ? room : 0) / HWS_GIB);
    }
    if (pl->cpu_bytes > 0)
        add(buf, n, len, ", \"cpu\": \"%.0fGiB\"",
            (hws_known(devs->host.mem_bytes) ? devs->host.mem_bytes : pl->cpu_bytes * 1.1) /
                HWS_GIB);
    add(buf, n, len, "})");
}

void hws_launch_command(const hws_model_spec *m, const hws_plan_opts *o, const hws_device_set *devs,
                        const hws_placement *pl, char *buf, size_t n) {
    char id[128];
    size_t len = 0;
    if (n == 0)
        return;
    buf[0] = '\0';
    model_id(m, id, sizeof id);
    if (pl->kind == HWS_PLACE_ZERO3) {
        add(buf, n, &len,
            "deepspeed --num_gpus %d app.py  # deepspeed.initialize(model=%s."
            "from_pretrained(\"%s\"), config={\"zero_optimization\": {\"stage\": 3}, "
            "\"train_micro_batch_size_per_gpu\": 1})",
            pl->ndev, auto_class(m), id);
        return;
    }
    /* GGUF formats and CPU plans run with llama.cpp whatever runtime was asked */
    int gguf = o->weights != NULL && o->weights->gguf;
    if (o->runtime == HWS_RUNTIME_LLAMACPP || gguf || pl->kind == HWS_PLACE_CPU_ONLY ||
        pl->kind == HWS_PLACE_EXPERT_OFFLOAD)
        llamacpp(m, o, pl, id, buf, n, &len);
    else if (o->runtime == HWS_RUNTIME_VLLM)
        vllm(m, o, pl, id, buf, n, &len);
    else
        transformers(m, o, devs, pl, id, buf, n, &len);
}
