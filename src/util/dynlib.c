/* dynlib.c - dlopen with a symbol table resolved in one loop. */
#include "util/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hws_status hws_dynlib_open(const char *const *candidates, void **handle, hws_error *err) {
    char seen[HWS_ERROR_LEN] = "";
    size_t used = 0;
    *handle = NULL;
    for (size_t i = 0; candidates[i] != NULL; i++) {
        void *h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (h != NULL) {
            *handle = h;
            return HWS_OK;
        }
        const char *why = dlerror();
        int wrote = snprintf(seen + used, sizeof seen - used, "%s%s", used ? "; " : "",
                             why != NULL ? why : candidates[i]);
        if (wrote > 0)
            used += (size_t)wrote < sizeof seen - used ? (size_t)wrote : sizeof seen - used - 1;
    }
    return hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s", seen);
}

hws_status hws_dynlib_resolve(void *handle, hws_dynsym *syms, size_t count, const char *libname,
                              hws_error *err) {
    for (size_t i = 0; i < count; i++) {
        hws_dynsym *s = &syms[i];
        *s->ptr = NULL;
        s->resolved_index = -1;
        for (int k = 0; k < HWS_DYNSYM_NAMES && s->names[k] != NULL; k++) {
            void *addr = dlsym(handle, s->names[k]);
            if (addr != NULL) {
                *s->ptr = addr;
                s->resolved_index = k;
                break;
            }
        }
        if (*s->ptr == NULL && s->required)
            return hws_error_set(err, HWS_ERR_RUNTIME, "%s: missing symbol %s", libname,
                                 s->names[0]);
    }
    return HWS_OK;
}

void hws_dynlib_close(void *handle) {
    if (handle != NULL)
        dlclose(handle);
}

hws_status hws_dynlib_load(const char *env_var, const char *default_name, const char *what,
                           hws_dynsym *syms, size_t count, void **handle, hws_error *err) {
    const char *env = getenv(env_var);
    const char *candidates[] = {env != NULL && env[0] != '\0' ? env : default_name, NULL};
    hws_error why = {""};
    if (hws_dynlib_open(candidates, handle, &why) != HWS_OK)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s not found: %.440s", what, why.msg);
    hws_status st = hws_dynlib_resolve(*handle, syms, count, default_name, err);
    if (st != HWS_OK) {
        hws_dynlib_close(*handle);
        *handle = NULL;
    }
    return st;
}
