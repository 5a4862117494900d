/* test_gguf.c - the GGUF reader: metadata and tensor tables of the fixture files, exact bytes
 * of every ggml type (checked against sizes the fixture script computed independently), the
 * model spec read from a header, bits-per-weight tables, and every error naming file and
 * offset. */
#include "hws_test.h"

#include "hwscope/gguf.h"
#include "hwscope/model.h"
#include "util/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *gguf_path(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/gguf/%s", name);
    return hws_fixture(rel);
}

static hws_gguf *open_fixture(const char *name) {
    hws_gguf *g = NULL;
    hws_error err = {{0}};
    if (hws_gguf_open(gguf_path(name), &g, &err) != HWS_OK)
        fail_msg("%s: %s", name, err.msg);
    return g;
}

/* Every tensor's bytes equal test.expected_bytes (written by make_gguf.py from gguf-py's block
 * formulas), each offset is aligned, and the total is their sum. */
static uint64_t check_tensor_bytes(const hws_gguf *g) {
    const hws_gguf_kv *want = hws_gguf_find(g, "test.expected_bytes");
    assert_non_null(want);
    assert_int_equal(want->array_len, hws_gguf_tensor_count(g));
    uint64_t sum = 0;
    for (size_t i = 0; i < hws_gguf_tensor_count(g); i++) {
        const hws_gguf_tensor *t = hws_gguf_tensor_at(g, i);
        uint64_t expect;
        assert_true(hws_gguf_array_uint(want, i, &expect));
        if (t->bytes != expect)
            fail_msg("%s (%s): %llu bytes, want %llu", t->name, hws_ggml_type_name(t->type),
                     (unsigned long long)t->bytes, (unsigned long long)expect);
        assert_int_equal(t->offset % hws_gguf_alignment(g), 0);
        sum += expect;
    }
    assert_int_equal(hws_gguf_tensor_bytes_total(g), sum);
    assert_int_equal(hws_gguf_data_offset(g) % hws_gguf_alignment(g), 0);
    return sum;
}

static void test_llama_header(void **state) {
    (void)state;
    hws_gguf *g = open_fixture("tiny-llama-q4_k_m.gguf");
    assert_int_equal(hws_gguf_version(g), 3);
    assert_int_equal(hws_gguf_alignment(g), 32); /* default */
    assert_int_equal(hws_gguf_kv_count(g), 24);
    assert_string_equal(hws_gguf_get_str(g, "general.architecture"), "llama");
    assert_null(hws_gguf_get_str(g, "llama.block_count")); /* not a string */
    const hws_gguf_kv *kv = hws_gguf_find(g, "llama.rope.freq_base");
    assert_int_equal(kv->type, HWS_GGUF_FLOAT32);
    assert_true(kv->f == 500000.0);
    kv = hws_gguf_find(g, "llama.attention.head_count_kv");
    assert_int_equal(kv->type, HWS_GGUF_UINT32);
    assert_int_equal(kv->u, 2);
    const char *s;
    uint64_t len;
    kv = hws_gguf_find(g, "tokenizer.ggml.tokens");
    assert_int_equal(kv->array_len, 256);
    assert_true(hws_gguf_array_str(kv, 255, &s, &len));
    assert_int_equal(len, 8);
    assert_memory_equal(s, "<tok255>", 8);
    assert_false(hws_gguf_array_str(kv, 256, &s, &len));

    assert_int_equal(hws_gguf_tensor_count(g), 21);
    const hws_gguf_tensor *t = hws_gguf_tensor_find(g, "blk.1.ffn_down.weight");
    assert_non_null(t);
    assert_int_equal(t->type, HWS_GGML_Q6_K);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->dims[0], 256);
    assert_int_equal(t->dims[1], 256);
    assert_int_equal(t->dims[2], 1);
    assert_int_equal(t->n_elements, 65536);
    assert_int_equal(t->bytes, 65536 / 256 * 210);
    t = hws_gguf_tensor_find(g, "token_embd.weight");
    assert_int_equal(t->type, HWS_GGML_Q4_K);
    assert_int_equal(t->bytes, 256 * 256 / 256 * 144);
    assert_null(hws_gguf_tensor_find(g, "nope"));
    check_tensor_bytes(g);
    hws_gguf_close(g);
}

