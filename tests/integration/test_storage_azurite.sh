#!/usr/bin/env bash
# Issue 10: `aiot lineage audit` reads IoT Hub routing exports in place from Azure Blob Storage,
# here Azurite (the Azure Storage emulator, npm package `azurite`, installed on first use into
# ${AIOT_AZURITE_DIR:-~/.cache/aiot-azurite}). Exports (JSON and Avro) in the real routing layout
# {iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm} are uploaded with Shared Key requests from Python's
# standard library; the audits over a SAS URL and over a connection string must equal the audit of
# the same files on disk. Also: small list pages, 10,000 objects, a bad SAS (exit 4), --window.
REAL_HOME=${HOME:-/root}
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v node >/dev/null && command -v npm >/dev/null || skip "node/npm are not installed (Azurite needs them)"
command -v python3 >/dev/null || skip "python3 is needed to upload test blobs"
if ! "$AIOT" lineage audit --help >/dev/null 2>&1; then
  skip "aiot lineage audit is not built yet"
fi

AZURITE_DIR=${AIOT_AZURITE_DIR:-$REAL_HOME/.cache/aiot-azurite}
AZURITE="$AZURITE_DIR/node_modules/.bin/azurite-blob"
if [[ ! -x "$AZURITE" ]]; then
  echo "installing azurite into $AZURITE_DIR" >&2
  npm install --prefix "$AZURITE_DIR" --no-audit --no-fund azurite@3 >"$TEST_TMP/npm.log" 2>&1 ||
    skip "cannot install azurite from npm: $(tail -1 "$TEST_TMP/npm.log")"
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A background job of this shell: lib.sh's exit handler stops it.
"$AZURITE" --blobHost 127.0.0.1 --blobPort "$PORT" --inMemoryPersistence --silent --skipApiVersionCheck \
  >"$TEST_TMP/azurite.log" 2>&1 &
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.2
done
curl -s -o /dev/null "http://127.0.0.1:$PORT/" || skip "azurite did not start: $(tail -3 "$TEST_TMP/azurite.log")"

ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
EP="http://127.0.0.1:$PORT/$ACCOUNT"
CONN="DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=$EP;"

# --- helpers (Python standard library) ------------------------------------------------------------
cat >"$TEST_TMP/azblob.py" <<'PY'
"""Shared Key requests to a blob endpoint: mkcontainer C | upload C DIR | many C PREFIX N | sas [PERMISSIONS]"""
import base64, datetime, hashlib, hmac, http.client, os, sys, threading, urllib.parse
endpoint, account, key = sys.argv[1], sys.argv[2], sys.argv[3]
url = urllib.parse.urlsplit(endpoint)
base_path = url.path.rstrip('/')
VERSION = '2021-08-06'
def sign(method, path, query, headers):
    h = {k.lower(): v for k, v in headers.items()}
    length = '' if h.get('content-length', '') == '0' else h.get('content-length', '')
    parts = [method, h.get('content-encoding', ''), h.get('content-language', ''), length, h.get('content-md5', ''),
             h.get('content-type', ''), '', h.get('if-modified-since', ''), h.get('if-match', ''),
             h.get('if-none-match', ''), h.get('if-unmodified-since', ''), h.get('range', '')]
    canon = ''.join(f'{k}:{v.strip()}\n' for k, v in sorted(h.items()) if k.startswith('x-ms-'))
    res = f'/{account}{path}' + ''.join(f'\n{k.lower()}:{query[k]}' for k in sorted(query))
    sts = '\n'.join(parts) + '\n' + canon + res
    return 'SharedKey %s:%s' % (account, base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode())
