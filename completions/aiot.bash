# shellcheck shell=bash
# bash completion for aiot.
# Generated from the command tree by `aiot __docs`: do not edit. Regenerate with
#   build/cmd/aiot __docs --man man --completions completions
# Install for one user: aiot completion bash > ~/.local/share/bash-completion/completions/aiot

# _aiot_child PATH WORD: the name of subcommand WORD (a name or an alias) of command PATH.
_aiot_child() {
  case "$1|$2" in
    '|device') printf '%s\n' 'device' ;;
    '|ca') printf '%s\n' 'ca' ;;
    '|config') printf '%s\n' 'config' ;;
    '|rollout') printf '%s\n' 'rollout' ;;
    '|sim') printf '%s\n' 'sim' ;;
    '|hub') printf '%s\n' 'hub' ;;
    '|help') printf '%s\n' 'help' ;;
    '|completion') printf '%s\n' 'completion' ;;
    '|lineage') printf '%s\n' 'lineage' ;;
    '|report') printf '%s\n' 'report' ;;
    '|model') printf '%s\n' 'model' ;;
    '|firmware') printf '%s\n' 'firmware' ;;
    '|demo') printf '%s\n' 'demo' ;;
    'device|register') printf '%s\n' 'register' ;;
    'device|import') printf '%s\n' 'import' ;;
    'device|list' | 'device|ls') printf '%s\n' 'list' ;;
    'device|count') printf '%s\n' 'count' ;;
    'device|show') printf '%s\n' 'show' ;;
    'device|update') printf '%s\n' 'update' ;;
    'device|delete' | 'device|rm') printf '%s\n' 'delete' ;;
    'device|export') printf '%s\n' 'export' ;;
    'ca|create') printf '%s\n' 'create' ;;
    'ca|show') printf '%s\n' 'show' ;;
    'config|list' | 'config|ls') printf '%s\n' 'list' ;;
    'config|get') printf '%s\n' 'get' ;;
    'config|set') printf '%s\n' 'set' ;;
    'config|profiles') printf '%s\n' 'profiles' ;;
    'config|use') printf '%s\n' 'use' ;;
    'rollout|plan') printf '%s\n' 'plan' ;;
    'rollout|apply') printf '%s\n' 'apply' ;;
    'rollout|status') printf '%s\n' 'status' ;;
    'rollout|list' | 'rollout|ls') printf '%s\n' 'list' ;;
    'rollout|approve') printf '%s\n' 'approve' ;;
    'rollout|deny') printf '%s\n' 'deny' ;;
    'rollout|pause') printf '%s\n' 'pause' ;;
    'rollout|resume') printf '%s\n' 'resume' ;;
    'rollout|promote') printf '%s\n' 'promote' ;;
    'rollout|abort') printf '%s\n' 'abort' ;;
    'rollout|rollback') printf '%s\n' 'rollback' ;;
    'rollout|reconcile') printf '%s\n' 'reconcile' ;;
    'rollout|history') printf '%s\n' 'history' ;;
    'rollout|audit') printf '%s\n' 'audit' ;;
    'rollout audit|verify') printf '%s\n' 'verify' ;;
    'sim|fleet') printf '%s\n' 'fleet' ;;
    'sim|advance') printf '%s\n' 'advance' ;;
    'sim|status') printf '%s\n' 'status' ;;
    'sim|telemetry') printf '%s\n' 'telemetry' ;;
    'hub|serve') printf '%s\n' 'serve' ;;
    'lineage|audit') printf '%s\n' 'audit' ;;
    'lineage|merge') printf '%s\n' 'merge' ;;
    'report|governance') printf '%s\n' 'governance' ;;
    'model|add') printf '%s\n' 'add' ;;
    'model|sign') printf '%s\n' 'sign' ;;
    'model|verify') printf '%s\n' 'verify' ;;
    'model|list' | 'model|ls') printf '%s\n' 'list' ;;
    'model|show') printf '%s\n' 'show' ;;
    'model|diff') printf '%s\n' 'diff' ;;
    'model|card') printf '%s\n' 'card' ;;
    'model|keygen') printf '%s\n' 'keygen' ;;
    'firmware|add') printf '%s\n' 'add' ;;
    'firmware|sign') printf '%s\n' 'sign' ;;
    'firmware|verify') printf '%s\n' 'verify' ;;
    'firmware|list' | 'firmware|ls') printf '%s\n' 'list' ;;
    'firmware|show') printf '%s\n' 'show' ;;
    'firmware|diff') printf '%s\n' 'diff' ;;
    'firmware|card') printf '%s\n' 'card' ;;
    'firmware|keygen') printf '%s\n' 'keygen' ;;
  esac
}