static void test_every_type_exact_bytes(void **state) {
    (void)state;
    hws_gguf *g = open_fixture("every-type.gguf");
    assert_int_equal(hws_gguf_tensor_count(g), 34);
    check_tensor_bytes(g);
    for (size_t i = 0; i < hws_gguf_tensor_count(g); i++) {
        const hws_gguf_tensor *t = hws_gguf_tensor_at(g, i);
        assert_string_equal(t->name + 2, hws_ggml_type_name(t->type)); /* "t.<TYPE>" */
        assert_int_equal(hws_ggml_type_from_name(t->name + 2), t->type);
    }
    hws_gguf_close(g);
}

static void test_tensor_bytes_function(void **state) {
    (void)state;
    uint64_t bytes;
    hws_error err = {{0}};
    uint64_t square[] = {4096, 4096};
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_Q4_K, square, 2, &bytes, &err), HWS_OK);
    assert_int_equal(bytes, 4096ull * 4096 / 256 * 144);
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_Q6_K, square, 2, &bytes, &err), HWS_OK);
    assert_int_equal(bytes, 4096ull * 4096 / 256 * 210);
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_BF16, square, 2, &bytes, &err), HWS_OK);
    assert_int_equal(bytes, 4096ull * 4096 * 2);
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_NVFP4, square, 2, &bytes, &err), HWS_OK);
    assert_int_equal(bytes, 4096ull * 4096 / 64 * 36);
    uint64_t expert[] = {7168, 2048, 256}; /* DeepSeek-V3 experts of one layer, Q4_K */
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_Q4_K, expert, 3, &bytes, &err), HWS_OK);
    assert_int_equal(bytes, 7168ull * 2048 * 256 / 256 * 144);
    uint64_t ragged[] = {100, 4};
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_Q4_K, ragged, 2, &bytes, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "not a whole number of Q4_K blocks of 256");
    assert_int_equal(hws_ggml_tensor_bytes(4, ragged, 2, &bytes, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "unknown ggml type 4");
    uint64_t huge[] = {1ull << 32, 1ull << 32};
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_F32, huge, 2, &bytes, &err), HWS_ERR_INPUT);
    assert_int_equal(hws_ggml_tensor_bytes(HWS_GGML_F32, square, 5, &bytes, &err), HWS_ERR_INPUT);
}

static void test_bits_per_weight(void **state) {
    (void)state;
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_Q4_K) == 4.5);
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_Q6_K) == 6.5625);
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_Q8_0) == 8.5);
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_F16) == 16);
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_IQ4_XS) == 4.25);
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_MXFP4) == 4.25);
    assert_true(hws_gguf_type_bits_per_weight(HWS_GGML_IQ2_XXS) == 2.0625);
    assert_true(isnan(hws_gguf_type_bits_per_weight(4)));
    assert_true(isnan(hws_gguf_type_bits_per_weight(-1)));
    assert_true(isnan(hws_gguf_type_bits_per_weight(HWS_GGML_TYPE_COUNT)));

    assert_string_equal(hws_gguf_file_type_name(15), "Q4_K_M");
    assert_string_equal(hws_gguf_file_type_name(15 | 1024), "Q4_K_M"); /* "guessed" flag */
    assert_null(hws_gguf_file_type_name(5));
    assert_int_equal(hws_gguf_file_type_from_name("q4_k_m"), 15);
    assert_int_equal(hws_gguf_file_type_from_name("Q4_K"), -1); /* a tensor type, not a file */
    /* Q4_K_M mixes Q4_K (4.5) with Q6_K (6.56) tensors: between the two, near 4.85-4.9 */
    double q4km = hws_gguf_bits_per_weight_by_name("Q4_K_M");
    assert_true(q4km > 4.8 && q4km < 5.0);
    assert_true(hws_gguf_bits_per_weight_by_name("Q4_K") == 4.5);
    assert_true(hws_gguf_bits_per_weight_by_name("bf16") == 16);
    assert_true(isnan(hws_gguf_bits_per_weight_by_name("Q9_Z")));
    assert_true(isnan(hws_gguf_bits_per_weight_by_name(NULL)));
    /* larger k-quant mixes cost more bits */
    const char *ladder[] = {"Q2_K",   "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M",
                            "Q5_K_S", "Q5_K_M", "Q6_K",   "Q8_0",   "F16",    "F32"};
    for (size_t i = 1; i < sizeof ladder / sizeof ladder[0]; i++)
        assert_true(hws_gguf_bits_per_weight_by_name(ladder[i]) >
                    hws_gguf_bits_per_weight_by_name(ladder[i - 1]));
    for (int id = 0; id < 64; id++) {
        const char *name = hws_gguf_file_type_name(id);
        if (name != NULL)
            assert_int_equal(hws_gguf_file_type_from_name(name), id);
    }
}

