/* top.c - `hwscope top`: an ncurses monitor in the manner of nvtop. Per GPU a utilisation and a
 * memory bar with the main figures, a history graph of the selected GPU, the host's CPU, memory,
 * load, network and disk, and the GPU processes, sortable by memory, utilisation or PID. Keys:
 * h help, s sort, arrows select, g next GPU, k kill (asks first), q quit. Works with no GPU. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/monitor_cli.h"
#include "monitor/sample_fields.h"
#include "monitor/top_layout.h"
#include "hwscope/units.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "[--interval S] [--no-gpu]";

#define HISTORY 512 /* utilisation readings kept per GPU for the graph */

typedef enum { SORT_MEMORY, SORT_UTIL, SORT_PID, SORT_COUNT } sort_key;
static const char *const sort_names[] = {"GPU memory", "utilisation", "PID"};

typedef struct {
    hws_monitor *m;
    hws_mon_sample *s;
    double interval_s;
    double (*history)[HISTORY]; /* per GPU, util_gpu_pct, newest at history_len - 1 */
    int history_len;
    unsigned long long history_gen;
    hws_mon_process *procs; /* every GPU's processes, sorted */
    int nprocs;
    int selected;  /* index into procs */
    int graph_gpu; /* the GPU the graph shows */
    sort_key sort;
    int help;          /* the help screen is up */
    pid_t confirm_pid; /* a kill waiting for y/n; 0 none */
    char status[160];  /* the last message */
} top_state;

enum { COLOR_OK = 1, COLOR_WARN, COLOR_BAD, COLOR_TITLE };

static void put_bar(int row, int col, int width, double pct, const char *text) {
    int inner = width - 2, fill = hws_known(pct) ? (int)(pct / 100.0 * inner + 0.5) : 0;
    int color = !hws_known(pct) ? 0 : pct < 50 ? COLOR_OK : pct < 85 ? COLOR_WARN : COLOR_BAD;
    int tlen = (int)strlen(text);
    if (fill > inner)
        fill = inner;
    mvaddch(row, col, '[');
    for (int i = 0; i < inner; i++) {
        int ti = i - (inner - tlen); /* the text sits at the right end */
        chtype ch = ti >= 0 && ti < tlen ? (chtype)text[ti] : i < fill ? '|' : ' ';
        if (i < fill && color != 0)
            ch |= COLOR_PAIR(color);
        mvaddch(row, col + 1 + i, ch);
    }
    mvaddch(row, col + width - 1, ']');
}

static double pct_of(double part, double whole) {
    return hws_known(part) && hws_known(whole) && whole > 0 ? 100.0 * part / whole : HWS_NA;
}

static void draw_host(const top_state *t, const hws_top_layout *l, int cols) {
    const hws_mon_host *h = &t->s->host;
    char text[64], a[32], b[32];
    int bar = (cols - 10) / 2;
    double used =
        hws_known(h->mem_available_bytes) ? h->mem_total_bytes - h->mem_available_bytes : HWS_NA;
    hws_fmt_num(text, sizeof text, h->cpu_busy_pct, 0, "%");
    mvaddstr(l->host_row, 0, "CPU");
    put_bar(l->host_row, 4, bar, h->cpu_busy_pct, text);
    snprintf(text, sizeof text, "%s/%s", hws_fmt_num(a, sizeof a, used / HWS_GIB, 1, NULL),
             hws_fmt_num(b, sizeof b, h->mem_total_bytes / HWS_GIB, 1, "GiB"));
    mvaddstr(l->host_row, 5 + bar, "MEM");
    put_bar(l->host_row, 9 + bar, cols - 9 - bar, pct_of(used, h->mem_total_bytes), text);
    /* the second row: the host fields from load on, as far as they fit */
    int col = 0;
    move(l->host_row + 1, 0);
    for (size_t i = 3; i < hws_mon_host_nfields; i++) {
        const hws_mon_field *f = &hws_mon_host_fields[i];
        char value[48], item[96];
        hws_mon_text_value(value, sizeof value, f, h);
        int n = snprintf(item, sizeof item, "%s %s  ", f->f.label, value);
        if (col + n > cols)
            break;
        mvaddstr(l->host_row + 1, col, item);
        col += n;
    }
}

