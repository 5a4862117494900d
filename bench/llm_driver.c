/* llm_driver.c - a bench-side driver of the LLM engine (not part of the product; `hwscope bench
 * llm` is the command): times prefill and decode and profiles a decode step, or runs a model
 * file greedily for the correctness script. One JSON object per line on stdout.
 *
 *   llm_driver bench MODEL [-f bf16] [-d cuda|cpu] [-p 512] [-n 64] [-b 1,8] [-D depth]
 *                          [-c max_ctx] [-r reps] [-t threads]
 *   llm_driver check MODEL_DIR [-f bf16] [-d cuda|cpu] [-T 1,2,3] [-n 32] [-b batch]
 */
#include "hwscope/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    while (s && *s && n < max) {
        out[n++] = atoi(s);
        s = strchr(s, ',');
        if (s)
            s++;
    }
    return n;
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static int fail(const char *what, const hws_error *err) {
    fprintf(stderr, "llm_driver: %s: %s\n", what, err->msg);
    return 1;
}

static void print_profile(const char *what, int batch, const hws_llm_profile *prof) {
    printf("{\"event\":\"profile\",\"of\":\"%s\",\"batch\":%d", what, batch);
    for (int k = 0; k < HWS_LLM_OP_KINDS; k++)
        printf(",\"%s\":{\"ms\":%.4f,\"n\":%d,\"gbps\":%.1f}", hws_llm_op_kind_name(k), prof->ms[k],
               prof->count[k], prof->ms[k] > 0 ? prof->bytes[k] / prof->ms[k] / 1e6 : 0.0);
    printf("}\n");
}

typedef struct {
    const char *model, *fmt, *dev;
    int prompt, gen, depth, ctx, reps, threads;
    int batch[16], n_batch;
    int tokens[4096], n_tokens;
} args;

static int bench(const args *a, const hws_llm_shape *shape, hws_llm_options opt) {
    hws_error err;
    int maxb = 1;
    for (int i = 0; i < a->n_batch; i++)
        maxb = a->batch[i] > maxb ? a->batch[i] : maxb;
    opt.max_batch = maxb;
    opt.max_ctx = a->ctx;
    hws_llm *m;
    double t0 = now_s();
    if (hws_llm_new(shape, &opt, &m, &err) != HWS_OK)
        return fail("new", &err);
    hws_llm_info info;
    hws_llm_get_info(m, &info);
    printf("{\"event\":\"model\",\"model\":\"%s\",\"format\":\"%s\",\"device\":\"%s\","
           "\"backend\":\"%s\",\"weight_bytes\":%.0f,\"decode_bytes_per_token\":%.0f,"
           "\"flops_per_token\":%.0f,\"device_bytes_peak\":%.0f,\"load_s\":%.2f}\n",
           a->model, a->fmt, info.device_name, info.backend, info.weight_bytes,
           info.decode_bytes_per_token, info.flops_per_token, info.device_bytes_peak, now_s() - t0);
    fflush(stdout);
    /* the prompt, the depth, and decode step i's batch at toks + i */
    int ntoks = a->prompt + a->depth + a->gen + 16;
    for (int bi = 0; bi < a->n_batch; bi++)
        ntoks += a->batch[bi];
    int32_t *toks = malloc(sizeof(int32_t) * (size_t)ntoks);
    for (int i = 0; i < ntoks; i++)
        toks[i] = (int32_t)((i * 7919 + 13) % shape->vocab);
    /* prefill */
    for (int r = -1; r < a->reps && a->prompt > 0; r++) {
        if (hws_llm_truncate(m, 0, &err) != HWS_OK)
            return fail("truncate", &err);
        double t = now_s();
        if (hws_llm_prefill(m, 0, toks, a->prompt, NULL, &err) != HWS_OK)
            return fail("prefill", &err);
        t = now_s() - t;
        if (r >= 0)
            printf("{\"event\":\"prefill\",\"tokens\":%d,\"ms\":%.3f,\"tokens_per_s\":%.1f,"
                   "\"tflops\":%.1f}\n",
                   a->prompt, t * 1e3, a->prompt / t, info.flops_per_token * a->prompt / t / 1e12);
    }
    hws_llm_profile prof;
    if (a->prompt > 0 && hws_llm_truncate(m, 0, &err) == HWS_OK &&
        hws_llm_profile_prefill(m, 0, toks, a->prompt, &prof, &err) == HWS_OK)
        print_profile("prefill", a->prompt, &prof);
    fflush(stdout);
    /* decode */
    for (int bi = 0; bi < a->n_batch; bi++) {
        int b = a->batch[bi];
        if (hws_llm_truncate(m, 0, &err) != HWS_OK)
            return fail("truncate", &err);
        for (int s = 0; s < b && a->depth > 0; s++)
            if (hws_llm_prefill(m, s, toks, a->depth, NULL, &err) != HWS_OK)
                return fail("prefill depth", &err);
        for (int r = -1; r < a->reps; r++) {
            if (hws_llm_truncate(m, a->depth, &err) != HWS_OK)
                return fail("truncate", &err);
            int n = r < 0 ? 4 : a->gen;
            double t = now_s();
            for (int i = 0; i < n; i++)
                if (hws_llm_decode(m, b, toks + i, NULL, &err) != HWS_OK)
                    return fail("decode", &err);
            t = now_s() - t;
            hws_llm_info at_b; /* MoE: the experts a batch of b reads */
            hws_llm_cost(shape, opt.format, b, &at_b);
            if (r >= 0)
                printf("{\"event\":\"decode\",\"batch\":%d,\"depth\":%d,\"steps\":%d,"
                       "\"ms_per_step\":%.4f,\"tokens_per_s\":%.1f,\"weight_bytes_per_step\":"
                       "%.0f,\"weight_gbps\":%.1f}\n",
                       b, a->depth, n, t * 1e3 / n, b * n / t, at_b.decode_bytes_per_token,
                       at_b.decode_bytes_per_token * n / t / 1e9);
        }
        if (hws_llm_truncate(m, a->depth, &err) == HWS_OK &&
            hws_llm_profile_decode(m, b, toks, &prof, &err) == HWS_OK)
            print_profile("decode", b, &prof);
        fflush(stdout);
    }
    free(toks);
    hws_llm_free(m);
    return 0;
}

