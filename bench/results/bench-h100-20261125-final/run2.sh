#!/bin/bash
# bench2 device run 2: full `hwscope bench` (CPU + GPU) saving ceilings, then plan on them.
D=.dev/bench2
export LD_LIBRARY_PATH=$D XDG_CACHE_HOME=/tmp/hwscache2
rm -rf /tmp/hwscache2
{ $D/hwscope --version; date -u +%FT%TZ; nproc; } > $OUT/env.txt
{ timeout 150 $D/hwscope bench; echo "rc=$?"; } > $OUT/hwscope-bench-all.txt 2>&1
{ cat /tmp/hwscache2/hwscope/ceilings.json; for rt in transformers vllm; do echo "== hwscope plan Llama-3.1-8B --gpus local --runtime $rt"; $D/hwscope plan Llama-3.1-8B --gpus local --runtime $rt | sed -n '/predicted speed/,$p'; echo "rc=$?"; done; echo "== same, HWSCOPE_CEILINGS=/nonexistent (datasheet)"; HWSCOPE_CEILINGS=/nonexistent $D/hwscope plan Llama-3.1-8B --gpus local --runtime vllm | sed -n '/predicted speed/,$p'; } > $OUT/plan-measured-vs-datasheet.txt 2>&1
cat $OUT/env.txt; tail -4 $OUT/hwscope-bench-all.txt
