/* llm_cpu_gemm_body.h - the body of one vector version of the prefill products, included by
 * llm_cpu_gemm.c once per instruction set after it defines:
 *   GM_FN          the function attribute (target ISA)
 *   GM_VEC         the float vector type, GM_LANES floats; GM_PER32 = 32 / GM_LANES
 *   GM_ZERO() GM_LOAD(p) GM_STORE(p, v) GM_FMA(a, b, c) GM_MUL(a, b) GM_SET1(f)
 *   GM_LOAD_FIRST(p, n)  the first n < GM_LANES floats at p, the other lanes 0 (nothing past
 *                  p + n read)
 *   GM_FOLD4(a, b, c, d)  __m128 of the lane sums of a, b, c and d
 *   GM_LOAD32      as GV_LOAD32 of llm_cpu_gemv_body.h
 *   GM_MR          rows of X a register tile takes (GM_MR x 4 accumulators)
 * (the loops over a tile's rows are unrolled whole, GM_UNROLL, so its sums stay in registers)
 *   GM_PANEL GM_STEP GM_TILE GM_RANGE GM_ENTRY  names of this version's functions (GM_ENTRY has
 *                  hws_gemm_rows's signature less isa) */

/* Rows [o0, o0 + nb) of W, columns [kc, kc + kcn), as floats into panel rows kcp apart (kcp a
 * multiple of 32 >= kcn, zeros past kcn), then zero rows up to nbp (a multiple of 4). */
GM_FN static inline __attribute__((always_inline)) void
GM_PANEL(const hws_gemv_weight *w, hws_llm_format fmt, long o0, int nb, int nbp, size_t kc,
         size_t kcn, size_t kcp, float *panel) {
    size_t rb = gemm_row_bytes(fmt, w->cols), groups = (size_t)w->cols / HWS_LLM_GROUP;
    size_t end32 = kc + kcn / 32 * 32;
    for (int i = 0; i < nbp; i++) {
        float *pr = panel + (size_t)i * kcp;
        if (i >= nb) {
            memset(pr, 0, kcp * sizeof *pr);
            continue;
        }
        const uint8_t *row = (const uint8_t *)w->q + (size_t)(o0 + i) * rb;
        for (size_t e = kc; e < end32; e += 32) {
            GM_VEC v[GM_PER32];
            GM_LOAD32(fmt, row, e, v);
            if (fmt == HWS_LLM_INT8 || fmt == HWS_LLM_INT4) {
                float d = hws_f16_to_f32(w->scales[(size_t)(o0 + i) * groups + e / HWS_LLM_GROUP]);
                GM_VEC dv = GM_SET1(d), off = GM_SET1(fmt == HWS_LLM_INT4 ? -8.0f * d : 0.0f);
                for (int j = 0; j < GM_PER32; j++)
                    v[j] = GM_FMA(v[j], dv, off); /* int4 codes are q + 8 */
            }
            for (int j = 0; j < GM_PER32; j++)
                GM_STORE(pr + (e - kc) + (size_t)j * GM_LANES, v[j]);
        }
        if (end32 < kc + kcn) /* 16-bit formats: any width */
            hws_gemv_weight_row(w, o0 + i, end32, kc + kcn, pr + (end32 - kc));
        for (size_t e = kcn; e < kcp; e++)
            pr[e] = 0.0f;
    }
}

/* acc[r][i] += xv[r] * (GM_LANES floats of panel row i at p) for r < MR, i < 4. */
GM_FN static inline __attribute__((always_inline)) void
GM_STEP(GM_VEC acc[][4], const GM_VEC *xv, int MR, const float *p, size_t kcp) {
    GM_UNROLL
    for (int i = 0; i < 4; i++) {
        GM_VEC wv = GM_LOAD(p + (size_t)i * kcp);
        GM_UNROLL
        for (int r = 0; r < MR; r++)
            acc[r][i] = GM_FMA(xv[r], wv, acc[r][i]);
    }
}

/* y[r * ldy + i] (+)= x[r] . p[i] over kcn columns for r < MR, i < nr (<= 4; the panel's rows
 * kcp apart, 4 of them readable). */
