/* script.h - the GPU script that the fake NVML and CUDA driver libraries play back.
 *
 * The fakes (libfake_nvml.so, libfake_cuda.so) export the real NVML / CUDA driver symbols with
 * the real signatures and struct layouts, and answer from a text file named by
 * $HWSCOPE_FAKE_GPUS. The file is read again at every nvmlInit / cuInit, so one process can
 * switch scripts. No file (unset, missing or unreadable): every init fails as with no driver
 * (nvmlInit -> NVML_ERROR_DRIVER_NOT_LOADED, cuInit -> CUDA_ERROR_NO_DEVICE).
 *
 * Format: one `key = value` a line; '#' starts a comment; blank lines and lines without '='
 * are ignored; spaces around key and value are trimmed, one pair of surrounding double quotes
 * is removed from the value; a later key overrides an earlier one. Numbers are decimal, or hex
 * with 0x. Keys:
 *
 *   key                        value                                answered by
 *   -------------------------  -----------------------------------  ---------------------------
 *   nvml.init                  ok | NVML_ERROR_<name>               nvmlInit_v2, nvmlInit
 *   nvml.gone_after_ms         N: the driver goes away N ms after   every device call,
 *                              the first nvmlInit                   DeviceGetCount and nvmlInit
 *                                                                   return
 *                                                                   NVML_ERROR_DRIVER_NOT_LOADED
 *   nvml.back_after_ms         M (> N): the driver is back; calls   every device call until an
 *                              return NVML_ERROR_UNINITIALIZED      nvmlInit after M ms
 *                              until the next nvmlInit
 *   cuda.init                  ok | CUDA_ERROR_<name>               cuInit
 *   driver_version             "580.159.04"                         nvmlSystemGetDriverVersion
 *   nvml_version               "13.580.159.04"                      nvmlSystemGetNVMLVersion
 *   cuda_driver_version        13000 (1000*major + 10*minor)        cuDriverGetVersion,
 *                                                                   nvmlSystemGetCudaDriver...
 *   gpus                       N (or an NVML error name)            nvmlDeviceGetCount_v2,
 *                                                                   cuDeviceGetCount
 *   cuda.order                 "2,0,1": the NVML indices CUDA lists cuDeviceGet* (default: all
 *                              as its ordinals 0.. (drop one to hide   GPUs in NVML order)
 *                              it from CUDA)
 *   process_name               NVML error name: every                nvmlSystemGetProcessName
 *                              nvmlSystemGetProcessName fails so
 *
 *   Per GPU, I = 0..N-1 (NVML index):
 *   gpuI.handle                NVML error name (GetHandleByIndex fails)
 *   gpuI.lost                  1: every NVML device call returns NVML_ERROR_GPU_IS_LOST,
 *                              every CUDA call on it CUDA_ERROR_ECC_UNCORRECTABLE (or
 *                              gpuI.cuda_error when given)
 *   gpuI.cuda_error            CUDA error name every CUDA device call on the GPU returns
 *   gpuI.name                  "NVIDIA H100 80GB HBM3"              DeviceGetName, cuDeviceGetName
 *   gpuI.uuid                  "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"  GetUUID, cuDeviceGetUuid
 *   gpuI.serial                "1652823054789"                      GetSerial
 *   gpuI.pci_bus_id            "00000000:18:00.0" (NVML form)       GetPciInfo_v3 (busId; domain,
 *                                                                   bus, device parsed from it),
 *                                                                   cuDeviceGetPCIBusId
 *                                                                   ("0000:18:00.0"), CUDA
 *                                                                   PCI_DOMAIN/BUS/DEVICE_ID
 *   gpuI.pci_device_id         0x233010DE (device << 16 | vendor)   GetPciInfo_v3 pciDeviceId
 *   gpuI.pci_subsystem_id      0x16C110DE                           GetPciInfo_v3
 *   gpuI.memory_total          bytes                                GetMemoryInfo(_v2)
 *   gpuI.memory_reserved       bytes (0 when absent)                GetMemoryInfo_v2
 *   gpuI.memory_used           bytes (GetMemoryInfo's v1 used adds  GetMemoryInfo(_v2)
 *                              memory_reserved, as the real one)
 *   gpuI.memory_free           bytes                                GetMemoryInfo(_v2)
 *   gpuI.cuda_memory_total     bytes (default memory_total)         cuDeviceTotalMem_v2
 *   gpuI.cc                    9.0                                  GetCudaComputeCapability,
 *                                                                   CUDA CC_MAJOR/MINOR
 *   gpuI.sm_count              132                                  CUDA MULTIPROCESSOR_COUNT
 *   gpuI.max_sm_clock_mhz      1980                                 GetMaxClockInfo(GRAPHICS, SM),
 *                                                                   CUDA CLOCK_RATE (kHz)
 *   gpuI.max_mem_clock_mhz     2619                                 GetMaxClockInfo(MEM),
 *                                                                   CUDA MEMORY_CLOCK_RATE (kHz)
 *   gpuI.sm_clock_mhz          current SM clock                     GetClockInfo(SM, GRAPHICS)
 *   gpuI.mem_clock_mhz         current memory clock                 GetClockInfo(MEM)
 *   gpuI.bus_width             bits                                 GetMemoryBusWidth, CUDA
 *                                                                   GLOBAL_MEMORY_BUS_WIDTH
 *   gpuI.l2_bytes              bytes                                CUDA L2_CACHE_SIZE
 *   gpuI.pcie_gen_cur/_max     1..6                                 Get{Curr,Max}PcieLinkGeneration
 *   gpuI.pcie_width_cur/_max   lanes                                Get{Curr,Max}PcieLinkWidth
 *   gpuI.nvlink_active         L: links 0..L-1 enabled, L..17       GetNvLinkState (link >= 18:
 *                              disabled                             NVML_ERROR_INVALID_ARGUMENT)
 *   gpuI.power_limit_mw        enforced limit, mW                   GetEnforcedPowerLimit
 *   gpuI.power_mgmt_limit_mw   mW                                   GetPowerManagementLimit
 *   gpuI.default_power_limit_mw mW                                  GetPowerManagementDefaultLimit
 *   gpuI.power_usage_mw        mW                                   GetPowerUsage
 *   gpuI.temperature_c         degrees C                            GetTemperature(GPU)
 *   gpuI.util_gpu, .util_mem   percent                              GetUtilizationRates (both
 *                                                                   must be present)
 *   gpuI.ecc                   0/1 current (pending: .ecc_pending)  GetEccMode
 *   gpuI.mig                   0/1 current (pending: .mig_pending)  GetMigMode
 *   gpuI.persistence           0/1                                  GetPersistenceMode
 *   gpuI.clocks_event_reasons  hex mask                             GetCurrentClocksEventReasons,
 *                                                                   ...ThrottleReasons
 *   gpuI.ecc_errors_corrected  count (volatile)                     GetTotalEccErrors(CORRECTED)
 *   gpuI.ecc_errors_uncorrected count (volatile)                    GetTotalEccErrors(UNCORRECTED)
 *   gpuI.mig_devices           "name:uuid:total:free, ..." (the     GetMaxMigDeviceCount (8),
 *                              MIG instances, slots 0..; a MIG      GetMigDeviceHandleByIndex;
 *                              handle answers name, UUID, memory    on a MIG handle: GetName,
 *                              only)                                GetUUID, GetMemoryInfo(_v2)
 *   gpuI.procs                 "pid:name:used_bytes[:gi:ci], ..."   GetComputeRunningProcesses
 *                              ("" = none; gi/ci default             (_v3, _v2, plain v1 struct);
 *                              0xFFFFFFFF)                          names: SystemGetProcessName
 *   gpuI.lost_after_ms         N: the GPU turns lost (as .lost = 1)  every call, N ms after the
 *                              while a test runs                    first nvmlInit
 *   gpuI.energy_mj             mJ since the driver loaded           GetTotalEnergyConsumption
 *   gpuI.pcie_tx_kbs, _rx_kbs  KB/s                                 GetPcieThroughput(TX=0, RX=1)
 *   gpuI.pstate                0..15                                GetPerformanceState
 *   gpuI.fan_pct               percent                              GetFanSpeed
 *   gpuI.proc_util             "pid:sm_pct:mem_pct, ..."            GetProcessUtilization
 *   gpuI.nvlink_version        nvmlNvlinkVersion_t (6 = NVLink 4.0)  GetNvLinkVersion
 *   gpuI.nvlink_remote         "gpu:BUSID, switch:BUSID, ...": the   GetNvLinkRemoteDeviceType,
 *                              far end of link 0, 1, ...; the last   GetNvLinkRemotePciInfo_v2
 *                              item stands for every link after it    (a link that is down:
 *                              (types gpu, npu, switch)               NVML_ERROR_NOT_SUPPORTED)
 *   gpuI.cpu_affinity          "0-55,112-167" (CPU list)            GetCpuAffinity
 *   gpuI.numa_affinity         "0" (NUMA node list)                 GetMemoryAffinity(NODE)
 *
 *   Per pair of GPUs A, B (looked up as topo.A.B, then topo.B.A, then `topo` for every pair):
 *   topo.A.B                   BRD | PIX | PXB | PHB | NODE | SYS   GetTopologyCommonAncestor
 *   p2p.A.B                    ok | CHIPSET_NOT_SUPPORTED |          GetP2PStatus (READ; WRITE
 *                              GPU_NOT_SUPPORTED | IOH_TOPOLOGY_     too unless p2p_write.A.B
 *                              NOT_SUPPORTED | DISABLED_BY_REGKEY |  is given)
 *                              NOT_SUPPORTED | UNKNOWN
 *   gpuI.remapped_rows         "corrected,uncorrected,pending,      GetRemappedRows
 *                              failed"
 *   gpuI.retired_pages         "sbe,dbe,pending": pages retired     GetRetiredPages (cause 0, 1),
 *                              per cause, 1 when one is pending     GetRetiredPagesPendingStatus
 *   gpuI.nvlink_tx_kib_s,      KiB/s: the NVLink data counters      GetFieldValues (fields 138,
 *   gpuI.nvlink_rx_kib_s       grow so from nvmlInit, split over    139; scopeId = link or
 *                              the nvlink_active links              UINT_MAX for all links)
 *   gpuI.nvlink_per_link_only  1: the all-links scope is refused    GetFieldValues
 *   gpuI.xid                   "79@200, 48@500": XID critical       DeviceRegisterEvents (absent:
 *                              errors and when (ms after            NOT_SUPPORTED),
 *                              nvmlInit) they happen; "" none       EventSetWait_v2 (each once per
 *                                                                   event set)
 *
 * Any per-GPU value may be an NVML error name instead (`gpu0.power_limit_mw =
 * NVML_ERROR_NOT_SUPPORTED`): the NVML call returns that error; CUDA calls reading that key
 * return CUDA_ERROR_NOT_SUPPORTED. An absent key: NVML calls return NVML_ERROR_NOT_SUPPORTED,
 * CUDA calls CUDA_ERROR_INVALID_VALUE. A value that does not parse: NVML_ERROR_UNKNOWN /
 * CUDA_ERROR_UNKNOWN.
 *
 * The fakes are not thread-safe against a concurrent init (which re-reads the script); queries
 * after init only read. */
