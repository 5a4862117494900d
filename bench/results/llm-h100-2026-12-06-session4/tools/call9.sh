#!/bin/bash
# session 4: staged-KV attention (l) with the carveout set to max shared for every kernel (c),
# with split 32 (s), both (cs), against the committed module (n); 8B bf16/int4 b1, b2 and bf16 d3000
END=${END:-420}
D=$PWD/.dev/s8
cd $D && tar xJf libs.tar.xz && xz -dkf libhwscope_cuda.so.xz libhwscope_cuda_n.so.xz && mv libhwscope_cuda.so libhwscope_cuda_l.so && cd - >/dev/null
export LD_LIBRARY_PATH=$D PYTHONUNBUFFERED=1 HWSCOPE_CEILINGS=/tmp/hws-ceilings.json
RES=$OUT; OUT=/tmp/w16; mkdir -p $OUT
trap 'tar cJf $RES/results.tar.xz -C /tmp w16' EXIT
T0=$EPOCHREALTIME; el() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}'; }
lim() { local l=$((END - $(el))); [ $l -gt $1 ] && l=$1; [ $l -lt 5 ] && l=0; echo $l; }
summ() { python3 -c "
import json,sys
fmt=None; out=[]
for l in open(sys.argv[1]):
    if not l.startswith('{'): out.append(l.strip()[:100]); continue
    d=json.loads(l)
    if d['event']=='model': fmt=d['format']
    if d['event']=='decode': out.append('%s b%d d%d %.1f' % (fmt, d['batch'], d['depth'], d['tokens_per_s']))
print(' | '.join(out))" $1 | fold -w 230; }
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $OUT/env.txt
for rep in 1 2; do for v in n l; do f=$OUT/bench-$v-$rep.jsonl
  m=l; [ $v = n ] && m=n; unset HWS_DEV_CARVE HWS_DEV_SPLIT

  for fm in bf16 int4; do HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda_$m.so timeout $(lim 25) $D/llm_driver bench Llama-3.1-8B -f $fm -b 1,2,8 -p 512 -n 64 -r 2 -c 4096; done > $f 2>&1
  HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda_$m.so timeout $(lim 25) $D/llm_driver bench Llama-3.1-8B -f bf16 -b 1 -p 0 -n 64 -r 2 -D 3000 -c 4096 >> $f 2>&1
  echo "-- $v $rep: $(summ $f)"; done; done
export HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda_l.so
echo "== engine_test_llm"; timeout $(lim 40) $D/engine_test_llm > $OUT/engine-test.txt 2>&1; echo rc $?; tail -1 $OUT/engine-test.txt
echo "== depth sweep l: bf16 b1 at 100, 1500, 6000 (-c 8192)"
for dd in 100 1500 6000; do for m in n l; do HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda_$m.so timeout $(lim 25) $D/llm_driver bench Llama-3.1-8B -f bf16 -b 1 -p 0 -n 32 -r 2 -D $dd -c 8192 > $OUT/depth-$m-$dd.jsonl 2>&1; echo "-- $m d$dd: $(summ $OUT/depth-$m-$dd.jsonl)"; done; done
echo "== llm_check every family, cuda"
timeout $(lim 200) python3 $D/llm_check.py $D/llm_driver $OUT/check --devices cuda > $OUT/check.log 2>&1; echo rc $?
grep '^|' $OUT/check.log | grep -v '| yes |'; grep -c '| yes |' $OUT/check.log
