#!/usr/bin/env bash
# OpenLineage events written by aiot validate against the spec's JSON Schemas (core 2-0-2 and the
# facet schemas), offline: every schema is registered under its $id, each facet of an event is
# checked against the schema its key and placement name, and aiot's custom aiot_attribution facet
# against the schema below. Events come from `aiot lineage merge --openlineage file:...` on small
# profiles made here: START + COMPLETE for a good merge, START + FAIL for a bad input.
#
# Needs ../shared/testdata/openlineage (or OPENLINEAGE_SCHEMAS) and a python3 with jsonschema
# (4.18+ with `referencing`, or older with RefResolver: Debian's python3-jsonschema 4.10 works).
# Skips (exit 125) when either is missing.
source "$(dirname "$0")/lib.sh"

SCHEMAS=${OPENLINEAGE_SCHEMAS:-$AIOT_SOURCE_DIR/../shared/testdata/openlineage}
[[ -f "$SCHEMAS/OpenLineage.json" && -d "$SCHEMAS/facets" ]] || skip "no OpenLineage schemas at $SCHEMAS"

PYTHON=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import jsonschema' 2>/dev/null; then
    PYTHON=$candidate
    break
  fi
done
[[ -n "$PYTHON" ]] || skip "no python3 with jsonschema (apt-get install python3-jsonschema)"
echo "validating with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])') jsonschema $("$PYTHON" -c 'import importlib.metadata as m; print(m.version("jsonschema"))' 2>/dev/null || echo '?')" >&2

"$AIOT" lineage merge --help >/dev/null 2>&1 || skip "aiot lineage merge is not wired into the lineage group"

# --- two small shard profiles (aiot.profile/v1), written the way the audit writes them ----------
cat >"$TEST_TMP/make_profile.py" <<'PY'
import base64, json, sys

def field(values=(), texts=(), nulls=0):
    n = len(values)
    mean = sum(values) / n if n else 0.0
    m2 = sum((x - mean) ** 2 for x in values)
    counts = {}
    for t in texts:
        counts[t] = counts.get(t, 0) + 1
    return {
        "count": n + len(texts), "nulls": nulls, "missing": 0, "numbers": n, "texts": len(texts),
        "moments": {"n": n, "mean": mean, "m2": m2, "min": min(values) if n else None, "max": max(values) if n else None},
        "quantiles": {"k": 200, "n": n, "min": min(values) if n else None, "max": max(values) if n else None,
                      "rng": 7640891576956012809, "levels": [sorted(values)]},
        "distinct": {"lg_k": 12, "registers": hll(values or texts)},
        "top_text": {"total": len(texts), "error": 0, "items": sorted([k, v] for k, v in counts.items())},
    }

def hll(items):
    regs = bytearray(4096)
    for i, item in enumerate(items):
        regs[(hash(str(item)) % 4096 + i * 97) % 4096] = 1 + i % 5
    return base64.b64encode(bytes(regs)).decode() if any(regs) else ""

shard = int(sys.argv[1])
temps = [20.0 + 0.5 * i + shard for i in range(40)]
profile = {
    "schema": "aiot.profile/v1",
    "window": {"from": "2026-11-16T00:00:00Z", "to": f"2026-11-{17 + shard}T00:00:00Z"},
    "records": 60, "malformed": shard, "bytes": 6000 + shard, "inputs": 1,
    "devices": {"lg_k": 12, "registers": hll([f"dev-{i}" for i in range(10 * shard, 10 * shard + 12)])},
    "device_classes": {"pi5": 35, "jetson": 25},
    "models": {
        "1.2.0": {"records": 40, "fields": {"temp": field(temps, nulls=2), "status": field(texts=["ok"] * 30 + ["warn"] * 8)}},
        "unattributed": {"records": 20, "fields": {"temp": field(temps[:18])}},
    },
}
json.dump(profile, sys.stdout, indent=2, sort_keys=True)
PY
"$PYTHON" "$TEST_TMP/make_profile.py" 1 >"$TEST_TMP/shard1.json"
"$PYTHON" "$TEST_TMP/make_profile.py" 2 >"$TEST_TMP/shard2.json"

# --- the validator -------------------------------------------------------------------------------
cat >"$TEST_TMP/validate.py" <<'PY'
import glob, json, os, re, sys
import jsonschema

schemas_dir, events_file = sys.argv[1], sys.argv[2]
expected_types = sys.argv[3].split(",")

documents = {}
for path in [os.path.join(schemas_dir, "OpenLineage.json")] + sorted(glob.glob(os.path.join(schemas_dir, "facets", "*.json"))):
    with open(path) as f:
        doc = json.load(f)
    documents[doc["$id"]] = doc
core_id = "https://openlineage.io/spec/2-0-2/OpenLineage.json"

# aiot's own facet: records per model version (published as docs/schemas/AiotAttributionInputDatasetFacet.json).
attribution_id = "https://github.com/aiot-dev/aiot/blob/main/docs/schemas/AiotAttributionInputDatasetFacet.json"
documents[attribution_id] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": attribution_id,
    "$defs": {"AiotAttributionInputDatasetFacet": {
        "allOf": [{"$ref": core_id + "#/$defs/InputDatasetFacet"},
                  {"type": "object", "required": ["recordsByModelVersion"],
                   "properties": {"recordsByModelVersion": {"type": "object",
                                                            "additionalProperties": {"type": "integer", "minimum": 0}}}}]}},
}

try:
    from referencing import Registry, Resource
    registry = Registry().with_resources((i, Resource.from_contents(d)) for i, d in documents.items())

    def validator_for(uri):
        base, _, pointer = uri.partition("#")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": uri}
        return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker())
