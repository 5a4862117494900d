/* test_att_split.c - how the CUDA engine's decode attention cuts a row's keys into blocks
 * (src/engine/llm_att_split.h), checked here without a GPU: the shared memory of a block against
 * its layout, how a group's query heads split over blocks, the smallest split and its classes
 * for short and long contexts, the class a depth takes, and that the last block can always merge
 * a row's blocks at the smallest split. */
#include "hws_test.h"

#include "engine/llm_att_split.h"

#include <stdint.h>

static hws_llm_shape shape_of(const char *model) {
    hws_llm_shape s;
    hws_llm_shape_of(model, &s);
    return s;
}

/* Llama-3.1-8B (head_dim 128, 4 query heads a key/value head, 2 a block): scores, then keys
 * and values (their space reused for the 8 warps' partial outputs) */
static void test_smem_layout(void **state) {
    (void)state;
    hws_llm_shape s = shape_of("Llama-3.1-8B");
    assert_int_equal(s.head_dim, 128);
    assert_int_equal(s.n_heads / s.n_kv_heads, 4);
    assert_int_equal(HWS_ATT_HEADS, 2);
    assert_int_equal(hws_att_block_heads(&s), 2);
    /* 32 keys: the keys and values (16 KiB) hold the partial outputs (8 KiB) */
    assert_int_equal(hws_att_smem_bytes(&s, 32), 2 * 32 * 4 + 2 * 32 * 128 * 2);
    assert_int_equal(hws_att_smem_bytes(&s, 64), 2 * 64 * 4 + 2 * 64 * 128 * 2);
    /* 32 query heads on one key/value head: the same blocks of 2 heads */
    hws_llm_shape wide = s;
    wide.n_kv_heads = 1;
    assert_int_equal(hws_att_smem_bytes(&wide, 32), hws_att_smem_bytes(&s, 32));
    /* one query head a key/value head: a block of one */
    hws_llm_shape mha = s;
    mha.n_kv_heads = mha.n_heads;
    assert_int_equal(hws_att_smem_bytes(&mha, 32), 1 * 32 * 4 + 2 * 32 * 128 * 2);
}

/* A key/value head's query heads over blocks of at most HWS_ATT_HEADS, as even as can be */
static void test_head_parts(void **state) {
    (void)state;
    hws_llm_shape s = shape_of("Llama-3.1-8B");
    const int groups[] = {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 32};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        s.n_heads = groups[i] * s.n_kv_heads;
        int parts = hws_att_head_parts(&s), heads = hws_att_block_heads(&s);
        assert_true(heads <= HWS_ATT_HEADS && heads >= 1);
        assert_true(parts * heads >= groups[i]);           /* every head has a block */
        assert_true((parts - 1) * heads < groups[i]);      /* and every block a head */
        assert_true(parts == 1 || heads == HWS_ATT_HEADS); /* no needless part */
    }
    s.n_heads = 7 * s.n_kv_heads; /* Qwen2.5-7B: 2 + 2 + 2 + 1 */
    assert_int_equal(hws_att_head_parts(&s), 4);
    assert_int_equal(hws_att_block_heads(&s), 2);
    s.n_heads = 1 * s.n_kv_heads;
    assert_int_equal(hws_att_head_parts(&s), 1);
    assert_int_equal(hws_att_block_heads(&s), 1);
}

static void test_split_and_classes(void **state) {
    (void)state;
    hws_llm_shape s = shape_of("Llama-3.1-8B");
    int classes = -1;
    /* ordinary contexts: 32 keys, then 64 and 128 (256 would pass 100 KiB) */
    assert_int_equal(hws_att_split_small(&s, 4096, &classes), 32);
    assert_int_equal(classes, 3);
    assert_true(hws_att_smem_bytes(&s, 128) <= HWS_ATT_SMEM_MAX);
    assert_true(hws_att_smem_bytes(&s, 256) > HWS_ATT_SMEM_MAX);
    assert_int_equal(hws_att_split_small(&s, 1, &classes), 32);
    /* 128K tokens: 128 keys, so that the 1024 blocks of a row can still be merged */
    assert_int_equal(hws_att_split_small(&s, 131072, &classes), 128);
    assert_int_equal(classes, 1);
    assert_true(hws_att_merge_fits(&s, 131072, 128));
    assert_false(hws_att_merge_fits(&s, 131072, 64));
    /* every context, several shapes: the smallest split is a multiple of 32 the merge takes */
    const char *models[] = {"Llama-3.1-8B", "Qwen2.5-1.5B", "Llama-3.2-1B", "Qwen2.5-14B"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        hws_llm_shape m = shape_of(models[i]);
        for (int ctx = 1; ctx <= (1 << 20); ctx = ctx * 3 + 7) {
            int split = hws_att_split_small(&m, ctx, &classes);
            assert_int_equal(split % 32, 0);
            assert_true(split >= 32);
            assert_true(hws_att_merge_fits(&m, ctx, split));
            assert_true(classes >= 0 && classes <= HWS_ATT_CLASSES);
            for (int k = 0; k < classes; k++)
                assert_true(hws_att_smem_bytes(&m, split << k) <= HWS_ATT_SMEM_MAX);
            if (classes < HWS_ATT_CLASSES)
                assert_true(hws_att_smem_bytes(&m, split << classes) > HWS_ATT_SMEM_MAX);
        }
    }
}

/* The class of a depth: the smallest split with at most HWS_ATT_DECODE_BLOCKS blocks */
static void test_class_by_depth(void **state) {
    (void)state;
    assert_int_equal(hws_att_split_class(32, 3, 0), 0);
    assert_int_equal(hws_att_split_class(32, 3, 540), 0);    /* 17 blocks of 32 */
    assert_int_equal(hws_att_split_class(32, 3, 1535), 0);   /* 48 blocks of 32 */
    assert_int_equal(hws_att_split_class(32, 3, 1536), 1);   /* 49 of 32: 25 of 64 */
    assert_int_equal(hws_att_split_class(32, 3, 3000), 1);   /* 47 blocks of 64 */
    assert_int_equal(hws_att_split_class(32, 3, 6000), 2);   /* 47 blocks of 128 */
    assert_int_equal(hws_att_split_class(32, 3, 100000), 2); /* the largest there is */
    assert_int_equal(hws_att_split_class(128, 1, 100000), 0);
    for (int pos = 0; pos < 20000; pos += 37) {
        int k = hws_att_split_class(32, 3, pos), split = 32 << k;
        int blocks = pos / split + 1;
        assert_true(blocks <= HWS_ATT_DECODE_BLOCKS || k == 2);
        if (k > 0) /* a smaller split would have been too many blocks */
            assert_true(pos / (split / 2) + 1 > HWS_ATT_DECODE_BLOCKS);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smem_layout),
        cmocka_unit_test(test_head_parts),
        cmocka_unit_test(test_split_and_classes),
        cmocka_unit_test(test_class_by_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
