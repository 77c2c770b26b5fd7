#!/usr/bin/env bash
# Every device verb through the Azure provider (`--hub azure`) against `aiot hub serve --api azure`
# over real HTTP on loopback; the emulator's store is read directly to see what really landed.
# Also: api-version and SAS checks, 401 -> exit 4, emulator down -> exit 5, no secret in --debug,
# concurrent bulk imports of one file.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$AIOT_SOURCE_DIR/tests/integration/azure_lib.sh"

command -v python3 >/dev/null || skip "python3 is needed"

start_azure_emulator || { fail "emulator start"; finish; }
check "the connection string file is 0600" test "$(stat -c %a "$TEST_TMP/emu.creds")" = 600
check "the emulator key file is 0600" test "$(stat -c %a "$EMU_HUB.azure-key")" = 600
expect_eq "the connection string names the emulator" "HostName=127.0.0.1:$EMU_PORT;SharedAccessKeyName=iothubowner;" \
  "$(cut -d';' -f1-2 "$TEST_TMP/emu.creds");"

# --- register: sas, x509 self-signed, x509 CA ------------------------------------------------------
azure device register cam-1 --tag site=berlin --out-dir keys -o json
expect_code 0
expect_json_stdout
expect_stdout_contains '"site":"berlin"'
check "SAS keys written 0600" test "$(stat -c %a keys/cam-1.keys.json)" = 600
key=$(python3 -c 'import json;print(json.load(open("keys/cam-1.keys.json"))["primaryKey"])')
run "$AIOT" --hub "local:$EMU_HUB" device show cam-1 --show-secrets -o json
expect_code 0
expect_stdout_contains "$key"   # the keys the hub made are the ones written

azure device register cam-2 --auth x509-self-signed --out-dir keys -o json
expect_code 0
expect_stdout_contains '"authenticationType":"selfSigned"'
check "self-signed key written" test -s keys/cam-2.key.pem

aiot ca create --name fleet --out ca
expect_code 0
azure device register cam-3 --auth x509-ca --ca ca --out-dir keys --disabled -o json
expect_code 0
expect_stdout_contains '"authenticationType":"certificateAuthority"'
expect_stdout_contains '"status":"disabled"'

azure device register cam-1
expect_code 1
expect_stderr_contains "409001 DeviceAlreadyExists"

azure device register "bad/id"
expect_code 2

# --- show / list / where / limit --------------------------------------------------------------
azure device show cam-1 -o json
expect_code 0
expect_stdout_contains '"deviceId":"cam-1"'
expect_stdout_not_contains "$key"
azure device show nope
expect_code 1
expect_stderr_contains "404001 DeviceNotFound"

azure device list -o json
expect_code 0
expect_eq "list sees the three devices" 3 "$(run_stdout | json_len)"
azure device list --where "tags.site = 'berlin'" -o json
expect_eq "--where filters on the hub" 1 "$(run_stdout | json_len)"
azure device list --where "authenticationType = 'selfSigned' OR status = 'disabled'" -o json
expect_eq "--where with OR" 2 "$(run_stdout | json_len)"
azure device list --limit 2 -o json
expect_eq "--limit" 2 "$(run_stdout | json_len)"
azure device list --where "tags.site = "
expect_code 2

# --- update: tags, desired, status, etags ---------------------------------------------------------
azure device update cam-1 --tag ring=canary --desired 'aiot.model.version="2.0"' -o json
expect_code 0
expect_stdout_contains '"ring":"canary"'
etag=$(run_stdout | python3 -c 'import json,sys;print(json.load(sys.stdin)["etag"])')
azure device update cam-1 --untag ring --if-match "$etag" -o json
expect_code 0
expect_stdout_not_contains '"ring"'
azure device update cam-1 --tag ring=late --if-match "$etag"
expect_code 1
expect_stderr_contains "412001"
azure device update cam-1 --disable -o json
expect_code 0
run "$AIOT" --hub "local:$EMU_HUB" device show cam-1 -o json
expect_stdout_contains '"status":"disabled"'
expect_stdout_contains '"version":"2.0"'
azure device update cam-1 --enable
expect_code 0
azure device update nope --tag a=b
expect_code 1
expect_stderr_contains "404001"

