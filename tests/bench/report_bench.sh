#!/usr/bin/env bash
# Benchmark of `aiot report governance` (issue 7): 10,000 simulated devices, one week of hourly
# telemetry audited (plus the previous week as the drift reference), then the report in md, html and
# json. Target: <= 2 s after the audit; HTML <= 2 MB. Prints the numbers for RESULTS-report.md.
#
#   AIOT=build-release/cmd/aiot tests/bench/report_bench.sh [DEVICES]
set -euo pipefail
AIOT=${AIOT:-$(cd "$(dirname "$0")/../.." && pwd)/build/cmd/aiot}
DEVICES=${1:-10000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/aiot-report-bench.XXXXXX")
[[ -n "${BENCH_KEEP:-}" ]] || trap 'rm -rf "$dir"' EXIT
cd "$dir"
mkdir -p audits/w46 audits/w47
export AIOT_HUB="local:$dir/fleet.db" HOME="$dir" XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config"

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; }

echo "fleet:     $(t "$AIOT" sim fleet --devices "$DEVICES" --seed 1 --start 2026-11-16T00:00:00Z -q) s"
echo "telemetry: $(t "$AIOT" sim telemetry --out ref --hours 168 --interval 1h -q) s (W46)"
echo "audit:     $(t "$AIOT" lineage audit --input ref/data --out audits/w46/audit.json --profile-out audits/w46/profile.json --window 2026-11-09T00:00:00Z/2026-11-16T00:00:00Z --fail-on never -q) s (W46)"
echo "advance:   $(t "$AIOT" sim advance --to 2026-11-23T00:00:00Z -q) s"
echo "telemetry: $(t "$AIOT" sim telemetry --out cur --hours 168 --interval 1h --seed 2 --drift temperature:+3sd --bias site=tokyo:0.9 -q) s (W47)"
echo "audit:     $(t "$AIOT" lineage audit --input cur/data --out audits/w47/audit.json --profile-out audits/w47/profile.json --window 2026-11-16T00:00:00Z/2026-11-23T00:00:00Z --fail-on never -q) s (W47)"
ls -l audits/w47 | awk 'NR>1 {printf "%-32s %10d bytes\n", $9, $5}'
echo "records:   $(python3 -c "import json; print(json.load(open('audits/w47/audit.json'))['statistics']['records'])")"
cat > policy.yaml <<YAML
models: {detector: {approved: "2.0", modelCards: ["2.0"]}}
cost: {messagingPerMillionUnits: 1.0, computePerDeviceHour: 0.0001, budgetPerSite: 100}
carbon: {devicePowerW: {default: 5}, regions: {eu-central: DEU, eu-west: FRA, us-central: USA, us-east: USA, ap-northeast: JPN}}
YAML
for i in 1 2 3; do
  echo "report run $i: $(t "$AIOT" report governance --period 2026-W47 --format md,html,json --out reports --policy policy.yaml --audits audits --fail-on never -q) s (md,html,json)"
done
echo "report --no-hub: $(t "$AIOT" report governance --period 2026-W47 --format md,html,json --out reports --policy policy.yaml --audits audits --fail-on never -q --no-hub) s (without reading the registry)"
ls -l reports | awk 'NR>1 {printf "%-32s %10d bytes\n", $9, $5}'
/usr/bin/time -f "report max RSS %M KB, %e s wall, %U s user, %S s sys" "$AIOT" report governance --period 2026-W47 --format md,html,json --out reports --policy policy.yaml --audits audits --fail-on never -q >/dev/null
