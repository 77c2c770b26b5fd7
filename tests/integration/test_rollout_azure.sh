#!/usr/bin/env bash
# Canary rollouts through the Azure provider: `aiot hub serve --api azure` serves a local hub file
# holding a simulated fleet; the rollout is driven with AIOT_HUB=azure over HTTP (controller record
# in a controller twin's tags with etag-checked writes, membership in tags, dispatch through
# desired properties, gates from twin queries), while the simulator advances the same file
# (`aiot --hub local:FILE sim advance`). A cloud hub has no simulated clock: each step pins the
# CLI's clock to the simulator's with AIOT_NOW (docs/rollouts.md §8).
# A good version succeeds (exit 0); the simulator's 2.1 (15% failed installs) is caught in the
# canary and rolled back with every canary device on the baseline again (exit 3); journals verify.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$AIOT_SOURCE_DIR/tests/integration/azure_lib.sh"

command -v python3 >/dev/null || skip "python3 is needed"

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
  gates:
    - {name: install, type: outcome, successAtLeast: "95%", failureAbove: "8%", minSamples: 50}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
}

local_hub() { "$AIOT" --hub "local:$EMU_HUB" "$@" </dev/null; }
sim_now() { local_hub sim status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["simTime"])'; }
# over_azure ARGS...: aiot through the Azure provider with the CLI's clock pinned to the simulator's
over_azure() { run env AIOT_NOW="$(sim_now)" "$AIOT" --hub azure "$@"; }

# drive NAME: reconcile through Azure, advance the simulator an hour (the look interval), until a final phase.
drive() {
  local phase="" i
  for ((i = 0; i < 40; i++)); do
    over_azure rollout reconcile "$1" -o json
    phase=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["phase"])' "$RUN_OUT" 2>/dev/null)
    case "$phase" in SUCCEEDED | ROLLED_BACK | ABORTED | DENIED) break ;; esac
    local_hub -q sim advance 1h >/dev/null
  done
  echo "$phase"
}

local_hub -q sim fleet --devices 200 --seed 21 >/dev/null || { fail "sim fleet"; finish; }
start_azure_emulator || { fail "emulator start"; finish; }

# --- a good version: canary -> all, succeeded ------------------------------------------------------
spec det-good 3.0 > good.yaml
over_azure rollout apply -f good.yaml
expect_code 0
expect_stderr_contains "Started rollout det-good: 2.0 -> 3.0 on 200 devices in 2 waves"
# The rollout's state lives in the hub: the controller twin is in the emulator's store.
run "$AIOT" --hub "local:$EMU_HUB" device show aiot-ctl-det-good -o json
expect_code 0
expect_stdout_contains '"aiotController"'
expect_eq "good: final phase" SUCCEEDED "$(drive det-good)"
over_azure rollout apply -f good.yaml --wait -o json
expect_code 0
expect_stdout_contains '"phase":"SUCCEEDED"'
running_good=$(local_hub device list --where "properties.reported.aiot.ota.version = '3.0'" -o json | json_len)
expect_eq "good: every device runs 3.0" 200 "$running_good"
over_azure rollout audit verify det-good
expect_code 0

# --- the simulator's bad 2.1: caught in the canary, rolled back ------------------------------------
spec det-bad 2.1 > bad.yaml
over_azure rollout apply -f bad.yaml
expect_code 0
expect_eq "bad: final phase" ROLLED_BACK "$(drive det-bad)"
over_azure rollout apply -f bad.yaml --wait -o json
expect_code 3
expect_stdout_contains '"phase":"ROLLED_BACK"'
expect_stdout_contains '"verdict":"FAIL"'
canary=$(local_hub device list --where "tags.aiot.rollouts.det-bad.wave = 'canary'" -o json | json_len)
expect_eq "bad: the canary is 40% of the fleet" 80 "$canary"
on_baseline=$(local_hub device list --where "tags.aiot.rollouts.det-bad.wave = 'canary' AND properties.reported.aiot.ota.version = '3.0' AND properties.reported.aiot.ota.state = 'succeeded'" -o json | json_len)
expect_eq "bad: every canary device is back on the baseline 3.0" 80 "$on_baseline"
never=$(local_hub device list --where "tags.aiot.rollouts.det-bad.wave = 'all' AND properties.desired.aiot.model.version = '2.1'" -o json | json_len)
expect_eq "bad: the second wave was never dispatched" 0 "$never"
over_azure rollout history det-bad
expect_code 0
expect_stdout_contains ROLLBACK_DONE
over_azure rollout audit verify det-bad
expect_code 0

