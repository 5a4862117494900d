#!/usr/bin/env bash
# check_install.sh BUILD_DIR [CC [CFLAGS]] - installs the build into a temporary prefix, then builds and runs a
# program against the installed library through pkg-config, including every public header.
set -euo pipefail
build=$1
compiler=${2:-cc}
extra_flags=${3:-}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc_dir=$(dirname "$(find "$prefix" -name hwscope.pc | head -1)")
export PKG_CONFIG_PATH=$pc_dir
{
  for h in "$prefix"/include/hwscope/*.h; do echo "#include <hwscope/$(basename "$h")>"; done
  cat <<'C'
#include <stdio.h>
#include <string.h>
/* Layout-free use of the library (the ABI policy): records are read through the field tables
 * the library exports, rows stepped by the table's record_size, GPUs through a handle. */
static int catalog_by_table(void) {
    size_t n = 0;
    const char *rows = (const char *)hws_gpu_catalog(&n);
    const hws_field *name = hws_field_find(&hws_gpu_spec_table, "name");
    const hws_field *mem = hws_field_find(&hws_gpu_spec_table, "mem_gb");
    for (size_t i = 0; name && mem && i < n; i++) {
        const char *row = rows + i * hws_gpu_spec_table.record_size;
        if (strcmp(hws_field_str(name, row), "H100 SXM 80GB") == 0)
            return hws_field_value(mem, row) == 80 ? 0 : 1;
    }
    return 1;
}
static int gpus_by_handle(void) {
    hws_gpus *g = NULL;
    hws_error err = {""};
    if (hws_gpus_probe(&g, &err) != HWS_OK)
        return 1;
    const hws_field *f = hws_field_find(&hws_gpu_info_table, "mem_total_bytes");
    int bad = f == NULL;
    for (int i = 0; !bad && i < hws_gpus_count(g); i++)
        bad = hws_gpus_record(g, i) == NULL;
    bad |= hws_gpus_count(g) == 0 && hws_gpus_why_none(g)[0] == '\0';
    hws_gpus_free(g);
    return bad;
}
int main(void) {
    hws_error err = {""};
    hws_status st = hws_error_set(&err, HWS_ERR_INPUT, "x%d", 1);
    printf("hwscope %s %s\n", hws_version(), err.msg);
    if (catalog_by_table() != 0 || gpus_by_handle() != 0)
        return 1;
    return st == HWS_ERR_INPUT && strcmp(err.msg, "x1") == 0 ? 0 : 1;
}
C
} >"$prefix/main.c"
# shellcheck disable=SC2046,SC2086
$compiler -std=c11 -Wall -Werror $extra_flags -o "$prefix/main" "$prefix/main.c" \
  $(pkg-config --cflags --libs hwscope)
libdir=$(dirname "$(find "$prefix" -name 'libhwscope.so' | head -1)")
LD_LIBRARY_PATH=$libdir "$prefix/main"
# only what include/hwscope/ declares is exported: internal helpers stay hidden
for internal in hws_note_add hws_tsv_parse hws_sys_read hws_record_json; do
  if nm -D --defined-only "$libdir/libhwscope.so" | grep -qw "$internal"; then
    echo "install: the shared library exports the internal $internal" >&2
    exit 1
  fi
done
test -x "$prefix/bin/hwscope"
"$prefix/bin/hwscope" --version
# the man page and completions generated from the option tables are installed beside it
grep -q '^\.TH HWSCOPE 1' "$prefix"/share/man/man1/hwscope.1
grep -q 'complete -o default -F _hwscope hwscope' "$prefix"/share/bash-completion/completions/hwscope
grep -q '^#compdef hwscope' "$prefix"/share/zsh/site-functions/_hwscope
echo "install: library, headers, pkg-config file, binary, man page and completions work from $prefix"
