#!/usr/bin/env bash
# Canary rollouts through the AWS IoT provider: `aiot hub serve --api aws` serves a local hub file
# holding a simulated fleet; the rollout is driven with --hub aws over HTTP (the record in the named
# shadow aiot-rollout of the thing aiot-ctl-<rollout>, written with its version; membership in static
# thing groups; one job per wave on its group with the outcome gate as abortConfig; progress from
# Fleet Indexing and the jobs' executions), while the simulator advances the same file
# (`aiot --hub local:FILE sim advance`) and the emulator runs the jobs on the simulator's clock.
# Each step pins the CLI's clock to the simulator's with AIOT_NOW (docs/rollouts.md §8).
# `device list --where` on properties reads the shadows in SearchIndex pages, not one GetThingShadow
# per device (requests counted in the emulator's -v log). The specs name no properties in their
# targets: the provider lists the cohort with its reports through Fleet Indexing, so `baseline:
# auto` finds 2.0. A good version succeeds (exit 0); the simulator's 2.1 (15% failed installs) is
# caught in the canary and rolled back (wave job canceled, a rollback job) with every canary device
# on the baseline again (exit 3); journals verify.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v python3 >/dev/null || skip "python3 is needed"

source "$(dirname "${BASH_SOURCE[0]}")/aws_lib.sh"

spec() { # NAME VERSION
  cat <<YAML
apiVersion: aiot.dev/v1
kind: Rollout
metadata: {name: $1}
spec:
  artifact: {name: detector, version: "$2", uri: "https://models.example/detector-$2.onnx", sha256: "$(printf 'd%.0s' {1..64})"}
  baseline: {version: auto, control: matched, stratifyBy: [hw]}
  waves:
    - {name: canary, size: {percent: 40}, bake: {min: 2h, max: 4h}}
    - {name: all, size: {percent: 100}, bake: {min: 1h, max: 4h}}
  rate: {perMinute: 200}
  timeouts: {install: 45m}
  gates:
    - {name: install, type: outcome, successAtLeast: "95%", failureAbove: "8%", minSamples: 50}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
}

local_hub() { "$AIOT" --hub "local:$EMU_HUB" "$@" </dev/null; }
sim_now() { local_hub sim status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["simTime"])'; }
# over_aws ARGS...: aiot through the AWS provider with the CLI's clock pinned to the simulator's
over_aws() { run env AIOT_NOW="$(sim_now)" "$AIOT" --hub aws "$@"; }
json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$RUN_OUT" "$1"; }

# drive NAME: reconcile through AWS, advance the simulator an hour (the look interval), until a final phase.
drive() {
  local phase="" i
  for ((i = 0; i < 40; i++)); do
    over_aws rollout reconcile "$1" -o json
    phase=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["phase"])' "$RUN_OUT" 2>/dev/null)
    case "$phase" in SUCCEEDED | ROLLED_BACK | ABORTED | DENIED) break ;; esac
    [[ -z "$phase" ]] && { cat "$RUN_ERR" >&2; break; }
    local_hub -q sim advance 1h >/dev/null
  done
  echo "$phase"
}

local_hub -q sim fleet --devices 200 --seed 21 >/dev/null || { fail "sim fleet"; finish; }
start_aws_emulator

# requests_since LINE: the emulator's request lines (`-v` logs one per request, "METHOD /path...")
# after the first LINE lines, as "METHOD /path" with queries and shadow thing names cut.
request_lines() { grep -c ' /' "$EMU_LOG" || true; }
requests_since() {
  # The emulator logs a request after answering it: wait until the log stops growing.
  local n=-1 i
  for ((i = 0; i < 20 && n != $(request_lines); i++)); do
    n=$(request_lines)
    sleep 0.2
  done
  grep ' /' "$EMU_LOG" | sed -n "$(($1 + 1)),\$p" | awk '{print $2, $3}' \
    | sed -E 's/\?.*//; s#/things/[^/ ]+/shadow#/things/{thing}/shadow#'
}

# --- device list reads the shadows through Fleet Indexing: pages, not a read per device -----------
before=$(request_lines)
over_aws device list --where "properties.reported.aiot.ota.version = '2.0'" -o json
expect_code 0
listed=$(json_len <"$RUN_OUT")
expect_eq "list: the devices on 2.0 through AWS = on the local hub" \
  "$(local_hub device list --where "properties.reported.aiot.ota.version = '2.0'" -o json | json_len)" "$listed"
