#!/usr/bin/env bash
# Crash safety of the rollout driver: kill -9 `rollout apply --wait` at 20 random points, then let
# `apply` (and `reconcile`) finish. The rollout must end where an uninterrupted run ends, no device
# may be dispatched twice (desired $version counts every write), and the journal must verify.
# A second run drives the rollback path (a version that fails 15% of installs).
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed to compare twins"

spec() { # NAME VERSION
  cat <<YAML
apiVersion: aiot.dev/v1
kind: Rollout
metadata: {name: $1}
spec:
  artifact: {name: detector, version: "$2", uri: "https://models.example/detector-$2.onnx", sha256: "$(printf 'c%.0s' {1..64})"}
  baseline: {version: auto, control: matched, stratifyBy: [hw]}
  waves:
    - {name: canary, size: {percent: 40}, bake: {min: 2h, max: 4h}}
    - {name: rest, size: {percent: 70}, bake: {min: 2h, max: 4h}}
    - {name: all, size: {percent: 100}, bake: {min: 1h, max: 4h}}
  gates:
    - {name: install, type: outcome, successAtLeast: "95%", failureAbove: "8%", minSamples: 50}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
}

# Per device: running version and how many times desired changed; and the rollout's final phase.
fingerprint() { # HUB NAME
  AIOT_HUB="local:$1" "$AIOT" device list -o json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
for d in sorted(rows, key=lambda d: d["deviceId"]):
    if d["deviceId"].startswith("aiot-ctl-"): continue
    ota = d["properties"]["reported"].get("aiot", {}).get("ota", {})
    print(d["deviceId"], ota.get("version"), ota.get("state"), d["properties"]["desired"]["$version"])
'
  AIOT_HUB="local:$1" "$AIOT" rollout status "$2" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["phase"])'
}

scenario() { # NAME VERSION EXPECTED_CODE
  local name=$1 version=$2 expected=$3
  spec "$name" "$version" > "$name.yaml"
  # The reference: the same fleet, driven without interruption.
  AIOT_HUB="local:$TEST_TMP/$name-ref.db" "$AIOT" -q sim fleet --devices 200 --seed 11 >/dev/null
  AIOT_HUB="local:$TEST_TMP/$name-ref.db" "$AIOT" -q rollout apply -f "$name.yaml" --wait >/dev/null 2>&1
  expect_eq "$name: reference run exit code" "$expected" "$?"
  fingerprint "$TEST_TMP/$name-ref.db" "$name" > "$name.ref"

  # 20 drivers, each killed at a random point of its run, each on a fresh copy of the fleet, each
  # then resumed to the end: every run must land exactly where the uninterrupted one did.
  # Only the driver is timed: that is what gets killed (timing the fleet's creation too put most
  # kill points after a fast driver had already finished).
  local t0 t1 run_ms
  AIOT_HUB="local:$TEST_TMP/$name-timing.db" "$AIOT" -q sim fleet --devices 200 --seed 11 >/dev/null
  t0=$(date +%s%N)
  AIOT_HUB="local:$TEST_TMP/$name-timing.db" "$AIOT" -q rollout apply -f "$name.yaml" --wait >/dev/null 2>&1
  t1=$(date +%s%N)
  run_ms=$(((t1 - t0) / 1000000))
  RANDOM=$((expected * 1000 + 7))
  local killed=0 same=0 verified=0
  for i in $(seq 1 20); do
    local hub="$TEST_TMP/$name-crash-$i.db"
    AIOT_HUB="local:$hub" "$AIOT" -q sim fleet --devices 200 --seed 11 >/dev/null
    AIOT_HUB="local:$hub" "$AIOT" -q rollout apply -f "$name.yaml" --wait >/dev/null 2>&1 &
    local pid=$!
    local at=$((RANDOM % run_ms + 1))
    sleep "$((at / 1000)).$(printf '%03d' $((at % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null
    # Resume: one reconcile step from cron, then apply again to the end.
    AIOT_HUB="local:$hub" "$AIOT" -q rollout reconcile --all >/dev/null 2>&1
    AIOT_HUB="local:$hub" "$AIOT" -q rollout apply -f "$name.yaml" --wait >/dev/null 2>&1
    local code=$?
    fingerprint "$hub" "$name" > "$name.crash-$i"
    if [[ $code == "$expected" ]] && diff -q "$name.ref" "$name.crash-$i" >/dev/null; then
      same=$((same + 1))
    else
      echo "$name run $i (killed at ${at} ms): exit $code; $(diff "$name.ref" "$name.crash-$i" | head -3 | tr '\n' '|')" >&2
    fi
    if AIOT_HUB="local:$hub" "$AIOT" -q rollout audit verify "$name" >/dev/null 2>&1; then
      verified=$((verified + 1))
    fi
    rm -f "$hub" "$hub-wal" "$hub-shm"
  done
  echo "$name: an uninterrupted run takes ${run_ms} ms; $killed of 20 drivers were killed mid-run" >&2
  expect_eq "$name: runs that reached the reference state with one dispatch per device" 20 "$same"
  expect_eq "$name: runs whose journal verifies against the hub" 20 "$verified"
  check "$name: most kills landed mid-run" test "$killed" -ge 10
}

scenario det-good 3.0 0
scenario det-bad 2.1 3

finish
