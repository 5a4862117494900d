/* test_cpu_gemv.c - the CPU backend's decode products (llm_cpu_gemv.h) and prefill products
 * (llm_cpu_gemm.h): every version this machine runs, in every weight format, on odd shapes, rows
 * ranges, 1 to 8 rows of x (decode) or 1 to 20 (prefill, past a panel of columns too), storing
 * and accumulating, against a plain double-precision reference over the weights decoded by hand;
 * the AMX prefill product within bf16 rounding of it (where the CPU has AMX) and its packing of x
 * (where it has AVX512-BF16); and a weight row decoded to floats against the same values. */
#include "engine/llm_cpu_gemm.h"
#include "engine/llm_cpu_gemv.h"
#include "engine/llm_quant.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

/* A matrix of random codes in format fmt (and its scales), with its values decoded by hand. */
typedef struct {
    hws_gemv_weight w;
    void *q;
    uint16_t *scales;
    double *value; /* [rows][cols] */
} test_matrix;

static uint64_t rng_next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void matrix_new(test_matrix *m, hws_llm_format fmt, int rows, int cols, uint64_t seed) {
    int grouped = fmt == HWS_LLM_INT8 || fmt == HWS_LLM_INT4; /* then cols: whole groups */
    size_t n = (size_t)rows * cols, groups = grouped ? (size_t)cols / HWS_LLM_GROUP : 0;
    m->w = (hws_gemv_weight){fmt, rows, cols, NULL, NULL};
    m->value = malloc(n * sizeof *m->value);
    m->scales = malloc((groups ? groups * rows : 1) * sizeof *m->scales);
    m->q = malloc(n * 2);
    assert_true(m->value && m->scales && m->q);
    uint16_t *h = m->q;
    int8_t *i8 = m->q;
    uint8_t *u8 = m->q;
    for (size_t g = 0; g < groups * rows; g++)
        m->scales[g] = hws_f32_to_f16(0.001f + (float)(rng_next(&seed) % 1000) * 1e-5f);
    for (size_t i = 0; i < n; i++) {
        size_t o = i / cols, e = i % cols;
        float f = (float)((int)(rng_next(&seed) % 2001) - 1000) * 1e-3f;
        double d = groups ? hws_f16_to_f32(m->scales[o * groups + e / HWS_LLM_GROUP]) : 1.0;
        switch (fmt) {
        case HWS_LLM_BF16:
            h[i] = hws_f32_to_bf16(f);
            m->value[i] = hws_bf16_to_f32(h[i]);
            break;
        case HWS_LLM_FP16:
            h[i] = hws_f32_to_f16(f);
            m->value[i] = hws_f16_to_f32(h[i]);
            break;
        case HWS_LLM_INT8:
            i8[i] = (int8_t)((int)(rng_next(&seed) % 255) - 127);
            m->value[i] = i8[i] * d;
            break;
        default: { /* byte j of a group: element j low, j + 16 high */
            int code = (int)(rng_next(&seed) % 16);
            size_t g = i / HWS_LLM_GROUP, j = i % HWS_LLM_GROUP, at = g * 16 + j % 16;
            u8[at] = (uint8_t)(j < 16 ? (u8[at] & 0xf0) | code : (u8[at] & 0x0f) | code << 4);
            m->value[i] = (code - 8) * d;
            break;
        }
        }
    }
    m->w.q = m->q;
    m->w.scales = m->scales;
}

static void matrix_free(test_matrix *m) {
    free(m->q);
    free(m->scales);
    free(m->value);
}

/* Runs version isa of the decode product (gemm 0) or the prefill product (gemm 1) on rows
 * [o0, o1) of m for nx rows of x (row stride ldx) and checks every output: the rows in range
 * equal the reference (plus the old value when accumulating), the others untouched. */
