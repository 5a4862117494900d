# time_info.py - `hwscope info` against `nvidia-smi -q` on this machine, one run: 20 timed runs
# of each, interleaved, median wall time. hwscope runs three ways: the GPU cache warm (the
# normal second call), the cache off (cuInit every call, the old path), and --json warm.
import json, os, statistics, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
out = os.environ.get("OUT", "/tmp")
hws = os.path.join(here, "hwscope")
base = dict(os.environ, LD_LIBRARY_PATH=os.path.join(here, "lib"))
cache = dict(base, HWSCOPE_GPU_CACHE="/tmp/hws-gpu-cache")
nocache = dict(base, HWSCOPE_GPU_CACHE="off")
runs = {
    "nvidia-smi -q": (["nvidia-smi", "-q"], base),
    "hwscope info (cache warm)": ([hws, "info"], cache),
    "hwscope info --json (cache warm)": ([hws, "info", "--json"], cache),
    "hwscope info (cache off: cuInit)": ([hws, "info"], nocache),
    "hwscope info (no GPU libraries: CPU+memory)": ([hws, "info"],
        dict(base, HWSCOPE_NVML_LIB="/nonexistent", HWSCOPE_CUDA_LIB="/nonexistent")),
}

def once(cmd, env):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit(f"{cmd}: exit {p.returncode}: {p.stderr.decode()[-500:]}")
    return dt, p.stdout

# prime: the cache written by a first call, the driver and page cache warm
for name, (cmd, env) in runs.items():
    once(cmd, env)
times = {k: [] for k in runs}
for i in range(20):
    for name, (cmd, env) in runs.items():
        times[name].append(once(cmd, env)[0])
lines = [f"device: {subprocess.run(['nvidia-smi','--query-gpu=name,driver_version','--format=csv,noheader'],stdout=subprocess.PIPE).stdout.decode().strip()}",
         f"date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
         "method: 20 runs of each command, interleaved, after one priming run each; wall time of the process (python perf_counter around subprocess.run); median, min, max in ms"]
for k, v in times.items():
    lines.append(f"{k:40s} median {statistics.median(v):7.1f}  min {min(v):7.1f}  max {max(v):7.1f}")
smi = statistics.median(times["nvidia-smi -q"])
warm = statistics.median(times["hwscope info (cache warm)"])
lines.append(f"ratio hwscope info (cache warm) / nvidia-smi -q = {warm / smi:.2f} (target <= 0.50)")
# the cached facts must be the ones CUDA gives
_, a = once([hws, "info", "--json"], cache)
_, b = once([hws, "info", "--json"], nocache)
keys = ["sm_count", "l2_bytes", "cc_major", "cc_minor", "mem_bus_width_bits", "max_mem_clock_mhz", "max_sm_clock_mhz", "mem_total_bytes"]
da, db = json.loads(a)["gpus"], json.loads(b)["gpus"]
same = all(x.get(k) == y.get(k) for x, y in zip(da["devices"], db["devices"]) for k in keys) and da["cuda_version"] == db["cuda_version"]
dev0 = da["devices"][0] if da["devices"] else {}
facts = ", ".join("%s=%s" % (k, dev0.get(k)) for k in keys)
lines.append("cached facts equal to the driver API's: %s (%s; cuda %s)" % (same, facts, da["cuda_version"]))
# the floor NVML sets: nvmlInit_v2 alone, timed inside a process, 5 fresh processes
probe = ("import ctypes,time;l=ctypes.CDLL('libnvidia-ml.so.1');t=time.perf_counter();"
         "r=l.nvmlInit_v2();print((time.perf_counter()-t)*1000, r)")
inits = []
for i in range(5):
    p = subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE)
    inits.append(float(p.stdout.split()[0]))
lines.append(f"nvmlInit_v2 alone, in-process, 5 processes: median {statistics.median(inits):.1f} ms")
text = "\n".join(lines) + "\n"
print(text)
open(os.path.join(out, "info_timing.txt"), "w").write(text)
open(os.path.join(out, "info_cached.json"), "wb").write(a)
open(os.path.join(out, "info_nocache.json"), "wb").write(b)
