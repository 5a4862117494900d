/* plan.c - placeholder for `hwscope plan` until its issue lands. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_plan(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hwscope plan: not built yet\n");
    return 1;
}
