#!/usr/bin/env bash
# The AWS IoT Core provider against `aiot hub serve --api aws` over real HTTP: the device verbs through
# the provider, SigV4 failures (exit 4), the emulator down (exit 5) and back on the same store, and the
# real AWS CLI against the emulator (things, paging, groups, jobs that progress from device reports).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

source "$(dirname "${BASH_SOURCE[0]}")/aws_lib.sh"

json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }


start_aws_emulator
expect_eq "the credentials file is 0600" "600" "$(stat -c %a "$TEST_TMP/aws.credentials")"
expect_eq "the emulator's key file is 0600" "600" "$(stat -c %a "$EMU_HUB.aws-key")"

# --- device verbs through the AWS provider ---------------------------------------------------------
aws_aiot device register cam-1 --tag site=berlin --tag ring=2
expect_code 0
expect_stderr_contains "Registered cam-1"
aws_aiot device register cam-1
expect_code 1
expect_stderr_contains "already exists"
aws_aiot device register "bad name!"
expect_code 2
aws_aiot device register many --tag a=1 --tag b=2 --tag c=3 --tag d=4
expect_code 2
expect_stderr_contains "allows 3"
aws_aiot device register spaced --tag site="plant 7"
expect_code 2
expect_stderr_contains "a space"

aws_aiot device show cam-1 -o json
expect_code 0
expect_eq "tags come back from the thing attributes" "berlin" "$(run_stdout | json_get "['tags']['site']")"
etag=$(run_stdout | json_get "['etag']")

aws_aiot device update cam-1 --tag owner=ops --desired 'fw="1.5"'
expect_code 0
aws_aiot device show cam-1 -o json
expect_eq "desired goes to the aiot shadow" "1.5" "$(run_stdout | json_get "['properties']['desired']['fw']")"
expect_eq "the tag was merged" "ops" "$(run_stdout | json_get "['tags']['owner']")"
aws_aiot device update cam-1 --tag owner=dev --if-match "$etag"
expect_code 1
expect_stderr_contains "changed since"

aws_aiot device list --where "tags.site = 'berlin'" -o json
expect_code 0
expect_eq "--where filters client-side" "1" "$(run_stdout | json_len)"
aws_aiot device list --where "properties.desired.fw = '1.5'" -o json
expect_eq "--where on properties reads the shadows" "1" "$(run_stdout | json_len)"

{
  echo "id,tags.site,tags.ring"
  for i in $(seq -w 1 40); do echo "imp-$i,plant-$((10#$i % 3)),$((10#$i % 2))"; done
} >"$TEST_TMP/devices.csv"
aws_aiot device import -f "$TEST_TMP/devices.csv"
expect_code 0
expect_stderr_contains "40 created"
aws_aiot device import -f "$TEST_TMP/devices.csv"
expect_code 0
aws_aiot device list -o json
expect_eq "an import re-run leaves every device once" "41" "$(run_stdout | json_len)"
sed 's/^imp-01,plant-1/imp-01,plant-9/' "$TEST_TMP/devices.csv" >"$TEST_TMP/changed.csv"
aws_aiot device import -f "$TEST_TMP/changed.csv"
check "a row with other content fails the import" test "$RUN_CODE" -ne 0
expect_stderr_contains "imp-01: device 'imp-01' already exists with other content"
aws_aiot device import -f "$TEST_TMP/changed.csv" --update
expect_code 0
expect_stderr_contains "1 updated"

aws_aiot device delete cam-1 --yes
expect_code 0
aws_aiot device show cam-1
expect_code 1
expect_stderr_contains "not found"

