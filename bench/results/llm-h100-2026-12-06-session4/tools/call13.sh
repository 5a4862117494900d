#!/bin/bash
# session 4: plan --runtime hwscope out of sample: bench llm on the 4 in-sample and 5 out-of-sample shapes
D=$PWD/.dev/s8
cd $D && tar xJf libs.tar.xz && xz -dkf libhwscope_cuda.so.xz && cd - >/dev/null
export LD_LIBRARY_PATH=$D PYTHONUNBUFFERED=1 HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda.so HWSCOPE_CEILINGS=/tmp/hws-ceilings.json
cp $D/ceilings.json $HWSCOPE_CEILINGS
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $OUT/env.txt
timeout 330 python3 $D/llm_vs_peers.py measure --out $OUT/side-by-side.json --peers hwscope --shapes in,out --hwscope $D/hwscope --formats bf16,int4 --format-shapes Llama-3.1-8B --prompt 512 --gen 128 --reps 3 --tools $D/tools > $OUT/log.txt 2>&1; echo rc $?
tail -5 $OUT/log.txt; cp $HWSCOPE_CEILINGS $OUT/ceilings-after.json
