/* script.c - reads the GPU script of the fake NVML / CUDA libraries (format in script.h). */
#include "script.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_MAX_BYTES (1 << 20)

typedef struct {
    char *key;
    char *value;
} entry;

static char *script_text; /* the file, cut in place into keys and values */
static entry *entries;
static size_t nentries;

typedef struct {
    int code;
    const char *name;
    const char *text;
} error_name;

/* Values per nvml.h (nvmlReturn_t); texts as nvmlErrorString gives them. */
static const error_name nvml_errors[] = {
    {0, "NVML_SUCCESS", "Success"},
    {1, "NVML_ERROR_UNINITIALIZED", "Uninitialized"},
    {2, "NVML_ERROR_INVALID_ARGUMENT", "Invalid Argument"},
    {3, "NVML_ERROR_NOT_SUPPORTED", "Not Supported"},
    {4, "NVML_ERROR_NO_PERMISSION", "Insufficient Permissions"},
    {5, "NVML_ERROR_ALREADY_INITIALIZED", "Already Initialized"},
    {6, "NVML_ERROR_NOT_FOUND", "Not Found"},
    {7, "NVML_ERROR_INSUFFICIENT_SIZE", "Insufficient Size"},
    {8, "NVML_ERROR_INSUFFICIENT_POWER", "Insufficient External Power"},
    {9, "NVML_ERROR_DRIVER_NOT_LOADED", "Driver Not Loaded"},
    {10, "NVML_ERROR_TIMEOUT", "Timeout"},
    {11, "NVML_ERROR_IRQ_ISSUE", "Interrupt request issue"},
    {12, "NVML_ERROR_LIBRARY_NOT_FOUND", "NVML Shared Library Not Found"},
    {13, "NVML_ERROR_FUNCTION_NOT_FOUND", "Function Not Found"},
    {14, "NVML_ERROR_CORRUPTED_INFOROM", "Corrupted infoROM"},
    {15, "NVML_ERROR_GPU_IS_LOST", "GPU is lost"},
    {16, "NVML_ERROR_RESET_REQUIRED", "GPU requires restart"},
    {17, "NVML_ERROR_OPERATING_SYSTEM", "The operating system has blocked the request."},
    {18, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", "RM has detected an NVML/RM version mismatch."},
    {19, "NVML_ERROR_IN_USE", "In use by another client"},
    {20, "NVML_ERROR_MEMORY", "Insufficient Memory"},
    {21, "NVML_ERROR_NO_DATA", "No data"},
    {22, "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED",
     "The requested vgpu operation is not available on target device, because ECC is enabled"},
    {23, "NVML_ERROR_INSUFFICIENT_RESOURCES", "Ran out of critical resources, other than memory"},
    {24, "NVML_ERROR_FREQ_NOT_SUPPORTED", "Frequency not supported"},
    {25, "NVML_ERROR_ARGUMENT_VERSION_MISMATCH", "Argument version mismatch"},
    {26, "NVML_ERROR_DEPRECATED", "Deprecated"},
    {27, "NVML_ERROR_NOT_READY", "Not Ready"},
    {28, "NVML_ERROR_GPU_NOT_FOUND", "GPU not found"},
    {29, "NVML_ERROR_INVALID_STATE", "Invalid state"},
    {999, "NVML_ERROR_UNKNOWN", "Unknown Error"},
};

/* Values per cuda.h (CUresult); texts as cuGetErrorString gives them. */
static const error_name cuda_errors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {34, "CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"},
    {46, "CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA-capable device(s) is/are busy or unavailable"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {102, "CUDA_ERROR_DEVICE_NOT_LICENSED", "device doesn't have valid Grid license"},
    {214, "CUDA_ERROR_ECC_UNCORRECTABLE", "uncorrectable ECC error encountered"},
    {304, "CUDA_ERROR_OPERATING_SYSTEM", "OS call failed or operation not supported on this OS"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {802, "CUDA_ERROR_SYSTEM_NOT_READY", "system not yet initialized"},
    {803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
     "system has unsupported display driver / cuda driver combination"},
    {804, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
     "forward compatibility was attempted on non supported HW"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static void script_free(void) {
    free(script_text);
    free(entries);
    script_text = NULL;
    entries = NULL;
    nentries = 0;
}

/* Frees the script when the library is unloaded (dlclose), so leak checkers stay quiet. */
__attribute__((destructor)) static void script_unload(void) {
    script_free();
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(SCRIPT_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, SCRIPT_MAX_BYTES, f) : 0;
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Cuts one line into key and value in place; false for comments, blanks and junk. */
static bool parse_line(char *line, entry *out) {
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *eq = strchr(line, '=');
    if (!eq)
        return false;
    *eq = '\0';
    char *key = trim(line), *value = trim(eq + 1);
    if (!*key)
        return false;
    size_t n = strlen(value);
    if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
        value[n - 1] = '\0';
        value++;
    }
    out->key = key;
    out->value = value;
    return true;
}

bool fake_script_load(void) {
    script_free();
    const char *path = getenv("HWSCOPE_FAKE_GPUS");
    if (!path || !*path || !(script_text = read_all(path)))
        return false;
    size_t lines = 1;
    for (const char *p = script_text; *p; p++)
        lines += *p == '\n';
    entries = calloc(lines, sizeof(*entries));
    if (!entries) {
        script_free();
        return false;
    }
    char *save = NULL;
    for (char *line = strtok_r(script_text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (parse_line(line, &entries[nentries]))
            nentries++;
    }
    return true;
}

const char *fake_get(const char *key) {
    const char *found = NULL; /* the last one wins */
    for (size_t i = 0; i < nentries; i++)
        if (strcmp(entries[i].key, key) == 0)
            found = entries[i].value;
    return found;
}

const char *fake_gpu_get(unsigned index, const char *field) {
    char key[128];
    snprintf(key, sizeof(key), "gpu%u.%s", index, field);
    return fake_get(key);
}

bool fake_parse_u64(const char *text, unsigned long long *out) {
    if (!text || !isdigit((unsigned char)*text))
        return false;
    char *end = NULL;
    int base = (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 16 : 10;
    unsigned long long v = strtoull(text, &end, base);
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

static int code_of(const error_name *table, size_t n, const char *text) {
    if (!text)
        return -1;
    if (strcmp(text, "ok") == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, text) == 0)
            return table[i].code;
    return -1;
}

static const error_name *entry_of(const error_name *table, size_t n, int code) {
    for (size_t i = 0; i < n; i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

int fake_nvml_code(const char *text) {
    return code_of(nvml_errors, COUNT(nvml_errors), text);
}

int fake_cuda_code(const char *text) {
    return code_of(cuda_errors, COUNT(cuda_errors), text);
}

const char *fake_nvml_string(int code) {
    const error_name *e = entry_of(nvml_errors, COUNT(nvml_errors), code);
    return e ? e->text : "Unknown Error";
}

const char *fake_cuda_name(int code) {
    const error_name *e = entry_of(cuda_errors, COUNT(cuda_errors), code);
    return e ? e->name : NULL;
}

const char *fake_cuda_string(int code) {
    const error_name *e = entry_of(cuda_errors, COUNT(cuda_errors), code);
    return e ? e->text : NULL;
}
