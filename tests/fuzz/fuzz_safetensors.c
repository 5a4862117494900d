/* fuzz_safetensors.c - libFuzzer target for the safetensors reader: any bytes must parse or be
 * refused with a message naming the file, and every tensor of a parsed file must read back,
 * whole and by slab of its first dimension. */
#include "format/safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hws_safetensors st;
    hws_error err;
    if (hws_safetensors_parse(data, size, "fuzz.safetensors", &st, &err) != HWS_OK) {
        if (strncmp(err.msg, "fuzz.safetensors", 16) != 0 && strcmp(err.msg, "out of memory") != 0)
            abort(); /* every refusal names the file */
        return 0;
    }
    for (int i = 0; i < st.n; i++) {
        const hws_st_tensor *t = &st.t[i];
        if (t->numel > (1u << 20))
            continue;
        float *out = malloc((t->numel ? t->numel : 1) * sizeof *out);
        if (out)
            hws_safetensors_read(&st, t->name, t->ndim, t->shape, out, &err);
        /* the last slab of the first dimension reads; one past it is refused */
        if (out && t->ndim >= 1 && t->shape[0] > 0) {
            hws_safetensors_read_slab(&st, t->name, t->shape[0] - 1, t->ndim, t->shape, out, &err);
            if (hws_safetensors_read_slab(&st, t->name, t->shape[0], t->ndim, t->shape, out,
                                          &err) == HWS_OK)
                abort();
        }
        free(out);
    }
    hws_safetensors_meta(&st, "nhead");
    hws_safetensors_close(&st);
    return 0;
}