local = threading.local()
def request(method, path, query=None, body=b'', extra=None):
    query = query or {}
    headers = {'x-ms-date': datetime.datetime.now(datetime.timezone.utc).strftime('%a, %d %b %Y %H:%M:%S GMT'),
               'x-ms-version': VERSION, 'Content-Length': str(len(body))}
    headers.update(extra or {})
    headers['Authorization'] = sign(method, path, query, headers)
    if not hasattr(local, 'c'):
        local.c = http.client.HTTPConnection(url.hostname, url.port)
    local.c.request(method, path + ('?' + urllib.parse.urlencode(query) if query else ''), body=body, headers=headers)
    r = local.c.getresponse(); data = r.read()
    if r.status >= 300 and not (r.status == 409 and 'restype' in query):
        sys.exit(f'{method} {path}: HTTP {r.status} {data[:300]!r}')
def put_blob(container, name, body):
    request('PUT', f'{base_path}/{container}/' + urllib.parse.quote(name), body=body,
            extra={'x-ms-blob-type': 'BlockBlob', 'Content-Type': 'application/octet-stream'})
def parallel(items, workers=8):
    it = iter(items); lock = threading.Lock()
    def work():
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                return
            put_blob(*item)
    ts = [threading.Thread(target=work) for _ in range(workers)]
    [t.start() for t in ts]; [t.join() for t in ts]
cmd = sys.argv[4]
if cmd == 'mkcontainer':
    request('PUT', f'{base_path}/{sys.argv[5]}', {'restype': 'container'})
elif cmd == 'upload':
    root = sys.argv[6]
    parallel([(sys.argv[5], os.path.relpath(os.path.join(d, f), root), open(os.path.join(d, f), 'rb').read())
              for d, _, fs in os.walk(root) for f in fs])
elif cmd == 'many':
    parallel([(sys.argv[5], f'{sys.argv[6]}{i:05d}.json', b'{"deviceId":"d%d","ts":"2026-11-26T04:00:00Z","seq":%d}\n' % (i % 50, i))
              for i in range(int(sys.argv[7]))])
elif cmd == 'sas':
    expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
    perms = sys.argv[5] if len(sys.argv) > 5 else 'rl'
    sts = '\n'.join([account, perms, 'b', 'sco', '', expiry, '', '', VERSION, '']) + '\n'
    sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
    print(urllib.parse.urlencode({'sv': VERSION, 'ss': 'b', 'srt': 'sco', 'sp': perms, 'se': expiry, 'sig': sig}))
PY

# IoT Hub routing exports: JSON (one message per line) and Avro (null codec), 2 partitions, 3 hours.
cat >"$TEST_TMP/gen.py" <<'PY'
import json, os, struct, sys
root = sys.argv[1]
def zz(n):
    n = (n << 1) ^ (n >> 63); out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def s(x): x = x.encode() if isinstance(x, str) else x; return zz(len(x)) + x
def amap(d): return (zz(len(d)) + b''.join(s(k) + s(v) for k, v in d.items()) if d else b'') + zz(0)
SCHEMA = json.dumps({"type": "record", "name": "Message", "namespace": "Microsoft.Azure.Devices", "fields": [
    {"name": "EnqueuedTimeUtc", "type": "string"}, {"name": "Properties", "type": {"type": "map", "values": "string"}},
    {"name": "SystemProperties", "type": {"type": "map", "values": "string"}}, {"name": "Body", "type": ["null", "bytes"]}]})
def avro(messages):
    sync = b'0123456789abcdef'
    head = b'Obj\x01' + amap({'avro.schema': SCHEMA, 'avro.codec': 'null'}) + sync
    data = b''.join(s(m['EnqueuedTimeUtc']) + amap(m['Properties']) + amap({k: v for k, v in m['SystemProperties'].items()})
                    + zz(1) + s(json.dumps(m['Body'])) for m in messages)
    return head + zz(len(messages)) + zz(len(data)) + data + sync