# _aiot_commands PATH: the subcommands of PATH, aliases included.
_aiot_commands() {
  case "$1" in
    '') printf '%s\n' 'device ca config rollout sim hub help completion lineage report model firmware demo' ;;
    'device') printf '%s\n' 'register import list ls count show update delete rm export' ;;
    'ca') printf '%s\n' 'create show' ;;
    'config') printf '%s\n' 'list ls get set profiles use' ;;
    'rollout') printf '%s\n' 'plan apply status list ls approve deny pause resume promote abort rollback reconcile history audit' ;;
    'rollout audit') printf '%s\n' 'verify' ;;
    'sim') printf '%s\n' 'fleet advance status telemetry' ;;
    'hub') printf '%s\n' 'serve' ;;
    'lineage') printf '%s\n' 'audit merge' ;;
    'report') printf '%s\n' 'governance' ;;
    'model') printf '%s\n' 'add sign verify list ls show diff card keygen' ;;
    'firmware') printf '%s\n' 'add sign verify list ls show diff card keygen' ;;
  esac
}

# _aiot_options PATH: the options of PATH itself; the global ones are in _aiot_globals.
_aiot_options() {
  case "$1" in
    'device register') printf '%s\n' '--auth --cert --ca --tag --out-dir --days --disabled --show-secrets' ;;
    'device import') printf '%s\n' '-f --file --format --update --ca --out-dir --days' ;;
    'device list') printf '%s\n' '-w --where --tag -n --limit' ;;
    'device count') printf '%s\n' '-w --where --tag -b --by' ;;
    'device show') printf '%s\n' '--show-secrets' ;;
    'device update') printf '%s\n' '--tag --untag --desired --disable --enable --if-match' ;;
    'device delete') printf '%s\n' '--missing-ok' ;;
    'device export') printf '%s\n' '--format --out -w --where' ;;
    'ca create') printf '%s\n' '--name --out --days' ;;
    'config list') printf '%s\n' '--show-origin' ;;
    'config set') printf '%s\n' '--profile' ;;
    'rollout plan') printf '%s\n' '-f --file --out --allow-underpowered --allow-breaking --require-signature' ;;
    'rollout apply') printf '%s\n' '-f --file --wait --timeout --detach --steal-lease --allow-underpowered --allow-breaking --require-signature' ;;
    'rollout status') printf '%s\n' '-w --watch' ;;
    'rollout approve') printf '%s\n' '--remark' ;;
    'rollout deny') printf '%s\n' '--remark' ;;
    'rollout pause') printf '%s\n' '--remark' ;;
    'rollout resume') printf '%s\n' '--remark' ;;
    'rollout promote') printf '%s\n' '--remark --full' ;;
    'rollout abort') printf '%s\n' '--remark -h --help --revert --keep' ;;
    'rollout rollback') printf '%s\n' '--remark' ;;
    'rollout reconcile') printf '%s\n' '--all --steal-lease' ;;
    'rollout audit verify') printf '%s\n' '--journal' ;;
    'sim fleet') printf '%s\n' '-n --devices --profile --seed --prefix --start --print-default-profile' ;;
    'sim advance') printf '%s\n' '--to' ;;
    'sim telemetry') printf '%s\n' '--out --hours --format --seed --interval --batch --defects --drift --bias --labels --label-rate --iothub --gzip --force' ;;
    'hub serve') printf '%s\n' '--api --port --bind --allow-non-loopback --port-file --credentials-out --throttle --faults --seed' ;;
    'lineage audit') printf '%s\n' '-i --input --format --window --schemas --registry --journal --baseline --policy --openlineage --out --profile-out --fail-on --examples --threads' ;;
    'lineage merge') printf '%s\n' '--out --openlineage' ;;
    'report governance') printf '%s\n' '--period --out --format --policy --audits --labels --decisions --billing --energy --intensity --fail-on --no-hub' ;;
    'model add') printf '%s\n' '--name --version --uri --sign-key --card --triton --triton-version --triton-max-batch' ;;
    'model sign') printf '%s\n' '-k --key --signature-out --statement-out' ;;
    'model verify') printf '%s\n' '-k --key --file' ;;
    'model diff') printf '%s\n' '--fail-on-breaking' ;;
    'model card') printf '%s\n' '--metrics --out' ;;
    'model keygen') printf '%s\n' '--out --public-out --algorithm --force' ;;
    'firmware add') printf '%s\n' '--name --version --uri --sign-key' ;;
    'firmware sign') printf '%s\n' '-k --key --signature-out --statement-out' ;;
    'firmware verify') printf '%s\n' '-k --key --file' ;;
    'firmware diff') printf '%s\n' '--fail-on-breaking' ;;
    'firmware card') printf '%s\n' '--metrics --out' ;;
    'firmware keygen') printf '%s\n' '--out --public-out --algorithm --force' ;;
    'demo') printf '%s\n' '--dir -n --devices --keep --force' ;;
  esac
}
_aiot_globals='-h --help --profile --hub -o --output --config --cacert --no-color -q --quiet -v --verbose --debug -y --yes --version'

