#!/usr/bin/env python3
"""multi_gpu_vs_torch.py - hwscope's multi-GPU figures beside PyTorch's, on every GPU of the
machine (or --world N of them): NCCL all-reduce bus bandwidth from `hwscope bench nccl` beside
torch.distributed.all_reduce (NCCL backend, one process per GPU; target >= 0.98x), all-gather
and reduce-scatter beside all_gather_into_tensor and reduce_scatter_tensor, and each P2P copy
from `hwscope bench p2p` beside a CUDA peer copy in torch (dst.copy_(src) across devices).

PyTorch's side uses hwscope's sizes and method: float32 sum, warm-up, then each run started
together on every rank (stream synchronised, barrier), timed alone with CUDA events, the slowest
rank's time, median; bus bandwidth as nccl-tests computes it (size / time x 2(n-1)/n for
all-reduce, x (n-1)/n for all-gather and reduce-scatter).

With one GPU (world size 1) the algorithm bandwidth is compared (no link is used; the bus
bandwidth is 0 by definition). torch's all_reduce is in place, and NCCL's in-place 1-rank
all-reduce moves no data, while hwscope's is out of place (as nccl-tests' first column): that
row is shown but not judged, and the all-reduce target is judged with 2+ GPUs only; the
out-of-place all-gather and reduce-scatter are comparable at any size. P2P needs two GPUs and
is reported as waived by both.

NCCL_NVLS_ENABLE=0 is set for this process and every child (hwscope, the torch ranks) before
NCCL is loaded. hwscope opens libnccl.so.2, or $HWSCOPE_NCCL_LIB; when unset this script points
it at the NCCL that PyTorch ships (the nvidia-nccl wheel), so both sides run the same library.

usage: multi_gpu_vs_torch.py --hwscope PATH [--out DIR] [--world N] [--quick] [--target 0.98]
"""
import os

os.environ["NCCL_NVLS_ENABLE"] = "0"  # before torch loads NCCL, inherited by every child

import argparse
import datetime
import glob
import json
import socket
import statistics
import subprocess
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

MIB = 1024 * 1024


def torch_nccl_path():
    """The libnccl.so.2 PyTorch loads (from the nvidia-nccl wheel), or None."""
    try:
        import nvidia.nccl  # noqa: F401  (a namespace package: no __file__)
        for base in nvidia.nccl.__path__:
            hits = glob.glob(os.path.join(base, "lib", "libnccl.so*"))
            if hits:
                return sorted(hits)[0]
    except ImportError:
        pass
    return None


