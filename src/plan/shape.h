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
/* Head dimension: the config's, else hidden / heads. */
double hws_shape_head_dim(const hws_model_spec *m);

/* Up to three names closest to arg (edit distance, substrings first), ", "-separated, into buf.
 * rows: count structs of stride bytes, each starting with its name (hws_model_spec, hws_gpu_spec).
 */
void hws_near_names(const char *arg, const void *rows, size_t count, size_t stride, char *buf,
                    size_t n);

#endif