static void load_model(const char *name, hws_model_spec *m) {
    hws_error err = {{0}};
    if (hws_model_from_gguf(gguf_path(name), m, &err) != HWS_OK)
        fail_msg("%s: %s", name, err.msg);
}

static void test_model_llama(void **state) {
    (void)state;
    hws_model_spec m;
    load_model("tiny-llama-q4_k_m.gguf", &m);
    assert_string_equal(m.name, "Tiny Llama 3");
    assert_string_equal(m.family, "llama");
    hws_assert_contains(m.source, "tiny-llama-q4_k_m.gguf");
    assert_int_equal(m.hidden_size, 256);
    assert_int_equal(m.n_layers, 2);
    assert_int_equal(m.n_heads, 8);
    assert_int_equal(m.n_kv_heads, 2);
    assert_int_equal(m.head_dim, 32);
    assert_int_equal(m.intermediate_size, 256);
    assert_int_equal(m.vocab_size, 256);
    assert_int_equal(m.max_context, 131072);
    assert_int_equal(m.tie_embeddings, 0);
    assert_int_equal(m.gated_mlp, 1);
    assert_string_equal(m.file_weight_type, "Q4_K_M");
    assert_true(isnan(m.n_experts));
    assert_true(isnan(m.kv_lora_rank));
    assert_true(isnan(m.sliding_window));
    hws_gguf *g = open_fixture("tiny-llama-q4_k_m.gguf");
    assert_true(m.file_weight_bytes == (double)check_tensor_bytes(g));
    hws_gguf_close(g);
}

static void test_model_deepseek2_v2_file(void **state) {
    (void)state;
    hws_gguf *g = open_fixture("tiny-deepseek2-v2.gguf");
    assert_int_equal(hws_gguf_version(g), 2);
    assert_int_equal(hws_gguf_alignment(g), 64);
    check_tensor_bytes(g);
    hws_gguf_close(g);
    hws_model_spec m;
    load_model("tiny-deepseek2-v2.gguf", &m);
    assert_string_equal(m.family, "deepseek2");
    assert_int_equal(m.kv_lora_rank, 32);
    assert_int_equal(m.q_lora_rank, 64);
    assert_int_equal(m.qk_rope_head_dim, 64);
    assert_int_equal(m.qk_nope_head_dim, 128);
    assert_int_equal(m.head_dim, 192);
    assert_int_equal(m.v_head_dim, 128);
    assert_int_equal(m.n_experts, 8);
    assert_int_equal(m.n_experts_active, 2);
    assert_int_equal(m.n_shared_experts, 1);
    assert_int_equal(m.moe_intermediate_size, 64);
    assert_int_equal(m.n_dense_layers, 1);
    assert_int_equal(m.intermediate_size, 512);
    assert_int_equal(m.vocab_size, 128);             /* tokenizer.ggml.tokens */
    assert_int_equal(m.tie_embeddings, 1);           /* no output.weight */
    assert_string_equal(m.file_weight_type, "Q8_0"); /* no general.file_type: most bytes */
}

