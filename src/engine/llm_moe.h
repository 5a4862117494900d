/* llm_moe.h - the routing of a mixture-of-experts layer, written once for the host (C) and the
 * device (CUDA): the k best of n router logits and their weights, as Mixtral routes (softmax over
 * all experts, the top k kept and renormalised to sum 1 = a softmax over the k chosen logits). */
#ifndef HWSCOPE_ENGINE_LLM_MOE_H
#define HWSCOPE_ENGINE_LLM_MOE_H

#include "engine/llm_quant.h"

#define HWS_LLM_MAX_EXPERTS 256

/* ids[0..k-1]: the experts of the k largest logits, best first, ties to the lower index (NaN
 * counts as -infinity); weights[j] = exp(logit[ids[j]] - best) / sum over the k. 1 <= k <= n. */
HWS_HD void hws_llm_route_row(const float *logits, int n, int k, int32_t *ids, float *weights) {
    float prev = INFINITY;
    int prev_id = -1;
    for (int j = 0; j < k; j++) { /* the best after (prev, prev_id) in (value desc, index asc) */
        int best = -1;
        float bv = -INFINITY;
        for (int e = 0; e < n; e++) {
            float v = logits[e] == logits[e] ? logits[e] : -INFINITY;
            int after = v < prev || (v == prev && e > prev_id);
            if (after && (best < 0 || v > bv)) {
                best = e;
                bv = v;
            }
        }
        ids[j] = best;
        weights[j] = bv;
        prev = bv;
        prev_id = best;
    }
    float top = weights[0], sum = 0.0f;
    for (int j = 0; j < k; j++) {
        weights[j] = top == -INFINITY ? 1.0f : expf(weights[j] - top);
        sum += weights[j];
    }
    for (int j = 0; j < k; j++)
        weights[j] /= sum;
}

#endif