static void check_any_product(hws_gemv_isa isa, int gemm, const test_matrix *m, long o0, long o1,
                              int nx, int accumulate) {
    int rows = m->w.rows, cols = m->w.cols;
    size_t ldx = (size_t)cols + 3, ldy = (size_t)rows + 5;
    float *x = malloc(sizeof(float) * ldx * nx), *y = malloc(sizeof(float) * ldy * nx);
    assert_true(x && y);
    uint64_t seed = 99 + (uint64_t)nx;
    for (size_t i = 0; i < ldx * nx; i++)
        x[i] = (float)((int)(rng_next(&seed) % 2001) - 1000) * 1e-3f;
    for (size_t i = 0; i < ldy * nx; i++)
        y[i] = 0.25f * (float)(i % 7);
    if (gemm) {
        float *scratch = malloc(sizeof(float) * hws_gemm_scratch_floats());
        assert_non_null(scratch);
        hws_gemm_rows(isa, &m->w, o0, o1, x, ldx, nx, y, ldy, accumulate, scratch);
        free(scratch);
    } else {
        hws_gemv_rows(isa, &m->w, o0, o1, x, ldx, nx, y, ldy, accumulate);
    }
    for (int r = 0; r < nx; r++)
        for (int o = 0; o < rows; o++) {
            float old = 0.25f * (float)(((size_t)r * ldy + o) % 7), got = y[(size_t)r * ldy + o];
            if (o < o0 || o >= o1) {
                assert_true(got == old);
                continue;
            }
            double want = accumulate ? old : 0.0, mag = fabs(want);
            for (int e = 0; e < cols; e++) {
                double t = m->value[(size_t)o * cols + e] * x[(size_t)r * ldx + e];
                want += t;
                mag += fabs(t);
            }
            if (fabs(got - want) > 1e-5 * mag + 1e-30) {
                print_error("%s %s format %d rows %d cols %d nx %d: row %d x %d got %g want %g\n",
                            gemm ? "gemm" : "gemv", hws_gemv_isa_name(isa), (int)m->w.fmt, rows,
                            cols, nx, o, r, got, want);
                fail();
            }
        }
    free(x);
    free(y);
}

static void check_product(hws_gemv_isa isa, const test_matrix *m, long o0, long o1, int nx,
                          int accumulate) {
    check_any_product(isa, 0, m, o0, o1, nx, accumulate);
}

static void test_every_version_format_and_shape(void **state) {
    (void)state;
    static const int rows_list[] = {1, 3, 4, 7, 13, 37};
    static const int cols16[] = {5, 31, 32, 45, 96, 133}; /* 16-bit formats: any width */
    static const int cols_int[] = {32, 64, 96, 224};      /* int formats: whole groups */
    int versions = 0;
    for (int isa = 0; isa < HWS_GEMV_ISA_COUNT; isa++) {
        if (!hws_gemv_isa_available((hws_gemv_isa)isa))
            continue;
        versions++;
        for (int f = HWS_LLM_BF16; f <= HWS_LLM_INT4; f++) {
            int grouped = f == HWS_LLM_INT8 || f == HWS_LLM_INT4;
            const int *cols_of = grouped ? cols_int : cols16;
            int n_cols = grouped ? 4 : 6;
            for (int ri = 0; ri < 6; ri++)
                for (int ci = 0; ci < n_cols; ci++) {
                    test_matrix m;
                    int rows = rows_list[ri];
                    matrix_new(&m, (hws_llm_format)f, rows, cols_of[ci],
                               (uint64_t)ri * 31 + (uint64_t)ci * 7 + (uint64_t)f);
                    for (int nx = 1; nx <= HWS_GEMV_MAX_X; nx++) {
                        check_product((hws_gemv_isa)isa, &m, 0, rows, nx, nx % 2);
                        if (rows > 2) /* a range inside, not 4-aligned */
                            check_product((hws_gemv_isa)isa, &m, 1, rows - 1, nx, 1 - nx % 2);
                    }
                    matrix_free(&m);
                }
        }
    }
    for (int isa = 0; isa < HWS_GEMV_ISA_COUNT; isa++) /* wider than one window of columns */
        for (int f = HWS_LLM_BF16; f <= HWS_LLM_INT4 && hws_gemv_isa_available((hws_gemv_isa)isa);
             f++) {
            test_matrix m;
            matrix_new(&m, (hws_llm_format)f, 5, 16384 + 96, (uint64_t)f);
            check_product((hws_gemv_isa)isa, &m, 0, 5, 1, 0);
            check_product((hws_gemv_isa)isa, &m, 1, 5, 3, 1);
            matrix_free(&m);
        }
    assert_true(versions >= 1);
    assert_true(hws_gemv_isa_available(hws_gemv_isa_best()));
}

/* The prefill products: blocks of 1 to HWS_GEMM_MAX_BLOCK rows (not whole tiles of 4), 1 to 20
 * rows of x (not whole register tiles), widths under one vector, odd, and past one panel. */
