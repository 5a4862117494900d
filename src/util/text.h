/* text.h - the one place where text from outside (file contents, folder names, TSV rows,
 * environment paths, GPU names) is made safe to print: valid UTF-8 for JSON, and no control
 * bytes (ESC, OSC, C1) for a terminal. */
#ifndef HWSCOPE_UTIL_TEXT_H
#define HWSCOPE_UTIL_TEXT_H

#include <stddef.h>

typedef enum {
    /* a serialised JSON document: each byte that is not valid UTF-8 becomes the escape
     * \ufffd, and DEL and C1 characters (U+0080..U+009F, which some terminals take as CSI/OSC)
     * their \u00XX escapes, same value; C0 is already escaped by the serialiser */
    HWS_TEXT_JSON,
    /* text for a terminal: invalid UTF-8 and every control character (C0 including ESC, tab and
     * newline, DEL, and C1 such as the 8-bit CSI/OSC) become U+FFFD */
    HWS_TEXT_TERMINAL,
    /* lines for a terminal (stderr messages): as HWS_TEXT_TERMINAL, newline, tab and CR kept */
    HWS_TEXT_LINES,
} hws_text_mode;

/* Bytes of the valid UTF-8 sequence at s (n bytes available): 1 to 4, or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
size_t hws_utf8_len(const unsigned char *s, size_t n);
/* A new NUL-terminated copy of text made safe for mode (free it); NULL when out of memory. */
char *hws_text_clean(const char *text, hws_text_mode mode);

#endif
