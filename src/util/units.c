/* units.c - quantities printed with their unit (hwscope/units.h); unknown values print "n/a". */
#include "util/units.h"

#include <stdio.h>

char *hws_fmt_num(char *buf, size_t n, double value, int decimals, const char *unit) {
    if (!hws_known(value))
        snprintf(buf, n, "n/a");
    else if (unit != NULL && unit[0] != '\0')
        snprintf(buf, n, "%.*f %s", decimals, value, unit);
    else
        snprintf(buf, n, "%.*f", decimals, value);
    return buf;
}

char *hws_fmt_gib(char *buf, size_t n, double bytes) {
    return hws_fmt_num(buf, n, bytes / HWS_GIB, 1, "GiB");
}

char *hws_fmt_gb(char *buf, size_t n, double bytes) {
    return hws_fmt_num(buf, n, bytes / HWS_GB, 1, "GB");
}

char *hws_fmt_bytes(char *buf, size_t n, double bytes) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t i = 0;
    double v = bytes;
    if (!hws_known(bytes))
        return hws_fmt_num(buf, n, bytes, 0, NULL);
    while (v >= 1024.0 && i + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        i++;
    }
    return hws_fmt_num(buf, n, v, i == 0 ? 0 : 1, units[i]);
}
