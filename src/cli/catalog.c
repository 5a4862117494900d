/* catalog.c - placeholder for `hwscope catalog` until its issue lands. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_catalog(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hwscope catalog: not built yet\n");
    return 1;
}
