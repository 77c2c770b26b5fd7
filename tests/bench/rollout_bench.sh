#!/usr/bin/env bash
# Rollout benchmarks (issue 5): on a 10,000-device simulated local fleet, the wall time of
# `aiot rollout plan` (target <= 1 s) and of single `aiot rollout reconcile` steps across a whole
# rollout (target <= 200 ms each); then, through `aiot hub serve --api azure -v`, the HTTP requests
# one gate-evaluating reconcile step makes for a canary wave of 100 and of 5,000 devices (must not
# grow with the wave); the same through `aiot hub serve --api aws -v`. Writes
# tests/bench/RESULTS-rollout.md. Run by hand, never from ctest:
#
#   AIOT=build-rollout/cmd/aiot bash tests/bench/rollout_bench.sh
#   AWS_ONLY=1 AIOT=... bash tests/bench/rollout_bench.sh   # only the AWS part: rewrites its section
#
# Environment: DEVICES (10000), RESULTS (output file), BUILD_TYPE (label, default from CMakeCache.txt).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
DEVICES=${DEVICES:-10000}
RESULTS=${RESULTS:-$here/RESULTS-rollout.md}
AIOT=${AIOT:-$repo/build/cmd/aiot}
AIOT=$(cd "$(dirname "$AIOT")" && pwd)/$(basename "$AIOT")
[[ -x "$AIOT" ]] || { echo "error: AIOT=$AIOT is not executable (build aiot first)" >&2; exit 2; }
if [[ -z "${BUILD_TYPE:-}" ]]; then
  BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$AIOT")/../CMakeCache.txt" 2>/dev/null || true)
  BUILD_TYPE=${BUILD_TYPE:-unknown}
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aiot-rollout-bench.XXXXXX")
EMU_PID=""
cleanup() {
  [[ -n "$EMU_PID" ]] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

while read -r name; do
  case "$name" in AIOT) ;; AIOT_*) unset "$name" ;; esac
done < <(compgen -e)
unset IOTHUB_CONNECTION_STRING
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
cd "$work"

ms_now() { date +%s%3N; }
# timed CMD...: runs CMD; prints "WALL_MS CPU_MS" (CPU = user + system of the process). Both are
# kept because this machine is shared: wall time includes waiting for a core.
timed() {
  /usr/bin/time -f '%e %U %S' -o "$work/.time" "$@" >"$work/.out" 2>"$work/.err" || echo "warning: $* failed: $(tail -2 "$work/.err")" >&2
  awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}' "$work/.time"
}

