#!/usr/bin/env python3
"""bench_vs_torch.py - runs `hwscope bench gpu --json` and PyTorch's equivalents of each
benchmark side by side, in one process tree on one GPU, and prints hwscope / PyTorch per figure.

PyTorch's side uses the same sizes and the same method as hwscope (warm-up, each repeat timed
alone with CUDA events, median): tensor copy_ for device-to-device (bytes read + written),
pinned and pageable host tensors for host<->device, A @ B for FP32 (TF32 off), TF32 (on), FP16
and BF16, torch._scaled_mm for FP8 (e4m3 in, BF16 out) and torch._int_mm for INT8.

usage: bench_vs_torch.py --hwscope PATH [--out DIR] [--device N] [--target 0.98] [--torch-first]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

import torch

MIB = 1024 * 1024


def timed(fn, warmup, reps):
    """Median milliseconds of fn(), each repeat timed alone with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def copies(dev):
    out = {}
    n = 1024 * MIB // 4
    src = torch.rand(n, device=dev) * 2 - 1
    dst = torch.empty_like(src)
    ms = timed(lambda: dst.copy_(src), 3, 20)
    out["gpu.d2d"] = 2 * n * 4 / (ms / 1e3) / 1e9
    del src, dst
    n = 256 * MIB // 4
    gpu = torch.rand(n, device=dev)
    for pinned in (True, False):
        host = torch.rand(n).pin_memory() if pinned else torch.rand(n)
        kind = "pinned" if pinned else "pageable"
        ms = timed(lambda: gpu.copy_(host, non_blocking=pinned), 3, 20)
        out["gpu.h2d." + kind] = n * 4 / (ms / 1e3) / 1e9
        ms = timed(lambda: host.copy_(gpu, non_blocking=pinned), 3, 20)
        out["gpu.d2h." + kind] = n * 4 / (ms / 1e3) / 1e9
    return out


def gemm_fn(dtype, n, dev):
    """A function computing one n x n x n product at dtype, or None when PyTorch lacks it."""
    torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32"
    if dtype in ("fp32", "tf32", "fp16", "bf16"):
        t = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16,
             "bf16": torch.bfloat16}[dtype]
        a = (torch.rand(n, n, device=dev) * 2 - 1).to(t)
        b = (torch.rand(n, n, device=dev) * 2 - 1).to(t)
        return lambda: a @ b
    if dtype == "fp8":
        if not hasattr(torch, "float8_e4m3fn") or torch.cuda.get_device_capability(dev) < (8, 9):
            return None
        a = (torch.rand(n, n, device=dev) * 2 - 1).to(torch.float8_e4m3fn)
        b = (torch.rand(n, n, device=dev) * 2 - 1).to(torch.float8_e4m3fn).t()
        one = torch.tensor(1.0, device=dev)
        return lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    a = torch.randint(-16, 17, (n, n), dtype=torch.int8, device=dev)
    b = torch.randint(-16, 17, (n, n), dtype=torch.int8, device=dev).t()
    return lambda: torch._int_mm(a, b)


def gemms(dev, sizes):
    out = {}
    for dtype in ("fp32", "tf32", "fp16", "bf16", "fp8", "int8"):
        for n in sizes:
            try:
                fn = gemm_fn(dtype, n, dev)
                if fn is None:
                    continue
                ms = timed(fn, 3, 20)
                out["gpu.gemm.%s.%d" % (dtype, n)] = 2.0 * n ** 3 / (ms / 1e3) / 1e12
            except RuntimeError as e:
                print("torch %s %d: %s" % (dtype, n, e), file=sys.stderr)
            torch.cuda.empty_cache()
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def run_hwscope(path, device):
    p = subprocess.run([path, "bench", "gpu", "--json", "--device", str(device)],
                       capture_output=True, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode not in (0, 1):
        raise SystemExit("hwscope bench gpu exited %d" % p.returncode)
    doc = json.loads(p.stdout)
    return doc, {r["key"]: r for r in doc["records"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwscope", required=True)
    ap.add_argument("--out", default=".")
    ap.add_argument("--device", type=int, default=0)
    ap.add_argument("--target", type=float, default=0.98)
    ap.add_argument("--torch-first", action="store_true", help="run PyTorch's side first")
    args = ap.parse_args()
    dev = torch.device("cuda", args.device)
    sizes = [1024, 2048, 4096, 8192]
    if args.torch_first:
        torch.cuda.set_device(dev)
        ref = copies(dev)
        ref.update(gemms(dev, sizes))
        torch.cuda.empty_cache()
        doc, hws = run_hwscope(args.hwscope, args.device)
    else:  # hwscope first, before this process holds a CUDA context on the GPU
        doc, hws = run_hwscope(args.hwscope, args.device)
        torch.cuda.set_device(dev)
        ref = copies(dev)
        ref.update(gemms(dev, sizes))

    rows, worst = [], None
    for key in sorted(ref):
        r = hws.get(key)
        ours = r["median"] if r and r["state"] == "ok" else None
        ratio = ours / ref[key] if ours else None
        if ratio is not None and (worst is None or ratio < worst[1]):
            worst = (key, ratio)
        rows.append({"key": key, "unit": r["unit"] if r else None, "hwscope": ours,
                     "torch": ref[key], "ratio": ratio,
                     "verdict": r["verdict"] if r else None,
                     "check_err": r["check"]["max_rel_err"] if r else None})
    print("%-22s %10s %10s %7s  %s" % ("benchmark", "hwscope", "torch", "ratio", "verdict"))
    for row in rows:
        print("%-22s %10s %10.2f %7s  %s %s" % (
            row["key"], "%.2f" % row["hwscope"] if row["hwscope"] else "n/a", row["torch"],
            "%.3f" % row["ratio"] if row["ratio"] else "n/a", row["verdict"] or "",
            "(below target)" if row["ratio"] and row["ratio"] < args.target else ""))
    if worst:
        print("lowest ratio: %s %.3f (target %.2f)" % (worst[0], worst[1], args.target))
    summary = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "device": torch.cuda.get_device_name(dev), "torch": torch.__version__,
        "cuda": torch.version.cuda, "target": args.target, "torch_first": args.torch_first,
        "rows": rows,
        "hwscope_fingerprint": doc.get("fingerprint"),
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "hwscope_gpu.json"), "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
