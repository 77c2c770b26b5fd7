#!/usr/bin/env bash
# The tour of what aiot does today, on the embedded local hub in a fresh folder: create a fleet CA,
# register a small fleet (X.509 signed by the CA, and SAS), then look at it. Every command is
# printed before it runs so you can replay it. Later work extends this into the full mission
# (rollout with a gate that rolls back, lineage audit, governance report).
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

printf '\nDone. The hub is %s; credentials are in %s (0600 keys).\n' "$dir/hub.db" "$dir/credentials" >&2
