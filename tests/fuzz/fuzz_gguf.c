/* fuzz_gguf.c - feeds arbitrary bytes to the GGUF header parser and the model reader on top:
 * each must return OK or an error naming the input, never crash or read past the input. */
#include "hwscope/gguf.h"
#include "format/model_readers.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* an exact-size copy, so any read past the end is caught by ASan */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    hws_gguf *g;
    hws_error err;
    if (hws_gguf_parse(copy, size, "fuzz.gguf", &g, &err) != HWS_OK) {
        if (strstr(err.msg, "fuzz.gguf") == NULL)
            abort();
        free(copy);
        return 0;
    }
    for (size_t i = 0; i < hws_gguf_kv_count(g); i++) {
        const hws_gguf_kv *kv = hws_gguf_kv_at(g, i);
        const char *s;
        uint64_t len, v;
        if (kv->array_len > 0) {
            hws_gguf_array_str(kv, kv->array_len - 1, &s, &len);
            hws_gguf_array_uint(kv, kv->array_len - 1, &v);
        }
    }
    hws_model_spec m;
    if (hws_model_from_gguf_header(g, "fuzz.gguf", &m, &err) != HWS_OK &&
        strstr(err.msg, "fuzz.gguf") == NULL)
        abort();
    hws_gguf_close(g);
    free(copy);
    return 0;
}
