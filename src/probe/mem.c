/* mem.c - memory facts: /proc/meminfo, huge pages, the cgroup limit, and DIMM type and speed from
 * SMBIOS type 17 records (readable by root only; otherwise n/a with the reason). */
#include "hwscope/probe.h"
#include "probe/cgroup.h"
#include "probe/notes.h"
#include "util/sysfs.h"
#include "util/units.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_MEMINFO_KB 1e15 /* an exabyte in kB: beyond any machine, and below 2^63 bytes */

/* SMBIOS memory types (DSP0134, 7.18.2) of the DIMMs servers and desktops carry. */
static const char *smbios_mem_type(unsigned char code) {
    switch (code) {
    case 0x18:
        return "DDR3";
    case 0x1A:
        return "DDR4";
    case 0x1B:
        return "LPDDR";
    case 0x1C:
        return "LPDDR2";
    case 0x1D:
        return "LPDDR3";
    case 0x1E:
        return "LPDDR4";
    case 0x20:
        return "HBM";
    case 0x21:
        return "HBM2";
    case 0x22:
        return "DDR5";
    case 0x23:
        return "LPDDR5";
    case 0x24:
        return "HBM3";
    default:
        return NULL;
    }
}

/* Reads the first populated type-17 record (/sys/firmware/dmi/entries/17-N/raw). */
static void read_dimms(hws_mem_info *mem) {
    int saw_denied = 0;
    for (int i = 0; i < 64; i++) {
        char path[96];
        unsigned char raw[128];
        snprintf(path, sizeof path, "/sys/firmware/dmi/entries/17-%d/raw", i);
        ssize_t len = hws_sys_read(path, (char *)raw, sizeof raw);
        if (len < 0) {
            saw_denied |= errno == EACCES || errno == EPERM;
            if (errno == ENOENT)
                break;
            continue;
        }
        if (len < 0x17 || raw[0] != 17)
            continue;
        unsigned size = raw[0x0C] | (unsigned)raw[0x0D] << 8;
        if (size == 0)
            continue; /* empty slot */
        const char *type = smbios_mem_type(raw[0x12]);
        unsigned speed = raw[0x15] | (unsigned)raw[0x16] << 8;
        if (len >= 0x22) {
            unsigned configured = raw[0x20] | (unsigned)raw[0x21] << 8;
            if (configured != 0 && configured != 0xFFFF)
                speed = configured;
        }
        if (type != NULL)
            snprintf(mem->dimm_type, sizeof mem->dimm_type, "%s", type);
        if (speed != 0 && speed != 0xFFFF)
            mem->dimm_speed_mts = speed;
        return;
    }
    const char *why = saw_denied ? "SMBIOS tables need root" : "no SMBIOS memory records";
    hws_note_add(&mem->notes, "dimm_type: %s", why);
    hws_note_add(&mem->notes, "dimm_speed_mts: %s", why);
}

/* The field table of the memory record. */
#define GIB (1.0 / HWS_GIB)
static const hws_field mem_fields[] = {
    HWS_NUM(hws_mem_info, total_bytes, "total", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, available_bytes, "available", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, swap_total_bytes, "swap", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, cgroup_limit_bytes, "cgroup limit", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, cgroup_usage_bytes, "cgroup usage", GIB, 1, "GiB"),
    HWS_NUM(hws_mem_info, hugepages_total, "huge pages", 1, 0, ""),
    HWS_NUM(hws_mem_info, hugepages_free, "huge pages free", 1, 0, ""),
    HWS_NUM(hws_mem_info, hugepage_size_bytes, "huge page size", 1.0 / 1024, 0, "KiB"),
    HWS_STR(hws_mem_info, dimm_type, "DIMM type"),
    HWS_NUM(hws_mem_info, dimm_speed_mts, "DIMM speed", 1, 0, "MT/s"),
};
const hws_field_table hws_mem_info_table = HWS_FIELD_TABLE(hws_mem_info, mem_fields);

/* A /proc/meminfo number (kB or a count), n/a with a note when no machine could have it. */
static double meminfo_num(hws_mem_info *mem, const char *text, const char *key, const char *field) {
    return hws_note_plausible(&mem->notes, field, "/proc/meminfo",
                              hws_sys_read_keyed_num(text, key), 0, MAX_MEMINFO_KB);
}

hws_status hws_probe_mem(hws_mem_info *mem, hws_error *err) {
    char text[8192];
    hws_record_blank(&hws_mem_info_table, mem);
    hws_status root_ok = hws_sysroot_check(err);
    if (root_ok != HWS_OK)
        return root_ok;
    if (hws_sys_read("/proc/meminfo", text, sizeof text) < 0)
        return hws_error_set(err, HWS_ERR_RUNTIME, "%s/proc/meminfo: %s", hws_sysroot(),
                             strerror(errno));
    mem->total_bytes = meminfo_num(mem, text, "MemTotal", "total_bytes") * 1024;
    mem->available_bytes = meminfo_num(mem, text, "MemAvailable", "available_bytes") * 1024;
    mem->swap_total_bytes = meminfo_num(mem, text, "SwapTotal", "swap_total_bytes") * 1024;
    mem->hugepages_total = meminfo_num(mem, text, "HugePages_Total", "hugepages_total");
    mem->hugepages_free = meminfo_num(mem, text, "HugePages_Free", "hugepages_free");
    mem->hugepage_size_bytes = meminfo_num(mem, text, "Hugepagesize", "hugepage_size_bytes") * 1024;
    mem->cgroup_limit_bytes = hws_note_plausible(&mem->notes, "cgroup_limit_bytes", "memory.max",
                                                 hws_cgroup_mem_limit(), 0, MAX_MEMINFO_KB * 1024);
    mem->cgroup_usage_bytes =
        hws_note_plausible(&mem->notes, "cgroup_usage_bytes", "memory.current",
                           hws_cgroup_mem_usage(), 0, MAX_MEMINFO_KB * 1024);
    if (!hws_known(mem->cgroup_limit_bytes))
        hws_note_add(&mem->notes, "cgroup_limit_bytes: no memory limit applies");
    read_dimms(mem);
    return HWS_OK;
}
