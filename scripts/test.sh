#!/usr/bin/env bash
# test.sh - the README's second command and what CI runs: installs what is missing, builds and
# runs the whole test suite twice (plain, with the CUDA module when nvcc is present; then under
# AddressSanitizer + UBSan), builds a Release library and CLI, runs each fuzzer briefly, and
# checks clang-format and clang-tidy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "== build and test (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build and test (AddressSanitizer + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHWSCOPE_SANITIZE=ON -DHWSCOPE_CUDA=OFF \
  -DHWSCOPE_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== build (Release: gcc -O3 warns about other things than -O2)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DHWSCOPE_CUDA=OFF -DHWSCOPE_TESTS=OFF \
  >/dev/null
cmake --build build-release -j"$jobs" >/dev/null

echo "== fuzz (${HWSCOPE_FUZZ_SECONDS:-20} s per target)"
for fuzzer in build-asan/fuzz_*; do
  case "$fuzzer" in *_corpus | *.log) continue ;; esac
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer" | sed 's/^fuzz_//')
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$name/." "$work/"
  # artifacts (crash-*, leak-*, ...) go beside the log in build-asan/, never into the tree
  "$fuzzer" -max_total_time="${HWSCOPE_FUZZ_SECONDS:-20}" -max_len=65536 \
    -artifact_prefix="build-asan/fuzz_$name-" "$work" \
    >"build-asan/fuzz_$name.log" 2>&1 || { tail -40 "build-asan/fuzz_$name.log"; exit 1; }
  echo "fuzz $name: $(grep -c . "build-asan/fuzz_$name.log") log lines, no crash"
  rm -rf "$work"
done

echo "== clang-format"
git ls-files '*.c' '*.h' '*.cu' | xargs clang-format --dry-run --Werror

echo "== clang-tidy"
if ! git ls-files 'src/*.c' | xargs clang-tidy -p build --quiet >build/clang-tidy.log 2>&1; then
  grep -v "warnings generated" build/clang-tidy.log
  exit 1
fi

echo "all test stages passed"
