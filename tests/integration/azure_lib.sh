# Helpers for the Azure integration scripts: start `aiot hub serve --api azure` on a local hub file
# in the background and point `--hub azure` at it. Source after lib.sh.
#
#   start_azure_emulator [extra serve flags...]    (-v: a log line per request in $EMU_LOG) sets EMU_PID, EMU_PORT, IOTHUB_CONNECTION_STRING,
#                                                  AIOT_AZURE_ENDPOINT; the hub file is $EMU_HUB
#   stop_emulator / kill_emulator                  (lib.sh) SIGTERM / SIGKILL, waits
#   azure ARGS...                                  runs aiot with --hub azure (like `aiot`)
#   emu_count                                      devices in the emulator's store, read directly

EMU_HUB=${EMU_HUB:-$TEST_TMP/emulator.db}
EMU_LOG=$TEST_TMP/emulator.log
EMU_PID=""

start_azure_emulator() {
  rm -f "$TEST_TMP/emu.port" "$TEST_TMP/emu.creds"
  "$AIOT" -v hub serve --api azure --port 0 --port-file "$TEST_TMP/emu.port" --credentials-out "$TEST_TMP/emu.creds" \
    --hub "local:$EMU_HUB" "$@" </dev/null >>"$EMU_LOG" 2>&1 &
  EMU_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s "$TEST_TMP/emu.port" && -s "$TEST_TMP/emu.creds" ]] && break
    if ! kill -0 "$EMU_PID" 2>/dev/null; then
      echo "the emulator did not start:" >&2
      cat "$EMU_LOG" >&2
      return 1
    fi
    sleep 0.05
  done
  EMU_PORT=$(cat "$TEST_TMP/emu.port")
  export IOTHUB_CONNECTION_STRING
  IOTHUB_CONNECTION_STRING=$(cat "$TEST_TMP/emu.creds")
  export AIOT_AZURE_ENDPOINT="http://127.0.0.1:$EMU_PORT"
}

azure() {
  run "$AIOT" --hub azure "$@"
}

emu_count() {
  "$AIOT" --hub "local:$EMU_HUB" device list -o json </dev/null 2>/dev/null | json_len
}

# make_device_csv PREFIX COUNT FILE [EXTRA_TAG]: id,auth,tags.site[,tags.ring]
make_device_csv() {
  python3 -c '
import sys
prefix, n = sys.argv[1], int(sys.argv[2])
ring = sys.argv[3] if len(sys.argv) > 3 else ""
print("id,auth,tags.site" + (",tags.ring" if ring else ""))
for i in range(n):
    print(f"{prefix}-{i:05d},sas,site-{i % 7}" + (f",{ring}" if ring else ""))' "$1" "$2" ${4:+"$4"} >"$3"
}

# azure_raw METHOD PATH [BODY [If-Match]]: one signed request to the emulator, like an SDK would send
# it. Prints the status on the first line, the iothub-errorcode (or -) on the second, the body last.
azure_raw() {
  python3 - "$@" <<'PY'
import base64, hashlib, hmac, os, sys, time, urllib.parse, urllib.request
method, path = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 and sys.argv[3] else None
cs = dict(p.split("=", 1) for p in os.environ["IOTHUB_CONNECTION_STRING"].strip().split(";") if p)
sr = urllib.parse.quote(cs["HostName"], safe="")
se = str(int(time.time()) + 3600)
sig = base64.b64encode(hmac.new(base64.b64decode(cs["SharedAccessKey"]), f"{sr}\n{se}".encode(), hashlib.sha256).digest())
headers = {"Authorization": f"SharedAccessSignature sr={sr}&sig={urllib.parse.quote(sig, safe='')}&se={se}&skn=iothubowner",
           "Content-Type": "application/json; charset=utf-8"}
if len(sys.argv) > 4:
    headers["If-Match"] = sys.argv[4]
sep = "&" if "?" in path else "?"
req = urllib.request.Request(f"{os.environ['AIOT_AZURE_ENDPOINT']}{path}{sep}api-version=2021-04-12",
                             data=body, method=method, headers=headers)
try:
    r = urllib.request.urlopen(req)
    status, code, text = r.status, r.headers.get("iothub-errorcode", "-"), r.read().decode()
except urllib.error.HTTPError as e:
    status, code, text = e.code, e.headers.get("iothub-errorcode", "-"), e.read().decode()
print(status)
print(code)
print(text)
PY
}