/* The figures after a GPU's bars, from the field table (labelled ones only where known). */
static void gpu_figures(const hws_mon_gpu *g, const char *const *keys, bool labels, char *out,
                        size_t n) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; keys[k] != NULL && used < n; k++) {
        const hws_mon_field *f = hws_mon_gpu_field_find(keys[k]);
        char value[48];
        double v;
        memcpy(&v, (const char *)g + f->f.offset, sizeof v);
        if (labels && !hws_known(v))
            continue; /* a labelled figure the GPU does not report is left out */
        hws_mon_text_value(value, sizeof value, f, g);
        used += (size_t)snprintf(out + used, n - used, "%s%s%s%s", used ? "  " : "",
                                 labels ? f->f.label : "", labels ? " " : "", value);
    }
}

/* Prints at (row, col) as mvprintw; returns the columns written. */
static int printw_at(int row, int col, const char *format, unsigned long long v) {
    char text[64];
    int n = snprintf(text, sizeof text, format, v);
    mvaddstr(row, col, text);
    return n;
}

/* The GPU's error and memory-repair states worth a red mark ("XID 79 (2)  remap pending"), or "".
 */
static void memory_faults(const hws_mon_gpu *g, char *out, size_t n) {
    size_t used = 0;
    out[0] = '\0';
    if (hws_known(g->xid_last) && g->xid_count > 0)
        used += (size_t)snprintf(out, n, "XID %.0f (%.0f) ", g->xid_last, g->xid_count);
    if (used < n && hws_known(g->remapped_rows_failure) && g->remapped_rows_failure != 0)
        used += (size_t)snprintf(out + used, n - used, "remap FAILED ");
    else if (used < n && hws_known(g->remapped_rows_pending) && g->remapped_rows_pending != 0)
        used += (size_t)snprintf(out + used, n - used, "remap pending ");
    if (used < n && hws_known(g->retired_pages_pending) && g->retired_pages_pending != 0)
        snprintf(out + used, n - used, "retire pending");
}

static void draw_gpu(const hws_mon_gpu *g, int row, const hws_top_layout *l, int cols) {
    static const char *const line1[] = {"temperature_c", "power_w", NULL};
    static const char *const line2[] = {
        "sm_clock_mhz", "mem_clock_mhz",     "fan_pct",           "pstate", "pcie_gen",
        "pcie_width",   "nvlink_tx_bytes_s", "nvlink_rx_bytes_s", NULL};
    char name[16], text[48], a[24], b[24], figures[160];
    const char *short_name = strncmp(g->name, "NVIDIA ", 7) == 0 ? g->name + 7 : g->name;
    snprintf(name, sizeof name, "%-13.13s", short_name[0] ? short_name : "?");
    mvprintw(row, 0, "%2d %s", g->index, name);
    if (!g->read || g->lost || g->error[0] != '\0') {
        attron(COLOR_PAIR(COLOR_BAD) | A_BOLD);
        mvprintw(row, 17, "%.*s", cols - 18,
                 !g->read  ? "no reading yet"
                 : g->lost ? "LOST: GPU is lost"
                           : g->error);
        attroff(COLOR_PAIR(COLOR_BAD) | A_BOLD);
        return;
    }
    hws_fmt_num(text, sizeof text, g->util_gpu_pct, 0, "%");
    put_bar(row, 17, l->bar_width, g->util_gpu_pct, text);
    snprintf(text, sizeof text, "%s/%s",
             hws_fmt_num(a, sizeof a, g->mem_used_bytes / HWS_GIB, 1, NULL),
             hws_fmt_num(b, sizeof b, g->mem_total_bytes / HWS_GIB, 0, "G"));
    put_bar(row, 18 + l->bar_width, l->bar_width, pct_of(g->mem_used_bytes, g->mem_total_bytes),
            text);
    gpu_figures(g, line1, false, figures, sizeof figures);
    int col = 19 + 2 * l->bar_width;
    if (col < cols)
        mvprintw(row, col, "%.*s", cols - col, figures);
    if (l->gpu_rows_each == 2) {
        gpu_figures(g, line2, true, figures, sizeof figures);
        mvprintw(row + 1, 3, "%.*s", cols - 4, figures);
        int at = 4 + (int)strlen(figures);
        if (hws_known(g->clocks_event_reasons) && g->clocks_event_reasons != 0) {
            attron(COLOR_PAIR(COLOR_WARN));
            if (at + 20 < cols)
                at += printw_at(row + 1, at, " throttle 0x%llx",
                                (unsigned long long)g->clocks_event_reasons);
            attroff(COLOR_PAIR(COLOR_WARN));
        }
        memory_faults(g, figures, sizeof figures);
        if (figures[0] != '\0' && at + 8 < cols) {
            attron(COLOR_PAIR(COLOR_BAD) | A_BOLD);
            mvprintw(row + 1, at, " %.*s", cols - at - 2, figures);
            attroff(COLOR_PAIR(COLOR_BAD) | A_BOLD);
        }
    }
}

