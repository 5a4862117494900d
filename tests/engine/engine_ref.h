/* engine_ref.h - plain C references of the engine's kernels (double accumulation, no tricks),
 * shared by the engine tests. */
#ifndef HWSCOPE_TESTS_ENGINE_REF_H
#define HWSCOPE_TESTS_ENGINE_REF_H

#include <math.h>
#include <stddef.h>

/* y[r, :n] = x[r, :k] w^T + b, ReLU when relu */
static inline void ref_linear(float *y, const float *x, const float *w, const float *b, int rows,
                              int k, int n, int relu) {
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < n; o++) {
            double s = b ? b[o] : 0;
            for (int i = 0; i < k; i++)
                s += (double)x[(size_t)r * k + i] * w[(size_t)o * k + i];
            y[(size_t)r * n + o] = (float)(relu && s < 0 ? 0 : s);
        }
}

static inline void ref_add_ln(float *out, const float *x, const float *res, const float *g,
                              const float *b, int rows, int E, float eps) {
    for (int r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < E; i++)
            mean += x[(size_t)r * E + i] + (res ? res[(size_t)r * E + i] : 0);
        mean /= E;
        for (int i = 0; i < E; i++) {
            double v = x[(size_t)r * E + i] + (res ? res[(size_t)r * E + i] : 0) - mean;
            var += v * v;
        }
        double rstd = 1 / sqrt(var / E + eps);
        for (int i = 0; i < E; i++) {
            double v = x[(size_t)r * E + i] + (res ? res[(size_t)r * E + i] : 0);
            out[(size_t)r * E + i] = (float)((v - mean) * rstd * g[i] + b[i]);
        }
    }
}

/* Sequence-first attention; q, k, v point at column 0 of their head block 0. */
static inline void ref_attention(float *out, int ldo, const float *q, int ldq, const float *k,
                                 int ldk, const float *v, int ldv, int Sq, int Skv, int N, int H,
                                 int hd) {
    double s[4096];
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Sq; i++) {
                double m = -INFINITY, sum = 0;
                for (int j = 0; j < Skv; j++) {
                    double d = 0;
                    for (int c = 0; c < hd; c++)
                        d += (double)q[((size_t)i * N + n) * ldq + h * hd + c] *
                             k[((size_t)j * N + n) * ldk + h * hd + c];
                    s[j] = d / sqrt((double)hd);
                    m = s[j] > m ? s[j] : m;
                }
                for (int j = 0; j < Skv; j++)
                    sum += s[j] = exp(s[j] - m);
                for (int c = 0; c < hd; c++) {
                    double o = 0;
                    for (int j = 0; j < Skv; j++)
                        o += s[j] / sum * v[((size_t)j * N + n) * ldv + h * hd + c];
                    out[((size_t)i * N + n) * ldo + h * hd + c] = (float)o;
                }
            }
}

/* max |a - b| over n */
static inline double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        m = d > m || d != d ? d : m;
    }
    return m;
}

#endif
