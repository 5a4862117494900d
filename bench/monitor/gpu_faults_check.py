#!/usr/bin/env python3
"""gpu_faults_check.py - on a GPU machine: the monitor's memory-fault, XID and NVLink fields as
`hwscope log` reads them beside the same NVML calls made through pynvml and beside nvidia-smi:
remapped rows (correctable, uncorrectable, pending, failure), retired pages (SBE, DBE, pending),
whether the GPU takes XID critical-error event registration, and the NVLink data counters through
nvmlDeviceGetFieldValues with the all-links scope (UINT_MAX) against the sum of the links one by
one (hwscope takes the first and falls back to the second: the two must agree, or the fallback
would count wrong). Writes one JSON report and prints a short verdict.

usage: gpu_faults_check.py HWSCOPE_BIN OUT_DIR"""
import json, os, subprocess, sys

import pynvml as N

FIELDS = ("index,remapped_rows.correctable,remapped_rows.uncorrectable,remapped_rows.pending,"
          "remapped_rows.failure,retired_pages.sbe,retired_pages.dbe,retired_pages.pending,"
          "xid_last,xid_count,nvlink_tx_bytes_s,nvlink_rx_bytes_s")


def call(fn, *args):
    try:
        return fn(*args)
    except N.NVMLError as e:
        return "error: " + str(e)


def nvlink_counters(h):
    tx, rx = N.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, N.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX
    out = {}
    try:
        v = N.nvmlDeviceGetFieldValues(h, [(tx, 0xFFFFFFFF), (rx, 0xFFFFFFFF)])
        out["all_links_kib"] = [x.value.ullVal if x.nvmlReturn == 0 else "rc %d" % x.nvmlReturn
                                for x in v]
        per = N.nvmlDeviceGetFieldValues(h, [(f, l) for l in range(18) for f in (tx, rx)])
        ok = [x for x in per if x.nvmlReturn == 0]
        out["links_answering"] = len(ok) // 2
        out["sum_of_links_kib"] = [sum(x.value.ullVal for x in ok if x.fieldId == f)
                                   for f in (tx, rx)]
    except N.NVMLError as e:
        out["error"] = str(e)
    return out


def main():
    binary, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    N.nvmlInit()
    report = {"driver": N.nvmlSystemGetDriverVersion(), "gpus": []}
    for i in range(N.nvmlDeviceGetCount()):
        h = N.nvmlDeviceGetHandleByIndex(i)
        g = {"index": i, "name": N.nvmlDeviceGetName(h)}
        g["remapped_rows"] = call(N.nvmlDeviceGetRemappedRows, h)
        g["retired_pages_sbe"] = call(lambda d: len(N.nvmlDeviceGetRetiredPages(d, 0)), h)
        g["retired_pages_dbe"] = call(lambda d: len(N.nvmlDeviceGetRetiredPages(d, 1)), h)
        g["retired_pages_pending"] = call(N.nvmlDeviceGetRetiredPagesPendingStatus, h)
        g["supported_events"] = call(N.nvmlDeviceGetSupportedEventTypes, h)
        s = N.nvmlEventSetCreate()
        g["xid_register"] = call(N.nvmlDeviceRegisterEvents, h, N.nvmlEventTypeXidCriticalError, s)
        N.nvmlEventSetFree(s)
        g["nvlink"] = nvlink_counters(h)
        report["gpus"].append(g)
    N.nvmlShutdown()
    log = subprocess.run([binary, "log", "--count", "3", "--interval", "1", "--format", "jsonl",
                          "--query-gpu", FIELDS], capture_output=True, text=True, timeout=60)
    report["hwscope_log"] = log.stdout.splitlines()
    report["hwscope_log_stderr"] = log.stderr
    smi = subprocess.run(["nvidia-smi", "--query-remapped-rows=gpu_bus_id,remapped_rows.correctable,"
                          "remapped_rows.uncorrectable,remapped_rows.pending,remapped_rows.failure",
                          "--format=csv"], capture_output=True, text=True)
    report["nvidia_smi_remapped_rows"] = smi.stdout.splitlines() or smi.stderr.splitlines()
    smi = subprocess.run(["nvidia-smi", "--query-gpu=index,retired_pages.sbe,retired_pages.dbe,"
                          "retired_pages.pending", "--format=csv"], capture_output=True, text=True)
    report["nvidia_smi_retired_pages"] = smi.stdout.splitlines() or smi.stderr.splitlines()
    with open(os.path.join(out_dir, "gpu_faults_check.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    for g in report["gpus"]:
        print(g["index"], g["name"], "remapped", g["remapped_rows"], "xid_register",
              g["xid_register"], "nvlink", g["nvlink"])
    print("\n".join(report["hwscope_log"]))


if __name__ == "__main__":
    main()
