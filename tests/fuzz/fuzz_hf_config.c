/* fuzz_hf_config.c - feeds arbitrary bytes to the config.json and safetensors-index parsers:
 * each must return OK or an error naming the file, never crash or read past the input. */
#include "format/model_readers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so any read past the end is caught by ASan */
    char *text = malloc(size > 0 ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    hws_model_spec m;
    hws_error err;
    if (hws_hf_config_parse(text, size, "fuzz/config.json", &m, &err) != HWS_OK &&
        strstr(err.msg, "fuzz/config.json") == NULL)
        abort();
    double bytes;
    if (hws_hf_index_parse(text, size, "fuzz/index.json", &bytes, &err) != HWS_OK &&
        strstr(err.msg, "fuzz/index.json") == NULL)
        abort();
    free(text);
    return 0;
}
