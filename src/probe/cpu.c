/* cpu.c - CPU facts: model, sockets, cores, threads, caches and NUMA through hwloc; clocks, ISA
 * features and container limits from /proc and /sys (read under the sysroot); the FP32 peak
 * derived from them.
 *
 * Tests point hwloc at a recorded tree (HWLOC_FSROOT = the sysroot) or at a hwloc XML export
 * ($HWSCOPE_HWLOC_XML), so the same code reads this machine and recorded ones. */
#include "hwscope/probe.h"
#include "probe/cgroup.h"
#include "probe/notes.h"
#include "util/file.h"
#include "util/sysfs.h"
#include "util/units.h"

#include <hwloc.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define CPUINFO_MAX         (1 << 20)
#define MAX_MHZ             100000.0   /* no CPU clock reaches 100 GHz */
#define HWLOC_XML_MAX_BYTES (64 << 20) /* a 1000-core machine's topology is a few MB */
#define MAX_CPU_ID          1048575    /* Linux's CONFIG_NR_CPUS tops out far below 2^20 */

/* 1 when word appears as a whole space-separated token of list. */
static int has_token(const char *list, const char *word) {
    size_t len = strlen(word);
    for (const char *p = strstr(list, word); p != NULL; p = strstr(p + 1, word)) {
        int starts = p == list || p[-1] == ' ';
        int ends = p[len] == '\0' || p[len] == ' ';
        if (starts && ends)
            return 1;
    }
    return 0;
}

typedef struct {
    unsigned implementer, part;
    const char *vendor, *model;
} arm_part;

/* The Arm cores of servers people run inference on (implementer and part numbers as lscpu's). */
static const arm_part arm_parts[] = {
    {0x41, 0xd0c, "ARM", "Neoverse-N1"}, {0x41, 0xd40, "ARM", "Neoverse-V1"},
    {0x41, 0xd49, "ARM", "Neoverse-N2"}, {0x41, 0xd4f, "ARM", "Neoverse-V2"},
    {0x41, 0xd8e, "ARM", "Neoverse-N3"}, {0x41, 0xd84, "ARM", "Neoverse-V3"},
    {0xc0, 0xac3, "Ampere", "Ampere-1"}, {0xc0, 0xac4, "Ampere", "Ampere-1a"},
    {0x61, 0x000, "Apple", "Apple"},
};

static void read_identity(hws_cpu_info *cpu, const char *cpuinfo) {
    char implementer[32], part[32], flags[8192];
    hws_keyed_value(cpuinfo, "CPU implementer", implementer, sizeof implementer);
    if (implementer[0] != '\0') {
        unsigned impl = (unsigned)strtoul(implementer, NULL, 0);
        hws_keyed_value(cpuinfo, "CPU part", part, sizeof part);
        unsigned p = (unsigned)strtoul(part, NULL, 0);
        snprintf(cpu->arch, sizeof cpu->arch, "aarch64");
        for (size_t i = 0; i < sizeof arm_parts / sizeof arm_parts[0]; i++) {
            if (arm_parts[i].implementer == impl &&
                (arm_parts[i].part == p || arm_parts[i].part == 0)) {
                snprintf(cpu->vendor, sizeof cpu->vendor, "%s", arm_parts[i].vendor);
                snprintf(cpu->model, sizeof cpu->model, "%s", arm_parts[i].model);
            }
        }
        if (cpu->model[0] == '\0')
            hws_note_add(&cpu->notes, "model: unknown Arm part %s/%s", implementer, part);
        hws_keyed_value(cpuinfo, "Features", flags, sizeof flags);
        cpu->has_neon = has_token(flags, "asimd");
        cpu->has_sve = has_token(flags, "sve");
        cpu->has_sve2 = has_token(flags, "sve2");
        cpu->has_fma = cpu->has_neon; /* Armv8 Advanced SIMD has fused multiply-add */
        cpu->has_avx2 = cpu->has_avx512f = cpu->has_avx512_bf16 = cpu->has_avx512_vnni = 0;
        cpu->has_avx512_fp16 = cpu->has_amx_tile = cpu->has_amx_bf16 = cpu->has_amx_int8 = 0;
        return;
    }
    hws_keyed_value(cpuinfo, "vendor_id", cpu->vendor, sizeof cpu->vendor);
    hws_keyed_value(cpuinfo, "model name", cpu->model, sizeof cpu->model);
    hws_keyed_value(cpuinfo, "flags", flags, sizeof flags);
    hws_keyed_value(cpuinfo, "cpu family", implementer, sizeof implementer);
    cpu->x86_family =
        hws_note_plausible(&cpu->notes, "x86_family", "/proc/cpuinfo",
                           implementer[0] != '\0' ? strtod(implementer, NULL) : HWS_NA, 0, 4096);
    hws_keyed_value(cpuinfo, "cpu MHz", part, sizeof part);
    cpu->cur_mhz = hws_note_plausible(&cpu->notes, "cur_mhz", "/proc/cpuinfo",
                                      part[0] != '\0' ? strtod(part, NULL) : HWS_NA, 1, MAX_MHZ);
    if (cpu->vendor[0] != '\0')
        snprintf(cpu->arch, sizeof cpu->arch, "x86_64");
    if (flags[0] == '\0')
        return;
    cpu->has_fma = has_token(flags, "fma");
    cpu->has_avx2 = has_token(flags, "avx2");
    cpu->has_avx512f = has_token(flags, "avx512f");
    cpu->has_avx512_bf16 = has_token(flags, "avx512_bf16");
    cpu->has_avx512_vnni = has_token(flags, "avx512_vnni");
    cpu->has_avx512_fp16 = has_token(flags, "avx512_fp16");
    cpu->has_amx_tile = has_token(flags, "amx_tile");
    cpu->has_amx_bf16 = has_token(flags, "amx_bf16");
    cpu->has_amx_int8 = has_token(flags, "amx_int8");
    cpu->has_neon = cpu->has_sve = cpu->has_sve2 = 0;
}

