/* llm_att_split.h - how the CUDA engine's decode attention cuts each row's keys into blocks
 * (keys per block: the split), in plain C so that the unit tests check it without a GPU. A
 * block of HWS_ATT_WARPS warps stages its keys and values in shared memory; decode takes the
 * smallest of a few doubling splits (depth classes) that leaves a row at most
 * HWS_ATT_DECODE_BLOCKS blocks per key/value head, with a CUDA graph per class. */
#ifndef HWSCOPE_ENGINE_LLM_ATT_SPLIT_H
#define HWSCOPE_ENGINE_LLM_ATT_SPLIT_H

#include "hwscope/llm.h"

#include <stddef.h>
#include <stdint.h>

#define HWS_ATT_WARPS         8           /* warps of a decode attention block */
#define HWS_ATT_SMEM_MAX      (100 << 10) /* its shared memory at most: two blocks an SM */
#define HWS_ATT_CLASSES       4           /* depth classes at most */
#define HWS_ATT_DECODE_BLOCKS 48          /* blocks a row's keys per key/value head, at most */
#define HWS_ATT_HEADS         2           /* query heads of a decode attention block, at most */

/* The blocks that share a key/value head's query heads (at most HWS_ATT_HEADS each, as even as
 * can be: 7 heads take 2 + 2 + 2 + 1). Each part's block copies the same keys and values (the
 * later copies from L2), and its chain (scores, sums, the merge of a row's blocks) is as long as
 * its heads. H100, 2026-12-06, bf16 decode at 576 keys, tokens/s with a block for all the group,
 * for 4 heads at most and for 2 (bench/results/llm-h100-2026-12-06-session7, call 3):
 * Qwen2.5-3B (8 heads a group) 342.6, 362.6, 383.3; Qwen2.5-1.5B (6) 623, 664, 694; Llama-3.1-8B
 * (4) int4 468.7, 468.0, 491.2. One head a block ran as two (call 4: int4 494.6 against 494.8). */
static inline int hws_att_head_parts(const hws_llm_shape *s) {
    return (s->n_heads / s->n_kv_heads + HWS_ATT_HEADS - 1) / HWS_ATT_HEADS;
}

/* The query heads of a block (of the first part: the last may have fewer) */
static inline int hws_att_block_heads(const hws_llm_shape *s) {
    int parts = hws_att_head_parts(s);
    return (s->n_heads / s->n_kv_heads + parts - 1) / parts;
}

/* Shared memory of a block at split keys: the scores [heads][split] floats, then the keys and
 * values [split][head_dim] 16-bit each, whose space later holds the warps' partial outputs
 * [warps][heads][head_dim] floats (heads: hws_att_block_heads). */
static inline size_t hws_att_smem_bytes(const hws_llm_shape *s, int split) {
    size_t heads = (size_t)hws_att_block_heads(s);
    size_t kv = (size_t)2 * split * s->head_dim * sizeof(uint16_t);
    size_t part = (size_t)HWS_ATT_WARPS * heads * s->head_dim * sizeof(float);
    return heads * split * sizeof(float) + (kv > part ? kv : part);
}

/* The smallest split for contexts of max_ctx tokens: as many blocks a row as the last block's
 * merge takes (hws_att_merge_fits), 32 keys or more, a multiple of 32. *classes: how many
 * doublings of it (HWS_ATT_CLASSES at most) keep the shared memory within HWS_ATT_SMEM_MAX;
 * 0 when even the smallest does not (the engine then takes its thread-per-key kernel). */
static inline int hws_att_split_small(const hws_llm_shape *s, int max_ctx, int *classes) {
    int most = HWS_ATT_WARPS * s->head_dim; /* blocks */
    int split = (max_ctx + most - 1) / most;
    split = split < 32 ? 32 : (split + 31) / 32 * 32;
    *classes = 0;
    while (*classes < HWS_ATT_CLASSES &&
           hws_att_smem_bytes(s, split << *classes) <= HWS_ATT_SMEM_MAX)
        ++*classes;
    return split;
}

/* The depth class of decode rows whose last position is max_pos: the smallest split that cuts
 * keys 0..max_pos into at most HWS_ATT_DECODE_BLOCKS blocks, else the largest. On the H100
 * (2026-12-06, Llama-3.1-8B decode): 540 keys ran faster in 17 blocks of 32 than in 9 of 64
 * (bf16 179.5 against 178.6 tokens/s, int4 417 against 397), 3000 keys faster in 47 of 64
 * than in 94 of 32 (166.3 against 161.5). */
static inline int hws_att_split_class(int split_small, int classes, int max_pos) {
    int k = 0;
    while (k + 1 < classes &&
           (max_pos + (split_small << k)) / (split_small << k) > HWS_ATT_DECODE_BLOCKS)
        k++;
    return k;
}

/* Whether the last block of a row can merge its blocks at the smallest split: their weights
 * fill the space of the partial outputs, HWS_ATT_WARPS x head_dim floats a head. */
static inline int hws_att_merge_fits(const hws_llm_shape *s, int max_ctx, int split_small) {
    return (max_ctx + split_small - 1) / split_small <= HWS_ATT_WARPS * s->head_dim;
}

#endif
