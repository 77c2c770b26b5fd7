#!/usr/bin/env bash
# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on), without the
# minutes-long reliability runs (label slow) and the package test (it packages the plain build).
#   scripts/sanitize.sh [CTEST ARGS...]     e.g. scripts/sanitize.sh -R '^unit: '
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAIOT_SANITIZE=ON >/dev/null
cmake --build build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan -j2 -LE 'slow|package' "$@"
