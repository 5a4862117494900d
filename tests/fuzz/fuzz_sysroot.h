/* fuzz_sysroot.h - a scratch sysroot for the fuzzers of /proc and /sys readers: its folders made
 * once, and one input cut at "\n@@\n" into the files it lists. */
#ifndef HWSCOPE_FUZZ_SYSROOT_H
#define HWSCOPE_FUZZ_SYSROOT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Makes root and root + dirs[i] for each of the n folders. */
static inline void fuzz_sysroot_dirs(const char *root, const char *const *dirs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s%s", root, dirs[i]);
        mkdir(path, 0700);
    }
}

/* Writes size bytes of data as root + rel. */
static inline void fuzz_sysroot_write(const char *root, const char *rel, const uint8_t *data,
                                      size_t size) {
    char path[256];
    snprintf(path, sizeof path, "%s%s", root, rel);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(data, 1, size, f);
    fclose(f);
}

/* Cuts data at "\n@@\n" into the n files (missing parts are empty) under root. */
static inline void fuzz_sysroot_fill(const char *root, const char *const *files, size_t n,
                                     const uint8_t *data, size_t size) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        size_t end = start;
        while (end < size && !(end + 4 <= size && memcmp(data + end, "\n@@\n", 4) == 0))
            end++;
        fuzz_sysroot_write(root, files[i], data + start, end - start);
        start = end + 4 <= size ? end + 4 : size;
    }
}

#endif
