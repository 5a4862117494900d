/* fuzz_llm_measured.c - feeds arbitrary bytes as a ceilings file to the reader of the runs
 * `hwscope bench llm` saves (hws_llm_measured_load) and to the writer that merges into it
 * (hws_llm_measured_save): each must return a status, never crash, read past the input or trust
 * a field out of range. */
#include "hwscope/plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[] = "/tmp/hws-fuzz-llm-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    hws_llm_measured runs[8];
    hws_error err;
    int n = -1;
    hws_status st = hws_llm_measured_load(path, "GPU", NULL, runs, 8, &n, &err);
    if (n < 0 || n > 8 || (st == HWS_OK && n == 0))
        abort();
    for (int i = 0; i < n; i++)
        if (runs[i].batch < 1 || runs[i].depth < 0 ||
            strlen(runs[i].model) >= sizeof runs[i].model ||
            strlen(runs[i].runtime) >= sizeof runs[i].runtime ||
            strlen(runs[i].variant) >= sizeof runs[i].variant ||
            strlen(runs[i].host) >= sizeof runs[i].host)
            abort();
    hws_llm_measured one;
    memset(&one, 0, sizeof one);
    snprintf(one.model, sizeof one.model, "m");
    snprintf(one.device, sizeof one.device, "cuda");
    snprintf(one.format, sizeof one.format, "bf16");
    one.batch = 1;
    one.decode_tokens_per_s = 100;
    one.prefill_tokens_per_s = one.decode_bytes_per_step = one.prefill_flops_per_token = 1;
    hws_llm_measured_save(path, "GPU", &one, 1, &err);
    unlink(path);
    return 0;
}