seq = 0
for part in (0, 1):
    for hour in (3, 4, 5):
        for minute in (10, 40):
            msgs = []
            for i in range(20):
                seq += 1
                dev = f'dev-{(seq % 7):05d}'
                t = f'2026-11-26T{hour:02d}:{minute:02d}:{i:02d}'
                msgs.append({'EnqueuedTimeUtc': t + '.5000000Z', 'Properties': {'iothub-creation-time-utc': t + '.000Z'},
                             'SystemProperties': {'connectionDeviceId': dev, 'messageId': f'm-{seq}',
                                                  'contentType': 'application/json', 'contentEncoding': 'utf-8'},
                             'Body': {'deviceId': dev, 'ts': t + '.000Z', 'schema': 'telemetry/v1', 'seq': seq,
                                      'temperature': 20 + (seq % 13) * 0.5}})
            d = os.path.join(root, 'aiot-hub', str(part), '2026', '11', '26', f'{hour:02d}')
            os.makedirs(d, exist_ok=True)
            if part == 0:
                with open(os.path.join(d, f'{minute:02d}.json'), 'w') as f:
                    f.writelines(json.dumps(m) + '\n' for m in msgs)
            else:
                with open(os.path.join(d, f'{minute:02d}.avro'), 'wb') as f:
                    f.write(avro(msgs))
PY

# Everything that names where an input lives differs between disk and blob; the findings must not.
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
        v = re.sub(r'^(az://[^/]+/[^/]+/|https?://[^/]+/[^/]+/[^/?]+/|/.*/data/)', '', v)
    return v
print(json.dumps(norm(doc), indent=1, sort_keys=True))
PY

python3 "$TEST_TMP/gen.py" "$TEST_TMP/data" || fail "generating exports"
AZ="python3 $TEST_TMP/azblob.py $EP $ACCOUNT $KEY"
$AZ mkcontainer exports && $AZ upload exports "$TEST_TMP/data" || fail "uploading exports to azurite"
SAS=$($AZ sas)