# _aiot_option_kind PATH OPTION: flag, text, file, directory, profiles, devices, rollouts or
# choice:VALUES; nothing for an unknown option. A verb's own options first (CLI11 matches them
# first), then the global ones: they work after any verb.
_aiot_option_kind() {
  case "$1|$2" in
    'device register|--auth') printf '%s\n' 'choice:sas x509-self-signed x509-ca aws-generated'; return ;;
    'device register|--cert') printf '%s\n' 'file'; return ;;
    'device register|--ca') printf '%s\n' 'directory'; return ;;
    'device register|--tag') printf '%s\n' 'text'; return ;;
    'device register|--out-dir') printf '%s\n' 'directory'; return ;;
    'device register|--days') printf '%s\n' 'text'; return ;;
    'device register|--disabled') printf '%s\n' 'flag'; return ;;
    'device register|--show-secrets') printf '%s\n' 'flag'; return ;;
    'device import|-f' | 'device import|--file') printf '%s\n' 'file'; return ;;
    'device import|--format') printf '%s\n' 'choice:csv yaml yml jsonl ndjson json'; return ;;
    'device import|--update') printf '%s\n' 'flag'; return ;;
    'device import|--ca') printf '%s\n' 'directory'; return ;;
    'device import|--out-dir') printf '%s\n' 'directory'; return ;;
    'device import|--days') printf '%s\n' 'text'; return ;;
    'device list|-w' | 'device list|--where') printf '%s\n' 'text'; return ;;
    'device list|--tag') printf '%s\n' 'text'; return ;;
    'device list|-n' | 'device list|--limit') printf '%s\n' 'text'; return ;;
    'device count|-w' | 'device count|--where') printf '%s\n' 'text'; return ;;
    'device count|--tag') printf '%s\n' 'text'; return ;;
    'device count|-b' | 'device count|--by') printf '%s\n' 'text'; return ;;
    'device show|--show-secrets') printf '%s\n' 'flag'; return ;;
    'device update|--tag') printf '%s\n' 'text'; return ;;
    'device update|--untag') printf '%s\n' 'text'; return ;;
    'device update|--desired') printf '%s\n' 'text'; return ;;
    'device update|--disable') printf '%s\n' 'flag'; return ;;
    'device update|--enable') printf '%s\n' 'flag'; return ;;
    'device update|--if-match') printf '%s\n' 'text'; return ;;
    'device delete|--missing-ok') printf '%s\n' 'flag'; return ;;
    'device export|--format') printf '%s\n' 'choice:csv jsonl json'; return ;;
    'device export|--out') printf '%s\n' 'file'; return ;;
    'device export|-w' | 'device export|--where') printf '%s\n' 'text'; return ;;
    'ca create|--name') printf '%s\n' 'text'; return ;;
    'ca create|--out') printf '%s\n' 'directory'; return ;;
    'ca create|--days') printf '%s\n' 'text'; return ;;
    'config list|--show-origin') printf '%s\n' 'flag'; return ;;
    'config set|--profile') printf '%s\n' 'profiles'; return ;;
    'rollout plan|-f' | 'rollout plan|--file') printf '%s\n' 'file'; return ;;
    'rollout plan|--out') printf '%s\n' 'file'; return ;;
    'rollout plan|--allow-underpowered') printf '%s\n' 'flag'; return ;;
    'rollout plan|--allow-breaking') printf '%s\n' 'flag'; return ;;
    'rollout plan|--require-signature') printf '%s\n' 'flag'; return ;;
    'rollout apply|-f' | 'rollout apply|--file') printf '%s\n' 'file'; return ;;
    'rollout apply|--wait') printf '%s\n' 'flag'; return ;;
    'rollout apply|--timeout') printf '%s\n' 'text'; return ;;
    'rollout apply|--detach') printf '%s\n' 'flag'; return ;;
    'rollout apply|--steal-lease') printf '%s\n' 'flag'; return ;;
    'rollout apply|--allow-underpowered') printf '%s\n' 'flag'; return ;;
    'rollout apply|--allow-breaking') printf '%s\n' 'flag'; return ;;
    'rollout apply|--require-signature') printf '%s\n' 'flag'; return ;;
    'rollout status|-w' | 'rollout status|--watch') printf '%s\n' 'flag'; return ;;
    'rollout approve|--remark') printf '%s\n' 'text'; return ;;
    'rollout deny|--remark') printf '%s\n' 'text'; return ;;
    'rollout pause|--remark') printf '%s\n' 'text'; return ;;
    'rollout resume|--remark') printf '%s\n' 'text'; return ;;
    'rollout promote|--remark') printf '%s\n' 'text'; return ;;
    'rollout promote|--full') printf '%s\n' 'flag'; return ;;
    'rollout abort|--remark') printf '%s\n' 'text'; return ;;
    'rollout abort|-h' | 'rollout abort|--help') printf '%s\n' 'flag'; return ;;
    'rollout abort|--revert') printf '%s\n' 'flag'; return ;;
    'rollout abort|--keep') printf '%s\n' 'flag'; return ;;
    'rollout rollback|--remark') printf '%s\n' 'text'; return ;;
    'rollout reconcile|--all') printf '%s\n' 'flag'; return ;;
    'rollout reconcile|--steal-lease') printf '%s\n' 'flag'; return ;;
    'rollout audit verify|--journal') printf '%s\n' 'file'; return ;;
    'sim fleet|-n' | 'sim fleet|--devices') printf '%s\n' 'text'; return ;;
    'sim fleet|--profile') printf '%s\n' 'file'; return ;;
    'sim fleet|--seed') printf '%s\n' 'text'; return ;;
    'sim fleet|--prefix') printf '%s\n' 'text'; return ;;
    'sim fleet|--start') printf '%s\n' 'text'; return ;;
    'sim fleet|--print-default-profile') printf '%s\n' 'flag'; return ;;
    'sim advance|--to') printf '%s\n' 'text'; return ;;
    'sim telemetry|--out') printf '%s\n' 'file'; return ;;
    'sim telemetry|--hours') printf '%s\n' 'text'; return ;;
    'sim telemetry|--format') printf '%s\n' 'text'; return ;;
    'sim telemetry|--seed') printf '%s\n' 'text'; return ;;
    'sim telemetry|--interval') printf '%s\n' 'text'; return ;;
    'sim telemetry|--batch') printf '%s\n' 'text'; return ;;
    'sim telemetry|--defects') printf '%s\n' 'text'; return ;;
    'sim telemetry|--drift') printf '%s\n' 'text'; return ;;
    'sim telemetry|--bias') printf '%s\n' 'text'; return ;;
    'sim telemetry|--labels') printf '%s\n' 'text'; return ;;
    'sim telemetry|--label-rate') printf '%s\n' 'text'; return ;;
    'sim telemetry|--iothub') printf '%s\n' 'text'; return ;;
    'sim telemetry|--gzip') printf '%s\n' 'flag'; return ;;
    'sim telemetry|--force') printf '%s\n' 'flag'; return ;;
    'hub serve|--api') printf '%s\n' 'choice:azure aws'; return ;;
    'hub serve|--port') printf '%s\n' 'text'; return ;;
    'hub serve|--bind') printf '%s\n' 'text'; return ;;
    'hub serve|--allow-non-loopback') printf '%s\n' 'flag'; return ;;
    'hub serve|--port-file') printf '%s\n' 'file'; return ;;
    'hub serve|--credentials-out') printf '%s\n' 'file'; return ;;
    'hub serve|--throttle') printf '%s\n' 'text'; return ;;
    'hub serve|--faults') printf '%s\n' 'text'; return ;;
    'hub serve|--seed') printf '%s\n' 'text'; return ;;
    'lineage audit|-i' | 'lineage audit|--input') printf '%s\n' 'directory'; return ;;
    'lineage audit|--format') printf '%s\n' 'text'; return ;;
    'lineage audit|--window') printf '%s\n' 'text'; return ;;
    'lineage audit|--schemas') printf '%s\n' 'directory'; return ;;
    'lineage audit|--registry') printf '%s\n' 'text'; return ;;
    'lineage audit|--journal') printf '%s\n' 'directory'; return ;;
    'lineage audit|--baseline') printf '%s\n' 'text'; return ;;
    'lineage audit|--policy') printf '%s\n' 'text'; return ;;
    'lineage audit|--openlineage') printf '%s\n' 'text'; return ;;
    'lineage audit|--out') printf '%s\n' 'file'; return ;;
    'lineage audit|--profile-out') printf '%s\n' 'file'; return ;;
    'lineage audit|--fail-on') printf '%s\n' 'text'; return ;;
    'lineage audit|--examples') printf '%s\n' 'text'; return ;;
    'lineage audit|--threads') printf '%s\n' 'text'; return ;;
    'lineage merge|--out') printf '%s\n' 'file'; return ;;
    'lineage merge|--openlineage') printf '%s\n' 'text'; return ;;
    'report governance|--period') printf '%s\n' 'text'; return ;;
    'report governance|--out') printf '%s\n' 'directory'; return ;;
    'report governance|--format') printf '%s\n' 'text'; return ;;
    'report governance|--policy') printf '%s\n' 'text'; return ;;
    'report governance|--audits') printf '%s\n' 'directory'; return ;;
    'report governance|--labels') printf '%s\n' 'text'; return ;;
    'report governance|--decisions') printf '%s\n' 'directory'; return ;;
    'report governance|--billing') printf '%s\n' 'text'; return ;;
    'report governance|--energy') printf '%s\n' 'text'; return ;;
    'report governance|--intensity') printf '%s\n' 'text'; return ;;
    'report governance|--fail-on') printf '%s\n' 'text'; return ;;
    'report governance|--no-hub') printf '%s\n' 'flag'; return ;;
    'model add|--name') printf '%s\n' 'text'; return ;;
    'model add|--version') printf '%s\n' 'text'; return ;;
    'model add|--uri') printf '%s\n' 'text'; return ;;
    'model add|--sign-key') printf '%s\n' 'text'; return ;;
    'model add|--card') printf '%s\n' 'text'; return ;;
    'model add|--triton') printf '%s\n' 'text'; return ;;
    'model add|--triton-version') printf '%s\n' 'directory'; return ;;
    'model add|--triton-max-batch') printf '%s\n' 'text'; return ;;
    'model sign|-k' | 'model sign|--key') printf '%s\n' 'text'; return ;;
    'model sign|--signature-out') printf '%s\n' 'file'; return ;;
    'model sign|--statement-out') printf '%s\n' 'file'; return ;;
    'model verify|-k' | 'model verify|--key') printf '%s\n' 'text'; return ;;
    'model verify|--file') printf '%s\n' 'file'; return ;;
    'model diff|--fail-on-breaking') printf '%s\n' 'flag'; return ;;
    'model card|--metrics') printf '%s\n' 'text'; return ;;
    'model card|--out') printf '%s\n' 'file'; return ;;
    'model keygen|--out') printf '%s\n' 'file'; return ;;
    'model keygen|--public-out') printf '%s\n' 'file'; return ;;
    'model keygen|--algorithm') printf '%s\n' 'choice:ed25519 ecdsa-p256'; return ;;
    'model keygen|--force') printf '%s\n' 'flag'; return ;;
    'firmware add|--name') printf '%s\n' 'text'; return ;;
    'firmware add|--version') printf '%s\n' 'text'; return ;;
    'firmware add|--uri') printf '%s\n' 'text'; return ;;
    'firmware add|--sign-key') printf '%s\n' 'text'; return ;;
    'firmware sign|-k' | 'firmware sign|--key') printf '%s\n' 'text'; return ;;
    'firmware sign|--signature-out') printf '%s\n' 'file'; return ;;
    'firmware sign|--statement-out') printf '%s\n' 'file'; return ;;
    'firmware verify|-k' | 'firmware verify|--key') printf '%s\n' 'text'; return ;;
    'firmware verify|--file') printf '%s\n' 'file'; return ;;
    'firmware diff|--fail-on-breaking') printf '%s\n' 'flag'; return ;;
    'firmware card|--metrics') printf '%s\n' 'text'; return ;;
    'firmware card|--out') printf '%s\n' 'file'; return ;;
    'firmware keygen|--out') printf '%s\n' 'file'; return ;;
    'firmware keygen|--public-out') printf '%s\n' 'file'; return ;;
    'firmware keygen|--algorithm') printf '%s\n' 'choice:ed25519 ecdsa-p256'; return ;;
    'firmware keygen|--force') printf '%s\n' 'flag'; return ;;
    'demo|--dir') printf '%s\n' 'directory'; return ;;
    'demo|-n' | 'demo|--devices') printf '%s\n' 'text'; return ;;
    'demo|--keep') printf '%s\n' 'flag'; return ;;
    'demo|--force') printf '%s\n' 'flag'; return ;;
  esac
  case "$2" in
    '-h' | '--help') printf '%s\n' 'flag' ;;
    '--profile') printf '%s\n' 'profiles' ;;
    '--hub') printf '%s\n' 'text' ;;
    '-o' | '--output') printf '%s\n' 'choice:table json yaml csv' ;;
    '--config') printf '%s\n' 'file' ;;
    '--cacert') printf '%s\n' 'text' ;;
    '--no-color') printf '%s\n' 'flag' ;;
    '-q' | '--quiet') printf '%s\n' 'flag' ;;
    '-v' | '--verbose') printf '%s\n' 'flag' ;;
    '--debug') printf '%s\n' 'flag' ;;
    '-y' | '--yes') printf '%s\n' 'flag' ;;
    '--version') printf '%s\n' 'flag' ;;
  esac
}

