/* ceilings.h - inside the planner: the ceilings file (hwscope.ceilings/1) parsed from memory, for
 * the loader and the fuzzer; its one writer (predict.c), shared with the runs `hwscope bench llm`
 * saves in the same entries (llm_measured.c); and the hwscope runtime's fit over those runs. */
#ifndef HWSCOPE_PLAN_CEILINGS_H
#define HWSCOPE_PLAN_CEILINGS_H

#include "hwscope/plan.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Parses the text of a ceilings file (len bytes, need not be NUL-terminated) named path in
 * messages, as hws_ceilings_set_load does after reading it. */
hws_status hws_ceilings_set_parse(const char *text, size_t len, const char *path,
                                  hws_ceilings_set **out, hws_error *err);
/* The runs saved for gpu_name (or the catalog row spec) in set: *runs (owned by set) and how
 * many; 0 when none. */
int hws_ceilings_set_runs(const hws_ceilings_set *set, const char *gpu_name,
                          const hws_gpu_spec *spec, const hws_llm_measured **runs);
/* One saved run of an "llm" array into r; false when a field is missing or out of range. */
bool hws_llm_measured_parse(const cJSON *o, hws_llm_measured *r);

/* The entry of gpu_name in the "gpus" array, a new one (ceilings null) when there is none. */
cJSON *hws_ceilings_entry_for(cJSON *gpus, const char *gpu_name);
/* Sets key of o to item, replacing what is there. */
void hws_ceilings_put(cJSON *o, const char *key, cJSON *item);

/* Changes the entry of one GPU: returns 0, or -1 when out of memory. */
typedef int (*hws_ceilings_edit_fn)(cJSON *entry, const void *arg);
/* Reads path (a new document when there is none) under a lock file beside it, lets edit change
 * gpu_name's entry and replaces the file at once (temporary file + rename); folders are
 * created. HWS_ERR_INPUT, file untouched, when the file is not a hwscope.ceilings/1 document or
 * the path is too long; HWS_ERR_RUNTIME when it cannot be written. */
hws_status hws_ceilings_update(const char *path, const char *gpu_name, hws_ceilings_edit_fn edit,
                               const void *arg, hws_error *err);

/* For the hwscope runtime: replaces in's efficiencies and fixed costs by those fitted from the
 * runs saved in set for the device and the plan's format, and says so in in->basis. Leaves in
 * as it is when nothing is saved. */
void hws_llm_measured_apply(const hws_plan_opts *o, const hws_device *dev,
                            const hws_ceilings_set *set, hws_predict_inputs *in);

#endif
