#!/usr/bin/env bash
# Reliability of the AWS provider against `aiot hub serve --api aws`:
#  1. import 2,000 devices while the emulator injects 429 (AWS: 400 ThrottlingException), 503 and
#     dropped connections: exit 0 and every device exactly once;
#  2. kill -9 the emulator in the middle of an import, start it again on the same store, re-run the
#     import: every device present once, none lost, none doubled.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

source "$(dirname "${BASH_SOURCE[0]}")/aws_lib.sh"

# ids_in HUB: "COUNT UNIQUE" of the devices in a local store, read directly (no HTTP).
ids_in() {
  "$AIOT" --hub "local:$1" device list -o json </dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), len({x["deviceId"] for x in d}))'
}

{
  echo "id,tags.site,tags.ring"
  for i in $(seq -w 0 1999); do echo "dev-$i,plant-$((10#$i % 7)),$((10#$i % 3))"; done
} >"$TEST_TMP/devices.csv"

# 1. Faults: each request independently gets a throttling answer (20 %), a 503 (5 %) or a reset (2 %).
EMU_HUB="$TEST_TMP/faults.db" start_aws_emulator --faults 429=0.2,503=0.05,reset=0.02 --seed 7
aws_aiot device import -f "$TEST_TMP/devices.csv"
expect_code 0
expect_stderr_contains "2000 created, 0 updated, 0 unchanged, 0 failed"
check "the emulator answered 400 ThrottlingException" grep -q " 400 .*(fault: throttle)" "$EMU_LOG"
check "the emulator answered 503" grep -q "(fault: 503)" "$EMU_LOG"
check "the emulator dropped connections" grep -q "reset (fault)" "$EMU_LOG"
stop_emulator
expect_eq "every device exactly once after the faulty import" "2000 2000" "$(ids_in "$TEST_TMP/faults.db")"

# 2. kill -9 in the middle of an import, restart on the same store, re-run.
: >"$EMU_LOG"
EMU_PORT=0 EMU_HUB="$TEST_TMP/crash.db" start_aws_emulator
env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$EMU_URL" AIOT_HTTP_MAX_ATTEMPTS=2 "$AIOT" device import -f "$TEST_TMP/devices.csv" \
  </dev/null >"$TEST_TMP/import1.out" 2>"$TEST_TMP/import1.err" &
IMPORT_PID=$!
for _ in $(seq 1 200); do
  n=$("$AIOT" --hub "local:$TEST_TMP/crash.db" device list -o json </dev/null 2>/dev/null | json_len)
  ((n >= 300)) && break
  sleep 0.1
done
kill_emulator
wait "$IMPORT_PID"
first=$?
check "the interrupted import did not report success" test "$first" -ne 0
before=$(ids_in "$TEST_TMP/crash.db")
check "the crash left a partial import ($before)" test "${before% *}" -lt 2000

EMU_PORT=0 EMU_HUB="$TEST_TMP/crash.db" start_aws_emulator
aws_aiot device import -f "$TEST_TMP/devices.csv"
expect_code 0
expect_stderr_contains "0 failed"
aws_aiot device list -o json
expect_eq "the re-run sees 2,000 devices through the provider" "2000" "$(run_stdout | json_len)"
stop_emulator
expect_eq "every device exactly once after crash and re-run" "2000 2000" "$(ids_in "$TEST_TMP/crash.db")"

finish