# --- X.509: the provider registers the fleet CA's certificate once cmd/device/register.cpp calls it --
run "$AIOT" ca create --name "aiot test fleet" --out "$TEST_TMP/ca"
aws_aiot device register cert-1 --auth x509-ca --ca "$TEST_TMP/ca" --out-dir "$TEST_TMP/keys"
expect_code 0
if command -v aws >/dev/null 2>&1; then
  principals=$(aws --endpoint-url "$EMU_URL" --region us-east-1 iot list-thing-principals --thing-name cert-1 \
    --query 'length(principals)' --output text 2>/dev/null)
  check "the x509-ca certificate is attached to the thing" test "$principals" = "1"
  policies=$(aws --endpoint-url "$EMU_URL" --region us-east-1 iot list-attached-policies \
    --target "$(aws --endpoint-url "$EMU_URL" --region us-east-1 iot list-thing-principals --thing-name cert-1 \
      --query 'principals[0]' --output text 2>/dev/null)" --query 'policies[0].policyName' --output text 2>/dev/null || true)
  if [[ -n "$policies" ]]; then
    check "the device policy is attached to the certificate" test "$policies" = "aiot-device"
  fi
fi
aws_aiot -o json device register gen-1 --auth aws-generated --out-dir "$TEST_TMP/keys"
expect_code 0
expect_stdout_contains '"certificate":"arn:aws:iot:'
check "the aws-generated private key is written 0600" test "$(stat -c %a "$TEST_TMP/keys/gen-1.key.pem")" = "600"
expect_stdout_not_contains "PRIVATE KEY"
run "$AIOT" device register gen-2 --auth aws-generated
expect_code 2
expect_stderr_contains "needs an AWS hub"

# --- SigV4 failures are exit 4; no credentials is exit 4 with what was looked at --------------------
sed 's/^aws_secret_access_key = .*/aws_secret_access_key = wrong/' "$TEST_TMP/aws.credentials" >"$TEST_TMP/bad.credentials"
run env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$EMU_URL" AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/bad.credentials" "$AIOT" device list
expect_code 4
expect_stderr_contains "InvalidSignatureException"
run env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$EMU_URL" AWS_ACCESS_KEY_ID=AKIDNOTKNOWN AWS_SECRET_ACCESS_KEY=x "$AIOT" device list
expect_code 4
expect_stderr_contains "UnrecognizedClientException"
run env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$EMU_URL" AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/none" AWS_PROFILE= "$AIOT" device list
expect_code 4
expect_stderr_contains "looked at"

