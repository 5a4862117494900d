#!/bin/bash
# llm_host_run.sh - the GPU-machine side of issue #10's side-by-side run, from the repository root
# with the build carried in .dev/llmhost (hwscope, libhwscope_cuda.so, its libraries, these
# scripts, ceilings.json measured earlier on the same kind of H100; llamacpp-bin.tar.xz,
# make_random_gguf.py and gguf-py/ when llama.cpp is built). Results under $OUT.
D=$PWD/.dev/llmhost
L=/tmp/llmhost-lib; mkdir -p $L; cp $D/*.so* $L/; for x in $L/*.xz; do [ -f "$x" ] && xz -d -f "$x"; done
export LD_LIBRARY_PATH=$L HWSCOPE_CUDA_MODULE=$L/libhwscope_cuda.so PYTHONUNBUFFERED=1
export HWSCOPE_CEILINGS=/tmp/llmhost-ceilings.json
cp $D/ceilings.json $HWSCOPE_CEILINGS
(date -u; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv) > $OUT/env.txt 2>&1
PEERS=${PEERS:-hwscope}
if [ -f $D/llamacpp-bin.tar.xz ]; then
  (cd /tmp && tar xJf $D/llamacpp-bin.tar.xz) && PEERS=$PEERS,llamacpp
fi
timeout ${LIMIT:-150} python3 $D/llm_vs_peers.py measure --out $OUT/side-by-side.json --peers $PEERS \
  --shapes ${SHAPES:-in,out} --hwscope $D/hwscope --llamacpp /tmp/bin --tools $D \
  --llamacpp-shapes ${LLAMACPP_SHAPES:-Llama-3.2-1B} --format-shapes "${FORMAT_SHAPES-Llama-3.1-8B}" \
  --prompt 512 --gen ${GEN:-128} --reps ${REPS:-3} 2>&1 | tee $OUT/log.txt
cp $HWSCOPE_CEILINGS $OUT/ceilings-after.json