#ifndef HWSCOPE_TESTS_FAKES_SCRIPT_H
#define HWSCOPE_TESTS_FAKES_SCRIPT_H

#include <stdbool.h>

#define FAKE_MAX_GPUS 64

/* (Re)reads $HWSCOPE_FAKE_GPUS. Returns false when there is no readable script. */
bool fake_script_load(void);
/* The value of key, or NULL when absent (or no script is loaded). */
const char *fake_get(const char *key);
/* The value of "gpu<index>.<field>", or NULL. */
const char *fake_gpu_get(unsigned index, const char *field);

/* Parses a whole-string unsigned number (decimal, or hex with 0x); false when it is not one. */
bool fake_parse_u64(const char *text, unsigned long long *out);

/* The code of an error name: "ok"/"NVML_SUCCESS" -> 0, "NVML_ERROR_NO_PERMISSION" -> 4, ...;
 * -1 when text is not an NVML error name. */
int fake_nvml_code(const char *text);
/* The code of "ok"/"CUDA_SUCCESS"/"CUDA_ERROR_<name>"; -1 when not a CUDA error name. */
int fake_cuda_code(const char *text);
/* nvmlErrorString's text for a code ("Unknown Error" for codes it does not know). */
const char *fake_nvml_string(int code);
/* cuGetErrorName / cuGetErrorString texts; NULL for codes it does not know. */
const char *fake_cuda_name(int code);
const char *fake_cuda_string(int code);

#endif