def run_hwscope(path, suite, quick):
    cmd = [path, "bench", suite, "--json", "--no-save"] + (["--quick"] if quick else [])
    p = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    sys.stderr.write(p.stderr)
    if p.returncode not in (0, 1):
        raise SystemExit("%s exited %d" % (" ".join(cmd), p.returncode))
    doc = json.loads(p.stdout)
    return doc, {r["key"]: r for r in doc["records"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def coll_once(op, world, x, out):
    if op == "allreduce":
        dist.all_reduce(x)  # in place: PyTorch has no out-of-place all-reduce
    elif op == "allgather":
        dist.all_gather_into_tensor(out, x)
    else:
        dist.reduce_scatter_tensor(out, x)


def coll_rank(rank, world, port, jobs, warmup, reps, out_path):
    """One rank: times each (op, size) of jobs; rank 0 writes {"op.size": {ms, checked}}.

    Sizes are nccl-tests' (and hwscope's): the buffer each rank ends with (all-reduce,
    all-gather) or starts from (reduce-scatter); float32, every rank's input = rank + 1."""
    torch.cuda.set_device(rank)
    dev = torch.device("cuda", rank)
    dist.init_process_group("nccl", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=world, device_id=dev)
    result = {}
    for op, size in jobs:
        n = size // 4 // world * world
        c = n // world
        x = torch.full((c if op == "allgather" else n,), float(rank + 1), dtype=torch.float32,
                       device=dev)
        out = None if op == "allreduce" else torch.empty(
            n if op == "allgather" else c, dtype=torch.float32, device=dev)
        for _ in range(warmup):
            coll_once(op, world, x, out)
        times = []
        for _ in range(reps):
            torch.cuda.synchronize(dev)
            dist.barrier()
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            coll_once(op, world, x, out)
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
        t = torch.tensor(times, dtype=torch.float64, device=dev)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)  # the slowest rank's time of each run
        tri = float(world * (world + 1) // 2)
        if op == "allreduce":  # x was summed in place warmup + reps times
            got, want = x[:1024], tri * float(world) ** (warmup + reps - 1)
        elif op == "allgather":  # chunk j came from rank j
            got = out.view(world, c)[:, 0]
            want = torch.arange(1, world + 1, dtype=torch.float32, device=dev)
        else:
            got, want = out[:1024], tri
        want = want if torch.is_tensor(want) else torch.full_like(got, want)
        result["%s.%d" % (op, size)] = {"ms": t.cpu().tolist(),
                                        "checked": bool(torch.allclose(got, want, rtol=1e-5))}
        del x, out
    if rank == 0:
        with open(out_path, "w") as f:
            json.dump(result, f)
    dist.destroy_process_group()


def torch_collectives(world, jobs, warmup, reps):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "collectives.json")
        mp.spawn(coll_rank, args=(world, free_port(), jobs, warmup, reps, out), nprocs=world,
                 join=True)
        with open(out) as f:
            return json.load(f)


def torch_p2p(a, b, nbytes, warmup, reps):
    """GB/s of dst.copy_(src) from cuda:a to cuda:b, timed on a's stream, median."""
    src = torch.randint(0, 255, (nbytes,), dtype=torch.uint8, device="cuda:%d" % a)
    dst = torch.empty(nbytes, dtype=torch.uint8, device="cuda:%d" % b)
    with torch.cuda.device(a):
        for _ in range(warmup):
            dst.copy_(src, non_blocking=True)
        torch.cuda.synchronize(a)
        times = []
        for _ in range(reps):
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            dst.copy_(src, non_blocking=True)
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
    torch.cuda.synchronize(b)
    assert torch.equal(dst.cpu(), src.cpu()), "peer copy %d->%d arrived wrong" % (a, b)
    return nbytes / (statistics.median(times) / 1e3) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwscope", required=True)
    ap.add_argument("--out", default=".")
    ap.add_argument("--world", type=int, default=torch.cuda.device_count())
    ap.add_argument("--quick", action="store_true", help="hwscope's --quick sizes and repeats")
    ap.add_argument("--target", type=float, default=0.98)
    args = ap.parse_args()
    if not os.environ.get("HWSCOPE_NCCL_LIB") and torch_nccl_path():
        os.environ["HWSCOPE_NCCL_LIB"] = torch_nccl_path()
    if args.world != torch.cuda.device_count():
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(args.world))

    # hwscope first, before this process holds a CUDA context
    nccl_doc, nccl = run_hwscope(args.hwscope, "nccl", args.quick)
    p2p_doc, p2p = run_hwscope(args.hwscope, "p2p", args.quick)
    ops = ("allreduce", "allgather", "reducescatter")
    recs = {}  # (op, size) -> hwscope record
    for op in ops:
        prefix = "gpu.nccl.%s.x%d." % (op, args.world)
        recs.update({(op, int(k[len(prefix):])): r for k, r in nccl.items()
                     if k.startswith(prefix)})
    if not recs:
        why = nccl.get("gpu.nccl", {}).get("reason", "no records")
        raise SystemExit("hwscope bench nccl measured no %d-rank collective: %s" % (args.world, why))
    reps, warmup = (5, 2) if args.quick else (20, 5)
    ref = torch_collectives(args.world, sorted(recs), warmup, reps)
    rows, headline = [], None
    for op, size in sorted(recs):
        r = recs[(op, size)]
        factor = 1.0 if args.world == 1 else (
            2.0 * (args.world - 1) / args.world if op == "allreduce"
            else (args.world - 1) / args.world)
        t_ms = statistics.median(ref["%s.%d" % (op, size)]["ms"])
        theirs = size * factor / (t_ms / 1e3) / 1e9
        ours = r["median"] if r["state"] == "ok" else None
        row = {"key": r["key"], "figure": "busbw" if args.world > 1 else "algbw (1 rank)",
               "unit": "GB/s", "hwscope": ours, "torch": theirs,
               "ratio": ours / theirs if ours else None,
               "torch_checked": ref["%s.%d" % (op, size)]["checked"],
               "hwscope_state": r["state"]}
        if op == "allreduce" and args.world == 1:
            row["note"] = ("not comparable: torch's all_reduce is in place, and NCCL's in-place "
                           "1-rank all-reduce moves no data (hwscope's is out of place)")
        rows.append(row)
        if op == "allreduce":
            headline = row
    pairs = [k for k in p2p if k.count(".") == 2 and k.startswith("gpu.p2p.") and "-" in k]
    for key in sorted(pairs):
        r = p2p[key]
        a, b = (int(x) for x in key.split(".")[2].split("-"))
        theirs = torch_p2p(a, b, int(r["size"]), 3 if not args.quick else 1, reps)
        ours = r["median"] if r["state"] == "ok" else None
        rows.append({"key": key, "figure": "one way", "unit": "GB/s", "hwscope": ours,
                     "torch": theirs, "ratio": ours / theirs if ours else None,
                     "hwscope_state": r["state"], "cause": r.get("cause")})
    if "gpu.p2p" in p2p:
        print("p2p: %s by hwscope: %s; torch: no peer copy with one GPU" % (
            p2p["gpu.p2p"]["state"], p2p["gpu.p2p"]["reason"]))

    print("%-38s %-15s %10s %10s %7s" % ("benchmark", "figure", "hwscope", "torch", "ratio"))
    for row in rows:
        print("%-38s %-15s %10s %10.2f %7s %s" % (
            row["key"], row["figure"], "%.2f" % row["hwscope"] if row["hwscope"] else "n/a",
            row["torch"], "%.3f" % row["ratio"] if row["ratio"] else "n/a",
            "(not comparable)" if row.get("note") else
            "(below target)" if row["ratio"] and row["ratio"] < args.target else ""))
    met = None
    if headline and args.world > 1:
        met = bool(headline["ratio"] and headline["ratio"] >= args.target)
        print("all-reduce at %s B: hwscope / torch = %s (target >= %.2f: %s)" % (
            headline["key"].rsplit(".", 1)[1],
            "%.3f" % headline["ratio"] if headline["ratio"] else "n/a", args.target,
            "met" if met else "missed"))
    else:
        print("all-reduce target not judged with one GPU: %s" % (headline or {}).get("note", ""))
    summary = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "world_size": args.world, "devices": [torch.cuda.get_device_name(i)
                                              for i in range(args.world)],
        "torch": torch.__version__, "torch_nccl": ".".join(map(str, torch.cuda.nccl.version())),
        "hwscope_nccl_lib": os.environ.get("HWSCOPE_NCCL_LIB"),
        "nccl_nvls_enable": os.environ["NCCL_NVLS_ENABLE"], "target": args.target,
        "headline_met": met, "rows": rows,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "hwscope_nccl.json"), "w") as f:
        json.dump(nccl_doc, f, indent=1)
    with open(os.path.join(args.out, "hwscope_p2p.json"), "w") as f:
        json.dump(p2p_doc, f, indent=1)


if __name__ == "__main__":
    main()
