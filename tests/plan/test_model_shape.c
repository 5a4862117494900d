/* test_model_shape.c - one validation of a model shape for every reader: the check itself over
 * generated shapes (against the rules written out again here), and each reader (config.json,
 * GGUF built in memory, the user model TSV) refusing the same faults, each naming its own key;
 * config.json's duplicate keys (the last wins), trailing documents, and GGUF byte counts that
 * would overflow. */
#include "hws_test.h"

#include "hwscope/gguf.h"
#include "hwscope/model.h"
#include "format/model_readers.h"
#include "util/units.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The rules, stated independently of model.c: true when m is consistent. */
static bool rules_hold(const hws_model_spec *m) {
    if (m->n_layers < 1 || m->n_layers > HWS_MAX_LAYERS || m->n_heads < 1 || m->n_kv_heads < 1 ||
        m->hidden_size < 1)
        return false;
    if (m->n_kv_heads > m->n_heads || (int)m->n_heads % (int)m->n_kv_heads != 0)
        return false;
    if (hws_known(m->n_experts_active) &&
        m->n_experts_active > (hws_known(m->n_experts) ? m->n_experts : 0))
        return false;
    if (hws_known(m->n_dense_layers) && m->n_dense_layers > m->n_layers)
        return false;
    return true;
}

static void property_shape_check(void **state) {
    (void)state;
    srand(5);
    int refused = 0;
    for (int i = 0; i < 20000; i++) {
        hws_model_spec m;
        hws_model_spec_blank(&m);
        m.hidden_size = 1 + rand() % 8192;
        m.n_layers = rand() % 8 == 0 ? HWS_MAX_LAYERS + rand() % 3 - 1 : 1 + rand() % 128;
        m.n_heads = 1 + rand() % 64;
        int div = 1 << (rand() % 4);
        m.n_kv_heads = rand() % 4 == 0 ? 1 + rand() % 64 : fmax(1, floor(m.n_heads / div));
        if (rand() % 2) {
            m.n_experts = rand() % 64;
            m.n_experts_active = rand() % 4 == 0 ? 1 + rand() % 16 : fmin(2, m.n_experts);
            if (m.n_experts_active < 1)
                m.n_experts_active = HWS_NA;
            m.n_dense_layers = rand() % 4 == 0 ? rand() % 130 : 0;
        }
        hws_shape_field field;
        char why[160] = "";
        bool ok = hws_model_shape_check(&m, &field, why, sizeof why);
        assert_int_equal(ok, rules_hold(&m));
        if (!ok) {
            refused++;
            assert_true(field < HWS_SHAPE_FIELDS);
            assert_true(why[0] != '\0');
        }
    }
    assert_true(refused > 1000 && refused < 19000); /* both sides were exercised */
}

/* ---- GGUF written in memory -------------------------------------------------------------- */

typedef struct {
    unsigned char data[4096];
    size_t len;
} gguf_buf;

