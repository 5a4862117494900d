#!/bin/bash
# engine2's final device run: tests, CPU/GPU variants, PyTorch peer in the same call
D=.dev/engine2
R=/tmp/engine2; rm -rf $R; mkdir -p $R
export LD_LIBRARY_PATH=$D HWSCOPE_FIXTURES=$D/fixtures HWSCOPE_CUDA_MODULE=$PWD/$D/libhwscope_cuda.so
date -u > $R/date.txt
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv > $R/gpu.txt 2>&1
lscpu > $R/cpu.txt 2>&1
timeout 60 $D/engine_test_golden > $R/test_golden.log 2>&1; echo "golden rc $?" >> $R/summary.txt
timeout 60 $D/engine_test_kernels > $R/test_kernels.log 2>&1; echo "kernels rc $?" >> $R/summary.txt
grep -E "FAIL|ERROR|LINE|one-key|case b" $R/test_golden.log >> $R/summary.txt
B="$D/hwscope bench transformer"
for v in default:X=1 general:HWSCOPE_ENGINE_GENERAL=1; do
  n=${v%%:*}; e=${v#*:}
  timeout 60 env $e $B --device cpu --threads 16 --reps 10 > $R/cpu_$n.log 2>&1
  echo "cpu $n: $(grep -E '^CPU, ' $R/cpu_$n.log)" >> $R/summary.txt
done
timeout 90 $B --device cuda --profile --reps 50 > $R/gpu.log 2>&1
grep -E "H100" $R/gpu.log >> $R/summary.txt
HWSCOPE_ENGINE_GENERAL=1 timeout 60 $B --device cuda --reps 50 > $R/gpu_general.log 2>&1
grep -E "H100" $R/gpu_general.log | sed 's/^/general: /' >> $R/summary.txt
cat $R/summary.txt
timeout 170 python3 $D/transformer_bench.py --hwscope "$D/hwscope bench" --threads 16 --compile-modes reduce-overhead --gpu-reps 30 --compile-deadline-s 110 --out $R/transformer-bench.json > $R/bench.log 2>&1
echo "peer rc $?"
tail -12 $R/bench.log
cp $R/transformer-bench.json $R/summary.txt $R/bench.log $OUT/ 2>/dev/null
tar czf $OUT/all.tgz -C /tmp engine2
