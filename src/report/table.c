/* table.c - aligned text tables: columns sized to their widest cell, numbers right-aligned. */
#include "report/table.h"
#include "util/text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64 /* hws_table_new refuses more, so rowf and print need no heap */

struct hws_table {
    int ncols;
    int nrows; /* data rows, the header not counted */
    int cap;
    char **cells; /* (nrows + 1) * ncols, row 0 the header */
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

void hws_table_print(const hws_table *t, FILE *out) {
    int width[MAX_COLS] = {0};
    bool right[MAX_COLS];
    int ncols = t->ncols;
    for (int c = 0; c < ncols; c++) {
        right[c] = t->nrows > 0;
        for (int r = 0; r <= t->nrows; r++) {
            const char *cell = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            int w = display_width(cell);
            if (w > width[c])
                width[c] = w;
            if (r > 0 && !looks_numeric(cell))
                right[c] = false;
        }
    }
    for (int r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < ncols; c++) {
            const char *cell = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
            int pad = width[c] - display_width(cell);
            bool last = c == ncols - 1;
            if (right[c])
                fprintf(out, "%*s%s", pad, "", cell);
            else
                fprintf(out, "%s%*s", cell, last ? 0 : pad, "");
            fputs(last ? "\n" : "  ", out);
        }
    }
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
