#!/usr/bin/env bash
# record-machine.sh - records the /proc and /sys files that hwscope's CPU/memory probe and hwloc's
# Linux backend read, as a root-relative tree usable as HWSCOPE_SYSROOT / HWLOC_FSROOT.
#
# Usage: scripts/record-machine.sh DEST
#   DEST gets proc/..., sys/... (only small text files; serial numbers and UUIDs are left out),
#   expected-*.txt (lscpu, lscpu -C, free -b, nproc, uname -m, when those tools exist) and
#   topology.xml (lstopo --of xml of the recorded tree, when lstopo exists).
# Needs only bash and coreutils; tools beyond those are used when present. Unreadable or
# missing files are skipped silently. Example:
#   scripts/record-machine.sh tests/fixtures/machines/x86-ci
set -u

if [ $# -ne 1 ] || [ "${1:0:1}" = "-" ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi
dest=$1
mkdir -p "$dest" || exit 1

# save FILE: copies FILE (absolute path) to $dest/FILE with cat (proc/sys files report size 0).
save() {
    local f=$1
    [ -f "$f" ] && [ -r "$f" ] || return 0
    mkdir -p "$dest$(dirname "$f")" || return 0
    if cat "$f" >"$dest$f.tmp" 2>/dev/null; then
        mv "$dest$f.tmp" "$dest$f"
    else
        rm -f "$dest$f.tmp"
    fi
}

# save_in DIR NAME...: saves each DIR/NAME that exists.
save_in() {
    local dir=$1 name
    shift
    for name in "$@"; do
        save "$dir/$name"
    done
}

# --- /proc ---
save_in /proc cpuinfo meminfo self/status self/cgroup self/cpuset
# only the cgroup lines of /proc/mounts (hwloc finds the cpuset/cgroup mount there)
if [ -r /proc/mounts ]; then
    mkdir -p "$dest/proc"
    while read -r dev mnt type rest; do
        case $type in cgroup | cgroup2) echo "$dev $mnt $type $rest" ;; esac
    done </proc/mounts >"$dest/proc/mounts"
fi

# --- CPUs ---
cpu=/sys/devices/system/cpu
save_in $cpu online possible present offline kernel_max isolated smt/active smt/control
for c in "$cpu"/cpu[0-9]*; do
    [ -d "$c" ] || continue
    save_in "$c" online cpu_capacity
    for t in "$c"/topology/*; do
        save "$t"
    done
    for i in "$c"/cache/index[0-9]*; do
        save_in "$i" level type size shared_cpu_list shared_cpu_map coherency_line_size \
            ways_of_associativity number_of_sets physical_line_partition id
    done
    save_in "$c/cpufreq" cpuinfo_max_freq cpuinfo_min_freq base_frequency scaling_max_freq \
        scaling_driver
done

# --- NUMA nodes and huge pages ---
node=/sys/devices/system/node
save_in $node online possible has_cpu has_memory has_normal_memory
for n in "$node"/node[0-9]*; do
    [ -d "$n" ] || continue
    save_in "$n" cpulist cpumap meminfo distance
    for h in "$n"/hugepages/hugepages-*; do
        save_in "$h" nr_hugepages free_hugepages
    done
done
for h in /sys/kernel/mm/hugepages/hugepages-*; do
    save_in "$h" nr_hugepages free_hugepages
done
save /sys/kernel/mm/transparent_hugepage/enabled

# --- cgroup limits: v2 (unified) and v1, at the root and at this process's cgroup ---
cg=/sys/fs/cgroup
v2_files=(cgroup.controllers cpu.max memory.max memory.high memory.current cpuset.cpus.effective
    cpuset.mems.effective)
save_in $cg "${v2_files[@]}"
save_in $cg/unified "${v2_files[@]}"
# v1: "N:cpu,cpuacct:/path" -> /sys/fs/cgroup/cpu,cpuacct{,/path}
v1_files() {
    case ",$1," in
    *,cpu,*) echo cpu.cfs_quota_us cpu.cfs_period_us ;;
    *,memory,*) echo memory.limit_in_bytes memory.usage_in_bytes ;;
    *,cpuset,*) echo cpuset.cpus cpuset.mems cpuset.effective_cpus ;;
    esac
}
if [ -r /proc/self/cgroup ]; then
    while IFS=: read -r _ controllers path; do
        if [ -z "$controllers" ]; then
            save_in "$cg$path" "${v2_files[@]}"
            save_in "$cg/unified$path" "${v2_files[@]}"
        else
            read -r -a files <<<"$(v1_files "$controllers")"
            [ "${#files[@]}" -gt 0 ] || continue
            save_in "$cg/$controllers" "${files[@]}"
            save_in "$cg/$controllers$path" "${files[@]}"
        fi
    done </proc/self/cgroup
fi

# --- firmware identity (no serials, no UUIDs) ---
save_in /sys/class/dmi/id sys_vendor product_name product_version product_family board_vendor \
    board_name bios_vendor bios_version bios_date chassis_vendor chassis_type
# arm64 firmware-described machines name themselves in the device tree
save_in /proc/device-tree model compatible

# --- what the standard tools say, for field-by-field tests ---
run() { # run OUTFILE CMD...: when CMD exists, saves its stdout
    local out=$1
    shift
    command -v "$1" >/dev/null 2>&1 && LC_ALL=C "$@" >"$dest/$out" 2>/dev/null
    return 0
}
run expected-lscpu.txt lscpu
run expected-lscpu-C.txt lscpu -C
run expected-free.txt free -b
run expected-nproc.txt nproc
run expected-nproc-all.txt nproc --all
run expected-uname.txt uname -m
run expected-date.txt date -u +%Y-%m-%dT%H:%M:%SZ

# --- hwloc's view of the recorded tree (not of the live machine) ---
if command -v lstopo >/dev/null 2>&1; then
    if (cd "$dest" && HWLOC_FSROOT=. HWLOC_COMPONENTS=linux,no_os,stop lstopo -f --of xml \
        topology.xml.tmp >/dev/null 2>&1); then
        mv "$dest/topology.xml.tmp" "$dest/topology.xml"
    else
        rm -f "$dest/topology.xml.tmp"
    fi
fi
echo "recorded this machine into $dest" >&2
