#!/usr/bin/env bash
# Artifact signatures checked by OpenSSL's own CLI, as a device or a CI job without aiot would:
# `aiot model sign --signature-out --statement-out` writes the detached signature and the signed
# statement; `openssl pkeyutl -verify` must accept them (Ed25519 and ECDSA P-256), and reject them
# after one flipped byte in the signature or the statement. `aiot model verify` agrees (exit 3).
source "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || skip "openssl is not installed"
command -v protoc >/dev/null || skip "protoc is not installed (needed to encode the test ONNX model)"
ONNX_PROTO=/usr/include/onnx/onnx.proto
[[ -f $ONNX_PROTO ]] || skip "$ONNX_PROTO is missing (libonnx-dev)"

# A tiny ONNX model: input float[1,3,224,224] -> Relu -> output, encoded from protobuf text.
cat >tiny.txtpb <<'PB'
ir_version: 8
producer_name: "openssl-test"
opset_import { domain: "" version: 13 }
graph {
  name: "tiny"
  node { op_type: "Relu" input: "image" output: "probs" }
  input { name: "image" type { tensor_type { elem_type: 1 shape { dim { dim_value: 1 } dim { dim_value: 3 } dim { dim_value: 224 } dim { dim_value: 224 } } } } }
  output { name: "probs" type { tensor_type { elem_type: 1 shape { dim { dim_value: 1 } dim { dim_value: 3 } dim { dim_value: 224 } dim { dim_value: 224 } } } } }
}
PB
protoc -I"$(dirname $ONNX_PROTO)" --encode=onnx.ModelProto "$ONNX_PROTO" <tiny.txtpb >tiny.onnx || skip "protoc could not encode the model"

# flip FILE OFFSET: xor one byte of FILE in place.
flip() {
  python3 - "$1" "$2" <<'PY'
import sys
path, offset = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
data[offset] ^= 0x01
open(path, "wb").write(bytes(data))
PY
}

aiot model add tiny.onnx --name tiny --version 1.0.0 -o json
expect_code 0
expect_stdout_contains '"irVersion":8'

for algorithm in ed25519 ecdsa-p256; do
  key="key-$algorithm.pem"
  pub="key-$algorithm.pub.pem"
  aiot model keygen --out "$key" --algorithm "$algorithm"
  expect_code 0
  expect_stdout_not_contains "PRIVATE KEY"
  expect_stderr_not_contains "PRIVATE KEY"
  expect_eq "$key is 0600" 600 "$(stat -c %a "$key")"

  aiot model sign tiny 1.0.0 --key "$key" --signature-out "sig-$algorithm.bin" --statement-out "statement-$algorithm.json"
  expect_code 0
  # The key id aiot prints is the SHA-256 of the DER public key, as OpenSSL computes it.
  want_id="sha256:$(openssl pkey -pubin -in "$pub" -outform DER | sha256sum | cut -d' ' -f1)"
  expect_stderr_contains "$want_id"

  digest_args=()
  [[ $algorithm == ecdsa-p256 ]] && digest_args=(-digest sha256)
  run openssl pkeyutl -verify -pubin -inkey "$pub" -rawin "${digest_args[@]}" -in "statement-$algorithm.json" -sigfile "sig-$algorithm.bin"
  expect_code 0
  expect_stdout_contains "Signature Verified Successfully"

  # The statement names the file's digest: what a device checks after the download.
  expect_eq "statement carries the file's sha256 ($algorithm)" "$(sha256sum tiny.onnx | cut -d' ' -f1)" \
    "$(jq -r .sha256 "statement-$algorithm.json")"

  cp "sig-$algorithm.bin" flipped.bin
  flip flipped.bin 10
  run openssl pkeyutl -verify -pubin -inkey "$pub" -rawin "${digest_args[@]}" -in "statement-$algorithm.json" -sigfile flipped.bin
  check "openssl rejects a flipped signature byte ($algorithm)" test "$RUN_CODE" -ne 0

  cp "statement-$algorithm.json" flipped.json
  flip flipped.json 20
  run openssl pkeyutl -verify -pubin -inkey "$pub" -rawin "${digest_args[@]}" -in flipped.json -sigfile "sig-$algorithm.bin"
  check "openssl rejects a flipped statement byte ($algorithm)" test "$RUN_CODE" -ne 0

  aiot model verify tiny 1.0.0 --key "$pub"
  expect_code 0
done

# aiot verify agrees: a flipped byte in the artifact is exit 3 (a negative verdict).
cp tiny.onnx tampered.onnx
flip tampered.onnx 40
aiot model verify tiny 1.0.0 --key key-ecdsa-p256.pub.pem --file tampered.onnx
expect_code 3
expect_stderr_contains "SHA-256"

# The last signature (P-256) replaced the first: the Ed25519 key no longer verifies it.
aiot model verify tiny 1.0.0 --key key-ed25519.pub.pem
expect_code 3

# A world-readable private key is refused before anything is signed.
chmod 644 key-ed25519.pem
aiot model sign tiny 1.0.0 --key key-ed25519.pem
expect_code 2
expect_stderr_contains "chmod 600"

# Not an ONNX model: exit 2 with the file name.
printf 'not a model\n' >notes.txt
aiot model add notes.txt --name tiny --version 2.0.0
expect_code 2
expect_stderr_contains "notes.txt: not a valid ONNX model"

finish
