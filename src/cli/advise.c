/* advise.c - placeholder for `hwscope advise` until its issue lands. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_advise(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hwscope advise: not built yet\n");
    return 1;
}
