/* top_layout.h - where `hwscope top` puts each part of the screen: a pure function of the
 * terminal size and the GPU count, so it can be tested without a terminal.
 *
 * From the top: a title row, two host rows (CPU and memory; load, network, disk), the GPUs (two
 * rows each when they fit, else one; "+N more" when even one row each does not fit), a history
 * graph of the selected GPU when rows are left, the process table (a header and at least three
 * rows), and a status row (keys, messages, the kill confirmation). */
#ifndef HWSCOPE_MONITOR_TOP_LAYOUT_H
#define HWSCOPE_MONITOR_TOP_LAYOUT_H

#define HWS_TOP_MIN_ROWS 10
#define HWS_TOP_MIN_COLS 40

typedef struct {
    int too_small;             /* 1: below HWS_TOP_MIN_ROWS x HWS_TOP_MIN_COLS; only a message */
    int host_row;              /* first of 2 */
    int gpu_row;               /* first GPU row */
    int gpu_rows_each;         /* 2 or 1 */
    int gpus_shown;            /* from the first visible GPU on */
    int more_row;              /* the "+N more" row, -1 when every GPU is shown */
    int graph_row, graph_rows; /* graph_rows 0: no graph */
    int proc_row, proc_rows;   /* the header row, then proc_rows - 1 processes */
    int status_row;
    int bar_width; /* columns of each bar (util, memory) */
} hws_top_layout;

/* Lays out a rows x cols screen for ngpus GPUs (ngpus 0: one row says why there are none). */
void hws_top_layout_compute(int rows, int cols, int ngpus, hws_top_layout *l);

#endif
