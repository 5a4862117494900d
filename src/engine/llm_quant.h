/* llm_quant.h - the LLM engine's number formats, written once for the host (C) and the device
 * (CUDA): 16-bit float conversions, the seeded uniform values of random weights, and the
 * group-wise int8 / int4 weight formats.
 *
 * Group-wise formats (one fp16 scale d per HWS_LLM_GROUP consecutive input elements of a row):
 *   int8: q = round(x / d), d = max|x| / 127, x ~ q d          (GGUF Q8_0's values)
 *   int4: q = round(x / d) + 8 in [0, 15], d = max|x| / 7, x ~ (q - 8) d; a group's 32 values
 *         are 16 bytes, byte j holding element j (low nibble) and element j + 16 (high nibble)
 *         (GGUF Q4_0's layout)
 * A row of `cols` inputs is cols bytes (int8) or cols / 2 bytes (int4); scales are a separate
 * [rows, cols / HWS_LLM_GROUP] array of fp16. */
#ifndef HWSCOPE_ENGINE_LLM_QUANT_H
#define HWSCOPE_ENGINE_LLM_QUANT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define HWS_HD __host__ __device__ static inline
#else
#define HWS_HD static inline
#endif

#define HWS_LLM_GROUP 32

/* A uniform value in [-1, 1) from an element index and a seed (splitmix64 finaliser). */
HWS_HD float hws_llm_uniform(uint64_t i, uint64_t seed) {
    uint64_t z = i + seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

HWS_HD uint32_t hws_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
HWS_HD float hws_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* bf16: round to nearest even; NaN kept NaN. */
HWS_HD uint16_t hws_f32_to_bf16(float f) {
    uint32_t u = hws_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
HWS_HD float hws_bf16_to_f32(uint16_t h) {
    return hws_bits_f32((uint32_t)h << 16);
}

/* IEEE half: round to nearest even, overflow to infinity, subnormals kept. */
HWS_HD uint16_t hws_f32_to_f16(float f) {
    uint32_t u = hws_f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u);
    if (abs >= 0x477ff000u) /* rounds to >= 65520: infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (abs < 0x38800000u) {                       /* below 2^-14: subnormal or zero */
        float a = hws_bits_f32(abs) * 16777216.0f; /* in units of 2^-24 */
        return (uint16_t)(sign | (uint32_t)rintf(a));
    }
    uint32_t r = abs + 0xfffu + ((abs >> 13) & 1u);
    return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}
HWS_HD float hws_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0)
        return hws_bits_f32(sign) + (sign ? -1.0f : 1.0f) * (float)man * (1.0f / 16777216.0f);
    if (exp == 31)
        return hws_bits_f32(sign | 0x7f800000u | (man << 13));
    return hws_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* Scale of a group of n values for a format whose largest code is qmax (127 or 7), as stored
 * (fp16), and the codes q[i] = round(x[i] / d) (unsigned for int4: + 8). */
HWS_HD uint16_t hws_llm_group_scale(const float *x, int n, float qmax) {
    float amax = 0.0f;
    for (int i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    return hws_f32_to_f16(amax / qmax);
}
HWS_HD int hws_llm_quant_code(float x, uint16_t scale, int lo, int hi) {
    float d = hws_f16_to_f32(scale);
    int q = d > 0.0f ? (int)rintf(x / d) : 0;
    return q < lo ? lo : (q > hi ? hi : q);
}

#endif
