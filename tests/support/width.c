/* width.c - the terminal-width check shared by the CLI and bench width tests. */
#include "width.h"
#include "hws_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Display width of the bytes [s, end): UTF-8 code points. */
static int columns(const char *s, const char *end) {
    int w = 0;
    for (; s < end; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* True when the line has two column gaps (runs of two or more spaces between words), not just
 * indentation or one aligned label ("CPU     AMD EPYC: ..."): a row of a table. */
static bool table_line(const char *s, const char *end) {
    int gaps = 0;
    while (s < end && *s == ' ')
        s++;
    for (const char *p = s; p + 2 < end; p++)
        if (p[0] == ' ' && p[1] == ' ' && p[2] != ' ')
            gaps++;
    return gaps >= 2;
}

void hws_assert_fits(const char *text, int width, const char *what) {
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        if (table_line(line, end) && columns(line, end) > width)
            fail_msg("%s: a table line of %d columns at width %d:\n%.*s\n--- whole output:\n%s",
                     what, columns(line, end), width, (int)(end - line), line, text);
        line = *end != '\0' ? end + 1 : end;
    }
}
