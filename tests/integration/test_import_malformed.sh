#!/usr/bin/env bash
# device import with bad rows: per-row errors with file:line, good rows land, re-runs are idempotent,
# a file that does not parse imports nothing, and failed writes leave no half-written output behind.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- CSV: row 4 (line 4) has a bad id, line 6 has one field too many. -----------------------------
cat >file.csv <<'EOF'
id,auth,status,tags.site
csv-1,sas,enabled,berlin
csv-2,sas,enabled,paris
bad id/with spaces,sas,enabled,rome
csv-4,sas,disabled,oslo
csv-5,sas,enabled,lima,one-too-many
csv-6,sas,enabled,quito
EOF

aiot device import -f file.csv
expect_code 2
expect_stderr_contains "file.csv:4:"
expect_stderr_contains "file.csv:6:"
expect_stderr_not_contains "file.csv:2:"
expect_stderr_not_contains "file.csv:5:"
expect_stderr_contains "4 created"
expect_stderr_contains "2 failed"

aiot device list -o json
expect_code 0
expect_eq "the four good CSV rows are registered" 4 "$(json_len <"$RUN_OUT")"
aiot device show csv-4 -o json
expect_code 0
expect_stdout_contains '"status":"disabled"'
expect_stdout_contains '"site":"oslo"'
aiot device show csv-5
expect_code 1

# Per-row outcomes in JSON, with the line numbers.
aiot device import -f file.csv -o json
expect_code 2
expect_json_stdout
check "JSON rows: 4 unchanged, failures on lines 4 and 6" python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["created"] == 0 and doc["unchanged"] == 4 and doc["failed"] == 2, doc
failed = sorted(r["line"] for r in doc["rows"] if r["outcome"] == "failed")
assert failed == [4, 6], failed' "$RUN_OUT"

# Re-run: nothing created, still 2 because the bad rows are still there.
aiot device import -f file.csv
expect_code 2
expect_stderr_contains "0 created"
expect_stderr_contains "4 unchanged"
expect_eq "re-run creates no duplicates" 4 "$(device_count)"

# The same file without its bad rows: clean, exit 0, all unchanged.
grep -v -e '^bad id' -e 'one-too-many' file.csv >clean.csv
aiot device import -f clean.csv
expect_code 0
expect_stderr_contains "4 unchanged"
expect_stderr_contains "0 failed"

# A changed row without --update is refused and changes nothing; with --update it is applied.
printf 'id,auth,status,tags.site\ncsv-1,sas,enabled,madrid\n' >changed.csv
aiot device import -f changed.csv
check "changed row without --update is an error (got $RUN_CODE)" test "$RUN_CODE" -ne 0
expect_stderr_contains "changed.csv:2:"
aiot device show csv-1 -o json
expect_stdout_contains '"site":"berlin"'
aiot device import -f changed.csv --update
expect_code 0
expect_stderr_contains "1 updated"
aiot device show csv-1 -o json
expect_stdout_contains '"site":"madrid"'

# Other CSV defects, each named with its line.
printf 'id,auth\ndup-1,sas\ndup-1,sas\n' >dupes.csv
aiot device import -f dupes.csv
expect_code 2
expect_stderr_contains "dupes.csv:3:"
printf 'id,auth\nq-1,sas\n"q-2,sas\n' >quote.csv
aiot device import -f quote.csv
expect_code 2
expect_stderr_contains "quote.csv:3:"
printf 'id,auth\nauth-1,kerberos\n' >auth.csv
aiot device import -f auth.csv
expect_code 2
expect_stderr_contains "auth.csv:2:"
aiot device show auth-1
expect_code 1

# --- YAML that does not parse: nothing is imported, the error has file:line:col. ------------------
before=$(device_count)
cat >bad.yaml <<'EOF'
- id: yaml-1
  auth: sas
- id: yaml-2
  auth: sas
  tags: {site: [berlin
- id: yaml-3
  auth: sas
EOF
aiot device import -f bad.yaml
expect_code 2
expect_empty_stdout
expect_stderr_matches 'bad\.yaml:[0-9]+:[0-9]+:'
expect_eq "a YAML syntax error imports nothing" "$before" "$(device_count)"
aiot device show yaml-1
expect_code 1

# A YAML file that parses but holds one bad device: the others land, the bad one is named.
cat >semi.yaml <<'EOF'
- id: yaml-ok
  auth: sas
  tags: {site: berlin}
- id: "yaml bad"
  auth: sas
EOF
aiot device import -f semi.yaml
expect_code 2
expect_stderr_contains "semi.yaml:4"
aiot device show yaml-ok
expect_code 0

# --- JSON Lines: 1,000 rows, then a second run that changes nothing. ------------------------------
python3 -c '
import json
for i in range(1000):
    print(json.dumps({"id": "jl-%04d" % i, "auth": "sas", "tags": {"n": str(i), "ring": str(i % 3)}}))' >many.jsonl
before=$(device_count)
aiot device import -f many.jsonl
expect_code 0
expect_stderr_contains "1000 created"
expect_eq "1,000 JSONL devices added" "$((before + 1000))" "$(device_count)"
aiot device import -f many.jsonl -o json
expect_code 0
check "second JSONL run: 1000 unchanged, nothing else" python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
assert (doc["created"], doc["updated"], doc["unchanged"], doc["failed"]) == (0, 0, 1000, 0), doc' "$RUN_OUT"
expect_stderr_contains "1000 unchanged"
aiot device list --where "tags.ring = '1'" -o json
expect_eq "query over imported tags" 333 "$(json_len <"$RUN_OUT")"

printf '{"id":"jb-1","auth":"sas"}\n{"id":"jb-2", nope\n{"id":"jb-3","auth":"sas"}\n' >bad.jsonl
aiot device import -f bad.jsonl
expect_code 2
expect_stderr_contains "bad.jsonl:2:"

# --- Nothing half-written: a failed export leaves the old file alone. -----------------------------
mkdir out
printf 'previous content\n' >out/out.csv
cp out/out.csv expected.csv
aiot device export --out out/out.csv --where "tags.site = "
expect_code 2
expect_stderr_contains "query:1:"
check "old export file is byte-identical" cmp -s out/out.csv expected.csv
expect_eq "no temp files next to the export" "out.csv" "$(ls -A out)"

# A file that does not parse writes no credentials either.
aiot device import -f bad.yaml --out-dir keys-bad
expect_code 2
check "no key files from an unparsable file" test -z "$(ls -A keys-bad 2>/dev/null)"

# A good export replaces the file, again without leftovers.
aiot device export --out out/out.csv
expect_code 0
check "export replaced the file" test "$(head -n 1 out/out.csv | cut -c1-3)" = "id,"
expect_eq "still no temp files after a good export" "out.csv" "$(ls -A out)"
expect_eq "export has one line per device plus header" "$(($(device_count) + 1))" "$(wc -l <out/out.csv)"

# The export re-imports as all unchanged.
aiot device import -f out/out.csv
expect_code 0
expect_stderr_contains " 0 created"
expect_stderr_contains " 0 failed"

finish
