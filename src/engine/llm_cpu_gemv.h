/* llm_cpu_gemv.h - the CPU backend's decode products: y = x W^T for a few rows of x (1 to
 * HWS_GEMV_MAX_X) over a range of W's output rows, W in one of the engine's weight formats
 * (bf16/fp16, or group-wise int8/int4 as llm_quant.h lays them out) read once from memory and
 * widened to float in registers. One portable C version and, on x86-64, AVX2+FMA+F16C and
 * AVX-512 (F/BW/VL) versions, picked at run time. Every version sums in float: results differ
 * from each other only by the order of the additions. */
#ifndef HWSCOPE_ENGINE_LLM_CPU_GEMV_H
#define HWSCOPE_ENGINE_LLM_CPU_GEMV_H

#include "hwscope/llm.h"

#include <stddef.h>
#include <stdint.h>

#define HWS_GEMV_MAX_X 8 /* rows of x one call multiplies (a weight row is read once for all) */

typedef enum {
    HWS_GEMV_PORTABLE, /* plain C, any machine */
    HWS_GEMV_AVX2,     /* x86-64 AVX2 + FMA + F16C */
    HWS_GEMV_AVX512,   /* x86-64 AVX-512 F + BW + VL (and F16C) */
    HWS_GEMV_ISA_COUNT
} hws_gemv_isa;

/* A weight matrix as the CPU backend stores it. */
typedef struct {
    hws_llm_format fmt;
    int rows, cols; /* cols: a multiple of HWS_LLM_GROUP for int8 and int4 */
    const void *q;  /* bf16/fp16: uint16 [rows][cols]; int8 [rows][cols]; int4 [rows][cols/2] */
    const uint16_t *scales; /* int8/int4: fp16 [rows][cols / HWS_LLM_GROUP]; else unused */
} hws_gemv_weight;

/* Whether this CPU (and build) runs isa. */
int hws_gemv_isa_available(hws_gemv_isa isa);
/* The fastest available version. */
hws_gemv_isa hws_gemv_isa_best(void);
const char *hws_gemv_isa_name(hws_gemv_isa isa);

/* For every output row o in [o0, o1) and r < nx (1..HWS_GEMV_MAX_X):
 *   y[r * ldy + o] = (accumulate ? y[r * ldy + o] : 0) + sum_e W[o][e] x[r * ldx + e].
 * isa must be available. */
void hws_gemv_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate);

#endif
