/* bench_fields.c - the field tables of the benchmark records (bench.h): what every output of a
 * bench result (tables, JSON) shows of a record, its GPU state and an NVML sample. */
#include "hwscope/bench.h"

/* The fields of a sample, a record and a record's GPU state. */
static const hws_field sample_fields[] = {
    HWS_JSON_NUM(hws_bench_sample, t_s),
    HWS_JSON_INT("device", hws_bench_sample, device),
    HWS_JSON_NUM(hws_bench_sample, sm_clock_mhz),
    HWS_JSON_NUM(hws_bench_sample, mem_clock_mhz),
    HWS_JSON_NUM(hws_bench_sample, power_w),
    HWS_JSON_NUM(hws_bench_sample, temperature_c),
    HWS_JSON_NUM(hws_bench_sample, util_gpu_pct),
    HWS_JSON_NUM(hws_bench_sample, clock_event_reasons),
    HWS_JSON_STR(hws_bench_sample, clock_event_text),
};

static const hws_field record_fields[] = {
    HWS_JSON_STR(hws_bench_record, key),
    HWS_JSON_STR(hws_bench_record, suite),
    HWS_JSON_STR(hws_bench_record, description),
    HWS_JSON_STR(hws_bench_record, reason),
    HWS_JSON_STR(hws_bench_record, unit),
    HWS_JSON_NUM(hws_bench_record, size),
    HWS_JSON_STR(hws_bench_record, method),
    HWS_JSON_NUM(hws_bench_record, median),
    HWS_JSON_NUM(hws_bench_record, min),
    HWS_JSON_NUM(hws_bench_record, max),
    HWS_JSON_NUM(hws_bench_record, spread_pct),
    HWS_JSON_INT("runs", hws_bench_record, runs),
    HWS_TRI(hws_bench_record, unstable, "unstable"),
    HWS_JSON_NUM(hws_bench_record, datasheet),
    HWS_JSON_NUM(hws_bench_record, theoretical),
    HWS_JSON_STR(hws_bench_record, theoretical_basis),
    HWS_JSON_NUM(hws_bench_record, frac_datasheet),
    HWS_JSON_NUM(hws_bench_record, frac_theoretical),
    HWS_JSON_STR(hws_bench_record, cause),
    HWS_JSON_NUM(hws_bench_record, t_start_s),
    HWS_JSON_NUM(hws_bench_record, t_end_s),
};

static const hws_field gpu_state_fields[] = {
    HWS_JSON_INT("samples", hws_bench_gpu_state, nsamples),
    HWS_JSON_NUM(hws_bench_gpu_state, sm_clock_min_mhz),
    HWS_JSON_NUM(hws_bench_gpu_state, sm_clock_max_mhz),
    HWS_JSON_NUM(hws_bench_gpu_state, power_max_w),
    HWS_JSON_NUM(hws_bench_gpu_state, temperature_max_c),
    HWS_JSON_NUM(hws_bench_gpu_state, throttle_reasons),
    HWS_JSON_STR(hws_bench_gpu_state, throttle_text),
};

const hws_field_table hws_bench_sample_table = HWS_FIELD_TABLE(hws_bench_sample, sample_fields);
const hws_field_table hws_bench_record_table = HWS_FIELD_TABLE(hws_bench_record, record_fields);
const hws_field_table hws_bench_gpu_state_table =
    HWS_FIELD_TABLE(hws_bench_gpu_state, gpu_state_fields);
