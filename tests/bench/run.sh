#!/usr/bin/env bash
# Benchmarks of the aiot binary against its targets; writes tests/bench/RESULTS.md.
# Run by hand (never from ctest: wall times are not assertions):
#
#   AIOT=build/cmd/aiot bash tests/bench/run.sh        # an existing (Release) binary
#   bash tests/bench/run.sh                             # builds build-h5 as Release first
#
# Environment: RUNS (default 30) for the fast commands, IMPORT_RUNS (default 5) for imports,
# DEVICES (default 10000), RESULTS (output file), NO_HYPERFINE=1 (use the python3 loop instead),
# AIOT_COMMIT (label when the binary was built from another tree than this checkout),
# BUILD_TYPE (label, default Release).
# Timing uses hyperfine when installed, else a python3 loop taking the median.
# shellcheck disable=SC2154 # t_* and c_* are set by measure through printf -v
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-30}
IMPORT_RUNS=${IMPORT_RUNS:-5}
DEVICES=${DEVICES:-10000}
RESULTS=${RESULTS:-$here/RESULTS.md}
BUILD_TYPE=${BUILD_TYPE:-Release}

if [[ -z "${AIOT:-}" ]]; then
  echo "building $repo/build-h5 (Release)..." >&2
  cmake -S "$repo" -B "$repo/build-h5" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$repo/build-h5" aiot >&2
  AIOT="$repo/build-h5/cmd/aiot"
fi
AIOT=$(cd "$(dirname "$AIOT")" && pwd)/$(basename "$AIOT")
[[ -x "$AIOT" ]] || { echo "error: $AIOT is not executable" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/aiot-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Same isolation as the integration tests: no user config, no user hub.
while read -r name; do
  case "$name" in AIOT | AIOT_COMMIT) ;; AIOT_*) unset "$name" ;; esac
done < <(compgen -e)
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
cd "$work"

have_hyperfine=0
command -v hyperfine >/dev/null && [[ -z "${NO_HYPERFINE:-}" ]] && have_hyperfine=1

# median_seconds RUNS WARMUP PREPARE CMD...: prints "WALL CPU": the median wall time of CMD and its CPU time
# (user + system; hyperfine's mean, the loop's median), stdout and stderr discarded. CPU time moves less than
# wall time when other work shares the machine. PREPARE (may be empty) runs before every run, untimed.
median_seconds() {
  local runs=$1 warmup=$2 prepare=$3
  shift 3
  if ((have_hyperfine)); then
    local args=(-N --style none --runs "$runs" --warmup "$warmup" --export-json "$work/hf.json")
    [[ -n "$prepare" ]] && args+=(--prepare "$prepare")
    hyperfine "${args[@]}" "$(printf '%q ' "$@")" >/dev/null 2>"$work/hf.err" || {
      cat "$work/hf.err" >&2
      return 1
    }
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(r["median"], r["user"] + r["system"])' "$work/hf.json"
  else
    python3 - "$runs" "$warmup" "$prepare" "$@" <<'EOF'
import resource, statistics, subprocess, sys, time
runs, warmup, prepare, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
walls, cpus = [], []
for i in range(warmup + runs):
    if prepare:
        subprocess.run(prepare, shell=True, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if i >= warmup:
        walls.append(wall)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
print(statistics.median(walls), statistics.median(cpus))
EOF
  fi
}

# measure NAME RUNS WARMUP PREPARE CMD...: sets t_NAME (median wall seconds) and c_NAME (CPU seconds).
measure() {
  local name=$1 result
  shift
  result=$(median_seconds "$@")
  printf -v "t_$name" '%s' "${result% *}"
  printf -v "c_$name" '%s' "${result#* }"
}

ms() { python3 -c 'import sys; print(f"{float(sys.argv[1]) * 1000:.1f} ms")' "$1"; }
secs() { python3 -c 'import sys; print(f"{float(sys.argv[1]):.2f} s")' "$1"; }
# Targets are stated for 10,000 devices; other sizes are reported without a verdict.
le() {
  if [[ "$DEVICES" != 10000 ]]; then echo "n/a ($DEVICES devices)"; return; fi
  python3 -c 'import sys; print("pass" if float(sys.argv[1]) <= float(sys.argv[2]) else "**FAIL**")' "$1" "$2"
}

echo "generating $DEVICES devices..." >&2
python3 - "$DEVICES" >devices.csv <<'EOF'
import sys
n = int(sys.argv[1])
print("id,auth,status,tags.site,tags.ring,tags.model")
for i in range(n):
    print(f"bench-{i:06d},sas,{'disabled' if i % 97 == 0 else 'enabled'},site-{i % 50},{i % 4},cam-v{i % 3}")
EOF

hub="$work/hub.db"
"$AIOT" --hub "local:$hub" -q device import -f devices.csv >/dev/null
count=$("$AIOT" --hub "local:$hub" device list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ "$count" == "$DEVICES" ]] || { echo "error: the bench hub holds $count devices, not $DEVICES" >&2; exit 1; }
list_bytes=$("$AIOT" --hub "local:$hub" device list -o json | wc -c)