except ImportError:  # jsonschema < 4.18 (Debian bookworm: 4.10)
    def validator_for(uri):
        base, _, pointer = uri.partition("#")
        resolver = jsonschema.RefResolver(base_uri=base, referrer=documents[base], store=dict(documents))
        return jsonschema.Draft202012Validator({"$ref": uri}, resolver=resolver, format_checker=jsonschema.FormatChecker())

# Facet key and placement -> the schema its _schemaURL must name.
known = {}
for doc_id, doc in documents.items():
    for key in doc.get("properties", {}):
        for name in doc["$defs"]:
            if doc["properties"][key].get("$ref", "").endswith("/" + name):
                known.setdefault(key, []).append(f"{doc_id}#/$defs/{name}")
known["aiot_attribution"] = [attribution_id + "#/$defs/AiotAttributionInputDatasetFacet"]

errors = []
def check(instance, uri, where):
    for e in validator_for(uri).iter_errors(instance):
        errors.append(f"{where}: {e.message} (at {'/'.join(map(str, e.absolute_path))})")

def check_facets(facets, where):
    for key, value in (facets or {}).items():
        url = value.get("_schemaURL", "")
        if url not in known.get(key, []):
            errors.append(f"{where}.{key}: _schemaURL {url} is not one of {known.get(key)}")
            continue
        check(value, url, f"{where}.{key}")

events = [json.loads(line) for line in open(events_file) if line.strip()]
types = [e.get("eventType") for e in events]
if types != expected_types:
    errors.append(f"event types {types}, expected {expected_types}")
uuid7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
for i, event in enumerate(events):
    where = f"event {i} ({event.get('eventType')})"
    check(event, core_id + "#/$defs/RunEvent", where)
    if event.get("schemaURL") != core_id + "#/$defs/RunEvent":
        errors.append(f"{where}: schemaURL {event.get('schemaURL')}")
    if not uuid7.match(event["run"]["runId"]):
        errors.append(f"{where}: runId {event['run']['runId']} is not a UUIDv7")
    check_facets(event["run"].get("facets"), where + " run.facets")
    check_facets(event["job"].get("facets"), where + " job.facets")
    for j, d in enumerate(event.get("inputs", [])):
        check_facets(d.get("facets"), f"{where} inputs[{j}].facets")
        check_facets(d.get("inputFacets"), f"{where} inputs[{j}].inputFacets")
    for j, d in enumerate(event.get("outputs", [])):
        check_facets(d.get("facets"), f"{where} outputs[{j}].facets")
        check_facets(d.get("outputFacets"), f"{where} outputs[{j}].outputFacets")
if len({e["run"]["runId"] for e in events}) != 1:
    errors.append("START and its end event must share one runId")
for e in errors:
    print(e)
facets = sorted({k for e in events for k in e["run"].get("facets", {})} |
                {k for e in events for d in e.get("inputs", []) for k in list(d.get("facets", {})) + list(d.get("inputFacets", {}))} |
                {k for e in events for d in e.get("outputs", []) for k in d.get("outputFacets", {})})
print(f"{len(events)} events, facets checked: {' '.join(facets)}")
sys.exit(1 if errors else 0)
PY

validate() { # EVENTS_FILE TYPES: validates, the report goes to RUN_OUT
  run "$PYTHON" "$TEST_TMP/validate.py" "$SCHEMAS" "$1" "$2"
}

# --- a good merge: START + COMPLETE --------------------------------------------------------------
aiot lineage merge shard1.json shard2.json --out merged.json --openlineage "file:$TEST_TMP/ok.jsonl" -o json
expect_code 0
expect_json_stdout
expect_stdout_contains '"records":120'
check "merged.json written" test -s merged.json
validate "$TEST_TMP/ok.jsonl" START,COMPLETE
expect_code 0
expect_stdout_contains "dataQualityMetrics"
expect_stdout_contains "aiot_attribution"
expect_stdout_contains "outputStatistics"
expect_stdout_contains "processing_engine"
expect_stdout_contains "version"

# The validator bites: a facet missing a required member, or a run id that is not a UUID, fails.
"$PYTHON" - "$TEST_TMP/ok.jsonl" "$TEST_TMP/tampered.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
del events[1]["inputs"][0]["inputFacets"]["dataQualityMetrics"]["columnMetrics"]
events[0]["run"]["runId"] = "not-a-uuid"
with open(sys.argv[2], "w") as f:
    for e in events:
        f.write(json.dumps(e) + "\n")
PY
validate "$TEST_TMP/tampered.jsonl" START,COMPLETE
expect_code 1
expect_stdout_contains "columnMetrics"
expect_stdout_contains "not-a-uuid"

# The merged profile reads back and merges again (idempotent shape, records add up).
aiot lineage merge merged.json shard1.json -o json
expect_code 0
expect_stdout_contains '"schema": "aiot.profile/v1"'
expect_stdout_contains '"records": 180'

# --- a failing merge: START + FAIL with errorMessage ---------------------------------------------
sed 's#aiot.profile/v1#aiot.profile/v9#' shard2.json >future.json
aiot lineage merge shard1.json future.json --out never.json --openlineage "file:$TEST_TMP/fail.jsonl"
expect_code 2
expect_stderr_contains "aiot.profile/v9"
check "nothing written on bad input" test ! -e never.json
validate "$TEST_TMP/fail.jsonl" START,FAIL
expect_code 0
expect_stdout_contains "errorMessage"

# OPENLINEAGE_URL is honoured, and plain http to another host is refused before any work.
run env OPENLINEAGE_URL=http://lineage.example.com:5000 "$AIOT" lineage merge shard1.json --out x.json
expect_code 2
expect_stderr_contains "plain http"
check "refused run wrote nothing" test ! -e x.json

finish