static void draw_graph(const top_state *t, const hws_top_layout *l, int cols) {
    int width = cols - 6, n = t->history_len < width ? t->history_len : width;
    const double *h = t->history[t->graph_gpu];
    mvprintw(l->graph_row, 0, "GPU %d utilisation, last %d readings (g: next GPU)", t->graph_gpu,
             n);
    int rows = l->graph_rows - 1;
    for (int r = 0; r < rows; r++) {
        double level = 100.0 * (rows - r) / rows; /* the top edge of this row */
        mvprintw(l->graph_row + 1 + r, 0, "%3.0f%%", level);
        for (int i = 0; i < n; i++) {
            double v = h[t->history_len - n + i];
            int filled = hws_known(v) && v >= level - 100.0 / rows / 2;
            mvaddch(l->graph_row + 1 + r, 5 + width - n + i, filled ? '#' : ' ');
        }
    }
}

static int by_key(const top_state *t, const hws_mon_process *a, const hws_mon_process *b) {
    double x = 0, y = 0;
    if (t->sort == SORT_PID)
        return a->pid < b->pid ? -1 : a->pid > b->pid;
    if (t->sort == SORT_MEMORY) {
        x = a->used_bytes, y = b->used_bytes;
    } else {
        x = a->sm_util_pct, y = b->sm_util_pct;
    }
    x = hws_known(x) ? x : -1;
    y = hws_known(y) ? y : -1;
    return x > y ? -1 : x < y ? 1 : (a->pid < b->pid ? -1 : a->pid > b->pid);
}

static void sort_procs(top_state *t) {
    for (int i = 1; i < t->nprocs; i++) /* insertion sort: the list is short and nearly sorted */
        for (int k = i; k > 0 && by_key(t, &t->procs[k - 1], &t->procs[k]) > 0; k--) {
            hws_mon_process tmp = t->procs[k];
            t->procs[k] = t->procs[k - 1];
            t->procs[k - 1] = tmp;
        }
}

static void draw_procs(const top_state *t, const hws_top_layout *l, int cols) {
    attron(A_REVERSE);
    mvprintw(l->proc_row, 0, "%-*.*s", cols, cols,
             "     PID GPU USER        GPU MEM  SM%  CONTAINER     COMMAND");
    attroff(A_REVERSE);
    int first = t->selected >= l->proc_rows - 1 ? t->selected - (l->proc_rows - 2) : 0;
    for (int r = 0; r + 1 < l->proc_rows && first + r < t->nprocs; r++) {
        const hws_mon_process *p = &t->procs[first + r];
        char mem[24], util[16], line[512];
        hws_fmt_bytes(mem, sizeof mem, p->used_bytes);
        hws_fmt_num(util, sizeof util, p->sm_util_pct, 0, NULL);
        char pid[16]; /* the PID here; a host PID this namespace does not show, marked '*' */
        snprintf(pid, sizeof pid, p->visible ? "%u " : "%u*", p->visible ? p->local_pid : p->pid);
        snprintf(line, sizeof line, "%8s %3d %-10.10s %9s %4s  %-12.12s  %s", pid, p->gpu,
                 p->user[0] ? p->user : "?", mem, util, p->container[0] ? p->container : "-",
                 p->cmdline[0] ? p->cmdline : p->name);
        if (first + r == t->selected)
            attron(A_BOLD | A_REVERSE);
        mvprintw(l->proc_row + 1 + r, 0, "%-*.*s", cols, cols, line);
        if (first + r == t->selected)
            attroff(A_BOLD | A_REVERSE);
    }
    if (t->nprocs == 0)
        mvprintw(l->proc_row + 1, 0, "%.*s", cols, "no GPU processes");
    for (int i = 0; i < t->nprocs && l->proc_rows > 2; i++)
        if (!t->procs[i].visible) { /* the legend of the mark, on the table's last row */
            mvprintw(l->proc_row + l->proc_rows - 1, 0, "%-*.*s", cols, cols,
                     "* host PID: not in this PID namespace (not killable from here)");
            break;
        }
}

