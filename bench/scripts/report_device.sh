#!/usr/bin/env bash
# report_device.sh - the report on the GPU machine: its whole run time with the quick measurement,
# the same report again reusing the saved figures, `hwscope bench mem gemm --quick` beside it,
# and PyTorch's copy and matmul figures, all in one call. Writes into $OUT.
cd "$(dirname "$0")"
tar -xJf libs.tar.xz # the shared libraries (and the CUDA module), packed to fit the carry limit
export LD_LIBRARY_PATH=$PWD HWSCOPE_CUDA_MODULE=$PWD/libhwscope_cuda.so COLUMNS=140
export HWSCOPE_CEILINGS=/tmp/hws-cache/ceilings.json
mkdir -p /tmp/hws-cache
log=$OUT/log.txt
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,power.limit,temperature.gpu --format=csv >"$log" 2>&1
t0=$EPOCHREALTIME
./hwscope report --bench --json --html "$OUT/report.html" >"$OUT/report.json" 2>>"$log"
echo "report --bench --json --html: exit $? in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b - a}') s" >>"$log"
t0=$EPOCHREALTIME
./hwscope report >"$OUT/report.txt" 2>>"$log"
echo "report (saved figures): exit $? in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b - a}') s" >>"$log"
t0=$EPOCHREALTIME
./hwscope bench mem gemm --quick --no-save >"$OUT/bench.txt" 2>>"$log"
echo "bench mem gemm --quick: exit $? in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b - a}') s" >>"$log"
python3 torch_peaks.py >>"$log" 2>&1
echo "torch: exit $?" >>"$log"
