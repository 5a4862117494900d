#!/bin/bash
# engine3's final device run: tests; previous build vs this one on the same card; GPU general and
# one-key paths; both peers side by side (CPU interleaved with PyTorch, same threads)
D=.dev/engine3
R=/tmp/engine3; rm -rf $R; mkdir -p $R
export LD_LIBRARY_PATH=$PWD/$D HWSCOPE_FIXTURES=$D/fixtures HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda.so
date -u > $R/date.txt
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.sm,power.limit --format=csv > $R/gpu.txt 2>&1
lscpu > $R/lscpu.txt 2>&1
timeout 60 $D/engine_test_golden > $R/test_golden.log 2>&1; echo "golden rc $?" >> $R/summary.txt
timeout 60 $D/engine_test_kernels > $R/test_kernels.log 2>&1; echo "kernels rc $?" >> $R/summary.txt
grep -E "FAIL|ERROR|LINE" $R/test_golden.log >> $R/summary.txt
G="bench transformer --device cuda --dtype fp16,bf16 --reps 50"
row() { grep H100 | awk '{print $5,$6,$7}' | tr '\n' ' '; }
echo "previous build one-key: $(HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda_old.so timeout 30 $D/hwscope_old $G | row)" >> $R/summary.txt
echo "previous build general: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda_old.so timeout 30 $D/hwscope_old $G | row)" >> $R/summary.txt
timeout 60 $D/hwscope bench transformer --device cuda --profile --reps 50 > $R/gpu.log 2>&1
echo "this build one-key: $(cat $R/gpu.log | row)" >> $R/summary.txt
HWSCOPE_ENGINE_GENERAL=1 timeout 60 $D/hwscope bench transformer --device cuda --profile --reps 50 > $R/gpu_general.log 2>&1
echo "this build general: $(cat $R/gpu_general.log | row)" >> $R/summary.txt
echo "general, 8 tuned candidates: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_ENGINE_AUTOTUNE=8 timeout 30 $D/hwscope $G | row)" >> $R/summary.txt
echo "general, 2 lanes: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_ENGINE_LANES=2 timeout 30 $D/hwscope $G | row)" >> $R/summary.txt
cat $R/summary.txt
timeout 185 python3 $D/transformer_bench.py --hwscope "$D/hwscope bench" --threads 16 --general \
  --compile-modes reduce-overhead --compile-dtypes fp16 --gpu-reps 30 --compile-deadline-s 90 \
  --cpu-rounds 6 --cpu-round-reps 3 --out $R/transformer-bench.json > $R/bench.log 2>&1
echo "peer rc $?" | tee -a $R/summary.txt
grep -E "cpu interleaved|matrix peak|hwscope|compile" $R/bench.log | tail -12
cp $R/transformer-bench.json $R/summary.txt $R/bench.log $OUT/ 2>/dev/null
tar czf $OUT/all.tgz -C /tmp engine3
