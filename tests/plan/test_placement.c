/* test_placement.c - where a model goes on GPUs: one GPU, a layer split balanced by free memory
 * with embeddings first and head last, tensor parallel only when heads divide, CPU offload, free
 * memory against total; and a property test: no placement that says it fits exceeds a device. */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hws_model_spec m;
    hws_plan_opts o;
    hws_memory mem;
} planned;

static planned plan(const char *model, const char *format, hws_runtime rt) {
    planned p;
    hws_error err = {{0}};
    const hws_model_spec *row = hws_model_catalog_find(model);
    assert_non_null(row);
    p.m = *row;
    hws_plan_opts_default(&p.o);
    p.o.weights = hws_weight_format_find(format);
    p.o.runtime = rt;
    assert_int_equal(hws_memory_estimate(&p.m, &p.o, &p.mem, &err), HWS_OK);
    return p;
}

/* n identical GPUs with `avail` bytes each (as if local and that much were free). */
static hws_device_set gpus(int n, double total, double avail) {
    hws_device_set s;
    memset(&s, 0, sizeof s);
    s.count = n;
    for (int i = 0; i < n; i++) {
        snprintf(s.dev[i].name, sizeof s.dev[i].name, "test GPU");
        s.dev[i].mem_total_bytes = total;
        s.dev[i].mem_avail_bytes = avail;
        s.dev[i].local = 1;
    }
    return s;
}

static void single_fits_or_not(void **state) {
    (void)state;
    planned p = plan("Llama-3.1-8B", "bf16", HWS_RUNTIME_TRANSFORMERS);
    hws_device_set big = gpus(1, 80 * HWS_GIB, 80 * HWS_GIB);
    hws_device_set small = gpus(1, 16 * HWS_GIB, 16 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &big, HWS_PLACE_SINGLE, &pl);
    assert_true(pl.fits && pl.load[0].n_layers == (int)p.m.n_layers);
    assert_true(fabs(pl.load[0].total_bytes - p.mem.total_bytes) < 1);
    hws_placement_compute(&p.m, &p.o, &p.mem, &small, HWS_PLACE_SINGLE, &pl);
    assert_false(pl.fits);
    assert_non_null(strstr(pl.why, "needs"));
}

/* Free memory now, not total: a GPU with 80 GiB of which 10 are free does not take a 16 GB model;
 * the same GPU named as hardware (total) does. */
static void free_not_total(void **state) {
    (void)state;
    planned p = plan("Llama-3.1-8B", "bf16", HWS_RUNTIME_TRANSFORMERS);
    hws_device_set busy = gpus(1, 80 * HWS_GIB, 10 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &busy, HWS_PLACE_SINGLE, &pl);
    assert_false(pl.fits);
    assert_true(pl.load[0].avail_bytes == 10 * HWS_GIB);
    const hws_gpu_spec *h100 = hws_gpu_catalog_find("H100 SXM 80GB");
    assert_non_null(h100);
    hws_device_set named;
    hws_devices_named(h100, 1, &named);
    assert_false(named.dev[0].local);
    assert_true(named.dev[0].mem_avail_bytes == named.dev[0].mem_total_bytes);
    hws_placement_compute(&p.m, &p.o, &p.mem, &named, HWS_PLACE_SINGLE, &pl);
    assert_true(pl.fits);
}

