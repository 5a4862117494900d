/* llm_cpu_gemv_body.h - the body of one vector version of the decode products, included by
 * llm_cpu_gemv.c once per instruction set after it defines:
 *   GV_FN          the function attribute (target ISA)
 *   GV_VEC         the float vector type, GV_LANES floats; GV_PER32 = 32 / GV_LANES
 *   GV_ZERO() GV_LOADX(p) GV_FMA(a, b, c) GV_MUL(a, b) GV_ADD(a, b) GV_SET1(f) GV_HSUM(v)
 *   GV_LOAD32      void GV_LOAD32(hws_llm_format, const uint8_t *row, size_t e, GV_VEC out[])
 *                  (32 weights from element e: floats, or the int codes unscaled; int4's codes
 *                  as stored, 0..15, the offset of 8 taken off once per group through x's sums)
 *   GV_BLOCK GV_WINDOW GV_RANGE GV_ENTRY  names of this version's functions (GV_ENTRY has
 *                  hws_gemv_rows's signature less isa)
 * A block is R weight rows (4 for one row of x, else 1) times X rows of x, each weight row
 * read once per 32 elements for all of x; group scales applied once per group. Columns go in
 * windows of GEMV_WINDOW_GROUPS groups (one window for every matrix of today's models). */

/* sums[i * X + r] = W[o + i][c0, c1) . x[r][c0, c1) for i < R, r < X, plus the elements past
 * the last whole 32 when c1 is there; xsum[r * GEMV_WINDOW_GROUPS + g]: x[r]'s sum over group g
 * of the window (int4). */
GV_FN static inline __attribute__((always_inline)) void
GV_BLOCK(const hws_gemv_weight *w, hws_llm_format fmt, long o, int R, const float *x, size_t ldx,
         int X, size_t c0, size_t c1, const float *xsum, float *sums) {
    size_t rb = gemv_row_bytes(fmt, w->cols), k32 = (size_t)w->cols / 32 * 32;
    size_t groups = (size_t)w->cols / HWS_LLM_GROUP, ng = (c1 - c0) / 32;
    int grouped = fmt == HWS_LLM_INT8 || fmt == HWS_LLM_INT4;
    const uint8_t *row[4];
    GV_VEC acc[4][HWS_GEMV_MAX_X];
    float scale[4][GEMV_WINDOW_GROUPS]; /* the window's group scales as floats, per row */
    for (int i = 0; i < R; i++) {
        row[i] = (const uint8_t *)w->q + (size_t)(o + i) * rb;
        for (int r = 0; r < X; r++)
            acc[i][r] = GV_ZERO();
        if (grouped)
            gemv_scales(w->scales + (size_t)(o + i) * groups + c0 / 32, ng, scale[i]);
    }
    for (size_t e = c0; e < c1; e += 32)
        for (int i = 0; i < R; i++) {
            GV_VEC wv[GV_PER32];
            GV_LOAD32(fmt, row[i], e, wv);
            _mm_prefetch((const char *)row[i] + e * gemv_nibbles(fmt) / 2 + GEMV_PREFETCH_BYTES,
                         _MM_HINT_T0);
            GV_VEC d = grouped ? GV_SET1(scale[i][(e - c0) / 32]) : GV_ZERO();
            for (int r = 0; r < X; r++) {
                const float *xr = x + (size_t)r * ldx + e;
                if (grouped) {
                    GV_VEC t = GV_MUL(wv[0], GV_LOADX(xr));
                    for (int j = 1; j < GV_PER32; j++)
                        t = GV_FMA(wv[j], GV_LOADX(xr + j * GV_LANES), t);
                    acc[i][r] = GV_FMA(t, d, acc[i][r]);
                } else {
                    for (int j = 0; j < GV_PER32; j++)
                        acc[i][r] = GV_FMA(wv[j], GV_LOADX(xr + j * GV_LANES), acc[i][r]);
                }
            }
        }
    for (int i = 0; i < R; i++)
        for (int r = 0; r < X; r++) {
            float s = GV_HSUM(acc[i][r]);
            if (fmt == HWS_LLM_INT4) { /* codes are q + 8: less 8 d_g sum_g(x) */
                const float *xs = xsum + (size_t)r * GEMV_WINDOW_GROUPS;
                GV_VEC c = GV_ZERO();
                size_t g = 0;
                for (; g + GV_LANES <= ng; g += GV_LANES)
                    c = GV_FMA(GV_LOADX(scale[i] + g), GV_LOADX(xs + g), c);
                float cs = GV_HSUM(c);
                for (; g < ng; g++)
                    cs += scale[i][g] * xs[g];
                s -= 8.0f * cs;
            }
            if (c1 == k32 && !grouped) /* 16-bit formats: any width */
                s += gemv_tail_dot(w, o + i, x + (size_t)r * ldx, k32);
            sums[i * X + r] = s;
        }
}

