#!/usr/bin/env bash
# Reliability of `device import` through the Azure provider: injected 429/503/resets, and an
# emulator killed with SIGKILL in the middle of an import and restarted on the same store. Every
# device must end up in the store exactly once and the (re-)run must exit 0.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$AIOT_SOURCE_DIR/tests/integration/azure_lib.sh"

command -v python3 >/dev/null || skip "python3 is needed"

N=2000
make_device_csv rel $N devices.csv

# exactly_once HUB_FILE: every id of devices.csv is in the store, and nothing else.
exactly_once() {
  "$AIOT" --hub "local:$1" device list -o json </dev/null 2>/dev/null | python3 -c '
import json, sys
have = [d["deviceId"] for d in json.load(sys.stdin)]
want = [l.split(",")[0] for l in open("devices.csv").read().splitlines()[1:]]
sys.exit(0 if sorted(have) == sorted(want) else 1)'
}

# --- 1. faults: 20% 429, 5% 503, 2% connection resets ---------------------------------------
EMU_HUB=$TEST_TMP/faults.db
start_azure_emulator --faults 429=0.2,503=0.05,reset=0.02 --seed 7 || { fail "emulator start"; finish; }
azure device import -f devices.csv -o json
expect_code 0
expect_stdout_contains "\"created\":$N"
expect_stdout_contains '"failed":0'
check "every device exists exactly once (faults)" exactly_once "$EMU_HUB"
check "faults were injected" grep -q "(fault: throttle)" "$EMU_LOG"
check "resets were injected" grep -q "reset (fault)" "$EMU_LOG"
# A re-run under the same faults changes nothing.
azure device import -f devices.csv -o json
expect_code 0
expect_stdout_contains "\"unchanged\":$N"
check "still exactly once after a re-run" exactly_once "$EMU_HUB"
stop_emulator

# --- 2. the emulator is killed mid-import, restarted on the same store, the import re-run -------
EMU_HUB=$TEST_TMP/crash.db
start_azure_emulator || { fail "emulator start"; finish; }
# Paced at ~485 devices/s (S3 x 6) so the kill lands in the middle; few attempts so it gives up fast.
(AIOT_AZURE_TIER=S3 AIOT_AZURE_UNITS=6 AIOT_HTTP_MAX_ATTEMPTS=3 exec "$AIOT" --hub azure device import -f devices.csv -o json \
  </dev/null >crash-run.json 2>crash-run.err) &
importer=$!
for ((i = 0; i < 400; i++)); do
  count=$(emu_count)
  ((count >= 300)) && break
  sleep 0.02
done
kill_emulator
wait $importer
code=$?
before=$(emu_count)
expect_eq "the interrupted import exits 5 (hub unreachable)" 5 "$code"
check "the kill landed mid-import ($before of $N stored)" test "$before" -gt 0 -a "$before" -lt $N
check "the interrupted import says why" grep -q "after 3 attempts" crash-run.err

start_azure_emulator || { fail "emulator restart"; finish; }
azure device import -f devices.csv -o json
expect_code 0
expect_stdout_contains '"failed":0'
total=$(run_stdout | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["created"]+d["unchanged"])')
expect_eq "created + unchanged covers every row" $N "$total"
check "every device exists exactly once (crash)" exactly_once "$EMU_HUB"
stop_emulator

finish
