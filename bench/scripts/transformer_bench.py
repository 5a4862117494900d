#!/usr/bin/env python3
"""transformer_bench.py - PyTorch's nn.Transformer (eager, and torch.compile where it works) and
`hwscope bench transformer` on the same shapes, precisions and CPU threads, side by side, plus
the GPU's measured matrix peak (an 8192^3 product) per precision.

  python3 bench/scripts/transformer_bench.py --hwscope HWSCOPE_CMD --threads 16 --out results.json

The CPU comparison at the guide's shape is interleaved: rounds of hwscope repeats then PyTorch
repeats (A B A B ...) in one window, so host noise hits both alike; median and best of each.
hwscope's rows do PyTorch's work (the general path: real attention at S=1). With --fold,
hwscope's GPU also runs the one-key fold (`--fold`: folded value-and-output maps at S=1), kept
as rows of their own ("hwscope-folded").

HWSCOPE_CMD is the command that runs `hwscope bench transformer` (its arguments follow). Shapes:
the guide's literal call torch.rand(1, 512, 512) with the default sequence-first model (S=1,
N=512) and the batch-first reading (S=512, N=1). Medians of repeats after warm-up; GPU times
with CUDA events.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

import torch

SHAPES = {"guide_seq_first": (1, 512), "batch_first": (512, 1)}  # (S, N), E = 512
DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16,
          "bf16": torch.bfloat16}


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def time_gpu(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        out.append(a.elapsed_time(b))
    return statistics.median(out), out


def time_cpu(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out), out


def matmul_peak(dtype_name):
    n = 8192
    set_tf32(dtype_name == "tf32")
    a = torch.randn(n, n, device="cuda", dtype=DTYPES[dtype_name])
    b = torch.randn(n, n, device="cuda", dtype=DTYPES[dtype_name])
    ms, _ = time_gpu(lambda: torch.mm(a, b), 3, 10)
    return 2 * n ** 3 / (ms * 1e-3) / 1e12


def torch_runs(args, res):
    torch.manual_seed(0)
    with torch.inference_mode():
        for shape, (S, N) in SHAPES.items():
            x = torch.rand(S, N, 512)
            model = torch.nn.Transformer(dropout=0.0).eval()
            torch.set_num_threads(args.threads)
            ms, s = time_cpu(lambda: model(x, x), 2, args.cpu_reps)
            res.append(dict(impl="pytorch-eager", shape=shape, device="cpu", dtype="fp32",
                            threads=args.threads, ms=ms, samples_ms=s))
            print(f"pytorch eager cpu {shape}: {ms:.2f} ms", flush=True)
            for dn, dt in DTYPES.items():
                set_tf32(dn == "tf32")
                m = model.to("cuda", dt)
                xg = x.to("cuda", dt)
                ms, s = time_gpu(lambda: m(xg, xg), 10, args.gpu_reps)
                res.append(dict(impl="pytorch-eager", shape=shape, device="cuda", dtype=dn, ms=ms,
                                samples_ms=s))
                print(f"pytorch eager cuda {dn} {shape}: {ms:.3f} ms", flush=True)
                model = model.float().cpu()


def compile_runs(args, res, t_start):
    x = torch.rand(1, 512, 512)
    for dn in args.compile_dtypes.split(","):
        for mode in args.compile_modes.split(","):
            if time.time() - t_start > args.compile_deadline_s:
                print(f"torch.compile {dn} {mode}: skipped (time budget)", flush=True)
                continue
            try:
                set_tf32(False)
                torch._dynamo.reset()
                model = torch.nn.Transformer(dropout=0.0).eval().to("cuda", DTYPES[dn])
                cm = torch.compile(model, mode=mode)
                xg = x.to("cuda", DTYPES[dn])
                with torch.inference_mode():
                    t0 = time.time()
                    for _ in range(3):
                        cm(xg, xg)
                    compile_s = time.time() - t0
                    ms, s = time_gpu(lambda: cm(xg, xg), 5, args.gpu_reps)
                res.append(dict(impl=f"pytorch-compile-{mode}", shape="guide_seq_first",
                                device="cuda", dtype=dn, ms=ms, samples_ms=s,
                                compile_s=compile_s))
                print(f"torch.compile({mode}) cuda {dn}: {ms:.3f} ms "
                      f"(compiled in {compile_s:.0f} s)", flush=True)
            except Exception as e:  # compile is best effort
                print(f"torch.compile {dn} {mode}: failed: {e!r}"[:300], flush=True)


def hwscope_json(args, extra, env=None):
    """One `hwscope bench transformer --json` run with extra arguments, or None."""
    cmd = shlex.split(args.hwscope) + ["transformer", "--json"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print(f"hwscope {' '.join(extra)}: exit {p.returncode}: {p.stderr[-500:]}", flush=True)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def hwscope_runs(args, res):
    for shape, (S, N) in SHAPES.items():
        doc = hwscope_json(args, ["--profile", "--shape", f"{S},{N},512", "--threads",
                                  str(args.threads), "--reps", str(args.gpu_reps)])
        if not doc:
            continue
        if doc.get("cpu"):
            res.append(dict(impl="hwscope", shape=shape, device="cpu", dtype="fp32",
                            threads=doc["cpu"]["threads"], ms=doc["cpu"]["ms"],
                            samples_ms=doc["cpu"]["samples_ms"], blas=doc["cpu"].get("blas")))
        for g in doc.get("gpu", []):
            if g.get("path", "general") != "general":
                continue
            res.append(dict(impl="hwscope", shape=shape, device="cuda", dtype=g["dtype"],
                            ms=g["ms"], samples_ms=g["samples_ms"], error=g.get("error"),
                            profile=g.get("profile"), graph_lanes=g.get("graph_lanes")))
        print(f"hwscope {shape}: cpu {(doc.get('cpu') or {}).get('ms')} ms; gpu "
              + ", ".join(f"{g['dtype']} {g['ms']}" for g in doc.get("gpu", [])), flush=True)
    if args.fold:
        doc = hwscope_json(args, ["--device", "cuda", "--shape", "1,512,512", "--fold",
                                  "--reps", str(args.gpu_reps)])
        folded = [g for g in (doc or {}).get("gpu", []) if g.get("path") == "folded"]
        for g in folded:
            res.append(dict(impl="hwscope-folded", shape="guide_seq_first", device="cuda",
                            dtype=g["dtype"], ms=g["ms"], samples_ms=g["samples_ms"],
                            error=g.get("error"), graph_lanes=g.get("graph_lanes")))
        print("hwscope folded path gpu: " + ", ".join(
            f"{g['dtype']} {g['ms']}" for g in folded), flush=True)


def cpu_interleaved(args):
    """Rounds of hwscope's CPU repeats, then PyTorch eager's, at the guide's shape (S=1, N=512)
    with the same threads: median and best of every sample of each."""
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    x = torch.rand(1, 512, 512)
    model = torch.nn.Transformer(dropout=0.0).eval()
    h, t = [], []
    with torch.inference_mode():
        for _ in range(2):
            model(x, x)
        for r in range(args.cpu_rounds):
            doc = hwscope_json(args, ["--device", "cpu", "--shape", "1,512,512", "--threads",
                                      str(args.threads), "--reps", str(args.cpu_round_reps),
                                      "--warmup", "1"])
            if doc and doc.get("cpu") and doc["cpu"].get("samples_ms"):
                h += doc["cpu"]["samples_ms"]
            t += time_cpu(lambda: model(x, x), 1, args.cpu_round_reps)[1]
            print(f"cpu round {r}: hwscope {h[-args.cpu_round_reps:]} torch "
                  f"{[round(v, 1) for v in t[-args.cpu_round_reps:]]}", flush=True)
    out = dict(threads=args.threads, rounds=args.cpu_rounds, reps_per_round=args.cpu_round_reps,
               hwscope_samples_ms=h, torch_samples_ms=t)
    if h and t:
        out.update(hwscope_median_ms=statistics.median(h), hwscope_best_ms=min(h),
                   torch_median_ms=statistics.median(t), torch_best_ms=min(t),
                   speedup_median=statistics.median(t) / statistics.median(h),
                   speedup_best=min(t) / min(h))
        print("cpu interleaved:", {k: round(v, 2) for k, v in out.items()
                                   if not k.endswith("samples_ms")}, flush=True)
    return out


def summary(res, peaks, flops):
    def get(impl, shape, device, dtype):
        for r in res:
            if (r["impl"], r["shape"], r["device"], r["dtype"]) == (impl, shape, device, dtype):
                return r.get("ms")
        return None

    rows = []
    for shape in SHAPES:
        for device, dts in (("cpu", ["fp32"]), ("cuda", list(DTYPES))):
            for dn in dts:
                h, e = get("hwscope", shape, device, dn), get("pytorch-eager", shape, device, dn)
                c = get("pytorch-compile-reduce-overhead", shape, device, dn)
                hf = get("hwscope-folded", shape, device, dn)
                row = dict(shape=shape, device=device, dtype=dn, hwscope_ms=h, eager_ms=e,
                           compile_ms=c, speedup_vs_eager=(e / h) if h and e else None)
                if hf:
                    row.update(hwscope_folded_ms=hf,
                               folded_speedup_vs_eager=(e / hf) if e else None)
                if device == "cuda" and h:
                    tf = flops[shape] / (h * 1e-3) / 1e12
                    row["hwscope_tflops"] = tf
                    row["fraction_of_matrix_peak"] = tf / peaks[dn] if peaks.get(dn) else None
                    # the folded path performs fewer operations than PyTorch's count: no
                    # fraction of the matrix peak is claimed for it
                rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwscope", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--cpu-reps", type=int, default=5)
    ap.add_argument("--gpu-reps", type=int, default=30)
    ap.add_argument("--compile-deadline-s", type=float, default=120)
    ap.add_argument("--compile-modes", default="reduce-overhead,default")
    ap.add_argument("--compile-dtypes", default="fp16,fp32")
    ap.add_argument("--cpu-rounds", type=int, default=6)
    ap.add_argument("--cpu-round-reps", type=int, default=3)
    ap.add_argument("--fold", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t_start = time.time()
    res = []
    interleaved = cpu_interleaved(args) if args.cpu_rounds > 0 else None
    hwscope_runs(args, res)
    torch_runs(args, res)
    peaks = {dn: matmul_peak(dn) for dn in DTYPES}
    print("matrix peak TFLOP/s (8192^3):", {k: round(v, 1) for k, v in peaks.items()}, flush=True)
    set_tf32(False)
    E, F, L = 512, 2048, 6
    flops = {}
    for shape, (S, N) in SHAPES.items():
        T = S * N
        attn = 4.0 * N * S * S * E
        flops[shape] = L * (2 * T * 4 * E * E + attn + 2 * T * 2 * E * F) + \
            L * (2 * T * 8 * E * E + 2 * attn + 2 * T * 2 * E * F)

    def save():  # after each phase, so a run stopped by a time limit keeps what it measured
        doc = dict(schema="hwscope.bench.transformer.compare/1",
                   date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   gpu=torch.cuda.get_device_name(0), torch=torch.__version__,
                   threads=args.threads, cpu_count=os.cpu_count(), matrix_peak_tflops=peaks,
                   flops=flops, runs=res, summary=summary(res, peaks, flops),
                   cpu_interleaved=interleaved)
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
        return doc

    save()
    compile_runs(args, res, t_start)
    for r in save()["summary"]:
        print(json.dumps(r))


if __name__ == "__main__":
    sys.exit(main())
