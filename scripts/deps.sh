#!/usr/bin/env bash
# deps.sh - installs the Debian packages hwscope needs to build and test (only the missing ones).
set -euo pipefail
packages=(cmake gcc make pkg-config git clang clang-format clang-tidy libclang-rt-14-dev
          libhwloc-dev hwloc libcjson-dev libopenblas-dev libncurses-dev libmicrohttpd-dev
          libcmocka-dev python3 chromium tidy
          tmux prometheus wrk openssl curl) # monitor tests: top in tmux, serve under Prometheus, wrk, TLS
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
