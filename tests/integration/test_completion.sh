#!/usr/bin/env bash
# The generated completion scripts work in real shells, and the man pages render without warnings.
# bash: source completions/aiot.bash, set COMP_WORDS/COMP_CWORD and call _aiot, with `aiot` on PATH
# (dynamic values come from `aiot __complete`). zsh and fish: parse checks, plus the scripts' tables
# and completers driven directly, when those shells are installed (skipped visibly otherwise).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COMPLETIONS="$AIOT_SOURCE_DIR/completions"
MAN="$AIOT_SOURCE_DIR/man"

# `aiot` on PATH, as the scripts call it by the name the user typed.
mkdir -p "$TEST_TMP/bin"
ln -s "$AIOT" "$TEST_TMP/bin/aiot"
export PATH="$TEST_TMP/bin:$PATH"

# bash_complete WORD...: completes the last word of `WORD...` with the checked-in bash script and
# prints the candidates, one per line, sorted.
# With BASH_COMPLETION set, bash-completion's library is loaded first (the script then reads the
# words through _get_comp_words_by_ref, as in an interactive shell that has it).
bash_complete() {
  bash -c '
    script=$1
    shift
    [[ -n ${BASH_COMPLETION:-} ]] && source "$BASH_COMPLETION"
    source "$script"
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _aiot
    printf "%s\n" "${COMPREPLY[@]}"
  ' bash "$COMPLETIONS/aiot.bash" "$@" 2>/dev/null | LC_ALL=C sort
}

# expect_completion DESCRIPTION EXPECTED WORD...: EXPECTED is the sorted candidates joined by spaces.
expect_completion() {
  local description=$1 expected=$2
  shift 2
  RUN_CMD="complete: $*"
  local got
  got=$(bash_complete "$@" | tr '\n' ' ')
  expect_eq "$description" "$expected" "${got% }"
}

# ---- the checked-in scripts are what this binary prints ---------------------------------
for shell in bash zsh fish; do
  case $shell in
    bash) file=aiot.bash ;;
    zsh) file=_aiot ;;
    fish) file=aiot.fish ;;
  esac
  aiot completion "$shell"
  expect_code 0
  check "completions/$file is what 'aiot completion $shell' prints (else run: build/cmd/aiot __docs --man man --completions completions)" \
    cmp -s "$RUN_OUT" "$COMPLETIONS/$file"
done

# ---- bash ---------------------------------------------------------------------------------
check "aiot.bash registers _aiot once" test "$(grep -c '^complete -F _aiot aiot$' "$COMPLETIONS/aiot.bash")" = 1
expect_completion "aiot dev<TAB>" "device" aiot dev
expect_completion "aiot rollout st<TAB>" "status" aiot rollout st
expect_completion "aiot -o <TAB>" "csv json table yaml" aiot -o ""
expect_completion "aiot --output=<TAB> (bash splits at =)" "csv json table yaml" aiot --output = ""
expect_completion "a global flag after the verb: aiot device list -o j<TAB>" "json" aiot device list -o j
expect_completion "aliases: aiot device l<TAB>" "list ls" aiot device l
expect_completion "options of the verb: aiot device import --f<TAB>" "--file --format" aiot device import --f
expect_completion "choices of a verb's option: aiot device export --format <TAB>" "csv json jsonl" aiot device export --format ""
expect_completion "choices of a positional: aiot completion <TAB>" "bash fish zsh" aiot completion ""
expect_completion "hidden commands stay hidden: aiot __<TAB>" "" aiot __
expect_completion "a flag value is not a command: aiot --hub device d<TAB>" "demo device" aiot --hub device d

# Files where a file is expected.
touch "$TEST_TMP/fleet-a.csv" "$TEST_TMP/fleet-b.csv"
expect_completion "aiot device import -f fleet<TAB> completes files" "fleet-a.csv fleet-b.csv" aiot device import -f fleet

# Dynamic values: device ids from the hub, through `aiot __complete`.
aiot device register cam-1
expect_code 0
aiot device register cam-2
expect_code 0
aiot device register gw-1
expect_code 0
expect_completion "aiot device show <TAB> lists the devices" "cam-1 cam-2 gw-1" aiot device show ""
expect_completion "aiot device show ca<TAB>" "cam-1 cam-2" aiot device show ca
expect_completion "aiot device delete cam-1 <TAB>: every id of a repeatable argument" "cam-1 cam-2 gw-1" aiot device delete cam-1 ""
aiot --hub "local:$TEST_TMP/other.db" device register other-1
expect_code 0
expect_completion "--hub on the command line picks the hub asked" "other-1" aiot --hub "local:$TEST_TMP/other.db" device show ""
expect_completion "--hub=PATH too" "other-1" aiot device show --hub="local:$TEST_TMP/other.db" ""
expect_completion "a hub file that does not exist has no devices" "" aiot --hub "local:$TEST_TMP/none.db" device show ""
check "completing did not create that hub" test ! -e "$TEST_TMP/none.db"
expect_completion "device register takes a new id: nothing offered" "" aiot device register ""
expect_completion "profiles: aiot --profile <TAB>" "default" aiot --profile ""
expect_completion "rollouts: none yet" "" aiot rollout status ""
# A verb's own --profile (a simulator profile file) wins over the global one, as in CLI11.
touch "$TEST_TMP/profile-a.yaml"
expect_completion "aiot sim fleet --profile prof<TAB> completes files" "profile-a.yaml" aiot sim fleet --profile prof

BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [[ -r $BASH_COMPLETION ]]; then
  export BASH_COMPLETION
  expect_completion "bash-completion: aiot rollout st<TAB>" "status" aiot rollout st
  expect_completion "bash-completion: aiot --output=j<TAB>" "json" aiot --output = j
  expect_completion "bash-completion: aiot device show c<TAB>" "cam-1 cam-2" aiot device show c
  unset BASH_COMPLETION
else
  echo "SKIP: bash-completion is not installed: checked without its library" >&2
fi

# ---- zsh ----------------------------------------------------------------------------------
if command -v zsh >/dev/null 2>&1; then
  run zsh -n "$COMPLETIONS/_aiot"
  expect_code 0
  expect_empty_stderr
  # Drive _aiot outside a completion widget: compadd and _describe print what they are given.
  zsh_complete() {
    zsh -f -c '
      script=$1; shift
      compdef() { : }
      compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} }
      _describe() { print -rl -- ${(P)4} }
      _files() { print -r -- "(files)" }
      source "$script"
      words=("$@")
      CURRENT=$#
      _aiot
    ' zsh "$COMPLETIONS/_aiot" "$@" 2>&1 | LC_ALL=C sort | tr '\n' ' '
  }
  RUN_CMD="zsh: aiot dev<TAB>"
  got=$(zsh_complete aiot dev)
  check "zsh: aiot <TAB> offers device with its description" grep -q "device:Register, inspect and manage devices" <<<"$got"
  got=$(zsh_complete aiot -o "")
  expect_eq "zsh: aiot -o <TAB>" "csv json table yaml" "${got% }"
  got=$(zsh_complete aiot device show "")
  expect_eq "zsh: aiot device show <TAB>" "cam-1 cam-2 gw-1" "${got% }"
  got=$(zsh_complete aiot device import -f "")
  expect_eq "zsh: aiot device import -f <TAB>" "(files)" "${got% }"
else
  echo "SKIP: zsh is not installed: completions/_aiot not checked (apt-get install zsh)" >&2
fi

# ---- fish ---------------------------------------------------------------------------------
if command -v fish >/dev/null 2>&1; then
  run fish -n "$COMPLETIONS/aiot.fish"
  expect_code 0
  expect_empty_stderr
  # fish completes a command line non-interactively with `complete -C`.
  fish_complete() {
    fish --no-config -c "source $(printf '%q' "$COMPLETIONS/aiot.fish"); complete -C $(printf '%q' "$1")" 2>&1 |
      cut -f1 | LC_ALL=C sort | tr '\n' ' '
  }
  RUN_CMD="fish: complete -C"
  got=$(fish_complete "aiot dev")
  expect_eq "fish: aiot dev<TAB>" "device" "${got% }"
  got=$(fish_complete "aiot rollout st")
  expect_eq "fish: aiot rollout st<TAB>" "status" "${got% }"
  got=$(fish_complete "aiot -o ")
  expect_eq "fish: aiot -o <TAB>" "csv json table yaml" "${got% }"
  got=$(fish_complete "aiot device show ")
  expect_eq "fish: aiot device show <TAB>" "cam-1 cam-2 gw-1" "${got% }"
else
  echo "SKIP: fish is not installed: completions/aiot.fish not checked (apt-get install fish)" >&2
fi

# ---- man pages ----------------------------------------------------------------------------
if command -v man >/dev/null 2>&1; then
  run env MANWIDTH=100 MANPAGER=cat PAGER=cat man -l "$MAN/aiot.1"
  expect_code 0
  expect_stdout_contains "EXIT STATUS"
  expect_stdout_contains "aiot-device(1)"
  expect_empty_stderr
else
  echo "SKIP: man is not installed (apt-get install man-db)" >&2
fi
if command -v groff >/dev/null 2>&1; then
  run groff -ww -man -Tutf8 "$MAN"/*.1
  expect_code 0
  expect_empty_stderr
else
  echo "SKIP: groff is not installed (apt-get install groff-base)" >&2
fi
if command -v mandoc >/dev/null 2>&1; then
  run mandoc -T lint -W warning "$MAN"/*.1
  expect_code 0
  expect_empty_stdout
else
  echo "SKIP: mandoc is not installed: no lint of the man pages (apt-get install mandoc)" >&2
fi

finish
