#!/usr/bin/env bash
# The HTML report opens in headless Chromium without errors, renders a non-empty page and draws its
# charts: dump-dom holds the SVG paths, and the screenshot is not a single colour. Skips when
# chromium is absent.
source "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[[ -n "$CHROMIUM" && -x "$CHROMIUM" ]] || skip "chromium is not installed (Debian: apt-get install chromium)"

export AIOT_HUB="local:$TEST_TMP/fleet.db"
mkdir -p audits/w46 audits/w47
aiot sim fleet --devices 120 --seed 3 --start 2026-11-16T00:00:00Z
expect_code 0
aiot sim telemetry --out ref --hours 168 --interval 2h --seed 3
aiot lineage audit --input ref/data --out audits/w46/audit.json --profile-out audits/w46/profile.json --window 2026-11-09T00:00:00Z/2026-11-16T00:00:00Z --fail-on never
expect_code 0
aiot sim advance --to 2026-11-23T00:00:00Z
expect_code 0
aiot sim telemetry --out cur --hours 168 --interval 2h --seed 4 --drift temperature:+3sd --bias site=tokyo:0.9 --labels cur/labels.jsonl --label-rate 0.3
aiot lineage audit --input cur/data --out audits/w47/audit.json --profile-out audits/w47/profile.json --window 2026-11-16T00:00:00Z/2026-11-23T00:00:00Z --fail-on never
cat > policy.yaml <<YAML
models: {detector: {approved: "2.0", modelCards: ["2.0"]}}
cost: {messagingPerMillionUnits: 1.0, computePerDeviceHour: 0.0002, budgetPerSite: 1}
carbon: {devicePowerW: {default: 5}, regions: {eu-central: DEU, eu-west: FRA, us-central: USA, us-east: USA, ap-northeast: JPN}}
YAML
aiot report governance --period 2026-W47 --format html --out reports --policy policy.yaml --audits audits \
  --labels cur/labels.jsonl --decisions cur/data --fail-on never
expect_code 0
html="$TEST_TMP/reports/governance-2026-W47.html"
check "html written" test -s "$html"

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync
       --no-first-run --user-data-dir="$TEST_TMP/chromium-profile")
run timeout 60 "$CHROMIUM" "${flags[@]}" --dump-dom "file://$html"
expect_code 0
dom="$TEST_TMP/dom.html"
run_stdout > "$dom"
check "dump-dom holds the report" grep -q "Governance report 2026-W47" "$dom"
check "adoption line drawn (svg path)" grep -q 'class="series" d="M' "$dom"
check "bars drawn (drift, bias, cost, carbon)" test "$(grep -o 'class="bar"' "$dom" | wc -l)" -ge 8
check "confidence whiskers drawn" grep -q 'class="ci"' "$dom"
check "twelve sections" test "$(grep -o '<section id=' "$dom" | wc -l)" -eq 12
check "no network reference besides the SVG namespace" bash -c "! grep -o 'https\\?://[^\"< ]*' '$dom' | grep -v '^http://www.w3.org/2000/svg$'"

shot="$TEST_TMP/report.png"
run timeout 60 "$CHROMIUM" "${flags[@]}" --screenshot="$shot" --window-size=1200,3000 "file://$html"
expect_code 0
check "screenshot written" test -s "$shot"
# Decode the PNG (zlib + filters, no PIL) and count distinct colours: a blank page has one.
check "screenshot is not a single colour" python3 - "$shot" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, width, height, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ctype]
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
colours, dark = set(), 0
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, width, 4):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            if sum(px) < 200: dark += 1
print(f"{width}x{height}, {len(colours)} colours sampled, {dark} dark samples", file=sys.stderr)
sys.exit(0 if len(colours) > 20 and dark > 100 else 1)
PY
if [[ -n "${REPORT_SCREENSHOT_OUT:-}" ]]; then cp "$shot" "$REPORT_SCREENSHOT_OUT"; fi
finish
