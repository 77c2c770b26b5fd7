#!/usr/bin/env bash
# Installs what aiot needs to build and test on Debian 12, with apt-get only. Idempotent: when
# everything is present it returns in well under a second without touching the network.
#   packaging/install-deps.sh              build and test dependencies
#   packaging/install-deps.sh --build-only what building needs (the tour, the Dockerfile)
#   packaging/install-deps.sh --runtime    only what the aiot binary needs to run
set -euo pipefail

runtime=(libcurl4 libssl3 libsqlite3-0 libyaml-cpp0.7 libfmt9 libsimdjson14 libavro23 libonnx1 libprotobuf32
         libcpp-httplib0.11 zlib1g openssl ca-certificates)
build=(build-essential cmake ninja-build ccache pkg-config git
       libcli11-dev libcurl4-openssl-dev nlohmann-json3-dev libfmt-dev libyaml-cpp-dev
       libboost-dev libboost-filesystem-dev doctest-dev libssl-dev libsqlite3-dev
       libcpp-httplib-dev libsimdjson-dev libavro-dev zlib1g-dev
       libonnx-dev libprotobuf-dev protobuf-compiler)
# Test peers and tools: the AWS CLI against the emulator, man/groff/mandoc for the man pages,
# bash-completion/zsh/fish for the completion scripts, chromium for the report's HTML, jsonschema
# for OpenLineage events, rpm and dpkg-dev for the packages, clang for the fuzz targets.
tests=(openssl python3 sqlite3 procps awscli man-db groff-base mandoc bash-completion zsh fish
       chromium python3-jsonschema rpm dpkg-dev file clang libclang-rt-14-dev)

wanted=("${runtime[@]}")
case "${1:-}" in
  --runtime) ;;
  --build-only) wanted+=("${build[@]}") ;;
  *) wanted+=("${build[@]}" "${tests[@]}") ;;
esac

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
