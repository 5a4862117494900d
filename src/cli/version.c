/* version.c - `hwscope version` (also -V and --version): the version and the build commit, as
 * one line or as one JSON document (schema hwscope.version/1). */
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/hwscope.h"
#include "report/json.h"

#include <stdbool.h>
#include <stdio.h>

int cmd_version(int argc, char **argv) {
    bool json = false;
    const char *pos[1];
    int npos;
    const hws_opt opts[] = {{"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"}};
    int rc = hws_args_parse("version", "[--json]", argc, argv, opts, 1, pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (json)
        return hws_json_emit("version", hws_json_doc("hwscope.version/1"));
    printf("hwscope %s (%s)\n", hws_version(), hws_build_commit());
    return 0;
}
