/* test_model_catalog.c - the built-in model catalog parses, is sane, and user files override it
 * or fail with file:line:field. */
#include "hws_test.h"

#include "hwscope/model.h"
#include "hwscope/plan.h"
#include "format/tsv.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Writes text to a temporary file; returns its path (static buffer). */
static void builtin_loads(void **state) {
    (void)state;
    hws_error err = {{0}};
    assert_int_equal(hws_model_catalog_load(NULL, &err), HWS_OK);
    size_t n = 0;
    const hws_model_spec *m = hws_model_catalog(&n);
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        assert_true(m[i].name[0] != '\0');
        assert_true(strncmp(m[i].source, "https://", 8) == 0);
        for (size_t j = 0; j < i; j++)
            assert_true(strcasecmp(m[i].name, m[j].name) != 0);
        /* the shape fields every model has */
        assert_true(m[i].hidden_size > 0 && m[i].n_layers > 0 && m[i].n_heads > 0);
        assert_true(m[i].n_kv_heads >= 1 && m[i].n_kv_heads <= m[i].n_heads);
        assert_true(m[i].head_dim > 0 && m[i].vocab_size > 0 && m[i].max_context > 0);
        assert_true(m[i].intermediate_size > 0 && m[i].params_published > 1e8);
        /* MoE: all expert fields or none */
        bool moe = hws_known(m[i].n_experts);
        assert_int_equal(hws_known(m[i].n_experts_active), moe);
        assert_int_equal(hws_known(m[i].moe_intermediate_size), moe);
        if (moe)
            assert_true(m[i].n_experts_active < m[i].n_experts);
        assert_int_equal(hws_known(m[i].qk_rope_head_dim), hws_known(m[i].kv_lora_rank));
        assert_int_equal(hws_known(m[i].sliding_layers_per_global), hws_known(m[i].sliding_window));
        /* head_dim: the config's, or hidden / heads; MLA models: nope + rope */
        if (hws_known(m[i].kv_lora_rank))
            assert_true(m[i].head_dim == m[i].qk_nope_head_dim + m[i].qk_rope_head_dim);
    }
}

/* Each kind of model the planner must handle is in the catalog. */
static void kinds_represented(void **state) {
    (void)state;
    size_t n = 0;
    const hws_model_spec *m = hws_model_catalog(&n);
    int mha = 0, gqa = 0, mqa = 0, moe = 0, mla = 0, sliding = 0, alternating = 0, nongated = 0;
    for (size_t i = 0; i < n; i++) {
        mha += m[i].n_kv_heads == m[i].n_heads;
        gqa += m[i].n_kv_heads > 1 && m[i].n_kv_heads < m[i].n_heads;
        mqa += m[i].n_kv_heads == 1;
        moe += hws_known(m[i].n_experts);
        mla += hws_known(m[i].kv_lora_rank);
        sliding += hws_known(m[i].sliding_window);
        alternating += m[i].sliding_layers_per_global > 0;
        nongated += !m[i].gated_mlp;
    }
    assert_true(mha > 0 && gqa > 0 && mqa > 0 && moe > 0 && mla > 0);
    assert_true(sliding > 0 && alternating > 0 && nongated > 0);
}

static void known_rows(void **state) {
    (void)state;
    const hws_model_spec *m = hws_model_catalog_find("llama-2-70b");
    assert_non_null(m);
    assert_string_equal(m->name, "Llama-2-70B");
    assert_true(m->n_kv_heads == 8 && m->n_layers == 80 && m->hidden_size == 8192);
    assert_true(m->params_published == 69e9);
    const hws_model_spec *ds = hws_model_catalog_find("deepseek-ai/DeepSeek-V3");
    assert_non_null(ds);
    assert_true(ds->kv_lora_rank == 512 && ds->qk_rope_head_dim == 64);
    assert_true(ds->n_experts == 256 && ds->n_experts_active == 8);
    assert_true(ds->n_shared_experts == 1 && ds->n_dense_layers == 3);
    const hws_model_spec *g = hws_model_catalog_find("google/gemma-3-27b-it");
    assert_non_null(g);
    assert_string_equal(g->name, "Gemma-3-27B");
    assert_true(g->sliding_window == 1024 && g->sliding_layers_per_global == 5);
    assert_non_null(hws_model_catalog_find("meta-llama/Llama-2-7b-chat-hf"));
    assert_non_null(hws_model_catalog_find("Qwen/Qwen2.5-7B-Instruct"));
    assert_null(hws_model_catalog_find("Llama-2-8B"));
    assert_null(hws_model_catalog_find(""));
    assert_null(hws_model_catalog_find(NULL));
}

