/* report.c - `hwscope` with no command: for now the info summary. */
#include "cli/commands.h"

int cmd_report(int argc, char **argv) {
    return cmd_info(argc, argv);
}
