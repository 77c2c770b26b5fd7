#!/usr/bin/env bash
# Secrets (SAS keys, private keys) never reach stdout or stderr unless --show-secrets asks for them;
# files holding them are 0600; issued certificates verify against the fleet CA; thumbprints match openssl.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v openssl >/dev/null || skip "openssl is not installed"

SECRETS_FILE="$TEST_TMP/secrets.txt" # one needle a line
: >"$SECRETS_FILE"

# add_secret VALUE: the value and its first 12 characters (a truncated table cell must not show it either).
add_secret() {
  [[ -n "$1" ]] || return 0
  printf '%s\n%s\n' "$1" "${1:0:12}" >>"$SECRETS_FILE"
}

# collect_key_files DIR: the SAS keys of every *.keys.json and the body lines of every private key PEM.
collect_key_files() {
  local f
  for f in "$1"/*.keys.json; do
    [[ -e "$f" ]] || continue
    add_secret "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$f")"
    add_secret "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secondaryKey"])' "$f")"
  done
  for f in "$1"/*key.pem; do
    [[ -e "$f" ]] || continue
    grep -v -- '-----' "$f" | while read -r line; do
      ((${#line} >= 16)) && add_secret "$line"
    done
  done
}

# expect_no_secrets: neither stream of the last run holds any needle, nor the words "PRIVATE KEY".
expect_no_secrets() {
  local stream leaked=""
  for stream in "$RUN_OUT" "$RUN_ERR"; do
    if grep -qF "PRIVATE KEY" "$stream"; then
      leaked+=" 'PRIVATE KEY' in $(basename "$stream")"
    fi
    if [[ -s "$SECRETS_FILE" ]] && grep -qFf "$SECRETS_FILE" "$stream"; then
      leaked+=" '$(grep -oFf "$SECRETS_FILE" "$stream" | head -n 1)' in $(basename "$stream")"
    fi
  done
  if [[ -z "$leaked" ]]; then
    pass "no secrets: $RUN_CMD"
  else
    fail "secret leaked:$leaked"
  fi
}

mode_of() { stat -c %a "$1"; }

# --- Make devices of every kind. -------------------------------------------------------------------
aiot ca create --name fleet --out ca
expect_code 0
expect_eq "CA key is 0600" 600 "$(mode_of ca/ca.key.pem)"
check "CA certificate exists" test -s ca/ca.cert.pem
collect_key_files ca
expect_no_secrets

aiot device register sas-1 --out-dir keys --tag site=berlin
expect_code 0
check "SAS keys file written" test -s keys/sas-1.keys.json
collect_key_files keys
expect_no_secrets
check "needles were collected" test "$(wc -l <"$SECRETS_FILE")" -ge 4

for fmt in json yaml csv; do
  aiot device register "sas-$fmt" --out-dir keys -o "$fmt"
  expect_code 0
  collect_key_files keys
  expect_no_secrets
done

run env AIOT_FORCE_TTY=1 "$AIOT" device register sas-tty --out-dir keys
expect_code 0
collect_key_files keys
expect_no_secrets

aiot device register ca-1 --auth x509-ca --ca ca --out-dir creds --tag site=paris
expect_code 0
aiot device register ca-2 --auth x509-ca --ca ca --out-dir creds -o json
expect_code 0
collect_key_files creds
expect_no_secrets

aiot device register self-1 --auth x509-self-signed --out-dir creds
expect_code 0
collect_key_files creds
expect_no_secrets

# A CSV with explicit keys: they are secrets too.
csv_primary=$(openssl rand -base64 32)
csv_secondary=$(openssl rand -base64 32)
add_secret "$csv_primary"
add_secret "$csv_secondary"
printf 'id,auth,primary_key,secondary_key,tags.site\ncsv-key-1,sas,%s,%s,rome\n' "$csv_primary" "$csv_secondary" >with-keys.csv
printf 'id,auth\ncsv-ca-1,x509-ca\ncsv-ca-2,x509-ca\n' >ca-devices.csv
for fmt in table json yaml csv; do
  aiot device import -f with-keys.csv --out-dir imported-keys -o "$fmt"
  expect_code 0
  expect_no_secrets
done
aiot -v device import -f ca-devices.csv --ca ca --out-dir creds
expect_code 0
collect_key_files creds
collect_key_files imported-keys
expect_no_secrets

# A row that fails still must not echo its key back in the error.
printf 'id,auth,primary_key,secondary_key\nbad id,sas,%s,%s\n' "$csv_primary" "$csv_secondary" >bad-with-keys.csv
aiot device import -f bad-with-keys.csv -o json
expect_code 2
expect_no_secrets

# --- Files holding secrets are 0600. ---------------------------------------------------------------
for f in keys/*.keys.json imported-keys/*.keys.json creds/*.key.pem; do
  expect_eq "$f is 0600" 600 "$(mode_of "$f")"
done
check "imported CSV keys were written to the out dir" grep -qF "$csv_primary" imported-keys/csv-key-1.keys.json

# --- Read paths never show them. -------------------------------------------------------------------
for fmt in table json yaml csv; do
  aiot device list -o "$fmt"
  expect_code 0
  expect_stdout_contains "sas-1"
  expect_no_secrets
  for id in sas-1 csv-key-1 ca-1 self-1; do
    aiot device show "$id" -o "$fmt"
    expect_code 0
    expect_no_secrets
  done
done
run env AIOT_FORCE_TTY=1 "$AIOT" device list
expect_no_secrets
run env AIOT_FORCE_TTY=1 "$AIOT" device show csv-key-1
expect_no_secrets

for fmt in csv jsonl; do
  aiot device export --format "$fmt"
  expect_code 0
  expect_stdout_contains "csv-key-1"
  expect_no_secrets
  aiot device export --format "$fmt" --out "export.$fmt"
  expect_code 0
  check "export.$fmt holds no secrets" bash -c '! grep -qFf "$1" "$2" && ! grep -qF "PRIVATE KEY" "$2"' _ "$SECRETS_FILE" "export.$fmt"
done

aiot config list
expect_code 0
expect_no_secrets
aiot config list -o json
expect_no_secrets

# --debug and -v traces are redacted too.
for flags in "--debug" "-v" "-vv" "--debug -v"; do
  # shellcheck disable=SC2086 # the flags are meant to split
  aiot $flags device show csv-key-1 -o json
  expect_code 0
  expect_no_secrets
  aiot $flags device list -o yaml
  expect_no_secrets
  aiot $flags device update sas-1 --tag "trace=${flags//[^a-z]/}"
  expect_code 0
  expect_no_secrets
  aiot $flags device import -f with-keys.csv
  expect_code 0
  expect_no_secrets
  aiot $flags device export --format jsonl
  expect_no_secrets
  aiot $flags device register "dbg${flags//[^a-z]/}" --out-dir keys
  expect_code 0
  collect_key_files keys
  expect_no_secrets
done

# --- Positive control: --show-secrets does print them (so the checks above can fail). ---------------
aiot device show csv-key-1 --show-secrets -o json
expect_code 0
expect_stdout_contains "$csv_primary"
expect_stdout_contains "$csv_secondary"
check "the needle list catches a shown key" grep -qFf "$SECRETS_FILE" "$RUN_OUT"
sas1_primary=$(python3 -c 'import json; print(json.load(open("keys/sas-1.keys.json"))["primaryKey"])')
aiot device show sas-1 --show-secrets
expect_code 0
expect_stdout_contains "$sas1_primary"
aiot device register shown-1 --show-secrets -o json
expect_code 0
expect_stdout_contains "primaryKey"

# --- Certificates: chain and thumbprints. ----------------------------------------------------------
for id in ca-1 ca-2 csv-ca-1; do
  run openssl verify -CAfile ca/ca.cert.pem "creds/$id.cert.pem"
  expect_code 0
  expect_stdout_contains ": OK"
done
# The self-signed one must NOT verify against the fleet CA (so the check above means something).
run openssl verify -CAfile ca/ca.cert.pem creds/self-1.cert.pem
check "self-signed cert does not chain to the fleet CA" test "$RUN_CODE" -ne 0

# The issued certificate's subject CN is the device id.
run openssl x509 -noout -subject -in creds/ca-1.cert.pem
expect_stdout_matches 'CN ?= ?ca-1'

# x509-self-signed with --cert: the recorded thumbprint is openssl's SHA-1 fingerprint without colons.
run openssl req -x509 -newkey rsa:2048 -nodes -keyout given.key.pem -out given.cert.pem -subj /CN=given-1 -days 30
expect_code 0
add_secret "$(sed -n 2p given.key.pem)"
want_sha1=$(openssl x509 -noout -fingerprint -sha1 -in given.cert.pem | sed 's/^.*=//; s/://g')
want_sha256=$(openssl x509 -noout -fingerprint -sha256 -in given.cert.pem | sed 's/^.*=//; s/://g')
aiot device register given-1 --auth x509-self-signed --cert given.cert.pem -o json
expect_code 0
expect_no_secrets
got_sha1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["x509Thumbprint"]["primaryThumbprint"])' "$RUN_OUT")
expect_eq "SHA-1 thumbprint matches openssl" "${want_sha1^^}" "${got_sha1^^}"
got_sha256=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["x509Thumbprint"].get("primaryThumbprintSha256",""))' "$RUN_OUT")
expect_eq "SHA-256 thumbprint matches openssl" "${want_sha256^^}" "${got_sha256^^}"
aiot device export --format csv
expect_stdout_contains "$want_sha1"

# A certificate whose CN is not the device id is refused.
aiot device register other-id --auth x509-self-signed --cert given.cert.pem
expect_code 2
expect_no_secrets

finish
