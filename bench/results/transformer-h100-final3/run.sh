#!/bin/bash
# engine4's final device run: tests; PDL on vs off (alternating) and the previous build on the same card;
# then the peer script (PyTorch eager side by side, general path included, no compile, no CPU rounds)
D=.dev/engine4
R=/tmp/engine4; rm -rf $R; mkdir -p $R
export LD_LIBRARY_PATH=$PWD/$D HWSCOPE_FIXTURES=$D/fixtures HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda.so
date -u > $R/date.txt
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.sm,power.limit --format=csv > $R/gpu.txt 2>&1
timeout 40 $D/engine_test_golden > $R/test_golden.log 2>&1; echo "golden rc $?" >> $R/summary.txt
timeout 40 $D/engine_test_kernels > $R/test_kernels.log 2>&1; echo "kernels rc $?" >> $R/summary.txt
grep -E "FAIL|ERROR|LINE|PASSED" $R/test_golden.log $R/test_kernels.log >> $R/summary.txt
G="bench transformer --device cuda --dtype fp16,bf16 --reps 50"
row() { grep H100 | awk '{print $5,$6,$7}' | tr '\n' ' '; }
A="bench transformer --device cuda --reps 50"
for i in 1 2; do
echo "prev build general fp16,bf16 #$i: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda_prev.so timeout 20 $D/hwscope_prev $G | row)" >> $R/summary.txt
echo "general pdl on  fp16,bf16 #$i: $(HWSCOPE_ENGINE_GENERAL=1 timeout 20 $D/hwscope $G | row)" >> $R/summary.txt
echo "general pdl off fp16,bf16 #$i: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_ENGINE_PDL=0 timeout 20 $D/hwscope $G | row)" >> $R/summary.txt
echo "prev build general all dtypes #$i: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda_prev.so timeout 20 $D/hwscope_prev $A | row)" >> $R/summary.txt
echo "general pdl on  all dtypes #$i: $(HWSCOPE_ENGINE_GENERAL=1 timeout 20 $D/hwscope $A | row)" >> $R/summary.txt
echo "general pdl off all dtypes #$i: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_ENGINE_PDL=0 timeout 20 $D/hwscope $A | row)" >> $R/summary.txt
done
echo "general pdl on, 8 tuned candidates fp16,bf16: $(HWSCOPE_ENGINE_GENERAL=1 HWSCOPE_ENGINE_AUTOTUNE=8 timeout 20 $D/hwscope $G | row)" >> $R/summary.txt
echo "one-key pdl on  fp16,bf16: $(timeout 20 $D/hwscope $G | row)" >> $R/summary.txt
echo "one-key pdl off fp16,bf16: $(HWSCOPE_ENGINE_PDL=0 timeout 20 $D/hwscope $G | row)" >> $R/summary.txt
HWSCOPE_ENGINE_GENERAL=1 timeout 20 $D/hwscope bench transformer --device cuda --profile --reps 50 > $R/gpu_general.log 2>&1
cat $R/summary.txt
cp $R/summary.txt $OUT/
timeout 110 python3 $D/transformer_bench.py --hwscope "$D/hwscope bench" --threads 16 --general \
  --compile-deadline-s 0 --cpu-rounds 0 --cpu-reps 5 --gpu-reps 30 --out $R/transformer-bench.json > $R/bench.log 2>&1
echo "peer rc $?" | tee -a $R/summary.txt
grep -E "matrix peak|hwscope|eager" $R/bench.log | tail -12
cp $R/* $OUT/ 2>/dev/null
