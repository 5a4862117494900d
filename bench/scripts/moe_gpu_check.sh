#!/bin/bash
# moe_gpu_check.sh - the engine's Mixtral (MoE) path on a GPU, in one call: the CUDA-vs-CPU unit
# test of the tiny Mixtral, llm_check.py against transformers (every family, mixtral included),
# compute-sanitizer over a MoE decode, Mixtral-8x7B int4 speed at batch 1 and 8 beside its bound,
# and the bf16 refusal (93 GB on an 80 GB card) by the engine and by `hwscope bench llm`.
# Usage (repository root, D a folder with llm_driver, hwscope, engine_test_llm,
# libhwscope_cuda.so, llm_check.py and libs.tar.xz): bench/scripts/moe_gpu_check.sh D OUT
set -u
D=$(cd "$1" && pwd)
OUT=$2
mkdir -p "$OUT"
(cd "$D" && tar xJf libs.tar.xz)
export LD_LIBRARY_PATH=$D HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda.so PYTHONUNBUFFERED=1
export HWSCOPE_CEILINGS=/tmp/hws-moe-ceilings.json
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/env.txt"
echo "== unit tests (test_moe_cuda_matches_cpu runs here)"
timeout 60 "$D/engine_test_llm" >"$OUT/test_llm.txt" 2>&1
echo "rc $?"
grep -E 'CUDA vs CPU|SKIPPED|FAILED|ERROR|LINE|PASSED' "$OUT/test_llm.txt"
echo "== llm_check (transformers, cpu + cuda)"
timeout 120 python3 "$D/llm_check.py" "$D/llm_driver" "$OUT/check" --families mixtral >"$OUT/check.log" 2>&1
echo "rc $?"
grep '^|' "$OUT/check.log"
T=$(python3 -c "print(','.join(str((i*37+11)%512) for i in range(40)))")
if [ -d /tmp/llm_check_models/mixtral ]; then
    echo "== compute-sanitizer memcheck: tiny Mixtral, 40-token prefill, 4 decode steps"
    timeout 60 compute-sanitizer --tool memcheck --print-limit 20 "$D/llm_driver" check \
        /tmp/llm_check_models/mixtral -d cuda -f bf16 -n 4 -T "$T" >"$OUT/san.log" 2>&1
    echo "rc $?"
    grep -E 'ERROR SUMMARY|Invalid' "$OUT/san.log" | head -5
fi
echo "== Mixtral-8x7B int4, batch 1 and 8"
timeout 90 "$D/llm_driver" bench Mixtral-8x7B-v0.1 -f int4 -b 1,8 -p 512 -n 64 -r 3 -c 4096 \
    >"$OUT/bench-int4.jsonl" 2>&1
echo "rc $?"
cut -c1-200 "$OUT/bench-int4.jsonl"
echo "== Mixtral-8x7B bf16: refused by the engine (exit 1 from the driver) and by bench llm (exit 2)"
timeout 30 "$D/llm_driver" bench Mixtral-8x7B-v0.1 -f bf16 -b 1 -p 512 -n 64 -r 1 -c 4096 \
    >"$OUT/bench-bf16.txt" 2>&1
echo "rc $?"
cat "$OUT/bench-bf16.txt"
timeout 30 "$D/hwscope" bench llm Mixtral-8x7B-v0.1 -p 512 -n 64 --no-save \
    >"$OUT/bench-llm-bf16.txt" 2>&1
echo "rc $?"
cat "$OUT/bench-llm-bf16.txt"
echo "== hwscope bench llm Mixtral-8x7B int4 (bound from the active experts, planner's prediction)"
timeout 45 "$D/hwscope" bench llm Mixtral-8x7B-v0.1 --quant int4 -b 1 -p 512 -n 32 -r 1 \
    --no-save >"$OUT/bench-llm-int4.md" 2>&1
echo "rc $?"
cat "$OUT/bench-llm-int4.md"
