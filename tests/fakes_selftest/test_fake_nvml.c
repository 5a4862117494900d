/* test_fake_nvml.c - tests of the fake NVML and CUDA driver libraries themselves: they are
 * opened with dlopen as the probe opens the real ones, and must answer per their script. */
#include "hws_test.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The ABI as nvml.h / cuda.h give it (the fakes must match these layouts). */
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;
typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;
#define NVML_MEMORY_V2 ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;
typedef struct {
    char bytes[16];
} CUuuid;

typedef int (*fn_void)(void);
typedef int (*fn_uintp)(unsigned int *);
typedef int (*fn_str)(char *, unsigned int);
typedef int (*fn_handle)(unsigned int, nvmlDevice_t *);
typedef int (*fn_dev_str)(nvmlDevice_t, char *, unsigned int);
typedef int (*fn_dev_uint)(nvmlDevice_t, unsigned int *);
typedef int (*fn_dev_pci)(nvmlDevice_t, nvmlPciInfo_t *);
typedef int (*fn_dev_mem)(nvmlDevice_t, nvmlMemory_t *);
typedef int (*fn_dev_mem2)(nvmlDevice_t, nvmlMemory_v2_t *);
typedef int (*fn_dev_procs)(nvmlDevice_t, unsigned int *, void *);
typedef int (*fn_dev_link)(nvmlDevice_t, unsigned int, int *);
typedef int (*fn_dev_clock)(nvmlDevice_t, int, unsigned int *);
typedef int (*fn_dev_intint)(nvmlDevice_t, int *, int *);
typedef int (*fn_pid_name)(unsigned int, char *, unsigned int);
typedef const char *(*fn_errstr)(int);
typedef int (*fn_cuinit)(unsigned int);
typedef int (*fn_intp)(int *);
typedef int (*fn_cuattr)(int *, int, int);
typedef int (*fn_cubusid)(char *, int, int);
typedef int (*fn_cuuuid)(CUuuid *, int);
typedef int (*fn_cumem)(size_t *, int);
typedef int (*fn_cuerr)(int, const char **);

static void *nvml, *cuda;

/* The fake's symbol; fails the test when the fake lacks it. */
static void *sym(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p)
        fail_msg("fake library lacks %s", name);
    return p;
}
#define NVML(type, name) ((type)sym(nvml, name))
#define CUDA(type, name) ((type)sym(cuda, name))

static void *open_env(const char *var) {
    const char *path = getenv(var);
    if (!path)
        fail_msg("%s is not set (run through ctest)", var);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fail_msg("dlopen %s: %s", path, dlerror());
    return h;
}

static int setup(void **state) {
    (void)state;
    nvml = open_env("HWSCOPE_FAKE_NVML");
    cuda = open_env("HWSCOPE_FAKE_CUDA");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    dlclose(nvml);
    dlclose(cuda);
    return 0;
}

static void use_script(const char *name) {
    setenv("HWSCOPE_FAKE_GPUS", hws_fixture(name), 1);
}

/* Writes text to a temporary script and points $HWSCOPE_FAKE_GPUS at it. */
static void use_text(const char *text) {
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/hws-fake-script-%d.txt", (int)getpid());
    hws_write_file(path, text, strlen(text));
    setenv("HWSCOPE_FAKE_GPUS", path, 1);
}

static nvmlDevice_t init_and_get(unsigned index) {
    nvmlDevice_t dev = NULL;
    assert_int_equal(NVML(fn_void, "nvmlInit_v2")(), 0);
    assert_int_equal(NVML(fn_handle, "nvmlDeviceGetHandleByIndex_v2")(index, &dev), 0);
    return dev;
}

static void test_no_script_is_no_driver(void **state) {
    (void)state;
    unsetenv("HWSCOPE_FAKE_GPUS");
    assert_int_equal(NVML(fn_void, "nvmlInit_v2")(), 9); /* DRIVER_NOT_LOADED */
    assert_int_equal(NVML(fn_void, "nvmlInit")(), 9);
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 100); /* CUDA_ERROR_NO_DEVICE */
    setenv("HWSCOPE_FAKE_GPUS", "/nonexistent/script.txt", 1);
    assert_int_equal(NVML(fn_void, "nvmlInit_v2")(), 9);
    unsigned n = 0;
    assert_int_equal(NVML(fn_uintp, "nvmlDeviceGetCount_v2")(&n), 1); /* UNINITIALIZED */
    assert_string_equal(NVML(fn_errstr, "nvmlErrorString")(9), "Driver Not Loaded");
}

