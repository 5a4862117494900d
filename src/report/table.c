/* table.c - aligned text tables: columns sized to their widest cell, numbers right-aligned. */
#include "report/table.h"
#include "util/text.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_COLS 64 /* hws_table_new refuses more, so rowf and print need no heap */

struct hws_table {
    int ncols;
    int nrows; /* data rows, the header not counted */
    int cap;
    char **cells;           /* (nrows + 1) * ncols, row 0 the header */
    int priority[MAX_COLS]; /* 0 kept; 1.. explanatory, higher left out first */
    int key_cols;           /* leading columns repeated in each block */
};

/* Copies the n cells of src into dst (a NULL cell reads "n/a"); -1, nothing kept, when out of
 * memory, so a table never holds a NULL cell. */
static int dup_cells(char **dst, const char *const *src, int n) {
    for (int c = 0; c < n; c++) {
        /* cleaned on the way in: no escape sequence or broken UTF-8 reaches the terminal */
        dst[c] = hws_text_clean(src[c] != NULL ? src[c] : "n/a", HWS_TEXT_TERMINAL);
        if (dst[c] == NULL) {
            while (c-- > 0)
                free(dst[c]);
            return -1;
        }
    }
    return 0;
}

hws_table *hws_table_new(int ncols, const char *const *headers) {
    if (ncols < 1 || ncols > MAX_COLS)
        return NULL;
    hws_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    t->cap = 16;
    t->cells = calloc((size_t)t->cap * (size_t)ncols, sizeof *t->cells);
    if (t->cells == NULL || dup_cells(t->cells, headers, ncols) != 0) {
        free(t->cells);
        free(t);
        return NULL;
    }
    return t;
}

int hws_table_row(hws_table *t, const char *const *cells) {
    if (t->nrows + 2 > t->cap) {
        int cap = t->cap * 2;
        char **grown = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof *grown);
        if (grown == NULL)
            return -1;
        t->cells = grown;
        t->cap = cap;
    }
    if (dup_cells(t->cells + (size_t)(t->nrows + 1) * (size_t)t->ncols, cells, t->ncols) != 0)
        return -1;
    t->nrows++;
    return 0;
}

int hws_table_rowf(hws_table *t, const char *fmt, ...) {
    char line[2048];
    const char *cells[MAX_COLS];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int n = 0;
    char *p = line;
    while (n < t->ncols) {
        cells[n++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    while (n < t->ncols)
        cells[n++] = "";
    return hws_table_row(t, cells);
}

static bool looks_numeric(const char *s) {
    if (strcmp(s, "n/a") == 0 || strcmp(s, "-") == 0 || s[0] == '\0')
        return true;
    return isdigit((unsigned char)s[0]) ||
           ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]));
}

/* Display width of a UTF-8 string: counts code points, not bytes (for "×", "µ"). */
static int display_width(const char *s) {
    int w = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static const char *cell_at(const hws_table *t, int r, int c) {
    return t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
}

/* Bytes of the first n code points of s (or all of s). */
static size_t bytes_of(const char *s, int n) {
    size_t i = 0;
    for (int k = 0; s[i] != '\0'; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && k++ == n)
            break;
    }
    return i;
}

/* Width of the longest space-separated word of s. */
static int longest_word(const char *s) {
    int best = 0, w = 0;
    for (; *s != '\0'; s++) {
        if (*s == ' ') {
            w = 0;
            continue;
        }
        if (((unsigned char)*s & 0xC0) != 0x80 && ++w > best)
            best = w;
    }
    return best;
}

/* True when every word of s starts with a digit (a serial, "3352 GB/s"): not to be broken. */
static bool digits_word(const char *s) {
    bool start = true, any = false;
    for (; *s != '\0'; s++) {
        if (*s == ' ') {
            start = true;
            continue;
        }
        if (start && !isdigit((unsigned char)*s))
            return false;
        start = false;
        any = true;
    }
    return any;
}

/* The next line of s wrapped to width: its length in bytes in *len; returns where the line
 * after it starts (NULL when s is done). Breaks at the last space that fits, else inside a word. */
static const char *wrap_line(const char *s, int width, size_t *len) {
    if (display_width(s) <= width) {
        *len = strlen(s);
        return NULL;
    }
    size_t limit = bytes_of(s, width);
    size_t cut = limit;
    while (cut > 0 && s[cut] != ' ')
        cut--;
    if (cut == 0) { /* one word longer than the column */
        *len = limit;
        return s + limit;
    }
    *len = cut;
    while (s[cut] == ' ')
        cut++;
    return s[cut] != '\0' ? s + cut : NULL;
}