static void test_model_gemma3(void **state) {
    (void)state;
    hws_model_spec m;
    load_model("tiny-gemma3-q8_0.gguf", &m);
    assert_string_equal(m.name, "tiny-gemma3-q8_0"); /* no general.name: the file name */
    assert_int_equal(m.head_dim, 128);               /* key_length, not 256 / 4 */
    assert_int_equal(m.sliding_window, 1024);
    assert_int_equal(m.sliding_layers_per_global, 5);
    assert_int_equal(m.vocab_size, 96); /* token_embd.weight's second dimension */
    assert_string_equal(m.file_weight_type, "Q8_0");
    load_model("tiny.gguf", &m);
    assert_int_equal(m.sliding_window, 16);
    assert_int_equal(m.sliding_layers_per_global, 1); /* pattern [true, false] */
    assert_int_equal(m.n_kv_heads, 4);                /* head_count_kv missing: MHA */
}

/* Llama 4 as llama.cpp writes it: the MoE step in the file, the shared expert only in the tensor
 * table, chunked attention fixed by llama.cpp (8192 tokens, 3 chunked layers per global one). */
static void test_model_llama4(void **state) {
    (void)state;
    hws_model_spec m;
    load_model("tiny-llama4-q8_0.gguf", &m);
    assert_int_equal(m.n_experts, 4);
    assert_int_equal(m.n_shared_experts, 1); /* ffn_up_shexp in the table */
    assert_int_equal(m.moe_layer_step, 2);
    assert_int_equal(m.moe_intermediate_size, 32);
    assert_int_equal(m.intermediate_size, 128);
    assert_int_equal(m.sliding_window, 8192);
    assert_int_equal(m.sliding_layers_per_global, 3);
    load_model("tiny-deepseek2-v2.gguf", &m);
    assert_int_equal(m.n_shared_experts, 1); /* stated by expert_shared_count */
    assert_true(isnan(m.moe_layer_step));
}

static void test_split_model(void **state) {
    (void)state;
    hws_gguf *g1 = open_fixture("tiny-split-00001-of-00002.gguf");
    hws_gguf *g2 = open_fixture("tiny-split-00002-of-00002.gguf");
    uint64_t both = check_tensor_bytes(g1) + check_tensor_bytes(g2);
    assert_int_equal(hws_gguf_tensor_count(g1) + hws_gguf_tensor_count(g2), 4);
    hws_gguf_close(g1);
    hws_gguf_close(g2);
    hws_model_spec m;
    load_model("tiny-split-00001-of-00002.gguf", &m);
    assert_string_equal(m.name, "Tiny Split");
    assert_true(m.file_weight_bytes == (double)both); /* both shards' tensors */

    hws_error err = {{0}};
    const char *second = gguf_path("tiny-split-00002-of-00002.gguf");
    assert_int_equal(hws_model_from_gguf(second, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, second);
    hws_assert_contains(err.msg, "shard 2 of a split model: give the first shard");

    /* the first shard alone: the metadata reads, the total size is unknown */
    char dir[] = "/tmp/hws_splitXXXXXX", cmd[600], path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/'", gguf_path("tiny-split-00001-of-00002.gguf"), dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/tiny-split-00001-of-00002.gguf", dir);
    assert_int_equal(hws_model_from_gguf(path, &m, &err), HWS_OK);
    assert_true(isnan(m.file_weight_bytes));
    assert_int_equal(m.hidden_size, 64);
    /* a broken second shard is an error naming it */
    snprintf(cmd, sizeof cmd, "printf 'GGUF' > '%s/tiny-split-00002-of-00002.gguf'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(hws_model_from_gguf(path, &m, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "tiny-split-00002-of-00002.gguf: offset 4");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct {
    const char *file;
    const char *offset; /* "offset N" expected in the message, or NULL */
    const char *what;
} bad_case;

static const bad_case bad_cases[] = {
    {"bad_magic.gguf", "offset 0:", "not a GGUF file (magic \"GGUX\")"},
    {"version1.gguf", "offset 4:", "GGUF version 1 is not supported"},
    {"version4.gguf", "offset 4:", "GGUF version 4 is not supported"},
    {"big_endian.gguf", "offset 4:", "big-endian"},
    {"short.gguf", "offset 4:", "version needs 4 bytes, the file has 2 left"},
    {"huge_n_kv.gguf", "offset 16:", "key/values cannot fit"},
    {"huge_n_tensors.gguf", "offset 8:", "tensors cannot fit"},
    {"huge_key.gguf", "offset 24:", "key of 1099511627776 bytes runs past the end"},
    {"huge_string.gguf", "offset 48:", "string value of 4611686018427387904 bytes"},
    {"huge_array.gguf", "offset 57:", "array of 1125899906842624 strings runs past"},
    {"huge_u32_array.gguf", "offset 37:", "array of 2305843009213693952 elements"},
    {"nested_array.gguf", "offset 37:", "nested array"},
    {"bad_value_type.gguf", "offset 33:", "unknown value type 13"},
    {"bad_alignment.gguf", "offset 69:", "general.alignment: expected a power of two"},
    {"too_many_dims.gguf", "offset 69:", "tensor w: 5 dimensions"},
    {"bad_tensor_type.gguf", "offset 69:", "tensor w: unknown ggml type 99"},
    {"removed_type.gguf", "offset 69:", "unknown ggml type 4"},
    {"partial_block.gguf", "offset 69:", "not a whole number of Q4_K blocks"},
    {"huge_dims.gguf", "offset 69:", "overflows"},
    {"unaligned_offset.gguf", "offset 69:", "not a multiple of the alignment 32"},
    {"truncated_data.gguf", "offset ", "tensor output.weight: its 272 bytes of data run past"},
    {"truncated_header.gguf", "offset 16:", "7 key/values cannot fit in the 76 bytes left"},
    {"no_arch.gguf", "offset 24:", "general.architecture: missing"},
    {"missing_block_count.gguf", NULL, "key llama.block_count: missing"},
    {"bad_head_count.gguf", "offset ", "key llama.attention.head_count: expected a non-negative"},
};

static void test_bad_files(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "bad/%s", bad_cases[i].file);
        const char *path = gguf_path(rel);
        hws_model_spec m;
        hws_error err = {{0}};
        hws_status st = hws_model_from_gguf(path, &m, &err);
        if (st != HWS_ERR_INPUT)
            fail_msg("%s: status %d, want HWS_ERR_INPUT (%s)", rel, st, err.msg);
        hws_assert_contains(err.msg, path);
        if (bad_cases[i].offset != NULL)
            hws_assert_contains(err.msg, bad_cases[i].offset);
        hws_assert_contains(err.msg, bad_cases[i].what);
        assert_true(isnan(m.hidden_size)); /* nothing half-filled */
    }
}

