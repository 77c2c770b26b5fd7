# Shared helpers for the integration scripts: source it, call `run` and the `expect_*` checks, end with `finish`.
#
#   AIOT=build/cmd/aiot AIOT_SOURCE_DIR=. bash tests/integration/test_x.sh
#
# Every script gets its own temp dir (TEST_TMP, removed on exit) holding HOME, the XDG dirs and the local hub,
# so a run never reads or writes the user's real config or hub. Exit status: 0 all passed, 1 a check failed,
# 125 skipped (ctest's SKIP_RETURN_CODE).

set -u

if [[ -z "${AIOT:-}" ]]; then
  echo "skip: set AIOT to the aiot binary" >&2
  exit 125
fi
if [[ ! -x "$AIOT" ]]; then
  echo "skip: AIOT=$AIOT is not an executable" >&2
  exit 125
fi
AIOT=$(cd "$(dirname "$AIOT")" && pwd)/$(basename "$AIOT")
AIOT_SOURCE_DIR=${AIOT_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aiot-${TEST_NAME}.XXXXXX")
TESTS_PASSED=0
TESTS_FAILED=0
TEST_FINISHED=0

on_exit() {
  local status=$?
  # Background jobs a script forgot would keep the temp dir busy.
  local pids
  pids=$(jobs -p)
  if [[ -n "$pids" ]]; then
    kill $pids 2>/dev/null
    wait 2>/dev/null
  fi
  if [[ "${KEEP_TEST_TMP:-}" == 1 ]]; then
    echo "kept $TEST_TMP" >&2
  else
    rm -rf "$TEST_TMP"
  fi
  if [[ "$TEST_FINISHED" != 1 && "$status" != 125 ]]; then
    echo "FAIL: $TEST_NAME ended before 'finish' (exit $status)" >&2
    exit 1
  fi
}
trap on_exit EXIT

# A clean environment: nothing from the caller's aiot settings or terminal leaks into the results.
while read -r name; do
  case "$name" in
    AIOT | AIOT_SOURCE_DIR | AIOT_BUILD_DIR) ;;
    AIOT_*) unset "$name" ;;
  esac
done < <(compgen -e)
unset NO_COLOR CLICOLOR_FORCE COLUMNS
export HOME="$TEST_TMP/home"
export XDG_CONFIG_HOME="$TEST_TMP/config"
export XDG_DATA_HOME="$TEST_TMP/data"
export AIOT_HUB="local:$TEST_TMP/hub.db"
export LC_ALL=C.UTF-8
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
cd "$TEST_TMP" || exit 1

RUN_OUT="$TEST_TMP/.run.stdout"
RUN_ERR="$TEST_TMP/.run.stderr"
RUN_CODE=0
RUN_CMD=""

