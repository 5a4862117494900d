/* prefill_waves.c - the matrix products of a prefill counted in whole waves of output tiles over
 * a GPU's SMs: what cuBLASLt spends on a product whose tiles do not fill the GPU.
 *
 * A product (rows x k)(k x n) is cut into output tiles of 128 rows by 128 (or 64) columns; each
 * SM works on one tile at a time, so the tiles run in ceil(tiles / SMs) waves, and the last wave
 * takes as long as a full one however few tiles it has. A 512-token prefill of Qwen2.5-1.5B has
 * 4 x 12 = 48 tiles in its o projection: one wave on an H100's 132 SMs at 36 % of them. Counting
 * FLOPs alone puts that model's prefill 15 % too fast; counting waves fits it
 * (bench/scripts/prefill_wave_model.py on bench/results/llm-h100-2026-12-06-session2/). */
#include "plan/shape.h"
#include "util/units.h"

#include <math.h>
#include <stdbool.h>

#define TILE_ROWS 128.0
/* The narrow tile (128 x 64) against the square one (128 x 128): the fraction of the square
 * tile's FLOP rate it reaches (half the columns share each row of A it loads). 0.75 is the value
 * that fits the four in-sample shapes of llm_vs_peers.py best (least squares of prefill time
 * on waves + a cost per block, for each of 0.50, 0.55, ... 1.00; bf16, 512 tokens, H100 SXM,
 * bench/results/llm-h100-2026-12-06-session2/call6-hwscope-shapes.json). */
#define NARROW_TILE_RATE 0.75

static const struct {
    double cols; /* output columns per tile */
    double rate; /* FLOP rate of a tile against the 128 x 128 one */
} tiles[] = {{128.0, 1.0}, {64.0, NARROW_TILE_RATE}};

/* The FLOPs the GPU spends on one product, each wave of tiles counted as full, at the tile
 * shape that takes least time (cuBLASLt's heuristic picks among several). */
static double product_waves(double rows, double n, double k, double sms) {
    double best = HWS_NA;
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
        double count = ceil(rows / TILE_ROWS) * ceil(n / tiles[i].cols);
        double f = ceil(count / sms) * sms * 2.0 * TILE_ROWS * tiles[i].cols * k / tiles[i].rate;
        if (!hws_known(best) || f < best)
            best = f;
    }
    return best;
}

double hws_prefill_wave_flops(const hws_model_spec *m, double rows, double sms, int tp,
                              double *flops) {
    *flops = HWS_NA;
    bool mla = hws_known(m->kv_lora_rank) && m->kv_lora_rank > 0;
    if (!hws_known(sms) || !(sms >= 1) || !(rows >= 1) || mla || hws_shape_moe_layers(m) > 0 ||
        !hws_known(m->hidden_size) || !hws_known(m->n_heads) || !hws_known(m->n_layers) ||
        !hws_known(m->intermediate_size))
        return HWS_NA;
    double t = tp > 1 ? tp : 1, h = m->hidden_size, hd = hws_shape_head_dim(m);
    double kv = hws_known(m->n_kv_heads) && m->n_kv_heads > 0 ? m->n_kv_heads : m->n_heads;
    double ffn = m->intermediate_size / t;
    /* each GPU of a tensor-parallel group: a share of qkv's and the MLP's up columns, and the
     * same share of the o and down products' depth */
    const double prod[4][2] = {
        {(m->n_heads + 2.0 * kv) * hd / t, h}, /* qkv, one product */
        {h, m->n_heads * hd / t},              /* o */
        {(m->gated_mlp ? 2.0 : 1.0) * ffn, h}, /* gate and up, one product */
        {h, ffn},                              /* down */
    };
    double waves = 0, plain = 0;
    for (int i = 0; i < 4; i++) {
        waves += product_waves(rows, prod[i][0], prod[i][1], sms);
        plain += 2.0 * rows * prod[i][0] * prod[i][1];
    }
    *flops = plain * m->n_layers * t;
    return waves * m->n_layers * t;
}