# _aiot_forwarded PATH OPTION: whether OPTION at PATH is a global flag that picks the hub or the
# settings (--hub, --profile, --config), passed on to `aiot __complete`.
_aiot_forwarded() {
  case "$1|$2" in
    'config set|--profile' | 'sim fleet|--profile') return 1 ;;
  esac
  case "$2" in
    '--profile' | '--hub' | '--config') return 0 ;;
  esac
  return 1
}

# _aiot_positional_kind PATH INDEX: what the INDEX-th (from 0) argument of PATH completes to.
_aiot_positional_kind() {
  case "$1|$2" in
    'device show|0') printf '%s\n' 'devices' ;;
    'device update|0') printf '%s\n' 'devices' ;;
    'device delete|'*) printf '%s\n' 'devices' ;;
    'ca show|0') printf '%s\n' 'directory' ;;
    'config get|0') printf '%s\n' 'choice:hub output color ca_dir azure.connection_string_file azure.endpoint aws.region aws.endpoint aws.profile aws.data_endpoint aws.thing_type aws.policy azure.tier azure.units cacert profile' ;;
    'config set|0') printf '%s\n' 'choice:hub output color ca_dir azure.connection_string_file azure.endpoint aws.region aws.endpoint aws.profile aws.data_endpoint aws.thing_type aws.policy azure.tier azure.units cacert' ;;
    'config use|0') printf '%s\n' 'profiles' ;;
    'rollout status|0') printf '%s\n' 'rollouts' ;;
    'rollout approve|0') printf '%s\n' 'rollouts' ;;
    'rollout deny|0') printf '%s\n' 'rollouts' ;;
    'rollout pause|0') printf '%s\n' 'rollouts' ;;
    'rollout resume|0') printf '%s\n' 'rollouts' ;;
    'rollout promote|0') printf '%s\n' 'rollouts' ;;
    'rollout abort|0') printf '%s\n' 'rollouts' ;;
    'rollout rollback|0') printf '%s\n' 'rollouts' ;;
    'rollout reconcile|'*) printf '%s\n' 'rollouts' ;;
    'rollout history|0') printf '%s\n' 'rollouts' ;;
    'rollout audit verify|0') printf '%s\n' 'rollouts' ;;
    'completion|0') printf '%s\n' 'choice:bash zsh fish' ;;
    'model add|0') printf '%s\n' 'file' ;;
    'firmware add|0') printf '%s\n' 'file' ;;
  esac
}

