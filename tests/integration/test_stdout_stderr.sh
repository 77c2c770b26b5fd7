#!/usr/bin/env bash
# Data goes to stdout, everything else (progress, confirmations, warnings, errors) to stderr;
# piped tables are tab-separated, terminal tables aligned and coloured unless NO_COLOR / --no-color.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ESC=$'\e'
TAB=$'\t'

# register: the device on stdout, the confirmation on stderr.
aiot device register split-1 --tag site=berlin
expect_code 0
expect_stdout_contains "split-1"
expect_stdout_contains "berlin"
expect_stdout_not_contains "Registered"
expect_stderr_contains "Registered split-1"
expect_stderr_not_contains "deviceId"

# -q: only data, stderr empty.
aiot -q device register split-2 --tag site=paris
expect_code 0
expect_stdout_contains "split-2"
expect_empty_stderr

aiot --quiet device update split-2 --tag ring=0
expect_code 0
expect_empty_stderr
expect_stdout_contains "ring"

aiot -q device delete split-2 --yes
expect_code 0
expect_empty_stderr

aiot device register split-3
aiot device delete split-3 --yes
expect_code 0
expect_stderr_contains "split-3"
expect_stdout_not_contains "Deleted"

# -o json on stdout parses, for list, show, register and import.
aiot device list -o json
expect_code 0
expect_json_stdout
expect_eq "list -o json has one device" 1 "$(json_len <"$RUN_OUT")"

aiot device show split-1 -o json
expect_code 0
expect_json_stdout
expect_empty_stderr

aiot device register split-4 -o json
expect_code 0
expect_json_stdout
expect_stderr_contains "Registered"

printf 'id,auth,tags.site\nsplit-5,sas,rome\nsplit-6,sas,oslo\n' >two.csv
aiot device import -f two.csv -o json
expect_code 0
expect_json_stdout
expect_stdout_not_contains "Imported"
expect_stderr_contains "Imported"

aiot device export --format jsonl
expect_code 0
check "every export line is JSON" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 4, lines
for line in lines: json.loads(line)' "$RUN_OUT"

aiot device list -o yaml
expect_code 0
expect_stdout_contains "deviceId: split-1"
aiot device list -o csv
expect_code 0
expect_stdout_matches '^deviceId,status,'

# Errors: stderr only.
aiot device show missing-device -o json
expect_code 1
expect_empty_stdout
expect_stderr_contains "missing-device"

# Export to a file: the data goes to the file, the confirmation to stderr, stdout stays empty.
aiot device export --out exported.csv
expect_code 0
expect_empty_stdout
check "export --out wrote the file" test -s exported.csv

# Piped table: tab-separated with a header row, no escapes.
aiot device list
expect_code 0
expect_stdout_matches "^ID${TAB}STATUS${TAB}"
expect_stdout_contains "split-1${TAB}enabled${TAB}sas"
expect_stdout_not_contains "$ESC"
expect_empty_stderr

# A terminal: aligned with spaces (no tabs), coloured.
run env AIOT_FORCE_TTY=1 "$AIOT" device list
expect_code 0
expect_stdout_not_contains "$TAB"
expect_stdout_contains "$ESC["
expect_stdout_matches 'ID.* +.*STATUS'
check "aligned: every row starts its STATUS column at the same offset" python3 -c '
import re, sys
rows = [re.sub(r"\x1b\[[0-9;]*m", "", l) for l in open(sys.argv[1]).read().splitlines() if l]
col = rows[0].index("STATUS")
assert len(rows) == 5, rows
for r in rows[1:]:
    assert r[col - 2:col] == "  " and r[col] != " ", (col, r)' "$RUN_OUT"

# NO_COLOR (any non-empty value) and --no-color take the colour away, keep the alignment.
run env AIOT_FORCE_TTY=1 NO_COLOR=1 "$AIOT" device list
expect_code 0
expect_stdout_not_contains "$ESC"
expect_stdout_not_contains "$TAB"
expect_stdout_contains "split-1"

run env AIOT_FORCE_TTY=1 "$AIOT" --no-color device list
expect_code 0
expect_stdout_not_contains "$ESC"
expect_stdout_not_contains "$TAB"

# Colour never leaks into machine formats, even on a terminal.
run env AIOT_FORCE_TTY=1 "$AIOT" device list -o json
expect_code 0
expect_stdout_not_contains "$ESC"
expect_json_stdout

# On a terminal errors are still on stderr, stdout empty.
run env AIOT_FORCE_TTY=1 "$AIOT" device show missing-device
expect_code 1
expect_empty_stdout
expect_stderr_contains "missing-device"

finish
