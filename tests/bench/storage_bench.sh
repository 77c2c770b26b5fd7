#!/usr/bin/env bash
# Benchmark for issue 10: `aiot lineage audit` over ~1 GB of IoT Hub routing exports read in place
# from Azurite (Azure Blob emulator) and from moto (S3) vs the same files on local disk, all on
# loopback. Goal: each remote audit within 2x of the local one.
#
#   AIOT=build/cmd/aiot tests/bench/storage_bench.sh [SIZE_MB]     (default 1024)
#
# Needs node/npm (Azurite is installed into ~/.cache/aiot-azurite on first use), moto_server, the
# AWS CLI and python3. Prints a Markdown table for tests/bench/RESULTS-storage.md.
set -euo pipefail
AIOT=${AIOT:?set AIOT to the aiot binary}
AIOT=$(cd "$(dirname "$AIOT")" && pwd)/$(basename "$AIOT")
SIZE_MB=${1:-1024}
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aiot-storage-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.2; done; return 1; }

# --- data: IoT Hub routing JSON, 16 MB blobs in {iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm}.json
echo "generating ${SIZE_MB} MB of exports..." >&2
python3 - "$WORK/data" "$SIZE_MB" <<'PY'
import json, os, sys
root, size_mb = sys.argv[1], int(sys.argv[2])
per_file = 16 << 20
files = max(1, size_mb * (1 << 20) // per_file)
seq = 0
for n in range(files):
    part, minute = n % 4, n // 4
    hour, minute = 4 + minute // 60, minute % 60
    d = os.path.join(root, 'aiot-hub', str(part), '2026', '11', '26', f'{hour:02d}')
    os.makedirs(d, exist_ok=True)
    lines, written = [], 0
    while written < per_file:
        seq += 1
        dev = f'dev-{seq % 500:05d}'
        t = f'2026-11-26T{hour:02d}:{minute:02d}:{seq % 60:02d}'
        line = json.dumps({'EnqueuedTimeUtc': t + '.5000000Z', 'Properties': {'iothub-creation-time-utc': t + '.000Z'},
                           'SystemProperties': {'connectionDeviceId': dev, 'messageId': f'm-{seq}',
                                                'contentType': 'application/json', 'contentEncoding': 'utf-8'},
                           'Body': {'deviceId': dev, 'ts': t + '.000Z', 'schema': 'telemetry/v1', 'seq': seq,
                                    'temperature': 20 + (seq % 13) * 0.5, 'confidence': (seq % 100) / 100}}) + '\n'
        lines.append(line); written += len(line)
    with open(os.path.join(d, f'{minute:02d}.json'), 'w') as f:
        f.writelines(lines)
PY
BYTES=$(du -sb "$WORK/data" | cut -f1)

# --- Azurite (on disk: 1 GB does not belong in the emulator's heap)
AZ_DIR=${AIOT_AZURITE_DIR:-$HOME/.cache/aiot-azurite}
[[ -x "$AZ_DIR/node_modules/.bin/azurite-blob" ]] || npm install --prefix "$AZ_DIR" --no-audit --no-fund azurite@3 >&2
AZ_PORT=$(free_port)
"$AZ_DIR/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" --location "$WORK/azurite" \
  --silent --skipApiVersionCheck >"$WORK/azurite.log" 2>&1 &
PIDS+=($!)
wait_port "$AZ_PORT"
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
EP="http://127.0.0.1:$AZ_PORT/devstoreaccount1"
CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$KEY;BlobEndpoint=$EP;"
# The integration test's uploader (Shared Key PUTs with Python's standard library).
sed -n '/^cat >"$TEST_TMP\/azblob.py"/,/^PY$/p' "$HERE/../integration/test_storage_azurite.sh" | sed '1d;$d' >"$WORK/azblob.py"
echo "uploading to azurite..." >&2
python3 "$WORK/azblob.py" "$EP" devstoreaccount1 "$KEY" mkcontainer bench
python3 "$WORK/azblob.py" "$EP" devstoreaccount1 "$KEY" upload bench "$WORK/data"

# --- moto
MOTO_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
wait_port "$MOTO_PORT"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
echo "uploading to moto..." >&2
aws --endpoint-url "http://127.0.0.1:$MOTO_PORT" s3 mb s3://bench >/dev/null
aws --endpoint-url "http://127.0.0.1:$MOTO_PORT" s3 cp --recursive "$WORK/data" s3://bench/ --only-show-errors

# --- timings: best of RUNS, the audit's JSON to /dev/null
best() { # LABEL CMD...
  local label=$1 best_s="" t0 t1 s code
  shift
  for _ in $(seq 1 "$RUNS"); do
    t0=$(date +%s.%N)
    set +e
    "$@" >/dev/null 2>"$WORK/err"
    code=$?
    set -e
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc)
    if [[ -z "$best_s" ]] || (($(echo "$s < $best_s" | bc))); then best_s=$s; fi
  done
  printf '%s\t%s\t%s\n' "$label" "$best_s" "$code"
}
{
  best local "$AIOT" lineage audit --input "$WORK/data/aiot-hub" -o json
  best azurite env AZURE_STORAGE_CONNECTION_STRING="$CONN" "$AIOT" lineage audit --input "az://devstoreaccount1/bench/aiot-hub/" -o json
  best moto env AWS_ENDPOINT_URL_S3="http://127.0.0.1:$MOTO_PORT" "$AIOT" lineage audit --input "s3://bench/aiot-hub/" -o json
} >"$WORK/times"

local_s=$(awk -F'\t' '$1 == "local" {print $2}' "$WORK/times")
echo
echo "| source | objects | MB | best of $RUNS (s) | MB/s | vs local | exit |"
echo "|---|---|---|---|---|---|---|"
objects=$(find "$WORK/data" -type f | wc -l)
while IFS=$'\t' read -r label secs code; do
  printf '| %s | %d | %d | %.2f | %.0f | %.2fx | %s |\n' "$label" "$objects" $((BYTES >> 20)) "$secs" \
    "$(echo "($BYTES / 1048576) / $secs" | bc -l)" "$(echo "$secs / $local_s" | bc -l)" "$code"
done <"$WORK/times"