static void put(gguf_buf *b, const void *p, size_t n) {
    assert_true(b->len + n <= sizeof b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(gguf_buf *b, uint32_t v) {
    put(b, &v, 4);
}

static void put_u64(gguf_buf *b, uint64_t v) {
    put(b, &v, 8);
}

static void put_str(gguf_buf *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}

static void kv_u32(gguf_buf *b, const char *key, uint32_t v) {
    put_str(b, key);
    put_u32(b, 4); /* GGUF_TYPE_UINT32 */
    put_u32(b, v);
}

/* A llama GGUF with no tensors and the given counts (0: key left out). */
static void gguf_llama(gguf_buf *b, uint32_t heads, uint32_t kv, uint32_t experts, uint32_t used,
                       uint32_t dense) {
    uint32_t n_kv = 4 + (kv != 0) + (experts != 0) + (used != 0) + (dense != 0);
    b->len = 0;
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u64(b, 0);
    put_u64(b, n_kv);
    put_str(b, "general.architecture");
    put_u32(b, 8); /* GGUF_TYPE_STRING */
    put_str(b, "llama");
    kv_u32(b, "llama.embedding_length", 256);
    kv_u32(b, "llama.block_count", 4);
    kv_u32(b, "llama.attention.head_count", heads);
    if (kv != 0)
        kv_u32(b, "llama.attention.head_count_kv", kv);
    if (experts != 0)
        kv_u32(b, "llama.expert_count", experts);
    if (used != 0)
        kv_u32(b, "llama.expert_used_count", used);
    if (dense != 0)
        kv_u32(b, "llama.leading_dense_block_count", dense);
}

static hws_status gguf_model(const gguf_buf *b, hws_model_spec *m, hws_error *err) {
    hws_gguf *g;
    hws_status st = hws_gguf_parse(b->data, b->len, "mem.gguf", &g, err);
    if (st != HWS_OK)
        return st;
    st = hws_model_from_gguf_header(g, "mem.gguf", m, err);
    hws_gguf_close(g);
    return st;
}

static void test_gguf_shapes(void **state) {
    (void)state;
    gguf_buf b;
    hws_model_spec m;
    hws_error err = {""};
    gguf_llama(&b, 8, 2, 0, 0, 0);
    assert_int_equal(gguf_model(&b, &m, &err), HWS_OK);
    assert_float_equal(m.n_kv_heads, 2, 0);
    const struct {
        uint32_t heads, kv, experts, used, dense;
        const char *want;
    } bad[] = {
        {8, 16, 0, 0, 0, "key llama.attention.head_count_kv: 16 exceeds the 8 attention heads"},
        {8, 3, 0, 0, 0, "key llama.attention.head_count_kv: 3 does not divide the 8"},
        {8, 8, 4, 6, 0, "key llama.expert_used_count: 6 exceeds the 4 experts"},
        {8, 8, 4, 2, 9, "key llama.leading_dense_block_count: 9 dense blocks exceed the 4"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gguf_llama(&b, bad[i].heads, bad[i].kv, bad[i].experts, bad[i].used, bad[i].dense);
        assert_int_equal(gguf_model(&b, &m, &err), HWS_ERR_INPUT);
        hws_assert_contains(err.msg, "mem.gguf: ");
        hws_assert_contains(err.msg, bad[i].want);
    }
}

/* elements x type size never wraps: every product either is exact or is refused. */
static void property_tensor_bytes_no_wrap(void **state) {
    (void)state;
    srand(3);
    static const int types[] = {HWS_GGML_F32,
                                HWS_GGML_F16,
                                HWS_GGML_Q4_K,
                                HWS_GGML_Q8_0,
                                HWS_GGML_BF16,
                                28 /* F64 */,
                                27 /* I64 */};
    for (int i = 0; i < 20000; i++) {
        uint64_t dims[3];
        for (int d = 0; d < 3; d++)
            dims[d] = (uint64_t)1 << (rand() % 40);
        int type = types[rand() % (int)(sizeof types / sizeof types[0])];
        uint64_t bytes = 0, block_bytes;
        hws_error err;
        uint64_t one[] = {256};
        if (hws_ggml_tensor_bytes(type, one, 1, &block_bytes, &err) != HWS_OK)
            continue;
        hws_status st = hws_ggml_tensor_bytes(type, dims, 3, &bytes, &err);
        unsigned __int128 exact =
            (unsigned __int128)dims[0] * dims[1] * dims[2] * block_bytes / 256;
        if (st == HWS_OK)
            assert_true(exact == bytes && exact <= INT64_MAX);
        else
            assert_true(exact > INT64_MAX || dims[0] % 256 != 0 ||
                        (unsigned __int128)dims[0] * dims[1] * dims[2] > INT64_MAX);
    }
    uint64_t f64[] = {1ull << 61, 4}; /* 2^63 elements fit 63 bits only just; bytes do not */
    uint64_t bytes;
    hws_error err = {""};
    assert_int_equal(hws_ggml_tensor_bytes(28, f64, 2, &bytes, &err), HWS_ERR_INPUT);
    uint64_t f64b[] = {1ull << 60, 2};
    assert_int_equal(hws_ggml_tensor_bytes(28, f64b, 2, &bytes, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "byte count overflows 63 bits");
}

/* ---- config.json ------------------------------------------------------------------------- */

static hws_status hf(const char *text, hws_model_spec *m, hws_error *err) {
    return hws_hf_config_parse(text, strlen(text), "cfg/config.json", m, err);
}

static void test_hf_json_rules(void **state) {
    (void)state;
    hws_model_spec m;
    hws_error err = {""};
    /* the last of a duplicated key wins, as Python's json (and so transformers) */
    assert_int_equal(hf("{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": "
                        "4, \"num_attention_heads\": 8}",
                        &m, &err),
                     HWS_OK);
    assert_float_equal(m.n_heads, 8, 0);
    assert_int_equal(hf("{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": "
                        "4} {\"x\": 1}",
                        &m, &err),
                     HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "byte 70): more after the JSON document");
    assert_int_equal(hf("{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": "
                        "4}garbage",
                        &m, &err),
                     HWS_ERR_INPUT);
    assert_int_equal(hf("{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": "
                        "4} \n\t ",
                        &m, &err),
                     HWS_OK);
    /* an oversize list of dense layers blames that list */
    assert_int_equal(hf("{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": "
                        "4, \"num_experts\": 4, \"num_experts_per_tok\": 2, \"mlp_only_layers\": "
                        "[0, 1, 2]}",
                        &m, &err),
                     HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "key \"mlp_only_layers\": 3 dense blocks exceed the 2 layers");
    assert_int_equal(hf("{\"hidden_size\": 64, \"num_hidden_layers\": 200000, "
                        "\"num_attention_heads\": 4}",
                        &m, &err),
                     HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "key \"num_hidden_layers\": 200000 is not a possible layer count");
}

/* Many duplicated keys cost one sort, not a scan per key (a large input under the test's
 * timeout). */
static void test_hf_many_duplicates(void **state) {
    (void)state;
    size_t n = 200000, cap = n * 32 + 128, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "{\"hidden_size\": 64, \"num_hidden_layers\": 2");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, ", \"num_attention_heads\": %zu", i % 7 + 1);
    snprintf(text + len, cap - len, "}");
    hws_model_spec m;
    hws_error err = {""};
    assert_int_equal(hf(text, &m, &err), HWS_OK);
    assert_float_equal(m.n_heads, (double)((n - 1) % 7 + 1), 0);
    free(text);
}

/* ---- the user model TSV ------------------------------------------------------------------ */

static void test_tsv_shapes(void **state) {
    (void)state;
    const struct {
        const char *row;
        const char *want;
    } bad[] = {
        {"m1\t4096\t32\t32\t64\tn/a\tn/a\tn/a", "field 'n_kv_heads': 64 exceeds the 32 attention"},
        {"m2\t4096\t32\t32\t8\t8\t16\tn/a", "field 'n_experts_active': 16 exceeds the 8 experts"},
        {"m3\t4096\t32\t32\t8\t8\t2\t40", "field 'n_dense_layers': 40 dense blocks exceed the 32"},
        {"m4\t4096\t1000000\t32\t8\tn/a\tn/a\tn/a", "field 'n_layers': 1e+06 is not a possible"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "name\thidden_size\tn_layers\tn_heads\tn_kv_heads\tn_experts\tn_experts_active"
                 "\tn_dense_layers\n%s\n",
                 bad[i].row);
        const char *path = hws_temp_file(text);
        hws_error err = {""};
        assert_int_equal(hws_model_catalog_load(path, &err), HWS_ERR_INPUT);
        hws_assert_contains(err.msg, ":2: ");
        hws_assert_contains(err.msg, bad[i].want);
        unlink(path);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(property_shape_check),          cmocka_unit_test(test_gguf_shapes),
        cmocka_unit_test(property_tensor_bytes_no_wrap), cmocka_unit_test(test_hf_json_rules),
        cmocka_unit_test(test_hf_many_duplicates),       cmocka_unit_test(test_tsv_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
