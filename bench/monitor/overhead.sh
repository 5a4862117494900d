#!/usr/bin/env bash
# overhead.sh - CPU and memory cost of `hwscope top`, `log` and `serve` at a 1 s interval against
# the fake NVML (8 scripted GPUs), and scrape latency under wrk with where the server's time went
# (CPU vs waiting for a CPU). Prints a Markdown report.
# usage: bench/monitor/overhead.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(realpath "${1:-build}")
secs=${2:-20}
export HWSCOPE_NVML_LIB=$build/libfake_nvml.so
export HWSCOPE_FAKE_GPUS=$(realpath tests/fixtures/gpus/h100-8.txt)
bin=$build/hwscope
tck=$(getconf CLK_TCK)
cpu_s() { awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
pct() { awk -v a="$1" -v b="$2" -v s="$secs" 'BEGIN { printf "%.3f", 100 * (b - a) / s }'; }

echo "# hwscope monitor overhead ($(date -u +%Y-%m-%d), $(uname -n), $(nproc) CPUs," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo
echo "Fake NVML, 8 GPUs (tests/fixtures/gpus/h100-8.txt), interval 1 s, ${secs} s each;"
echo "CPU = utime + stime from /proc/PID/stat, over the window, as % of one core."
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| tool | CPU % of a core | RSS KiB |"
echo "| --- | --- | --- |"

sock=hws_overhead_$$
tmux -L "$sock" -f /dev/null new-session -d -s o -x 120 -y 40 \
  "env HWSCOPE_NVML_LIB=$HWSCOPE_NVML_LIB HWSCOPE_FAKE_GPUS=$HWSCOPE_FAKE_GPUS $bin top --interval 1"
sleep 2
top_pid=$(pgrep -n -f "$bin top --interval 1")
a=$(cpu_s "$top_pid"); sleep "$secs"; b=$(cpu_s "$top_pid")
echo "| hwscope top (120x40 tmux) | $(pct "$a" "$b") | $(rss_kb "$top_pid") |"
tmux -L "$sock" kill-server

"$bin" log --interval 1 >/dev/null & log_pid=$!
sleep 2
a=$(cpu_s $log_pid); sleep "$secs"; b=$(cpu_s $log_pid)
echo "| hwscope log (CSV to /dev/null) | $(pct "$a" "$b") | $(rss_kb $log_pid) |"
kill $log_pid; wait $log_pid || true

"$bin" serve --listen 127.0.0.1:0 --interval 1 2>/tmp/hws_overhead_serve.$$ & srv=$!
sleep 2
url=$(grep -o 'http://[^ ]*' /tmp/hws_overhead_serve.$$)
a=$(cpu_s $srv); rss0=$(rss_kb $srv)
for i in $(seq "$secs"); do curl -s "$url" >/dev/null; sleep 1; done  # Prometheus' pace
b=$(cpu_s $srv)
echo "| hwscope serve (1 scrape/s) | $(pct "$a" "$b") | $rss0 |"
echo
# where a request's time goes: the server's CPU time and its threads' wait for a CPU (run queue),
# both from /proc/PID/task/*/schedstat (ns on CPU, ns waiting to run, slices), per request
sched() { cat /proc/"$srv"/task/*/schedstat | awk '{ run += $1; wait += $2 } END { print run, wait }'; }
for conf in "-t1 -c4" "-t2 -c16"; do
  before=$(rss_kb $srv)
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  read -r run0 wait0 < <(sched)
  out=$(wrk $conf -d5s --latency "$url")
  read -r run1 wait1 < <(sched)
  after=$(rss_kb $srv)
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "wrk $conf -d5s (load average $load): $(echo "$out" | awk '/Requests\/sec/ {print $2}') requests/s," \
    "latency p50 $(echo "$out" | awk '$1 == "50%" {print $2}'), p99 $(echo "$out" | awk '$1 == "99%" {print $2}'),"\
    "errors: $(echo "$out" | grep -c -E 'Socket errors|Non-2xx' || true);" \
    "serve RSS $before -> $after KiB;" \
    "server CPU $(awk -v a="$run0" -v b="$run1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / 1e3 / n }') us/request," \
    "its threads waited for a CPU $(awk -v a="$wait0" -v b="$wait1" 'BEGIN { printf "%.0f", (b - a) / 1e6 }') ms of the 5 s"
  echo
done
kill $srv; wait $srv || true
rm -f /tmp/hws_overhead_serve.$$
