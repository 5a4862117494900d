#!/usr/bin/env bash
# run.sh - the README's first command: installs what is missing, builds, runs `hwscope`.
# Arguments are passed to hwscope (`scripts/run.sh info --json`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/hwscope "$@"