static const struct {
    hwloc_obj_type_t type;
    int level;
} cache_types[] = {
    {HWLOC_OBJ_L1CACHE, 1}, {HWLOC_OBJ_L1ICACHE, 1}, {HWLOC_OBJ_L2CACHE, 2},
    {HWLOC_OBJ_L3CACHE, 3}, {HWLOC_OBJ_L4CACHE, 4},
};

static void read_caches(hws_cpu_info *cpu, hwloc_topology_t topo) {
    for (size_t i = 0; i < sizeof cache_types / sizeof cache_types[0]; i++) {
        int count = hwloc_get_nbobjs_by_type(topo, cache_types[i].type);
        hwloc_obj_t obj = hwloc_get_obj_by_type(topo, cache_types[i].type, 0);
        if (count <= 0 || obj == NULL || cpu->ncaches >= HWS_MAX_CACHES)
            continue;
        hws_cache_info *c = &cpu->caches[cpu->ncaches++];
        c->level = cache_types[i].level;
        snprintf(c->type, sizeof c->type, "%s",
                 obj->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                 : obj->attr->cache.type == HWLOC_OBJ_CACHE_DATA      ? "data"
                                                                      : "unified");
        c->size_bytes = (double)obj->attr->cache.size;
        c->instances = count;
        c->shared_by_cpus = obj->cpuset != NULL ? hwloc_bitmap_weight(obj->cpuset) : HWS_NA;
    }
}

static void read_model_from_hwloc(hws_cpu_info *cpu, hwloc_topology_t topo) {
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    if (pkg == NULL)
        return;
    const char *model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
    const char *vendor = hwloc_obj_get_info_by_name(pkg, "CPUVendor");
    if (cpu->model[0] == '\0' && model != NULL)
        snprintf(cpu->model, sizeof cpu->model, "%s", model);
    if (cpu->vendor[0] == '\0' && vendor != NULL)
        snprintf(cpu->vendor, sizeof cpu->vendor, "%s", vendor);
}

/* Whether hwloc's Linux backend reads the sysroot: hwloc (2.x) takes its root only from
 * $HWLOC_FSROOT, which the library leaves to the caller (the CLI sets it from
 * $HWSCOPE_SYSROOT); the library never sets environment variables. */
static bool hwloc_reads_sysroot(void) {
    const char *fsroot = getenv("HWLOC_FSROOT");
    return fsroot != NULL && strcmp(fsroot, hws_sysroot()) == 0;
}