# --- export -------------------------------------------------------------------------------------
azure device export --format jsonl --out export.jsonl
expect_code 0
expect_eq "export has every device" 3 "$(wc -l <export.jsonl | tr -d ' ')"
check "export holds no key" bash -c "! grep -q '$key' export.jsonl"

# --- import: bulk create, idempotent re-run, conflicts, --update, paging --------------------------
make_device_csv bulk 250 bulk.csv
azure device import -f bulk.csv -o json
expect_code 0
expect_stdout_contains '"created":250'
expect_eq "the store has them" 253 "$(emu_count)"
expect_eq "bulk calls of <=100 (3 for 250)" 3 "$(grep -c 'POST /devices?' "$EMU_LOG" || true)"
azure device import -f bulk.csv -o json
expect_code 0
expect_stdout_contains '"unchanged":250'
make_device_csv bulk 250 bulk2.csv canary
azure device import -f bulk2.csv -o json
expect_code 2
expect_stdout_contains '"failed":250'
expect_stderr_contains "already exists with other content"
azure device import -f bulk2.csv --update -o json
expect_code 0
expect_stdout_contains '"updated":250'
azure device list --where "tags.ring = 'canary'" -o json
expect_eq "updated tags are queryable" 250 "$(run_stdout | json_len)"
azure device list -o json
expect_eq "list pages through x-ms-continuation" 253 "$(run_stdout | json_len)"

# --- grouped counts: one aggregation query, the same groups as the hub's own store ----------------
azure device count --by tags.site --by tags.ring -o json
expect_code 0
expect_eq "device count through IoT Hub's GROUP BY is the store's count" \
  "$("$AIOT" --hub "local:$EMU_HUB" device count --by tags.site --by tags.ring -o json </dev/null 2>/dev/null)" "$(run_stdout)"
azure device count --where "tags.ring = 'canary'" -o json
expect_eq "device count --where" '[{"count":250}]' "$(run_stdout)"
# The wire: rows named by the aliases, an undefined value left out, pages of groups followed by token.
aggregation_pages() { # PAGE_SIZE -> "pages groups devices first_row"
  python3 - "$1" <<'PY'
import base64, hashlib, hmac, json, os, sys, time, urllib.parse, urllib.request
cs = dict(p.split("=", 1) for p in os.environ["IOTHUB_CONNECTION_STRING"].strip().split(";") if p)
sr = urllib.parse.quote(cs["HostName"], safe="")
se = str(int(time.time()) + 3600)
sig = base64.b64encode(hmac.new(base64.b64decode(cs["SharedAccessKey"]), f"{sr}\n{se}".encode(), hashlib.sha256).digest())
auth = f"SharedAccessSignature sr={sr}&sig={urllib.parse.quote(sig, safe='')}&se={se}&skn=iothubowner"
body = json.dumps({"query": "SELECT deviceId AS id, tags.ring AS ring, COUNT() AS n FROM devices GROUP BY deviceId, tags.ring"}).encode()
token, pages, rows = "", 0, []
while True:
    headers = {"Authorization": auth, "Content-Type": "application/json", "x-ms-max-item-count": sys.argv[1]}
    if token:
        headers["x-ms-continuation"] = token
    r = urllib.request.urlopen(urllib.request.Request(
        f"{os.environ['AIOT_AZURE_ENDPOINT']}/devices/query?api-version=2021-04-12", data=body, method="POST", headers=headers))
    pages += 1
    rows += json.loads(r.read())
    token = r.headers.get("x-ms-continuation") or ""
    if not token:
        break
cam2 = [x for x in rows if x.get("id") == "cam-2"]
print(pages, len(rows), sum(x["n"] for x in rows), json.dumps(cam2, separators=(",", ":"), sort_keys=True))
PY
}
read -r pages groups devices first < <(aggregation_pages 100)
expect_eq "aggregation rows page by x-ms-continuation" "3 253 253" "$pages $groups $devices"
expect_eq "an undefined grouped value is left out of its row" '[{"id":"cam-2","n":1}]' "$first"

# Two imports of one file at once: every device exactly once, neither fails.
make_device_csv race 400 race.csv
(exec "$AIOT" --hub azure device import -f race.csv -o json >race1.json 2>race1.err) &
p1=$!
(exec "$AIOT" --hub azure device import -f race.csv -o json >race2.json 2>race2.err) &
p2=$!
wait $p1
c1=$?
wait $p2
c2=$?
expect_eq "racing imports both succeed" "0 0" "$c1 $c2"
created=$(python3 -c 'import json;print(sum(json.load(open(f))["created"] for f in ["race1.json","race2.json"]))')
expect_eq "each device created once across both" 400 "$created"
expect_eq "the store has 653 devices" 653 "$(emu_count)"

