/* fuzz_web_config.c - the web configuration reader of `hwscope serve --web-config` on arbitrary
 * text: it must accept or refuse with a message, never crash or read out of bounds. */
#include "hwscope/monitor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    hws_web_config *cfg = malloc(sizeof *cfg);
    hws_error err;
    if (cfg != NULL)
        hws_web_config_parse(text, "fuzz/web.yml", cfg, &err);
    free(cfg);
    free(text);
    return 0;
}