# --- the real AWS CLI against the emulator (every `aws` on PATH: awscli v1 signs with scope iot, --------
# Debian's awscli v2.9 with execute-api) --------------------------------------------------------------
# awscli_checks CLI SUFFIX: things, paging, groups and a job that progresses, with names ending in SUFFIX.
awscli_checks() {
  local cli=$1 s=$2
  local version
  version=$("$cli" --version 2>&1 | head -1)
  echo "note: AWS CLI checks with $cli ($version)" >&2
  local AWS=("$cli" --endpoint-url "$EMU_URL" --region us-east-1)
  run "${AWS[@]}" iot create-thing --thing-name "sensor$s" --attribute-payload '{"attributes":{"site":"plant-7","fw":"1.4.2"}}'
  expect_code 0
  expect_stdout_contains "arn:aws:iot:us-east-1:000000000000:thing/sensor$s"
  run "${AWS[@]}" iot create-thing --thing-name "sensor$s" --attribute-payload '{"attributes":{"site":"plant-7","fw":"1.4.2"}}'
  expect_code 0
  run "${AWS[@]}" iot create-thing --thing-name "sensor$s" --attribute-payload '{"attributes":{"site":"other"}}'
  expect_stderr_contains "ResourceAlreadyExistsException"
  run "${AWS[@]}" iot describe-thing --thing-name "sensor$s"
  expect_code 0
  expect_eq "describe-thing shows the attributes" "plant-7" "$(run_stdout | json_get "['attributes']['site']")"
  run "${AWS[@]}" iot describe-thing --thing-name nope
  expect_stderr_contains "ResourceNotFoundException"
  run "${AWS[@]}" iot create-thing --thing-name "edge:cam$s"
  expect_code 0
  run "${AWS[@]}" iot describe-thing --thing-name "edge:cam$s"
  expect_code 0
  aws_aiot device list -o json
  local all_devices
  all_devices=$(run_stdout | json_len)
  run "${AWS[@]}" iot list-things --page-size 7 --query 'things[].thingName' --output text
  expect_code 0
  expect_eq "list-things --page-size 7 pages through every thing" "$all_devices" "$(run_stdout | wc -w)"
  run "${AWS[@]}" iot create-thing-group --thing-group-name "canary$s"
  expect_code 0
  local group_arn
  group_arn=$(run_stdout | json_get "['thingGroupArn']")
  for t in imp-01 imp-02 imp-03; do
    run "${AWS[@]}" iot add-thing-to-thing-group --thing-group-name "canary$s" --thing-name "$t"
    expect_code 0
  done
  run "${AWS[@]}" iot list-things-in-thing-group --thing-group-name "canary$s" --query 'things' --output text
  expect_eq "three things in the group" "3" "$(run_stdout | wc -w)"
  run "${AWS[@]}" iot create-job --job-id "fw$s" --targets "$group_arn" \
    --document "{\"operation\":\"install\",\"version\":\"2.0$s\"}" \
    --job-executions-rollout-config '{"maximumPerMinute":2}' \
    --abort-config '{"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":60,"minNumberOfExecutedThings":2}]}' \
    --timeout-config inProgressTimeoutInMinutes=60
  expect_code 0
  run "${AWS[@]}" iot describe-job --job-id "fw$s"
  expect_code 0
  expect_eq "the rollout rate lets 2 of 3 start in the first minute" "2" \
    "$(run_stdout | json_get "['job']['jobProcessDetails']['numberOfQueuedThings']")"
  expect_eq "the job runs" "IN_PROGRESS" "$(run_stdout | json_get "['job']['status']")"
  # A device reports success on its aiot shadow (what the simulator does): its execution succeeds.
  local binary_format=()
  [[ "$version" == aws-cli/2* ]] && binary_format=(--cli-binary-format raw-in-base64-out)
  run "${AWS[@]}" iot-data update-thing-shadow --thing-name imp-01 --shadow-name aiot "${binary_format[@]}" \
    --payload "{\"state\":{\"reported\":{\"aiot\":{\"ota\":{\"state\":\"succeeded\",\"version\":\"2.0$s\"}}}}}" \
    "$TEST_TMP/shadow.out"
  expect_code 0
  run "${AWS[@]}" iot list-job-executions-for-job --job-id "fw$s" --output json
  expect_code 0
  expect_stdout_contains '"SUCCEEDED"'
  expect_stdout_contains '"QUEUED"'
  run "${AWS[@]}" iot describe-job --job-id "fw$s"
  expect_eq "the job counts the success" "1" "$(run_stdout | json_get "['job']['jobProcessDetails']['numberOfSucceededThings']")"
  run "${AWS[@]}" iot cancel-job --job-id "fw$s" --reason-code CANARY_FAILED --comment abort
  expect_code 0
  run "${AWS[@]}" iot describe-job --job-id "fw$s"
  expect_eq "cancel-job cancels the job" "CANCELED" "$(run_stdout | json_get "['job']['status']")"
  # Certificates, principals and policies as the provider uses them.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=sensor$s" \
    -keyout "$TEST_TMP/cert$s.key" -out "$TEST_TMP/cert$s.pem" 2>/dev/null
  run "${AWS[@]}" iot register-certificate-without-ca --certificate-pem "file://$TEST_TMP/cert$s.pem" --status ACTIVE
  expect_code 0
  local cert_arn cert_id
  cert_arn=$(run_stdout | json_get "['certificateArn']")
  cert_id=$(run_stdout | json_get "['certificateId']")
  expect_eq "the certificate id is the SHA-256 of the DER certificate" \
    "$(openssl x509 -in "$TEST_TMP/cert$s.pem" -outform DER | sha256sum | cut -d' ' -f1)" "$cert_id"
  run "${AWS[@]}" iot register-certificate-without-ca --certificate-pem "file://$TEST_TMP/cert$s.pem"
  expect_stderr_contains "ResourceAlreadyExistsException"
  run "${AWS[@]}" iot attach-thing-principal --thing-name "sensor$s" --principal "$cert_arn"
  expect_code 0
  run "${AWS[@]}" iot list-thing-principals --thing-name "sensor$s"
  expect_stdout_contains "$cert_arn"
  run "${AWS[@]}" iot create-policy --policy-name "dev$s" \
    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}'
  expect_code 0
  run "${AWS[@]}" iot attach-policy --policy-name "dev$s" --target "$cert_arn"
  expect_code 0
  run "${AWS[@]}" iot delete-certificate --certificate-id "$cert_id"
  expect_stderr_contains "DeleteConflictException"
  run "${AWS[@]}" iot create-keys-and-certificate --set-as-active
  expect_code 0
  expect_stdout_contains "PRIVATE KEY"
  aws_aiot device show "sensor$s" -o json
  expect_eq "a thing with a certificate shows x509" "certificateAuthority" "$(run_stdout | json_get "['authenticationType']")"
  # The aiot provider sees what the CLI made, in the same store.
  aws_aiot device show "sensor$s" -o json
  expect_eq "a thing made by the AWS CLI is an aiot device" "plant-7" "$(run_stdout | json_get "['tags']['site']")"
}

