#!/bin/bash
# session 4 final call: staged-KV attention with depth classes, U=4 split rows, engfmt planner
# (b 1,8) against the measured bounds, llama.cpp F16 + Q4_K_M beside hwscope on the same GGUF
# files, llm_check of every family, the engine's CUDA unit tests
END=${END:-480}
D=$PWD/.dev/s8
cd $D && tar xJf libs.tar.xz && xz -dkf libhwscope_cuda.so.xz && mkdir -p /tmp/lc && tar xJf llamacpp-bin.tar.xz -C /tmp/lc && cd - >/dev/null
export LD_LIBRARY_PATH=$D PYTHONUNBUFFERED=1 HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda.so HWSCOPE_CEILINGS=/tmp/hws-ceilings.json
RES=$OUT; OUT=/tmp/w17; mkdir -p $OUT /tmp/lvp
trap 'cp $HWSCOPE_CEILINGS $OUT/ceilings.json 2>/dev/null; tar cJf $RES/results.tar.xz -C /tmp w17' EXIT
T0=$EPOCHREALTIME; el() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}'; }
lim() { local l=$((END - $(el))); [ $l -gt $1 ] && l=$1; [ $l -lt 5 ] && l=0; echo $l; }
step() { echo "== [$(el)s] $*"; }
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $OUT/env.txt
step "engine_test_llm"
timeout $(lim 40) $D/engine_test_llm > $OUT/engine-test.txt 2>&1; echo rc $?; tail -1 $OUT/engine-test.txt
step "hwscope bench mem gemm; bench llm Llama-3.1-8B bf16, int4 (b 1,8)"
timeout $(lim 40) $D/hwscope bench mem gemm > $OUT/bench-mem-gemm.txt 2>&1; echo rc $?
for f in "--dtype bf16" "--quant int4"; do timeout $(lim 45) $D/hwscope bench llm Llama-3.1-8B $f -b 1,8 -p 512 -n 128 -r 3 > "$OUT/bench-llm-8b-${f#--* }.md" 2>&1; echo rc $?; head -6 "$OUT/bench-llm-8b-${f#--* }.md" | cut -c1-200; done
timeout $(lim 20) $D/hwscope plan Llama-3.1-8B --runtime hwscope > $OUT/plan-8b.txt 2>&1; echo rc $?
P="python3 $D/llm_vs_peers.py measure --hwscope $D/hwscope --llamacpp /tmp/lc/bin --tools $D/tools --work /tmp/lvp --reps 3"
step "llama.cpp F16 + Q4_K_M beside hwscope on the same GGUF (Llama-3.1-8B)"
timeout $(lim 150) $P --prompt 512 --gen 128 --out $OUT/llamacpp.json --peers llamacpp --shapes Llama-3.1-8B --llamacpp-shapes Llama-3.1-8B --quants F16,Q4_K_M --gguf-hwscope > $OUT/llamacpp.log 2>&1; echo rc $?
python3 -c "
import json; d=json.load(open('$OUT/llamacpp.json'))
for r in d['rows']: print(r.get('runtime'), r.get('format'), r.get('loaded_weights'), {k: round(v['mean'],1) for k, v in r.items() if isinstance(v, dict) and 'mean' in v})" 2>&1 | head
step "llm_check (every family)"
timeout $(lim 150) python3 $D/llm_check.py $D/llm_driver $OUT/check > $OUT/check.log 2>&1; echo rc $?
grep '^|' $OUT/check.log | grep -v '| yes |'; grep -c '| yes |' $OUT/check.log
step done
