#!/usr/bin/env bash
# aiot lineage audit end to end on generated telemetry: a simulated fleet with a rollout in its
# history, `aiot sim telemetry` in two formats with planted defects, the audit's counts per check
# equal to the generator's manifest (exact; OUT001 at least the planted ones, within the stated
# tolerance), exit codes, atomic outputs, profile + merge, OpenLineage events.
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 is needed to compare the audit with the manifest"

export AIOT_NOW=2026-11-23T09:00:00Z
aiot sim fleet --devices 30 --seed 7
expect_code 0
aiot sim advance 2h
expect_code 0
# A device updated by hand mid-window: the audit must attribute its records on both sides.
aiot device update dev-00003 --desired 'aiot.model.version="2.2"'
expect_code 0
aiot sim advance 4h
expect_code 0

# compare AUDIT MANIFEST: every check's count equals the manifest's expectedByCode.
compare() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
audit = json.load(open(sys.argv[1]))
manifest = json.load(open(sys.argv[2]))
got = {c["code"]: c for c in audit["checks"]}
bad = []
for code, want in manifest["expectedByCode"].items():
    if code == "OUT001":
        d = next(x for x in manifest["defects"] if x["code"] == "OUT001")
        n = got[code]["count"]
        checked = got[code]["denominator"]
        if n < d["minimum"] or n - d["minimum"] > max(1, 0.001 * checked):
            bad.append(f"OUT001 {n} (planted {d['minimum']}, {checked} values)")
        continue
    if got[code]["count"] != want:
        bad.append(f"{code} {got[code]['count']} != {want}")
# Nothing planted, nothing found.
for code in ("TS001", "FR001", "ATT001", "DRF001"):
    if got[code]["count"] != 0:
        bad.append(f"{code} {got[code]['count']} != 0")
if bad:
    print("mismatch: " + "; ".join(bad))
    sys.exit(1)
print("all counts match")
EOF
}

for format in ndjson iothub-avro; do
  aiot sim telemetry --out "gen-$format" --hours 6 --interval 1m --format "$format" --defects 0.002 --seed 11
  expect_code 0
  python3 -c "import json; json.dump(json.load(open('gen-$format/manifest.json'))['telemetrySchema'], open('schema-$format.json', 'w'))"
  mkdir -p "schemas-$format" && mv "schema-$format.json" "schemas-$format/telemetry-v1.json"

  aiot lineage audit --input "gen-$format/data" --schemas "schemas-$format" --out "audit-$format.json" \
    --profile-out "profile-$format.json" --openlineage "file:events-$format.jsonl"
  expect_code 3
  expect_stdout_contains "ATT002"
  expect_stderr_contains "verdict fail"
  run python3 -c "import json; a = json.load(open('audit-$format.json')); assert a['schema'] == 'aiot.audit/v1'"
  expect_code 0
  run compare "audit-$format.json" "gen-$format/manifest.json"
  expect_code 0
  expect_stdout_contains "all counts match"
  run python3 -c "
import json
ev = [json.loads(l) for l in open('events-$format.jsonl')]
assert [e['eventType'] for e in ev] == ['START', 'COMPLETE'], [e['eventType'] for e in ev]
assert ev[0]['run']['runId'] == ev[1]['run']['runId']
assert 'dataQualityAssertions' in ev[1]['inputs'][0]['inputFacets']
"
  expect_code 0
done

# Both formats carry the same records: the same findings per check.
run python3 -c "
import json
a, b = (json.load(open(f'audit-{f}.json')) for f in ('ndjson', 'iothub-avro'))
assert a['statistics']['devices'] == b['statistics']['devices']
assert {m['version'] for m in a['models']} == {m['version'] for m in b['models']}
"
expect_code 0

# --fail-on never: the verdict is reported, the exit code is 0; -o json prints the audit.
aiot lineage audit --input gen-ndjson/data --schemas schemas-ndjson --fail-on never -o json
expect_code 0
expect_stdout_contains '"schema":"aiot.audit/v1"'

# The profile merges with itself (two shards of the same export).
aiot lineage merge profile-ndjson.json profile-ndjson.json --out merged.json
expect_code 0

# Bad input: exit 2, file:line for a bad policy, and no output written.
printf 'checks:\n  TS002: {warn: soon}\n' >policy.yaml
aiot lineage audit --input gen-ndjson/data --policy policy.yaml --out bad.json
expect_code 2
expect_stderr_contains "policy.yaml:2:"
[[ ! -e bad.json ]] && pass "no audit.json after bad input" || fail "bad.json was written"
aiot lineage audit --input does-not-exist.ndjson --out bad.json
expect_code 2
aiot lineage audit --input gen-ndjson/data --fail-on sometimes
expect_code 2
aiot lineage audit --input gen-ndjson/data --window 2026-11-23/yesterday
expect_code 2
aiot lineage audit --input gen-ndjson/data --registry local:missing.db
expect_code 2

# Malformed input is counted with input:offset and the audit goes on.
{ head -c 2000 gen-ndjson/data/telemetry.ndjson; printf '\n{"deviceId":"dev-00001","ts":\n'; head -c 300 /dev/urandom | tr -d '\n'; printf '\n'; } >broken.ndjson
aiot lineage audit --input broken.ndjson --registry none --fail-on never -o json
expect_code 0
cp "$RUN_OUT" broken.json
run python3 -c "
import json, sys
a = json.load(open('broken.json'))
assert a['statistics']['malformed'] >= 2, a['statistics']
assert a['malformed']['examples'][0]['at'].startswith('$TEST_TMP/broken.ndjson:')
"
expect_code 0

finish
