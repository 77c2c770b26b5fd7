# Helpers for the AWS integration scripts: start `aiot hub serve --api aws` on a local hub file in
# the background and point the AWS provider at it. Source after lib.sh.
#
#   start_aws_emulator [extra serve flags...]   serves $EMU_HUB on $EMU_PORT (0 = any; afterwards the
#                                               port it got, so a restart reuses it), -v: a log line
#                                               per request in $EMU_LOG; sets EMU_PID, EMU_PORT,
#                                               EMU_URL and exports AIOT_AWS_ENDPOINT
#   stop_emulator / kill_emulator               (lib.sh) SIGTERM / SIGKILL, waits
#   aws_aiot ARGS...                            runs aiot with the AWS provider (like `aiot`)
#
# Credentials: the emulator writes its key pair as profile aiot-emulator of $TEST_TMP/aws.credentials,
# and the AWS credential chain is pointed there (nothing from the caller's environment leaks in).

EMU_HUB=${EMU_HUB:-$TEST_TMP/emulator.db}
EMU_LOG=$TEST_TMP/serve.log
EMU_PID=""
EMU_PORT=0
EMU_URL=""

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_PROFILE
export AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/aws.credentials" AWS_PROFILE=aiot-emulator AWS_CONFIG_FILE=/dev/null

start_aws_emulator() {
  rm -f "$TEST_TMP/port"
  "$AIOT" -v --hub "local:$EMU_HUB" hub serve --api aws --port "$EMU_PORT" --port-file "$TEST_TMP/port" \
    --credentials-out "$TEST_TMP/aws.credentials" "$@" </dev/null >>"$EMU_LOG" 2>&1 &
  EMU_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s "$TEST_TMP/port" && -s "$TEST_TMP/aws.credentials" ]] && break
    kill -0 "$EMU_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ ! -s "$TEST_TMP/port" ]]; then
    cat "$EMU_LOG" >&2
    fail "the AWS emulator did not start"
    finish
  fi
  EMU_PORT=$(cat "$TEST_TMP/port")
  EMU_URL="http://127.0.0.1:$EMU_PORT"
  export AIOT_AWS_ENDPOINT="$EMU_URL"
}

aws_aiot() { run env AIOT_HUB=aws AIOT_AWS_ENDPOINT="$EMU_URL" "$AIOT" "$@"; }