GM_FN static inline __attribute__((always_inline)) void GM_TILE(const float *x, size_t ldx, int MR,
                                                                const float *p, size_t kcp,
                                                                size_t kcn, float *y, size_t ldy,
                                                                int add, int nr) {
    GM_VEC acc[GM_MR][4], xv[GM_MR];
    GM_UNROLL
    for (int r = 0; r < MR; r++)
        GM_UNROLL
    for (int i = 0; i < 4; i++)
        acc[r][i] = GM_ZERO();
    size_t full = kcn / GM_LANES * GM_LANES;
    for (size_t e = 0; e < full; e += GM_LANES) {
        GM_UNROLL
        for (int r = 0; r < MR; r++)
            xv[r] = GM_LOAD(x + (size_t)r * ldx + e);
        GM_STEP(acc, xv, MR, p + e, kcp);
    }
    if (full < kcn) { /* the last columns: the panel is zero past kcn, x is not read there */
        GM_UNROLL
        for (int r = 0; r < MR; r++)
            xv[r] = GM_LOAD_FIRST(x + (size_t)r * ldx + full, (int)(kcn - full));
        GM_STEP(acc, xv, MR, p + full, kcp);
    }
    GM_UNROLL
    for (int r = 0; r < MR; r++) {
        __m128 s = GM_FOLD4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
        float *yr = y + (size_t)r * ldy;
        if (nr == 4) {
            _mm_storeu_ps(yr, add ? _mm_add_ps(s, _mm_loadu_ps(yr)) : s);
        } else {
            float t[4];
            _mm_storeu_ps(t, s);
            for (int i = 0; i < nr; i++)
                yr[i] = add ? yr[i] + t[i] : t[i];
        }
    }
}

/* The whole product for one format (a constant where this is inlined). */
GM_FN static inline __attribute__((always_inline)) void
GM_RANGE(const hws_gemv_weight *w, hws_llm_format fmt, long o0, long o1, const float *x, size_t ldx,
         int nx, float *y, size_t ldy, int accumulate, float *panel) {
    int nb = (int)(o1 - o0), nbp = (nb + 3) / 4 * 4;
    for (size_t kc = 0; kc < (size_t)w->cols; kc += HWS_GEMM_KC) {
        size_t kcn = (size_t)w->cols - kc < HWS_GEMM_KC ? (size_t)w->cols - kc : HWS_GEMM_KC;
        size_t kcp = (kcn + 31) / 32 * 32;
        GM_PANEL(w, fmt, o0, nb, nbp, kc, kcn, kcp, panel);
        int add = accumulate || kc > 0;
        for (int r0 = 0; r0 < nx; r0 += GM_MR) {
            int mr = nx - r0 < GM_MR ? nx - r0 : GM_MR;
            const float *xr = x + (size_t)r0 * ldx + kc;
            for (int g = 0; g < nbp; g += 4) {
                float *yr = y + (size_t)r0 * ldy + (size_t)o0 + (size_t)g;
                const float *pg = panel + (size_t)g * kcp;
                int nr = nb - g < 4 ? nb - g : 4;
                switch (mr) { /* MR a constant in each call, so the tile stays in registers */
#define GM_MR_CASE(n)                                                                              \
    case n:                                                                                        \
        GM_TILE(xr, ldx, n, pg, kcp, kcn, yr, ldy, add, nr);                                       \
        break;
                    GM_MR_CASE(1)
                    GM_MR_CASE(2)
#if GM_MR > 3
                    GM_MR_CASE(3)
                    GM_MR_CASE(4)
                    GM_MR_CASE(5)
#endif
                default:
                    GM_TILE(xr, ldx, GM_MR, pg, kcp, kcn, yr, ldy, add, nr);
                    break;
#undef GM_MR_CASE
                }
            }
        }
    }
}

GM_FN static void GM_ENTRY(const hws_gemv_weight *w, long o0, long o1, const float *x, size_t ldx,
                           int nx, float *y, size_t ldy, int accumulate, float *panel) {
    switch (w->fmt) {
    case HWS_LLM_BF16:
        GM_RANGE(w, HWS_LLM_BF16, o0, o1, x, ldx, nx, y, ldy, accumulate, panel);
        break;
    case HWS_LLM_FP16:
        GM_RANGE(w, HWS_LLM_FP16, o0, o1, x, ldx, nx, y, ldy, accumulate, panel);
        break;
    case HWS_LLM_INT8:
        GM_RANGE(w, HWS_LLM_INT8, o0, o1, x, ldx, nx, y, ldy, accumulate, panel);
        break;
    default:
        GM_RANGE(w, HWS_LLM_INT4, o0, o1, x, ldx, nx, y, ldy, accumulate, panel);
        break;
    }
}
