#!/usr/bin/env bash
# Issue 10: `aiot lineage audit` reads AWS IoT rule exports in place from S3, here the moto server
# (Python package moto, `moto_server` on PATH). JSON exports in the Firehose layout
# PREFIX/YYYY/MM/DD/HH/stream-... and in a direct S3-action layout are uploaded with
# `aws s3 cp --endpoint-url`; the audit over s3:// (path-style custom endpoint, SigV4) must equal
# the audit of the same files on disk. Also: small list pages, many objects, a missing bucket.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v moto_server >/dev/null || skip "moto_server is not installed (pip install 'moto[server]')"
command -v aws >/dev/null || skip "the AWS CLI is needed to upload test objects"
command -v python3 >/dev/null || skip "python3 is needed to generate test objects"
if ! "$AIOT" lineage audit --help >/dev/null 2>&1; then
  skip "aiot lineage audit is not built yet"
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A background job of this shell: lib.sh's exit handler stops it.
moto_server -H 127.0.0.1 -p "$PORT" >"$TEST_TMP/moto.log" 2>&1 &
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.2
done
curl -s -o /dev/null "http://127.0.0.1:$PORT/" || skip "moto_server did not start: $(tail -3 "$TEST_TMP/moto.log")"

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
export AWS_CONFIG_FILE="$TEST_TMP/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/no-aws-credentials"
ENDPOINT="http://127.0.0.1:$PORT"
S3() { aws --endpoint-url "$ENDPOINT" s3 "$@" >/dev/null; }

# AWS IoT rule output: Firehose objects holding newline-separated messages (no extension), and one
# message per object from a direct S3 action.
cat >"$TEST_TMP/gen.py" <<'PY'
import json, os, sys
root = sys.argv[1]
seq = 0
def message(dev, t):
    global seq
    seq += 1
    return {'deviceId': dev, 'messageId': f'm-{seq}', 'ts': t, 'schema': 'telemetry/v1', 'seq': seq,
            'temperature': 20 + (seq % 11) * 0.5, 'clientId': dev, 'topic': f'fleet/{dev}/telemetry',
            'receivedAt': 1795665600000 + seq * 1000}
for hour in (3, 4, 5):
    d = os.path.join(root, 'firehose', '2026', '11', '26', f'{hour:02d}')
    os.makedirs(d, exist_ok=True)
    for batch in range(2):
        name = f'aiot-stream-1-2026-11-26-{hour:02d}-{batch * 30:02d}-00-{hour}{batch}aa-bb'
        with open(os.path.join(d, name), 'w') as f:
            for i in range(25):
                f.write(json.dumps(message(f'dev-{i % 5:05d}', f'2026-11-26T{hour:02d}:{batch * 30 + i:02d}:00.000Z')) + '\n')
d = os.path.join(root, 'direct', 'fleet', 'dev-00009')
os.makedirs(d, exist_ok=True)
for i in range(6):
    with open(os.path.join(d, f'17956656{i:05d}.json'), 'w') as f:
        json.dump(message('dev-00009', f'2026-11-26T04:{i:02d}:00.000Z'), f)
PY

cat >"$TEST_TMP/normalise.py" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
drop = {'version', 'etag', 'sha256', 'ol_namespace', 'namespace', 'elapsed', 'elapsed_ms', 'duration_ms', 'started', 'finished', 'eventTime', 'runId', 'run_id', 'seconds', 'mb_per_s'}
def norm(v):
    if isinstance(v, dict):
        return {k: norm(x) for k, x in sorted(v.items()) if k not in drop}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, str):
        v = re.sub(r'^(s3://[^/]+/|/.*/data/)', '', v)
    return v
print(json.dumps(norm(doc), indent=1, sort_keys=True))
PY

python3 "$TEST_TMP/gen.py" "$TEST_TMP/data" || fail "generating exports"
S3 mb s3://telemetry && S3 cp --recursive "$TEST_TMP/data" s3://telemetry/ || fail "uploading to moto"

