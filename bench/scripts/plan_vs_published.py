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
XD23 = ("XiongjieDai/GPU-Benchmarks-on-LLM-Inference README, llama.cpp on RunPod, Dec 2023 "
        "(Llama-2 overview tables; 'A100 80GB' read as the PCIe card)")
JM = ("johnmusgrave.com/p/vllm-throughput-latency-sweep-on: vLLM 0.23.0 bench serve, 1024 in / "
      "128 out, concurrency 1 (about 75 tokens/s)")
MR = ("mushfiqrahman.dev/?p=1668: vLLM bench serve, Mistral-7B-Instruct-v0.3 (v0.1's shapes, "
      "vocab 32768), 256 in / 128 out, output tokens/s at max concurrency 4 and 8")

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
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "A100 PCIe 80GB", "tg128", 136.24, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "A100 PCIe 80GB", "pp512", 3443.98, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "H100 PCIe", "tg128", 133.77, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "H100 PCIe", "pp512", 4868.59, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "RTX A6000", "tg128", 111.57, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "RTX A6000", "pp512", 2979.12, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "RTX 6000 Ada", "tg128", 127.45, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "RTX 6000 Ada", "pp512", 3911.18, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "RTX 4090", "tg128", 149.37, XD23),
    ("llama.cpp", "Llama-2-7B", ["--quant", "Q4_0"], "RTX 4090", "pp512", 5531.19, XD23),
    ("vllm", "Llama-3.1-8B", [], "A100 SXM 40GB", "decode, 1024 in", 75.0, JM),
    ("vllm", "Mistral-7B-v0.1", [], "RTX 4090", "serve c4 256/128", 210.0, MR),
    ("vllm", "Mistral-7B-v0.1", [], "RTX 4090", "serve c8 256/128", 377.0, MR),
    ("transformers", "Llama-3.2-1B", [], "H100 SXM 80GB", "tg128 after pp512", 14.27, H100),
    ("transformers", "Llama-3.2-1B", [], "H100 SXM 80GB", "pp512", 512 / 0.02138, H100),
    ("transformers", "Qwen2.5-7B", [], "H100 SXM 80GB", "tg128 after pp512", 10.4, H100),
    ("transformers", "Qwen2.5-7B", [], "H100 SXM 80GB", "pp512", 512 / 0.03664, H100),
]


def predict(hwscope, runtime, model, weights, gpus, test):
    """The prediction for one published test: llama-bench's tg512 (512 tokens from an empty
    cache) and pp512, a decode after a long prompt, or vLLM's output tokens/s at a concurrency
    (each request: its share of prefill, then 128 tokens; batch = concurrency)."""
    cmd = [hwscope, "plan", model, *weights, "--gpus", gpus, "--runtime", runtime,
           "--ram", "256"]
    gen = 128
    if test == "tg512":
        cmd += ["--ctx", "4096", "--prompt", "512", "--depth", "192"]
    elif test == "tg128":
        cmd += ["--ctx", "4096", "--prompt", "512", "--depth", "1"]
    elif test.startswith("serve"):
        conc, io = test.split()[1:3]
        prompt, gen = (int(x) for x in io.split("/"))
        cmd += ["--ctx", "4096", "--prompt", str(prompt), "--batch", conc[1:]]
    elif test.startswith("decode"):
        cmd += ["--ctx", "4096", "--prompt", test.split()[1]]
    else:
        cmd += ["--ctx", "4096", "--prompt", "512"]
    out = subprocess.run(cmd + ["--json"], check=True, capture_output=True, text=True).stdout
    p = json.loads(out)["prediction"]
    if test.startswith("pp"):
        value = p["prefill_tokens_per_s"]
    elif test.startswith("serve"):
        batch = float(test.split()[1][1:])
        value = batch * gen / (p["ttft_ms"] / 1e3 + gen * p["tpot_ms"] / 1e3)
    else:
        value = p["decode_tokens_per_s"]
    return value, " ".join(c if " " not in c else f'"{c}"' for c in cmd[1:])


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
