/* llm_cpu_gemv_body.h - the body of one vector version of the decode products, included by
 * llm_cpu_gemv.c once per instruction set after it defines:
 *   GV_FN          the function attribute (target ISA)
 *   GV_VEC         the float vector type, GV_LANES floats; GV_PER32 = 32 / GV_LANES
 *   GV_ZERO() GV_LOADX(p) GV_FMA(a, b, c) GV_MUL(a, b) GV_SET1(f) GV_HSUM(v)
 *   GV_LOAD32      void GV_LOAD32(hws_llm_format, const uint8_t *row, size_t e, GV_VEC out[])
 *                  (32 weights from element e: floats, or int codes unscaled, int4 less 8)
 *   GV_ENTRY       the name of the entry point (hws_gemv_rows's signature less isa)
 * A block is R weight rows (4 for one row of x, else 1) times X rows of x, each weight row
 * read once per 32 elements for all of x; group scales applied once per group. */

/* sums[i * X + r] = W[o + i] . x[r] for i < R, r < X. */
GV_FN static inline __attribute__((always_inline)) void GV_BLOCK(const hws_gemv_weight *w,
                                                                 hws_llm_format fmt, long o, int R,
                                                                 const float *x, size_t ldx, int X,
                                                                 float *sums) {
    size_t rb = gemv_row_bytes(fmt, w->cols), k32 = (size_t)w->cols / 32 * 32;
    size_t groups = (size_t)w->cols / HWS_LLM_GROUP;
    int grouped = fmt == HWS_LLM_INT8 || fmt == HWS_LLM_INT4;
    const uint8_t *row[4];
    GV_VEC acc[4][HWS_GEMV_MAX_X];
    for (int i = 0; i < R; i++) {
        row[i] = (const uint8_t *)w->q + (size_t)(o + i) * rb;
        for (int r = 0; r < X; r++)
            acc[i][r] = GV_ZERO();
    }
    float scale[4][GEMV_CHUNK_GROUPS]; /* a chunk's group scales as floats, per row */
    for (size_t c0 = 0; c0 < k32; c0 += GEMV_CHUNK_GROUPS * 32) {
        size_t c1 = k32 - c0 < GEMV_CHUNK_GROUPS * 32 ? k32 : c0 + GEMV_CHUNK_GROUPS * 32;
        for (int i = 0; i < R && grouped; i++)
            gemv_scales(w->scales + (size_t)(o + i) * groups + c0 / 32, (c1 - c0) / 32, scale[i]);
        for (size_t e = c0; e < c1; e += 32) {
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
        }
    }
    for (int i = 0; i < R; i++)
        for (int r = 0; r < X; r++)
            sums[i * X + r] =
                GV_HSUM(acc[i][r]) + gemv_tail_dot(w, o + i, x + (size_t)r * ldx, k32);
}

/* Rows [o0, o1) of a matrix of format fmt (a constant where this is inlined). */
GV_FN static inline __attribute__((always_inline)) void
GV_RANGE(const hws_gemv_weight *w, hws_llm_format fmt, long o0, long o1, const float *x, size_t ldx,
         int nx, float *y, size_t ldy, int accumulate) {
    float sums[4 * HWS_GEMV_MAX_X];
    long o = o0;
    if (nx == 1)
        for (; o + 4 <= o1; o += 4) {
            GV_BLOCK(w, fmt, o, 4, x, ldx, 1, sums);
            gemv_store(y, ldy, o, 4, 1, sums, accumulate);
        }
    for (; o < o1; o++) {
        switch (nx) {
        case 1:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 1, sums);
            break;
        case 2:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 2, sums);
            break;
        case 3:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 3, sums);
            break;
        case 4:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 4, sums);
            break;
        case 5:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 5, sums);
            break;
        case 6:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 6, sums);
            break;
        case 7:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 7, sums);
            break;
        default:
            GV_BLOCK(w, fmt, o, 1, x, ldx, 8, sums);
            break;
        }
        gemv_store(y, ldy, o, 1, nx, sums, accumulate);
    }
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
