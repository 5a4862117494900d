/* ceilings_file.h - inside the planner: the one reader and writer of the saved-ceilings file
 * (hwscope.ceilings/1, predict.c), shared with the runs `hwscope bench llm` saves in the same
 * entries (llm_measured.c). */
#ifndef HWSCOPE_PLAN_CEILINGS_FILE_H
#define HWSCOPE_PLAN_CEILINGS_FILE_H

#include "hwscope/plan.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Reads the file into *text (free it); *missing tells a file that is not there from one that
 * cannot be read (err names the fault). At most 16 MiB is read. */
hws_status hws_ceilings_read(const char *path, char **text, bool *missing, hws_error *err);
/* True when an entry's name is the GPU's (case-insensitively) or names its catalog row. */
int hws_ceilings_entry_matches(const char *entry, const char *gpu_name, const hws_gpu_spec *spec);
/* The entry of gpu_name in the "gpus" array, a new one (ceilings null) when there is none. */
cJSON *hws_ceilings_entry_for(cJSON *gpus, const char *gpu_name);
/* Reads and parses the file and finds gpu_name's entry: *doc (free it with cJSON_Delete) and
 * *entry inside it. HWS_ERR_UNSUPPORTED when there is no file or no entry (nothing to free);
 * HWS_ERR_INPUT when it is not a ceilings document. The one reader both loaders share. */
hws_status hws_ceilings_find(const char *path, const char *gpu_name, const hws_gpu_spec *spec,
                             cJSON **doc, const cJSON **entry, hws_error *err);
/* Sets key of o to item, replacing what is there. */
void hws_ceilings_set(cJSON *o, const char *key, cJSON *item);

/* Changes the entry of one GPU: returns 0, or -1 when out of memory. */
typedef int (*hws_ceilings_edit_fn)(cJSON *entry, const void *arg);
/* Reads path (a new document when there is none), lets edit change gpu_name's entry and
 * replaces the file at once (temporary file + rename); folders are created. HWS_ERR_INPUT,
 * file untouched, when the file is not a hwscope.ceilings/1 document or the path is too long;
 * HWS_ERR_RUNTIME when it cannot be written. */
hws_status hws_ceilings_update(const char *path, const char *gpu_name, hws_ceilings_edit_fn edit,
                               const void *arg, hws_error *err);

/* For the hwscope runtime: replaces in's efficiencies and fixed costs by those fitted from the
 * runs saved for the device and the plan's format, and says so in in->basis. Leaves in as it
 * is when nothing is saved. */
void hws_llm_measured_apply(const hws_plan_opts *o, const hws_device *dev, const char *path,
                            hws_predict_inputs *in);

#endif
