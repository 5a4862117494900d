/* text.c - UTF-8 validation and the replacement of what a JSON parser or a terminal must not
 * get: the one cleaner behind the table renderer and the JSON printer. */
#include "util/text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT_UTF8 "\xEF\xBF\xBD" /* U+FFFD */
#define REPLACEMENT_JSON "\\ufffd"

static bool continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

size_t hws_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (!continuation(s[i]))
            return 0;
    return len;
}

/* Whether the valid sequence at s of len bytes is a control character: C0, DEL or C1. */
static bool is_control(const unsigned char *s, size_t len) {
    if (len == 1)
        return s[0] < 0x20 || s[0] == 0x7F;
    return len == 2 && s[0] == 0xC2 && s[1] < 0xA0; /* U+0080..U+009F */
}

char *hws_text_clean(const char *text, hws_text_mode mode) {
    const unsigned char *in = (const unsigned char *)text;
    size_t n = strlen(text);
    const char *repl = mode == HWS_TEXT_JSON ? REPLACEMENT_JSON : REPLACEMENT_UTF8;
    size_t repl_len = strlen(repl);
    /* at most repl_len bytes out per byte in */
    char *out = malloc(n * repl_len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = hws_utf8_len(in + i, n - i);
        bool control = len != 0 && is_control(in + i, len);
        if (mode == HWS_TEXT_JSON && control && (len == 2 || in[i] == 0x7F)) {
            unsigned code = len == 2 ? in[i + 1] : 0x7F; /* C2 80..9F is U+0080..U+009F */
            o += (size_t)snprintf(out + o, 7, "\\u%04x", code);
            i += len;
            continue;
        }
        if (mode == HWS_TEXT_LINES && len == 1 && (in[i] == '\n' || in[i] == '\t' || in[i] == '\r'))
            control = false;
        if (len == 0 || (mode != HWS_TEXT_JSON && control)) {
            memcpy(out + o, repl, repl_len);
            o += repl_len;
            i += len == 0 ? 1 : len;
            continue;
        }
        memcpy(out + o, in + i, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    return out;
}
