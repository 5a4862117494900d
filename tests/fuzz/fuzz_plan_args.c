/* fuzz_plan_args.c - feeds arbitrary text to what plan and advise parse from the user: the --gpus
 * spec, weight and KV format names and the MODEL lookup; each returns a result or an error, and a
 * parsed GPU set is placed and predicted for a small model without a crash. */
#include "hwscope/plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    hws_error err;
    hws_device_set devs;
    hws_model_spec m;
    (void)hws_weight_format_find(text);
    (void)hws_kv_format_find(text);
    (void)hws_runtime_parse(text);
    if (strchr(text, '/') == NULL && strstr(text, ".gguf") == NULL) /* no file access */
        (void)hws_model_resolve(text, &m, &err);
    const hws_model_spec *small = hws_model_catalog_find("Llama-3.2-1B");
    if (hws_devices_parse(text, &devs, &err) == HWS_OK && small != NULL) {
        hws_plan_opts o;
        hws_memory mem;
        hws_placement pl;
        hws_predict_inputs in;
        hws_prediction pred;
        hws_plan_opts_default(&o);
        if (hws_memory_estimate(small, &o, &mem, &err) == HWS_OK) {
            hws_placement_best(small, &o, &mem, &devs, &pl);
            hws_predict_inputs_fill(&o, &mem, &devs, "/nonexistent", &in);
            hws_prediction_compute(small, &o, &mem, &pl, &in, &pred);
        }
    } else if (strstr(err.msg, "--gpus") == NULL) {
        abort();
    }
    free(text);
    return 0;
}
