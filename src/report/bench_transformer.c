/* bench_transformer.c - the transformer benchmark's rows beside the guide's figures, as a table
 * and as the hwscope.bench.transformer/1 document. */
#include "report/bench_transformer.h"
#include "hwscope/units.h"
#include "report/json.h"
#include "report/table.h"

#include <string.h>

/* The guide: torch.nn.Transformer() on input torch.rand(1, 512, 512), model(x, x). */
static const double guide_cpu_ms = 2300, guide_gpu_ms = 28, guide_speedup = 82;
static const char *guide_shape = "(1, 512, 512) sequence-first: S=1, N=512, E=512";

/* The error of a timing, NULL when it ran. */
static const char *error_of(const hws_tfm_bench_timing *t) {
    return t->status != HWS_OK ? t->error : NULL;
}

/* GPU row i of the result: path i / 4, precision i % 4. */
static const hws_tfm_bench_timing *gpu_row(const hws_tfm_bench_result *r, int i) {
    return &r->gpu[i / 4][i % 4];
}

/* The CPU median of the general path, the speed-ups' reference; NA when it did not run. */
static double cpu_ms_of(const hws_tfm_bench_result *r) {
    const hws_tfm_bench_timing *c = &r->cpu[HWS_TFM_PATH_GENERAL];
    return c->wanted && !error_of(c) ? c->ms : HWS_NA;
}

static void add_timing(cJSON *obj, const hws_tfm_bench_timing *t) {
    const char *error = error_of(t);
    hws_json_num(obj, "flops_performed", t->flops);
    hws_json_num(obj, "ms", error ? HWS_NA : t->ms);
    hws_json_num(obj, "tflops", error ? HWS_NA : t->flops / (t->ms * 1e-3) / 1e12);
    cJSON *s = cJSON_AddArrayToObject(obj, "samples_ms");
    for (int i = 0; s && i < t->n; i++)
        cJSON_AddItemToArray(s, cJSON_CreateNumber(t->samples_ms[i]));
    hws_json_str(obj, "error", error);
}

cJSON *hws_tfm_bench_json(const hws_tfm_bench_result *r) {
    cJSON *doc = hws_json_doc("hwscope.bench.transformer/1");
    if (doc == NULL)
        return NULL;
    cJSON *shape = cJSON_AddObjectToObject(doc, "shape");
    hws_json_num(shape, "S", r->S);
    hws_json_num(shape, "N", r->N);
    hws_json_num(shape, "E", r->E);
    cJSON *model = cJSON_AddObjectToObject(doc, "model");
    hws_json_num(model, "d_model", r->cfg.d_model);
    hws_json_num(model, "nhead", r->cfg.nhead);
    hws_json_num(model, "num_encoder_layers", r->cfg.n_enc);
    hws_json_num(model, "num_decoder_layers", r->cfg.n_dec);
    hws_json_num(model, "dim_feedforward", r->cfg.d_ff);
    hws_json_num(doc, "flops", r->flops);
    cJSON_AddBoolToObject(doc, "fold", r->npaths > 1);
    for (int p = 0; p < r->npaths; p++) {
        const char *key = p == HWS_TFM_PATH_GENERAL ? "cpu" : "cpu_folded";
        if (!r->cpu[p].wanted) {
            cJSON_AddNullToObject(doc, key);
            continue;
        }
        cJSON *cpu = cJSON_AddObjectToObject(doc, key);
        hws_json_num(cpu, "threads", r->threads);
        hws_json_str(cpu, "blas", r->blas);
        add_timing(cpu, &r->cpu[p]);
    }
    cJSON *gpu = cJSON_AddArrayToObject(doc, "gpu");
    double cpu_ms = cpu_ms_of(r);
    for (int i = 0; i < r->npaths * 4; i++) {
        const hws_tfm_bench_timing *g = gpu_row(r, i);
        if (!g->wanted)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(gpu, e);
        hws_json_str(e, "dtype", hws_tfm_dtype_name((hws_tfm_dtype)(i % 4)));
        hws_json_str(e, "path", hws_tfm_path_name((hws_tfm_path)(i / 4)));
        hws_json_str(e, "device", r->device);
        add_timing(e, g);
        hws_json_num(e, "graph_lanes", error_of(g) ? HWS_NA : g->lanes);
        hws_json_num(e, "speedup_vs_cpu", error_of(g) ? HWS_NA : cpu_ms / g->ms);
        if (g->profiled) {
            cJSON *prof = cJSON_AddObjectToObject(e, "profile");
            for (int k = 0; k < 4; k++) {
                cJSON *step = cJSON_AddObjectToObject(prof, hws_tfm_step_name(k));
                hws_json_num(step, "count", g->prof_n[k]);
                hws_json_num(step, "ms", g->prof_ms[k]);
            }
        }
    }
    cJSON *guide = cJSON_AddObjectToObject(doc, "guide");
    hws_json_str(guide, "shape", guide_shape);
    hws_json_num(guide, "cpu_ms", guide_cpu_ms);
    hws_json_num(guide, "gpu_ms", guide_gpu_ms);
    hws_json_num(guide, "speedup", guide_speedup);
    return doc;
}

