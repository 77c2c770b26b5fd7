#!/usr/bin/env bash
# Git-style plugins: `aiot NAME` runs aiot-NAME from PATH with the arguments and AIOT_PROFILE,
# AIOT_HUB and AIOT_OUTPUT set; its exit code is aiot's; built-ins always win; `aiot help` lists plugins.
source "$(dirname "$0")/lib.sh"

mkdir -p "$TEST_TMP/bin"
cat > "$TEST_TMP/bin/aiot-hello" <<'SH'
#!/bin/sh
echo "args:$*"
echo "profile:$AIOT_PROFILE hub:$AIOT_HUB output:$AIOT_OUTPUT"
echo "to stderr" >&2
exit "${HELLO_EXIT:-0}"
SH
chmod +x "$TEST_TMP/bin/aiot-hello"
# A plugin that shadows a built-in must never run.
cat > "$TEST_TMP/bin/aiot-device" <<'SH'
#!/bin/sh
echo "shadowed"
SH
chmod +x "$TEST_TMP/bin/aiot-device"
export PATH="$TEST_TMP/bin:$PATH"

aiot hello a "b c" --flag
expect_code 0
expect_stdout_contains "args:a b c --flag"
expect_stdout_contains "profile:default hub:local:$TEST_TMP/hub.db output:table"
expect_stderr_contains "to stderr"

run env AIOT_OUTPUT=json "$AIOT" hello
expect_stdout_contains "output:json"

run env HELLO_EXIT=7 "$AIOT" hello
expect_code 7

aiot device list
expect_code 0
expect_stdout_not_contains "shadowed"

aiot help
expect_code 0
expect_stdout_contains "Plugins (aiot-NAME on PATH):"
expect_stdout_contains "hello"

aiot nosuchplugin
expect_code 2
expect_stderr_contains "unknown command 'nosuchplugin'"

finish
