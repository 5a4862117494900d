/* gpu.c - the C face of the CUDA backend: finds the CUDA module's table, captures the forward
 * pass of forward.c into its CUDA Graph, and replays it. */
#include "engine/backend.h"
#include "gpu/cuda_module.h"

#include <stdio.h>
#include <stdlib.h>

struct hws_tfm_gpu {
    const hws_tfm_cuda_api *api;
    void *ctx;
    const hws_tfm_weights *w;
    int S, N;
    int lanes; /* concurrent branches of the graph (run_lanes) */
    int fold;  /* attention blocks as folded maps (hws_tfm_options.fold) */
    char device[128];
};

const char *hws_tfm_dtype_name(hws_tfm_dtype dt) {
    static const char *names[] = {"fp32", "tf32", "fp16", "bf16"};
    return (unsigned)dt < 4 ? names[dt] : "?";
}

/* The module's table, or NULL with the reason in err. */
static const hws_tfm_cuda_api *cuda_api(hws_error *err) {
    hws_tfm_cuda_get_api_fn get;
    *(void **)&get = hws_cuda_module_sym("hws_tfm_cuda_get_api", err);
    if (!get)
        return NULL;
    const hws_tfm_cuda_api *api = get();
    if (!api || api->abi != HWS_TFM_CUDA_ABI) {
        hws_error_set(err, HWS_ERR_UNSUPPORTED, "the CUDA module's engine is of another version");
        return NULL;
    }
    return api;
}

void hws_tfm_gpu_free(hws_tfm_gpu *g) {
    if (!g)
        return;
    if (g->ctx)
        g->api->destroy(g->ctx);
    free(g);
}

/* How many lanes run the forward pass: with S=1 the batch's rows are independent (each attention
 * reads its own row only), so the graph can run the batch in slices as concurrent branches.
 * hws_tfm_options.lanes (1-4) sets it; by default 1: on an H100 at the guide's shape 2 lanes
 * were slower (fp16 general path 0.696 ms vs 0.567, one-key 0.460 vs 0.392). */
static int lane_count(int requested, int S, int N) {
    int n = requested;
    if (S != 1 || n < 1)
        return 1;
    n = n > 4 ? 4 : n;
    return n > N ? N : n;
}

/* The forward pass over n lanes, lane i running rows [i*N/n, (i+1)*N/n). */
static hws_status run_lanes(hws_tfm_gpu *g, int n, hws_error *err) {
    if (n == 1)
        return hws_tfm_run(g->w, g->S, g->N, g->fold, g->api->ops, g->ctx, err);
    hws_status st = g->api->fork(g->ctx, n, err);
    for (int i = 0; i < n && st == HWS_OK; i++) {
        int r0 = (int)((long)i * g->N / n), r1 = (int)((long)(i + 1) * g->N / n);
        st = g->api->lane(g->ctx, i, (size_t)r0, err);
        if (st == HWS_OK)
            st = hws_tfm_run(g->w, 1, r1 - r0, g->fold, g->api->ops, g->ctx, err);
    }
    hws_error join_err;
    hws_status join = g->api->join(g->ctx, &join_err); /* joins even when a lane failed */
    if (st == HWS_OK && join != HWS_OK)
        st = hws_error_set(err, join, "%s", join_err.msg);
    return st;
}

hws_status hws_tfm_gpu_new(const hws_tfm_weights *w, int S, int N, hws_tfm_dtype dt,
                           const hws_tfm_options *opt, hws_tfm_gpu **out, hws_error *err) {
    hws_tfm_options o = opt ? *opt : hws_tfm_options_default();
    if (S < 1 || N < 1 || (long)S * N > (1L << 24))
        return hws_error_set(err, HWS_ERR_INPUT, "shape S=%d, N=%d is out of range", S, N);
    const hws_tfm_cuda_api *api = cuda_api(err);
    if (!api)
        return HWS_ERR_UNSUPPORTED;
    hws_tfm_gpu *g = calloc(1, sizeof *g);
    if (!g)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    g->api = api;
    g->w = w;
    g->S = S;
    g->N = N;
    g->lanes = lane_count(o.lanes, S, N);
    g->fold = o.fold;
    hws_status st = api->create(w, S, N, dt, &o, &g->ctx, g->device, sizeof g->device, err);
    if (st == HWS_OK) /* once eagerly: checks every step and picks the products' algorithms */
        st = run_lanes(g, g->lanes, err);
    if (st == HWS_OK)
        st = api->capture_begin(g->ctx, err);
    if (st == HWS_OK) {
        hws_status run = run_lanes(g, g->lanes, err);
        hws_error end_err;
        st = api->capture_end(g->ctx, &end_err); /* ends the capture even when run failed */
        if (run != HWS_OK)
            st = run;
        else if (st != HWS_OK)
            hws_error_set(err, st, "%s", end_err.msg);
    }
    if (st != HWS_OK) {
        hws_tfm_gpu_free(g);
        return st;
    }
    *out = g;
    return HWS_OK;
}

hws_status hws_tfm_gpu_forward(hws_tfm_gpu *g, const float *src, const float *tgt, float *out,
                               hws_error *err) {
    hws_status st = g->api->set_input(g->ctx, src, tgt, err);
    if (st == HWS_OK)
        st = g->api->replay(g->ctx, 1, 0, NULL, err);
    return st == HWS_OK ? g->api->get_output(g->ctx, out, err) : st;
}

hws_status hws_tfm_gpu_time(hws_tfm_gpu *g, int warmup, int reps, double *ms_samples,
                            hws_error *err) {
    return g->api->replay(g->ctx, warmup, reps, ms_samples, err);
}

hws_status hws_tfm_gpu_profile(hws_tfm_gpu *g, double ms[4], int count[4], hws_error *err) {
    hws_status st = g->api->profile_begin(g->ctx, err);
    if (st == HWS_OK)
        st = hws_tfm_run(g->w, g->S, g->N, g->fold, g->api->ops, g->ctx, err);
    double m[4];
    int n[4];
    hws_error end_err;
    hws_status end = g->api->profile_end(g->ctx, m, n, &end_err);
    if (st == HWS_OK && end != HWS_OK)
        st = hws_error_set(err, end, "%s", end_err.msg);
    for (int k = 0; k < 4 && st == HWS_OK; k++) {
        ms[k] = m[k];
        count[k] = n[k];
    }
    return st;
}

int hws_tfm_gpu_lanes(const hws_tfm_gpu *g) {
    return g->lanes;
}

const char *hws_tfm_gpu_device(const hws_tfm_gpu *g) {
    return g->device;
}