/* The rows: CPU per path, then each GPU precision per path, then the guide's two. */
static void print_rows(FILE *out, const hws_tfm_bench_result *r) {
    char a[32], b[32], c[32];
    hws_table *t = hws_table_new(
        5, (const char *[]){"device", "precision", "time", "TFLOP/s", "speed-up vs CPU"});
    double cpu_ms = cpu_ms_of(r);
    for (int p = 0; p < r->npaths; p++) {
        const hws_tfm_bench_timing *ct = &r->cpu[p];
        if (!ct->wanted)
            continue;
        char dev[48], prec[32];
        snprintf(dev, sizeof dev, "CPU, %d threads", r->threads);
        snprintf(prec, sizeof prec, "fp32%s", p == HWS_TFM_PATH_FOLDED ? ", folded" : "");
        if (error_of(ct))
            hws_table_rowf(t, "%s\t%s\tfailed\tn/a\tn/a", dev, prec);
        else
            hws_table_rowf(t, "%s\t%s\t%s\t%s\t%s", dev, prec, hws_fmt_num(a, 32, ct->ms, 2, "ms"),
                           hws_fmt_num(b, 32, ct->flops / ct->ms / 1e9, 3, NULL),
                           p == HWS_TFM_PATH_GENERAL ? "1.0x"
                                                     : hws_fmt_num(c, 32, cpu_ms / ct->ms, 1, "x"));
    }
    for (int i = 0; i < r->npaths * 4; i++) {
        const hws_tfm_bench_timing *g = gpu_row(r, i);
        if (!g->wanted || error_of(g))
            continue;
        char prec[32];
        snprintf(prec, sizeof prec, "%s%s", hws_tfm_dtype_name((hws_tfm_dtype)(i % 4)),
                 i / 4 == HWS_TFM_PATH_FOLDED ? ", folded" : "");
        double x = cpu_ms / g->ms;
        hws_table_rowf(t, "%s\t%s\t%s\t%s\t%s", r->device, prec, hws_fmt_num(a, 32, g->ms, 3, "ms"),
                       hws_fmt_num(b, 32, g->flops / g->ms / 1e9, 1, NULL),
                       hws_known(x) ? hws_fmt_num(c, 32, x, 1, "x") : "n/a");
    }
    hws_table_rowf(t, "guide's CPU\tfp32\t%.0f ms\tn/a\t1.0x", guide_cpu_ms);
    hws_table_rowf(t, "guide's GPU\tfp32\t%.0f ms\tn/a\t%.0fx", guide_gpu_ms, guide_speedup);
    hws_table_print(t, out);
    hws_table_free(t);
}

void hws_tfm_bench_print(FILE *out, const hws_tfm_bench_result *r) {
    char title[160];
    snprintf(title, sizeof title, "nn.Transformer forward, S=%d N=%d E=%d (%.1f GFLOP)", r->S, r->N,
             r->E, r->flops / 1e9);
    hws_print_heading(out, title);
    print_rows(out, r);
    fprintf(out, "The guide's code ran torch.nn.Transformer on torch.rand(1, 512, 512), which is "
                 "sequence-first:\nS=1 (each attention sees one token), N=512. Median of the timed "
                 "runs after warm-up;\nGPU times are CUDA-event times of one CUDA Graph replay.\n");
    fprintf(out, "Rows do PyTorch's work (the general path), TFLOP/s over those operations%s.\n",
            r->npaths > 1 ? ", except folded ones" : "");
    if (r->npaths > 1)
        fprintf(out,
                "Rows marked folded (--fold): with S=1 each attention's softmax weight is exactly "
                "1, so each\nattention block runs as its folded value-and-output map: the same "
                "function, fewer operations\n(%.1f GFLOP; their TFLOP/s counts those).\n",
                r->cpu[HWS_TFM_PATH_FOLDED].flops / 1e9);
    for (int i = 0; i < r->npaths * 4; i++)
        if (gpu_row(r, i)->wanted && !error_of(gpu_row(r, i)) && gpu_row(r, i)->lanes > 1) {
            fprintf(out,
                    "The graph runs the batch in %d slices as concurrent branches (rows are "
                    "independent at S=1;\n--lanes 1 runs one chain).\n",
                    gpu_row(r, i)->lanes);
            break;
        }
    if (r->cpu[HWS_TFM_PATH_GENERAL].wanted)
        fprintf(out, "CPU matrix products: %s\n", r->blas);
    for (int i = 0; i < r->npaths * 4; i++) {
        const hws_tfm_bench_timing *g = gpu_row(r, i);
        if (!g->profiled)
            continue;
        fprintf(out, "GPU %s%s, steps run one by one:", hws_tfm_dtype_name((hws_tfm_dtype)(i % 4)),
                i / 4 == HWS_TFM_PATH_FOLDED ? " folded" : "");
        for (int k = 0; k < 4; k++)
            fprintf(out, " %s %d x = %.3f ms;", hws_tfm_step_name(k), g->prof_n[k], g->prof_ms[k]);
        fprintf(out, "\n");
    }
    for (int p = 0; p < r->npaths; p++)
        if (r->cpu[p].wanted && error_of(&r->cpu[p]))
            fprintf(out, "CPU%s: %s\n", p == HWS_TFM_PATH_FOLDED ? " folded" : "", r->cpu[p].error);
    const char *said = NULL; /* "no CUDA GPU" once, not once per precision */
    for (int i = 0; i < r->npaths * 4; i++) {
        const hws_tfm_bench_timing *g = gpu_row(r, i);
        if (g->wanted && error_of(g) && !(said && !strcmp(said, g->error))) {
            fprintf(out, "GPU %s: %s\n", hws_tfm_dtype_name((hws_tfm_dtype)(i % 4)), g->error);
            said = g->error;
        }
    }
}