typedef struct {
    int width[MAX_COLS];   /* as printed */
    int natural[MAX_COLS]; /* widest cell */
    int min[MAX_COLS];     /* narrowest it may wrap to */
    bool right[MAX_COLS];  /* numeric: right-aligned, never wrapped */
    bool shown[MAX_COLS];
} layout;

static int total_width(const hws_table *t, const layout *l, int from, int to) {
    int total = 0, n = 0;
    for (int c = 0; c < t->ncols; c++) {
        if (!l->shown[c] || (c >= t->key_cols && (c < from || c >= to)))
            continue;
        total += l->width[c];
        n++;
    }
    return total + 2 * (n > 0 ? n - 1 : 0);
}

static void measure(const hws_table *t, layout *l) {
    for (int c = 0; c < t->ncols; c++) {
        l->right[c] = t->nrows > 0;
        l->natural[c] = 0;
        l->min[c] = longest_word(cell_at(t, 0, c));
        l->shown[c] = true;
        for (int r = 0; r <= t->nrows; r++) {
            const char *cell = cell_at(t, r, c);
            int w = display_width(cell);
            if (w > l->natural[c])
                l->natural[c] = w;
            if (r > 0 && !looks_numeric(cell))
                l->right[c] = false;
        }
        int cells_min = 0; /* numbers keep their width; words break past 12 */
        for (int r = 1; r <= t->nrows; r++) {
            const char *cell = cell_at(t, r, c);
            int w = l->right[c] ? display_width(cell) : longest_word(cell);
            if (!l->right[c] && w > 12 && !digits_word(cell))
                w = 12;
            if (w > cells_min)
                cells_min = w;
        }
        if (!l->right[c] && cells_min < 12)
            cells_min = 12; /* text wraps no narrower than 12 (or its natural width) */
        if (cells_min > l->min[c])
            l->min[c] = cells_min;
        if (l->min[c] > l->natural[c])
            l->min[c] = l->natural[c];
        l->width[c] = l->natural[c];
    }
}

/* Narrows shown columns (widest first) until the table fits, none below its minimum nor below
 * floor: only the explanatory ones when explanatory_only; else first the numeric ones (their
 * headers wrap), then any. */
static void shrink(const hws_table *t, layout *l, int width, bool explanatory_only, int floor) {
    for (int pass = explanatory_only ? 1 : 0; pass < 2; pass++) {
        while (total_width(t, l, 0, INT_MAX) > width) {
            int widest = -1;
            for (int c = 0; c < t->ncols; c++) {
                if (!l->shown[c] || l->width[c] <= l->min[c] || l->width[c] <= floor ||
                    (explanatory_only && t->priority[c] == 0) || (pass == 0 && !l->right[c]))
                    continue;
                if (widest < 0 || l->width[c] > l->width[widest])
                    widest = c;
            }
            if (widest < 0)
                break;
            l->width[widest]--;
        }
    }
}

/* Wraps the explanatory columns, then the others down to 40 wide, then leaves out explanatory
 * columns, highest priority first, until the table fits (or none is left). */
static void fit_explanatory(const hws_table *t, layout *l, int width) {
    measure(t, l);
    if (width <= 0)
        return;
    shrink(t, l, width, true, 0);
    shrink(t, l, width, false, 40);
    while (total_width(t, l, 0, INT_MAX) > width) {
        int drop = -1;
        for (int c = 0; c < t->ncols; c++)
            if (l->shown[c] && t->priority[c] > 0 &&
                (drop < 0 || t->priority[c] >= t->priority[drop]))
                drop = c;
        if (drop < 0)
            break;
        l->shown[drop] = false;
        for (int c = 0; c < t->ncols; c++)
            l->width[c] = l->natural[c];
        shrink(t, l, width, true, 0);
        shrink(t, l, width, false, 40);
    }
}

