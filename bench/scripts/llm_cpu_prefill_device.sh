#!/bin/bash
# llm_cpu_prefill_device.sh - issue #10's CPU prefill on the GPU machine's 16-core host, in one
# call: the kernel tests (the AMX product test runs where the CPU has AMX), llm_driver rows of the
# build carried in $D (AMX where present), of the same source built with -DHWS_GEMM_NO_AMX
# (llm_driver_noamx: the AVX-512 float products) and of an older build (llm_driver_base), on
# Llama-3.2-1B; then llama.cpp -ngl 0 beside `hwscope bench llm --device cpu` on the same GGUF
# files (F16, Q8_0, Q4_K_M) through bench/scripts/llm_vs_peers.py. $D holds hwscope, llm_driver,
# llm_driver_noamx, llm_driver_base, engine_test_cpu_gemv, engine_test_llm, libs.tar.xz (their
# shared libraries, /work/tools/pack.sh), llamacpp-bin.tar.xz and tools/ (make_random_gguf.py,
# gguf-py). Results: $OUT/results.tar.xz (w/: env.txt, test-*.txt, llm-cpu.jsonl, table.md,
# cpu-peers.json and .log). About 2 minutes; every step cut to what is left of END seconds.
#   D=.dev/cpup OUT=/tmp/out bash bench/scripts/llm_cpu_prefill_device.sh
END=${END:-400}
D=$(realpath "${D:-.dev/cpup}")
cd $D && tar xJf libs.tar.xz && mkdir -p /tmp/lc && tar xJf llamacpp-bin.tar.xz -C /tmp/lc && cd - >/dev/null
export LD_LIBRARY_PATH=$D PYTHONUNBUFFERED=1
RES=$OUT; W=/tmp/w; mkdir -p $W /tmp/lvp
trap 'tar cJf $RES/results.tar.xz -C /tmp w' EXIT
T0=$EPOCHREALTIME; el() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}'; }
lim() { local l=$((END - $(el))); [ $l -gt $1 ] && l=$1; [ $l -lt 5 ] && l=1; echo $l; }  # timeout 0 would mean no limit
step() { echo "== [$(el)s] $*"; }
{ date -u; nproc; uname -r; lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Core|Socket|NUMA|L2|L3'
  echo "ISA: $(grep -o -w 'avx2\|avx512[a-z_0-9]*\|amx[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"; } > $W/env.txt 2>&1
cat $W/env.txt
step "kernel tests"
timeout $(lim 60) $D/engine_test_cpu_gemv > $W/test-cpu-gemv.txt 2>&1; echo rc $?
timeout $(lim 60) $D/engine_test_llm > $W/test-llm.txt 2>&1; echo rc $?
grep -E "PASSED|FAILED|not run|amx" $W/test-cpu-gemv.txt $W/test-llm.txt | head
# drv NAME BIN ARGS...: one llm_driver bench, its JSON lines tagged NAME
drv() { local n=$1 b=$2; shift 2; timeout $(lim 60) $D/$b bench Llama-3.2-1B -d cpu "$@" 2>>$W/errors.txt | sed "s/^{/{\"run\":\"$n\",/" >> $W/llm-cpu.jsonl; echo "$n rc ${PIPESTATUS[0]}"; }
step "this branch (AMX where present), Llama-3.2-1B, p64 + decode"
for f in bf16 fp16 int8 int4; do drv new-$f llm_driver -f $f -b 1 -p 64 -n 32 -r 3 -c 256; done
step "llama.cpp CPU beside hwscope --device cpu (same GGUF files)"
timeout $(lim 170) python3 bench/scripts/llm_vs_peers.py measure --hwscope $D/hwscope --llamacpp /tmp/lc/bin --tools $D/tools --work /tmp/lvp --reps 2 --prompt 64 --gen 32 --out $W/cpu-peers.json --peers llamacpp --shapes Llama-3.2-1B --llamacpp-shapes Llama-3.2-1B --quants F16,Q8_0,Q4_K_M --gguf-hwscope --cpu-threads 16 > $W/cpu-peers.log 2>&1; echo rc $?
cut -c1-260 $W/cpu-peers.log | grep -v '^\[' | tail -6
step "float path (no AMX) and main (OpenBLAS prefill), same machine"
for f in bf16 int4; do drv noamx-$f llm_driver_noamx -f $f -b 1 -p 64 -n 32 -r 3 -c 256; done
for f in bf16 int4; do drv main-$f llm_driver_base -f $f -b 1 -p 64 -n 32 -r 3 -c 256; done
step "prefill 512"
for f in bf16 int4; do drv new512-$f llm_driver -f $f -b 1 -p 512 -n 4 -r 2 -c 1024; done
drv noamx512-bf16 llm_driver_noamx -f bf16 -b 1 -p 512 -n 4 -r 2 -c 1024
drv main512-bf16 llm_driver_base -f bf16 -b 1 -p 512 -n 4 -r 2 -c 1024
python3 - $W/llm-cpu.jsonl <<'PY' | tee $W/table.md
import json, sys
print("| run | backend | prefill tok/s | decode b1 tok/s |\n|---|---|---|---|")
rows = {}
for l in open(sys.argv[1]):
    try: e = json.loads(l)
    except ValueError: continue
    r = rows.setdefault(e["run"], {"pp": [], "tg": [], "be": ""})
    if e["event"] == "model": r["be"] = e["backend"]
    if e["event"] == "prefill": r["pp"].append("%.0f" % e["tokens_per_s"])
    if e["event"] == "decode": r["tg"].append("%.1f" % e["tokens_per_s"])
for k, r in rows.items():
    print("| %s | %s | %s | %s |" % (k, r["be"], " ".join(r["pp"]), " ".join(r["tg"])))
PY
step done
