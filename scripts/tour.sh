#!/usr/bin/env bash
# The tour: `aiot demo` runs the whole mission on the embedded local hub in a fresh folder (fleet CA,
# X.509 devices, a simulated fleet, a good rollout in waves, a bad one the canary gate rolls back, a
# week of telemetry with defects, its lineage audit and the governance report), printing every
# command before it runs so you can replay it. AIOT picks the binary; the arguments go to `aiot demo`
# (default folder ./aiot-demo; e.g. scripts/tour.sh --dir /tmp/tour --devices 1000). The tour may be
# run again: it passes --force, which empties only a folder an earlier demo made.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
AIOT=${AIOT:-$here/build/cmd/aiot}
if [[ ! -x "$AIOT" ]]; then
  echo "tour: no aiot binary at $AIOT: build it first (cmake --build build), or set AIOT" >&2
  exit 1
fi
args=("$@")
[[ " $* " == *" --force "* ]] || args+=(--force)
exec "$AIOT" demo "${args[@]}"