static void test_gemm_every_version_format_and_shape(void **state) {
    (void)state;
    static const int rows_list[] = {1, 5, 13, HWS_GEMM_MAX_BLOCK + 3};
    static const int cols16[] = {5, 45, 133, HWS_GEMM_KC + 77}; /* 16-bit: any width */
    static const int cols_int[] = {32, 96, HWS_GEMM_KC, 2 * HWS_GEMM_KC + 160};
    static const int nx_list[] = {1, 2, 3, 4, 6, 7, 9, 13, 20};
    for (int isa = 0; isa < HWS_GEMV_ISA_COUNT; isa++) {
        if (!hws_gemv_isa_available((hws_gemv_isa)isa))
            continue;
        for (int f = HWS_LLM_BF16; f <= HWS_LLM_INT4; f++) {
            int grouped = f == HWS_LLM_INT8 || f == HWS_LLM_INT4;
            for (int ri = 0; ri < 4; ri++)
                for (int ci = 0; ci < 4; ci++) {
                    test_matrix m;
                    int rows = rows_list[ri];
                    matrix_new(&m, (hws_llm_format)f, rows, (grouped ? cols_int : cols16)[ci],
                               (uint64_t)ri * 17 + (uint64_t)ci * 5 + (uint64_t)f);
                    for (int xi = 0; xi < 9; xi++) {
                        int nx = nx_list[xi];
                        long o0 = rows > 2 ? 1 : 0;
                        long o1 = o0 + HWS_GEMM_MAX_BLOCK < rows - (rows > 2)
                                      ? o0 + HWS_GEMM_MAX_BLOCK
                                      : rows - (rows > 2);
                        check_any_product((hws_gemv_isa)isa, 1, &m, 0,
                                          rows < HWS_GEMM_MAX_BLOCK ? rows : HWS_GEMM_MAX_BLOCK, nx,
                                          nx % 2);
                        check_any_product((hws_gemv_isa)isa, 1, &m, o0, o1, nx, 1 - nx % 2);
                    }
                    matrix_free(&m);
                }
        }
    }
}

/* x rounded to bf16 in the AMX tiles' layout: block (g, kb) holds columns (2p, 2p + 1) of row
 * 16 g + n as dword p * 16 + n; rows past nx zero. Where the CPU has AVX512-BF16. */
static void test_amx_pack_layout(void **state) {
    (void)state;
    if (!__builtin_cpu_supports("avx512bf16") || hws_gemm_amx_x_elems(1, 32) == 0) {
        print_message("no AVX512-BF16 (or AMX left out of this build): pack not run\n");
        return;
    }
    int nx = 37, cols = 96;
    size_t ldx = (size_t)cols + 5, kblocks = (size_t)cols / 32;
    float *x = malloc(sizeof(float) * ldx * nx);
    uint16_t *xp = malloc(hws_gemm_amx_x_elems(nx, cols) * 2);
    assert_true(x && xp);
    uint64_t seed = 5;
    for (size_t i = 0; i < ldx * nx; i++)
        x[i] = (float)((int)(rng_next(&seed) % 20001) - 10000) * 1.37e-4f;
    long groups = (long)hws_gemm_amx_x_elems(nx, cols) / 16 / cols;
    assert_int_equal(groups, 4); /* 37 rows: two steps of 32 */
    hws_gemm_amx_pack_x(x, ldx, nx, cols, 0, 1, xp);
    hws_gemm_amx_pack_x(x, ldx, nx, cols, 1, groups, xp);
    for (long g = 0; g < groups; g++)
        for (size_t kb = 0; kb < kblocks; kb++)
            for (int p = 0; p < 16; p++)
                for (int n = 0; n < 16; n++)
                    for (int h = 0; h < 2; h++) {
                        long r = g * 16 + n;
                        uint16_t got =
                            xp[((size_t)g * kblocks + kb) * 512 + (size_t)(p * 16 + n) * 2 + h];
                        uint16_t want =
                            r < nx ? hws_f32_to_bf16(x[(size_t)r * ldx + kb * 32 + 2 * p + h]) : 0;
                        assert_int_equal(got, want);
                    }
    free(x);
    free(xp);
}

/* The AMX product against the double reference, within the rounding of x and of the weights
 * to bf16 (2^-8 of the sum of magnitudes), accumulating and storing, every format, 32 to 70 rows
 * of x. Where the CPU runs AMX. */
