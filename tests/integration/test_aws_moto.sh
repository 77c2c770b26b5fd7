#!/usr/bin/env bash
# The AWS IoT Core provider against moto (an independent AWS emulator, `moto_server`) over real HTTP:
# things, attributes, the aiot named shadow (iot-data on the same port), paging, import, delete.
# moto checks no signatures and runs no jobs; it is here to keep aiot's wire honest with a second peer.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v moto_server >/dev/null 2>&1 || skip "moto_server is not installed (pip install 'moto[server]')"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
moto_server -H 127.0.0.1 -p "$port" >"$TEST_TMP/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 100); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
if ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
  cat "$TEST_TMP/moto.log" >&2
  kill "$MOTO_PID" 2>/dev/null
  skip "moto_server did not start"
fi

unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
moto_aiot() { run env AIOT_HUB=aws AIOT_AWS_ENDPOINT="http://127.0.0.1:$port" "$AIOT" "$@"; }
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d' + sys.argv[1]))" "$1"; }

moto_aiot device register cam-1 --tag site=berlin --tag ring=2
expect_code 0
moto_aiot device register cam-1
expect_code 1
expect_stderr_contains "already exists"
moto_aiot device show cam-1 -o json
expect_code 0
expect_eq "attributes come back as tags" "berlin" "$(run_stdout | json_get "['tags']['site']")"

moto_aiot device update cam-1 --tag owner=ops --untag ring --desired 'fw="1.5"'
expect_code 0
moto_aiot device show cam-1 -o json
expect_eq "desired lives in moto's named shadow" "1.5" "$(run_stdout | json_get "['properties']['desired']['fw']")"
expect_eq "a tag was added" "ops" "$(run_stdout | json_get "['tags']['owner']")"
expect_eq "a tag was removed" "False" "$(run_stdout | json_get "['tags'].__contains__('ring')")"

moto_aiot device update cam-1 --disable
expect_code 0
moto_aiot device show cam-1 -o json
expect_eq "disabled is the reserved attribute" "disabled" "$(run_stdout | json_get "['status']")"

{
  echo "id,tags.site"
  for i in $(seq -w 1 260); do echo "m-$i,plant-$((10#$i % 4))"; done
} >"$TEST_TMP/devices.csv"
moto_aiot device import -f "$TEST_TMP/devices.csv"
expect_code 0
expect_stderr_contains "260 created"
moto_aiot device list -o json
expect_code 0
expect_eq "ListThings paging (250 a page) returns every thing" "261" "$(run_stdout | json_len)"
moto_aiot device list --where "tags.site = 'plant-1'" -o json
expect_eq "--where filters client-side" "65" "$(run_stdout | json_len)"
moto_aiot device import -f "$TEST_TMP/devices.csv"
expect_code 0
moto_aiot device list -o json
expect_eq "an import re-run doubles nothing" "261" "$(run_stdout | json_len)"

moto_aiot device delete cam-1 m-001 --yes
expect_code 0
moto_aiot device show cam-1
expect_code 1
expect_stderr_contains "not found"
moto_aiot device list -o json
expect_eq "two deleted" "259" "$(run_stdout | json_len)"

# X.509 with an independent peer: the fleet CA's certificate is registered, attached to the thing
# and given the device policy; aws-generated keys come from CreateKeysAndCertificate.
run "$AIOT" ca create --name "aiot moto fleet" --out "$TEST_TMP/ca"
expect_code 0
moto_aiot device register cert-1 --auth x509-ca --ca "$TEST_TMP/ca" --out-dir "$TEST_TMP/keys"
expect_code 0
expect_stderr_contains "attached certificate arn:aws:iot:"
moto_aiot device register gen-1 --auth aws-generated --out-dir "$TEST_TMP/keys"
expect_code 0
check "the aws-generated key is 0600" test "$(stat -c %a "$TEST_TMP/keys/gen-1.key.pem")" = "600"
expect_stdout_not_contains "PRIVATE KEY"
if command -v aws >/dev/null 2>&1; then
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
  run aws --endpoint-url "http://127.0.0.1:$port" --region us-east-1 iot list-thing-principals --thing-name cert-1 --output json
  expect_stdout_contains "arn:aws:iot:"
  principal=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["principals"][0])' "$RUN_OUT" 2>/dev/null || true)
  run aws --endpoint-url "http://127.0.0.1:$port" --region us-east-1 iot list-attached-policies --target "$principal" --output json
  expect_stdout_contains '"policyName": "aiot-device"'
  run aws --endpoint-url "http://127.0.0.1:$port" --region us-east-1 iot get-policy --policy-name aiot-device --output json
  expect_stdout_contains 'iot:Connection.Thing.ThingName'
fi

kill "$MOTO_PID" 2>/dev/null
wait "$MOTO_PID" 2>/dev/null
finish
