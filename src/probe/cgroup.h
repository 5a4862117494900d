/* cgroup.h - this process's control-group limits (v2 unified, else v1), read under the sysroot. */
#ifndef HWSCOPE_PROBE_CGROUP_H
#define HWSCOPE_PROBE_CGROUP_H

/* CPU quota in CPUs (cpu.max quota/period, or cfs_quota_us/cfs_period_us); HWS_NA when none. */
double hws_cgroup_cpu_quota(void);
/* Memory limit in bytes (memory.max or memory.limit_in_bytes); HWS_NA when none. */
double hws_cgroup_mem_limit(void);
/* Memory in use by the cgroup, bytes; HWS_NA when unknown. */
double hws_cgroup_mem_usage(void);

#endif
