/* gpu_catalog.c - the built-in GPU catalog (data/gpus.tsv) plus a user's rows on top, and lookup
 * by the names NVML, ROCm and people use. */
#include "hwscope/catalog.h"
#include "format/tsv.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
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
    N(sm_count, "sm_count", 1, "", "streaming multiprocessors (AMD: compute units)"),
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

/* ---- names as people write them --------------------------------------------------------- */

#define MAX_WORDS 12
#define WORD_LEN  16

typedef struct {
    int n;
    char w[MAX_WORDS][WORD_LEN];
} words;

/* Lower-case alphanumeric words of s[0..len), vendor words dropped, "sxm4/5" as "sxm", a number
 * followed by "gb"/"g" joined ("80 GB", "80G" -> "80gb"). */
static void split_words(const char *s, size_t len, words *out) {
    static const char *const noise[] = {"nvidia",   "geforce", "tesla", "amd",
                                        "instinct", "intel",   "apple"};
    out->n = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && !isalnum((unsigned char)s[i]))
            i++;
        char w[WORD_LEN];
        size_t k = 0;
        while (i < len && isalnum((unsigned char)s[i])) {
            if (k + 1 < sizeof w)
                w[k++] = (char)tolower((unsigned char)s[i]);
            i++;
        }
        w[k] = '\0';
        if (k == 0)
            continue;
        int skip = 0;
        for (size_t j = 0; j < sizeof noise / sizeof *noise; j++)
            skip |= strcmp(w, noise[j]) == 0;
        if (strcmp(w, "sxm4") == 0 || strcmp(w, "sxm5") == 0 || strcmp(w, "sxm2") == 0)
            w[3] = '\0';
        if (k >= 2 && w[k - 1] == 'g' && isdigit((unsigned char)w[k - 2]) && k + 1 < sizeof w) {
            w[k] = 'b';
            w[k + 1] = '\0';
        }
        if ((strcmp(w, "gb") == 0 || strcmp(w, "g") == 0) && out->n > 0) {
            char *prev = out->w[out->n - 1];
            size_t p = strlen(prev);
            if (p > 0 && p + 3 < WORD_LEN && isdigit((unsigned char)prev[p - 1])) {
                memcpy(prev + p, "gb", 3);
                skip = 1;
            }
        }
        if (!skip && out->n < MAX_WORDS)
            snprintf(out->w[out->n++], WORD_LEN, "%s", w);
    }
}

static bool has_word(const words *ws, const char *w) {
    for (int i = 0; i < ws->n; i++)
        if (strcmp(ws->w[i], w) == 0)
            return true;
    return false;
}

static bool all_in(const words *want, const words *have) {
    for (int i = 0; i < want->n; i++)
        if (!has_word(have, want->w[i]))
            return false;
    return want->n > 0;
}

/* Whether every word of want is in the row's name or in one of its names (aliases). */
static bool row_has_words(const hws_gpu_spec *g, const words *want) {
    words name;
    split_words(g->name, strlen(g->name), &name);
    if (all_in(want, &name))
        return true;
    for (const char *p = g->aliases; *p != '\0';) {
        size_t n = strcspn(p, ";");
        words alias;
        split_words(p, n, &alias);
        if (all_in(want, &alias))
            return true;
        p += n;
        p += *p == ';';
    }
    return false;
}

int hws_gpu_catalog_resolve(const char *name, const hws_gpu_spec **out, char *which, size_t n) {
    size_t count;
    const hws_gpu_spec *rows = hws_gpu_catalog(&count);
    words want;
    int matched = 0, complete = 0;
    const hws_gpu_spec *only = NULL, *whole = NULL;
    size_t len = 0;
    *out = NULL;
    if (n > 0)
        which[0] = '\0';
    split_words(name, strlen(name), &want);
    for (size_t i = 0; i < count; i++) {
        if (!row_has_words(&rows[i], &want))
            continue;
        words own;
        split_words(rows[i].name, strlen(rows[i].name), &own);
        if (all_in(&own, &want)) { /* "RTX 3090" is the RTX 3090, not also the 3090 Ti */
            complete++;
            whole = &rows[i];
        }
        matched++;
        only = &rows[i];
        if (len < n)
            len += (size_t)snprintf(which + len, n - len, "%s%s", matched > 1 ? ", " : "",
                                    rows[i].name);
    }
    if (matched == 1)
        *out = only;
    else if (complete == 1)
        *out = whole;
    return matched;
}
