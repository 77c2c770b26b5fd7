#!/usr/bin/env bash
# Fuzzes aiot's parsers with libFuzzer (clang), each for SECONDS (default 60), starting from the
# checked-in corpus in tests/fuzz/corpus/TARGET. New interesting inputs go to a scratch corpus;
# crashes land in build-fuzz/crashes/TARGET: add each to tests/fuzz/corpus/TARGET (the replay test
# then keeps it as a regression) and fix the bug.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(rollout_spec query device_file sigv4 config telemetry_readers)
fi
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIOT_FUZZ=ON >/dev/null
status=0
for t in "${targets[@]}"; do
  [[ -f tests/fuzz/fuzz_$t.cpp ]] || { echo "fuzz.sh: no target $t" >&2; continue; }
  cmake --build build-fuzz --target "fuzz_$t"
  scratch=build-fuzz/corpus/$t crashes=build-fuzz/crashes/$t
  mkdir -p "$scratch" "$crashes" "tests/fuzz/corpus/$t"
  echo "== fuzz_$t for ${seconds}s" >&2
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$crashes/" "$scratch" "tests/fuzz/corpus/$t" 2>"build-fuzz/fuzz_$t.log"; then
    echo "fuzz_$t found a problem: see build-fuzz/fuzz_$t.log and $crashes/" >&2
    status=1
  fi
  grep -E '^(#[0-9]+|Done)' "build-fuzz/fuzz_$t.log" | tail -1 >&2 || true
done
exit $status
