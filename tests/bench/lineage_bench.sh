#!/usr/bin/env bash
# Benchmark of `aiot lineage audit` (issue 6): generated NDJSON exports of a 500-device fleet at a
# 1-minute interval, about 1 GB and 2 GB, audited end to end (all checks, registry attribution,
# audit.json); in the same run a Python loop that only parses each line with json.loads; wall
# time, CPU time and peak RSS from /usr/bin/time -v. Results go to tests/bench/RESULTS-lineage.md
# by hand.
#
# Also in the same run, the floor (tests/bench/json_floor.cpp, built from AIOT's build tree): read,
# SHA-256 and simdjson-parse every value of the same file, building and checking nothing. No audit
# can take less CPU; "10x python" is then set against it: the CPU the 10x wall time leaves on this
# machine's cores beyond the floor is what building records and all the checks may cost.
#
#   AIOT=build-release/cmd/aiot tests/bench/lineage_bench.sh            # both sizes
#   SIZES="96" AIOT=... tests/bench/lineage_bench.sh                       # hours per export
#   AIOT_BEFORE=old/aiot AIOT=... tests/bench/lineage_bench.sh             # an older binary in the same run
set -euo pipefail

AIOT=${AIOT:-build/cmd/aiot}
AIOT=$(cd "$(dirname "$AIOT")" && pwd)/$(basename "$AIOT")
SIZES=${SIZES:-"96 192"}  # hours at 1 min x 500 devices: ~1.0 GB and ~2.0 GB
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/aiot-lineage-bench.XXXXXX")}
KEEP=${KEEP:-0}
AIOT_BEFORE=${AIOT_BEFORE:-}
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
BUILD=$(dirname "$(dirname "$AIOT")")
FLOOR=""
if [[ -f "$BUILD/CMakeCache.txt" ]] && cmake --build "$BUILD" --target json_floor >/dev/null; then
  FLOOR="$BUILD/tests/bench/json_floor"
else
  echo "json_floor not built (no CMake build tree at $BUILD): the floor rows are skipped" >&2
fi
CORES=$(nproc)

export AIOT_HUB="local:$WORK/hub.db" XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" AIOT_NOW=2026-11-23T00:00:00Z
cleanup() { [[ "$KEEP" == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

"$AIOT" sim fleet --devices 500 --seed 1 -q >/dev/null

# measure LABEL CMD...: prints "LABEL wall_s cpu_s max_rss_kb exit"
measure() {
  local label=$1
  shift
  local log="$WORK/time.$label.txt" code=0
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || code=$?
  local wall cpu_user cpu_sys rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  cpu_user=$(awk -F': ' '/User time/ {print $2}' "$log")
  cpu_sys=$(awk -F': ' '/System time/ {print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$label $wall $(echo "$cpu_user + $cpu_sys" | bc) $rss $code"
}

printf '%-22s %10s %9s %9s %9s %11s %6s %s\n' "run" "MB" "wall s" "cpu s" "MB/s" "peak RSS MB" "exit" "load average"
for hours in $SIZES; do
  out="$WORK/gen-$hours"
  "$AIOT" sim telemetry --out "$out" --hours "$hours" --interval 1m --defects 0.0005 --seed 5 -q >/dev/null
  file="$out/data/telemetry.ndjson"
  bytes=$(stat -c %s "$file")
  mb=$(echo "scale=1; $bytes / 1000000" | bc)
  cat /dev/null "$file" >/dev/null  # page cache warm for both contenders
  runs="audit python"
  [[ -n "$AIOT_BEFORE" ]] && runs="before audit python"
  [[ -n "$FLOOR" ]] && runs="$runs floor"
  for run in $runs; do
    if [[ $run == audit ]]; then
      line=$(measure "audit-${hours}h" "$AIOT" lineage audit --input "$file" --fail-on never --out "$WORK/audit-$hours.json")
    elif [[ $run == floor ]]; then
      line=$(measure "floor-${hours}h" bash -c '"$0" "$1" >"$2"' "$FLOOR" "$file" "$WORK/floor-$hours.txt")
    elif [[ $run == before ]]; then
      line=$(measure "before-${hours}h" "$AIOT_BEFORE" lineage audit --input "$file" --fail-on never --out "$WORK/before-$hours.json")
    else
      line=$(measure "python-${hours}h" python3 -c '
import json, sys
with open(sys.argv[1], "rb") as f:
    for line in f:
        try:
            json.loads(line)
        except ValueError:
            pass
' "$file")
    fi
    read -r label wall cpu rss code <<<"$line"
    printf '%-22s %10s %9s %9s %9s %11s %6s %s\n' "$label" "$mb" "$wall" "$cpu" "$(echo "scale=0; $bytes / 1000000 / $wall" | bc)" \
      "$((rss / 1024))" "$code" "$(cut -d' ' -f1-3 /proc/loadavg)"
    eval "wall_$run=$wall cpu_$run=$cpu"
  done
  echo "  audit vs python: $(echo "scale=2; $wall_python / $wall_audit" | bc)x wall, $(echo "scale=2; $cpu_python / $cpu_audit" | bc)x CPU"
  if [[ -n "$FLOOR" ]]; then
    # 10x python in wall time allows at most CORES x wall_python / 10 CPU seconds.
    budget=$(echo "scale=2; $CORES * $wall_python / 10" | bc)
    echo "  floor (read + SHA-256 + simdjson, nothing built or checked; one thread): $(cat "$WORK/floor-$hours.txt")"
    echo "  audit CPU over floor CPU: $(echo "scale=2; $cpu_audit / $cpu_floor" | bc)x; 10x python allows $budget CPU s on $CORES cores," \
      "of which the floor leaves $(echo "scale=2; $budget - $cpu_floor" | bc) s for records and checks (the audit spends $(echo "scale=2; $cpu_audit - $cpu_floor" | bc) s)"
  fi
  if [[ -n "$AIOT_BEFORE" ]]; then
    echo "  before vs python: $(echo "scale=2; $wall_python / $wall_before" | bc)x wall, $(echo "scale=2; $cpu_python / $cpu_before" | bc)x CPU"
    python3 -c "
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    for k in ('seconds', 'mb_per_s'):
        d['statistics'].pop(k, None)
    d.pop('generated', None); d.pop('run', None)
print('  audit.json before/after (timings left out):', 'identical' if a == b else 'DIFFERENT')
" "$WORK/before-$hours.json" "$WORK/audit-$hours.json"
  fi
  python3 -c "import json; s = json.load(open('$WORK/audit-$hours.json'))['statistics']; print('  audit: records', s['records_read'], 'devices', s['devices'], 'malformed', s['malformed'], 'verdict-internal MB/s', s['mb_per_s'])"
  rm -rf "$out"
done