n_cli=0
declare -A seen_versions=()
while read -r cli; do
  [[ -z "$cli" ]] && continue
  v=$("$cli" --version 2>&1 | head -1 | cut -d' ' -f1)
  [[ -n "${seen_versions[$v]:-}" ]] && continue
  seen_versions[$v]=1
  n_cli=$((n_cli + 1))
  awscli_checks "$cli" "-$n_cli"
done < <(type -a -P aws 2>/dev/null)
if ((n_cli == 0)); then
  echo "note: no 'aws' on PATH: the AWS CLI checks were skipped (apt-get install awscli)" >&2
fi

# --- the emulator down: exit 5 after retries; back on the same store with the same keys -------------
stop_emulator
run env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$EMU_URL" AIOT_HTTP_MAX_ATTEMPTS=2 "$AIOT" device show imp-01
expect_code 5
start_aws_emulator
aws_aiot device show imp-01 -o json
expect_code 0
expect_eq "a restarted emulator keeps devices and keys" "imp-01" "$(run_stdout | json_get "['deviceId']")"
stop_emulator

# --- a simulated fleet takes part in IoT Jobs; Fleet Indexing shows its health (docs/aws.md) ----------
# The emulator serves a local hub with a simulated fleet: a job's aiot.model reaches the devices'
# desired twins when its executions are rolled out, the simulator installs it on `sim advance`, and
# the executions follow the devices' reports, on the simulator's clock.
EMU_HUB="$TEST_TMP/fleet.db"
EMU_PORT=0
fleet_hub() { "$AIOT" --hub "local:$EMU_HUB" "$@" </dev/null; }
sim_epoch() { fleet_hub sim status -o json | python3 -c '
import json, sys, datetime
t = json.load(sys.stdin)["simTime"]
print(int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()))'; }
AIOT_NOW=2026-11-23T09:00:00Z fleet_hub -q sim fleet --devices 20 --seed 1 >/dev/null || { fail "sim fleet"; finish; }
start_aws_emulator
if command -v aws >/dev/null 2>&1; then
  AWS=(aws --endpoint-url "$EMU_URL" --region us-east-1)
  run "${AWS[@]}" iot create-thing-group --thing-group-name wave1
  expect_code 0
  group_arn=$(run_stdout | json_get "['thingGroupArn']")
  for i in $(seq -w 1 10); do
    run "${AWS[@]}" iot add-thing-to-thing-group --thing-group-name wave1 --thing-name "dev-000$i"
    expect_code 0
  done
  created_at=$(sim_epoch)
  document='{"operation":"aiot.install","aiot":{"model":{"name":"detector","version":"3.0","uri":"https://models.example/detector-3.0.onnx","sha256":"'"$(printf 'd%.0s' {1..64})"'"}}}'
  run "${AWS[@]}" iot create-job --job-id wave1-3-0 --targets "$group_arn" --document "$document" \
    --job-executions-rollout-config '{"maximumPerMinute":100}' --timeout-config inProgressTimeoutInMinutes=120
  expect_code 0
  run "${AWS[@]}" iot describe-job --job-id wave1-3-0
  expect_eq "the job's clock is the simulator's" "$created_at" "$(run_stdout | json_get "['job']['createdAt']" | cut -d. -f1)"
  expect_eq "every execution is rolled out at once" "10" "$(run_stdout | json_get "['job']['jobProcessDetails']['numberOfQueuedThings']")"
  run "$AIOT" --hub "local:$EMU_HUB" device list --where "properties.desired.aiot.model.version = '3.0'" -o json
  expect_eq "the rolled-out executions set the devices' desired model" "10" "$(run_stdout | json_len)"
  fleet_hub -q sim advance 1h >/dev/null
  run "$AIOT" --hub "local:$EMU_HUB" device list --where "properties.reported.aiot.ota.version = '3.0'" -o json
  expect_eq "the simulated devices installed the job's version" "10" "$(run_stdout | json_len)"
  run "$AIOT" --hub "local:$EMU_HUB" device list --where "properties.reported.aiot.model.version = '3.0'" -o json
  expect_eq "devices outside the group were left alone" "10" "$(run_stdout | json_len)"
  run "${AWS[@]}" iot describe-job --job-id wave1-3-0
  expect_eq "the job completes" "COMPLETED" "$(run_stdout | json_get "['job']['status']")"
  expect_eq "every execution succeeded" "10" "$(run_stdout | json_get "['job']['jobProcessDetails']['numberOfSucceededThings']")"
  run "${AWS[@]}" iot describe-job-execution --job-id wave1-3-0 --thing-name dev-00001
  expect_code 0
  expect_eq "the execution carries the device's report" "3.0" "$(run_stdout | json_get "['execution']['statusDetails']['detailsMap']['version']")"
  finished=$(run_stdout | json_get "['execution']['lastUpdatedAt']" | cut -d. -f1)
  check "the execution finished at the device's (simulated) time, within the hour" \
    test "$finished" -gt "$created_at" -a "$finished" -le "$((created_at + 3600))"

  # Fleet Indexing: the group's things with the aiot and aiot-health named shadows, in pages.
  run "${AWS[@]}" iot search-index --query-string "thingGroupNames:wave1" --output json
  expect_code 0
  expect_eq "search-index returns the group's things" "10" "$(run_stdout | json_get "['things'].__len__()")"
  expect_eq "each thing carries its aiot-health shadow" "10" "$(run_stdout | python3 -c '