static hws_status read_topology(hws_cpu_info *cpu, hws_error *err) {
    hwloc_topology_t topo;
    const char *xml = getenv("HWSCOPE_HWLOC_XML");
    bool recorded = xml != NULL && xml[0] != '\0';
    if (!recorded && hws_sysroot()[0] != '\0' && !hwloc_reads_sysroot()) {
        /* hwloc would describe this machine, not the recorded one */
        hws_note_add(&cpu->notes, "sockets: hwloc reads $HWLOC_FSROOT, which is not the sysroot");
        return HWS_OK;
    }
    if (hwloc_topology_init(&topo) != 0)
        return hws_error_set(err, HWS_ERR_RUNTIME, "hwloc: cannot initialise a topology");
    if (recorded) {
        /* read here, bounded and without blocking, then handed to hwloc as a buffer */
        char *text;
        size_t len;
        hws_error why = {""};
        if (hws_file_read(xml, HWLOC_XML_MAX_BYTES, &text, &len, &why) != HWS_OK) {
            hwloc_topology_destroy(topo);
            return hws_error_set(err, HWS_ERR_INPUT, "HWSCOPE_HWLOC_XML=%.480s", why.msg);
        }
        int bad =
            len == 0 || len > INT_MAX || hwloc_topology_set_xmlbuffer(topo, text, (int)len) != 0;
        free(text);
        if (bad) {
            hwloc_topology_destroy(topo);
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "HWSCOPE_HWLOC_XML=%.400s: not a hwloc XML topology", xml);
        }
    } else if (hws_sysroot()[0] != '\0') {
        /* hwloc's x86 backend would read this CPU through cpuid, not the recorded one */
        hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "x86");
    }
    /* I/O discovery (GL, OpenCL, PCI) is not needed for CPU facts */
    static const char *const io[] = {"gl", "opencl", "pci", "cuda", "nvml", "rsmi", "levelzero"};
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++)
        hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, io[i]);
    hwloc_topology_set_icache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        if (xml != NULL && xml[0] != '\0')
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "HWSCOPE_HWLOC_XML=%.400s: hwloc cannot load this topology", xml);
        return hws_error_set(err, HWS_ERR_RUNTIME, "hwloc: cannot load the topology");
    }
    cpu->sockets = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    cpu->cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    cpu->threads = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    cpu->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    read_caches(cpu, topo);
    read_model_from_hwloc(cpu, topo);
    hwloc_topology_destroy(topo);
    return HWS_OK;
}

/* Counts the CPUs of a list such as "0-3,8-11"; HWS_NA when malformed or naming a CPU past
 * MAX_CPU_ID (a list of 2^63 CPUs is no machine's). */
static double count_cpulist(const char *list) {
    double count = 0;
    const char *p = list;
    while (*p != '\0') {
        char *end;
        long first = strtol(p, &end, 10), last;
        if (end == p || first < 0 || first > MAX_CPU_ID)
            return HWS_NA;
        last = first;
        if (*end == '-') {
            p = end + 1;
            last = strtol(p, &end, 10);
            if (end == p || last < first || last > MAX_CPU_ID)
                return HWS_NA;
        }
        count += (double)(last - first + 1);
        p = end;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return HWS_NA;
    }
    return count > 0 ? count : HWS_NA;
}

static double affinity_cpus(void) {
    char status[16384], list[4096];
    if (hws_sysroot()[0] == '\0') {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            return CPU_COUNT(&set);
    }
    if (hws_sys_read("/proc/self/status", status, sizeof status) < 0)
        return HWS_NA;
    hws_keyed_value(status, "Cpus_allowed_list", list, sizeof list);
    return list[0] != '\0' ? count_cpulist(list) : HWS_NA;
}

static void read_limits(hws_cpu_info *cpu) {
    double affinity = affinity_cpus();
    cpu->cgroup_cpu_quota = hws_note_plausible(&cpu->notes, "cgroup_cpu_quota", "cpu.max",
                                               hws_cgroup_cpu_quota(), 0, MAX_CPU_ID + 1);
    cpu->usable_cpus = hws_known(affinity) ? affinity : cpu->threads;
    if (hws_known(cpu->cgroup_cpu_quota) && cpu->cgroup_cpu_quota < cpu->usable_cpus)
        cpu->usable_cpus = cpu->cgroup_cpu_quota;
    if (!hws_known(cpu->cgroup_cpu_quota))
        hws_note_add(&cpu->notes, "cgroup_cpu_quota: no CPU quota applies");
}

