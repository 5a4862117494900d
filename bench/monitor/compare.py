#!/usr/bin/env python3
"""compare.py - reads the nvidia-smi and hwscope CSV logs that device_compare.py wrote (same
--query-gpu, 1 s apart, same GPU) and prints a Markdown comparison: whether the headers are the
same, and per field the samples paired by nearest timestamp (within 0.6 s), equal values, and the
mean and largest difference of numeric ones.

usage: compare.py NVIDIA_SMI_CSV HWSCOPE_CSV"""
import csv, sys
from datetime import datetime


def load(path):
    with open(path) as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if r]
    return rows[0], rows[1:]


def number(text):
    t = text.split()[0] if text else ""
    try:
        return float(int(t, 16)) if t.startswith("0x") else float(t.lstrip("P"))
    except ValueError:
        return None


def when(text):
    return datetime.strptime(text, "%Y/%m/%d %H:%M:%S.%f").timestamp()


def main():
    smi_head, smi = load(sys.argv[1])
    hws_head, hws = load(sys.argv[2])
    print(f"Headers identical: {'yes' if smi_head == hws_head else 'NO'}\n")
    if smi_head != hws_head:
        for a, b in zip(smi_head, hws_head):
            if a != b:
                print(f"- nvidia-smi `{a}` vs hwscope `{b}`")
        print()
    pairs = []
    for h in hws:
        t = when(h[0])
        best = min(smi, key=lambda s: abs(when(s[0]) - t))
        if abs(when(best[0]) - t) <= 0.6:
            pairs.append((best, h))
    print(f"{len(hws)} hwscope rows, {len(smi)} nvidia-smi rows, {len(pairs)} paired "
          "(nearest timestamp within 0.6 s).\n")
    print("| field | equal | mean abs diff | max abs diff | nvidia-smi range | hwscope range |")
    print("| --- | --- | --- | --- | --- | --- |")
    for i, name in enumerate(smi_head[1:], start=1):
        eq = sum(1 for s, h in pairs if s[i] == h[i])
        nums = [(number(s[i]), number(h[i])) for s, h in pairs]
        nums = [(a, b) for a, b in nums if a is not None and b is not None]
        if nums and name not in ("index",):
            diffs = [abs(a - b) for a, b in nums]
            sa = [a for a, _ in nums]
            sb = [b for _, b in nums]
            print(f"| {name} | {eq}/{len(pairs)} | {sum(diffs) / len(diffs):.3g} | "
                  f"{max(diffs):.3g} | {min(sa):g}..{max(sa):g} | {min(sb):g}..{max(sb):g} |")
        else:
            sample = pairs[0][0][i] if pairs else ""
            print(f"| {name} | {eq}/{len(pairs)} | | | `{sample}` | "
                  f"`{pairs[0][1][i] if pairs else ''}` |")


if __name__ == "__main__":
    main()
