#!/bin/bash
# llm_cpu_device.sh - issue #10's CPU target on the GPU machine's host: STREAM (hwscope bench mem),
# then llm_driver decode/prefill on the CPU for Llama-3.2-1B (bf16, int8, int4) and Qwen2.5-3B
# (bf16), each decode beside the STREAM bound (GB/s of weights streamed per token / STREAM GB/s).
# Run from the repository root with the build carried in $D (default .dev/s2: hwscope, llm_driver,
# their libraries, or libs.tar.xz holding them; llm_driver_base, if there, is run once more on
# Llama-3.2-1B bf16 as the same machine's baseline). Results go under $OUT (default
# /tmp/llm-cpu), five files: env.txt, bench-mem.json, llm-cpu.jsonl, errors.txt, table.md.
# Takes about 3 minutes on 16 cores, at most 60 + 7 x 75 s (within one 600 s call).
#   D=.dev/cpu bash .dev/cpu/llm_cpu_device.sh      # QUICK=1: a check of the script on small cores
set -u
D=${D:-$PWD/.dev/s2}
OUT=${OUT:-/tmp/llm-cpu}
mkdir -p "$OUT"
if [ -f "$D/libs.tar.xz" ] && [ ! -e "$D/.libs-unpacked" ]; then
  (cd "$D" && tar xJf libs.tar.xz && touch .libs-unpacked)
fi
export LD_LIBRARY_PATH=$D${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export HWSCOPE_CEILINGS=${HWSCOPE_CEILINGS:-/tmp/llm-cpu-ceilings.json}
J=$OUT/llm-cpu.jsonl
: > "$J"
: > "$OUT/errors.txt"

{ date -u; nproc; lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Core|Socket|NUMA|L3'
  echo "ISA: $(grep -o -w 'avx2\|avx512[a-z_0-9]*\|amx[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

echo "== hwscope bench mem (STREAM on every usable core)"
timeout 60 "$D/hwscope" bench mem --no-save --json > "$OUT/bench-mem.json" 2>> "$OUT/errors.txt"
echo "rc $?"

# run NAME ARGS...: one llm_driver bench, its JSON lines tagged with NAME, into $J
run() {
  local name=$1
  shift
  echo "== $name: llm_driver bench $*"
  echo "== $name" >> "$OUT/errors.txt"
  timeout 75 "${BIN:-$D/llm_driver}" bench "$@" 2>> "$OUT/errors.txt" | sed "s/^{/{\"run\":\"$name\",/" >> "$J"
  echo "rc ${PIPESTATUS[0]}"
}

COMMON=(-d cpu -b 1,4 -p 64 -n 32 -r 3 -c 256)
if [ -n "${QUICK:-}" ]; then # a check of the script itself on a small machine
  COMMON=(-d cpu -b 1,2 -p 8 -n 2 -r 1 -c 32)
fi
run 1b-bf16 Llama-3.2-1B -f bf16 "${COMMON[@]}"
run 1b-int8 Llama-3.2-1B -f int8 "${COMMON[@]}"
run 1b-int4 Llama-3.2-1B -f int4 "${COMMON[@]}"
[ -z "${QUICK:-}" ] && run 3b-bf16 Qwen2.5-3B -f bf16 "${COMMON[@]}"
# threads: one per vCPU (above) against one per physical core (hyperthreads share the core)
CORES=$(lscpu -p=CORE 2>/dev/null | grep -v '^#' | sort -u | wc -l)
[ "$CORES" -ge 1 ] && [ "$CORES" -lt "$(nproc)" ] &&
  run "1b-bf16-t$CORES" Llama-3.2-1B -f bf16 "${COMMON[@]}" -b 1 -t "$CORES"
# the same machine's baseline: another build's driver, when carried as $D/llm_driver_base
[ -x "$D/llm_driver_base" ] && BIN=$D/llm_driver_base run 1b-bf16-base Llama-3.2-1B -f bf16 "${COMMON[@]}" -b 1
# prefill: OpenBLAS's own choice of kernels against SkylakeX's (AVX-512) forced
OPENBLAS_CORETYPE=SkylakeX run 1b-bf16-skx Llama-3.2-1B -f bf16 "${COMMON[@]}" -b 1

python3 - "$OUT/bench-mem.json" "$J" <<'EOF' | tee "$OUT/table.md"
import json, sys
stream = {}
try:
    for r in json.load(open(sys.argv[1]))["records"]:
        if r.get("key", "").startswith("cpu.stream.") and r.get("median"):
            stream[r["key"].split(".")[-1]] = r["median"]
except (OSError, ValueError, KeyError) as e:
    print("no STREAM figures:", e)
print("STREAM GB/s: " + ", ".join("%s %.1f" % kv for kv in sorted(stream.items())))
bound = stream.get("triad") or stream.get("copy")
rows, model = [], {}
for line in open(sys.argv[2]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    run = e.get("run")
    if e.get("event") == "model":
        model[run] = e
    elif e.get("event") == "decode" and run in model:
        bpt = model[run]["decode_bytes_per_token"]
        frac = e["weight_gbps"] / bound if bound else float("nan")
        ceil_tps = bound * 1e9 / bpt if bound else float("nan")
        rows.append("| %s | decode b%d | %.1f tok/s | %.1f GB/s | %.0f %% | %.1f tok/s | %s |" % (
            run, e["batch"], e["tokens_per_s"], e["weight_gbps"], 100 * frac, ceil_tps,
            "yes" if e["batch"] == 1 and frac >= 0.8 else ("no" if e["batch"] == 1 else "-")))
    elif e.get("event") == "prefill" and run in model:
        rows.append("| %s | prefill %d | %.1f tok/s | %.0f ms | | | |" % (
            run, e["tokens"], e["tokens_per_s"], e["ms"]))
print("bound = STREAM triad %.1f GB/s" % (bound or 0))
print("| run | what | speed | weights GB/s or time | of bound | bound | >= 80 % |")
print("|---|---|---|---|---|---|---|")
print("\n".join(rows))
EOF