echo "timing (hyperfine=$have_hyperfine)..." >&2
measure version "$RUNS" 3 "" "$AIOT" --version
measure list "$RUNS" 3 "" "$AIOT" --hub "local:$hub" device list -o json
measure list_table "$RUNS" 3 "" "$AIOT" --hub "local:$hub" device list
measure list_where "$RUNS" 3 "" "$AIOT" --hub "local:$hub" device list -o json --where "tags.ring = '1' AND status = 'enabled'"
measure show "$RUNS" 3 "" "$AIOT" --hub "local:$hub" device show "$(printf 'bench-%06d' $((DEVICES / 2)))" -o json
measure aws "$((RUNS < 20 ? RUNS : 20))" 2 "" aws --version

fresh="$work/import.db"
measure import "$IMPORT_RUNS" 1 "rm -f $fresh $fresh-wal $fresh-shm" "$AIOT" --hub "local:$fresh" -q device import -f devices.csv
"$AIOT" --hub "local:$fresh" -q device import -f devices.csv >/dev/null 2>&1 || true
reimport=$("$AIOT" --hub "local:$fresh" -q device import -f devices.csv -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["unchanged"], d["created"] + d["updated"] + d["failed"])')
[[ "$reimport" == "$DEVICES 0" ]] || { echo "error: re-import was not all unchanged: $reimport" >&2; exit 1; }
measure reimport "$IMPORT_RUNS" 1 "" "$AIOT" --hub "local:$fresh" -q device import -f devices.csv

ratio=$(python3 -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.1f}")' "$t_aws" "$t_list")
cpu_ratio=$(python3 -c 'import sys; print(f"{float(sys.argv[1]) / max(float(sys.argv[2]), 1e-6):.1f}")' "$c_aws" "$c_list")
ratio_ok=$(python3 -c 'import sys; print("pass" if float(sys.argv[1]) >= 10 else "**FAIL**")' "$ratio")
[[ "$DEVICES" == 10000 ]] || ratio_ok="n/a ($DEVICES devices)"

commit=${AIOT_COMMIT:-$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)}
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
[[ -n "$cpu" ]] || cpu=$(uname -m)
timer="hyperfine $(hyperfine --version 2>/dev/null | awk '{print $2}'), median"
((have_hyperfine)) || timer="python3 loop, median"

# Hand-written notes below the marker survive a re-run.
marker='<!-- notes: everything below this line is kept when run.sh rewrites the file -->'
notes=""
if [[ -f "$RESULTS" ]] && grep -qF "$marker" "$RESULTS"; then
  notes=$(sed -n "/^$(printf '%s' "$marker" | sed 's/[][\/.*^$]/\\&/g')\$/,\$p" "$RESULTS" | tail -n +2)
fi

tmp_results="$RESULTS.tmp.$$"
{
  echo "# aiot benchmarks"
  echo
  echo "Written by \`tests/bench/run.sh\`. Whole processes, start-up included: median wall time, and CPU time"
  echo "(user + system) which moves less when other work shares the machine. Verdicts use wall time."
  echo "Never used as test assertions."
  echo
  echo "| what | runs | median wall | CPU (user+sys) | target | result |"
  echo "|---|---|---|---|---|---|"
  echo "| \`aiot --version\` | $RUNS | $(ms "$t_version") | $(ms "$c_version") | | |"
  echo "| \`aiot device list -o json\`, $DEVICES devices ($((list_bytes / 1024)) KiB) | $RUNS | $(ms "$t_list") | $(ms "$c_list") | <= 50 ms | $(le "$t_list" 0.050) |"
  echo "| \`aws --version\` | $((RUNS < 20 ? RUNS : 20)) | $(ms "$t_aws") | $(ms "$c_aws") | | |"
  echo "| ratio \`aws --version\` / \`aiot device list -o json\` | | ${ratio}x | ${cpu_ratio}x | >= 10x | $ratio_ok |"
  echo "| \`aiot device list\` (piped table), $DEVICES devices | $RUNS | $(ms "$t_list_table") | $(ms "$c_list_table") | | |"
  echo "| \`aiot device list -o json --where \"tags.ring = '1' AND status = 'enabled'\"\` | $RUNS | $(ms "$t_list_where") | $(ms "$c_list_where") | | |"
  echo "| \`aiot device show ID -o json\` on the $DEVICES-device hub | $RUNS | $(ms "$t_show") | $(ms "$c_show") | | |"
  echo "| \`aiot device import\` of $DEVICES SAS devices into a fresh hub | $IMPORT_RUNS | $(secs "$t_import") | $(secs "$c_import") | <= 3 s | $(le "$t_import" 3) |"
  echo "| \`aiot device import\` again (all $DEVICES unchanged) | $IMPORT_RUNS | $(secs "$t_reimport") | $(secs "$c_reimport") | | |"
  echo
  echo "Machine and build:"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- aiot: $("$AIOT" --version), commit $commit, $BUILD_TYPE build"
  echo "- CPU: $cpu; nproc: $(nproc)"
  echo "- load average at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other builds may run at the same time)"
  echo "- timer: $timer; aws: $(aws --version 2>&1 | cut -d' ' -f1)"
  echo
  echo "$marker"
  [[ -n "$notes" ]] && printf '%s\n' "$notes"
} >"$tmp_results"
mv "$tmp_results" "$RESULTS"
cat "$RESULTS"
