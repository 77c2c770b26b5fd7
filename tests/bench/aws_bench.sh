#!/usr/bin/env bash
# CreateThing at AWS's default quota: `aiot device import` of 2,000 devices through the AWS provider
# into `aiot hub serve --api aws --throttle CreateThing=100/s` (floor 20 s, target <= 23 s, zero
# failures), against a loop of `aws iot create-thing` (one process per device, as scripts do today)
# and aiot's own one-by-one mode (`aiot device register` per device). Writes tests/bench/RESULTS-aws.md.
# Run by hand, never from ctest (wall times are not assertions):
#
#   AIOT=build-aws/cmd/aiot bash tests/bench/aws_bench.sh
#
# Environment: DEVICES (2000), RATE (CreateThing per second, 100), LOOP_DEVICES (50, for the loops),
# RESULTS (output file), BUILD_TYPE (label for the binary, default: read from CMakeCache.txt beside it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
DEVICES=${DEVICES:-2000}
RATE=${RATE:-100}
LOOP_DEVICES=${LOOP_DEVICES:-50}
RESULTS=${RESULTS:-$here/RESULTS-aws.md}
AIOT=${AIOT:-$repo/build/cmd/aiot}
AIOT=$(cd "$(dirname "$AIOT")" && pwd)/$(basename "$AIOT")
[[ -x "$AIOT" ]] || { echo "error: AIOT=$AIOT is not executable (build aiot first)" >&2; exit 2; }
if [[ -z "${BUILD_TYPE:-}" ]]; then
  BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$AIOT")/../CMakeCache.txt" 2>/dev/null || true)
  BUILD_TYPE=${BUILD_TYPE:-unknown}
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aiot-aws-bench.XXXXXX")
EMU_PID=""
cleanup() {
  [[ -n "$EMU_PID" ]] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

while read -r name; do
  case "$name" in AIOT) ;; AIOT_*) unset "$name" ;; esac
done < <(compgen -e)
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
export AWS_SHARED_CREDENTIALS_FILE="$work/aws.credentials" AWS_PROFILE=aiot-emulator AWS_CONFIG_FILE=/dev/null
cd "$work"

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

"$AIOT" --hub "local:$work/hub.db" hub serve --api aws --port 0 --port-file "$work/port" \
  --credentials-out "$work/aws.credentials" --throttle "CreateThing=${RATE}/s" -v >"$work/serve.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$work/port")"

{
  echo "id,tags.site,tags.ring"
  for ((i = 0; i < DEVICES; i++)); do printf 'dev-%05d,plant-%d,%d\n' "$i" $((i % 7)) $((i % 3)); done
} >devices.csv

echo "importing $DEVICES devices at CreateThing=${RATE}/s..." >&2
t0=$(now)
set +e
/usr/bin/time -f "%M" -o rss.txt env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$URL" "$AIOT" device import -f devices.csv \
  </dev/null >import.out 2>import.err
