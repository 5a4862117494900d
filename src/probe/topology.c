/* topology.c - the GPUs' link topology from NVML, as `nvidia-smi topo -m` shows it: NVLinks per
 * pair (direct, or through NVSwitch), PCIe common ancestor per pair, NVML's P2P status, and the
 * CPUs and NUMA nodes near each GPU. Every call NVML lacks or refuses leaves a fact unknown with
 * the reason in the notes. */
#include "hwscope/topology.h"
#include "probe/gpu_vendor.h"
#include "probe/notes.h"
#include "probe/nvml.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

#define AFFINITY_WORDS 16 /* 1024 CPUs */
#define WORD_BITS      (8 * (int)sizeof(unsigned long))

const char *hws_pcie_path_name(int path) {
    switch (path) {
    case HWS_PATH_BOARD:
        return "BRD";
    case HWS_PATH_PIX:
        return "PIX";
    case HWS_PATH_PXB:
        return "PXB";
    case HWS_PATH_PHB:
        return "PHB";
    case HWS_PATH_NODE:
        return "NODE";
    case HWS_PATH_SYS:
        return "SYS";
    default:
        return "n/a";
    }
}

const char *hws_p2p_status_text(int status) {
    static const char *const text[] = {
        "",
        "the chipset does not support it",
        "the GPU does not support it",
        "the I/O hub topology does not allow it",
        "disabled by a driver registry key",
        "not supported",
    };
    return status >= 0 && status < (int)(sizeof text / sizeof text[0]) ? text[status] : "";
}

const char *hws_nvlink_gen_name(unsigned version) {
    static const char *const gens[] = {"", "1.0", "2.0", "2.2", "3.0", "3.1", "4.0", "5.0"};
    return version < sizeof gens / sizeof gens[0] ? gens[version] : "";
}

void hws_topo_cell(const hws_topology *topo, int a, int b, char *buf, size_t n) {
    const hws_topo_pair *p = &topo->pairs[a][b];
    if (a == b)
        snprintf(buf, n, "X");
    else if (p->nvlinks > 0)
        snprintf(buf, n, "NV%d", p->nvlinks);
    else if (p->nvlinks < 0 && topo->gpus[a].nvlinks_active > 0 && topo->gpus[b].nvlinks_active > 0)
        snprintf(buf, n, "NV?"); /* both have links up, where they end is unknown */
    else
        snprintf(buf, n, "%s", hws_pcie_path_name(p->path));
}

/* "0-3,8,10-11" from a bit mask; "" when no bit is set. */
static void mask_text(const unsigned long *mask, int words, char *buf, size_t n) {
    size_t used = 0;
    int nbits = words * WORD_BITS;
    buf[0] = '\0';
    for (int i = 0; i < nbits && used < n; i++) {
        if (!(mask[i / WORD_BITS] >> (i % WORD_BITS) & 1UL))
            continue;
        int j = i;
        while (j + 1 < nbits && (mask[(j + 1) / WORD_BITS] >> ((j + 1) % WORD_BITS) & 1UL))
            j++;
        int w = j > i ? snprintf(buf + used, n - used, "%s%d-%d", used ? "," : "", i, j)
                      : snprintf(buf + used, n - used, "%s%d", used ? "," : "", i);
        used += w > 0 ? (size_t)w : 0;
        i = j;
    }
}

static void read_affinity(const hws_nvml *n, nvmlDevice_t dev, hws_topo_gpu *g) {
    unsigned long mask[AFFINITY_WORDS];
    memset(mask, 0, sizeof mask);
    nvmlReturn_t rc = n->DeviceGetCpuAffinity != NULL
                          ? n->DeviceGetCpuAffinity(dev, AFFINITY_WORDS, mask)
                          : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        mask_text(mask, AFFINITY_WORDS, g->cpu_affinity, sizeof g->cpu_affinity);
    else
        hws_note_add(&g->notes, "cpu_affinity: NVML: %s", hws_nvml_error(n, rc));
    memset(mask, 0, sizeof mask);
    rc = n->DeviceGetMemoryAffinity != NULL
             ? n->DeviceGetMemoryAffinity(dev, AFFINITY_WORDS, mask, NVML_AFFINITY_SCOPE_NODE)
             : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        mask_text(mask, AFFINITY_WORDS, g->numa_affinity, sizeof g->numa_affinity);
    else
        hws_note_add(&g->notes, "numa_affinity: NVML: %s", hws_nvml_error(n, rc));
}

