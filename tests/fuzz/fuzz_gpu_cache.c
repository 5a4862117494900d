/* fuzz_gpu_cache.c - arbitrary bytes as a GPU cache file (hwscope.gpu-cache/1): an entry or an
 * error naming the file, never a crash or a read past the input; an entry holds only finite,
 * non-negative counts. */
#include "probe/gpu_cache.h"
#include "util/units.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size > 0 ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    hws_gpu_cache_entry e;
    hws_error err;
    hws_status st = hws_gpu_cache_parse(text, size, "fuzz/gpu.txt", "GPU-1", "580.1", &e, &err);
    if (st != HWS_OK && strstr(err.msg, "fuzz/gpu.txt") == NULL)
        abort();
    if (st == HWS_OK) {
        hws_gpu_info g;
        memset(&g, 0, sizeof g);
        g.sm_count = g.l2_bytes = g.cc_major = g.cc_minor = HWS_NA;
        g.mem_bus_width_bits = g.max_mem_clock_mhz = g.max_sm_clock_mhz = HWS_NA;
        g.mem_total_bytes = HWS_NA;
        hws_gpu_cache_apply(&e, &g);
        if (!(isfinite(g.sm_count) && g.sm_count >= 0))
            abort();
    }
    free(text);
    return 0;
}
