#!/usr/bin/env python3
"""prefill_wave_model.py - tries models of hwscope's prefill time on measured runs: fitted on the
in-sample shapes of llm_vs_peers.py, judged on the out-of-sample ones. The planner's model
(`plan --runtime hwscope`, FLOPs / matrix rate + a cost per block) misses narrow models
(Qwen2.5-1.5B/3B +15 %); counting each product in whole waves of 128x128 output tiles over the
SMs (cuBLASLt cannot fill 132 SMs with a 512 x 1536 output) plus a cost per block fits them.
The planner now counts them so (src/plan/prefill_waves.c): each product at the better of 128 x 128
tiles and 128 x 64 tiles, the narrow tile at a fraction of the square one's rate that this script
fits on the in-sample shapes (least squares, 0.50..1.00 in steps of 0.05: 0.75 on call 6); the
last row is that model. Qwen2.5-14B's o and down products (160 tiles: 2 waves at 61 %) are what
the narrow tile corrects: 128 x 128 tiles alone put it at -10.5 %.

usage: prefill_wave_model.py HWSCOPE_JSON [SMS]   (HWSCOPE_JSON: llm_vs_peers.py measure --peers
hwscope output, e.g. bench/results/llm-h100-2026-12-06-session2/call6-hwscope-shapes.json)"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llm_vs_peers as peers  # noqa: E402 - the shapes and the in/out-of-sample split

ROWS = 512  # the prompt: one prefill chunk


def products(name):
    """(N, K) of a block's four products, and the block count."""
    _, h, f, layers, nh, nkv, hd = peers.SHAPES[name][:7]
    return [((nh + 2 * nkv) * hd, h), (h, nh * hd), (2 * f, h), (h, f)], layers


def flops(name):
    prods, layers = products(name)
    return sum(2 * ROWS * n * k for n, k in prods) * layers


def waves(name, sms, tile=128):
    """Each product's K summed once per wave of tile x tile output tiles over the SMs."""
    prods, layers = products(name)
    return sum(math.ceil(math.ceil(ROWS / tile) * math.ceil(n / tile) / sms) * k
               for n, k in prods) * layers


def waves_two_tiles(name, sms, narrow_rate):
    """The same at the better of 128 x 128 and 128 x 64 tiles, the narrow one at narrow_rate of
    the square one's FLOP rate (in units of a 128 x 128 tile's wave)."""
    prods, layers = products(name)
    rows = math.ceil(ROWS / 128)
    return sum(min(math.ceil(rows * math.ceil(n / 128) / sms),
                   math.ceil(rows * math.ceil(n / 64) / sms) * 0.5 / narrow_rate) * k
               for n, k in prods) * layers


def least_squares(rows, ys):
    """Coefficients c minimising |rows c - ys| (normal equations, Gauss-Jordan)."""
    n = len(rows[0])
    m = [[sum(r[i] * r[j] for r in rows) for j in range(n)] +
         [sum(r[i] * y for r, y in zip(rows, ys))] for i in range(n)]
    for i in range(n):
        p = max(range(i, n), key=lambda r: abs(m[r][i]))
        m[i], m[p] = m[p], m[i]
        for r in range(n):
            if r != i:
                f = m[r][i] / m[i][i]
                m[r] = [a - f * b for a, b in zip(m[r], m[i])]
    return [m[i][n] / m[i][i] for i in range(n)]


def main():
    doc = json.load(open(sys.argv[1]))
    sms = int(sys.argv[2]) if len(sys.argv) > 2 else 132
    measured = {r["shape"]: r["prefill_tokens_per_s"]["mean"] for r in doc["rows"]
                if r.get("runtime") == "hwscope" and r.get("format") == "bf16" and
                "file" not in r and "prefill_tokens_per_s" in r}
    ins = [s for s in peers.IN_SAMPLE if s in measured]
    outs = [s for s in peers.OUT_OF_SAMPLE if s in measured]

    def in_sample_residual(feat):
        coef = least_squares([feat(s) for s in ins], [ROWS / measured[s] for s in ins])
        return sum((sum(c * x for c, x in zip(coef, feat(s))) - ROWS / measured[s]) ** 2
                   for s in ins)

    rate = min((r / 100 for r in range(50, 101, 5)), key=lambda r: in_sample_residual(
        lambda s: [waves_two_tiles(s, sms, r), products(s)[1]]))
    models = {"FLOPs + per block (before)": lambda s: [flops(s), products(s)[1]],
              "waves of 128x128 tiles + per block": lambda s: [waves(s, sms), products(s)[1]],
              "waves of 128x128 or 128x64 tiles (x %.2f, fitted in sample) + per block "
              "(the planner's)" % rate:
              lambda s: [waves_two_tiles(s, sms, rate), products(s)[1]]}
    print("| model | " + " | ".join(ins + outs) + " |")
    print("|---" * (len(ins + outs) + 1) + "|")
    for label, feat in models.items():
        coef = least_squares([feat(s) for s in ins], [ROWS / measured[s] for s in ins])
        errs = []
        for s in ins + outs:
            predicted = ROWS / sum(c * x for c, x in zip(coef, feat(s)))
            errs.append("%+.1f %%" % ((predicted / measured[s] - 1) * 100))
        print("| %s | %s |" % (label, " | ".join(errs)))


if __name__ == "__main__":
    main()