import json, sys
things = json.load(sys.stdin)["things"]
print(sum(1 for t in things if "crashes_1h" in json.loads(t["shadow"])["name"]["aiot-health"]["reported"]))')"
  expect_eq "and its aiot shadow with the installed model" "3.0" "$(run_stdout | python3 -c '
import json, sys
t = json.load(sys.stdin)["things"][0]
print(json.loads(t["shadow"])["name"]["aiot"]["reported"]["aiot"]["model"]["version"])')"
  run "${AWS[@]}" iot search-index --query-string "thingGroupNames:wave1 AND shadow.name.aiot-health.reported.crashes_1h<1000" \
    --max-results 4 --no-paginate --output json
  expect_code 0
  expect_eq "a page holds maxResults things" "4" "$(run_stdout | json_get "['things'].__len__()")"
  expect_stdout_contains '"nextToken"'
  run "${AWS[@]}" iot search-index --query-string "thingGroupNames:(wave1" --output json
  expect_stderr_contains "InvalidQueryException"
  # GetBucketsAggregation: the group's things counted by a field's value, as the index holds it.
  run "${AWS[@]}" iot get-buckets-aggregation --query-string "thingGroupNames:wave1" \
    --aggregation-field shadow.name.aiot-health.reported.latency_p95_ms \
    --buckets-aggregation-type 'termsAggregation={maxBuckets=10000}' --output json
  expect_code 0
  expected_buckets=$(fleet_hub device list --where "properties.reported.aiot.model.version = '3.0'" -o json | python3 -c '
import collections, json, sys
c = collections.Counter(json.dumps(d["properties"]["reported"]["aiot"]["health"]["latency_p95_ms"]) for d in json.load(sys.stdin))
print(10, sorted(c.items()))')
  expect_eq "buckets count the group's devices by value" "$expected_buckets" "$(run_stdout | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["totalCount"], sorted((b["keyValue"], b["count"]) for b in r["buckets"]))')"
  run "${AWS[@]}" iot get-buckets-aggregation --query-string "thingGroupNames:wave1" \
    --aggregation-field shadow.name.aiot-health.reported.version --buckets-aggregation-type 'termsAggregation={maxBuckets=1}' --output json
  top_version=$(fleet_hub device list --where "properties.reported.aiot.model.version = '3.0'" -o json | python3 -c '
import collections, json, sys
c = collections.Counter(d["properties"]["reported"]["aiot"]["health"].get("version") for d in json.load(sys.stdin))
print(1, max(c.values()))')
  expect_eq "maxBuckets caps the most frequent values" "$top_version" "$(run_stdout | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(len(r["buckets"]), r["buckets"][0]["count"])')"
  binary_format=()
  [[ "$(aws --version 2>&1)" == aws-cli/2* ]] && binary_format=(--cli-binary-format raw-in-base64-out)
  run "${AWS[@]}" iot-data get-thing-shadow --thing-name dev-00003 --shadow-name aiot-health "$TEST_TMP/health.json"
  expect_code 0
  expect_eq "GetThingShadow aiot-health is the device's reported health" "$(fleet_hub device show dev-00003 -o json |
    json_get "['properties']['reported']['aiot']['health']['ts']")" "$(json_get "['state']['reported']['ts']" <"$TEST_TMP/health.json")"
  run "${AWS[@]}" iot-data update-thing-shadow --thing-name dev-00003 --shadow-name aiot-health "${binary_format[@]}" \
    --payload '{"state":{"reported":{"crashes_1h":42}}}' "$TEST_TMP/health.out"
  expect_code 0
  expect_eq "UpdateThingShadow aiot-health writes the device's reported health" "42" \
    "$(fleet_hub device show dev-00003 -o json | json_get "['properties']['reported']['aiot']['health']['crashes_1h']")"

  # Canceled before they started: queued devices get their previous model back, unreleased ones are never touched.
  run "${AWS[@]}" iot create-thing-group --thing-group-name wave2
  group2_arn=$(run_stdout | json_get "['thingGroupArn']")
  for i in $(seq 11 15); do
    run "${AWS[@]}" iot add-thing-to-thing-group --thing-group-name wave2 --thing-name "dev-000$i"
  done
  run "${AWS[@]}" iot create-job --job-id wave2-4-0 --targets "$group2_arn" --document "${document//3.0/4.0}" \
    --job-executions-rollout-config '{"maximumPerMinute":2}'
  expect_code 0
  run "$AIOT" --hub "local:$EMU_HUB" device list --where "properties.desired.aiot.model.version = '4.0'" -o json
  expect_eq "the rate hands 4.0 to 2 devices in the first minute" "2" "$(run_stdout | json_len)"
  run "${AWS[@]}" iot cancel-job --job-id wave2-4-0 --reason-code STOP
  expect_code 0
  run "$AIOT" --hub "local:$EMU_HUB" device list --where "properties.desired.aiot.model.version = '4.0'" -o json
  expect_eq "canceled queued executions take their model back" "0" "$(run_stdout | json_len)"
  run "$AIOT" --hub "local:$EMU_HUB" device show dev-00011 -o json
  expect_eq "the device's desired model is the one it had" "2.0" "$(run_stdout | json_get "['properties']['desired']['aiot']['model']['version']")"
else
  echo "note: no 'aws' on PATH: the simulated-fleet job and search-index checks were skipped" >&2
fi
stop_emulator

finish
