#!/bin/bash
# bench2 device run: hwscope-first comparison, bench gpu + plan (measured basis), torch-first.
D=.dev/bench2
export LD_LIBRARY_PATH=$D XDG_CACHE_HOME=/tmp/hwscache
rm -rf /tmp/hwscache
T0=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv > $OUT/env.txt 2>&1
python3 -c 'import torch;print("torch",torch.__version__,torch.version.cuda)' >> $OUT/env.txt 2>&1
$D/hwscope --version >> $OUT/env.txt
date -u +%FT%TZ >> $OUT/env.txt
timeout 120 python3 $D/bench_vs_torch.py --hwscope $D/hwscope --out /tmp/hf > $OUT/compare-hwscope-first.txt 2>&1
echo "rc=$? t=$(( $(date +%s) - T0 ))s" >> $OUT/compare-hwscope-first.txt
cp /tmp/hf/compare.json $OUT/compare-hwscope-first.json
{ timeout 60 $D/hwscope bench gpu; echo "rc=$? t=$(( $(date +%s) - T0 ))s"; } > $OUT/hwscope-bench-gpu.txt 2>&1
{ cat /tmp/hwscache/hwscope/ceilings.json; echo "== plan"; $D/hwscope plan Llama-3.1-8B --gpus local; echo "rc=$?"; } > $OUT/plan-llama-3.1-8b-local.txt 2>&1
cp /tmp/hwscache/hwscope/ceilings.json $OUT/ceilings.json
LEFT=$(( 270 - ($(date +%s) - T0) ))
echo "left for torch-first: $LEFT s" >> $OUT/env.txt
if [ $LEFT -gt 90 ]; then
  timeout $LEFT python3 $D/bench_vs_torch.py --hwscope $D/hwscope --out /tmp/tf --torch-first > $OUT/compare-torch-first.txt 2>&1
  echo "rc=$? t=$(( $(date +%s) - T0 ))s" >> $OUT/compare-torch-first.txt
  cp /tmp/tf/compare.json $OUT/compare-torch-first.json
fi
cat $OUT/env.txt; tail -3 $OUT/*.txt
