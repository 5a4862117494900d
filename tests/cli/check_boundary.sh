#!/usr/bin/env bash
# check_boundary.sh SOURCE_DIR [CC] - the CLI's boundary: every src/cli/*.c must compile against
# the public headers (include/hwscope/), the renderers (src/report/) and the CLI's own headers
# alone, so the CLI only parses, calls the library's API and renders. Allowed besides, until the
# monitor's renderings move into src/report/: monitor/sample_fields.h and monitor/top_layout.h.
set -euo pipefail
src=$1
cc=${2:-cc}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
ln -s "$src/include/hwscope" "$stage/hwscope"
ln -s "$src/src/report" "$stage/report"
ln -s "$src/src/cli" "$stage/cli"
mkdir "$stage/monitor"
for h in sample_fields.h top_layout.h; do
  [ -e "$src/src/monitor/$h" ] && ln -s "$src/src/monitor/$h" "$stage/monitor/$h"
done
# shellcheck disable=SC2046
cflags=$(pkg-config --cflags libcjson 2>/dev/null || true)
failed=0
for f in "$src"/src/cli/*.c; do
  # shellcheck disable=SC2086
  if ! "$cc" -std=c11 -D_GNU_SOURCE -fsyntax-only -I"$stage" $cflags "$f" \
    2>"$stage/err"; then
    echo "src/cli/$(basename "$f") reaches past include/ and src/report/:" >&2
    grep -m3 'error' "$stage/err" >&2 || true
    failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "cli boundary: src/cli compiles against include/ and src/report/ alone"
exit "$failed"