/* Links up, their generation and what is at their far end. */
static void read_links(const hws_nvml *n, nvmlDevice_t dev, hws_topo_gpu *g) {
    int up = 0, to_switch = 0;
    for (unsigned l = 0; l < HWS_TOPO_MAX_LINKS; l++) {
        int active = 0, type = HWS_LINK_REMOTE_UNKNOWN;
        nvmlReturn_t rc = n->DeviceGetNvLinkState != NULL ? n->DeviceGetNvLinkState(dev, l, &active)
                                                          : NVML_ERROR_NOT_SUPPORTED;
        if (rc != NVML_SUCCESS) {
            if (l == 0 && rc == NVML_ERROR_NOT_SUPPORTED && n->DeviceGetNvLinkState != NULL)
                g->nvlinks_active = g->nvlinks_to_switch = 0; /* a GPU without NVLink */
            else if (l == 0)
                hws_note_add(&g->notes, "nvlinks_active: NVML: %s", hws_nvml_error(n, rc));
            break;
        }
        hws_topo_link *k = &g->links[g->nlinks++];
        k->active = active == 1;
        k->remote_type = HWS_LINK_REMOTE_UNKNOWN;
        k->remote_gpu = -1;
        if (!k->active)
            continue;
        up++;
        nvmlPciInfo_t pci;
        memset(&pci, 0, sizeof pci);
        if (n->DeviceGetNvLinkRemotePciInfo != NULL &&
            n->DeviceGetNvLinkRemotePciInfo(dev, l, &pci) == NVML_SUCCESS) {
            pci.busId[sizeof pci.busId - 1] = '\0';
            hws_bus_id_normalise(pci.busId, k->remote_pci_bus_id, sizeof k->remote_pci_bus_id);
        }
        if (n->DeviceGetNvLinkRemoteDeviceType != NULL &&
            n->DeviceGetNvLinkRemoteDeviceType(dev, l, &type) == NVML_SUCCESS)
            k->remote_type = type == NVML_NVLINK_DEVICE_TYPE_GPU      ? HWS_LINK_REMOTE_GPU
                             : type == NVML_NVLINK_DEVICE_TYPE_IBMNPU ? HWS_LINK_REMOTE_NPU
                             : type == NVML_NVLINK_DEVICE_TYPE_SWITCH ? HWS_LINK_REMOTE_SWITCH
                                                                      : HWS_LINK_REMOTE_UNKNOWN;
        to_switch += k->remote_type == HWS_LINK_REMOTE_SWITCH;
        if (!hws_known(g->nvlink_version)) {
            unsigned version = 0;
            rc = n->DeviceGetNvLinkVersion != NULL ? n->DeviceGetNvLinkVersion(dev, l, &version)
                                                   : NVML_ERROR_NOT_SUPPORTED;
            if (rc == NVML_SUCCESS) {
                g->nvlink_version = version;
                snprintf(g->nvlink_gen, sizeof g->nvlink_gen, "%s", hws_nvlink_gen_name(version));
            } else {
                hws_note_add(&g->notes, "nvlink_gen: NVML: %s", hws_nvml_error(n, rc));
            }
        }
    }
    if (g->nlinks > 0) {
        g->nvlinks_active = up;
        g->nvlinks_to_switch = to_switch;
    }
}

/* Links up whose far end is neither a known GPU nor of a type NVML named (an old driver without
 * nvmlDeviceGetNvLinkRemoteDeviceType). */
static int unknown_ends(const hws_topo_gpu *g) {
    int n = 0;
    for (int l = 0; l < g->nlinks; l++)
        n += g->links[l].active && g->links[l].remote_gpu < 0 &&
             g->links[l].remote_type == HWS_LINK_REMOTE_UNKNOWN;
    return n;
}

/* The pair's NVLinks: direct links from a whose far end is b, or through NVSwitch when both
 * have switch links (as nvidia-smi counts them: the smaller side's links). */
static void pair_links(const hws_topology *t, int a, int b, hws_topo_pair *p) {
    const hws_topo_gpu *ga = &t->gpus[a], *gb = &t->gpus[b];
    int direct = 0;
    if (!hws_known(ga->nvlinks_active) || !hws_known(gb->nvlinks_active))
        return; /* unknown: no NVLink answer on one side */
    for (int l = 0; l < ga->nlinks; l++)
        direct += ga->links[l].active && ga->links[l].remote_gpu == gb->index;
    int sa = (int)ga->nvlinks_to_switch, sb = (int)gb->nvlinks_to_switch;
    if (direct == 0 && (unknown_ends(ga) > 0 || unknown_ends(gb) > 0) && (sa == 0 || sb == 0))
        return; /* links whose far end NVML does not name: maybe a switch, so unknown */
    p->via_switch = direct == 0 && sa > 0 && sb > 0;
    p->nvlinks = p->via_switch ? (sa < sb ? sa : sb) : direct;
}

