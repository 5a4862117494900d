/* bench.c - placeholder for `hwscope bench` until its issue lands. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hwscope bench: not built yet\n");
    return 1;
}