audit_json() { # OUT INPUT [VAR=VALUE...] [-- AUDIT_ARGS...]: the audit as JSON, normalised
  local out=$1 input=$2
  shift 2
  local vars=() extra=()
  while (($#)) && [[ "$1" != -- ]]; do vars+=("$1"); shift; done
  (($#)) && shift && extra=("$@")
  run env "${vars[@]}" "$AIOT" lineage audit --input "$input" -o json "${extra[@]}"
  cp "$RUN_OUT" "$TEST_TMP/$out.raw.json"
  python3 "$TEST_TMP/normalise.py" "$TEST_TMP/$out.raw.json" >"$TEST_TMP/$out.json" 2>/dev/null ||
    fail "$out: audit output is not JSON"
}

# --- equality with the local audit ----------------------------------------------------------------
audit_json local "$TEST_TMP/data/aiot-hub"
local_code=$RUN_CODE
expect_stdout_contains "aiot-hub/0/2026/11/26/03/10.json"

audit_json sas "$EP/exports/aiot-hub/?$SAS"
expect_eq "SAS audit exits like the local one" "$local_code" "$RUN_CODE"
expect_stdout_contains "$EP/exports/aiot-hub/1/2026/11/26/05/40.avro"
expect_stdout_not_contains "sig="
check "SAS audit equals the local audit" cmp -s "$TEST_TMP/local.json" "$TEST_TMP/sas.json"

audit_json conn "az://$ACCOUNT/exports/aiot-hub/" AZURE_STORAGE_CONNECTION_STRING="$CONN" \
  -- --openlineage "file:$TEST_TMP/ol.jsonl"
expect_eq "connection-string audit exits like the local one" "$local_code" "$RUN_CODE"
expect_stdout_contains "az://$ACCOUNT/exports/aiot-hub/0/2026/11/26/04/40.json"
# OpenLineage input datasets follow the naming spec: wasbs://CONTAINER@ACCOUNT..., name = blob name.
check "OpenLineage names the blob datasets wasbs://exports@$ACCOUNT" grep -q "wasbs://exports@$ACCOUNT" "$TEST_TMP/ol.jsonl"
check "OpenLineage dataset name is the blob name" grep -q '"name":"aiot-hub/1/2026/11/26/05/40.avro"' "$TEST_TMP/ol.jsonl"
check "connection-string audit equals the local audit" cmp -s "$TEST_TMP/local.json" "$TEST_TMP/conn.json"

# Pagination: two objects a page.
audit_json paged "az://$ACCOUNT/exports/aiot-hub/" AZURE_STORAGE_CONNECTION_STRING="$CONN" AIOT_STORAGE_PAGE_SIZE=2
check "2-object pages give the same audit" cmp -s "$TEST_TMP/local.json" "$TEST_TMP/paged.json"

# --window: with 15 minutes of slack, 04:00/04:20 lists the minute blobs from 03:45 to 04:35 only.
run env AZURE_STORAGE_CONNECTION_STRING="$CONN" "$AIOT" lineage audit --input "az://$ACCOUNT/exports/aiot-hub/" \
  --window 2026-11-26T04:00:00Z/2026-11-26T04:20:00Z -o json
expect_stdout_contains "aiot-hub/0/2026/11/26/04/10.json"
expect_stdout_contains "aiot-hub/1/2026/11/26/04/10.avro"
expect_stdout_not_contains "aiot-hub/0/2026/11/26/04/40.json"
expect_stdout_not_contains "aiot-hub/0/2026/11/26/03/"
expect_stdout_not_contains "aiot-hub/1/2026/11/26/05/"

# --- failures -------------------------------------------------------------------------------------
bad_sas=$(printf '%s' "$SAS" | sed 's/sig=[^&]*/sig=AAAA/')
aiot lineage audit --input "$EP/exports/aiot-hub/?$bad_sas"
expect_code 4
expect_stderr_contains "403"

# A SAS that may list but not read: the listing works, the first object's 403 stops the audit.
list_only=$($AZ sas l)
aiot lineage audit --input "$EP/exports/aiot-hub/?$list_only"
expect_code 4
expect_stderr_contains "$EP/exports/aiot-hub/0/2026/11/26/03/10.json"
expect_stderr_not_contains "sig="

run env AZURE_STORAGE_CONNECTION_STRING="$CONN" "$AIOT" lineage audit --input "az://$ACCOUNT/nosuchcontainer/"
[[ "$RUN_CODE" != 0 && "$RUN_CODE" != 4 ]] && pass "a missing container fails without exit 0/4" || fail "missing container: exit $RUN_CODE"

# --- many objects ---------------------------------------------------------------------------------
# 10,000 blobs take ~2 minutes to upload to Azurite and ~1-2 more to audit on the shared 2-core
# CI machine (measured: RESULTS-storage.md), so CI lists 600 in pages of 50 and a full run sets
# AIOT_STORAGE_TEST_OBJECTS=10000 (the 10,000-object listing itself is also a unit test).
MANY=${AIOT_STORAGE_TEST_OBJECTS:-600}
last=$(printf '%05d' $((MANY - 1)))
started=$(date +%s)
$AZ mkcontainer many && $AZ many many "aiot-hub/0/2026/11/26/04/" "$MANY" || fail "uploading $MANY blobs"
echo "uploaded $MANY blobs in $(($(date +%s) - started)) s" >&2
started=$(date +%s)
run env AZURE_STORAGE_CONNECTION_STRING="$CONN" AIOT_STORAGE_PAGE_SIZE=50 "$AIOT" lineage audit --input "az://$ACCOUNT/many/" --fail-on never -o json
echo "audited $MANY blobs in $(($(date +%s) - started)) s" >&2
expect_code 0
expect_stdout_contains "az://$ACCOUNT/many/aiot-hub/0/2026/11/26/04/$last.json"
expect_stdout_contains "az://$ACCOUNT/many/aiot-hub/0/2026/11/26/04/00000.json"

finish