/* Rows [o0, o1) over the columns [c0, c1) (a constant format where this is inlined). */
GV_FN static inline __attribute__((always_inline)) void
GV_WINDOW(const hws_gemv_weight *w, hws_llm_format fmt, long o0, long o1, const float *x,
          size_t ldx, int nx, size_t c0, size_t c1, const float *xsum, float *y, size_t ldy,
          int accumulate) {
    float sums[4 * HWS_GEMV_MAX_X];
    long o = o0;
    if (nx == 1)
        for (; o + 4 <= o1; o += 4) {
            GV_BLOCK(w, fmt, o, 4, x, ldx, 1, c0, c1, xsum, sums);
            gemv_store(y, ldy, o, 4, 1, sums, accumulate);
        }
    for (; o < o1; o++) {
        switch (nx) { /* X a constant in each call, so its accumulators stay in registers */
#define GV_X_CASE(n)                                                                               \
    case n:                                                                                        \
        GV_BLOCK(w, fmt, o, 1, x, ldx, n, c0, c1, xsum, sums);                                     \
        break;
            GV_X_CASE(1)
            GV_X_CASE(2)
            GV_X_CASE(3)
            GV_X_CASE(4)
            GV_X_CASE(5)
            GV_X_CASE(6)
            GV_X_CASE(7)
        default:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 8, c0, c1, xsum, sums);
            break;
#undef GV_X_CASE
        }
        gemv_store(y, ldy, o, 1, nx, sums, accumulate);
    }
}

/* Rows [o0, o1), window by window of columns, the later windows added to the first. */
GV_FN static inline __attribute__((always_inline)) void
GV_RANGE(const hws_gemv_weight *w, hws_llm_format fmt, long o0, long o1, const float *x, size_t ldx,
         int nx, float *y, size_t ldy, int accumulate) {
    size_t k32 = (size_t)w->cols / 32 * 32, c0 = 0;
    float xsum[HWS_GEMV_MAX_X * GEMV_WINDOW_GROUPS];
    do {
        size_t c1 = k32 - c0 < GEMV_WINDOW_GROUPS * 32 ? k32 : c0 + GEMV_WINDOW_GROUPS * 32;
        for (int r = 0; r < nx && fmt == HWS_LLM_INT4; r++)
            for (size_t e = c0; e < c1; e += 32) {
                const float *xr = x + (size_t)r * ldx + e;
                GV_VEC t = GV_LOADX(xr);
                for (int j = 1; j < GV_PER32; j++)
                    t = GV_ADD(t, GV_LOADX(xr + j * GV_LANES));
                xsum[(size_t)r * GEMV_WINDOW_GROUPS + (e - c0) / 32] = GV_HSUM(t);
            }
        GV_WINDOW(w, fmt, o0, o1, x, ldx, nx, c0, c1, xsum, y, ldy, accumulate || c0 > 0);
        c0 = c1;
    } while (c0 < k32);
}

GV_FN static void GV_ENTRY(const hws_gemv_weight *w, long o0, long o1, const float *x, size_t ldx,
                           int nx, float *y, size_t ldy, int accumulate) {
    switch (w->fmt) {
    case HWS_LLM_BF16:
        GV_RANGE(w, HWS_LLM_BF16, o0, o1, x, ldx, nx, y, ldy, accumulate);
        break;
    case HWS_LLM_FP16:
        GV_RANGE(w, HWS_LLM_FP16, o0, o1, x, ldx, nx, y, ldy, accumulate);
        break;
    case HWS_LLM_INT8:
        GV_RANGE(w, HWS_LLM_INT8, o0, o1, x, ldx, nx, y, ldy, accumulate);
        break;
    default:
        GV_RANGE(w, HWS_LLM_INT4, o0, o1, x, ldx, nx, y, ldy, accumulate);
        break;
    }
}
