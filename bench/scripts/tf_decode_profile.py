#!/usr/bin/env python3
"""tf_decode_profile.py - where a transformers decode step spends its time, per shape: random bf16
weights from llm_vs_peers.py's shapes (SDPA, default cache), a prompt, then N greedy tokens under
torch.profiler; prints the step time and the top CUDA kernels and CPU ops by total time. Written
for the Qwen2.5-1.5B shape, which decodes at ~30 tokens/s where every other shape of its size
runs 2x faster on the same host (bench/results/llm-peers-h200-2026-12-06-s3/).

usage (GPU machine): tf_decode_profile.py SHAPE[,SHAPE...] [--prompt 512] [--gen 16] [--top 12]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llm_vs_peers as peers  # noqa: E402 - the shapes


def profile(name, prompt, gen, top):
    import torch
    from torch.profiler import ProfilerActivity
    from transformers import AutoConfig, AutoModelForCausalLM

    d = peers.config_dict(name)
    cfg = AutoConfig.for_model(d.pop("model_type"), **d)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
    ids = torch.randint(100, 1000, (1, prompt), device="cuda")
    kw = dict(do_sample=False, pad_token_id=0, eos_token_id=None)
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=4, min_new_tokens=4, **kw)  # warm-up
        torch.cuda.synchronize()
        t = time.perf_counter()
        model.generate(ids, max_new_tokens=1 + gen, min_new_tokens=1 + gen, **kw)
        torch.cuda.synchronize()
        whole = time.perf_counter() - t
        with torch.profiler.profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
            model.generate(ids, max_new_tokens=1 + gen, min_new_tokens=1 + gen, **kw)
            torch.cuda.synchronize()
    print("== %s: %d layers, attn %s, generate(1 + %d) %.1f ms" %
          (name, cfg.num_hidden_layers, getattr(model.config, "_attn_implementation", None), gen,
           whole * 1e3))
    print(p.key_averages().table(sort_by="cuda_time_total", row_limit=top, max_name_column_width=60))
    print(p.key_averages().table(sort_by="cpu_time_total", row_limit=top, max_name_column_width=60))
    del model
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shapes")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--gen", type=int, default=16)
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    for name in a.shapes.split(","):
        profile(name, a.prompt, a.gen, a.top)


if __name__ == "__main__":
    main()