/* Layer split: shares follow free memory; embeddings on the first GPU, head on the last. */
static void layer_split_balanced(void **state) {
    (void)state;
    planned p = plan("Llama-2-70B", "bf16", HWS_RUNTIME_TRANSFORMERS);
    hws_device_set s = gpus(2, 80 * HWS_GIB, 80 * HWS_GIB);
    s.dev[1].mem_avail_bytes = 40 * HWS_GIB;
    s.dev[1].mem_total_bytes = 40 * HWS_GIB;
    hws_device_set three = gpus(3, 80 * HWS_GIB, 80 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &s, HWS_PLACE_LAYER_SPLIT, &pl);
    assert_false(pl.fits); /* 138 GB on 120 GiB */
    hws_placement_compute(&p.m, &p.o, &p.mem, &three, HWS_PLACE_LAYER_SPLIT, &pl);
    assert_true(pl.fits);
    assert_true(pl.load[0].has_embeddings && !pl.load[1].has_embeddings);
    assert_true(pl.load[2].has_head && !pl.load[0].has_head);
    int sum = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pl.load[i].first_layer, sum);
        sum += pl.load[i].n_layers;
        assert_true(abs(pl.load[i].n_layers - 80 / 3) <= 2);
    }
    assert_int_equal(sum, 80);
    /* a GPU with half the free memory gets about half the layers */
    planned q = plan("Llama-3.1-8B", "bf16", HWS_RUNTIME_TRANSFORMERS);
    hws_device_set uneven = gpus(2, 24 * HWS_GIB, 16 * HWS_GIB);
    uneven.dev[1].mem_avail_bytes = 8 * HWS_GIB;
    hws_placement_compute(&q.m, &q.o, &q.mem, &uneven, HWS_PLACE_LAYER_SPLIT, &pl);
    assert_true(pl.load[0].n_layers > pl.load[1].n_layers);
    assert_true(pl.load[0].n_layers + pl.load[1].n_layers == 32);
}