static void user_file_adds_and_overrides(void **state) {
    (void)state;
    const char *path = hws_temp_file("# mine\n"
                                     "name\thidden_size\tn_layers\tn_heads\tn_kv_heads\tparams_b\n"
                                     "Tiny-1B\t2048\t16\t16\t4\t1.1\n"
                                     "llama-2-7b\t4096\t33\t32\t32\tn/a\n");
    hws_error err = {{0}};
    size_t before = 0, after = 0;
    hws_model_catalog(&before);
    assert_int_equal(hws_model_catalog_load(path, &err), HWS_OK);
    hws_model_catalog(&after);
    assert_int_equal(after, before + 1);
    const hws_model_spec *t = hws_model_catalog_find("Tiny-1B");
    assert_non_null(t);
    assert_true(t->params_published == 1.1e9 && t->n_kv_heads == 4);
    assert_false(hws_known(t->vocab_size)); /* a column the file leaves out is unknown */
    const hws_model_spec *l = hws_model_catalog_find("Llama-2-7B");
    assert_true(l->n_layers == 33 && !hws_known(l->params_published));
    unlink(path);
    assert_int_equal(hws_model_catalog_load(NULL, &err), HWS_OK);
    assert_null(hws_model_catalog_find("Tiny-1B"));
}

/* Each bad file: the status, and the message naming file:line: field. */
static void bad_files(void **state) {
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"name\tn_layers\nA\tabc\n", ":2: field 'n_layers': 'abc' is not a number"},
        {"name\tn_layers\nA\t-3\n", ":2: field 'n_layers': '-3' is negative"},
        {"name\tn_layers\n\nA\t1e999\n", ":3: field 'n_layers': '1e999' is not a number"},
        {"name\tbogus\nA\t1\n", ":1: field 'bogus': unknown column"},
        {"name\tn_layers\tn_layers\n", ":1: field 'n_layers': column appears twice"},
        {"n_layers\n3\n", ":1: field 'name': header has no such column"},
        {"name\tn_layers\tvocab_size\nA\t3\n", ":2: field 'vocab_size': missing"},
        {"name\tn_layers\nA\t3\t4\n", ":2: field 3: the header has only 2 columns"},
        {"name\tgated_mlp\nA\tmaybe\n", ":2: field 'gated_mlp': 'maybe' is not 0 or 1"},
        {"name\tn_layers\n\t3\n", ":2: field 'name': empty"},
        {"name\nA\na\n", ":3: field 'name': 'a' appears twice in the file"},
        {"name\tfamily\nA\tabcdefghijabcdefghijabcdefghijabcdefghij\n",
         ":2: field 'family': longer than 31 characters"},
        {"# only a comment\n", ":1: no header line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = hws_temp_file(cases[i].text);
        hws_error err = {{0}};
        assert_int_equal(hws_model_catalog_load(path, &err), HWS_ERR_INPUT);
        char want[256];
        snprintf(want, sizeof want, "%s%s", path, cases[i].want);
        hws_assert_contains(err.msg, want);
        unlink(path);
    }
    hws_error err = {{0}};
    assert_int_equal(hws_model_catalog_load("/nonexistent/models.tsv", &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "/nonexistent/models.tsv: cannot open");
    /* a failed load keeps the catalog as it was */
    size_t n = 0;
    hws_model_catalog(&n);
    assert_true(n >= 30);
}

/* Catalog rows state no file: the file's byte count is unknown (HWS_NA), not 0; the weight
 * type is only what the checkpoint column states (the format a published checkpoint ships in,
 * like DeepSeek-V3's FP8), else "". */
static void file_facts_unknown(void **state) {
    (void)state;
    size_t n = 0;
    const hws_model_spec *m = hws_model_catalog(&n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_false(hws_known(m[i].file_weight_bytes));
        int experts_only = 0;
        if (hws_checkpoint_format(&m[i], &experts_only) == NULL)
            assert_string_equal(m[i].file_weight_type, "");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_loads), cmocka_unit_test(kinds_represented),
        cmocka_unit_test(known_rows),    cmocka_unit_test(user_file_adds_and_overrides),
        cmocka_unit_test(bad_files),     cmocka_unit_test(file_facts_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
