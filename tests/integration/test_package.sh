#!/usr/bin/env bash
# The packages users install: cpack builds a .deb (and .tar.gz, and .rpm when rpmbuild exists) with
# the binary, man pages, completions in their system places, licence and README; the .deb declares
# its runtime dependencies. As root (CI) the .deb is installed with dpkg, used, and removed again.
source "$(dirname "$0")/lib.sh"

[[ -n "${AIOT_BUILD_DIR:-}" && -f "$AIOT_BUILD_DIR/CPackConfig.cmake" ]] || skip "no CPackConfig.cmake in AIOT_BUILD_DIR"
command -v cpack >/dev/null || skip "cpack is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed (not a Debian system)"

out="$TEST_TMP/packages"
run cpack --config "$AIOT_BUILD_DIR/CPackConfig.cmake" -G "DEB;TGZ" -B "$out"
expect_code 0
deb=$(ls "$out"/aiot_*.deb 2>/dev/null | head -1)
tgz=$(ls "$out"/aiot-*.tar.gz 2>/dev/null | head -1)
check "a .deb was built" test -f "$deb"
check "a .tar.gz was built" test -f "$tgz"

run dpkg-deb -c "$deb"
for f in ./usr/bin/aiot ./usr/share/man/man1/aiot.1 ./usr/share/man/man1/aiot-rollout.1 \
         ./usr/share/bash-completion/completions/aiot ./usr/share/zsh/vendor-completions/_aiot \
         ./usr/share/fish/vendor_completions.d/aiot.fish ./usr/share/doc/aiot/LICENSE ./usr/share/doc/aiot/README.md; do
  expect_stdout_contains "$f"
done
run dpkg-deb -f "$deb" Depends
expect_code 0
for lib in libcurl4 libssl3 libsqlite3-0 libyaml-cpp0.7 libfmt9; do
  expect_stdout_contains "$lib"
done
run tar -tzf "$tgz"
expect_stdout_contains "/bin/aiot"
expect_stdout_contains "/share/man/man1/aiot.1"

if command -v rpmbuild >/dev/null; then
  run cpack --config "$AIOT_BUILD_DIR/CPackConfig.cmake" -G RPM -B "$out"
  expect_code 0
  rpm=$(ls "$out"/aiot-*.rpm 2>/dev/null | head -1)
  check "an .rpm was built" test -f "$rpm"
  run rpm -qpR "$rpm"
  expect_stdout_contains "libcurl.so.4"
else
  echo "note: rpmbuild is not installed: no .rpm checked" >&2
fi

# Installing for real needs root and a machine where that is fine (CI's is throwaway).
if [[ $(id -u) -eq 0 && "${AIOT_TEST_NO_INSTALL:-}" != 1 ]] && ! dpkg-query -W aiot >/dev/null 2>&1; then
  trap 'dpkg -r aiot >/dev/null 2>&1; on_exit' EXIT
  run dpkg -i "$deb"
  expect_code 0
  run /usr/bin/aiot --version
  expect_code 0
  expect_stdout_contains "aiot"
  run man -w aiot
  expect_code 0
  expect_stdout_contains "/usr/share/man/man1/aiot.1"
  run man -w aiot-rollout
  expect_code 0
  run dpkg -r aiot
  expect_code 0
  check "dpkg -r removes the binary" test ! -e /usr/bin/aiot
else
  echo "note: not root, or an aiot package is installed already: the dpkg -i step is skipped" >&2
fi

finish