static void read_pair(const hws_nvml *n, hws_topology *t, nvmlDevice_t da, nvmlDevice_t db, int a,
                      int b) {
    hws_topo_pair *p = &t->pairs[a][b];
    int level = 0, status = 0;
    nvmlReturn_t rc = n->DeviceGetTopologyCommonAncestor != NULL
                          ? n->DeviceGetTopologyCommonAncestor(da, db, &level)
                          : NVML_ERROR_NOT_SUPPORTED;
    if (rc == NVML_SUCCESS)
        p->path = level;
    else
        hws_note_add(&t->notes, "path %d-%d: NVML: %s", a, b, hws_nvml_error(n, rc));
    int *dirs[2] = {&p->p2p_read, &p->p2p_write};
    for (int d = 0; d < 2; d++) {
        rc = n->DeviceGetP2PStatus != NULL ? n->DeviceGetP2PStatus(da, db, d, &status)
                                           : NVML_ERROR_NOT_SUPPORTED;
        if (rc == NVML_SUCCESS && status >= 0 && status < NVML_P2P_STATUS_UNKNOWN)
            *dirs[d] = status;
        else if (rc != NVML_SUCCESS && d == 0)
            hws_note_add(&t->notes, "p2p %d-%d: NVML: %s", a, b, hws_nvml_error(n, rc));
    }
    pair_links(t, a, b, p);
}

static void topo_init(hws_topology *t) {
    memset(t, 0, sizeof *t);
    for (int a = 0; a < HWS_MAX_GPUS; a++) {
        hws_topo_gpu *g = &t->gpus[a];
        g->index = a;
        g->nvlinks_active = g->nvlinks_to_switch = g->nvlink_version = HWS_NA;
        for (int b = 0; b < HWS_MAX_GPUS; b++)
            t->pairs[a][b] =
                (hws_topo_pair){-1, -1, HWS_PATH_UNKNOWN, HWS_P2P_UNKNOWN, HWS_P2P_UNKNOWN};
    }
}

hws_status hws_probe_topology(hws_topology *t, hws_error *err) {
    nvmlDevice_t devs[HWS_MAX_GPUS];
    unsigned count = 0;
    if (t == NULL)
        return hws_error_set(err, HWS_ERR_INPUT, "hws_probe_topology: no output");
    topo_init(t);
    hws_error nvml_err = {""};
    const hws_nvml *n = hws_nvml_get(&nvml_err);
    if (n == NULL) {
        snprintf(t->why_none, sizeof t->why_none, "%s", nvml_err.msg);
        return HWS_OK;
    }
    nvmlReturn_t rc = n->DeviceGetCount(&count);
    if (rc != NVML_SUCCESS || count == 0) {
        snprintf(t->why_none, sizeof t->why_none, "%s%s",
                 rc != NVML_SUCCESS ? "NVML: cannot count GPUs: " : "NVML sees no GPU",
                 rc != NVML_SUCCESS ? hws_nvml_error(n, rc) : "");
        return HWS_OK;
    }
    for (unsigned i = 0; i < count && t->count < HWS_MAX_GPUS; i++) {
        hws_topo_gpu *g = &t->gpus[t->count++];
        nvmlPciInfo_t pci;
        devs[i] = NULL;
        if ((rc = n->DeviceGetHandleByIndex(i, &devs[i])) != NVML_SUCCESS) {
            hws_note_add(&g->notes, "nvlinks_active: NVML: %s", hws_nvml_error(n, rc));
            devs[i] = NULL;
            continue;
        }
        memset(&pci, 0, sizeof pci);
        if (n->DeviceGetPciInfo != NULL && n->DeviceGetPciInfo(devs[i], &pci) == NVML_SUCCESS) {
            pci.busId[sizeof pci.busId - 1] = '\0';
            hws_bus_id_normalise(pci.busId, g->pci_bus_id, sizeof g->pci_bus_id);
        }
        read_links(n, devs[i], g);
        read_affinity(n, devs[i], g);
    }
    /* the far end of each link, as a GPU index, once every bus id is known */
    for (int a = 0; a < t->count; a++)
        for (int l = 0; l < t->gpus[a].nlinks; l++)
            for (int b = 0; b < t->count; b++)
                if (t->gpus[a].links[l].remote_pci_bus_id[0] != '\0' &&
                    strcmp(t->gpus[a].links[l].remote_pci_bus_id, t->gpus[b].pci_bus_id) == 0)
                    t->gpus[a].links[l].remote_gpu = b;
    for (int a = 0; a < t->count; a++)
        for (int b = 0; b < t->count; b++)
            if (a != b && devs[a] != NULL && devs[b] != NULL)
                read_pair(n, t, devs[a], devs[b], a, b);
    return HWS_OK;
}
