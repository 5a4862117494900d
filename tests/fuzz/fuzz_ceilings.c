/* fuzz_ceilings.c - arbitrary bytes as the saved ceilings file (hwscope.ceilings/1): the parser
 * returns a set or an error naming the file, never crashes or reads past the input; a set it
 * returns holds only positive finite figures, and the fits the hwscope and transformers runtimes
 * make from its saved runs give finite figures or none. */
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
    for (int rt = 0; st == HWS_OK && rt < 2; rt++) {
        hws_plan_opts o;
        hws_plan_opts_default(&o);
        o.runtime = rt ? HWS_RUNTIME_TRANSFORMERS : HWS_RUNTIME_HWSCOPE;
        hws_device dev = {.name = "H100 SXM 80GB", .sm_count = 132};
        hws_predict_inputs in = {.mem_bw_gbps = 3000,
                                 .matmul_tflops = 800,
                                 .bw_eff = 0.8,
                                 .mm_eff = 0.6,
                                 .sm_count = 132,
                                 .wave_mm_eff = HWS_NA};
        hws_llm_measured_apply(&o, &dev, set, &in);
        double fitted[] = {in.bw_eff,
                           in.mm_eff,
                           in.wave_mm_eff,
                           in.layer_overhead_us,
                           in.decode_layer_overhead_us,
                           in.step_overhead_us,
                           in.prefill_block_us};
        for (size_t i = 0; i < sizeof fitted / sizeof fitted[0]; i++)
            if (hws_known(fitted[i]) && !isfinite(fitted[i]))
                abort();
    }
    hws_ceilings_set_free(set);
    free(text);
    return 0;
}
