/* top_layout.c - the screen layout of `hwscope top` (see the header). */
#include "monitor/top_layout.h"

#include <string.h>

#define HOST_ROWS      2
#define MIN_PROC_ROWS  4 /* header + 3 processes */
#define MAX_GRAPH_ROWS 8
#define MIN_GRAPH_ROWS 4

void hws_top_layout_compute(int rows, int cols, int ngpus, hws_top_layout *l) {
    memset(l, 0, sizeof *l);
    l->more_row = -1;
    if (rows < HWS_TOP_MIN_ROWS || cols < HWS_TOP_MIN_COLS) {
        l->too_small = 1;
        return;
    }
    l->host_row = 1;
    l->gpu_row = l->host_row + HOST_ROWS;
    l->status_row = rows - 1;
    int free_rows = l->status_row - l->gpu_row - MIN_PROC_ROWS; /* for GPUs and the graph */
    int wanted = ngpus > 0 ? ngpus : 1;
    if (wanted * 2 <= free_rows - MIN_GRAPH_ROWS || (wanted * 2 <= free_rows && ngpus <= 2))
        l->gpu_rows_each = 2;
    else
        l->gpu_rows_each = 1;
    l->gpus_shown = free_rows / l->gpu_rows_each;
    if (l->gpus_shown >= wanted) {
        l->gpus_shown = wanted;
    } else { /* keep a row for "+N more" */
        l->gpus_shown = free_rows - 1 > 0 ? free_rows - 1 : 0;
        l->more_row = l->gpu_row + l->gpus_shown;
    }
    int used = l->gpus_shown * l->gpu_rows_each + (l->more_row >= 0);
    int left = free_rows - used;
    if (ngpus > 0 && left >= MIN_GRAPH_ROWS) {
        l->graph_rows = left / 2 < MIN_GRAPH_ROWS ? MIN_GRAPH_ROWS : left / 2;
        if (l->graph_rows > MAX_GRAPH_ROWS)
            l->graph_rows = MAX_GRAPH_ROWS;
        l->graph_row = l->gpu_row + used;
        used += l->graph_rows;
    }
    l->proc_row = l->gpu_row + used;
    l->proc_rows = l->status_row - l->proc_row;
    /* a GPU row: "NN name(14) " + util bar + " " + memory bar + " " + ~20 columns of figures */
    l->bar_width = (cols - 18 - 22) / 2;
    if (l->bar_width > 40)
        l->bar_width = 40;
    if (l->bar_width < 6)
        l->bar_width = 6;
}
