/* test_report_machines.c - the report on the recorded machines (tests/fixtures/machines, read
 * through HWSCOPE_SYSROOT and HWSCOPE_HWLOC_XML) with no GPU: the CPU as recorded, host RAM
 * as the recorded /proc/meminfo and cgroup give it, and what runs on the CPU alone judged
 * against it; the text fits 80 columns. */
#include "hws_test.h"
#include "schema.h"
#include "width.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *machine, *cpu_model;
    double host_bytes; /* RAM the report plans with: available, capped by the cgroup */
    int fits_70b;      /* Llama-3.1-70B on the CPU alone */
} machine;

static const machine machines[] = {
    {"x86-ci", "AMD EPYC", 24817201152.0, 0},
    {"two-socket", "Intel(R) Xeon(R) Platinum 8488C", 67430986548.0, 1},
    {"arm64", "Neoverse-V2", 115490747392.0, 1},
    {"h100-host", "Intel(R) Xeon(R) Processor", 134591225856.0, 1},
};

static void run_on(hws_run *r, const machine *m, const char *arg1, const char *arg2) {
    static char root[1024], xml[1024];
    char rel[256];
    snprintf(rel, sizeof rel, "machines/%s", m->machine); /* the build's generated trees */
    snprintf(root, sizeof root, "HWSCOPE_SYSROOT=%s", hws_fixture(rel));
    snprintf(xml, sizeof xml, "HWSCOPE_HWLOC_XML=%s/topology.xml", hws_fixture(rel));
    const char *env[] = {root,
                         xml,
                         "HWSCOPE_NVML_LIB=/nonexistent/libnvidia-ml.so.1",
                         "HWSCOPE_CUDA_LIB=/nonexistent/libcuda.so.1",
                         "HWSCOPE_CEILINGS=/nonexistent-dir/ceilings.json",
                         "COLUMNS=80",
                         NULL};
    hws_run_cli(r, env, "report", "--no-bench", arg1, arg2, NULL);
    if (r->exit_code != 0)
        fail_msg("report on %s: exit %d: %s", m->machine, r->exit_code, r->err);
}

static void test_machines(void **state) {
    (void)state;
    cJSON *schema = hws_schema_load("hwscope.report.1.json");
    for (size_t i = 0; i < sizeof machines / sizeof machines[0]; i++) {
        const machine *m = &machines[i];
        hws_run r;
        run_on(&r, m, "--json", "--models=Llama-3.1-8B,Llama-3.1-70B");
        cJSON *doc = hws_run_json(&r);
        hws_assert_schema(schema, doc);
        hws_assert_json_str(doc, "cpu.model", m->cpu_model);
        hws_assert_json_num(doc, "gpus.count", 0, 0);
        hws_assert_json_num(doc, "runs_here.host_mem_bytes", m->host_bytes, 1);
        /* no GPU: 8B in Q8_0 on the CPU alone everywhere (8.5 GB), 70B where RAM holds it */
        hws_assert_json_null(doc, "runs_here.models.0.on_gpus");
        hws_assert_json_str(doc, "runs_here.models.0.on_cpu.weights", "Q8_0");
        hws_assert_json_str(doc, "runs_here.models.0.on_cpu.placement", "CPU only");
        hws_assert_json_str(doc, "runs_here.models.0.on_cpu.runtime", "llama.cpp");
        const cJSON *big = hws_json_at(doc, "runs_here.models.1.on_cpu");
        assert_int_equal(!cJSON_IsNull(big), m->fits_70b);
        if (m->fits_70b)
            assert_true(hws_json_at(big, "host_bytes")->valuedouble <= m->host_bytes);
        cJSON_Delete(doc);
        hws_run_free(&r);
        run_on(&r, m, NULL, NULL);
        char what[64];
        snprintf(what, sizeof what, "report on %s", m->machine);
        hws_assert_fits(r.out, 80, what);
        hws_assert_contains(r.out, m->cpu_model);
        hws_run_free(&r);
    }
    cJSON_Delete(schema);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_machines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