# --- delete ------------------------------------------------------------------------------------
azure device show cam-2 -o json
etag2=$(run_stdout | python3 -c 'import json,sys;print(json.load(sys.stdin)["etag"])')
azure device delete cam-2 --yes
expect_code 0
azure device show cam-2
expect_code 1
azure device delete cam-2 --yes
expect_code 1
azure device delete cam-2 --yes --missing-ok
expect_code 0

# --- wire checks with a raw client -----------------------------------------------------------
raw() { # METHOD PATH AUTH -> prints "status iothub-errorcode"
  python3 - "$@" <<'PY'
import base64, hashlib, hmac, os, sys, time, urllib.parse, urllib.request
method, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
cs = dict(p.split("=", 1) for p in os.environ["IOTHUB_CONNECTION_STRING"].strip().split(";") if p)
sr = urllib.parse.quote(cs["HostName"], safe="")
se = str(int(time.time()) + (-10 if mode == "expired" else 3600))
key = base64.b64decode(cs["SharedAccessKey"]) if mode != "wrongkey" else b"not the key"
sig = urllib.parse.quote(base64.b64encode(hmac.new(key, f"{sr}\n{se}".encode(), hashlib.sha256).digest()), safe="")
headers = {"Authorization": f"SharedAccessSignature sr={sr}&sig={sig}&se={se}&skn=iothubowner"}
req = urllib.request.Request(os.environ["AIOT_AZURE_ENDPOINT"] + path, method=method, headers=headers)
try:
    r = urllib.request.urlopen(req)
    print(r.status, r.headers.get("iothub-errorcode", "-"))
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("iothub-errorcode", "-"), e.read().decode())
PY
}
run raw GET "/devices/cam-1?api-version=2021-04-12" ok
expect_stdout_contains "200 -"
run raw GET "/devices/cam-1" ok
expect_stdout_contains "400 ArgumentInvalid"
run raw GET "/devices/cam-1?api-version=1999-01-01" ok
expect_stdout_contains "400 InvalidProtocolVersion"
run raw GET "/devices/cam-1?api-version=2021-04-12" wrongkey
expect_stdout_contains "401 IotHubUnauthorized"
expect_stdout_contains '401003'
run raw GET "/devices/cam-1?api-version=2021-04-12" expired
expect_stdout_contains "401 IotHubUnauthorized"
expect_stdout_contains "expired"

# --- a wrong key through aiot: exit 4 --------------------------------------------------------
good=$IOTHUB_CONNECTION_STRING
export IOTHUB_CONNECTION_STRING="${good%%SharedAccessKey=*}SharedAccessKey=$(head -c 32 /dev/urandom | base64)"
azure device list
expect_code 4
expect_stderr_contains "401003 IotHubUnauthorized"
export IOTHUB_CONNECTION_STRING=$good

# --- --debug never shows the key or a signature ------------------------------------------------
policy_key=${good##*SharedAccessKey=}
azure --debug device register dbg-1 --show-secrets -o json
expect_code 0
expect_stderr_contains "> PUT http://127.0.0.1:$EMU_PORT/devices/dbg-1"
expect_stderr_contains "Authorization: ***"
expect_stderr_not_contains "$policy_key"
check "no signature in the trace" bash -c "! grep -Eq 'sig=[^*&]' '$RUN_ERR'"
dbg_key=$(run_stdout | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["symmetricKey"]["primaryKey"])')
expect_stderr_not_contains "$dbg_key"

# --- the emulator restarts on its store with the same key; then goes away: exit 5 ------------------
stop_emulator
start_azure_emulator || fail "emulator restart"
expect_eq "the restart keeps the policy key" "$policy_key" "${IOTHUB_CONNECTION_STRING##*SharedAccessKey=}"
azure device show cam-1 -o json
expect_code 0
stop_emulator
run env AIOT_HTTP_MAX_ATTEMPTS=2 "$AIOT" --hub azure device list
expect_code 5
expect_stderr_contains "query devices"
expect_stderr_contains "after 2 attempts"

finish
