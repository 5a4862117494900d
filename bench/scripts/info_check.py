#!/usr/bin/env python3
"""info_check.py - checks `hwscope info --json` against nvidia-smi, pynvml and torch.cuda on a
real GPU, and times `hwscope info` beside `nvidia-smi -q`.

Usage: info_check.py HWSCOPE_BIN OUTDIR
Writes OUTDIR/info.json, info.txt, nvidia-smi-q.txt, check.txt, timing.txt; prints check.txt
and timing.txt. Exit 1 when a field disagrees."""
import json
import os
import statistics
import subprocess
import sys
import time


def run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


def timed(cmd, repeats, env=None):
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=False)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main():
    binary, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    info_run = run([binary, "info", "--json"])
    open(f"{out}/info.json", "w").write(info_run.stdout)
    open(f"{out}/info.txt", "w").write(run([binary, "info"]).stdout)
    smi = run(["nvidia-smi", "-q"]).stdout
    open(f"{out}/nvidia-smi-q.txt", "w").write(smi)
    doc = json.loads(info_run.stdout)
    lines, bad = [], 0

    def check(what, ours, theirs, tol=0.0):
        nonlocal bad
        if isinstance(theirs, (int, float)) and isinstance(ours, (int, float)):
            ok = abs(ours - theirs) <= tol
        else:
            ok = ours == theirs
        bad += not ok
        lines.append(f"{'ok ' if ok else 'BAD'} {what:40s} hwscope={ours!r} peer={theirs!r}")

    import pynvml
    import torch
    pynvml.nvmlInit()
    check("gpu count (torch.cuda.device_count)", doc["gpus"]["count"], torch.cuda.device_count())
    check("cuda available (torch)", doc["gpus"]["cuda_available"], torch.cuda.is_available())
    check("driver version (pynvml)", doc["gpus"]["driver_version"],
          pynvml.nvmlSystemGetDriverVersion())
    for i, d in enumerate(doc["gpus"]["devices"]):
        h = pynvml.nvmlDeviceGetHandleByIndex(i)
        p = torch.cuda.get_device_properties(i)
        mem = pynvml.nvmlDeviceGetMemoryInfo(h)
        check(f"gpu{i} name (pynvml)", d["name"], pynvml.nvmlDeviceGetName(h))
        check(f"gpu{i} name (torch)", d["name"], p.name)
        check(f"gpu{i} uuid (pynvml)", d["uuid"], pynvml.nvmlDeviceGetUUID(h))
        check(f"gpu{i} memory total bytes (pynvml)", d["mem_total_bytes"], mem.total)
        # torch reports the CUDA runtime's total, which leaves out the ~480 MiB the driver
        # reserves; hwscope reports NVML's total, as nvidia-smi does
        check(f"gpu{i} memory total bytes (torch, less reserved)", d["mem_total_bytes"],
              p.total_memory, tol=768 << 20)
        check(f"gpu{i} compute capability (torch)", (d["cc_major"], d["cc_minor"]),
              (p.major, p.minor))
        check(f"gpu{i} SMs (torch)", d["sm_count"], p.multi_processor_count)
        if hasattr(p, "L2_cache_size"):
            check(f"gpu{i} L2 bytes (torch)", d["l2_bytes"], p.L2_cache_size)
        check(f"gpu{i} max SM clock MHz (pynvml)", d["max_sm_clock_mhz"],
              pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_SM))
        check(f"gpu{i} max mem clock MHz (pynvml)", d["max_mem_clock_mhz"],
              pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_MEM))
        check(f"gpu{i} bus width bits (pynvml)", d["mem_bus_width_bits"],
              pynvml.nvmlDeviceGetMemoryBusWidth(h))
        check(f"gpu{i} PCIe gen max (pynvml)", d["pcie_gen_max"],
              pynvml.nvmlDeviceGetMaxPcieLinkGeneration(h))
        check(f"gpu{i} PCIe width max (pynvml)", d["pcie_width_max"],
              pynvml.nvmlDeviceGetMaxPcieLinkWidth(h))
        check(f"gpu{i} PCIe gen now (pynvml)", d["pcie_gen_cur"],
              pynvml.nvmlDeviceGetCurrPcieLinkGeneration(h))
        check(f"gpu{i} power limit W (pynvml)", d["power_limit_w"],
              pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1000)
        check(f"gpu{i} default power limit W (pynvml)", d["default_power_limit_w"],
              pynvml.nvmlDeviceGetPowerManagementDefaultLimit(h) / 1000)
        bus = pynvml.nvmlDeviceGetPciInfo(h).busId
        bus = bus.decode() if isinstance(bus, bytes) else bus
        check(f"gpu{i} PCI bus id (pynvml)", d["pci_bus_id"], bus[4:].lower())
        smi_names = [l.split(":", 1)[1].strip() for l in smi.splitlines()
                     if l.strip().startswith("Product Name")]
        if i < len(smi_names):
            check(f"gpu{i} name (nvidia-smi -q)", d["name"], smi_names[i])
    open(f"{out}/check.txt", "w").write("\n".join(lines) + f"\n{bad} disagreements\n")
    print("\n".join(lines))
    print(f"{bad} disagreements")

    ours = timed([binary, "info"], 20)
    ours_json = timed([binary, "info", "--json"], 20)
    theirs = timed(["nvidia-smi", "-q"], 20)
    med = statistics.median
    timing = (f"hwscope info         median {med(ours):7.1f} ms  min {min(ours):7.1f} ms\n"
              f"hwscope info --json  median {med(ours_json):7.1f} ms  min {min(ours_json):7.1f} ms\n"
              f"nvidia-smi -q        median {med(theirs):7.1f} ms  min {min(theirs):7.1f} ms\n"
              f"ratio nvidia-smi -q / hwscope info = {med(theirs) / med(ours):.2f}x\n")
    open(f"{out}/timing.txt", "w").write(timing)
    print(timing)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