/* Base clock from "... @ 2.10GHz" in the model name, MHz; HWS_NA when absent. */
static double clock_in_model_name(const char *model) {
    const char *at = strstr(model, "@ ");
    double ghz;
    if (at != NULL && sscanf(at + 2, "%lfGHz", &ghz) == 1 && ghz > 0 && ghz * 1000 <= MAX_MHZ)
        return ghz * 1000;
    return HWS_NA;
}

static void read_clocks(hws_cpu_info *cpu) {
    double max_khz = hws_sys_read_num("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
    double base_khz = hws_sys_read_num("/sys/devices/system/cpu/cpu0/cpufreq/base_frequency");
    cpu->max_mhz = hws_note_plausible(&cpu->notes, "max_mhz", "cpuinfo_max_freq (kHz)", max_khz,
                                      1000, MAX_MHZ * 1000) /
                   1000;
    base_khz = hws_note_plausible(&cpu->notes, "base_mhz", "base_frequency (kHz)", base_khz, 1000,
                                  MAX_MHZ * 1000);
    cpu->base_mhz = hws_known(base_khz) ? base_khz / 1000 : clock_in_model_name(cpu->model);
    if (!hws_known(max_khz))
        hws_note_add(&cpu->notes, "max_mhz: no cpufreq driver exposes it (VM or container)");
    if (!hws_known(cpu->base_mhz))
        hws_note_add(&cpu->notes, "base_mhz: neither cpufreq nor the model name states it");
}

/* The FP32 peak: cores x clock x lanes x 2 (FMA) x FMA pipes. Pipes and effective width are
 * per microarchitecture and stated in the notes, since no register reports them. */
static void derive_peak(hws_cpu_info *cpu) {
    double clock = hws_known(cpu->max_mhz) ? cpu->max_mhz : cpu->base_mhz;
    const char *clock_basis = hws_known(cpu->max_mhz) ? NULL : "the base clock, max unknown";
    /* Zen 4 (family 25) runs AVX-512 as two 256-bit halves; Zen 5 (26) has full 512-bit units */
    int half_width_avx512 = strstr(cpu->vendor, "AMD") != NULL && !(cpu->x86_family >= 26);
    if (!hws_known(clock)) {
        clock = cpu->cur_mhz;
        clock_basis = "the current clock in /proc/cpuinfo, base and max unknown";
    }
    if (cpu->has_avx512f == 1 && !half_width_avx512) {
        cpu->simd_width_bits = 512;
        cpu->fma_units_per_core = 2;
    } else if (cpu->has_avx2 == 1 || cpu->has_avx512f == 1) {
        cpu->simd_width_bits = 256;
        cpu->fma_units_per_core = 2;
    } else if (cpu->has_sve == 1 || cpu->has_neon == 1) {
        cpu->simd_width_bits = 128;
        cpu->fma_units_per_core = strstr(cpu->model, "V2") != NULL ? 4 : 2;
    } else {
        cpu->simd_width_bits = HWS_NA;
        cpu->fma_units_per_core = HWS_NA;
    }
    cpu->fp32_peak_gflops =
        cpu->cores * clock / 1000 * (cpu->simd_width_bits / 32) * 2 * cpu->fma_units_per_core;
    if (!hws_known(cpu->fp32_peak_gflops))
        hws_note_add(&cpu->notes, "fp32_peak_gflops: clock or SIMD width unknown");
    else if (clock_basis != NULL)
        hws_note_add(&cpu->notes, "fp32_peak_gflops: derived from %s", clock_basis);
}

/* The field tables of the CPU record: its facts, its ISA features and one cache level. */
static const hws_field cpu_fields[] = {
    HWS_STR(hws_cpu_info, model, "model"),
    HWS_STR(hws_cpu_info, vendor, "vendor"),
    HWS_STR(hws_cpu_info, arch, "architecture"),
    HWS_NUM(hws_cpu_info, x86_family, "x86 family", 1, 0, ""),
    HWS_NUM(hws_cpu_info, sockets, "sockets", 1, 0, ""),
    HWS_NUM(hws_cpu_info, cores, "cores", 1, 0, ""),
    HWS_NUM(hws_cpu_info, threads, "threads", 1, 0, ""),
    HWS_NUM(hws_cpu_info, numa_nodes, "NUMA nodes", 1, 0, ""),
    HWS_NUM(hws_cpu_info, usable_cpus, "usable CPUs", 1, 2, ""),
    HWS_NUM(hws_cpu_info, cgroup_cpu_quota, "cgroup CPU quota", 1, 2, "CPUs"),
    HWS_NUM(hws_cpu_info, base_mhz, "base clock", 1, 0, "MHz"),
    HWS_NUM(hws_cpu_info, max_mhz, "max clock", 1, 0, "MHz"),
    HWS_NUM(hws_cpu_info, cur_mhz, "clock now", 1, 0, "MHz"),
    HWS_NUM(hws_cpu_info, simd_width_bits, "SIMD width", 1, 0, "bit"),
    HWS_NUM(hws_cpu_info, fma_units_per_core, "FMA units per core (assumed)", 1, 0, ""),
    HWS_NUM(hws_cpu_info, fp32_peak_gflops, "FP32 peak (derived)", 1, 0, "GFLOP/s"),
};
static const hws_field isa_fields[] = {
    HWS_TRI(hws_cpu_info, has_fma, "FMA"),
    HWS_TRI(hws_cpu_info, has_avx2, "AVX2"),
    HWS_TRI(hws_cpu_info, has_avx512f, "AVX-512F"),
    HWS_TRI(hws_cpu_info, has_avx512_bf16, "AVX-512 BF16"),
    HWS_TRI(hws_cpu_info, has_avx512_vnni, "AVX-512 VNNI"),
    HWS_TRI(hws_cpu_info, has_avx512_fp16, "AVX-512 FP16"),
    HWS_TRI(hws_cpu_info, has_amx_tile, "AMX tile"),
    HWS_TRI(hws_cpu_info, has_amx_bf16, "AMX BF16"),
    HWS_TRI(hws_cpu_info, has_amx_int8, "AMX INT8"),
    HWS_TRI(hws_cpu_info, has_neon, "NEON"),
    HWS_TRI(hws_cpu_info, has_sve, "SVE"),
    HWS_TRI(hws_cpu_info, has_sve2, "SVE2"),
};
static const hws_field cache_fields[] = {
    HWS_INT(hws_cache_info, level, "level"),
    HWS_STR(hws_cache_info, type, "type"),
    HWS_NUM(hws_cache_info, size_bytes, "size", 1.0 / 1024, 0, "KiB"),
    HWS_NUM(hws_cache_info, instances, "instances", 1, 0, ""),
    HWS_NUM(hws_cache_info, shared_by_cpus, "shared by CPUs", 1, 0, ""),
};
const hws_field_table hws_cpu_info_table = HWS_FIELD_TABLE(hws_cpu_info, cpu_fields);
const hws_field_table hws_cpu_isa_table = HWS_FIELD_TABLE(hws_cpu_info, isa_fields);
const hws_field_table hws_cache_info_table = HWS_FIELD_TABLE(hws_cache_info, cache_fields);

static void init_unknown(hws_cpu_info *cpu) {
    hws_record_blank(&hws_cpu_info_table, cpu);
    hws_fields_blank(isa_fields, hws_cpu_isa_table.nfields, cpu);
}

hws_status hws_probe_cpu(hws_cpu_info *cpu, hws_error *err) {
    init_unknown(cpu);
    hws_status root_ok = hws_sysroot_check(err);
    if (root_ok != HWS_OK)
        return root_ok;
    char *cpuinfo = malloc(CPUINFO_MAX);
    if (cpuinfo == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory reading /proc/cpuinfo");
    if (hws_sys_read("/proc/cpuinfo", cpuinfo, CPUINFO_MAX) < 0) {
        cpuinfo[0] = '\0';
        hws_note_add(&cpu->notes, "model: /proc/cpuinfo unreadable");
    }
    read_identity(cpu, cpuinfo);
    free(cpuinfo);
    if (cpu->arch[0] == '\0' && hws_sysroot()[0] == '\0') {
        struct utsname u;
        if (uname(&u) == 0)
            snprintf(cpu->arch, sizeof cpu->arch, "%.15s", u.machine);
    }
    hws_status st = read_topology(cpu, err);
    if (st != HWS_OK)
        return st;
    read_clocks(cpu);
    read_limits(cpu);
    derive_peak(cpu);
    return HWS_OK;
}
