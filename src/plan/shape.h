/* shape.h - parameter counts of a model's parts (model.c), shared by the memory model. */
#ifndef HWSCOPE_PLAN_SHAPE_H
#define HWSCOPE_PLAN_SHAPE_H

#include "hwscope/model.h"

#include <stddef.h>

/* vocab x hidden: the input embedding (and the output head when untied, once more). */
double hws_shape_embed_params(const hws_model_spec *m);
/* One block with a dense MLP, and one with a mixture of experts counting `experts` routed
 * experts (+ shared experts + router); norms included. */
double hws_shape_dense_block_params(const hws_model_spec *m);
double hws_shape_moe_block_params(const hws_model_spec *m, double experts);
/* Index of the first MoE block (n_layers when the model is dense). */
int hws_shape_first_moe_layer(const hws_model_spec *m);
/* From the first MoE block on, every step-th block is MoE (moe_layer_step; 1 when unknown). */
int hws_shape_moe_step(const hws_model_spec *m);
/* Whether block `layer` is MoE, given the first MoE block and the step: (layer + 1) % step == 0,
 * as transformers' Llama4TextConfig.moe_layers and Qwen's decoder_sparse_step place them. */
int hws_shape_layer_is_moe(int layer, int first_moe, int step);
/* How many blocks are MoE (0 when dense). */
int hws_shape_moe_layers(const hws_model_spec *m);
/* Head dimension: the config's, else hidden / heads. */
double hws_shape_head_dim(const hws_model_spec *m);

/* The FLOPs of one prefill forward's block products (qkv, o, gate+up, down; all blocks, all
 * tp GPUs together) over `rows` tokens at once, each product counted in whole waves of output
 * tiles over `sms` SMs (prefill_waves.c); *flops gets the same products' plain FLOPs. NA (and
 * *flops NA) when the SM count is unknown or the model is not a dense block stack (MoE, MLA). */
double hws_prefill_wave_flops(const hws_model_spec *m, double rows, double sms, int tp,
                              double *flops);

/* Up to three names closest to arg (edit distance, substrings first), ", "-separated, into buf.
 * rows: count structs of stride bytes, each starting with its name (hws_model_spec, hws_gpu_spec).
 */
void hws_near_names(const char *arg, const void *rows, size_t count, size_t stride, char *buf,
                    size_t n);

#endif
