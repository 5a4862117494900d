/* gpu_catalog.c - the built-in GPU catalog (data/gpus.tsv) plus a user's rows on top, and lookup
 * by the names NVML, ROCm and people use. */
#include "hwscope/catalog.h"
#include "format/tsv.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

extern const char hws_data_gpus_tsv[];
extern const unsigned long hws_data_gpus_tsv_len;

#define S(member, column, help) HWS_COL_STR(hws_gpu_spec, member, column, help)
#define N(member, column, unit_size, unit, help)                                                   \
    HWS_COL_NUM(hws_gpu_spec, member, column, unit_size, unit, help)

/* The field table of a catalog GPU: the columns of data/gpus.tsv. */
static const hws_field gpu_fields[] = {
    S(name, "name", "catalog name"),
    S(aliases, "aliases", "other names, ';'-separated, NVML's first"),
    S(vendor, "vendor", "NVIDIA, AMD, Intel, Apple"),
    S(segment, "segment", "datacenter, workstation, consumer, apple"),
    N(mem_bytes, "mem_gb", 1e9, "GB", "memory as the vendor states it"),
    S(mem_type, "mem_type", "HBM3, GDDR6X, LPDDR5X ..."),
    N(mem_bw_gbps, "mem_bw_gbps", 1, "GB/s", "memory bandwidth"),
    N(fp32_tflops, "fp32_tflops", 1, "TFLOP/s", "FP32, non-tensor"),
    N(tf32_tflops, "tf32_tflops", 1, "TFLOP/s", "TF32 tensor, dense"),
    N(fp16_tflops, "fp16_tflops", 1, "TFLOP/s", "FP16 tensor, dense, FP32 accumulate"),
    N(bf16_tflops, "bf16_tflops", 1, "TFLOP/s", "BF16 tensor, dense"),
    N(fp8_tflops, "fp8_tflops", 1, "TFLOP/s", "FP8 tensor, dense"),
    N(int8_tops, "int8_tops", 1, "TOPS", "INT8 tensor, dense"),
    N(fp4_tflops, "fp4_tflops", 1, "TFLOP/s", "FP4 tensor, dense"),
    N(sparsity_factor, "sparsity_factor", 1, "", "sparse / dense tensor rate (2 for 2:4)"),
    N(tdp_w, "tdp_w", 1, "W", "board or module power"),
    S(interconnect, "interconnect", "GPU-to-GPU link"),
    N(interconnect_gbps, "interconnect_gbps", 1, "GB/s", "link bandwidth per GPU, both ways"),
    N(pcie_gen, "pcie_gen", 1, "", "PCIe generation"),
    N(launch_year, "launch_year", 1, "", "year of launch"),
    N(price_usd, "price_usd", 1, "USD", "street or list price"),
    S(price_kind, "price_kind", "street, list or msrp"),
    S(price_date, "price_date", "YYYY-MM of the price"),
    N(cloud_usd_per_hour, "cloud_usd_per_hour", 1, "USD/h", "on-demand price per GPU-hour"),
    S(source, "source", "where the figures come from"),
};

const hws_field_table hws_gpu_spec_table = HWS_FIELD_TABLE(hws_gpu_spec, gpu_fields);

static hws_tsv_catalog catalog = {
    &hws_gpu_spec_table, hws_data_gpus_tsv, &hws_data_gpus_tsv_len, "data/gpus.tsv", {0}, false};

hws_status hws_gpu_catalog_load(const char *user_path, hws_error *err) {
    return hws_tsv_catalog_load(&catalog, user_path, err);
}

const hws_gpu_spec *hws_gpu_catalog(size_t *count) {
    return hws_tsv_catalog_rows(&catalog, count);
}

/* Lower-case letters and digits of s[0..n), without the vendor words that some tools print and
 * others leave out ("NVIDIA GeForce RTX 4090" and "RTX 4090" both give "rtx4090"). */
static void normalise(const char *s, size_t n, char *out, size_t cap) {
    static const char *const noise[] = {"nvidia", "geforce", "tesla", "amd", "instinct", "intel"};
    size_t len = 0;
    for (size_t i = 0; i < n && len + 1 < cap; i++)
        if (isalnum((unsigned char)s[i]))
            out[len++] = (char)tolower((unsigned char)s[i]);
    out[len] = '\0';
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < sizeof noise / sizeof *noise; i++) {
            size_t k = strlen(noise[i]);
            if (len > k && memcmp(out, noise[i], k) == 0) {
                len -= k;
                memmove(out, out + k, len + 1);
                again = true;
            }
        }
    }
}

/* Whether want matches the name or one of the ';'-separated aliases; exact (case-insensitive)
 * when loose is false, else after normalise(). */
static bool gpu_matches(const hws_gpu_spec *g, const char *want, bool loose) {
    char a[160], b[160];
    if (loose)
        normalise(want, strlen(want), a, sizeof a);
    const char *names[2] = {g->name, g->aliases};
    for (int k = 0; k < 2; k++) {
        for (const char *p = names[k]; *p != '\0';) {
            size_t n = k == 0 ? strlen(p) : strcspn(p, ";");
            if (!loose && n == strlen(want) && strncasecmp(p, want, n) == 0)
                return true;
            if (loose) {
                normalise(p, n, b, sizeof b);
                if (b[0] != '\0' && strcmp(a, b) == 0)
                    return true;
            }
            p += n;
            p += *p == ';';
        }
    }
    return false;
}

const hws_gpu_spec *hws_gpu_catalog_find(const char *name) {
    size_t count;
    const hws_gpu_spec *rows = hws_gpu_catalog(&count);
    if (name == NULL || name[0] == '\0')
        return NULL;
    for (int loose = 0; loose < 2; loose++)
        for (size_t i = 0; i < count; i++)
            if (gpu_matches(&rows[i], name, loose))
                return &rows[i];
    return NULL;
}