static void test_no_driver_script(void **state) {
    (void)state;
    use_script("gpus/no-driver.txt");
    assert_int_equal(NVML(fn_void, "nvmlInit_v2")(), 9);
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 100);
    int v = 0;
    assert_int_equal(CUDA(fn_intp, "cuDriverGetVersion")(&v), 0);
    assert_int_equal(v, 13000);
    assert_int_equal(CUDA(fn_intp, "cuDeviceGetCount")(&v), 3); /* NOT_INITIALIZED */
}

static void test_none_script(void **state) {
    (void)state;
    use_script("gpus/none.txt");
    unsigned n = 99;
    nvmlDevice_t dev = NULL;
    assert_int_equal(NVML(fn_void, "nvmlInit_v2")(), 0);
    assert_int_equal(NVML(fn_uintp, "nvmlDeviceGetCount_v2")(&n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(NVML(fn_handle, "nvmlDeviceGetHandleByIndex_v2")(0, &dev), 2);
    assert_int_equal(NVML(fn_void, "nvmlShutdown")(), 0);
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 100);
}

static void test_h100_identity(void **state) {
    (void)state;
    use_script("gpus/h100-1.txt");
    nvmlDevice_t dev = init_and_get(0);
    char buf[96];
    assert_int_equal(NVML(fn_dev_str, "nvmlDeviceGetName")(dev, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "NVIDIA H100 80GB HBM3");
    assert_int_equal(NVML(fn_dev_str, "nvmlDeviceGetName")(dev, buf, 8), 7); /* too small */
    assert_int_equal(NVML(fn_str, "nvmlSystemGetDriverVersion")(buf, 4), 7);
    assert_int_equal(NVML(fn_str, "nvmlSystemGetDriverVersion")(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "580.159.04");
    nvmlPciInfo_t pci;
    assert_int_equal(NVML(fn_dev_pci, "nvmlDeviceGetPciInfo_v3")(dev, &pci), 0);
    assert_string_equal(pci.busId, "00000000:18:00.0");
    assert_string_equal(pci.busIdLegacy, "0000:18:00.0");
    assert_int_equal(pci.bus, 0x18);
    assert_int_equal(pci.pciDeviceId, 0x233010DE);
    int major = 0, minor = -1;
    assert_int_equal(NVML(fn_dev_intint, "nvmlDeviceGetCudaComputeCapability")(dev, &major, &minor),
                     0);
    assert_int_equal(major * 10 + minor, 90);
    unsigned mhz = 0, link_state = 7;
    assert_int_equal(NVML(fn_dev_clock, "nvmlDeviceGetMaxClockInfo")(dev, 1, &mhz), 0);
    assert_int_equal(mhz, 1980);
    assert_int_equal(NVML(fn_dev_clock, "nvmlDeviceGetMaxClockInfo")(dev, 2, &mhz), 0);
    assert_int_equal(mhz, 2619);
    assert_int_equal(NVML(fn_dev_link, "nvmlDeviceGetNvLinkState")(dev, 0, (int *)&link_state), 0);
    assert_int_equal(link_state, 0);
    assert_int_equal(NVML(fn_dev_link, "nvmlDeviceGetNvLinkState")(dev, 18, (int *)&link_state), 2);
    assert_int_equal(NVML(fn_dev_uint, "nvmlDeviceGetEnforcedPowerLimit")(dev, &mhz), 0);
    assert_int_equal(mhz, 700000);
    assert_int_equal(NVML(fn_void, "nvmlShutdown")(), 0);
    assert_int_equal(NVML(fn_dev_uint, "nvmlDeviceGetEnforcedPowerLimit")(dev, &mhz), 1);
}

static void test_h100_memory(void **state) {
    (void)state;
    use_script("gpus/h100-1.txt");
    nvmlDevice_t dev = init_and_get(0);
    nvmlMemory_t m1;
    assert_int_equal(NVML(fn_dev_mem, "nvmlDeviceGetMemoryInfo")(dev, &m1), 0);
    assert_true(m1.total == 81559ull << 20);
    assert_true(m1.used + m1.free == m1.total);
    nvmlMemory_v2_t m2 = {.version = 2}; /* a bare 2 is the wrong version word */
    assert_int_equal(NVML(fn_dev_mem2, "nvmlDeviceGetMemoryInfo_v2")(dev, &m2), 25);
    m2.version = NVML_MEMORY_V2;
    assert_int_equal(NVML(fn_dev_mem2, "nvmlDeviceGetMemoryInfo_v2")(dev, &m2), 0);
    assert_true(m2.total == m1.total && m2.used == m1.used && m2.reserved == 0);
    NVML(fn_void, "nvmlShutdown")();
}

static void test_h100_processes(void **state) {
    (void)state;
    use_script("gpus/h100-1.txt");
    nvmlDevice_t dev = init_and_get(0);
    unsigned n = 0;
    fn_dev_procs v3 = NVML(fn_dev_procs, "nvmlDeviceGetComputeRunningProcesses_v3");
    assert_int_equal(v3(dev, &n, NULL), 7); /* INSUFFICIENT_SIZE, with the count needed */
    assert_int_equal(n, 2);
    nvmlProcessInfo_t p[4];
    n = 1;
    assert_int_equal(v3(dev, &n, p), 7);
    n = 4;
    assert_int_equal(v3(dev, &n, p), 0);
    assert_int_equal(n, 2);
    assert_int_equal(p[1].pid, 51877);
    assert_true(p[1].usedGpuMemory == 8589934592ull);
    assert_int_equal(p[0].gpuInstanceId, 0xFFFFFFFFu);
    nvmlProcessInfo_v1_t q[4];
    n = 4;
    assert_int_equal(NVML(fn_dev_procs, "nvmlDeviceGetComputeRunningProcesses")(dev, &n, q), 0);
    assert_int_equal(q[1].pid, 51877); /* the v1 stride */
    char name[64];
    fn_pid_name pname = NVML(fn_pid_name, "nvmlSystemGetProcessName");
    assert_int_equal(pname(48213, name, sizeof(name)), 0);
    assert_string_equal(name, "/usr/bin/python3");
    assert_int_equal(pname(1, name, sizeof(name)), 6); /* NOT_FOUND */
    NVML(fn_void, "nvmlShutdown")();
}

static void test_h100_cuda(void **state) {
    (void)state;
    use_script("gpus/h100-1.txt");
    int n = 0, v = 0;
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 0);
    assert_int_equal(CUDA(fn_intp, "cuDeviceGetCount")(&n), 0);
    assert_int_equal(n, 1);
    fn_cuattr attr = CUDA(fn_cuattr, "cuDeviceGetAttribute");
    assert_int_equal(attr(&v, 13, 0), 0);
    assert_int_equal(v, 1980000); /* kHz */
    assert_int_equal(attr(&v, 16, 0), 0);
    assert_int_equal(v, 132);
    assert_int_equal(attr(&v, 38, 0), 0);
    assert_int_equal(v, 50 << 20);
    assert_int_equal(attr(&v, 33, 0), 0);
    assert_int_equal(v, 0x18);
    assert_int_equal(attr(&v, 75, 0), 0);
    assert_int_equal(v, 9);
    assert_int_equal(attr(&v, 16, 1), 101); /* INVALID_DEVICE */
    char bus[32];
    assert_int_equal(CUDA(fn_cubusid, "cuDeviceGetPCIBusId")(bus, sizeof(bus), 0), 0);
    assert_string_equal(bus, "0000:18:00.0");
    CUuuid u;
    assert_int_equal(CUDA(fn_cuuuid, "cuDeviceGetUuid_v2")(&u, 0), 0);
    assert_int_equal((unsigned char)u.bytes[0], 0x4f);
    assert_int_equal((unsigned char)u.bytes[15], 0x83);
    size_t bytes = 0;
    assert_int_equal(CUDA(fn_cumem, "cuDeviceTotalMem_v2")(&bytes, 0), 0);
    assert_true(bytes == 85032304640ull);
    const char *s = NULL;
    assert_int_equal(CUDA(fn_cuerr, "cuGetErrorName")(100, &s), 0);
    assert_string_equal(s, "CUDA_ERROR_NO_DEVICE");
    assert_int_equal(CUDA(fn_cuerr, "cuGetErrorString")(12345, &s), 1);
    assert_null(s);
}

static void test_error_values_and_absent_keys(void **state) {
    (void)state;
    use_text("gpus = 2\n"
             "gpu0.power_limit_mw = NVML_ERROR_NO_PERMISSION  # a comment\n"
             "gpu0.sm_count = NVML_ERROR_NOT_SUPPORTED\n"
             "gpu0.procs = \"\"\n"
             "gpu0.temperature_c = hot\n"
             "gpu1.lost = 1\n"
             "gpu1.name = \"lost one\"\n");
    nvmlDevice_t dev = init_and_get(0), dev1 = NULL;
    unsigned v = 0, n = 0;
    assert_int_equal(NVML(fn_dev_uint, "nvmlDeviceGetEnforcedPowerLimit")(dev, &v), 4);
    assert_int_equal(NVML(fn_dev_uint, "nvmlDeviceGetPowerUsage")(dev, &v), 3); /* absent */
    assert_int_equal(NVML(fn_dev_clock, "nvmlDeviceGetTemperature")(dev, 0, &v), 999);
    assert_int_equal(NVML(fn_dev_procs, "nvmlDeviceGetComputeRunningProcesses_v2")(dev, &n, NULL),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(NVML(fn_handle, "nvmlDeviceGetHandleByIndex_v2")(1, &dev1), 0);
    char name[64];
    assert_int_equal(NVML(fn_dev_str, "nvmlDeviceGetName")(dev1, name, sizeof(name)), 15);
    NVML(fn_void, "nvmlShutdown")();
    int sm = 0;
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 0);
    assert_int_equal(CUDA(fn_cuattr, "cuDeviceGetAttribute")(&sm, 16, 0), 801);
    assert_int_equal(CUDA(fn_cuattr, "cuDeviceGetAttribute")(&sm, 36, 0), 1);   /* absent */
    assert_int_equal(CUDA(fn_cuattr, "cuDeviceGetAttribute")(&sm, 16, 1), 214); /* lost */
}

static void test_garbage_script_does_not_crash(void **state) {
    (void)state;
    char junk[3000];
    for (size_t i = 0; i < sizeof(junk) - 1; i++)
        junk[i] = (char)(1 + (i * 7919) % 254);
    junk[sizeof(junk) - 1] = '\0';
    use_text(junk);
    if (NVML(fn_void, "nvmlInit_v2")() == 0) {
        unsigned n = 0;
        NVML(fn_uintp, "nvmlDeviceGetCount_v2")(&n);
        NVML(fn_void, "nvmlShutdown")();
    }
    use_text("= =\n==\ngpus = 3x\ngpu0.procs = 1:a\n   \n#only\nnvml.init = NVML_ERROR_BOGUS\n");
    assert_int_equal(NVML(fn_void, "nvmlInit_v2")(), 999);
}

static void test_old_driver_lacks_new_calls(void **state) {
    (void)state;
    const char *path = getenv("HWSCOPE_FAKE_NVML_OLD");
    if (!path)
        skip();
    void *old = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(old);
    assert_null(dlsym(old, "nvmlDeviceGetComputeRunningProcesses_v3"));
    assert_null(dlsym(old, "nvmlDeviceGetMemoryInfo_v2"));
    assert_non_null(dlsym(old, "nvmlDeviceGetComputeRunningProcesses_v2"));
    assert_non_null(dlsym(old, "nvmlDeviceGetMemoryInfo"));
    assert_non_null(dlsym(old, "nvmlDeviceGetCurrentClocksThrottleReasons"));
    assert_null(dlsym(old, "nvmlDeviceGetCurrentClocksEventReasons"));
    dlclose(old);
}

static void test_h100_8_board(void **state) {
    (void)state;
    use_script("gpus/h100-8.txt");
    nvmlDevice_t dev = init_and_get(7);
    int link = 0;
    unsigned cur = 9, pending = 9;
    assert_int_equal(NVML(fn_dev_link, "nvmlDeviceGetNvLinkState")(dev, 17, &link), 0);
    assert_int_equal(link, 1);
    dev = init_and_get(5);
    assert_int_equal(NVML(fn_dev_intint, "nvmlDeviceGetMigMode")(dev, (int *)&cur, (int *)&pending),
                     0);
    assert_true(cur == 1 && pending == 1);
    nvmlProcessInfo_t p[2];
    unsigned n = 2;
    assert_int_equal(NVML(fn_dev_procs, "nvmlDeviceGetComputeRunningProcesses_v3")(dev, &n, p), 0);
    assert_true(n == 1 && p[0].gpuInstanceId == 1 && p[0].computeInstanceId == 0);
    NVML(fn_void, "nvmlShutdown")();
    NVML(fn_void, "nvmlShutdown")();
    int count = 0, sms = 0;
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 0);
    assert_int_equal(CUDA(fn_intp, "cuDeviceGetCount")(&count), 0);
    assert_int_equal(count, 8);
    assert_int_equal(CUDA(fn_cuattr, "cuDeviceGetAttribute")(&sms, 16, 5), 0);
    assert_int_equal(sms, 60);
}

static void test_gpu_lost_hidden_from_cuda(void **state) {
    (void)state;
    use_script("gpus/gpu-lost.txt");
    int count = 0;
    assert_int_equal(CUDA(fn_cuinit, "cuInit")(0), 0);
    assert_int_equal(CUDA(fn_intp, "cuDeviceGetCount")(&count), 0);
    assert_int_equal(count, 1);
    nvmlDevice_t dev = init_and_get(1);
    nvmlPciInfo_t pci;
    assert_int_equal(NVML(fn_dev_pci, "nvmlDeviceGetPciInfo_v3")(dev, &pci), 15);
    NVML(fn_void, "nvmlShutdown")();
}

/* Every scripted case loads, and every GPU it lists answers GetName (a value or an error). */
static void test_every_script_plays(void **state) {
    (void)state;
    DIR *dir = opendir(hws_fixture("gpus"));
    assert_non_null(dir);
    int scripts = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        char rel[300];
        snprintf(rel, sizeof(rel), "gpus/%s", e->d_name);
        use_script(rel);
        scripts++;
        if (NVML(fn_void, "nvmlInit_v2")() != 0)
            continue;
        unsigned n = 0;
        assert_int_equal(NVML(fn_uintp, "nvmlDeviceGetCount_v2")(&n), 0);
        for (unsigned i = 0; i < n; i++) {
            nvmlDevice_t dev = NULL;
            char name[96];
            if (NVML(fn_handle, "nvmlDeviceGetHandleByIndex_v2")(i, &dev) == 0) {
                int rc = NVML(fn_dev_str, "nvmlDeviceGetName")(dev, name, sizeof(name));
                if (rc != 0 && rc != 15)
                    fail_msg("%s gpu%u: GetName returned %d", rel, i, rc);
            }
        }
        NVML(fn_void, "nvmlShutdown")();
    }
    closedir(dir);
    assert_true(scripts >= 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_script_is_no_driver),
        cmocka_unit_test(test_no_driver_script),
        cmocka_unit_test(test_none_script),
        cmocka_unit_test(test_h100_identity),
        cmocka_unit_test(test_h100_memory),
        cmocka_unit_test(test_h100_processes),
        cmocka_unit_test(test_h100_cuda),
        cmocka_unit_test(test_error_values_and_absent_keys),
        cmocka_unit_test(test_garbage_script_does_not_crash),
        cmocka_unit_test(test_old_driver_lacks_new_calls),
        cmocka_unit_test(test_h100_8_board),
        cmocka_unit_test(test_gpu_lost_hidden_from_cuda),
        cmocka_unit_test(test_every_script_plays),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