/* Prints rows of the columns [from, to) (and the key columns), each wrapped to its width. */
static void print_block(const hws_table *t, const layout *l, FILE *out, int from, int to) {
    int cols[MAX_COLS], n = 0;
    for (int c = 0; c < t->ncols; c++)
        if (l->shown[c] && (c < t->key_cols || (c >= from && c < to)))
            cols[n++] = c;
    for (int r = 0; r <= t->nrows; r++) {
        const char *rest[MAX_COLS];
        for (int i = 0; i < n; i++)
            rest[i] = cell_at(t, r, cols[i]);
        bool more = true;
        while (more) {
            char line[4096];
            size_t used = 0;
            more = false;
            for (int i = 0; i < n; i++) {
                int c = cols[i];
                size_t len = 0;
                const char *cell = rest[i] != NULL ? rest[i] : "";
                bool wraps = r == 0 || !l->right[c]; /* a number is never cut */
                const char *next = wraps ? wrap_line(cell, l->width[c], &len) : NULL;
                if (!wraps)
                    len = strlen(cell);
                int pad = l->width[c] - display_width(cell) + display_width(cell + len);
                if (pad < 0)
                    pad = 0;
                if (used < sizeof line)
                    used += (size_t)snprintf(line + used, sizeof line - used, "%*s%.*s%*s%s",
                                             l->right[c] ? pad : 0, "", (int)len, cell,
                                             l->right[c] ? 0 : pad, "", i < n - 1 ? "  " : "");
                rest[i] = next;
                more = more || next != NULL;
            }
            if (used >= sizeof line)
                used = sizeof line - 1;
            while (used > 0 && line[used - 1] == ' ')
                used--;
            fprintf(out, "%.*s\n", (int)used, line);
        }
    }
}

void hws_table_print_width(const hws_table *t, FILE *out, int width) {
    layout l;
    fit_explanatory(t, &l, width);
    if (width > 0 && t->key_cols > 0 && total_width(t, &l, 0, INT_MAX) > width) {
        /* blocks of the other columns beside the key columns, each as wide as fits */
        layout snug = l; /* each column at most 22 wide where it may wrap that far */
        for (int c = t->key_cols; c < t->ncols; c++)
            if (snug.width[c] > 22)
                snug.width[c] = snug.min[c] > 22 ? snug.min[c] : 22;
        for (int from = t->key_cols; from < t->ncols;) {
            int to = from + 1;
            while (to < t->ncols && total_width(t, &snug, from, to + 1) <= width)
                to++;
            layout block = l;
            for (int c = t->key_cols; c < t->ncols; c++)
                block.shown[c] = l.shown[c] && c >= from && c < to;
            shrink(t, &block, width, false, 0);
            if (from > t->key_cols)
                fputc('\n', out);
            print_block(t, &block, out, from, to);
            from = to;
        }
    } else {
        if (width > 0)
            shrink(t, &l, width, false, 0);
        print_block(t, &l, out, 0, t->ncols);
    }
    char left_out[512] = "";
    for (int c = 0; c < t->ncols; c++) {
        size_t used = strlen(left_out);
        if (!l.shown[c])
            snprintf(left_out + used, sizeof left_out - used, "%s%s", used ? ", " : "",
                     cell_at(t, 0, c));
    }
    if (left_out[0] != '\0')
        fprintf(out, "(left out at %d columns: %s)\n", width, left_out);
}

int hws_term_width(FILE *out) {
    struct winsize ws;
    int fd = fileno(out);
    if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    if (env != NULL) {
        char *end;
        long v = strtol(env, &end, 10);
        if (end != env && *end == '\0' && v >= 20 && v <= 1000)
            return (int)v;
    }
    return 100;
}

void hws_table_print(const hws_table *t, FILE *out) {
    hws_table_print_width(t, out, hws_term_width(out));
}

void hws_table_set_priority(hws_table *t, int col, int priority) {
    if (col >= 0 && col < t->ncols)
        t->priority[col] = priority < 0 ? 0 : priority;
}

void hws_table_set_key_columns(hws_table *t, int n) {
    t->key_cols = n < 0 ? 0 : n > t->ncols ? t->ncols : n;
}

void hws_table_free(hws_table *t) {
    if (t == NULL)
        return;
    for (int i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void hws_print_heading(FILE *out, const char *title) {
    char *clean = hws_text_clean(title, HWS_TEXT_TERMINAL);
    const char *shown = clean != NULL ? clean : "";
    fprintf(out, "\n%s\n", shown);
    for (int w = display_width(shown); w > 0; w--)
        fputc('-', out);
    fputc('\n', out);
    free(clean);
}

void hws_print_line(FILE *out, const char *fmt, ...) {
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *clean = hws_text_clean(line, HWS_TEXT_TERMINAL);
    fprintf(out, "%s\n", clean != NULL ? clean : "");
    free(clean);
}