[[ "$listed" -gt 0 ]] && pass "list: $listed devices report 2.0" || fail "list: no device reports 2.0"
requests_since "$before" >"$TEST_TMP/list-requests.txt"
searches=$(grep -c '^POST /indices/search' "$TEST_TMP/list-requests.txt" || true)
shadow_reads=$(grep -c '^GET /things/{thing}/shadow' "$TEST_TMP/list-requests.txt" || true)
expect_eq "list: no GetThingShadow per device" 0 "$shadow_reads"
[[ "$searches" -ge 2 && "$searches" -le 3 ]] && pass "list: 200 devices in $searches SearchIndex pages" \
  || { fail "list: $searches SearchIndex pages for 200 devices"; sort "$TEST_TMP/list-requests.txt" | uniq -c >&2; }
# A condition on tags only still gives every device its reports (what the planner's baseline: auto reads).
over_aws device list --where "tags.hw = 'pi5'" -o json
expect_code 0
with_reports=$(python3 -c 'import json,sys
print(sum(1 for x in json.load(open(sys.argv[1])) if x["properties"]["reported"].get("aiot", {}).get("ota", {}).get("version")))' "$RUN_OUT")
expect_eq "list: a tag condition returns the devices with their reports" "$(json_len <"$RUN_OUT")" "$with_reports"

# --- a good version: canary -> all, succeeded ------------------------------------------------------
spec det-good 3.0 > good.yaml
over_aws rollout apply -f good.yaml
expect_code 0
expect_stderr_contains "Started rollout det-good: 2.0 -> 3.0 on 200 devices in 2 waves"
expect_stderr_contains "handed 3.0 to the hub for 80 devices"
# The record is a thing with the named shadow aiot-rollout; the rollout lists from the attribute.
over_aws rollout list -o json
expect_code 0
expect_stdout_contains '"det-good"'
expect_eq "good: final phase" SUCCEEDED "$(drive det-good)"
over_aws rollout apply -f good.yaml --wait -o json
expect_code 0
expect_stdout_contains '"phase":"SUCCEEDED"'
running_good=$(local_hub device list --where "properties.reported.aiot.ota.version = '3.0'" -o json | json_len)
expect_eq "good: every device runs 3.0" 200 "$running_good"
over_aws rollout audit verify det-good
expect_code 0
over_aws rollout history det-good -o json
expect_code 0
expect_stdout_contains '"providerIds"'

# One job per wave, on the wave's static group, with the outcome gate as abortConfig and the rate.
grep -q 'PUT /jobs/aiot-det-good-w0-' "$EMU_LOG" && pass "the canary went out as one job" || fail "no CreateJob for the canary in the emulator log"
jobs_created=$(grep -c 'PUT /jobs/aiot-det-good-w[0-9]*-[0-9a-f]* ' "$EMU_LOG" || true)
expect_eq "good: one CreateJob per wave" 2 "$jobs_created"
job_id=$(grep -o 'aiot-det-good-w0-[0-9a-f]*' "$EMU_LOG" | head -1)
if command -v aws >/dev/null; then
  run aws --endpoint-url "$AIOT_AWS_ENDPOINT" --region us-east-1 iot describe-job --job-id "$job_id" --output json
  expect_code 0
  expect_stdout_contains '"thresholdPercentage": 8'
  expect_stdout_contains '"minNumberOfExecutedThings": 50'
  expect_stdout_contains '"maximumPerMinute": 200'
  expect_stdout_contains '"inProgressTimeoutInMinutes": 45'
  expect_stdout_contains 'thinggroup/aiot-det-good_w_canary'
else
  # Without the AWS CLI: the emulator's store keeps the job's configuration as sent.
  row=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select abort_config, rollout, timeout from aws_jobs where id = ?", (sys.argv[2],)).fetchone())' "$EMU_HUB" "$job_id")
  [[ "$row" == *'"thresholdPercentage":8'* && "$row" == *'"minNumberOfExecutedThings":50'* ]] \
    && pass "the canary job carries the abortConfig" || fail "the canary job's abortConfig: $row"
fi

# --- the simulator's bad 2.1: caught in the canary, rolled back ------------------------------------
spec det-bad 2.1 > bad.yaml
over_aws rollout apply -f bad.yaml
expect_code 0
expect_eq "bad: final phase" ROLLED_BACK "$(drive det-bad)"
over_aws rollout apply -f bad.yaml --wait -o json
expect_code 3
expect_stdout_contains '"phase":"ROLLED_BACK"'
expect_stdout_contains '"verdict":"FAIL"'
canary=$(local_hub device list --where "properties.desired.aiot.model.version = '3.0'" -o json | json_len)
expect_eq "bad: every device holds the baseline model again" 200 "$canary"
on_baseline=$(local_hub device list --where "properties.reported.aiot.ota.version = '3.0' AND properties.reported.aiot.ota.state = 'succeeded'" -o json | json_len)
expect_eq "bad: every device is back on the baseline 3.0" 200 "$on_baseline"
over_aws rollout history det-bad
expect_code 0
expect_stdout_contains ROLLBACK_DONE
bad_job=$(grep -o 'aiot-det-bad-w0-[0-9a-f]*' "$EMU_LOG" | head -1)
grep -q 'PUT /jobs/aiot-det-bad-rb-' "$EMU_LOG" && pass "a rollback job was created" || fail "no rollback job"
# The canary's job is canceled: by its abortConfig (15% failed > 8% once 50 finished) when AWS saw
# it first, else by the rollback's CancelJob. Either way no queued device gets 2.1 any more.
if command -v aws >/dev/null; then
  run aws --endpoint-url "$AIOT_AWS_ENDPOINT" --region us-east-1 iot describe-job --job-id "$bad_job" --output json
  expect_code 0
  expect_stdout_contains '"status": "CANCELED"'
fi
never=$(grep -c 'PUT /jobs/aiot-det-bad-w1-' "$EMU_LOG" || true)
expect_eq "bad: the second wave was never dispatched" 0 "$never"
over_aws rollout audit verify det-bad
expect_code 0

# Status recomputes the canary's device states from Fleet Indexing and the jobs' executions.
over_aws rollout status det-bad -o json
expect_code 0
expect_eq "bad: the canary is 40% of the fleet" 80 "$(json_field "['waves'][0]['canary']")"
expect_eq "bad: every canary device is rolled back" 80 "$(json_field "['waves'][0]['devices'].get('rolled_back', 0)")"

# --- stopped by hand while AWS is still rolling the canary's job out (1 device a minute) --------------
# The rollback cancels the job (its queued executions never install 2.1) and reverts the canary.
spec det-stop 2.1 | sed 's/perMinute: 200/perMinute: 1/' > stop.yaml
over_aws rollout apply -f stop.yaml
expect_code 0
expect_stderr_contains "handed 2.1 to the hub for 80 devices"
local_hub -q sim advance 10m >/dev/null
over_aws rollout rollback det-stop --remark "wrong model"
expect_code 0
over_aws rollout history det-stop -o json
expect_code 0
expect_stdout_contains '"canceled"'
stop_job=$(grep -o 'aiot-det-stop-w0-[0-9a-f]*' "$EMU_LOG" | head -1)
grep -q "PUT /jobs/$stop_job/cancel" "$EMU_LOG" && pass "the rollback canceled the canary's job" || fail "no CancelJob for $stop_job"
if command -v aws >/dev/null; then
  run aws --endpoint-url "$AIOT_AWS_ENDPOINT" --region us-east-1 iot list-job-executions-for-job --job-id "$stop_job" --status CANCELED --output json
  expect_code 0
  canceled=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["executionSummaries"]))' "$RUN_OUT")
  [[ "$canceled" -ge 60 ]] && pass "queued executions were canceled ($canceled of 80)" || fail "only $canceled executions canceled"
fi
expect_eq "stop: final phase" ROLLED_BACK "$(drive det-stop)"
on_baseline=$(local_hub device list --where "properties.reported.aiot.ota.version = '3.0' AND properties.reported.aiot.ota.state = 'succeeded'" -o json | json_len)
expect_eq "stop: every device is on the baseline 3.0" 200 "$on_baseline"
over_aws rollout audit verify det-stop
expect_code 0

stop_emulator
finish
