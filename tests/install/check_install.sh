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
int main(void) {
    hws_error err = {""};
    hws_status st = hws_error_set(&err, HWS_ERR_INPUT, "x%d", 1);
    printf("hwscope %s %s\n", hws_version(), err.msg);
    return st == HWS_ERR_INPUT && strcmp(err.msg, "x1") == 0 ? 0 : 1;
}
C
} >"$prefix/main.c"
# shellcheck disable=SC2046,SC2086
$compiler -std=c11 -Wall -Werror $extra_flags -o "$prefix/main" "$prefix/main.c" \
  $(pkg-config --cflags --libs hwscope)
LD_LIBRARY_PATH=$(dirname "$(find "$prefix" -name 'libhwscope.so' | head -1)") "$prefix/main"
test -x "$prefix/bin/hwscope"
"$prefix/bin/hwscope" --version
# the man page and completions generated from the option tables are installed beside it
grep -q '^\.TH HWSCOPE 1' "$prefix"/share/man/man1/hwscope.1
grep -q 'complete -o default -F _hwscope hwscope' "$prefix"/share/bash-completion/completions/hwscope
grep -q '^#compdef hwscope' "$prefix"/share/zsh/site-functions/_hwscope
echo "install: library, headers, pkg-config file, binary, man page and completions work from $prefix"