static void print_floats(const char *key, const float *x, int n) {
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++)
        printf("%s%.6g", i ? "," : "", x[i]);
    printf("]");
}

/* One row's experts (e[layer * k + j]) as [[e, ...] per layer]. */
static void print_routes(const int32_t *e, int layers, int k) {
    printf("[");
    for (int l = 0; l < layers; l++) {
        printf("%s[", l ? "," : "");
        for (int j = 0; j < k; j++)
            printf("%s%d", j ? "," : "", (int)e[l * k + j]);
        printf("]");
    }
    printf("]");
}

/* A mixture's routes of the last prefill (its last chunk's rows, the chunk starting at prompt
 * position n - rows) as "prefill_routes_from": n - rows, "prefill_routes": [row...]; dense:
 * nothing. */
static int print_prefill_routes(hws_llm *m, const hws_llm_shape *s, int n) {
    if (s->n_experts == 0)
        return 0;
    size_t per = (size_t)s->n_layers * s->n_experts_used;
    int32_t *e = malloc(sizeof(int32_t) * per * ((size_t)n + 1)); /* (+1: never 0 bytes) */
    hws_error err;
    hws_status st = HWS_OK;
    int rows = 0; /* the chunk's rows: until a row that pass did not have */
    while (rows < n && (st = hws_llm_routes(m, rows, e + per * rows, &err)) == HWS_OK)
        rows++;
    if (st != HWS_OK && st != HWS_ERR_INPUT) {
        free(e);
        return fail("routes", &err);
    }
    printf(",\"prefill_routes_from\":%d,\"prefill_routes\":[", n - rows);
    for (int r = 0; r < rows; r++) {
        printf("%s", r ? "," : "");
        print_routes(e + per * r, s->n_layers, s->n_experts_used);
    }
    printf("]");
    free(e);
    return 0;
}

/* A mixture's routes of row 0 of the last decode step as "routes": [...]; dense: nothing. */
static int print_step_routes(hws_llm *m, const hws_llm_shape *s) {
    if (s->n_experts == 0)
        return 0;
    int32_t *e = malloc(sizeof(int32_t) * (size_t)s->n_layers * s->n_experts_used);
    hws_error err;
    hws_status st = hws_llm_routes(m, 0, e, &err);
    if (st == HWS_OK) {
        printf(",\"routes\":");
        print_routes(e, s->n_layers, s->n_experts_used);
    }
    free(e);
    return st == HWS_OK ? 0 : fail("routes", &err);
}