audit_json() { # OUT INPUT [VAR=VALUE...] [-- AUDIT_ARGS...]: the audit as JSON, normalised
  local out=$1 input=$2
  shift 2
  local vars=() extra=()
  while (($#)) && [[ "$1" != -- ]]; do vars+=("$1"); shift; done
  (($#)) && shift && extra=("$@")
  run env AWS_ENDPOINT_URL_S3="$ENDPOINT" "${vars[@]}" "$AIOT" lineage audit --input "$input" -o json "${extra[@]}"
  cp "$RUN_OUT" "$TEST_TMP/$out.raw.json"
  python3 "$TEST_TMP/normalise.py" "$TEST_TMP/$out.raw.json" >"$TEST_TMP/$out.json" 2>/dev/null ||
    fail "$out: audit output is not JSON"
}

# --- equality with the local audit ----------------------------------------------------------------
for layout in firehose direct; do
  audit_json "local-$layout" "$TEST_TMP/data/$layout"
  local_code=$RUN_CODE
  audit_json "s3-$layout" "s3://telemetry/$layout/"
  expect_eq "$layout: S3 audit exits like the local one" "$local_code" "$RUN_CODE"
  expect_stdout_contains "s3://telemetry/$layout/"
  check "$layout: S3 audit equals the local audit" cmp -s "$TEST_TMP/local-$layout.json" "$TEST_TMP/s3-$layout.json"
  audit_json "paged-$layout" "s3://telemetry/$layout/" AIOT_STORAGE_PAGE_SIZE=2
  check "$layout: pages of 2 give the same audit" cmp -s "$TEST_TMP/local-$layout.json" "$TEST_TMP/paged-$layout.json"
done
# AWS_ENDPOINT_URL applies to S3 too when AWS_ENDPOINT_URL_S3 is not set.
run env AWS_ENDPOINT_URL="$ENDPOINT" "$AIOT" lineage audit --input "s3://telemetry/direct/" -o json
expect_stdout_contains "s3://telemetry/direct/fleet/dev-00009/1795665600000.json"

# --- failures -------------------------------------------------------------------------------------
run env AWS_ENDPOINT_URL_S3="$ENDPOINT" "$AIOT" lineage audit --input "s3://no-such-bucket/"
[[ "$RUN_CODE" != 0 && "$RUN_CODE" != 4 ]] && pass "a missing bucket fails without exit 0/4" || fail "missing bucket: exit $RUN_CODE"
expect_stderr_contains "no-such-bucket"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_S3="$ENDPOINT" "$AIOT" lineage audit --input "s3://telemetry/"
expect_code 4

# --- many objects ---------------------------------------------------------------------------------
# 10,000 objects take ~90 s to upload to moto and ~55 s to audit here (RESULTS-storage.md), so CI
# uses 300 in pages of 25; AIOT_STORAGE_TEST_OBJECTS=10000 runs the full size.
MANY=${AIOT_STORAGE_TEST_OBJECTS:-300}
python3 - "$TEST_TMP/many" "$MANY" <<'PY'
import os, sys
d = os.path.join(sys.argv[1], 'iot', '2026', '11', '26', '04')
os.makedirs(d)
for i in range(int(sys.argv[2])):
    with open(os.path.join(d, f'{i:05d}.json'), 'w') as f:
        f.write('{"deviceId":"d%d","ts":"2026-11-26T04:00:00Z","seq":%d}\n' % (i % 50, i))
PY
started=$(date +%s)
S3 mb s3://many && S3 cp --recursive "$TEST_TMP/many" s3://many/ || fail "uploading $MANY objects"
echo "uploaded $MANY objects in $(($(date +%s) - started)) s" >&2
started=$(date +%s)
run env AWS_ENDPOINT_URL_S3="$ENDPOINT" AIOT_STORAGE_PAGE_SIZE=25 "$AIOT" lineage audit --input "s3://many/" --fail-on never -o json
echo "audited $MANY objects in $(($(date +%s) - started)) s" >&2
expect_code 0
expect_stdout_contains "s3://many/iot/2026/11/26/04/00000.json"
expect_stdout_contains "s3://many/iot/2026/11/26/04/$(printf '%05d' $((MANY - 1))).json"

finish
