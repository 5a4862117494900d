/* test_engine_format.c - the one answer to "which of its formats does the hwscope engine run
 * these weights in" (hws_engine_format): the planner's bytes (memory.c) and the engine's
 * efficiency and prefill precision (predict.c) follow it for every weight format, GGUF types
 * included, so they agree with each other and with the bytes the engine itself stores
 * (hws_llm_cost); other runtimes keep the format's own bytes and one efficiency. */
#include "hws_test.h"

#include "hwscope/llm.h"
#include "hwscope/plan.h"
#include "plan/engine_format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    hws_model_spec m;
    hws_plan_opts o;
    hws_memory mem;
    hws_device_set devs;
    hws_predict_inputs in;
} plan;

/* Llama-3.1-8B on one H100 SXM from the datasheet (no ceilings file), weights in format (NULL:
 * as the checkpoint ships) under runtime rt. */
static void plan_8b(plan *p, const char *model, const char *format, hws_runtime rt) {
    hws_error err = {{0}};
    memset(p, 0, sizeof *p);
    p->m = *hws_model_catalog_find(model);
    hws_plan_opts_default(&p->o);
    p->o.weights = format != NULL ? hws_weight_format_find(format) : NULL;
    if (format != NULL)
        assert_non_null(p->o.weights);
    p->o.runtime = rt;
    assert_int_equal(hws_memory_estimate(&p->m, &p->o, &p->mem, &err), HWS_OK);
    hws_devices_named(hws_gpu_catalog_find("H100 SXM 80GB"), 1, &p->devs);
    hws_predict_inputs_fill(&p->o, &p->mem, &p->devs, "/nonexistent/ceilings.json", &p->in);
}

static hws_llm_format engine_format_of(const char *format, hws_runtime rt) {
    hws_plan_opts o;
    hws_plan_opts_default(&o);
    o.runtime = rt;
    const hws_weight_format *f = hws_weight_format_find(format);
    if (f == NULL)
        fail_msg("no weight format '%s'", format);
    return hws_engine_format(&o, f);
}

/* Every family: the engine's own names as they are, others to the nearest of its formats in
 * bits per weight; nothing for another runtime or the file's own bytes. */
static void families(void **state) {
    (void)state;
    static const struct {
        const char *format;
        hws_llm_format engine;
    } cases[] = {
        {"bf16", HWS_LLM_BF16},      {"fp16", HWS_LLM_FP16},      {"BF16", HWS_LLM_BF16},
        {"F16", HWS_LLM_FP16},       {"fp32", HWS_LLM_BF16},      {"int8", HWS_LLM_INT8},
        {"w8a8", HWS_LLM_INT8},      {"int4", HWS_LLM_INT4},      {"awq", HWS_LLM_INT4},
        {"gptq", HWS_LLM_INT4},      {"Q8_0", HWS_LLM_INT8},      {"Q6_K", HWS_LLM_INT8},
        {"Q4_0", HWS_LLM_INT4},      {"Q4_K_M", HWS_LLM_INT4},    {"Q4_K_S", HWS_LLM_INT4},
        {"Q5_K_M", HWS_LLM_INT4},    {"Q2_K", HWS_LLM_INT4},      {"fp8", HWS_LLM_INT8},
        {"fp8-block", HWS_LLM_INT8}, {"nf4", HWS_LLM_INT4},       {"fp4", HWS_LLM_INT4},
        {"mxfp4", HWS_LLM_INT4},     {"int4-bare", HWS_LLM_INT4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hws_llm_format got = engine_format_of(cases[i].format, HWS_RUNTIME_HWSCOPE);
        if (got != cases[i].engine)
            fail_msg("%s: engine runs it as %s, expected %s", cases[i].format,
                     hws_llm_format_name(got), hws_llm_format_name(cases[i].engine));
        for (int rt = 0; rt < HWS_RUNTIME_COUNT; rt++)
            if (rt != HWS_RUNTIME_HWSCOPE)
                assert_int_equal(engine_format_of(cases[i].format, (hws_runtime)rt),
                                 HWS_LLM_FORMAT_COUNT);
    }
    hws_plan_opts o;
    hws_plan_opts_default(&o);
    o.runtime = HWS_RUNTIME_HWSCOPE;
    assert_int_equal(hws_engine_format(&o, NULL), HWS_LLM_FORMAT_COUNT);
}

/* A GGUF type on the engine counts the bytes the engine stores (those of hws_llm_cost, as the
 * engine test holds for int8/int4 by name) and streams at the same efficiency as the engine
 * format it maps to, and both say so. */
static void gguf_types_as_the_engine_runs_them(void **state) {
    (void)state;
    static const struct {
        const char *gguf, *engine;
    } pairs[] = {{"Q8_0", "int8"}, {"Q4_K_M", "int4"}, {"Q4_0", "int4"}, {"Q6_K", "int8"}};
    hws_error err;
    hws_llm_shape s;
    plan bf16;
    plan_8b(&bf16, "Llama-3.1-8B", "bf16", HWS_RUNTIME_HWSCOPE);
    assert_int_equal(hws_llm_shape_from_spec(&bf16.m, &s, &err), HWS_OK);
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        plan g, e;
        plan_8b(&g, "Llama-3.1-8B", pairs[i].gguf, HWS_RUNTIME_HWSCOPE);
        plan_8b(&e, "Llama-3.1-8B", pairs[i].engine, HWS_RUNTIME_HWSCOPE);
        assert_true(g.mem.weights_bytes == e.mem.weights_bytes);
        assert_true(g.mem.active_weights_bytes == e.mem.active_weights_bytes);
        assert_true(g.mem.head_bytes == e.mem.head_bytes);
        hws_llm_info info;
        hws_llm_format lf;
        assert_int_equal(hws_llm_format_parse(pairs[i].engine, &lf, &err), HWS_OK);
        hws_llm_cost(&s, lf, 1, &info);
        assert_true(fabs(info.weight_bytes - g.mem.weights_bytes) < 1e-4 * g.mem.weights_bytes);
        /* the same efficiency, below the 16-bit one; prefill in 16 bits like the engine */
        assert_true(g.in.bw_eff == e.in.bw_eff);
        assert_true(g.in.bw_eff < bf16.in.bw_eff);
        assert_true(g.in.matmul_tflops == bf16.in.matmul_tflops);
        char said[64];
        snprintf(said, sizeof said, "the hwscope engine's %s, nearest in bits", pairs[i].engine);
        hws_assert_contains(g.mem.weights_basis, said);
        hws_assert_contains(g.mem.weights_basis, "(a copy if tied))"); /* not cut short */
        snprintf(said, sizeof said, "its %s decode products at", pairs[i].engine);
        hws_assert_contains(g.in.basis, said);
    }
}