static void draw_help(int cols) {
    static const char *const lines[] = {
        "hwscope top - keys",
        "",
        "  h ?      this help (any key closes it)",
        "  s        sort processes: GPU memory, utilisation, PID",
        "  m u p    sort by GPU memory / utilisation / PID",
        "  Up Down  select a process",
        "  g        show the next GPU's history graph",
        "  k F9     kill the selected process (SIGTERM; asks first)",
        "  q F10    quit",
        "",
        "Figures: the GPU rows show utilisation, memory used/total (GiB),",
        "temperature, power, clocks, fan and PCIe link; n/a = not reported.",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        mvprintw(1 + (int)i, 2, "%.*s", cols - 3, lines[i]);
}

static void draw(top_state *t) {
    int rows, cols;
    hws_top_layout l;
    getmaxyx(stdscr, rows, cols);
    erase();
    hws_top_layout_compute(rows, cols, t->s->ngpus, &l);
    if (l.too_small) {
        mvprintw(0, 0, "terminal too small (%dx%d, need %dx%d)", cols, rows, HWS_TOP_MIN_COLS,
                 HWS_TOP_MIN_ROWS);
        refresh();
        return;
    }
    time_t now = time(NULL);
    struct tm tm;
    char clock_text[16];
    localtime_r(&now, &tm);
    strftime(clock_text, sizeof clock_text, "%H:%M:%S", &tm);
    attron(COLOR_PAIR(COLOR_TITLE) | A_BOLD);
    mvprintw(0, 0, "%-*.*s", cols, cols, "");
    mvprintw(0, 0, "hwscope top  %s  %s  %d GPU%s  every %.1f s  sort: %s  (h: help)",
             t->s->host.hostname, clock_text, t->s->ngpus, t->s->ngpus == 1 ? "" : "s",
             t->interval_s, sort_names[t->sort]);
    attroff(COLOR_PAIR(COLOR_TITLE) | A_BOLD);
    if (t->help) {
        draw_help(cols);
        refresh();
        return;
    }
    draw_host(t, &l, cols);
    if (t->s->ngpus == 0)
        mvprintw(l.gpu_row, 0, "No GPU: %.*s", cols - 9, t->s->nvml_error);
    for (int i = 0; i < l.gpus_shown && i < t->s->ngpus; i++)
        draw_gpu(&t->s->gpus[i], l.gpu_row + i * l.gpu_rows_each, &l, cols);
    if (l.more_row >= 0)
        mvprintw(l.more_row, 0, "+%d more GPUs (a taller terminal shows them)",
                 t->s->ngpus - l.gpus_shown);
    if (l.graph_rows > 0)
        draw_graph(t, &l, cols);
    draw_procs(t, &l, cols);
    if (t->confirm_pid != 0) {
        attron(COLOR_PAIR(COLOR_BAD) | A_BOLD);
        mvprintw(l.status_row, 0, "Kill PID %d with SIGTERM? (y/n)", (int)t->confirm_pid);
        attroff(COLOR_PAIR(COLOR_BAD) | A_BOLD);
    } else {
        mvprintw(l.status_row, 0, "%.*s", cols - 1,
                 t->status[0] ? t->status : "q quit  h help  s sort  k kill  g graph");
    }
    refresh();
}

/* Takes the newest sample: history and the flat, sorted process list. */
static void update(top_state *t) {
    pid_t selected_pid = t->nprocs > 0 ? (pid_t)t->procs[t->selected].pid : 0;
    hws_monitor_snapshot(t->m, t->s);
    if (t->s->generation != t->history_gen && t->s->ngpus > 0) {
        t->history_gen = t->s->generation;
        if (t->history_len == HISTORY) {
            for (int g = 0; g < t->s->ngpus; g++)
                memmove(t->history[g], t->history[g] + 1, (HISTORY - 1) * sizeof(double));
            t->history_len--;
        }
        for (int g = 0; g < t->s->ngpus; g++)
            t->history[g][t->history_len] = t->s->gpus[g].util_gpu_pct;
        t->history_len++;
    }
    t->nprocs = 0;
    for (int g = 0; g < t->s->ngpus; g++)
        for (int p = 0; p < t->s->gpus[g].nprocs; p++)
            t->procs[t->nprocs++] = t->s->gpus[g].procs[p];
    sort_procs(t);
    t->selected = 0;
    for (int i = 0; i < t->nprocs; i++)
        if ((pid_t)t->procs[i].pid == selected_pid)
            t->selected = i;
}

static void kill_confirmed(top_state *t) {
    pid_t pid = t->confirm_pid;
    t->confirm_pid = 0;
    if (kill(pid, SIGTERM) == 0)
        snprintf(t->status, sizeof t->status, "sent SIGTERM to PID %d", (int)pid);
    else
        snprintf(t->status, sizeof t->status, "cannot kill PID %d: %s", (int)pid, strerror(errno));
}

/* Handles one key; returns 0 to quit. */
static int on_key(top_state *t, int key) {
    if (t->confirm_pid != 0) {
        if (key == 'y' || key == 'Y')
            kill_confirmed(t);
        else
            snprintf(t->status, sizeof t->status, "kill cancelled"), t->confirm_pid = 0;
        return 1;
    }
    if (t->help) {
        t->help = key == 'q' || key == KEY_F(10) ? t->help : 0;
        return !(key == 'q' || key == KEY_F(10));
    }
    t->status[0] = '\0';
    switch (key) {
    case 'q':
    case 'Q':
    case KEY_F(10):
        return 0;
    case 'h':
    case '?':
    case KEY_F(1):
        t->help = 1;
        break;
    case 's':
    case KEY_F(6):
        t->sort = (t->sort + 1) % SORT_COUNT;
        break;
    case 'm':
        t->sort = SORT_MEMORY;
        break;
    case 'u':
        t->sort = SORT_UTIL;
        break;
    case 'p':
        t->sort = SORT_PID;
        break;
    case KEY_UP:
        t->selected -= t->selected > 0;
        break;
    case KEY_DOWN:
        t->selected += t->selected + 1 < t->nprocs;
        break;
    case 'g':
        if (t->s->ngpus > 0)
            t->graph_gpu = (t->graph_gpu + 1) % t->s->ngpus;
        break;
    case 'k':
    case KEY_F(9):
        if (t->nprocs > 0 && t->procs[t->selected].visible)
            t->confirm_pid = (pid_t)t->procs[t->selected].local_pid;
        else if (t->nprocs > 0) /* a host PID is another process here, or none */
            snprintf(t->status, sizeof t->status,
                     "PID %u is a host PID not in this PID namespace: not killed",
                     t->procs[t->selected].pid);
        else
            snprintf(t->status, sizeof t->status, "no process selected");
        break;
    default:
        break;
    }
    if (key == 's' || key == 'm' || key == 'u' || key == 'p' || key == KEY_F(6))
        sort_procs(t);
    return 1;
}

static void run_screen(top_state *t) {
    /* the terminal's own size, even when $COLUMNS/$LINES are exported (the other commands read
     * $COLUMNS off a terminal; a screen must follow the window) */
    use_env(TRUE);
    use_tioctl(TRUE);
    initscr();
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
        init_pair(COLOR_OK, COLOR_GREEN, -1);
        init_pair(COLOR_WARN, COLOR_YELLOW, -1);
        init_pair(COLOR_BAD, COLOR_RED, -1);
        init_pair(COLOR_TITLE, COLOR_BLACK, COLOR_CYAN);
    }
    double next_update = 0;
    while (!hws_cli_stop_requested) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
        if (now >= next_update) {
            update(t);
            draw(t);
            next_update = now + t->interval_s;
        }
        timeout((int)((next_update - now) * 1000) + 1);
        int key = getch();
        if (key == ERR)
            continue; /* time for the next reading, or a signal */
        if (key != KEY_RESIZE && !on_key(t, key))
            break;
        draw(t);
    }
    endwin();
}

