/* test_gpu_catalog.c - the built-in GPU catalog parses and is sane, NVML names find their rows,
 * and user files override rows or fail with file:line:field. */
#include "hws_test.h"

#include "hwscope/catalog.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static bool is_date(const char *s) {
    int y, m;
    char tail;
    return sscanf(s, "%4d-%2d%c", &y, &m, &tail) == 2 && strlen(s) == 7 && y >= 2000 && m >= 1 &&
           m <= 12;
}

static void builtin_sane(void **state) {
    (void)state;
    hws_error err = {{0}};
    assert_int_equal(hws_gpu_catalog_load(NULL, &err), HWS_OK);
    size_t n = 0;
    const hws_gpu_spec *g = hws_gpu_catalog(&n);
    assert_true(n >= 40);
    int segments[4] = {0};
    static const char *const segment_names[4] = {"datacenter", "workstation", "consumer", "apple"};
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            assert_true(strcasecmp(g[i].name, g[j].name) != 0);
        assert_true(strncmp(g[i].source, "https://", 8) == 0);
        assert_true(g[i].mem_bytes >= 8e9 && g[i].mem_bytes <= 512e9);
        assert_true(g[i].mem_bw_gbps > 100 && g[i].mem_bw_gbps < 20000);
        assert_true(g[i].mem_type[0] != '\0' && g[i].vendor[0] != '\0');
        assert_true(g[i].launch_year >= 2017 && g[i].launch_year <= 2026);
        /* tensor units beat plain FP32, and lower precisions are never slower */
        bool tensor = strcmp(g[i].vendor, "Apple") != 0; /* Apple: FP16 on the same ALUs */
        if (hws_known(g[i].fp16_tflops) && hws_known(g[i].fp32_tflops))
            assert_true(tensor ? g[i].fp16_tflops > g[i].fp32_tflops
                               : g[i].fp16_tflops == g[i].fp32_tflops);
        if (hws_known(g[i].fp8_tflops) && hws_known(g[i].bf16_tflops))
            assert_true(g[i].fp8_tflops >= g[i].bf16_tflops);
        if (hws_known(g[i].fp4_tflops))
            assert_true(g[i].fp4_tflops >= g[i].fp8_tflops);
        if (hws_known(g[i].tf32_tflops))
            assert_true(g[i].tf32_tflops <= g[i].fp16_tflops);
        if (hws_known(g[i].price_usd)) {
            assert_true(g[i].price_usd > 100);
            assert_true(strcmp(g[i].price_kind, "street") == 0 ||
                        strcmp(g[i].price_kind, "list") == 0 ||
                        strcmp(g[i].price_kind, "msrp") == 0);
            assert_true(is_date(g[i].price_date));
        }
        if (hws_known(g[i].cloud_usd_per_hour))
            assert_true(g[i].cloud_usd_per_hour > 0.1 && g[i].cloud_usd_per_hour < 20);
        for (int s = 0; s < 4; s++)
            segments[s] += strcmp(g[i].segment, segment_names[s]) == 0;
    }
    for (int s = 0; s < 4; s++)
        assert_true(segments[s] > 0);
}

