/* dynlib.c - dlopen with a symbol table resolved in one loop. */
#include "util/dynlib.h"
#include "util/checked.h"
#include "util/file.h"

#include <dlfcn.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether a table of count entries of entry_size bytes at offset lies inside a file of size
 * bytes. */
static bool table_fits(uint64_t offset, uint64_t count, uint64_t entry_size, uint64_t size) {
    uint64_t bytes, end;
    return !hws_mul_u64_overflow(count, entry_size, &bytes) &&
           !hws_add_u64_overflow(offset, bytes, &end) && end <= size;
}

/* Checks the program headers of an open ELF file: every loaded segment lies inside the file
 * (a truncated library otherwise dies with SIGBUS inside dlopen when its pages are touched). */
static hws_status check_segments(int fd, const char *path, const Elf64_Ehdr *eh, uint64_t size,
                                 hws_error *err) {
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        hws_status st = hws_file_pread(fd, path, &ph, sizeof ph,
                                       eh->e_phoff + (uint64_t)i * eh->e_phentsize, err);
        if (st != HWS_OK)
            return st;
        if (ph.p_type == PT_LOAD && !table_fits(ph.p_offset, 1, ph.p_filesz, size))
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "%s: truncated: segment %u needs bytes up to %llu of a %llu-byte "
                                 "file",
                                 path, i, (unsigned long long)(ph.p_offset + ph.p_filesz),
                                 (unsigned long long)size);
    }
    return HWS_OK;
}

hws_status hws_dynlib_check_file(const char *path, hws_error *err) {
    int fd;
    uint64_t size;
    hws_status st = hws_file_open(path, false, &fd, &size, err);
    if (st != HWS_OK)
        return st;
    Elf64_Ehdr eh;
    if (size < sizeof eh) {
        close(fd);
        return hws_error_set(err, HWS_ERR_INPUT, "%s: %llu bytes, too short for an ELF header",
                             path, (unsigned long long)size);
    }
    st = hws_file_pread(fd, path, &eh, sizeof eh, 0, err);
    if (st == HWS_OK && memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        st = hws_error_set(err, HWS_ERR_INPUT, "%s: not an ELF shared library", path);
    else if (st == HWS_OK && eh.e_ident[EI_CLASS] != ELFCLASS64)
        st = hws_error_set(err, HWS_ERR_INPUT, "%s: not a 64-bit ELF library", path);
    else if (st == HWS_OK && (eh.e_phentsize != sizeof(Elf64_Phdr) ||
                              !table_fits(eh.e_phoff, eh.e_phnum, eh.e_phentsize, size)))
        st = hws_error_set(err, HWS_ERR_INPUT,
                           "%s: truncated: its program headers lie past the end", path);
    else if (st == HWS_OK && eh.e_shoff != 0 &&
             !table_fits(eh.e_shoff, eh.e_shnum, eh.e_shentsize, size))
        st = hws_error_set(err, HWS_ERR_INPUT,
                           "%s: truncated: its section headers lie past the end", path);
    if (st == HWS_OK)
        st = check_segments(fd, path, &eh, size, err);
    close(fd);
    return st;
}

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
    *handle = NULL;
    /* a path the user gave is checked before dlopen maps it (names go through ld.so's search) */
    if (strchr(candidates[0], '/') != NULL && hws_file_exists(candidates[0]) &&
        hws_dynlib_check_file(candidates[0], &why) != HWS_OK)
        return hws_error_set(err, HWS_ERR_INPUT, "%s=%.440s", env_var, why.msg);
    if (hws_dynlib_open(candidates, handle, &why) != HWS_OK)
        return hws_error_set(err, HWS_ERR_UNSUPPORTED, "%s not found: %.440s", what, why.msg);
    hws_status st = hws_dynlib_resolve(*handle, syms, count, default_name, err);
    if (st != HWS_OK) {
        hws_dynlib_close(*handle);
        *handle = NULL;
    }
    return st;
}
