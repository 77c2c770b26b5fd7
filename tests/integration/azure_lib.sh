# Helpers for the Azure integration scripts: start `aiot hub serve --api azure` on a local hub file
# in the background and point `--hub azure` at it. Source after lib.sh.
#
#   start_azure_emulator [extra serve flags...]    (-v: a log line per request in $EMU_LOG) sets EMU_PID, EMU_PORT, IOTHUB_CONNECTION_STRING,
#                                                  AIOT_AZURE_ENDPOINT; the hub file is $EMU_HUB
#   stop_azure_emulator                            SIGTERM, waits
#   kill_azure_emulator                            SIGKILL (a crash), waits
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

stop_azure_emulator() {
  [[ -n "$EMU_PID" ]] || return 0
  kill "$EMU_PID" 2>/dev/null
  wait "$EMU_PID" 2>/dev/null
  EMU_PID=""
}

kill_azure_emulator() {
  [[ -n "$EMU_PID" ]] || return 0
  kill -9 "$EMU_PID" 2>/dev/null
  wait "$EMU_PID" 2>/dev/null
  EMU_PID=""
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