spec() { # NAME VERSION CANARY_SIZE
  cat <<YAML
apiVersion: aiot.dev/v1
kind: Rollout
metadata: {name: $1}
spec:
  artifact: {name: detector, version: "$2", uri: "https://models.example/detector-$2.onnx", sha256: "$(printf 'b%.0s' {1..64})"}
  baseline: {version: auto, control: matched, stratifyBy: [hw]}
  waves:
    - {name: canary, size: $3, bake: {min: 2h, max: 4h}}
    - {name: half, size: 60%, bake: {min: 2h, max: 4h}}
    - {name: all, size: 100%, bake: {min: 1h, max: 4h}}
  gates:
    - {name: install, type: outcome, successAtLeast: "95%", failureAbove: "8%", minSamples: 50}
    - {name: crash-free, type: proportion-vs-baseline, event: "reported.aiot.health.crashes_1h > 0", maxIncrease: 10pp, minSamples: 30, dryRun: true}
    - {name: latency, type: distribution-vs-baseline, metric: reported.aiot.health.latency_p95_ms, tolerance: 25%, dryRun: true}
    - {name: confidence, type: threshold, metric: reported.aiot.health.mean_confidence, successCondition: ">= 0.5", dryRun: true}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
maxof() { sort -n | tail -1; }

# ---- AWS IoT: requests per gate evaluation through `aiot hub serve --api aws -v` ----------------
# The section between the markers in $RESULTS is (re)written by aws_section, the rest is left alone.
aws_requests_for_wave() { # CANARY_SIZE -> "requests_in_look_step requests_of_apply look_wall_ms look_cpu_ms"
  local size=$1 hub="$work/aws-$1.db" log="$work/aws-emu-$1.log"
  AIOT_HUB="local:$hub" "$AIOT" -q sim fleet --devices "$DEVICES" --seed 7 >/dev/null
  AIOT_HUB="local:$hub" "$AIOT" -q sim advance 1h >/dev/null
  rm -f "$work/aws.port"
  "$AIOT" -v hub serve --api aws --port 0 --port-file "$work/aws.port" --credentials-out "$work/aws.credentials" \
    --hub "local:$hub" </dev/null >"$log" 2>&1 &
  EMU_PID=$!
  for _ in $(seq 1 200); do [[ -s "$work/aws.port" && -s "$work/aws.credentials" ]] && break; sleep 0.05; done
  local endpoint="http://127.0.0.1:$(cat "$work/aws.port")"
  aws_env=(env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$endpoint" AWS_SHARED_CREDENTIALS_FILE="$work/aws.credentials"
           AWS_PROFILE=aiot-emulator AWS_CONFIG_FILE=/dev/null)
  spec "aws-$size" 3.0 "$size" > "aws$size.yaml"
  sim_now() { AIOT_HUB="local:$hub" "$AIOT" sim status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["simTime"])'; }
  local before after apply_requests look_requests w c
  sleep 2
  before=$(grep -c ' /' "$log" || true)
  "${aws_env[@]}" AIOT_NOW="$(sim_now)" "$AIOT" -q rollout apply -f "aws$size.yaml" --allow-underpowered >/dev/null 2>"$work/aws-apply-$size.err" \
    || echo "warning: apply through AWS failed: $(tail -3 "$work/aws-apply-$size.err")" >&2
  sleep 2  # the emulator logs a request after answering it: let the log catch up
  after=$(grep -c ' /' "$log" || true)
  apply_requests=$((after - before))
  AIOT_HUB="local:$hub" "$AIOT" -q sim advance 1h >/dev/null
  sleep 2
  before=$(grep -c ' /' "$log" || true)
  read -r w c < <(timed "${aws_env[@]}" AIOT_NOW="$(sim_now)" "$AIOT" -q rollout reconcile "aws-$size" -o json)
  cp "$work/.out" "$work/aws-look-$size.json"
  echo "AWS look step, canary $size: $(cat "$work/aws-look-$size.json") $(tail -2 "$work/.err")" >&2
  sleep 2
  after=$(grep -c ' /' "$log" || true)
  look_requests=$((after - before))
  # Request lines only (before/after count them; the log also has start-up lines).
  grep ' /' "$log" | sed -n "$((before + 1)),${after}p" | awk '{print $2, $3}' | sed -E 's/\?name=/ shadow=/; s/\?.*//; s#/things/[^/ ]+/shadow#/things/{thing}/shadow#; s#/jobs/[^/ ]+#/jobs/{id}#; s#/thing-groups/[^/ ]+#/thing-groups/{group}#' \
    | sort | uniq -c | sort -rn > "$work/aws-look-$size.txt"
  unset -f sim_now
  kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null || true; EMU_PID=""
  echo "$look_requests $apply_requests $w $c"
}

aws_section() {
  echo "== requests per gate evaluation through the AWS emulator" >&2
  local l100 a100 w100 c100 l5000 a5000 w5000 c5000
  read -r l100 a100 w100 c100 < <(aws_requests_for_wave 100)
  read -r l5000 a5000 w5000 c5000 < <(aws_requests_for_wave 5000)
  echo "AWS requests per look step: wave 100: $l100, wave 5000: $l5000 (apply: $a100, $a5000)" >&2
  local section="$work/aws-section.md"
  cat > "$section" <<MD
<!-- aws: written by rollout_bench.sh (aws_section) -->
## Requests per gate evaluation through \`aiot hub serve --api aws\`

Measured on $(date -u +%Y-%m-%d) (load average $(cut -d' ' -f1-3 /proc/loadavg), aiot built $BUILD_TYPE): a fleet of
$DEVICES simulated devices behind the AWS emulator (\`-v\` logs one line per request, counted), the same
spec as above, the rollout driven with \`--hub aws\` and \`AIOT_NOW\` pinned to the simulator's clock. One
reconcile step that evaluates the canary's gates (all four gate types), for a canary of 100 and of
5,000 devices (wall and CPU of that step: the client paces each AWS operation at its default TPS):

| canary wave | requests in the look step | wall / CPU of the look step | requests of \`apply\` (cohort, groups of every planned device, record, canary job) |
|---|---|---|---|
| 100 devices | $l100 | $w100 ms / $c100 ms | $a100 |
| 5,000 devices | $l5000 | $w5000 ms / $c5000 ms | $a5000 |

Requests of the look step, 100-device canary:

\`\`\`
$(cat "$work/aws-look-100.txt")
\`\`\`

Requests of the look step, 5,000-device canary:

\`\`\`
$(cat "$work/aws-look-5000.txt")
\`\`\`
<!-- /aws -->
MD
  python3 - "$RESULTS" "$section" <<'PY'
import re, sys, os
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n") + "\n"
text = open(path).read() if os.path.exists(path) else "# Rollout benchmarks\n"
pattern = re.compile(r"<!-- aws:.*?<!-- /aws -->\n?", re.S)
text = pattern.sub(lambda m: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
PY
  echo "wrote the AWS section of $RESULTS" >&2
}

if [[ -n "${AWS_ONLY:-}" ]]; then
  aws_section
  exit 0
fi

if [[ -z "${SKIP_LOCAL:-}" ]]; then
echo "== local fleet of $DEVICES devices" >&2
export AIOT_HUB="local:$work/fleet.db"
read -r fleet_ms _ < <(timed "$AIOT" -q sim fleet --devices "$DEVICES" --seed 7)
"$AIOT" -q sim advance 1h >/dev/null
spec bench-good 3.0 500 > good.yaml

plan_wall=() plan_cpu=()
for i in 1 2 3 4 5; do
  read -r w c < <(timed "$AIOT" rollout plan -f good.yaml --allow-underpowered -o json)
  plan_wall+=("$w") plan_cpu+=("$c")
done
plan_med=$(printf '%s\n' "${plan_wall[@]}" | median)
plan_cpu_med=$(printf '%s\n' "${plan_cpu[@]}" | median)
echo "plan: wall ${plan_wall[*]} ms, cpu ${plan_cpu[*]} ms" >&2

read -r apply_ms apply_cpu < <(timed "$AIOT" -q rollout apply -f good.yaml --allow-underpowered)

# Reconcile steps across the rollout: each step timed alone; the simulator's clock moves between
# steps (not timed) so the rollout goes through dispatches, looks, promotions and success.
declare -a step_ms step_cpu step_kind
phase=""
for i in $(seq 1 80); do
  read -r w c < <(timed "$AIOT" rollout reconcile bench-good -o json)
  step_ms+=("$w") step_cpu+=("$c")
  summary=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; print(r["phase"] + "|" + r.get("summary",""))' "$work/.out" 2>/dev/null || echo "ERROR|$(tail -1 "$work/.err")")
  step_kind+=("$summary")
  phase=${summary%%|*}
  [[ "$phase" == SUCCEEDED || "$phase" == ROLLED_BACK || "$phase" == ERROR ]] && break
  "$AIOT" -q sim advance 30m >/dev/null
done
steps=${#step_ms[@]}
step_med=$(printf '%s\n' "${step_ms[@]}" | median)
step_max=$(printf '%s\n' "${step_ms[@]}" | maxof)
step_cpu_med=$(printf '%s\n' "${step_cpu[@]}" | median)
step_cpu_max=$(printf '%s\n' "${step_cpu[@]}" | maxof)
echo "reconcile: $steps steps, wall median ${step_med} max ${step_max} ms, cpu median ${step_cpu_med} max ${step_cpu_max} ms, final $phase" >&2
step_table=""
for ((i = 0; i < steps; i++)); do
  s=${step_kind[$i]}
  step_table+="| $((i + 1)) | ${step_ms[$i]} | ${step_cpu[$i]} | ${s#*|} |"$'\n'
done

fi

echo "== requests per gate evaluation through the Azure emulator" >&2
requests_for_wave() { # CANARY_SIZE -> "requests_in_look_step requests_in_dispatch_step"
  local size=$1 hub="$work/azure-$1.db" log="$work/emu-$1.log"
  AIOT_HUB="local:$hub" "$AIOT" -q sim fleet --devices "$DEVICES" --seed 7 >/dev/null
  AIOT_HUB="local:$hub" "$AIOT" -q sim advance 1h >/dev/null
  rm -f "$work/emu.port" "$work/emu.creds"
  "$AIOT" -v hub serve --api azure --port 0 --port-file "$work/emu.port" --credentials-out "$work/emu.creds" \
    --hub "local:$hub" </dev/null >"$log" 2>&1 &
  EMU_PID=$!
  for _ in $(seq 1 200); do [[ -s "$work/emu.port" && -s "$work/emu.creds" ]] && break; sleep 0.05; done
  export IOTHUB_CONNECTION_STRING AIOT_AZURE_ENDPOINT
  IOTHUB_CONNECTION_STRING=$(cat "$work/emu.creds")
  AIOT_AZURE_ENDPOINT="http://127.0.0.1:$(cat "$work/emu.port")"
  spec "bench-$size" 3.0 "$size" > "w$size.yaml"
  local sim_now
  sim_now() { AIOT_HUB="local:$hub" "$AIOT" sim status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["simTime"])'; }
  # apply: plan (one query for the cohort), roles in tags, the record, start, the canary's dispatch
  local before after dispatch_requests look_requests
  sleep 1
  before=$(grep -c ' /' "$log" || true)
  AIOT_NOW=$(sim_now) AIOT_HUB=azure "$AIOT" -q rollout apply -f "w$size.yaml" --allow-underpowered >/dev/null 2>"$work/apply-$size.err" \
    || echo "warning: apply through Azure failed: $(tail -3 "$work/apply-$size.err")" >&2
  sleep 1  # the emulator logs a request after answering it: let the log catch up
  after=$(grep -c ' /' "$log" || true)
  dispatch_requests=$((after - before))
  AIOT_HUB="local:$hub" "$AIOT" -q sim advance 1h >/dev/null
  sleep 1
  before=$(grep -c ' /' "$log" || true)
  AIOT_NOW=$(sim_now) AIOT_HUB=azure "$AIOT" -q rollout reconcile "bench-$size" -o json >"$work/look-$size.json" 2>&1 \
    || echo "warning: reconcile through Azure failed: $(tail -3 "$work/look-$size.json")" >&2
  echo "look step, canary $size: $(cat "$work/look-$size.json")" >&2
  sleep 1  # the emulator logs a request after answering it: let the log catch up
  after=$(grep -c ' /' "$log" || true)
  look_requests=$((after - before))
  cp "$log" "$work/emu-$size.kept"
  sed -n "$((before + 1)),${after}p" "$log" | awk '{print $2, $3}' | sed -E 's/\?.*//; s#/twins/[^ ]+#/twins/{id}#; s#/devices/[^ ]+#/devices/{id}#' \
    | sort | uniq -c | sort -rn > "$work/look-$size.txt"
  unset -f sim_now
  kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null || true; EMU_PID=""
  echo "$look_requests $dispatch_requests"
}
read -r look100 disp100 < <(requests_for_wave 100)
read -r look5000 disp5000 < <(requests_for_wave 5000)
echo "requests per look step: wave 100: $look100, wave 5000: $look5000 (apply: $disp100, $disp5000)" >&2

[[ -n "${SKIP_LOCAL:-}" ]] && exit 0  # the local part was skipped: nothing complete to write

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
cat > "$RESULTS" <<MD
# Rollout benchmarks

Measured by \`tests/bench/rollout_bench.sh\` on $(date -u +%Y-%m-%d) on this machine: $cpu, $(nproc) cores
(shared with other builds while measuring: load average $(cut -d' ' -f1 /proc/loadavg)), aiot built $BUILD_TYPE.
Wall times of whole processes (start-up, opening the SQLite hub, the work, exit).

## Local fleet of $DEVICES devices

Spec: three waves (500 devices, 60%, 100%), four gates (outcome, proportion and distribution
against the baseline, threshold), stratified by hw.

| what | target | measured |
|---|---|---|
| \`aiot sim fleet --devices $DEVICES\` (setup, not a target) | - | ${fleet_ms} ms |
| \`aiot rollout plan\` (5 runs) | ≤ 1000 ms | wall median ${plan_med} ms (${plan_wall[*]}); CPU median ${plan_cpu_med} ms (${plan_cpu[*]}) |
| \`aiot rollout apply\` without --wait (roles for every planned device, the record, the canary's dispatch) | - | wall ${apply_ms} ms, CPU ${apply_cpu} ms |
| one \`aiot rollout reconcile\` step ($steps steps, the whole rollout, final $phase) | ≤ 200 ms | wall median ${step_med} ms, max ${step_max} ms; CPU median ${step_cpu_med} ms, max ${step_cpu_max} ms |

Every reconcile step of the run (sim advance 30m between steps, not timed):

| step | wall ms | CPU ms | what it did |
|---|---|---|---|
$step_table
## Requests per gate evaluation through \`aiot hub serve --api azure\`

Same fleet behind the Azure emulator (\`-v\` logs one line per request, counted), the rollout
driven with \`AIOT_HUB=azure\` and \`AIOT_NOW\` pinned to the simulator's clock. One reconcile step
that evaluates the canary's gates (all four gate types), for a canary of 100 and of 5,000 devices:

| canary wave | requests in the look step | requests of \`apply\` (cohort query, roles of every planned device, record, canary dispatch) |
|---|---|---|
| 100 devices | $look100 | $disp100 |
| 5,000 devices | $look5000 | $disp5000 |

Requests of the look step, 100-device canary:

\`\`\`
$(cat "$work/look-100.txt")
\`\`\`

Requests of the look step, 5,000-device canary:

\`\`\`
$(cat "$work/look-5000.txt")
\`\`\`
MD
echo "wrote $RESULTS" >&2
aws_section
