/* cuda_module.c - finds and opens libhwscope_cuda.so once, and hands out its entry points. */
#include "gpu/cuda_module.h"
#include "util/dynlib.h"

#include <dlfcn.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *module;
static hws_error open_error;

static void open_module(void) {
    char exe[4096], dir[4096], beside[4608], installed[4608];
    const char *candidates[4];
    int n = 0;
    const char *env = getenv("HWSCOPE_CUDA_MODULE");
    hws_error why = {""};
    /* a path the user gave is checked before dlopen maps it: a truncated file is named, not a
     * SIGBUS */
    if (env != NULL && env[0] != '\0' && hws_dynlib_check_file(env, &why) != HWS_OK) {
        hws_error_set(&open_error, HWS_ERR_INPUT, "HWSCOPE_CUDA_MODULE=%.440s", why.msg);
        module = NULL;
        return;
    }
    if (env != NULL && env[0] != '\0')
        candidates[n++] = env;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        snprintf(dir, sizeof dir, "%s", exe);
        char *d = dirname(dir);
        snprintf(beside, sizeof beside, "%s/libhwscope_cuda.so", d);
        snprintf(installed, sizeof installed, "%s/../lib/hwscope/libhwscope_cuda.so", d);
        candidates[n++] = beside;
        candidates[n++] = installed;
    }
    candidates[n] = NULL;
    if (hws_dynlib_open(candidates, &module, &open_error) != HWS_OK)
        module = NULL;
}

void *hws_cuda_module_sym(const char *name, hws_error *err) {
    pthread_once(&once, open_module);
    if (module == NULL) {
        hws_error_set(err, HWS_ERR_UNSUPPORTED, "CUDA module not available: %s", open_error.msg);
        return NULL;
    }
    void *addr = dlsym(module, name);
    if (addr == NULL)
        hws_error_set(err, HWS_ERR_UNSUPPORTED, "CUDA module has no %s", name);
    return addr;
}