/* Greedy run of a prompt: with -b B, B sequences decode as one batch; sequence 0 has the prompt,
 * sequence r the prompt with its first token moved by r (rows that differ, so a row mixed up
 * with another shows in row 0), and row 0's logits are printed; for a mixture of experts also
 * the experts row 0 chose in each layer (prefill_routes, each step's routes), so a reference
 * can be run on the same routing. */
static int check(const args *a, const hws_llm_shape *shape, hws_llm_options opt) {
    hws_error err;
    int batch = a->batch[0] < 1 ? 1 : a->batch[0] > 16 ? 16 : a->batch[0];
    opt.max_batch = batch;
    opt.max_ctx = a->n_tokens + a->gen + 1;
    opt.weights = a->model;
    hws_llm *m;
    if (hws_llm_new(shape, &opt, &m, &err) != HWS_OK)
        return fail("new", &err);
    float *logits = malloc(sizeof(float) * (size_t)shape->vocab * (size_t)batch);
    int32_t toks[4096] = {0}, next[16];
    for (int r = batch - 1; r >= 0; r--) { /* row 0 last: its logits stay in logits */
        for (int i = 0; i < a->n_tokens; i++)
            toks[i] = a->tokens[i];
        toks[0] = (toks[0] + r) % shape->vocab;
        if (hws_llm_prefill(m, r, toks, a->n_tokens, logits, &err) != HWS_OK)
            return fail("prefill", &err);
        next[r] = argmax(logits, shape->vocab);
    }
    printf("{\"device\":\"%s\",\"format\":\"%s\",\"batch\":%d,", a->dev, a->fmt, batch);
    print_floats("prefill_logits", logits, shape->vocab);
    if (print_prefill_routes(m, shape, a->n_tokens) != 0)
        return 1;
    printf(",\"steps\":[");
    for (int s = 0; s < a->gen; s++) {
        int32_t fed = next[0];
        if (hws_llm_decode(m, batch, next, logits, &err) != HWS_OK)
            return fail("decode", &err);
        for (int r = 0; r < batch; r++)
            next[r] = argmax(logits + (size_t)r * shape->vocab, shape->vocab);
        printf("%s{\"token\":%d,", s ? "," : "", (int)fed);
        print_floats("logits", logits, shape->vocab);
        if (print_step_routes(m, shape) != 0)
            return 1;
        printf("}");
    }
    printf("]}\n");
    free(logits);
    hws_llm_free(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: llm_driver bench|check MODEL [options]\n");
        return 2;
    }
    args a = {.model = argv[2],
              .fmt = "bf16",
              .dev = "cuda",
              .prompt = 512,
              .gen = 64,
              .ctx = 4096,
              .reps = 3};
    a.batch[0] = 1;
    a.n_batch = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "-f"))
            a.fmt = v;
        else if (!strcmp(k, "-d"))
            a.dev = v;
        else if (!strcmp(k, "-p"))
            a.prompt = atoi(v);
        else if (!strcmp(k, "-n"))
            a.gen = atoi(v);
        else if (!strcmp(k, "-b"))
            a.n_batch = parse_list(v, a.batch, 16);
        else if (!strcmp(k, "-D"))
            a.depth = atoi(v);
        else if (!strcmp(k, "-c"))
            a.ctx = atoi(v);
        else if (!strcmp(k, "-r"))
            a.reps = atoi(v);
        else if (!strcmp(k, "-t"))
            a.threads = atoi(v);
        else if (!strcmp(k, "-T"))
            a.n_tokens = parse_list(v, a.tokens, 4096);
        else {
            fprintf(stderr, "llm_driver: unknown option %s\n", k);
            return 2;
        }
    }
    hws_error err;
    if (hws_model_catalog_load(NULL, &err) != HWS_OK)
        return fail("catalog", &err);
    hws_llm_shape shape;
    if (hws_llm_shape_from_file(a.model, &shape, &err) != HWS_OK)
        return fail(a.model, &err);
    hws_llm_options opt = hws_llm_options_default();
    if (hws_llm_format_parse(a.fmt, &opt.format, &err) != HWS_OK)
        return fail("format", &err);
    opt.device = strcmp(a.dev, "cpu") == 0 ? HWS_LLM_CPU : HWS_LLM_CUDA;
    opt.threads = a.threads;
    return strcmp(argv[1], "check") == 0 ? check(&a, &shape, opt) : bench(&a, &shape, opt);
}
