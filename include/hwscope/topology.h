/* topology.h - how the GPUs of this machine are joined, as `nvidia-smi topo -m` shows it: NVLinks
 * per pair (direct or through NVSwitch) and their generation, the PCIe path between each pair
 * (one switch, several switches, a host bridge, a NUMA node, across sockets), whether NVML says
 * peer-to-peer reads and writes work (and why not), and the CPUs and NUMA nodes near each GPU.
 *
 * Read from NVML (nvmlDeviceGetTopologyCommonAncestor, nvmlDeviceGetNvLinkRemotePciInfo_v2,
 * nvmlDeviceGetP2PStatus, nvmlDeviceGetCpuAffinity, nvmlDeviceGetMemoryAffinity). A driver
 * without one of those calls leaves that fact unknown (-1 / "") with the reason in notes; it
 * never fails the probe. GPUs are numbered as NVML numbers them (as hws_gpu_info.index). */
#ifndef HWSCOPE_TOPOLOGY_H
#define HWSCOPE_TOPOLOGY_H

#include "hwscope/probe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HWS_TOPO_MAX_LINKS 18

/* The PCIe path between two GPUs: the closest common ancestor, as NVML's
 * nvmlGpuTopologyLevel_t numbers it; nvidia-smi's words in hws_pcie_path_name. */
typedef enum {
    HWS_PATH_UNKNOWN = -1,
    HWS_PATH_BOARD = 0, /* "BRD": two GPUs on one board */
    HWS_PATH_PIX = 10,  /* at most one PCIe switch */
    HWS_PATH_PXB = 20,  /* several PCIe switches, no host bridge */
    HWS_PATH_PHB = 30,  /* through a PCIe host bridge (the CPU) */
    HWS_PATH_NODE = 40, /* between host bridges of one NUMA node */
    HWS_PATH_SYS = 50   /* across NUMA nodes: the socket interconnect (UPI, xGMI) */
} hws_pcie_path;

/* What the far end of an NVLink is. */
typedef enum {
    HWS_LINK_REMOTE_UNKNOWN = -1,
    HWS_LINK_REMOTE_GPU = 0,
    HWS_LINK_REMOTE_NPU = 1, /* an IBM POWER CPU */
    HWS_LINK_REMOTE_SWITCH = 2
} hws_link_remote;

typedef struct {
    int active;                 /* 1 up, 0 down, -1 unknown */
    int remote_type;            /* hws_link_remote */
    char remote_pci_bus_id[32]; /* lower case "0000:2a:00.0"; "" unknown */
    int remote_gpu;             /* NVML index of the GPU at the far end, -1 none or unknown */
} hws_topo_link;

typedef struct {
    int index;                /* NVML index */
    char pci_bus_id[32];      /* lower case "0000:18:00.0" */
    double nvlinks_active;    /* links up; NA when unknown (no NVLink API: n/a with reason) */
    double nvlinks_to_switch; /* of those, to an NVSwitch */
    double nvlink_version;    /* NVML's nvmlNvlinkVersion_t of link 0; NA unknown */
    char nvlink_gen[8];       /* "4.0" (H100), "3.0" (A100); "" unknown or no link */
    char cpu_affinity[160];   /* CPUs near the GPU as a list, "0-55,112-167"; "" unknown */
    char numa_affinity[64];   /* NUMA nodes near the GPU, "0"; "" unknown */
    int nlinks;               /* links[] filled: 0..HWS_TOPO_MAX_LINKS */
    hws_topo_link links[HWS_TOPO_MAX_LINKS];
    hws_notes notes;
} hws_topo_gpu;

/* nvidia-smi topo -p2p's answer for a pair, per direction. */
typedef enum {
    HWS_P2P_UNKNOWN = -1, /* NVML could not say */
    HWS_P2P_OK = 0,
    HWS_P2P_CHIPSET = 1,  /* the chipset does not support it */
    HWS_P2P_GPU = 2,      /* the GPU does not support it (GeForce since Ada, MIG) */
    HWS_P2P_TOPOLOGY = 3, /* the I/O hub topology does not allow it */
    HWS_P2P_REGKEY = 4,   /* disabled by a driver registry key */
    HWS_P2P_NOT_SUPPORTED = 5
} hws_p2p_status;

typedef struct {
    int nvlinks;    /* NVLinks joining the pair (through NVSwitch: the smaller side's count);
                     * 0 none, -1 unknown */
    int via_switch; /* 1 when the links go through NVSwitch, 0 direct, -1 unknown */
    int path;       /* hws_pcie_path */
    int p2p_read;   /* hws_p2p_status */
    int p2p_write;  /* hws_p2p_status */
} hws_topo_pair;

typedef struct {
    int count;                    /* GPUs (0 with the reason in why_none) */
    char why_none[HWS_ERROR_LEN]; /* why there is no topology */
    hws_topo_gpu gpus[HWS_MAX_GPUS];
    hws_topo_pair pairs[HWS_MAX_GPUS][HWS_MAX_GPUS]; /* [a][b]; [a][a] is the GPU itself */
    hws_notes notes;                                 /* reasons for pair facts ("path: ...") */
} hws_topology;

/* Reads the topology of every GPU NVML lists. Never fails for a missing driver (count 0 and
 * why_none says why); fails only on bad arguments. */
HWS_API hws_status hws_probe_topology(hws_topology *topo, hws_error *err);

/* "SYS", "NODE", "PHB", "PXB", "PIX", "BRD"; "n/a" for an unknown path. */
HWS_API const char *hws_pcie_path_name(int path);
/* The nvidia-smi topo -m cell of a pair: "X" for a GPU with itself, "NV18", "NV?" when both
 * have NVLinks up but NVML does not say where they end, else the PCIe path. */
HWS_API void hws_topo_cell(const hws_topology *topo, int a, int b, char *buf, size_t n);
/* Why P2P between the pair does not work, in words ("the GPU does not support it"); "" when
 * it does or nothing is known. */
HWS_API const char *hws_p2p_status_text(int status);
/* NVML's nvmlNvlinkVersion_t as NVLink's own numbering: 6 -> "4.0"; "" when unknown. */
HWS_API const char *hws_nvlink_gen_name(unsigned version);

#ifdef __cplusplus
}
#endif

#endif