import_rc=$?
set -e
t1=$(now)
import_s=$(secs "$t0" "$t1")
import_rss_mb=$(python3 -c "print(f'{int(open(\"rss.txt\").read().split()[-1]) / 1024:.1f}')")
summary=$(grep -E '^Imported' import.err | tail -1 || true)
create_posts=$(grep -cE 'POST /things/dev-' serve.log || true)
throttled=$(grep -c '(throttled: CreateThing)' serve.log || true)
stored=$("$AIOT" --hub "local:$work/hub.db" device list -o json </dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
floor_s=$(python3 -c "print(f'{$DEVICES / $RATE:.1f}')")
echo "import: ${import_s} s (exit $import_rc), $summary" >&2

# One process per device: a loop of `aws iot create-thing` for every AWS CLI on PATH (awscli v1 from
# pip, Debian's v2), then aiot's own one-by-one mode.
cli_rows=()
n_cli=0
declare -A seen_versions=()
while read -r cli; do
  [[ -z "$cli" ]] && continue
  cli_version=$("$cli" --version 2>&1 | head -1)
  key=${cli_version%% *}
  [[ -n "${seen_versions[$key]:-}" ]] && continue
  seen_versions[$key]=1
  n_cli=$((n_cli + 1))
  echo "$cli iot create-thing x $LOOP_DEVICES ($key)..." >&2
  t0=$(now)
  for ((i = 0; i < LOOP_DEVICES; i++)); do
    "$cli" --endpoint-url "$URL" --region us-east-1 iot create-thing --thing-name "$(printf 'cli%d-%05d' "$n_cli" "$i")" \
      --attribute-payload "{\"attributes\":{\"site\":\"plant-$((i % 7))\",\"ring\":\"$((i % 3))\"}}" >/dev/null
  done
  t1=$(now)
  cli_s=$(secs "$t0" "$t1")
  cli_per=$(python3 -c "print(f'{$cli_s / $LOOP_DEVICES:.3f}')")
  cli_proj=$(python3 -c "print(f'{$cli_s / $LOOP_DEVICES * $DEVICES:.0f}')")
  ratio=$(python3 -c "print(f'{$cli_s / $LOOP_DEVICES * $DEVICES / $import_s:.1f}')")
  cli_rows+=("| \`aws iot create-thing\` ($cli, $cli_version) | ${cli_s} s | ${cli_per} s | ${cli_proj} s | **${ratio}x slower** |")
done < <(type -a -P aws 2>/dev/null)
echo "aiot device register x $LOOP_DEVICES..." >&2
t0=$(now)
for ((i = 0; i < LOOP_DEVICES; i++)); do
  env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$URL" "$AIOT" device register "$(printf 'one-%05d' "$i")" \
    --tag "site=plant-$((i % 7))" --tag "ring=$((i % 3))" </dev/null >/dev/null 2>&1
done
t1=$(now)
one_s=$(secs "$t0" "$t1")
one_per=$(python3 -c "print(f'{$one_s / $LOOP_DEVICES:.3f}')")
one_proj=$(python3 -c "print(f'{$one_s / $LOOP_DEVICES * $DEVICES:.0f}')")
one_ratio=$(python3 -c "print(f'{$one_s / $LOOP_DEVICES * $DEVICES / $import_s:.1f}')")

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "# AWS provider benchmark"
  echo
  echo "Written by \`tests/bench/aws_bench.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $commit; aiot build: $BUILD_TYPE;"
  echo "$(nproc) cores ($cpu), load average $load when it finished; the emulator and the clients run on the same"
  echo "machine over loopback. Python start-up dominates the AWS CLI loops, so they slow down most on a busy machine."
  echo
  echo "## $DEVICES devices through \`aiot device import\` (AWS provider) into \`aiot hub serve --api aws --throttle CreateThing=${RATE}/s\`"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| wall time | **${import_s} s** (floor ${floor_s} s at ${RATE}/s; target <= 23 s) |"
  echo "| exit code | $import_rc |"
  echo "| result | ${summary:-n/a} |"
  echo "| CreateThing requests the emulator saw | $create_posts |"
  echo "| 400 ThrottlingException answers (over ${RATE}/s) | $throttled |"
  echo "| things in the store afterwards | $stored |"
  echo "| peak RSS of aiot | ${import_rss_mb} MiB |"
  echo
  echo "AWS has no bulk CreateThing (StartThingRegistrationTask needs S3), so aiot sends one CreateThing per device,"
  echo "several in flight, paced by a client-side token bucket at the quota (100/s, burst 10)."
  echo
  echo "## One process per device (first $LOOP_DEVICES devices, projected to $DEVICES)"
  echo
  echo "| loop | $LOOP_DEVICES devices | per device | projected for $DEVICES | vs aiot import |"
  echo "|---|---|---|---|---|"
  if ((n_cli > 0)); then
    printf '%s\n' "${cli_rows[@]}"
  else
    echo "| \`aws iot create-thing\` | not measured: no \`aws\` on PATH | | | |"
  fi
  echo "| \`aiot device register\` (one process per device) | ${one_s} s | ${one_per} s | ${one_proj} s | ${one_ratio}x slower |"
  echo
  echo "The projection multiplies the measured per-device time; neither loop comes near the ${RATE}/s quota, so"
  echo "the emulator's throttle never answered them."
} >"$RESULTS"
echo "wrote $RESULTS" >&2
cat "$RESULTS"