# run CMD [ARGS...]: runs the command with stdin from /dev/null (or from RUN_STDIN when set), keeping stdout,
# stderr and the exit code for the checks that follow. Prefix `env X=Y` to set variables for one run.
run() {
  RUN_CMD=$(printf '%q ' "$@")
  RUN_CMD=${RUN_CMD% }
  RUN_CMD=${RUN_CMD/#"$(printf '%q' "$AIOT")"/aiot}
  "$@" <"${RUN_STDIN:-/dev/null}" >"$RUN_OUT" 2>"$RUN_ERR"
  RUN_CODE=$?
}

# aiot ARGS...: shorthand for `run "$AIOT" ARGS...`.
aiot() {
  run "$AIOT" "$@"
}

run_stdout() { cat "$RUN_OUT"; }
run_stderr() { cat "$RUN_ERR"; }

pass() {
  TESTS_PASSED=$((TESTS_PASSED + 1))
  [[ -n "${VERBOSE:-}" ]] && echo "ok: $1"
  return 0
}

# fail MESSAGE: records a failed check and shows the last command with what it printed.
fail() {
  TESTS_FAILED=$((TESTS_FAILED + 1))
  {
    echo "FAIL: $1"
    echo "  command:   $RUN_CMD"
    echo "  exit code: $RUN_CODE"
    echo "  stdout (first 15 lines, 300 columns):"
    head -n 15 "$RUN_OUT" 2>/dev/null | cut -c1-300 | sed 's/^/    | /'
    echo "  stderr (first 15 lines, 300 columns):"
    head -n 15 "$RUN_ERR" 2>/dev/null | cut -c1-300 | sed 's/^/    | /'
  } >&2
  return 1
}

expect_code() {
  local want=$1
  if [[ "$RUN_CODE" == "$want" ]]; then
    pass "exit code $want: $RUN_CMD"
  else
    fail "expected exit code $want, got $RUN_CODE"
  fi
}

_file_contains() { # FILE NEEDLE: fixed-string search, needle may hold tabs or newlines
  local text
  text=$(cat "$1")
  [[ "$text" == *"$2"* ]]
}

expect_stdout_contains() {
  if _file_contains "$RUN_OUT" "$1"; then pass "stdout has '$1'"; else fail "stdout should contain '$1'"; fi
}
expect_stdout_not_contains() {
  if ! _file_contains "$RUN_OUT" "$1"; then pass "stdout lacks '$1'"; else fail "stdout should NOT contain '$1'"; fi
}
expect_stderr_contains() {
  if _file_contains "$RUN_ERR" "$1"; then pass "stderr has '$1'"; else fail "stderr should contain '$1'"; fi
}
expect_stderr_not_contains() {
  if ! _file_contains "$RUN_ERR" "$1"; then pass "stderr lacks '$1'"; else fail "stderr should NOT contain '$1'"; fi
}
# expect_stdout_matches ERE / expect_stderr_matches ERE: grep -E on the captured stream.
expect_stdout_matches() {
  if grep -Eq -- "$1" "$RUN_OUT"; then pass "stdout matches /$1/"; else fail "stdout should match /$1/"; fi
}
expect_stderr_matches() {
  if grep -Eq -- "$1" "$RUN_ERR"; then pass "stderr matches /$1/"; else fail "stderr should match /$1/"; fi
}
expect_empty_stdout() {
  if [[ ! -s "$RUN_OUT" ]]; then pass "empty stdout"; else fail "stdout should be empty"; fi
}
expect_empty_stderr() {
  if [[ ! -s "$RUN_ERR" ]]; then pass "empty stderr"; else fail "stderr should be empty"; fi
}
expect_nonempty_stdout() {
  if [[ -s "$RUN_OUT" ]]; then pass "stdout not empty"; else fail "stdout should not be empty"; fi
}

# expect_json_stdout: stdout is one JSON document.
expect_json_stdout() {
  if python3 -c 'import json,sys; json.load(sys.stdin)' <"$RUN_OUT" 2>/dev/null; then
    pass "stdout is JSON"
  else
    fail "stdout should parse as JSON"
  fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" == "$3" ]]; then
    pass "$1"
  else
    fail "$1: expected '$2', got '$3'"
  fi
}

# check DESCRIPTION CMD [ARGS...]: passes when the command succeeds (for predicates the expect_* do not cover).
check() {
  local description=$1
  shift
  if "$@"; then
    pass "$description"
  else
    fail "$description (check failed: $(printf '%q ' "$@"))"
  fi
}

# json_len: number of elements of the JSON array on stdin.
json_len() {
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# device_count: how many devices the test hub holds now.
device_count() {
  "$AIOT" device list -o json </dev/null 2>/dev/null | json_len
}

# stop_emulator / kill_emulator: end the emulator azure_lib.sh or aws_lib.sh started ($EMU_PID) with
# SIGTERM / SIGKILL (a crash), and wait for it.
stop_emulator() { _end_emulator TERM; }
kill_emulator() { _end_emulator KILL; }
_end_emulator() {
  [[ -n "${EMU_PID:-}" ]] || return 0
  kill -s "$1" "$EMU_PID" 2>/dev/null
  wait "$EMU_PID" 2>/dev/null
  EMU_PID=""
}

skip() {
  echo "skip: $TEST_NAME: $1" >&2
  TEST_FINISHED=1
  exit 125
}

finish() {
  TEST_FINISHED=1
  echo "$TEST_NAME: $TESTS_PASSED passed, $TESTS_FAILED failed"
  if ((TESTS_FAILED > 0)); then
    exit 1
  fi
  exit 0
}
