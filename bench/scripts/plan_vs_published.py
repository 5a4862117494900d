#!/usr/bin/env python3
"""plan_vs_published.py - hwscope plan's predicted speed against published measurements.

Each row: a published figure (runtime, model, GPUs, test, tokens/s, source), the `hwscope plan`
command that predicts it, the prediction and its error (prediction / published - 1). Writes the
markdown table to stdout; the median absolute error is the last line.
Usage: bench/scripts/plan_vs_published.py build/hwscope > bench/results/plan-vs-published-DATE.md
"""
import json
import statistics
import subprocess
import sys

XD = ("XiongjieDai/GPU-Benchmarks-on-LLM-Inference README, llama.cpp on RunPod, May 2024 "
      "(https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference)")
H100 = "bench/results/plan-vs-accelerate-h100-2026-11-25.md (measured by hwscope on the lent H100)"

# runtime, model (catalog), weights flag, gpus, test, published tokens/s, source
# tg512: 512 tokens generated from an empty cache (--depth 192: cache 256 on average);
# pp512: 512 prompt tokens. Llama-3-8B/70B have Llama-3.1's shapes (catalog Llama-3.1-*).
ROWS = [
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 3070", "tg512", 72.79, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 3070", "pp512", 2402.51, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 3080", "tg512", 109.57, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 3080", "pp512", 3728.86, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 4080", "tg512", 108.15, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 4080", "pp512", 5389.74, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 3090", "tg512", 115.42, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 3090", "pp512", 4030.40, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 4090", "tg512", 130.58, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "RTX 4090", "pp512", 7138.99, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--dtype", "fp16"], "RTX 4080", "tg512", 40.58, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--dtype", "fp16"], "RTX 4080", "pp512", 7246.97, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--dtype", "fp16"], "RTX 3090", "tg512", 47.40, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--dtype", "fp16"], "RTX 3090", "pp512", 4444.65, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--dtype", "fp16"], "RTX 4090", "tg512", 54.84, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--dtype", "fp16"], "RTX 4090", "pp512", 9382.00, XD),
    ("llama.cpp", "Llama-3.1-70B", ["--quant", "Q4_K_M"], "2x RTX 3090", "tg512", 16.57, XD),
    ("llama.cpp", "Llama-3.1-70B", ["--quant", "Q4_K_M"], "2x RTX 4090", "tg512", 19.22, XD),
    ("llama.cpp", "Llama-3.1-70B", ["--quant", "Q4_K_M"], "4x RTX 4090", "tg512", 19.80, XD),
    ("llama.cpp", "Llama-3.1-70B", ["--quant", "Q4_K_M"], "2x RTX 4090", "pp512", 839.43, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "M2 Ultra 192GB", "tg512", 78.81, XD),
    ("llama.cpp", "Llama-3.1-8B", ["--quant", "Q4_K_M"], "M2 Ultra 192GB", "pp512", 994.04, XD),
    ("transformers", "Llama-3.2-1B", [], "H100 SXM 80GB", "tg128 after pp512", 14.27, H100),
    ("transformers", "Llama-3.2-1B", [], "H100 SXM 80GB", "pp512", 512 / 0.02138, H100),
    ("transformers", "Qwen2.5-7B", [], "H100 SXM 80GB", "tg128 after pp512", 10.4, H100),
    ("transformers", "Qwen2.5-7B", [], "H100 SXM 80GB", "pp512", 512 / 0.03664, H100),
]


def predict(hwscope, runtime, model, weights, gpus, test):
    cmd = [hwscope, "plan", model, *weights, "--gpus", gpus, "--runtime", runtime,
           "--ctx", "4096", "--prompt", "512", "--ram", "256"]
    if test == "tg512":
        cmd += ["--depth", "192"]
    out = subprocess.run(cmd + ["--json"], check=True, capture_output=True, text=True).stdout
    p = json.loads(out)["prediction"]
    key = "prefill_tokens_per_s" if test.startswith("pp") else "decode_tokens_per_s"
    return p[key], " ".join(c if " " not in c else f'"{c}"' for c in cmd[1:])


def main():
    hwscope = sys.argv[1] if len(sys.argv) > 1 else "build/hwscope"
    print("| runtime | model | GPUs | test | published tok/s | hwscope tok/s | error | "
          "command | source |")
    print("|---|---|---|---|---|---|---|---|---|")
    errors = []
    for rt, model, weights, gpus, test, pub, src in ROWS:
        pred, cmd = predict(hwscope, rt, model, weights, gpus, test)
        err = pred / pub - 1
        errors.append(abs(err))
        print(f"| {rt} | {model} {' '.join(weights)} | {gpus} | {test} | {pub:.2f} | "
              f"{pred:.2f} | {err:+.1%} | `hwscope {cmd}` | {src} |")
    print(f"\nrows: {len(errors)}; median absolute error: {statistics.median(errors):.1%}; "
          f"within 15%: {sum(e <= 0.15 for e in errors)} of {len(errors)}")


if __name__ == "__main__":
    main()
