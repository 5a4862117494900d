/* fuzz_ceilings.c - arbitrary bytes as the saved ceilings file (hwscope.ceilings/1): the parser
 * returns a set or an error naming the file, never crashes or reads past the input; a set it
 * returns holds only positive finite figures. */
#include "plan/ceilings.h"
#include "util/units.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size > 0 ? size : 1); /* exact size: ASan sees any read past it */
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    hws_ceilings_set *set;
    hws_error err;
    hws_status st = hws_ceilings_set_parse(text, size, "fuzz/ceilings.json", &set, &err);
    if (st != HWS_OK && strstr(err.msg, "fuzz/ceilings.json") == NULL)
        abort();
    hws_ceilings c;
    if (st == HWS_OK && hws_ceilings_set_find(set, "H100 SXM 80GB", NULL, &c)) {
        double figures[] = {c.mem_bw_gbps,          c.bf16_tflops,     c.fp16_tflops,
                            c.fp8_tflops,           c.int8_tops,       c.fp32_tflops,
                            c.allreduce_busbw_gbps, c.host_mem_bw_gbps};
        for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
            if (hws_known(figures[i]) && !(isfinite(figures[i]) && figures[i] > 0))
                abort();
    }
    hws_ceilings_set_free(set);
    free(text);
    return 0;
}
