/* info.c - placeholder. */
#include "cli/commands.h"

#include <stdio.h>

int cmd_info(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("hwscope info\n");
    return 0;
}