/* NVML's device names (and a few people's names) each find the right row. */
static void find_by_nvml_names(void **state) {
    (void)state;
    static const struct {
        const char *query, *row;
    } cases[] = {
        {"NVIDIA H100 80GB HBM3", "H100 SXM 80GB"},
        {"NVIDIA H100 PCIe", "H100 PCIe 80GB"},
        {"NVIDIA H100 NVL", "H100 NVL 94GB"},
        {"NVIDIA H200", "H200 SXM 141GB"},
        {"NVIDIA A100-SXM4-80GB", "A100 SXM 80GB"},
        {"NVIDIA A100-SXM4-40GB", "A100 SXM 40GB"},
        {"NVIDIA A100 80GB PCIe", "A100 PCIe 80GB"},
        {"NVIDIA A100-PCIE-40GB", "A100 PCIe 40GB"},
        {"Tesla V100-SXM2-32GB", "V100 SXM2 32GB"},
        {"NVIDIA L40S", "L40S"},
        {"NVIDIA L4", "L4"},
        {"NVIDIA GeForce RTX 4090", "RTX 4090"},
        {"NVIDIA GeForce RTX 3090", "RTX 3090"},
        {"NVIDIA GeForce RTX 4080 SUPER", "RTX 4080 Super"},
        {"NVIDIA GeForce RTX 5090", "RTX 5090"},
        {"NVIDIA RTX 6000 Ada Generation", "RTX 6000 Ada"},
        {"NVIDIA RTX A6000", "RTX A6000"},
        {"NVIDIA B200", "B200 180GB"},
        {"AMD Instinct MI300X", "MI300X"},
        {"h100 sxm 80gb", "H100 SXM 80GB"}, /* case-insensitive name */
        {"GeForce RTX 4090", "RTX 4090"},   /* vendor words left out */
        {"NVIDIA RTX 4090", "RTX 4090"},    /* or added */
        {"Tesla V100-SXM2-16GB", "V100 SXM2 16GB"},
        {"Tesla T4", "T4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const hws_gpu_spec *g = hws_gpu_catalog_find(cases[i].query);
        if (g == NULL)
            fail_msg("'%s' found nothing", cases[i].query);
        if (strcmp(g->name, cases[i].row) != 0)
            fail_msg("'%s' found '%s', want '%s'", cases[i].query, g->name, cases[i].row);
    }
    assert_null(hws_gpu_catalog_find("NVIDIA GeForce RTX 4090 D"));
    assert_null(hws_gpu_catalog_find("NVIDIA"));
    assert_null(hws_gpu_catalog_find(""));
    assert_null(hws_gpu_catalog_find(NULL));
    /* figures of one known row */
    const hws_gpu_spec *h = hws_gpu_catalog_find("NVIDIA H100 80GB HBM3");
    assert_true(h->mem_bytes == 80e9 && h->mem_bw_gbps == 3350 && h->tdp_w == 700);
    assert_true(h->bf16_tflops > 900 && h->bf16_tflops < 1000 && h->sparsity_factor == 2);
}

static void user_file_overrides(void **state) {
    (void)state;
    const char *path =
        hws_temp_file("name\taliases\tmem_gb\tmem_bw_gbps\tprice_usd\tprice_kind\n"
                      "\n# my rows\n"
                      "h100 sxm 80gb\tNVIDIA H100 80GB HBM3\t80\t3350\t21000\tstreet\r\n"
                      "Lab GPU\tNVIDIA Lab 1\t24\t500\tn/a\t\n");
    hws_error err = {{0}};
    size_t before = 0, after = 0;
    hws_gpu_catalog(&before);
    assert_int_equal(hws_gpu_catalog_load(path, &err), HWS_OK);
    hws_gpu_catalog(&after);
    assert_int_equal(after, before + 1);
    const hws_gpu_spec *h = hws_gpu_catalog_find("NVIDIA H100 80GB HBM3");
    assert_string_equal(h->name, "h100 sxm 80gb");
    assert_true(h->price_usd == 21000 && !hws_known(h->tdp_w)); /* the row is replaced whole */
    assert_string_equal(h->price_kind, "street");
    const hws_gpu_spec *lab = hws_gpu_catalog_find("NVIDIA Lab 1");
    assert_non_null(lab);
    assert_true(lab->mem_bytes == 24e9 && !hws_known(lab->price_usd));
    assert_string_equal(lab->price_kind, "");
    unlink(path);

    path = hws_temp_file("name\tmem_gb\nX\t80\nY\t80GB\n");
    assert_int_equal(hws_gpu_catalog_load(path, &err), HWS_ERR_INPUT);
    char want[160];
    snprintf(want, sizeof want, "%s:3: field 'mem_gb': '80GB' is not a number", path);
    assert_string_equal(err.msg, want);
    unlink(path);
    /* the failed load kept the previous rows */
    assert_non_null(hws_gpu_catalog_find("NVIDIA Lab 1"));
    path = hws_temp_file("name\tvendor\nX\tA vendor name too long\n");
    assert_int_equal(hws_gpu_catalog_load(path, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, ":2: field 'vendor': longer than 15 characters");
    unlink(path);
    assert_int_equal(hws_gpu_catalog_load(NULL, &err), HWS_OK);
    assert_null(hws_gpu_catalog_find("NVIDIA Lab 1"));
    assert_string_equal(hws_gpu_catalog_find("NVIDIA H100 80GB HBM3")->name, "H100 SXM 80GB");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_sane),
        cmocka_unit_test(find_by_nvml_names),
        cmocka_unit_test(user_file_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
