#!/usr/bin/env bash
# End to end on the simulator: a week (2026-W47) with a rolled-back bad version (the built-in 2.1
# fails 15 % of installs), a drifting field (temperature +3 sd), a biased segment (site tokyo) and
# an over-budget site (tokyo, from a billing CSV). The governance report must show each of them and
# exit 3; two runs give identical bytes; the previous week's report in the folder gives "changes".
source "$(dirname "$0")/lib.sh"

export AIOT_HUB="local:$TEST_TMP/fleet.db"
mkdir -p audits/w46 audits/w47

# A fleet at the start of W47, and its telemetry of W46 (before anything changed): the reference.
aiot sim fleet --devices 240 --seed 7 --start 2026-11-16T00:00:00Z
expect_code 0
aiot sim telemetry --out ref --hours 168 --interval 1h --seed 7
expect_code 0
aiot lineage audit --input ref/data --out audits/w46/audit.json --profile-out audits/w46/profile.json --window 2026-11-09T00:00:00Z/2026-11-16T00:00:00Z --fail-on never
expect_code 0

# The bad version: the canary gate catches 2.1's install failures and rolls it back.
cat > bad.yaml <<YAML
apiVersion: aiot.dev/v1
kind: Rollout
metadata: {name: detector-2-1}
spec:
  artifact: {name: detector, version: "2.1", uri: "https://models.example/detector-2.1.onnx", sha256: "$(printf '0%.0s' {1..64})"}
  baseline: {version: auto, control: matched, stratifyBy: [hw]}
  waves:
    - {name: canary, size: {percent: 40}, bake: {min: 2h, max: 4h}}
    - {name: all, size: {percent: 100}, bake: {min: 1h, max: 4h}}
  gates:
    - {name: install, type: outcome, successAtLeast: "95%", failureAbove: "5%", minSamples: 20}
  analysis: {interval: 1h, warmup: 30m}
  onFailure: {action: rollback}
YAML
aiot rollout apply -f bad.yaml --wait --allow-underpowered
expect_code 3
aiot sim advance --to 2026-11-23T00:00:00Z
expect_code 0

# W47's telemetry with the drift and the bias, labels for a sample, and its audit.
aiot sim telemetry --out cur --hours 168 --interval 1h --seed 7 --drift temperature:+3sd --bias site=tokyo:0.9 --labels cur/labels.jsonl --label-rate 0.3
expect_code 0
aiot lineage audit --input cur/data --out audits/w47/audit.json --profile-out audits/w47/profile.json --window 2026-11-16T00:00:00Z/2026-11-23T00:00:00Z --fail-on never
expect_code 0

cat > billing.csv <<CSV
date,service,category,site,model_version,cost,currency
2026-11-17,iothub,messaging,,,14.00,USD
2026-11-18,compute,compute,tokyo,2.0,180.00,USD
2026-11-18,compute,compute,berlin,2.0,9.00,USD
2026-11-19,storage,storage,,,3.50,USD
CSV
cat > policy.yaml <<YAML
apiVersion: aiot.dev/v1
kind: GovernancePolicy
# favourable = "0" (no alert raised): the biased site gets far more false alerts, so its rate of the
# favourable outcome falls below four fifths of the others'.
models: {detector: {approved: "2.0", modelCards: ["2.0"], favourable: "0"}}
cost: {currency: USD, budgetPerSite: 50}
carbon: {devicePowerW: {default: 5, pi5: 8}, regions: {eu-central: DEU, eu-west: FRA, us-central: USA, us-east: USA, ap-northeast: JPN}}
rules:
  - {id: journal-verified, severity: error}
  - {id: canary-before-full, minHours: 24, severity: error}
  - {id: drift-error-blocks-promotion, severity: error}
  - {id: bias-four-fifths, severity: error}
  - {id: cost-within-budget, severity: error}
YAML

report() { # PERIOD
  aiot report governance --period "$1" --format md,html,json,modelcard --out reports --policy policy.yaml --audits audits \
    --labels cur/labels.jsonl --decisions cur/data --billing billing.csv
}

# Last week's report first, so this week's shows what changed.
report 2026-W46
check "W46 report written" test -s reports/governance-2026-W46.json

report 2026-W47
expect_code 3
expect_stderr_contains "fails its policy at --fail-on error"
md=reports/governance-2026-W47.md
check "markdown, html, json and a model card written" test -s "$md" -a -s reports/governance-2026-W47.html -a -s reports/governance-2026-W47.json -a -s reports/modelcard-2026-W47-detector-2.0.json
check "the rolled-back version is shown" grep -q "rollout detector-2-1 (2.0 → 2.1) was rolled back" "$md"
check "the journal chain is verified" grep -q "journals verified" "$md"
check "the drifting field is shown as major drift" grep -q "temperature on model version 2.0: PSI .* (major drift)" "$md"
check "humidity does not drift" bash -c "! grep -q 'humidity on model version 2.0: PSI' $md"
check "the biased segment is shown" grep -q "| tokyo | " "$md"
check "the biased segment fails the four-fifths rule" grep -q "site = tokyo: disparate impact" "$md"
check "only the biased site is flagged" bash -c "! grep -q 'site = berlin: disparate impact' $md"
check "equalized odds flags the segment" grep -q "equalized odds difference" "$md"
check "the over-budget site is shown" grep -q "site tokyo spent" "$md"
check "berlin is within budget" bash -c "! grep -q 'site berlin spent' $md"
check "changes since the previous week" grep -q "Changes since 2026-W46" "$md"
check "data health from the audit" grep -q "## 4. Data health — " "$md"
check "evidence lists the audit's hash" grep -q "| audit | audits/w47/audit.json |" "$md"
json=reports/governance-2026-W47.json
check "json schema aiot.report/v1" grep -q '"schema": "aiot.report/v1"' "$json"
check "json verdict error" python3 -c "import json,sys; d=json.load(open('$json')); sys.exit(0 if d['verdict']['level']=='error' else 1)"
check "failed rules: bias and cost" python3 -c "
import json,sys
d=json.load(open('$json')); ids={r['id'] for r in d['verdict']['failedRules']}
sys.exit(0 if {'bias-four-fifths','cost-within-budget'} <= ids else 1)"

# Determinism: a second run over the same inputs gives the same bytes (and replaces the files).
mkdir -p first && cp reports/governance-2026-W47.* reports/modelcard-2026-W47-* first/
report 2026-W47
expect_code 3
for f in first/*; do
  check "identical bytes: $(basename "$f")" cmp -s "$f" "reports/$(basename "$f")"
done

# --fail-on never: same report, exit 0; a bad period is a usage error.
aiot report governance --period 2026-W47 --format json --out reports --policy policy.yaml --audits audits --fail-on never
expect_code 0
aiot report governance --period 2026-W99 --out reports
expect_code 2
finish
