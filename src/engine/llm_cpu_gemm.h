/* llm_cpu_gemm.h - the CPU backend's prefill products: Y = X W^T for many rows of X over a block
 * of W's output rows, W in one of the engine's weight formats (llm_cpu_gemv.h's hws_gemv_weight).
 * The block is dequantised to floats a panel of HWS_GEMM_KC columns at a time into the caller's
 * scratch (kept in the core's L2), then every row of X is multiplied by it with register tiles
 * (rows of X times 4 weight rows, the sums along the columns in vector lanes, folded at the end
 * of a panel). Versions: portable C, AVX2+FMA and AVX-512 (the same ones, and the same cpuid
 * choice, as the decode products). Every version sums in float. */
#ifndef HWSCOPE_ENGINE_LLM_CPU_GEMM_H
#define HWSCOPE_ENGINE_LLM_CPU_GEMM_H

#include "engine/llm_cpu_gemv.h"

#include <stddef.h>

#define HWS_GEMM_KC        1024 /* columns of W per panel (a multiple of HWS_LLM_GROUP) */
#define HWS_GEMM_MAX_BLOCK 32   /* most output rows one call takes */

/* Floats of scratch one call needs (whatever the shape). */
size_t hws_gemm_scratch_floats(void);

/* For every output row o in [o0, o1) (1 <= o1 - o0 <= HWS_GEMM_MAX_BLOCK) and r < nx:
 *   y[r * ldy + o] = (accumulate ? y[r * ldy + o] : 0) + sum_e W[o][e] x[r * ldx + e].
 * scratch: hws_gemm_scratch_floats() floats, this call's own. isa must be available. */
void hws_gemm_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate, float *scratch);

/* Elements [e0, e1) of W's row o as floats (int formats: e0 and e1 whole groups). */
void hws_gemv_weight_row(const hws_gemv_weight *w, long o, size_t e0, size_t e1, float *out);

#endif