/* Tensor parallel: heads must divide; KV heads replicate when fewer than GPUs. */
static void tensor_parallel_rules(void **state) {
    (void)state;
    planned p = plan("Llama-3.1-8B", "bf16", HWS_RUNTIME_VLLM);
    hws_placement pl;
    hws_device_set three = gpus(3, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement_compute(&p.m, &p.o, &p.mem, &three, HWS_PLACE_TENSOR_PARALLEL, &pl);
    assert_false(pl.possible);
    assert_non_null(strstr(pl.why, "heads"));
    hws_device_set two = gpus(2, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement_compute(&p.m, &p.o, &p.mem, &two, HWS_PLACE_TENSOR_PARALLEL, &pl);
    assert_true(pl.possible && pl.fits);
    assert_true(fabs(pl.load[0].weights_bytes - p.mem.weights_bytes / 2) < 1);
    assert_true(fabs(pl.load[0].kv_bytes - p.mem.kv_bytes / 2) < 1);
    /* 16 GPUs, 8 KV heads: each GPU keeps one whole KV head (vLLM replicates) */
    hws_device_set sixteen = gpus(16, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement_compute(&p.m, &p.o, &p.mem, &sixteen, HWS_PLACE_TENSOR_PARALLEL, &pl);
    assert_true(pl.possible);
    assert_true(fabs(pl.load[0].kv_bytes - p.mem.kv_bytes / 8) < 1);
    /* vLLM only uses gpu_memory_utilization of each GPU */
    assert_true(fabs(pl.load[0].avail_bytes - 0.9 * 24 * HWS_GIB) < 1);
}

/* CPU offload: the blocks that fit on the GPU, the rest in host memory. */
static void cpu_offload(void **state) {
    (void)state;
    planned p = plan("Llama-2-70B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    hws_device_set one = gpus(1, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &one, HWS_PLACE_CPU_OFFLOAD, &pl);
    assert_true(pl.possible && pl.fits);
    assert_true(pl.cpu_layers > 0 && pl.cpu_layers < 80);
    assert_int_equal(pl.cpu_layers + pl.load[0].n_layers, 80);
    assert_true(pl.load[0].total_bytes <= pl.load[0].avail_bytes);
    assert_true(fabs(pl.cpu_bytes + pl.load[0].weights_bytes + pl.load[0].kv_bytes -
                     p.mem.weights_bytes - p.mem.kv_bytes) < 1e3);
    assert_int_equal(hws_placement_best(&p.m, &p.o, &p.mem, &one, &pl), HWS_PLACE_CPU_OFFLOAD);
}

/* A small deterministic generator, so the property test is the same on every run. */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

static void check_placement(const planned *p, const hws_device_set *s, const hws_placement *pl) {
    if (!pl->possible)
        return;
    double weights = 0;
    int layers = 0, fits = 1;
    for (int i = 0; i < pl->ndev; i++) {
        const hws_device_load *l = &pl->load[i];
        double sum = l->weights_bytes + l->kv_bytes + l->activation_bytes + l->overhead_bytes;
        assert_true(fabs(sum - l->total_bytes) <= 1e-6 * sum + 1);
        assert_true(l->avail_bytes <= s->dev[i].mem_avail_bytes);
        if (l->total_bytes > l->avail_bytes)
            fits = 0;
        if (pl->fits)
            assert_true(l->total_bytes <= l->avail_bytes);
        weights += l->weights_bytes;
        layers += l->n_layers;
    }
    assert_int_equal(pl->fits, fits);
    if (pl->kind == HWS_PLACE_LAYER_SPLIT || pl->kind == HWS_PLACE_PIPELINE ||
        pl->kind == HWS_PLACE_SINGLE) {
        assert_int_equal(layers, (int)p->m.n_layers);
        assert_true(fabs(weights - p->mem.weights_bytes) <= 1e-6 * weights);
    }
    if (pl->kind == HWS_PLACE_TENSOR_PARALLEL)
        assert_true(fabs(weights - p->mem.weights_bytes) <= 1e-6 * weights);
}

/* Random catalog models, formats, contexts and GPU sets: a placement that fits never exceeds a
 * device, the parts add up, and every layer is placed exactly once. */
static void property_never_exceeds(void **state) {
    (void)state;
    size_t nm, ng, nf;
    const hws_model_spec *models = hws_model_catalog(&nm);
    const hws_gpu_spec *cat = hws_gpu_catalog(&ng);
    const hws_weight_format *formats = hws_weight_formats(&nf);
    const char *kv[] = {"fp16", "fp8", "q4"};
    int checked = 0, fitted = 0;
    for (int iter = 0; iter < 400; iter++) {
        planned p;
        hws_error err;
        p.m = models[rnd((unsigned)nm)];
        hws_plan_opts_default(&p.o);
        p.o.weights = &formats[rnd((unsigned)nf)];
        p.o.kv = hws_kv_format_find(kv[rnd(3)]);
        p.o.ctx_tokens = 512 << rnd(8);
        p.o.batch = 1 + rnd(8);
        p.o.runtime = (hws_runtime)rnd(HWS_RUNTIME_COUNT);
        assert_int_equal(hws_memory_estimate(&p.m, &p.o, &p.mem, &err), HWS_OK);
        hws_device_set s;
        const hws_gpu_spec *g = &cat[rnd((unsigned)ng)];
        hws_devices_named(g, 1 << rnd(4), &s);
        for (int i = 0; i < s.count; i++) /* some memory taken by others */
            s.dev[i].mem_avail_bytes *= 0.3 + 0.7 * rnd(100) / 100.0;
        for (int k = 0; k < HWS_PLACE_COUNT; k++) {
            hws_placement pl;
            hws_placement_compute(&p.m, &p.o, &p.mem, &s, (hws_place_kind)k, &pl);
            check_placement(&p, &s, &pl);
            checked++;
            fitted += pl.fits;
        }
    }
    /* the test saw both outcomes */
    assert_true(fitted > 100 && fitted < checked - 100);
}

/* The same with a host of random RAM: a plan that fits keeps its host bytes within it, and one
 * whose GPUs fit but whose host bytes do not is refused. */
static void property_host_ram(void **state) {
    (void)state;
    size_t nm, ng, nf;
    const hws_model_spec *models = hws_model_catalog(&nm);
    const hws_gpu_spec *cat = hws_gpu_catalog(&ng);
    const hws_weight_format *formats = hws_weight_formats(&nf);
    int refused = 0;
    for (int iter = 0; iter < 400; iter++) {
        planned p;
        hws_error err;
        p.m = models[rnd((unsigned)nm)];
        hws_plan_opts_default(&p.o);
        p.o.weights = &formats[rnd((unsigned)nf)];
        p.o.runtime = (hws_runtime)rnd(HWS_RUNTIME_COUNT);
        assert_int_equal(hws_memory_estimate(&p.m, &p.o, &p.mem, &err), HWS_OK);
        hws_device_set s;
        hws_devices_named(&cat[rnd((unsigned)ng)], 1 << rnd(3), &s);
        s.host.mem_bytes = (8 << rnd(8)) * HWS_GIB;
        for (int k = 0; k < HWS_PLACE_COUNT; k++) {
            hws_placement pl;
            hws_placement_compute(&p.m, &p.o, &p.mem, &s, (hws_place_kind)k, &pl);
            if (!pl.possible)
                continue;
            int gpus_fit = 1;
            for (int i = 0; i < pl.ndev; i++)
                gpus_fit &= pl.load[i].total_bytes <= pl.load[i].avail_bytes;
            assert_int_equal(pl.fits, gpus_fit && pl.cpu_bytes <= s.host.mem_bytes);
            refused += gpus_fit && !pl.fits;
        }
    }
    assert_true(refused > 10);
}

/* Offload spreads over every GPU before the CPU (llama.cpp -ngl + --tensor-split): two 24 GiB
 * GPUs both hold blocks, and fewer stay on the CPU than with one. */
static void offload_spreads_over_gpus(void **state) {
    (void)state;
    planned p = plan("Llama-3.1-70B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    p.o.ctx_tokens = 32768;
    hws_error err;
    assert_int_equal(hws_memory_estimate(&p.m, &p.o, &p.mem, &err), HWS_OK);
    hws_device_set one = gpus(1, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_device_set two = gpus(2, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement a, b;
    hws_placement_compute(&p.m, &p.o, &p.mem, &one, HWS_PLACE_CPU_OFFLOAD, &a);
    hws_placement_compute(&p.m, &p.o, &p.mem, &two, HWS_PLACE_CPU_OFFLOAD, &b);
    assert_true(b.fits);
    assert_int_equal(b.ndev, 2);
    assert_true(b.load[0].n_layers > 0 && b.load[1].n_layers > 0);
    assert_int_equal(b.cpu_layers + b.load[0].n_layers + b.load[1].n_layers, 80);
    assert_true(b.load[0].first_layer + b.load[0].n_layers == b.load[1].first_layer);
    assert_true(b.cpu_layers < a.cpu_layers / 2);
    assert_non_null(strstr(b.launch, "--tensor-split"));
    /* fp16 70B on four cards: every card holds blocks */
    planned q = plan("Llama-2-70B", "fp16", HWS_RUNTIME_LLAMACPP);
    hws_device_set four = gpus(4, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement_compute(&q.m, &q.o, &q.mem, &four, HWS_PLACE_CPU_OFFLOAD, &b);
    for (int i = 0; i < 4; i++)
        assert_true(b.load[i].n_layers >= 8);
    assert_true(b.cpu_bytes < q.mem.weights_bytes - 3 * 20 * HWS_GIB);
}

/* MoE expert offload keeps attention, KV and every block on the GPU, experts in host RAM. */
static void expert_offload(void **state) {
    (void)state;
    planned p = plan("Mixtral-8x7B-v0.1", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    hws_device_set one = gpus(1, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &one, HWS_PLACE_EXPERT_OFFLOAD, &pl);
    assert_true(pl.possible && pl.fits);
    assert_int_equal(pl.load[0].n_layers, 32);
    assert_true(pl.cpu_moe_layers > 0 && pl.cpu_moe_layers < 32);
    assert_true(fabs(pl.cpu_bytes - pl.cpu_moe_layers * 8 * p.mem.expert_bytes -
                     p.mem.input_embed_bytes) < 1e3);
    assert_non_null(strstr(pl.launch, "--n-cpu-moe"));
    assert_int_equal(hws_placement_best(&p.m, &p.o, &p.mem, &one, &pl), HWS_PLACE_EXPERT_OFFLOAD);
    planned d = plan("Llama-3.1-8B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    hws_placement_compute(&d.m, &d.o, &d.mem, &one, HWS_PLACE_EXPERT_OFFLOAD, &pl);
    assert_false(pl.possible);
}

/* What stays in host memory must fit the host's RAM. */
static void host_ram_checked(void **state) {
    (void)state;
    planned p = plan("Llama-3.1-405B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    hws_device_set one = gpus(1, 24 * HWS_GIB, 24 * HWS_GIB);
    hws_placement pl;
    one.host.mem_bytes = 24 * HWS_GIB;
    hws_placement_compute(&p.m, &p.o, &p.mem, &one, HWS_PLACE_CPU_OFFLOAD, &pl);
    assert_true(pl.possible);
    assert_false(pl.fits);
    assert_non_null(strstr(pl.why, "host RAM"));
    one.host.mem_bytes = 512 * HWS_GIB;
    hws_placement_compute(&p.m, &p.o, &p.mem, &one, HWS_PLACE_CPU_OFFLOAD, &pl);
    assert_true(pl.fits);
    assert_true(pl.cpu_bytes <= pl.host_avail_bytes);
    /* cgroup limit below what /proc/meminfo says is available: the cgroup wins */
    hws_mem_info mem;
    hws_host h;
    memset(&mem, 0, sizeof mem);
    mem.available_bytes = 200 * HWS_GIB;
    mem.cgroup_limit_bytes = 16 * HWS_GIB;
    mem.cgroup_usage_bytes = 4 * HWS_GIB;
    hws_host_from_probe(&mem, NULL, HWS_NA, &h);
    assert_true(fabs(h.mem_bytes - 12 * HWS_GIB) < 1);
    assert_non_null(strstr(h.basis, "cgroup"));
    mem.cgroup_limit_bytes = HWS_NA;
    hws_host_from_probe(&mem, NULL, 150.0, &h);
    assert_true(fabs(h.mem_bytes - 200 * HWS_GIB) < 1 && h.mem_bw_gbps == 150.0);
}

/* No GPU: the whole model in host RAM, against the named host's. */
static void cpu_only(void **state) {
    (void)state;
    hws_device_set none;
    hws_error err = {{0}};
    assert_int_equal(hws_devices_parse("cpu", &none, &err), HWS_OK);
    assert_true(none.cpu_only && none.count == 0);
    assert_int_equal(hws_host_named("EPYC 9654", &none.host, &err), HWS_OK);
    assert_true(none.host.mem_bw_gbps > 400);
    assert_int_equal(hws_host_named("Pentium 4", &none.host, &err), HWS_ERR_INPUT);
    assert_non_null(strstr(err.msg, "Pentium 4"));
    planned p = plan("Llama-3.1-8B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    hws_placement pl;
    none.host.mem_bytes = 16 * HWS_GIB;
    assert_int_equal(hws_placement_best(&p.m, &p.o, &p.mem, &none, &pl), HWS_PLACE_CPU_ONLY);
    assert_true(pl.fits && pl.cpu_layers == 32);
    assert_true(pl.cpu_bytes >= p.mem.weights_bytes + p.mem.kv_bytes);
    assert_non_null(strstr(pl.launch, "-ngl 0"));
    planned big = plan("Llama-2-70B", "bf16", HWS_RUNTIME_LLAMACPP);
    hws_placement_compute(&big.m, &big.o, &big.mem, &none, HWS_PLACE_CPU_ONLY, &pl);
    assert_false(pl.fits);
}

/* ZeRO-3 keeps 1/n of the weights per GPU plus the gathered blocks. */
static void zero3_shards(void **state) {
    (void)state;
    planned p = plan("Llama-2-70B", "bf16", HWS_RUNTIME_TRANSFORMERS);
    hws_device_set four = gpus(4, 80 * HWS_GIB, 80 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &four, HWS_PLACE_ZERO3, &pl);
    assert_true(pl.possible && pl.fits);
    assert_true(pl.load[0].weights_bytes > p.mem.weights_bytes / 4);
    assert_true(pl.load[0].weights_bytes < p.mem.weights_bytes / 4 + 3 * p.mem.dense_block_bytes);
    assert_non_null(strstr(pl.launch, "deepspeed --num_gpus 4"));
}

/* vLLM reserves 0.9 of the card whatever others hold: with 30 of 80 GiB free it would not
 * start; the plan says so and launches with what is free. */
static void vllm_reserves_the_card(void **state) {
    (void)state;
    planned p = plan("Llama-3.1-8B", "bf16", HWS_RUNTIME_VLLM);
    hws_device_set busy = gpus(1, 80 * HWS_GIB, 30 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&p.m, &p.o, &p.mem, &busy, HWS_PLACE_SINGLE, &pl);
    assert_true(pl.fits);
    assert_non_null(strstr(pl.note, "refuses to start"));
    assert_true(pl.gpu_mem_util < 30.0 / 80 && pl.gpu_mem_util > 0.3);
    assert_non_null(strstr(pl.launch, "--gpu-memory-utilization 0.35"));
    hws_device_set idle = gpus(1, 80 * HWS_GIB, 79 * HWS_GIB);
    hws_placement_compute(&p.m, &p.o, &p.mem, &idle, HWS_PLACE_SINGLE, &pl);
    assert_true(pl.note[0] == '\0' && pl.gpu_mem_util == 0.9);
    p.o.runtime = HWS_RUNTIME_TRANSFORMERS;
    hws_placement_compute(&p.m, &p.o, &p.mem, &busy, HWS_PLACE_SINGLE, &pl);
    assert_true(pl.note[0] == '\0');
}

/* The launch line carries the plan's own numbers for each runtime. */
static void launch_lines(void **state) {
    (void)state;
    planned v = plan("Llama-3.1-70B", "fp8", HWS_RUNTIME_VLLM);
    hws_device_set four = gpus(4, 80 * HWS_GIB, 80 * HWS_GIB);
    hws_placement pl;
    hws_placement_compute(&v.m, &v.o, &v.mem, &four, HWS_PLACE_TENSOR_PARALLEL, &pl);
    assert_int_equal(pl.tp, 4);
    assert_non_null(strstr(pl.launch, "vllm serve meta-llama/Llama-3.1-70B"));
    assert_non_null(strstr(pl.launch, "--tensor-parallel-size 4 --pipeline-parallel-size 1"));
    assert_non_null(strstr(pl.launch, "--max-model-len 8192"));
    hws_placement_compute(&v.m, &v.o, &v.mem, &four, HWS_PLACE_PIPELINE, &pl);
    assert_int_equal(pl.pp, 4);
    assert_non_null(strstr(pl.launch, "--pipeline-parallel-size 4"));
    planned t = plan("Llama-3.1-70B", "bf16", HWS_RUNTIME_TRANSFORMERS);
    hws_device_set two = gpus(2, 80 * HWS_GIB, 80 * HWS_GIB);
    hws_placement_compute(&t.m, &t.o, &t.mem, &two, HWS_PLACE_CPU_OFFLOAD, &pl);
    assert_non_null(strstr(pl.launch, "device_map=\"auto\", max_memory={0: "));
    assert_non_null(strstr(pl.launch, "\"cpu\": "));
    planned l = plan("Llama-3.1-8B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    l.o.kv = hws_kv_format_find("q8_0");
    hws_placement_compute(&l.m, &l.o, &l.mem, &two, HWS_PLACE_SINGLE, &pl);
    assert_non_null(strstr(pl.launch, "-ngl 99"));
    assert_non_null(strstr(pl.launch, "-ctk q8_0 -ctv q8_0"));
}

static void parse_gpu_specs(void **state) {
    (void)state;
    hws_device_set s;
    hws_error err = {{0}};
    assert_int_equal(hws_devices_parse("4x RTX 4090", &s, &err), HWS_OK);
    assert_int_equal(s.count, 4);
    assert_non_null(s.dev[3].spec);
    assert_int_equal(hws_devices_parse("2xH100 SXM 80GB, RTX 4090", &s, &err), HWS_OK);
    assert_int_equal(s.count, 3);
    assert_true(s.dev[0].mem_total_bytes > 80e9); /* the vendor's 80 GB is 80 GiB */
    assert_int_equal(hws_devices_parse("3x RTX 9999", &s, &err), HWS_ERR_INPUT);
    assert_non_null(strstr(err.msg, "RTX 9999"));
    assert_int_equal(hws_devices_parse("99x RTX 4090", &s, &err), HWS_ERR_INPUT);
    assert_int_equal(hws_devices_parse(" , ", &s, &err), HWS_ERR_INPUT);
    /* the spellings people use; a name that fits several rows is a question, not a guess */
    assert_int_equal(hws_devices_parse("2x A100-SXM4-80GB", &s, &err), HWS_OK);
    assert_string_equal(s.dev[0].spec->name, "A100 SXM 80GB");
    assert_int_equal(hws_devices_parse("2x A100-80GB", &s, &err), HWS_ERR_INPUT);
    assert_non_null(strstr(err.msg, "A100 PCIe 80GB, A100 SXM 80GB: which one?"));
    assert_int_equal(hws_devices_parse("2x A100", &s, &err), HWS_ERR_INPUT);
    assert_int_equal(hws_devices_parse("h100-pcie", &s, &err), HWS_OK);
    assert_string_equal(s.dev[0].spec->name, "H100 PCIe 80GB");
    assert_int_equal(hws_devices_parse("NVIDIA GeForce RTX 3090", &s, &err), HWS_OK);
    assert_string_equal(s.dev[0].spec->name, "RTX 3090");
    assert_int_equal(hws_devices_parse("4x 4090", &s, &err), HWS_OK);
    assert_string_equal(s.dev[3].spec->name, "RTX 4090");
    /* "through NVLink" on a card without it: planned over PCIe, and said so */
    assert_int_equal(hws_devices_parse("4x RTX 4090 through NVLink", &s, &err), HWS_OK);
    assert_int_equal(s.count, 4);
    assert_non_null(strstr(s.basis, "RTX 4090 has no NVLink"));
    assert_int_equal(hws_devices_parse("2x RTX 3090 NVLink", &s, &err), HWS_OK);
    assert_null(strstr(s.basis, "no NVLink"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_fits_or_not),
        cmocka_unit_test(free_not_total),
        cmocka_unit_test(layer_split_balanced),
        cmocka_unit_test(tensor_parallel_rules),
        cmocka_unit_test(cpu_offload),
        cmocka_unit_test(property_never_exceeds),
        cmocka_unit_test(parse_gpu_specs),
        cmocka_unit_test(offload_spreads_over_gpus),
        cmocka_unit_test(expert_offload),
        cmocka_unit_test(host_ram_checked),
        cmocka_unit_test(cpu_only),
        cmocka_unit_test(zero3_shards),
        cmocka_unit_test(launch_lines),
        cmocka_unit_test(property_host_ram),
        cmocka_unit_test(vllm_reserves_the_card),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
