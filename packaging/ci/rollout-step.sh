#!/usr/bin/env bash
# A CI step in plain shell: apply a rollout, wait for its verdict, map aiot's exit code to the
# pipeline's result. Usage: rollout-step.sh SPEC [TIMEOUT]
set -uo pipefail
spec=${1:?usage: rollout-step.sh SPEC [TIMEOUT]}
timeout=${2:-6h}
aiot rollout apply -f "$spec" --wait --timeout "$timeout" -o json >result.json
code=$?
case $code in
  0) echo "rollout succeeded" ;;
  3) echo "a health gate failed: the fleet was rolled back (see: aiot rollout history)" >&2 ;;
  6) echo "still pending: waiting for approval or the timeout ran out; the rollout goes on" >&2 ;;
  4) echo "credentials were refused" >&2 ;;
  5) echo "the hub could not be reached" >&2 ;;
  *) echo "aiot failed (exit $code)" >&2 ;;
esac
exit $code
