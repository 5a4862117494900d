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
#include <stdint.h>

#define HWS_GEMM_KC        1024 /* columns of W per panel (a multiple of HWS_LLM_GROUP) */
#define HWS_GEMM_MAX_BLOCK 32   /* most output rows one call takes */

/* Floats of scratch one call needs (whatever the shape). */
size_t hws_gemm_scratch_floats(void);

/* For every output row o in [o0, o1) (1 <= o1 - o0 <= HWS_GEMM_MAX_BLOCK) and r < nx:
 *   y[r * ldy + o] = (accumulate ? y[r * ldy + o] : 0) + sum_e W[o][e] x[r * ldx + e].
 * scratch: hws_gemm_scratch_floats() floats, this call's own. isa must be available. */
void hws_gemm_rows(hws_gemv_isa isa, const hws_gemv_weight *w, long o0, long o1, const float *x,
                   size_t ldx, int nx, float *y, size_t ldy, int accumulate, float *scratch);

/* ---- AMX: bf16 tiles (Sapphire Rapids and later) ----
 * Y^T = W X^T in 16 x 16 tiles: a block of 32 W rows is copied (bf16) or widened and rounded to
 * bf16 (the other formats) into the caller's scratch, row-major, where its rows are the A tiles;
 * X is packed once per product, rounded to bf16, into the B tiles' pair-interleaved layout; sums
 * in float. Numbers differ from the float versions by the
 * rounding of X (and of non-bf16 weights) to bf16, as the CUDA backend's prefill rounds them. */
#define HWS_GEMM_AMX_ROWS 32 /* W rows and X rows one tile step takes: both multiples of this */

/* Whether this CPU, kernel and build run AMX bf16 tiles (asks the kernel for the tile state
 * once: Linux's arch_prctl(ARCH_REQ_XCOMP_PERM)). */
int hws_gemm_amx_available(void);
/* uint16 of packed X for nx rows of cols (a multiple of 32) columns. */
size_t hws_gemm_amx_x_elems(int nx, int cols);
/* Packs groups [g0, g1) of 16 rows of x (nx rows, zeros past them) into xp. */
void hws_gemm_amx_pack_x(const float *x, size_t ldx, int nx, int cols, long g0, long g1,
                         uint16_t *xp);
/* Floats of scratch hws_gemm_amx_rows needs for cols columns. */
size_t hws_gemm_amx_scratch_floats(int cols);
/* For o in [o0, o0 + HWS_GEMM_AMX_ROWS) and r < nx: y[r * ldy + o] (+)= sum_e W[o][e] x[r][e],
 * x as packed by hws_gemm_amx_pack_x (every group of 16 rows up to nx rounded up to 32).
 * Needs hws_gemm_amx_available(); w->cols a multiple of 32. */
void hws_gemm_amx_rows(const hws_gemv_weight *w, long o0, const uint16_t *xp, int nx, float *y,
                       size_t ldy, int accumulate, float *scratch);

/* Elements [e0, e1) of W's row o as floats (int formats: e0 and e1 whole groups). */
void hws_gemv_weight_row(const hws_gemv_weight *w, long o, size_t e0, size_t e1, float *out);

#endif
