/* bench_transformer.c - placeholder for `hwscope bench transformer` until its issue lands. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_bench_transformer(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "hwscope bench transformer: not built yet\n");
    return 1;
}
