#!/usr/bin/env python3
"""device_compare.py - on a GPU machine: `hwscope log` beside `nvidia-smi --query-gpu` for the same
fields, 1 s apart, while a torch BF16 matmul loop loads the GPU (5 s on, 3 s off), plus
`hwscope serve` scraped during the run; CPU time and RSS of each tool from getrusage and /proc.

usage: device_compare.py HWSCOPE_BIN OUT_DIR [SECONDS]"""
import os, resource, subprocess, sys, time, urllib.request

FIELDS = ("timestamp,index,name,pci.bus_id,uuid,driver_version,pstate,utilization.gpu,"
          "utilization.memory,memory.total,memory.used,memory.free,temperature.gpu,power.draw,"
          "enforced.power.limit,clocks.current.sm,clocks.current.memory,clocks.max.sm,"
          "clocks_event_reasons.active,"
          "pcie.link.gen.current,pcie.link.width.current,fan.speed,"
          "ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total")

LOAD = r'''
import sys, time, torch
end = time.time() + float(sys.argv[1])
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
while time.time() < end:
    t = time.time()
    print(f"{t:.3f} busy", flush=True)
    while time.time() < min(t + 5, end):
        for _ in range(20):
            c = a @ b
        torch.cuda.synchronize()
    print(f"{time.time():.3f} idle", flush=True)
    time.sleep(min(3, max(0, end - time.time())))
'''


def proc_cpu_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    ticks = int(parts[11]) + int(parts[12])
    rss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return ticks / os.sysconf("SC_CLK_TCK"), rss_kb


def main():
    hws, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    load = subprocess.Popen([sys.executable, "-c", LOAD, str(seconds + 6)],
                            stdout=open(f"{out}/load.txt", "w"), stderr=subprocess.STDOUT)
    time.sleep(3)  # torch start-up
    smi = subprocess.Popen(["nvidia-smi", f"--query-gpu={FIELDS}", "--format=csv", "-lms", "1000"],
                           stdout=open(f"{out}/nvidia-smi.csv", "w"), stderr=subprocess.STDOUT)
    srv = subprocess.Popen([hws, "serve", "--listen", "127.0.0.1:9400", "--interval", "1"],
                           stderr=open(f"{out}/serve.err", "w"))
    t0 = time.time()
    log = subprocess.run([hws, "log", f"--query-gpu={FIELDS}", "--interval", "1", "--count",
                          str(seconds)], stdout=open(f"{out}/hwscope.csv", "w"),
                         stderr=subprocess.PIPE, text=True)
    wall = time.time() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # hwscope log (the only child waited for)
    smi_cpu, smi_rss = proc_cpu_rss(smi.pid)
    lat = []
    body = b""
    for _ in range(200):
        t = time.perf_counter()
        body = urllib.request.urlopen("http://127.0.0.1:9400/metrics").read()
        lat.append((time.perf_counter() - t) * 1e3)
    srv_cpu, srv_rss = proc_cpu_rss(srv.pid)
    with open(f"{out}/metrics.txt", "wb") as f:
        f.write(body)
    for p in (smi, srv):
        p.terminate()
    load.wait()
    lat.sort()
    with open(f"{out}/overhead.txt", "w") as f:
        f.write(f"log rc={log.returncode} stderr={log.stderr.strip()!r} wall_s={wall:.1f}\n")
        f.write(f"hwscope log: cpu_s={ru.ru_utime + ru.ru_stime:.3f} maxrss_kb={ru.ru_maxrss}\n")
        f.write(f"nvidia-smi -lms 1000: cpu_s={smi_cpu:.3f} rss_kb={smi_rss} (over ~{wall:.0f} s)\n")
        f.write(f"hwscope serve: cpu_s={srv_cpu:.3f} rss_kb={srv_rss} (incl. 200 scrapes)\n")
        f.write(f"scrape ms (python urllib, 200 sequential): p50={lat[100]:.3f} "
                f"p99={lat[197]:.3f} max={lat[-1]:.3f}\n")


if __name__ == "__main__":
    main()