int cmd_top(int argc, char **argv) {
    double interval = 1;
    bool no_gpu = false;
    hws_opt opts[] = {
        {"interval", HWS_OPT_DOUBLE, &interval, 0.1, 3600, "seconds between readings (1)"},
        {"no-gpu", HWS_OPT_FLAG, &no_gpu, 0, 0, "host only: do not open NVML"},
    };
    const char *pos[1];
    int npos = 0, rc = hws_args_parse("top", usage, argc, argv, opts, sizeof opts / sizeof opts[0],
                                      pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "hwscope top: needs a terminal (use hwscope log for a pipe or file)\n");
        return 2;
    }
    top_state t = {.interval_s = interval};
    hws_cli_catch_stop_signals();
    if ((rc = hws_cli_monitor_start("top", interval, no_gpu, &t.m)) != 0)
        return rc;
    int ngpus = hws_monitor_gpu_count(t.m);
    t.s = hws_mon_sample_new(t.m);
    t.history = calloc(ngpus > 0 ? (size_t)ngpus : 1, sizeof *t.history);
    t.procs = calloc((size_t)(ngpus > 0 ? ngpus : 1) * HWS_MON_MAX_PROCS, sizeof *t.procs);
    if (t.s == NULL || t.history == NULL || t.procs == NULL) {
        fprintf(stderr, "hwscope top: out of memory\n");
        rc = 1;
    } else {
        run_screen(&t);
    }
    free(t.procs);
    free(t.history);
    hws_mon_sample_free(t.s);
    hws_monitor_stop(t.m);
    return rc;
}
