/* checked.h - size arithmetic that says when it overflows, for every product or sum of sizes
 * taken from outside (file headers, shapes, CPU lists): one place, no silent wrap-around. */
#ifndef HWSCOPE_UTIL_CHECKED_H
#define HWSCOPE_UTIL_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *out = a * b; returns true (and *out is unspecified) when the product does not fit. */
static inline bool hws_mul_size_overflow(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
static inline bool hws_mul_u64_overflow(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
/* *out = a + b; returns true when the sum does not fit. */
static inline bool hws_add_u64_overflow(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out);
}

#endif
