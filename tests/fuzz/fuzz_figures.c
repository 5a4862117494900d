/* fuzz_figures.c - feeds arbitrary bytes to the reader of the report's saved quick figures
 * (report-figures-<id>.json): it must accept or refuse, never crash, read past the input or
 * leave more figures than it holds. */
#include "report/report_model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size > 0 ? size : 1); /* exact size: ASan catches reads past it */
    hws_report *r = calloc(1, sizeof *r);
    if (text == NULL || r == NULL) {
        free(text);
        free(r);
        return 0;
    }
    memcpy(text, data, size);
    hws_error err;
    /* any time within ~60 years is fresh, so the figures themselves are read */
    if (hws_report_figures_parse(text, size, "0123456789abcdef", 2e9, 2e9, r, &err) == HWS_OK &&
        (r->nfigures < 0 || r->nfigures > HWS_REPORT_MAX_FIGURES ||
         memchr(r->bench_time_utc, '\0', sizeof r->bench_time_utc) == NULL))
        abort();
    for (int i = 0; i < r->nfigures; i++)
        if (memchr(r->figures[i].what, '\0', sizeof r->figures[i].what) == NULL ||
            r->figures[i].device < -1)
            abort();
    free(text);
    free(r);
    return 0;
}
