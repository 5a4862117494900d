/* test_predict_allreduce.c - tensor-parallel all-reduce priced from the NCCL bus bandwidth that
 * `hwscope bench nccl` saved (2+ GPUs), at the runtime's full rate, even when no other ceiling
 * of the GPU was saved; the datasheet when none was. */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    hws_model_spec m;
    hws_plan_opts o;
    hws_memory mem;
    hws_device_set devs;
    hws_placement pl;
    hws_predict_inputs in;
    hws_prediction pred;
} tp_run;

/* Llama-3.1-8B bf16 over two H100 SXM (tensor parallel), ceilings from path. */
static void plan_tp2(tp_run *r, const char *ceilings) {
    hws_error err = {{0}};
    memset(r, 0, sizeof *r);
    r->m = *hws_model_catalog_find("Llama-3.1-8B");
    hws_plan_opts_default(&r->o);
    r->o.weights = hws_weight_format_find("bf16");
    r->o.runtime = HWS_RUNTIME_VLLM;
    assert_int_equal(hws_memory_estimate(&r->m, &r->o, &r->mem, &err), HWS_OK);
    hws_devices_named(hws_gpu_catalog_find("H100 SXM 80GB"), 2, &r->devs);
    hws_place_best(&r->m, &r->o, &r->mem, &r->devs, &r->pl);
    assert_int_equal(r->pl.kind, HWS_PLACE_TENSOR_PARALLEL);
    hws_predict_inputs_fill(&r->o, &r->mem, &r->devs, ceilings, &r->in);
    hws_predict(&r->m, &r->o, &r->mem, &r->pl, &r->in, &r->pred);
}

static void measured_allreduce(void **state) {
    (void)state;
    tp_run sheet, slow;
    plan_tp2(&sheet, "/nonexistent/ceilings.json");
    assert_true(sheet.in.link_gbps == 450); /* NVLink 4: 900 GB/s both ways, half each way */
    assert_true(sheet.in.link_eff < 1);
    const char *path = hws_temp_file(
        "{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": \"NVIDIA H100 80GB HBM3\", "
        "\"allreduce_busbw_gbps\": 100, \"measured_at\": \"2026-12-06T04:00:00Z\"}]}");
    plan_tp2(&slow, path);
    unlink(path);
    assert_true(slow.in.link_gbps == 100);
    assert_true(slow.in.link_eff == 1);
    assert_false(slow.in.measured); /* memory and products still from the datasheet */
    assert_true(slow.pred.allreduce_ms_per_step > sheet.pred.allreduce_ms_per_step);
    /* the bandwidth part of each all-reduce scales with 1 / (link x efficiency) */
    double lat_ms = 2 * slow.m.n_layers * slow.in.allreduce_latency_us * 1e-3;
    double ratio =
        (slow.pred.allreduce_ms_per_step - lat_ms) / (sheet.pred.allreduce_ms_per_step - lat_ms);
    assert_float_equal(ratio, 450 * sheet.in.link_eff / 100, 1e-6);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(measured_allreduce)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