# --- a look is counted by the hub (aggregation queries), and judges the devices the twins say -------
cat > counted.yaml <<YAML
apiVersion: aiot.dev/v1
kind: Rollout
metadata: {name: det-counted}
spec:
  artifact: {name: detector, version: "4.0", uri: "https://models.example/detector-4.0.onnx", sha256: "$(printf 'd%.0s' {1..64})"}
  baseline: {version: auto, control: matched, stratifyBy: [hw]}
  waves:
    - {name: canary, size: {percent: 40}, bake: {min: 6h, max: 8h}}
    - {name: all, size: {percent: 100}, bake: {min: 1h, max: 4h}}
  gates:
    - {name: install, type: outcome, successAtLeast: "90%", failureAbove: "20%", minSamples: 20}
    - {name: crash-free, type: proportion-vs-baseline, event: "reported.aiot.health.crashes_1h > 0", maxIncrease: 30pp, minSamples: 20}
    - {name: latency, type: distribution-vs-baseline, metric: reported.aiot.health.latency_p95_ms, tolerance: 50%, minSamples: 20}
    - {name: confidence, type: threshold, metric: reported.aiot.health.mean_confidence, aggregate: mean, successCondition: ">= 0.1", failureLimit: 3}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
over_azure rollout apply -f counted.yaml --allow-underpowered
expect_code 0
cat > oracle.py <<'PY'
import json, sys
looks = [e["gates"] for e in json.load(open(sys.argv[1])) if "latency" in e.get("gates", {})]
look = looks[-1]
def reporting(d, v):
    a = d["properties"]["reported"].get("aiot", {})
    ota, h = a.get("ota", {}), a.get("health", {})
    return bool(h) and ota.get("version") == v and ota.get("state") == "succeeded" and h.get("ts", "") >= ota.get("ts", "~")
arms = {"canary": [], "control": []}
assigned = succeeded = 0
for d in json.load(open(sys.argv[2])):
    m = d.get("tags", {}).get("aiot", {}).get("rollouts", {}).get("det-counted")
    if not m:
        continue
    ota = d["properties"]["reported"]["aiot"]["ota"]
    if m.get("wave") == "canary":
        assigned += 1
        succeeded += ota["version"] == "4.0" and ota["state"] == "succeeded"
        if reporting(d, "4.0"):
            arms["canary"].append(d["properties"]["reported"]["aiot"]["health"])
    if m.get("control", {}).get("w0") and reporting(d, "3.0"):
        arms["control"].append(d["properties"]["reported"]["aiot"]["health"])
c, b = arms["canary"], arms["control"]
expected = {
    "install": [assigned, succeeded],
    "crash-free": [len(c), sum(h["crashes_1h"] > 0 for h in c), len(b), sum(h["crashes_1h"] > 0 for h in b)],
    "latency": [sorted(h["latency_p95_ms"] for h in c), sorted(h["latency_p95_ms"] for h in b)],
    "confidence": [len(c), round(sum(h["mean_confidence"] for h in c) / len(c), 9) if c else None],
}
i, p = look["install"]["inputs"], look["crash-free"]["inputs"]
last = look["confidence"]["looks"][-1]
got = {
    "install": [i["assigned"], i["succeeded"]],
    "crash-free": [p["canary_devices"], p["canary_events"], p["baseline_devices"], p["baseline_events"]],
    "latency": [look["latency"]["inputs"]["canary_values"], look["latency"]["inputs"]["baseline_values"]],
    "confidence": [last["n"], round(last["value"], 9) if last["value"] is not None else None],
}
print(len(looks), len(c), len(b))
for k in expected:
    if expected[k] != got[k]:
        print(f"{k}: recorded {got[k]}, twins say {expected[k]}")
PY
# check_look WHY: the latest look's gate inputs equal what the twins say (the contract read from
# each twin with the timestamp rule, not the health.version the hub counts by).
check_look() {
  over_azure rollout history det-counted -o json
  cp "$RUN_OUT" history.json
  local_hub device list -o json > twins.json
  run python3 oracle.py history.json twins.json
  expect_code 0
  local looks canary control mismatches
  read -r looks canary control < "$RUN_OUT"
  mismatches=$(tail -n +2 "$RUN_OUT")
  expect_eq "$1: the look judged the devices the twins say" "" "$mismatches"
  check "$1: a look was recorded and both arms report health" test "${looks:-0}" -gt 0 -a "${canary:-0}" -gt 0 -a "${control:-0}" -gt 0
}
local_hub -q sim advance 3h >/dev/null
over_azure rollout reconcile det-counted -o json
expect_code 0
check_look "counted look"

# Devices whose health does not name its version (an older agent): the look reads the twins instead.
local_hub -q sim advance 1h >/dev/null
python3 - "$EMU_HUB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ids = [r[0] for r in db.execute("SELECT id FROM devices WHERE json_extract(tags, '$.aiot.rollouts.\"det-counted\".wave') = 'canary' "
                                "AND json_extract(reported, '$.aiot.health.version') = '4.0' ORDER BY id LIMIT 5")]
assert len(ids) == 5, ids
db.executemany("UPDATE devices SET reported = json_remove(reported, '$.aiot.health.version') WHERE id = ?", [(i,) for i in ids])
db.commit()
PY
over_azure rollout reconcile det-counted -o json
expect_code 0
check_look "five agents without health.version"

stop_emulator
finish
