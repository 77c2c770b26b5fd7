#!/usr/bin/env bash
# The tour of what aiot does today, on the embedded local hub in a fresh folder: create a fleet CA,
# register a small fleet (X.509 signed by the CA, and SAS), then simulate a 500-device fleet and
# roll out a good model version in waves and a bad one that the canary gate catches and rolls back.
# Every command is printed before it runs so you can replay it. Lineage audits and governance
# reports join the tour when they land.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
AIOT=${AIOT:-$here/build/cmd/aiot}
dir=${TOUR_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/aiot-tour.XXXXXX")}
mkdir -p "$dir"
export AIOT_HUB="local:$dir/hub.db"

step() {
  printf '\n\033[1m$ %s\033[0m\n' "$*" >&2
  "$@"
}

echo "aiot tour in $dir (hub: $AIOT_HUB)" >&2

step "$AIOT" ca create --name "Tour fleet CA" --out "$dir/ca"

# A fleet file: eight cameras with CA-signed certificates, four gateways with SAS keys.
{
  echo "id,auth,tags.site,tags.region,tags.hw"
  for i in 1 2 3 4 5 6 7 8; do
    site=$([ $((i % 2)) -eq 0 ] && echo berlin || echo lyon)
    hw=$([ $i -le 4 ] && echo jetson-orin || echo pi5)
    echo "cam-$i,x509-ca,$site,eu-west,$hw"
  done
  for i in 1 2 3 4; do echo "gw-$i,sas,berlin,eu-central,x86"; done
} > "$dir/fleet.csv"
step cat "$dir/fleet.csv"

step "$AIOT" device import -f "$dir/fleet.csv" --ca "$dir/ca" --out-dir "$dir/credentials"
step "$AIOT" device import -f "$dir/fleet.csv" --ca "$dir/ca" --out-dir "$dir/credentials"   # idempotent: all unchanged
step "$AIOT" device register sensor-1 --auth x509-self-signed --tag site=berlin --out-dir "$dir/credentials"
step "$AIOT" device list
step "$AIOT" device list --where "tags.site = 'berlin' AND authenticationType = 'certificateAuthority'"
step "$AIOT" device update cam-2 --desired 'aiot.model={"name":"detector","version":"1.0"}'
step "$AIOT" device show cam-2 -o yaml
step openssl verify -CAfile "$dir/ca/ca.cert.pem" "$dir/credentials/cam-2.cert.pem"
step ls -l "$dir/credentials"

# A simulated fleet on its own hub, with its own clock: hours of bake time pass in seconds.
export AIOT_HUB="local:$dir/fleet.db"
step "$AIOT" sim fleet --devices 500 --seed 42

rollout_spec() { # NAME VERSION
  cat <<YAML
apiVersion: aiot.dev/v1
kind: Rollout
metadata: {name: $1}
spec:
  artifact: {name: detector, version: "$2", uri: "https://models.example/detector-$2.onnx", sha256: "$(printf '0%.0s' {1..64})"}
  baseline: {version: auto, control: matched, stratifyBy: [hw]}
  waves:
    - {name: canary, size: {percent: 40}, bake: {min: 2h, max: 4h}}
    - {name: all, size: {percent: 100}, bake: {min: 1h, max: 4h}}
  gates:
    - {name: install, type: outcome, successAtLeast: "95%", failureAbove: "5%", minSamples: 50}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
}
rollout_spec detector-3-0 3.0 > "$dir/good.yaml"
rollout_spec detector-2-1 2.1 > "$dir/bad.yaml"   # the simulator's 2.1 fails 15% of installs

step cat "$dir/good.yaml"
step "$AIOT" rollout plan -f "$dir/good.yaml"
step "$AIOT" rollout apply -f "$dir/good.yaml" --wait
step "$AIOT" rollout apply -f "$dir/bad.yaml" --wait || echo "(exit $?: the canary gate caught 2.1 and rolled it back)" >&2
step "$AIOT" rollout history detector-2-1
step "$AIOT" rollout audit verify detector-2-1
step "$AIOT" sim status

printf '\nDone. Hubs: %s (registered fleet) and %s (simulated fleet); credentials in %s (0600 keys);\n' \
  "$dir/hub.db" "$dir/fleet.db" "$dir/credentials" >&2
printf 'rollout journals in %s.\n' "$dir/fleet.db.journal" >&2
