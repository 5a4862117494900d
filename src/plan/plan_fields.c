/* plan_fields.c - the field tables of the planner's records (memory breakdown, one device's
 * load, a placement, predictor inputs and prediction, one advice row), beside their structs in
 * plan.h; every output of plan and advise (text, JSON) walks these. Kept apart from the planner's
 * logic. */
#include "hwscope/plan.h"

static const hws_field memory_fields[] = {
    HWS_JSON_NUM(hws_memory, weights_bytes),      HWS_JSON_NUM(hws_memory, embed_bytes),
    HWS_JSON_NUM(hws_memory, vision_bytes),       HWS_JSON_NUM(hws_memory, active_weights_bytes),
    HWS_JSON_NUM(hws_memory, kv_bytes),           HWS_JSON_NUM(hws_memory, kv_bytes_per_token),
    HWS_JSON_NUM(hws_memory, activation_bytes),   HWS_JSON_NUM(hws_memory, prefill_chunk_tokens),
    HWS_JSON_NUM(hws_memory, cuda_context_bytes), HWS_JSON_NUM(hws_memory, runtime_bytes),
    HWS_JSON_NUM(hws_memory, total_bytes),
};
const hws_field_table hws_memory_table = HWS_FIELD_TABLE(hws_memory, memory_fields);

#define GIB (1.0 / HWS_GIB)
static const hws_field device_load_fields[] = {
    HWS_INT(hws_device_load, first_layer, "first layer"),
    HWS_INT(hws_device_load, n_layers, "layers"),
    HWS_JSON_BOOL("embeddings", hws_device_load, has_embeddings),
    HWS_JSON_BOOL("head", hws_device_load, has_head),
    HWS_NUM(hws_device_load, weights_bytes, "weights GiB", GIB, 2, ""),
    HWS_NUM(hws_device_load, kv_bytes, "KV GiB", GIB, 2, ""),
    HWS_NUM(hws_device_load, activation_bytes, "act GiB", GIB, 2, ""),
    HWS_NUM(hws_device_load, overhead_bytes, "overhead GiB", GIB, 2, ""),
    HWS_NUM(hws_device_load, total_bytes, "total GiB", GIB, 2, ""),
    HWS_NUM(hws_device_load, avail_bytes, "available GiB", GIB, 2, ""),
    HWS_JSON_BOOL("fits", hws_device_load, fits),
};
const hws_field_table hws_device_load_table = HWS_FIELD_TABLE(hws_device_load, device_load_fields);

static const hws_field placement_fields[] = {
    HWS_JSON_BOOL("possible", hws_placement, possible),
    HWS_JSON_BOOL("fits", hws_placement, fits),
    HWS_JSON_STR(hws_placement, why),
    HWS_JSON_INT("cpu_layers", hws_placement, cpu_layers),
    HWS_JSON_INT("cpu_moe_layers", hws_placement, cpu_moe_layers),
    HWS_JSON_INT("cpu_moe_below", hws_placement, cpu_moe_below),
    HWS_JSON_NUM(hws_placement, cpu_bytes),
    HWS_JSON_NUM(hws_placement, host_avail_bytes),
    HWS_JSON_INT("tp", hws_placement, tp),
    HWS_JSON_INT("pp", hws_placement, pp),
    HWS_JSON_NUM(hws_placement, gpu_mem_util),
    HWS_JSON_STR(hws_placement, launch),
    HWS_JSON_STR(hws_placement, note),
};
const hws_field_table hws_placement_table = HWS_FIELD_TABLE(hws_placement, placement_fields);

static const hws_field prediction_fields[] = {
    HWS_NUM(hws_prediction, prefill_tokens_per_s, "prefill tok/s", 1, 0, ""),
    HWS_NUM(hws_prediction, decode_tokens_per_s, "decode tok/s", 1, 1, ""),
    HWS_NUM(hws_prediction, decode_start_tokens_per_s, "decode at start", 1, 1, ""),
    HWS_NUM(hws_prediction, decode_end_tokens_per_s, "decode at end", 1, 1, ""),
    HWS_NUM(hws_prediction, ttft_ms, "TTFT ms", 1, 1, ""),
    HWS_NUM(hws_prediction, tpot_ms, "per token ms", 1, 2, ""),
    HWS_JSON_NUM(hws_prediction, decode_fill_tokens),
    HWS_JSON_NUM(hws_prediction, decode_bytes_per_step),
    HWS_JSON_NUM(hws_prediction, prefill_flops_per_token),
    HWS_JSON_NUM(hws_prediction, prefill_wave_flops_per_token),
    HWS_JSON_NUM(hws_prediction, allreduce_ms_per_step),
};
const hws_field_table hws_prediction_table = HWS_FIELD_TABLE(hws_prediction, prediction_fields);

static const hws_field predict_inputs_fields[] = {
    HWS_JSON_BOOL("measured", hws_predict_inputs, measured),
    HWS_JSON_NUM(hws_predict_inputs, mem_bw_gbps),
    HWS_JSON_NUM(hws_predict_inputs, matmul_tflops),
    HWS_JSON_NUM(hws_predict_inputs, link_gbps),
    HWS_JSON_NUM(hws_predict_inputs, host_mem_bw_gbps),
    HWS_JSON_NUM(hws_predict_inputs, bw_eff),
    HWS_JSON_NUM(hws_predict_inputs, mm_eff),
    HWS_JSON_NUM(hws_predict_inputs, link_eff),
    HWS_JSON_NUM(hws_predict_inputs, host_bw_eff),
    HWS_JSON_NUM(hws_predict_inputs, allreduce_latency_us),
    HWS_JSON_NUM(hws_predict_inputs, hop_latency_us),
    HWS_JSON_NUM(hws_predict_inputs, layer_overhead_us),
    HWS_JSON_NUM(hws_predict_inputs, decode_layer_overhead_us),
    HWS_JSON_NUM(hws_predict_inputs, step_overhead_us),
    HWS_JSON_NUM(hws_predict_inputs, prefill_overhead_us),
    HWS_JSON_NUM(hws_predict_inputs, prefill_block_us),
    HWS_JSON_NUM(hws_predict_inputs, block_serial_us),
    HWS_JSON_NUM(hws_predict_inputs, sm_count),
    HWS_JSON_NUM(hws_predict_inputs, wave_mm_eff),
    HWS_JSON_NUM(hws_predict_inputs, wave_prefill_overhead_us),
    HWS_JSON_NUM(hws_predict_inputs, wave_prefill_block_us),
    HWS_JSON_NUM(hws_predict_inputs, host_tflops),
    HWS_JSON_NUM(hws_predict_inputs, host_mm_eff),
};
const hws_field_table hws_predict_inputs_table =
    HWS_FIELD_TABLE(hws_predict_inputs, predict_inputs_fields);

static const hws_field advice_fields[] = {
    HWS_JSON_NUM(hws_advice, mem_needed_bytes),
    HWS_JSON_NUM(hws_advice, mem_per_gpu_bytes),
    HWS_JSON_NUM(hws_advice, decode_tokens_per_s),
    HWS_JSON_NUM(hws_advice, prefill_tokens_per_s),
    HWS_JSON_NUM(hws_advice, buy_usd),
    HWS_JSON_NUM(hws_advice, usd_per_hour),
    HWS_JSON_NUM(hws_advice, usd_per_mtok),
};
const hws_field_table hws_advice_table = HWS_FIELD_TABLE(hws_advice, advice_fields);