static void test_open_errors_and_memory(void **state) {
    (void)state;
    hws_gguf *g;
    hws_error err = {{0}};
    assert_int_equal(hws_gguf_open("/nonexistent.gguf", &g, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "/nonexistent.gguf");
    assert_null(g);
    assert_int_equal(hws_gguf_open(hws_fixture("models"), &g, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "not a regular file");
    /* parsing from memory: the whole file; a prefix of it is an error */
    char *text = hws_read_file(gguf_path("tiny.gguf"));
    assert_int_equal(hws_gguf_parse((const uint8_t *)text, 1280, "mem.gguf", &g, &err), HWS_OK);
    assert_int_equal(hws_gguf_tensor_count(g), 2);
    assert_int_equal(hws_gguf_file_size(g), 1280);
    hws_gguf_close(g);
    for (size_t cut = 0; cut < 1264; cut += 7) { /* 1264: the last tensor's end */
        hws_status st = hws_gguf_parse((const uint8_t *)text, cut, "mem.gguf", &g, &err);
        assert_int_equal(st, HWS_ERR_INPUT);
        hws_assert_contains(err.msg, "mem.gguf: offset ");
    }
    free(text);
    hws_gguf_close(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_header),
        cmocka_unit_test(test_every_type_exact_bytes),
        cmocka_unit_test(test_tensor_bytes_function),
        cmocka_unit_test(test_bits_per_weight),
        cmocka_unit_test(test_model_llama),
        cmocka_unit_test(test_model_deepseek2_v2_file),
        cmocka_unit_test(test_model_gemma3),
        cmocka_unit_test(test_model_llama4),
        cmocka_unit_test(test_split_model),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_open_errors_and_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