/* Past two rows the engine's int8/int4 decode runs its per-element product, as slow as the
 * 16-bit step (measured: Llama-3.1-8B batch 8, int4 1194 against bf16 1200 tokens/s): the same
 * efficiency over the format's bytes, and the basis says so; one or two rows keep the faster
 * stated rate. */
static void quantised_batches_as_slow_as_16_bits(void **state) {
    (void)state;
    static const char *const formats[] = {"int4", "int8", "Q4_K_M"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        for (int batch = 1; batch <= 8; batch++) {
            plan q, b;
            memset(&q, 0, sizeof q);
            plan_8b(&b, "Llama-3.1-8B", "bf16", HWS_RUNTIME_HWSCOPE);
            b.o.batch = batch; /* against the 16-bit step of the same batch */
            hws_predict_inputs_fill(&b.o, &b.mem, &b.devs, "/nonexistent/ceilings.json", &b.in);
            hws_plan_opts_default(&q.o);
            q.m = b.m;
            q.o.runtime = HWS_RUNTIME_HWSCOPE;
            q.o.weights = hws_weight_format_find(formats[i]);
            q.o.batch = batch;
            hws_error err;
            assert_int_equal(hws_memory_estimate(&q.m, &q.o, &q.mem, &err), HWS_OK);
            q.devs = b.devs;
            hws_predict_inputs_fill(&q.o, &q.mem, &q.devs, "/nonexistent/ceilings.json", &q.in);
            hws_llm_format ef = hws_engine_format(&q.o, q.o.weights);
            double ratio = q.in.bw_eff / b.in.bw_eff;
            double same_time = hws_llm_format_bytes_per_weight(ef) / 2.0;
            if (batch > 2) {
                assert_true(fabs(ratio - same_time) < 1e-12);
                hws_assert_contains(q.in.basis, "as slow as 16 bits past 2 rows");
            } else {
                assert_true(ratio > same_time * 1.2); /* faster than the 16-bit step */
                assert_null(strstr(q.in.basis, "past 2 rows"));
            }
        }
}

/* Past two rows the engine's decode step is slower than its batch-1 efficiency (measured: bf16
 * batch 8 at 0.82 of it): the hwscope row scales its bandwidth efficiency and says so; another
 * runtime keeps one efficiency at every batch. */
static void batches_past_two_rows_slower(void **state) {
    (void)state;
    plan one, vllm_one;
    plan_8b(&one, "Llama-3.1-8B", "bf16", HWS_RUNTIME_HWSCOPE);
    plan_8b(&vllm_one, "Llama-3.1-8B", "bf16", HWS_RUNTIME_VLLM);
    for (int batch = 1; batch <= 8; batch++) {
        plan b, v;
        plan_8b(&b, "Llama-3.1-8B", "bf16", HWS_RUNTIME_HWSCOPE);
        plan_8b(&v, "Llama-3.1-8B", "bf16", HWS_RUNTIME_VLLM);
        b.o.batch = v.o.batch = batch;
        hws_predict_inputs_fill(&b.o, &b.mem, &b.devs, "/nonexistent/ceilings.json", &b.in);
        hws_predict_inputs_fill(&v.o, &v.mem, &v.devs, "/nonexistent/ceilings.json", &v.in);
        assert_true(v.in.bw_eff == vllm_one.in.bw_eff);
        if (batch > 2) {
            assert_true(fabs(b.in.bw_eff / one.in.bw_eff - 0.82) < 1e-12);
            hws_assert_contains(b.in.basis, "past 2 rows its decode step at 0.82");
        } else {
            assert_true(b.in.bw_eff == one.in.bw_eff);
            assert_null(strstr(b.in.basis, "past 2 rows"));
        }
    }
}

/* 16-bit weights keep the table's bytes and the 16-bit efficiency; fp32 is run in bf16. */
static void sixteen_bits_unaffected(void **state) {
    (void)state;
    plan bf16, fp16, fp32, peer;
    plan_8b(&bf16, "Llama-3.1-8B", "bf16", HWS_RUNTIME_HWSCOPE);
    plan_8b(&fp16, "Llama-3.1-8B", "fp16", HWS_RUNTIME_HWSCOPE);
    plan_8b(&fp32, "Llama-3.1-8B", "fp32", HWS_RUNTIME_HWSCOPE);
    plan_8b(&peer, "Llama-3.1-8B", "bf16", HWS_RUNTIME_VLLM);
    assert_true(bf16.mem.weights_bytes == peer.mem.weights_bytes);
    assert_true(fp16.mem.weights_bytes == peer.mem.weights_bytes);
    assert_true(fp32.mem.weights_bytes == peer.mem.weights_bytes);
    const hws_efficiency *e = hws_efficiency_for(HWS_RUNTIME_HWSCOPE);
    assert_true(bf16.in.bw_eff == e->bw_eff_datasheet);
    assert_true(fp16.in.bw_eff == e->bw_eff_datasheet);
    assert_true(fp32.in.bw_eff == e->bw_eff_datasheet);
    hws_assert_contains(bf16.mem.weights_basis, bf16.o.weights->note);
    hws_assert_contains(fp32.mem.weights_basis, "the hwscope engine's bf16");
    assert_null(strstr(bf16.in.basis, "decode products at"));
}

/* Another runtime: a GGUF type keeps the file type's bytes and the runtime's one efficiency;
 * int8 keeps the int8 tensor-core rate for prefill. */
static void other_runtimes_unaffected(void **state) {
    (void)state;
    plan cpp, engine, vllm8, engine8;
    plan_8b(&cpp, "Llama-3.1-8B", "Q4_K_M", HWS_RUNTIME_LLAMACPP);
    plan_8b(&engine, "Llama-3.1-8B", "Q4_K_M", HWS_RUNTIME_HWSCOPE);
    const hws_weight_format *f = cpp.o.weights;
    assert_true(fabs(cpp.mem.dense_block_bytes / engine.mem.dense_block_bytes -
                     f->bits_per_weight / 4.5) < 1e-12);
    assert_true(cpp.mem.input_embed_bytes < engine.mem.input_embed_bytes); /* Q4_K, not 16 bits */
    assert_null(strstr(cpp.mem.weights_basis, "hwscope engine"));
    assert_true(cpp.in.bw_eff == hws_efficiency_for(HWS_RUNTIME_LLAMACPP)->bw_eff_datasheet);
    plan_8b(&vllm8, "Llama-3.1-8B", "int8", HWS_RUNTIME_VLLM);
    plan_8b(&engine8, "Llama-3.1-8B", "int8", HWS_RUNTIME_HWSCOPE);
    assert_true(vllm8.in.matmul_tflops == vllm8.devs.dev[0].spec->int8_tops);
    assert_true(engine8.in.matmul_tflops < vllm8.in.matmul_tflops);
}

/* A checkpoint that ships quantised (no format named): the engine's bytes and its efficiency
 * come from the same format, the checkpoint's. */
static void shipped_checkpoint_agrees(void **state) {
    (void)state;
    plan shipped, named;
    plan_8b(&shipped, "DeepSeek-V3", NULL, HWS_RUNTIME_HWSCOPE);
    plan_8b(&named, "DeepSeek-V3", "fp8-block", HWS_RUNTIME_HWSCOPE);
    assert_non_null(shipped.mem.weights_format);
    assert_string_equal(shipped.mem.weights_format->name, "fp8-block");
    assert_true(shipped.mem.weights_bytes == named.mem.weights_bytes);
    assert_true(shipped.in.bw_eff == named.in.bw_eff);
    hws_assert_contains(shipped.in.basis, "its int8 decode products at");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(families),
        cmocka_unit_test(gguf_types_as_the_engine_runs_them),
        cmocka_unit_test(quantised_batches_as_slow_as_16_bits),
        cmocka_unit_test(batches_past_two_rows_slower),
        cmocka_unit_test(sixteen_bits_unaffected),
        cmocka_unit_test(other_runtimes_unaffected),
        cmocka_unit_test(shipped_checkpoint_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