# _aiot_dynamic KIND PREFIX: profile names, device ids or rollout names from aiot itself.
_aiot_dynamic() {
  local self=${COMP_WORDS[0]/#\~/$HOME}
  if command -v timeout >/dev/null 2>&1; then
    timeout 2 "$self" "${hub_flags[@]}" __complete "$1" "$2" 2>/dev/null
  else
    "$self" "${hub_flags[@]}" __complete "$1" "$2" 2>/dev/null
  fi
}

# _aiot_values KIND PREFIX: fills COMPREPLY with the values of KIND that start with PREFIX.
_aiot_values() {
  local kind=$1 cur=$2
  case $kind in
    choice:*) mapfile -t COMPREPLY < <(compgen -W "${kind#choice:}" -- "$cur") ;;
    file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      ;;
    directory)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      ;;
    profiles | devices | rollouts) mapfile -t COMPREPLY < <(_aiot_dynamic "$kind" "$cur") ;;
  esac
}

_aiot() {
  local -a words
  local cword cur
  if declare -F _get_comp_words_by_ref >/dev/null; then
    # bash-completion: keep --opt=value and ids with ':' in one word.
    _get_comp_words_by_ref -n =: -w words -i cword -c cur
  else
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}
  fi
  COMPREPLY=()
  local cmd_path='' pos=0 i word kind child expect='' forward='' opt='' lead=''
  local -a hub_flags
  hub_flags=()
  for ((i = 1; i < cword; i++)); do
    word=${words[i]}
    if [[ -n $expect ]]; then
      # This word is the value of option $expect (bash splits --opt=value at '=').
      [[ $word == '=' ]] && continue
      [[ -n $forward ]] && hub_flags+=("$expect" "$word")
      expect=''
      continue
    fi
    case $word in
      -*=*)
        _aiot_forwarded "$cmd_path" "${word%%=*}" && hub_flags+=("$word")
        continue
        ;;
      -*)
        kind=$(_aiot_option_kind "$cmd_path" "$word")
        if [[ -n $kind && $kind != flag ]]; then
          expect=$word
          forward=''
          _aiot_forwarded "$cmd_path" "$word" && forward=1
        fi
        continue
        ;;
    esac
    child=''
    ((pos == 0)) && child=$(_aiot_child "$cmd_path" "$word")
    if [[ -n $child ]]; then
      cmd_path=${cmd_path:+$cmd_path }$child
    else
      pos=$((pos + 1))
    fi
  done

  if [[ -n $expect ]]; then
    opt=$expect
    [[ $cur == '=' ]] && cur=''
  elif [[ $cur == -*=* ]]; then
    opt=${cur%%=*}
    cur=${cur#*=}
    # Readline replaces only the part after '=' when '=' breaks words (the default).
    [[ $COMP_WORDBREAKS == *=* ]] || lead="$opt="
  fi

  if [[ -n $opt ]]; then
    _aiot_values "$(_aiot_option_kind "$cmd_path" "$opt")" "$cur"
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_aiot_options "$cmd_path") $_aiot_globals" -- "$cur")
  elif ((pos == 0)) && [[ -n $(_aiot_commands "$cmd_path") ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_aiot_commands "$cmd_path")" -- "$cur")
  else
    _aiot_values "$(_aiot_positional_kind "$cmd_path" "$pos")" "$cur"
  fi

  if [[ -n $lead && ${#COMPREPLY[@]} -gt 0 ]]; then
    COMPREPLY=("${COMPREPLY[@]/#/$lead}")
  fi
  if [[ $cur == *:* ]] && declare -F __ltrim_colon_completions >/dev/null; then
    __ltrim_colon_completions "$cur"
  fi
  return 0
}

complete -F _aiot aiot
