#!/bin/bash
# session 4: tied embeddings get a quantised head copy in int8/int4 (new) against HEAD (old):
# engine_test_llm, llm_check qwen2 (tied) + llama; GPU and CPU decode A/B; llama.cpp CPU Q4_K_M/Q8_0
END=${END:-280}
D=$PWD/.dev/s8
cd $D && tar xJf libs.tar.xz && tar xJf bins.tar.xz && xz -dkf libhwscope_cuda.so.xz libhwscope_cuda_old.so.xz && mkdir -p /tmp/lc && tar xJf llamacpp-bin.tar.xz -C /tmp/lc && cd - >/dev/null
export LD_LIBRARY_PATH=$D PYTHONUNBUFFERED=1 HWSCOPE_CEILINGS=/tmp/hws-ceilings.json
RES=$OUT; OUT=/tmp/w20; mkdir -p $OUT /tmp/lvp
trap 'tar cJf $RES/results.tar.xz -C /tmp w20' EXIT
T0=$EPOCHREALTIME; el() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}'; }
lim() { local l=$((END - $(el))); [ $l -gt $1 ] && l=$1; [ $l -lt 5 ] && l=0; echo $l; }
step() { echo "== [$(el)s] $*"; }
summ() { python3 -c "
import json,sys
fmt=None; out=[]
for l in open(sys.argv[1]):
    if not l.startswith('{'): out.append(l.strip()[:100]); continue
    d=json.loads(l)
    if d['event']=='model': fmt=d['format']
    if d['event']=='decode': out.append('%s b%d d%d %.1f' % (fmt, d['batch'], d['depth'], d['tokens_per_s']))
print(' | '.join(out))" $1 | fold -w 230; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt; nproc >> $OUT/env.txt
step "engine_test_llm (new)"
HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda.so timeout $(lim 40) $D/engine_test_llm > $OUT/engine-test.txt 2>&1; echo rc $?; tail -1 $OUT/engine-test.txt
step "GPU and CPU decode, old / new"
for rep in 1 2; do for v in old new; do
  if [ $v = old ]; then DRV=$D/llm_driver_old; M=$D/libhwscope_cuda_old.so; else DRV=$D/llm_driver; M=$D/libhwscope_cuda.so; fi
  for sh in Llama-3.2-1B:int4 Llama-3.2-1B:int8 Qwen2.5-1.5B:int4; do
    HWSCOPE_CUDA_MODULE=$M timeout $(lim 20) $DRV bench ${sh%:*} -f ${sh#*:} -b 1 -p 512 -n 64 -r 2 -c 1024 > $OUT/g.jsonl 2>&1; echo "gpu $v $rep ${sh%:*} $(summ $OUT/g.jsonl)"; done
  HWSCOPE_CUDA_MODULE=$M timeout $(lim 30) $DRV bench Llama-3.2-1B -f int4 -d cpu -t 16 -b 1 -p 64 -n 32 -r 2 -c 256 > $OUT/c.jsonl 2>&1; echo "cpu $v $rep Llama-3.2-1B $(summ $OUT/c.jsonl)"
done; done | tee $OUT/ab.txt
step "llm_check qwen2, llama (new)"
HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda.so timeout $(lim 100) python3 $D/llm_check.py $D/llm_driver $OUT/check --families qwen2,llama > $OUT/check.log 2>&1; echo rc $?
grep '^|' $OUT/check.log | grep -v '| yes |'; grep -c '| yes |' $OUT/check.log
step "llama.cpp CPU beside hwscope (new), Llama-3.2-1B Q4_K_M, Q8_0, 16 threads"
HWSCOPE_CUDA_MODULE=$D/libhwscope_cuda.so timeout $(lim 150) python3 $D/llm_vs_peers.py measure --hwscope $D/hwscope --llamacpp /tmp/lc/bin --tools $D/tools --work /tmp/lvp --reps 2 --prompt 64 --gen 32 --out $OUT/cpu-peers.json --peers llamacpp --shapes Llama-3.2-1B --llamacpp-shapes Llama-3.2-1B --quants Q4_K_M,Q8_0 --gguf-hwscope --cpu-threads 16 > $OUT/cpu-peers.log 2>&1; echo rc $?
python3 -c "
import json; d=json.load(open('$OUT/cpu-peers.json'))
for r in d['rows']: print(r.get('runtime'), r.get('format'), {k: round(v['mean'],1) for k, v in r.items() if isinstance(v, dict) and 'mean' in v})" 2>&1 | head
step done