static void test_amx_product(void **state) {
    (void)state;
    if (!hws_gemm_amx_available()) {
        print_message("no AMX bf16 tiles here: product not run\n");
        return;
    }
    static const int nx_list[] = {32, 45, 64, 70};
    for (int f = HWS_LLM_BF16; f <= HWS_LLM_INT4; f++)
        for (int xi = 0; xi < 4; xi++) {
            int nx = nx_list[xi], rows = 3 * HWS_GEMM_AMX_ROWS, cols = 320;
            size_t ldx = (size_t)cols, ldy = (size_t)rows + 7;
            test_matrix m;
            matrix_new(&m, (hws_llm_format)f, rows, cols, (uint64_t)f * 3 + (uint64_t)xi);
            float *x = malloc(sizeof(float) * ldx * nx), *y = malloc(sizeof(float) * ldy * nx);
            float *scratch = malloc(sizeof(float) * hws_gemm_amx_scratch_floats(cols));
            uint16_t *xp = malloc(hws_gemm_amx_x_elems(nx, cols) * 2);
            assert_true(x && y && scratch && xp);
            uint64_t seed = 11 + (uint64_t)nx;
            for (size_t i = 0; i < ldx * nx; i++)
                x[i] = (float)((int)(rng_next(&seed) % 2001) - 1000) * 1e-3f;
            for (size_t i = 0; i < ldy * nx; i++)
                y[i] = 0.25f * (float)(i % 7);
            int accumulate = xi % 2;
            hws_gemm_amx_pack_x(x, ldx, nx, cols, 0,
                                (long)hws_gemm_amx_x_elems(nx, cols) / 16 / cols, xp);
            hws_gemm_amx_rows(&m.w, HWS_GEMM_AMX_ROWS, xp, nx, y, ldy, accumulate, scratch);
            for (int r = 0; r < nx; r++)
                for (int o = 0; o < rows; o++) {
                    float old = 0.25f * (float)(((size_t)r * ldy + o) % 7),
                          got = y[(size_t)r * ldy + o];
                    if (o < HWS_GEMM_AMX_ROWS || o >= 2 * HWS_GEMM_AMX_ROWS) {
                        assert_true(got == old);
                        continue;
                    }
                    double want = accumulate ? old : 0.0, mag = fabs(want);
                    for (int e = 0; e < cols; e++) {
                        double t = m.value[(size_t)o * cols + e] * x[(size_t)r * ldx + e];
                        want += t;
                        mag += fabs(t);
                    }
                    if (fabs(got - want) > mag / 256.0 + 1e-30) {
                        print_error("amx format %d nx %d: row %d x %d got %g want %g\n", f, nx, o,
                                    r, got, want);
                        fail();
                    }
                }
            free(x);
            free(y);
            free(scratch);
            free(xp);
            matrix_free(&m);
        }
}

/* A weight row decoded to floats, whole and from inside, against the values decoded by hand. */
static void test_weight_row(void **state) {
    (void)state;
    for (int f = HWS_LLM_BF16; f <= HWS_LLM_INT4; f++) {
        test_matrix m;
        matrix_new(&m, (hws_llm_format)f, 3, 96, (uint64_t)f + 40);
        float out[96];
        for (int o = 0; o < 3; o++) {
            hws_gemv_weight_row(&m.w, o, 0, 96, out);
            for (int e = 0; e < 96; e++)
                assert_true(out[e] == (float)m.value[o * 96 + e]);
            hws_gemv_weight_row(&m.w, o, 7, 50, out);
            for (int e = 7; e < 50; e++)
                assert_true(out[e - 7] == (float)m.value[o * 96 + e]);
        }
        matrix_free(&m);
    }
}

static void test_versions_named(void **state) {
    (void)state;
    assert_true(hws_gemv_isa_available(HWS_GEMV_PORTABLE));
    assert_string_equal(hws_gemv_isa_name(HWS_GEMV_AVX512), "AVX-512");
    assert_string_equal(hws_gemv_isa_name(HWS_GEMV_ISA_COUNT), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_version_format_and_shape),
        cmocka_unit_test(test_gemm_every_version_format_and_shape),
        cmocka_unit_test(test_weight_row),
        cmocka_unit_test(test_amx_pack_layout),
        cmocka_unit_test(test_amx_product),
        cmocka_unit_test(test_versions_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
