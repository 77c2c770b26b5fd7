#!/usr/bin/env bash
# Configurations (automatic device management) on `aiot hub serve --api azure`, as the rollout work
# will drive them: create with a target condition, the hub writing deviceContent into targeted
# twins (priority wins), system and custom metrics, etag'd updates, immutable content, delete,
# testQueries, and persistence across an emulator restart.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$AIOT_SOURCE_DIR/tests/integration/azure_lib.sh"

command -v python3 >/dev/null || skip "python3 is needed"

field() { # PYTHON_EXPR over `d` (the JSON body of the last azure_raw run)
  tail -n +3 "$RUN_OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

start_azure_emulator || { fail "emulator start"; finish; }
for i in 1 2 3 4; do
  azure device register "cam-$i" --tag ring=$([[ $i -le 2 ]] && echo canary || echo main)
  expect_code 0
done

model_v2='{"id":"model-v2","content":{"deviceContent":{"properties.desired.aiot.model":{"name":"det","version":"2.0"}}},
 "targetCondition":"tags.ring = '"'canary'"'","priority":10,"labels":{"rollout":"r1"},
 "metrics":{"queries":{"v2":"SELECT deviceId FROM devices WHERE properties.desired.aiot.model.version = '"'2.0'"'"}}}'
run azure_raw PUT /configurations/model-v2 "$model_v2"
expect_stdout_matches '^200$'
expect_eq "targeted: the two canaries" 2 "$(field 'd["systemMetrics"]["results"]["targetedCount"]')"
expect_eq "applied to both" 2 "$(field 'd["systemMetrics"]["results"]["appliedCount"]')"
expect_eq "custom metric counted" 2 "$(field 'd["metrics"]["results"]["v2"]')"
etag=$(field 'd["etag"]')

azure device show cam-1 -o json
expect_stdout_contains '"model":{"name":"det","version":"2.0"}'
azure device show cam-3 -o json
expect_stdout_not_contains '"model"'

run azure_raw PUT /configurations/model-v2 "$model_v2"
expect_stdout_matches '^409$'
run azure_raw PUT /configurations/Model-V2 "$model_v2" '"*"'
expect_stdout_matches '^400$'

# A higher-priority configuration over every device wins the same property.
model_v3='{"id":"model-v3","content":{"deviceContent":{"properties.desired.aiot.model":{"name":"det","version":"3.0"}}},
 "targetCondition":"*","priority":20}'
run azure_raw PUT /configurations/model-v3 "$model_v3"
expect_stdout_matches '^200$'
expect_eq "v3 targets all four" 4 "$(field 'd["systemMetrics"]["results"]["targetedCount"]')"
azure device show cam-1 -o json
expect_stdout_contains '"version":"3.0"'
run azure_raw GET /configurations/model-v2
expect_eq "v2 is no longer applied anywhere" 0 "$(field 'd["systemMetrics"]["results"]["appliedCount"]')"

# Updates need the etag; content is immutable.
updated=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["priority"]=30; print(json.dumps(d))' "$model_v2")
run azure_raw PUT /configurations/model-v2 "$updated" '"stale"'
expect_stdout_matches '^412$'
expect_stdout_contains "PreconditionFailed"
run azure_raw PUT /configurations/model-v2 "$updated" "\"$etag\""
expect_stdout_matches '^200$'
expect_eq "priority changed" 30 "$(field 'd["priority"]')"
check "the etag moved" test "$(field 'd["etag"]')" != "$etag"
azure device show cam-1 -o json
expect_stdout_contains '"version":"2.0"'
changed=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["content"]["deviceContent"]["properties.desired.aiot.model"]["version"]="9"; print(json.dumps(d))' "$updated")
run azure_raw PUT /configurations/model-v2 "$changed" '"*"'
expect_stdout_matches '^400$'
expect_stdout_contains "CannotModifyImmutableConfigurationContent"

bad_target='{"id":"bad","content":{"deviceContent":{"properties.desired.x":1}},"targetCondition":"tags.ring = "}'
run azure_raw PUT /configurations/bad "$bad_target"
expect_stdout_matches '^400$'
expect_stdout_contains "InvalidConfigurationTargetCondition"

run azure_raw POST /configurations/testQueries '{"targetCondition":"tags.ring = '"'canary'"'","customMetricQueries":{"ok":"SELECT deviceId FROM devices WHERE status = '"'enabled'"'","bad":"SELECT deviceId FROM devices WHERE ("}}'
expect_stdout_matches '^200$'
expect_eq "target condition accepted" "" "$(field 'd["targetConditionError"]')"
expect_eq "good metric accepted" "" "$(field 'd["customMetricQueryErrors"]["ok"]')"
check "bad metric reported" test -n "$(field 'd["customMetricQueryErrors"]["bad"]')"

run azure_raw GET /configurations
expect_eq "list" "model-v2 model-v3" "$(field '" ".join(c["id"] for c in d)')"

# Configurations live in the hub file: a restart keeps them.
stop_emulator
start_azure_emulator || fail "emulator restart"
run azure_raw GET /configurations/model-v3
expect_stdout_matches '^200$'
run azure_raw DELETE /configurations/model-v3 "" '"*"'
expect_stdout_matches '^204$'
run azure_raw GET /configurations/model-v3
expect_stdout_matches '^404$'
expect_stdout_contains "ConfigurationNotFound"

run azure_raw GET /statistics/devices
expect_eq "statistics" 4 "$(field 'd["totalDeviceCount"]')"
stop_emulator
finish
