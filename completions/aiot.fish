# fish completion for aiot.
# Generated from the command tree by `aiot __docs`: do not edit. Regenerate with
#   build/cmd/aiot __docs --man man --completions completions
# Install for one user: aiot completion fish > ~/.config/fish/completions/aiot.fish

# __aiot_child PATH WORD: the name of subcommand WORD (a name or an alias) of command PATH.
function __aiot_child --argument-names cmd_path word
    switch "$cmd_path|$word"
        case '|device'
            echo 'device'
        case '|ca'
            echo 'ca'
        case '|config'
            echo 'config'
        case '|rollout'
            echo 'rollout'
        case '|sim'
            echo 'sim'
        case '|hub'
            echo 'hub'
        case '|help'
            echo 'help'
        case '|completion'
            echo 'completion'
        case '|lineage'
            echo 'lineage'
        case '|report'
            echo 'report'
        case '|model'
            echo 'model'
        case '|firmware'
            echo 'firmware'
        case '|demo'
            echo 'demo'
        case 'device|register'
            echo 'register'
        case 'device|import'
            echo 'import'
        case 'device|list' 'device|ls'
            echo 'list'
        case 'device|count'
            echo 'count'
        case 'device|show'
            echo 'show'
        case 'device|update'
            echo 'update'
        case 'device|delete' 'device|rm'
            echo 'delete'
        case 'device|export'
            echo 'export'
        case 'ca|create'
            echo 'create'
        case 'ca|show'
            echo 'show'
        case 'config|list' 'config|ls'
            echo 'list'
        case 'config|get'
            echo 'get'
        case 'config|set'
            echo 'set'
        case 'config|profiles'
            echo 'profiles'
        case 'config|use'
            echo 'use'
        case 'rollout|plan'
            echo 'plan'
        case 'rollout|apply'
            echo 'apply'
        case 'rollout|status'
            echo 'status'
        case 'rollout|list' 'rollout|ls'
            echo 'list'
        case 'rollout|approve'
            echo 'approve'
        case 'rollout|deny'
            echo 'deny'
        case 'rollout|pause'
            echo 'pause'
        case 'rollout|resume'
            echo 'resume'
        case 'rollout|promote'
            echo 'promote'
        case 'rollout|abort'
            echo 'abort'
        case 'rollout|rollback'
            echo 'rollback'
        case 'rollout|reconcile'
            echo 'reconcile'
        case 'rollout|history'
            echo 'history'
        case 'rollout|audit'
            echo 'audit'
        case 'rollout audit|verify'
            echo 'verify'
        case 'sim|fleet'
            echo 'fleet'
        case 'sim|advance'
            echo 'advance'
        case 'sim|status'
            echo 'status'
        case 'sim|telemetry'
            echo 'telemetry'
        case 'hub|serve'
            echo 'serve'
        case 'lineage|audit'
            echo 'audit'
        case 'lineage|merge'
            echo 'merge'
        case 'report|governance'
            echo 'governance'
        case 'model|add'
            echo 'add'
        case 'model|sign'
            echo 'sign'
        case 'model|verify'
            echo 'verify'
        case 'model|list' 'model|ls'
            echo 'list'
        case 'model|show'
            echo 'show'
        case 'model|diff'
            echo 'diff'
        case 'model|card'
            echo 'card'
        case 'model|keygen'
            echo 'keygen'
        case 'firmware|add'
            echo 'add'
        case 'firmware|sign'
            echo 'sign'
        case 'firmware|verify'
            echo 'verify'
        case 'firmware|list' 'firmware|ls'
            echo 'list'
        case 'firmware|show'
            echo 'show'
        case 'firmware|diff'
            echo 'diff'
        case 'firmware|card'
            echo 'card'
        case 'firmware|keygen'
            echo 'keygen'
    end
end

# __aiot_takes_value PATH OPTION: whether OPTION of PATH (or a global one) reads the next word.
function __aiot_takes_value --argument-names cmd_path opt
    switch $opt
        case '--profile' '--hub' '-o' '--output' '--config' '--cacert'
            return 0
    end
    switch "$cmd_path|$opt"
        case 'device register|--auth' 'device register|--cert' 'device register|--ca' 'device register|--tag'
            return 0
        case 'device register|--out-dir' 'device register|--days' 'device import|-f' 'device import|--file'
            return 0
        case 'device import|--format' 'device import|--ca' 'device import|--out-dir' 'device import|--days'
            return 0
        case 'device list|-w' 'device list|--where' 'device list|--tag' 'device list|-n'
            return 0
        case 'device list|--limit' 'device count|-w' 'device count|--where' 'device count|--tag'
            return 0
        case 'device count|-b' 'device count|--by' 'device update|--tag' 'device update|--untag'
            return 0
        case 'device update|--desired' 'device update|--if-match' 'device export|--format' 'device export|--out'
            return 0
        case 'device export|-w' 'device export|--where' 'ca create|--name' 'ca create|--out'
            return 0
        case 'ca create|--days' 'config set|--profile' 'rollout plan|-f' 'rollout plan|--file'
            return 0
        case 'rollout plan|--out' 'rollout apply|-f' 'rollout apply|--file' 'rollout apply|--timeout'
            return 0
        case 'rollout approve|--remark' 'rollout deny|--remark' 'rollout pause|--remark' 'rollout resume|--remark'
            return 0
        case 'rollout promote|--remark' 'rollout abort|--remark' 'rollout rollback|--remark' 'rollout audit verify|--journal'
            return 0
        case 'sim fleet|-n' 'sim fleet|--devices' 'sim fleet|--profile' 'sim fleet|--seed'
            return 0
        case 'sim fleet|--prefix' 'sim fleet|--start' 'sim advance|--to' 'sim telemetry|--out'
            return 0
        case 'sim telemetry|--hours' 'sim telemetry|--format' 'sim telemetry|--seed' 'sim telemetry|--interval'
            return 0
        case 'sim telemetry|--batch' 'sim telemetry|--defects' 'sim telemetry|--drift' 'sim telemetry|--bias'
            return 0
        case 'sim telemetry|--labels' 'sim telemetry|--label-rate' 'sim telemetry|--iothub' 'hub serve|--api'
            return 0
        case 'hub serve|--port' 'hub serve|--bind' 'hub serve|--port-file' 'hub serve|--credentials-out'
            return 0
        case 'hub serve|--throttle' 'hub serve|--faults' 'hub serve|--seed' 'lineage audit|-i'
            return 0
        case 'lineage audit|--input' 'lineage audit|--format' 'lineage audit|--window' 'lineage audit|--schemas'
            return 0
        case 'lineage audit|--registry' 'lineage audit|--journal' 'lineage audit|--baseline' 'lineage audit|--policy'
            return 0
        case 'lineage audit|--openlineage' 'lineage audit|--out' 'lineage audit|--profile-out' 'lineage audit|--fail-on'
            return 0
        case 'lineage audit|--examples' 'lineage audit|--threads' 'lineage merge|--out' 'lineage merge|--openlineage'
            return 0
        case 'report governance|--period' 'report governance|--out' 'report governance|--format' 'report governance|--policy'
            return 0
        case 'report governance|--audits' 'report governance|--labels' 'report governance|--decisions' 'report governance|--billing'
            return 0
        case 'report governance|--energy' 'report governance|--intensity' 'report governance|--fail-on' 'model add|--name'
            return 0
        case 'model add|--version' 'model add|--uri' 'model add|--sign-key' 'model add|--card'
            return 0
        case 'model add|--triton' 'model add|--triton-version' 'model add|--triton-max-batch' 'model sign|-k'
            return 0
        case 'model sign|--key' 'model sign|--signature-out' 'model sign|--statement-out' 'model verify|-k'
            return 0
        case 'model verify|--key' 'model verify|--file' 'model card|--metrics' 'model card|--out'
            return 0
        case 'model keygen|--out' 'model keygen|--public-out' 'model keygen|--algorithm' 'firmware add|--name'
            return 0
        case 'firmware add|--version' 'firmware add|--uri' 'firmware add|--sign-key' 'firmware sign|-k'
            return 0
        case 'firmware sign|--key' 'firmware sign|--signature-out' 'firmware sign|--statement-out' 'firmware verify|-k'
            return 0
        case 'firmware verify|--key' 'firmware verify|--file' 'firmware card|--metrics' 'firmware card|--out'
            return 0
        case 'firmware keygen|--out' 'firmware keygen|--public-out' 'firmware keygen|--algorithm' 'demo|--dir'
            return 0
        case 'demo|-n' 'demo|--devices'
            return 0
    end
    return 1
end

# __aiot_forwarded PATH OPTION: whether OPTION at PATH is a global flag that picks the hub or the
# settings (--hub, --profile, --config), passed on to `aiot __complete`.
function __aiot_forwarded --argument-names cmd_path opt
    switch "$cmd_path|$opt"
        case 'config set|--profile' 'sim fleet|--profile'
            return 1
    end
    switch $opt
        case '--profile' '--hub' '--config'
            return 0
    end
    return 1
end

# __aiot_state: the command path, the number of arguments after it, then the forwarded hub flags.
function __aiot_state
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmd_path ''
    set -l pos 0
    set -l expect ''
    set -l forward 0
    set -l flags
    for word in $words
        if test -n "$expect"
            if test $forward = 1
                set -a flags $expect $word
            end
            set expect ''
            continue
        end
        switch $word
            case '-*=*'
                if __aiot_forwarded "$cmd_path" (string split -m 1 = -- $word)[1]
                    set -a flags $word
                end
                continue
            case '-*'
                if __aiot_takes_value "$cmd_path" $word
                    set expect $word
                    set forward 0
                    if __aiot_forwarded "$cmd_path" $word
                        set forward 1
                    end
                end
                continue
        end
        set -l child
        if test $pos = 0
            set child (__aiot_child "$cmd_path" $word)
        end
        if test -n "$child"
            set cmd_path (string trim -- "$cmd_path $child")
        else
            set pos (math $pos + 1)
        end
    end
    echo $cmd_path
    echo $pos
    for flag in $flags
        echo $flag
    end
end

# __aiot_at PATH [INDEX|INDEX+]: the cursor is in command PATH (at its INDEX-th argument).
function __aiot_at --argument-names want index
    set -l state (__aiot_state)
    test "$state[1]" = "$want"; or return 1
    test -z "$index"; and return 0
    if string match -q -- '*+' $index
        test $state[2] -ge (string trim -c + -- $index)
    else
        test $state[2] = $index
    end
end

# __aiot_dynamic KIND: profile names, device ids or rollout names from aiot itself, within 2 s.
function __aiot_dynamic --argument-names kind
    set -l self (commandline -opc)[1]
    set -l flags (__aiot_state)[3..-1]
    set -l prefix (commandline -ct)
    if command -sq timeout
        timeout 2 $self $flags __complete $kind "$prefix" 2>/dev/null
    else
        $self $flags __complete $kind "$prefix" 2>/dev/null
    end
end

# Nothing completes to files unless an option or argument names one.
complete -c aiot -f

# Global options: accepted after any verb, unless the verb has an option of the same name.
complete -c aiot -n 'not __aiot_at \'rollout abort\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c aiot -n 'not __aiot_at \'config set\'; and not __aiot_at \'sim fleet\'' -l 'profile' -x -a '(__aiot_dynamic profiles)' -d 'Use the settings of this configuration profile'
complete -c aiot -l 'hub' -x -d 'Hub to use: local, local:PATH, azure, aws (overrides the profile)'
complete -c aiot -s 'o' -l 'output' -x -a 'table json yaml csv' -d 'Output format'
complete -c aiot -l 'config' -r -F -d 'Read and write settings in this file instead of the user config file'
complete -c aiot -l 'cacert' -x -d 'Trust this CA bundle too for TLS to the clouds (verification stays on)'
complete -c aiot -l 'no-color' -d 'Never colour the output (NO_COLOR is honoured too)'
complete -c aiot -s 'q' -l 'quiet' -d 'Print no progress or confirmations, only data and errors'
complete -c aiot -s 'v' -l 'verbose' -d 'More detail on stderr (repeatable)'
complete -c aiot -l 'debug' -d 'Trace requests and decisions on stderr, secrets redacted'
complete -c aiot -s 'y' -l 'yes' -d 'Answer yes to confirmations (needed when not on a terminal)'
complete -c aiot -n 'not __aiot_at \'model add\'; and not __aiot_at \'firmware add\'' -l 'version' -d 'Print the version and exit'

# aiot (top level)
complete -c aiot -n '__aiot_at \'\'' -a 'device' -d 'Register, inspect and manage devices'
complete -c aiot -n '__aiot_at \'\'' -a 'ca' -d 'Create and inspect the fleet certificate authority'
complete -c aiot -n '__aiot_at \'\'' -a 'config' -d 'Show and change settings and profiles'
complete -c aiot -n '__aiot_at \'\'' -a 'rollout' -d 'Canary rollouts of models and firmware with health gates and rollback'
complete -c aiot -n '__aiot_at \'\'' -a 'sim' -d 'Simulate a device fleet on the local hub, with its own clock'
complete -c aiot -n '__aiot_at \'\'' -a 'hub' -d 'Serve the local hub over the Azure IoT Hub or AWS IoT REST dialects'
complete -c aiot -n '__aiot_at \'\'' -a 'help' -d 'Help on a command or topic: exit-codes, environment'
complete -c aiot -n '__aiot_at \'\'' -a 'completion' -d 'Print a shell completion script: bash, zsh or fish'
complete -c aiot -n '__aiot_at \'\'' -a 'lineage' -d 'Audit the lineage and health of device telemetry'
complete -c aiot -n '__aiot_at \'\'' -a 'report' -d 'Governance reports: weekly, deterministic, decision-ready'
complete -c aiot -n '__aiot_at \'\'' -a 'model' -d 'ML model artifacts (ONNX): add, sign, verify, inspect, diff, model cards'
complete -c aiot -n '__aiot_at \'\'' -a 'firmware' -d 'Firmware artifacts: add, sign, verify, inspect, diff'
complete -c aiot -n '__aiot_at \'\'' -a 'demo' -d 'Run the whole mission on a local hub in under a minute, narrating every command (a replayable tour)'

# aiot device
complete -c aiot -n '__aiot_at \'device\'' -a 'register' -d 'Register one device (SAS keys, self-signed or CA-signed X.509)'
complete -c aiot -n '__aiot_at \'device\'' -a 'import' -d 'Register devices from a CSV, YAML or JSON Lines file (idempotent)'
complete -c aiot -n '__aiot_at \'device\'' -a 'list' -d 'List devices, optionally filtered by a query'
complete -c aiot -n '__aiot_at \'device\'' -a 'ls' -d 'List devices, optionally filtered by a query (alias of list)'
complete -c aiot -n '__aiot_at \'device\'' -a 'count' -d 'Count devices, optionally grouped by properties (one query, not a listing)'
complete -c aiot -n '__aiot_at \'device\'' -a 'show' -d 'Show a device\'s identity and twin'
complete -c aiot -n '__aiot_at \'device\'' -a 'update' -d 'Change a device\'s tags, desired properties or status'
complete -c aiot -n '__aiot_at \'device\'' -a 'delete' -d 'Delete devices (asks on a terminal; --yes otherwise)'
complete -c aiot -n '__aiot_at \'device\'' -a 'rm' -d 'Delete devices (asks on a terminal; --yes otherwise) (alias of delete)'
complete -c aiot -n '__aiot_at \'device\'' -a 'export' -d 'Export devices as CSV or JSON Lines (never secrets), re-importable'

# aiot device register
complete -c aiot -n '__aiot_at \'device register\'' -l 'auth' -x -a 'sas x509-self-signed x509-ca aws-generated' -d 'Authentication: sas, x509-self-signed, x509-ca or aws-generated (AWS makes the key)'
complete -c aiot -n '__aiot_at \'device register\'' -l 'cert' -r -F -d 'Use this PEM certificate (CN must be the device id) instead of generating one'
complete -c aiot -n '__aiot_at \'device register\'' -l 'ca' -x -a '(__fish_complete_directories)' -d 'Fleet CA folder for x509-ca (made by \'aiot ca create\'; default: the ca_dir setting)'
complete -c aiot -n '__aiot_at \'device register\'' -l 'tag' -x -d 'Tag KEY=VALUE (repeatable)'
complete -c aiot -n '__aiot_at \'device register\'' -l 'out-dir' -x -a '(__fish_complete_directories)' -d 'Write credentials here, 0600 (X.509 default: ./aiot-devices; SAS: only when given)'
complete -c aiot -n '__aiot_at \'device register\'' -l 'days' -x -d 'Validity of generated certificates in days'
complete -c aiot -n '__aiot_at \'device register\'' -l 'disabled' -d 'Register the device disabled'
complete -c aiot -n '__aiot_at \'device register\'' -l 'show-secrets' -d 'Also print the SAS keys on stdout'

# aiot device import
complete -c aiot -n '__aiot_at \'device import\'' -s 'f' -l 'file' -r -F -d 'The device file (\'-\' for stdin)'
complete -c aiot -n '__aiot_at \'device import\'' -l 'format' -x -a 'csv yaml yml jsonl ndjson json' -d 'csv, yaml or jsonl (default: from the extension or content)'
complete -c aiot -n '__aiot_at \'device import\'' -l 'update' -d 'Replace devices whose content differs (default: report them as conflicts)'
complete -c aiot -n '__aiot_at \'device import\'' -l 'ca' -x -a '(__fish_complete_directories)' -d 'Fleet CA folder for x509-ca rows (default: the ca_dir setting)'
complete -c aiot -n '__aiot_at \'device import\'' -l 'out-dir' -x -a '(__fish_complete_directories)' -d 'Write credentials here, 0600 (X.509 default: ./aiot-devices)'
complete -c aiot -n '__aiot_at \'device import\'' -l 'days' -x -d 'Validity of generated certificates in days'

# aiot device list
complete -c aiot -n '__aiot_at \'device list\'' -s 'w' -l 'where' -x -d 'Query condition, e.g. "tags.site = \'berlin\' AND properties.reported.aiot.ota.version != \'2.0\'"'
complete -c aiot -n '__aiot_at \'device list\'' -l 'tag' -x -d 'Only devices with this tag KEY=VALUE (repeatable)'
complete -c aiot -n '__aiot_at \'device list\'' -s 'n' -l 'limit' -x -d 'At most N devices (0 = all)'

# aiot device count
complete -c aiot -n '__aiot_at \'device count\'' -s 'w' -l 'where' -x -d 'Query condition: count only the devices it matches'
complete -c aiot -n '__aiot_at \'device count\'' -l 'tag' -x -d 'Only devices with this tag KEY=VALUE (repeatable)'
complete -c aiot -n '__aiot_at \'device count\'' -s 'b' -l 'by' -x -d 'Group by this property path, e.g. properties.reported.aiot.ota.version (repeatable)'

# aiot device show
complete -c aiot -n '__aiot_at \'device show\'' -l 'show-secrets' -d 'Include the SAS keys'
complete -c aiot -n '__aiot_at \'device show\' 0' -x -a '(__aiot_dynamic devices)' -d 'Device id'

# aiot device update
complete -c aiot -n '__aiot_at \'device update\'' -l 'tag' -x -d 'Set tag KEY=VALUE (repeatable)'
complete -c aiot -n '__aiot_at \'device update\'' -l 'untag' -x -d 'Remove tag KEY (repeatable)'
complete -c aiot -n '__aiot_at \'device update\'' -l 'desired' -x -d 'Set desired property PATH=JSON, e.g. aiot.model.version=\'"2.0"\' (repeatable)'
complete -c aiot -n '__aiot_at \'device update\'' -l 'disable' -d 'Disable the device'
complete -c aiot -n '__aiot_at \'device update\'' -l 'enable' -d 'Enable the device'
complete -c aiot -n '__aiot_at \'device update\'' -l 'if-match' -x -d 'Only if the twin\'s etag is still ETAG (optimistic concurrency)'
complete -c aiot -n '__aiot_at \'device update\' 0' -x -a '(__aiot_dynamic devices)' -d 'Device id'

# aiot device delete
complete -c aiot -n '__aiot_at \'device delete\'' -l 'missing-ok' -d 'Succeed when a device does not exist'
complete -c aiot -n '__aiot_at \'device delete\' 0+' -x -a '(__aiot_dynamic devices)' -d 'Device ids'

# aiot device export
complete -c aiot -n '__aiot_at \'device export\'' -l 'format' -x -a 'csv jsonl json' -d 'csv or jsonl'
complete -c aiot -n '__aiot_at \'device export\'' -l 'out' -r -F -d 'Write to FILE atomically instead of stdout'
complete -c aiot -n '__aiot_at \'device export\'' -s 'w' -l 'where' -x -d 'Only devices matching this query condition'

# aiot ca
complete -c aiot -n '__aiot_at \'ca\'' -a 'create' -d 'Create a fleet CA: ECDSA P-256 key (0600) and self-signed certificate'
complete -c aiot -n '__aiot_at \'ca\'' -a 'show' -d 'Show a fleet CA\'s certificate'

# aiot ca create
complete -c aiot -n '__aiot_at \'ca create\'' -l 'name' -x -d 'Common name of the CA'
complete -c aiot -n '__aiot_at \'ca create\'' -l 'out' -x -a '(__fish_complete_directories)' -d 'Folder for ca.key.pem and ca.cert.pem'
complete -c aiot -n '__aiot_at \'ca create\'' -l 'days' -x -d 'Validity in days'

# aiot ca show
complete -c aiot -n '__aiot_at \'ca show\' 0' -x -a '(__fish_complete_directories)' -d 'The CA folder'

# aiot config
complete -c aiot -n '__aiot_at \'config\'' -a 'list' -d 'List every setting with its value'
complete -c aiot -n '__aiot_at \'config\'' -a 'ls' -d 'List every setting with its value (alias of list)'
complete -c aiot -n '__aiot_at \'config\'' -a 'get' -d 'Print the value of one setting (or \'profile\', the active profile)'
complete -c aiot -n '__aiot_at \'config\'' -a 'set' -d 'Set a setting in the user settings file'
complete -c aiot -n '__aiot_at \'config\'' -a 'profiles' -d 'List the profiles defined in the settings files'
complete -c aiot -n '__aiot_at \'config\'' -a 'use' -d 'Make a profile the active one (written to the user settings file)'

# aiot config list
complete -c aiot -n '__aiot_at \'config list\'' -l 'show-origin' -d 'Say where each value comes from (file, environment, flag, default)'

# aiot config get
complete -c aiot -n '__aiot_at \'config get\' 0' -x -a 'hub output color ca_dir azure.connection_string_file azure.endpoint aws.region aws.endpoint aws.profile aws.data_endpoint aws.thing_type aws.policy azure.tier azure.units cacert profile' -d 'Setting name, e.g. hub, output, aws.region'

# aiot config set
complete -c aiot -n '__aiot_at \'config set\'' -l 'profile' -x -a '(__aiot_dynamic profiles)' -d 'Write into this profile\'s section, creating it if needed (default: the global --profile, else the top level)'
complete -c aiot -n '__aiot_at \'config set\' 0' -x -a 'hub output color ca_dir azure.connection_string_file azure.endpoint aws.region aws.endpoint aws.profile aws.data_endpoint aws.thing_type aws.policy azure.tier azure.units cacert' -d 'Setting name, e.g. hub, output, aws.region'

# aiot config use
complete -c aiot -n '__aiot_at \'config use\' 0' -x -a '(__aiot_dynamic profiles)' -d 'Profile name, or \'default\''

# aiot rollout
complete -c aiot -n '__aiot_at \'rollout\'' -a 'plan' -d 'Resolve the cohort and show waves, controls, power and ETA (dispatches nothing)'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'apply' -d 'Start or resume a rollout (idempotent by name and spec digest)'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'status' -d 'Show a rollout: waves, gates (n, estimate, interval, verdict), device states'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'list' -d 'List the rollouts in the hub'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'ls' -d 'List the rollouts in the hub (alias of list)'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'approve' -d 'Approve the start or the next wave of a rollout waiting for approval'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'deny' -d 'Deny a waiting approval (a rollout that dispatched devices rolls back)'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'pause' -d 'Pause a running rollout: no dispatch, no promotion until resumed'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'resume' -d 'Resume a paused rollout (an inconclusive wave gets a fresh bake window)'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'promote' -d 'Promote the current wave by hand, skipping its gates'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'abort' -d 'Stop a rollout: --keep leaves devices as they are, --revert rolls back'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'rollback' -d 'Roll back every device that got the new version to the baseline'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'reconcile' -d 'Advance rollouts by one step each and return (cron and CI)'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'history' -d 'Every transition of a rollout from its journal, with the gate inputs'
complete -c aiot -n '__aiot_at \'rollout\'' -a 'audit' -d 'Check a rollout\'s journal against the head recorded in the hub'

# aiot rollout plan
complete -c aiot -n '__aiot_at \'rollout plan\'' -s 'f' -l 'file' -r -F -d 'The rollout spec (rollout.yaml)'
complete -c aiot -n '__aiot_at \'rollout plan\'' -l 'out' -r -F -d 'Also write the plan as JSON to this file (atomically)'
complete -c aiot -n '__aiot_at \'rollout plan\'' -l 'allow-underpowered' -d 'Exit 0 even when a critical gate cannot detect its threshold in some wave (exit 2 otherwise)'
complete -c aiot -n '__aiot_at \'rollout plan\'' -l 'allow-breaking' -d 'Accept a registry artifact whose I/O signature breaks the baseline version\'s (exit 2 otherwise)'
complete -c aiot -n '__aiot_at \'rollout plan\'' -l 'require-signature' -d 'Refuse an unsigned artifact whatever the spec says (requireSignature in the spec does the same)'

# aiot rollout apply
complete -c aiot -n '__aiot_at \'rollout apply\'' -s 'f' -l 'file' -r -F -d 'The rollout spec (rollout.yaml)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'wait' -d 'Follow the rollout to a final state: exit 0 succeeded, 3 rolled back/aborted, 6 waiting'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'timeout' -x -d 'With --wait: give up after this much hub time (exit 6)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'detach' -d 'Return once the current wave is dispatched (the default without --wait)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'steal-lease' -d 'Take over from another driver (journaled)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'allow-underpowered' -d 'Start even when a critical gate cannot detect its threshold'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'allow-breaking' -d 'Start even when a registry artifact\'s I/O signature breaks the baseline version\'s'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'require-signature' -d 'Refuse an unsigned artifact whatever the spec says'

# aiot rollout status
complete -c aiot -n '__aiot_at \'rollout status\'' -s 'w' -l 'watch' -d 'Refresh every 2 s until the rollout is final'
complete -c aiot -n '__aiot_at \'rollout status\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout approve
complete -c aiot -n '__aiot_at \'rollout approve\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout approve\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout deny
complete -c aiot -n '__aiot_at \'rollout deny\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout deny\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout pause
complete -c aiot -n '__aiot_at \'rollout pause\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout pause\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout resume
complete -c aiot -n '__aiot_at \'rollout resume\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout resume\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout promote
complete -c aiot -n '__aiot_at \'rollout promote\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout promote\'' -l 'full' -d 'Skip the gates and approvals of every remaining wave too'
complete -c aiot -n '__aiot_at \'rollout promote\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout abort
complete -c aiot -n '__aiot_at \'rollout abort\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout abort\'' -s 'h' -l 'help' -d 'Print this help message and exit'
complete -c aiot -n '__aiot_at \'rollout abort\'' -l 'revert' -d 'Roll back the devices that got the new version'
complete -c aiot -n '__aiot_at \'rollout abort\'' -l 'keep' -d 'Leave every device on what it runs now'
complete -c aiot -n '__aiot_at \'rollout abort\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout rollback
complete -c aiot -n '__aiot_at \'rollout rollback\'' -l 'remark' -x -d 'Why: recorded in the journal with who did it'
complete -c aiot -n '__aiot_at \'rollout rollback\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout reconcile
complete -c aiot -n '__aiot_at \'rollout reconcile\'' -l 'all' -d 'Every rollout that is not final'
complete -c aiot -n '__aiot_at \'rollout reconcile\'' -l 'steal-lease' -d 'Take over from another driver (journaled)'
complete -c aiot -n '__aiot_at \'rollout reconcile\' 0+' -x -a '(__aiot_dynamic rollouts)' -d 'Rollouts to advance'

# aiot rollout history
complete -c aiot -n '__aiot_at \'rollout history\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot rollout audit
complete -c aiot -n '__aiot_at \'rollout audit\'' -a 'verify' -d 'Verify the hash chain and that the journal reaches the hub\'s head (exit 3 if not)'

# aiot rollout audit verify
complete -c aiot -n '__aiot_at \'rollout audit verify\'' -l 'journal' -r -F -d 'Verify this file instead of the default journal'
complete -c aiot -n '__aiot_at \'rollout audit verify\' 0' -x -a '(__aiot_dynamic rollouts)' -d 'Rollout name'

# aiot sim
complete -c aiot -n '__aiot_at \'sim\'' -a 'fleet' -d 'Register simulated devices on the local hub (idempotent: a re-run changes nothing, a larger N adds)'
complete -c aiot -n '__aiot_at \'sim\'' -a 'advance' -d 'Move the hub\'s sim clock forward and play every device event up to it'
complete -c aiot -n '__aiot_at \'sim\'' -a 'status' -d 'Sim time and device counts by running version and OTA state'
complete -c aiot -n '__aiot_at \'sim\'' -a 'telemetry' -d 'Write the simulated fleet\'s telemetry in a cloud export layout, with planted defects and a manifest'

# aiot sim fleet
complete -c aiot -n '__aiot_at \'sim fleet\'' -s 'n' -l 'devices' -x -d 'How many devices (ids PREFIX00001...)'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'profile' -r -F -d 'Simulator profile YAML (default: the built-in one)'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'seed' -x -d 'Seed of every random draw: the same seed, the same fleet'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'prefix' -x -d 'Device id prefix'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'start' -x -d 'Start the hub\'s sim clock at this RFC 3339 time (default: now), if it has none'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'print-default-profile' -d 'Print the built-in profile, to copy and edit'

# aiot sim advance
complete -c aiot -n '__aiot_at \'sim advance\'' -l 'to' -x -d 'Advance to this RFC 3339 time instead'

# aiot sim telemetry
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'out' -r -F -d 'Output directory (data/, truth/ and manifest.json go there)'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'hours' -x -d 'Window length in hours, ending at the sim clock'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'format' -x -d 'ndjson, csv, iothub-json, iothub-avro or aws-s3-json'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'seed' -x -d 'Seed of the telemetry draws (default: the fleet\'s seed)'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'interval' -x -d 'Time between a device\'s messages'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'batch' -x -d 'Batch period of iothub and aws files'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'defects' -x -d 'A rate for every defect class (0.001), or a YAML file of rates and counts'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'drift' -x -d 'FIELD:SHIFT[@FROM]: e.g. temperature:+3sd@2026-11-20T00:00:00Z or @version=2.2'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'bias' -x -d 'KEY=VALUE[:STRENGTH]: predictions are worse in that site, region or hw'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'labels' -x -d 'Write ground-truth labels (JSON lines) for a sample of records to FILE'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'label-rate' -x -d 'Share of records labelled'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'iothub' -x -d 'IoT Hub name in iothub-* paths'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'gzip' -d 'Compress every file (.gz)'
complete -c aiot -n '__aiot_at \'sim telemetry\'' -l 'force' -d 'Replace an earlier export in --out'

# aiot hub
complete -c aiot -n '__aiot_at \'hub\'' -a 'serve' -d 'Serve the local hub over HTTP in the Azure IoT Hub or AWS IoT dialect'

# aiot hub serve
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'api' -x -a 'azure aws' -d 'Dialect: azure (IoT Hub service REST) or aws (IoT control plane + iot-data)'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'port' -x -d 'TCP port (0 = any free port; see --port-file)'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'bind' -x -d 'Address to listen on'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'allow-non-loopback' -d 'Allow --bind on an address other than loopback'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'port-file' -r -F -d 'Write the port here once listening (for scripts)'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'credentials-out' -r -F -d 'Write how to connect here, 0600 (Azure: a service connection string; AWS: an access key pair)'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'throttle' -x -d 'Rate limits per operation class, e.g. identity=100/s,query=20/min'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'faults' -x -d 'Injected faults, e.g. 429=0.2,503=0.05,reset=0.02,delay=0.1:200ms'
complete -c aiot -n '__aiot_at \'hub serve\'' -l 'seed' -x -d 'Seed for fault injection'

# aiot completion
complete -c aiot -n '__aiot_at \'completion\' 0' -x -a 'bash zsh fish' -d 'The shell'

# aiot lineage
complete -c aiot -n '__aiot_at \'lineage\'' -a 'audit' -d 'Check telemetry exports for health and attribute every record to a model version'
complete -c aiot -n '__aiot_at \'lineage\'' -a 'merge' -d 'Combine profiles of audits run on shards or machines into one'

# aiot lineage audit
complete -c aiot -n '__aiot_at \'lineage audit\'' -s 'i' -l 'input' -x -a '(__fish_complete_directories)' -d 'Files, folders, globs (**) or URLs (az://, s3://, https://) of telemetry exports'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'format' -x -d 'auto, ndjson, csv, iothub-json, iothub-avro, aws-s3-json (gzip is detected)'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'window' -x -d 'Only records whose hub time is in FROM/TO or FROM/DURATION (RFC 3339; 7d, PT6H)'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'schemas' -x -a '(__fish_complete_directories)' -d 'Folder of telemetry schemas (types, units, ranges, intervals per device class)'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'registry' -x -d 'Hub whose registry attributes senders: local:PATH, or none (default: the profile\'s hub)'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'journal' -x -a '(__fish_complete_directories)' -d 'Rollout journal file or folder (default: the registry hub\'s journal folder)'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'baseline' -x -d 'profile.json of a reference window: DRF001 compares against it'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'policy' -x -d 'Policy YAML: thresholds and severities per check and device class'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'openlineage' -x -d 'Emit OpenLineage RunEvents to file:PATH or http(s)://HOST:PORT[/PATH]'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'out' -r -F -d 'Write audit.json (aiot.audit/v1) here, atomically'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'profile-out' -r -F -d 'Write the mergeable profile.json (aiot.profile/v1) here'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'fail-on' -x -d 'Exit 3 when a check fails at this level: error, warn or never'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'examples' -x -d 'Examples kept per check'
complete -c aiot -n '__aiot_at \'lineage audit\'' -l 'threads' -x -d 'Threads parsing JSON-lines input: 1 = on the reader thread; 0 = automatic: the cores beyond the two the checks use, at least 1'

# aiot lineage merge
complete -c aiot -n '__aiot_at \'lineage merge\'' -l 'out' -r -F -d 'Write the merged profile here (atomically)'
complete -c aiot -n '__aiot_at \'lineage merge\'' -l 'openlineage' -x -d 'Emit OpenLineage START/COMPLETE events: file:PATH (JSON lines) or http://127.0.0.1:5000 (Marquez); default from OPENLINEAGE_URL'

# aiot report
complete -c aiot -n '__aiot_at \'report\'' -a 'governance' -d 'Write the governance report of a period (Markdown, HTML, JSON, model cards); exit 3 when a policy fails'

# aiot report governance
complete -c aiot -n '__aiot_at \'report governance\'' -l 'period' -x -d '2026-W47, last-week, or FROM/TO (dates or RFC 3339, TO exclusive)'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'out' -x -a '(__fish_complete_directories)' -d 'Folder for the report files (kept across periods: changes are shown against the previous one)'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'format' -x -d 'Comma-separated: md, html, json, modelcard'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'policy' -x -d 'Policy file (YAML): approved versions, thresholds, use cases, budgets, rules'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'audits' -x -a '(__fish_complete_directories)' -d 'Folder of lineage audits (audit.json, profile.json) for the period and earlier ones'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'labels' -x -d 'Decisions and later-confirmed labels (NDJSON or CSV) for performance and bias'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'decisions' -x -a '(__fish_complete_directories)' -d 'Telemetry export(s) holding each record\'s prediction (files, folders, globs): the bias audit\'s decisions; --labels join by messageId'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'billing' -x -d 'Billing CSV: date,service,category,site,model_version,cost,currency'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'energy' -x -d 'Energy CSV: CodeCarbon emissions.csv, or date,site,model_version,energy_kwh'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'intensity' -x -d 'Grid intensity overrides CSV: key,g_per_kwh[,year,source]'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'fail-on' -x -d 'Exit 3 when a policy fails at this level: error, warn or never'
complete -c aiot -n '__aiot_at \'report governance\'' -l 'no-hub' -d 'Do not read the hub (registry and journals): those sections say so'

# aiot model
complete -c aiot -n '__aiot_at \'model\'' -a 'add' -d 'Register an ONNX model: SHA-256, size, IR version, opsets, producer, typed inputs and outputs'
complete -c aiot -n '__aiot_at \'model\'' -a 'sign' -d 'Sign a registered version: a detached signature over its digest and metadata'
complete -c aiot -n '__aiot_at \'model\'' -a 'verify' -d 'Check a version\'s signature with a public key, and its file\'s SHA-256 (exit 3 if not)'
complete -c aiot -n '__aiot_at \'model\'' -a 'list' -d 'List registered versions, oldest first'
complete -c aiot -n '__aiot_at \'model\'' -a 'ls' -d 'List registered versions, oldest first (alias of list)'
complete -c aiot -n '__aiot_at \'model\'' -a 'show' -d 'Show a version: digest, URI, signature, ONNX metadata and I/O (-o json: all)'
complete -c aiot -n '__aiot_at \'model\'' -a 'diff' -d 'Compare two versions: digest, metadata and I/O signature (breaking changes flagged)'
complete -c aiot -n '__aiot_at \'model\'' -a 'card' -d 'A model card (Model Card Toolkit JSON) from the registry, rollouts and metrics'
complete -c aiot -n '__aiot_at \'model\'' -a 'keygen' -d 'Create a signing key pair (private key 0600, never printed)'

# aiot model add
complete -c aiot -n '__aiot_at \'model add\'' -l 'name' -x -d 'Artifact name (letters, digits, . _ + -)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'version' -x -d 'Version (immutable once added)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'uri' -x -d 'Where devices download it (default: the file\'s file:// URI)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'sign-key' -x -d 'Sign it with this private key (PEM, mode 0600; Ed25519 or ECDSA P-256)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'card' -x -d 'Model card fields (YAML or JSON, Model Card Toolkit layout)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'triton' -x -d 'Also write DIR/NAME/config.pbtxt and DIR/NAME/N/model.onnx (Triton)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'triton-version' -x -a '(__fish_complete_directories)' -d 'The Triton version folder (default 1)'
complete -c aiot -n '__aiot_at \'model add\'' -l 'triton-max-batch' -x -d 'max_batch_size when the batch dimension is dynamic (default 8)'
complete -c aiot -n '__aiot_at \'model add\' 0' -F -d 'The artifact file'

# aiot model sign
complete -c aiot -n '__aiot_at \'model sign\'' -s 'k' -l 'key' -x -d 'Private key (PEM, mode 0600; Ed25519 or ECDSA P-256, e.g. an aiot ca key)'
complete -c aiot -n '__aiot_at \'model sign\'' -l 'signature-out' -r -F -d 'Also write the raw signature bytes to this file'
complete -c aiot -n '__aiot_at \'model sign\'' -l 'statement-out' -r -F -d 'Also write the signed statement (canonical JSON) to this file'

# aiot model verify
complete -c aiot -n '__aiot_at \'model verify\'' -s 'k' -l 'key' -x -d 'The signer\'s public key (PEM), certificate, or key pair'
complete -c aiot -n '__aiot_at \'model verify\'' -l 'file' -r -F -d 'Check this file\'s content (default: the file that was added, when it still exists)'

# aiot model diff
complete -c aiot -n '__aiot_at \'model diff\'' -l 'fail-on-breaking' -d 'Exit 3 when a change breaks the I/O signature'

# aiot model card
complete -c aiot -n '__aiot_at \'model card\'' -l 'metrics' -x -d 'Add performance metrics: a JSON array of {type, value, slice}'
complete -c aiot -n '__aiot_at \'model card\'' -l 'out' -r -F -d 'Write the card to this file (atomically) instead of stdout'

# aiot model keygen
complete -c aiot -n '__aiot_at \'model keygen\'' -l 'out' -r -F -d 'The private key file (PEM)'
complete -c aiot -n '__aiot_at \'model keygen\'' -l 'public-out' -r -F -d 'The public key file (default: KEY.pub.pem beside it)'
complete -c aiot -n '__aiot_at \'model keygen\'' -l 'algorithm' -x -a 'ed25519 ecdsa-p256' -d 'ed25519 (default) or ecdsa-p256'
complete -c aiot -n '__aiot_at \'model keygen\'' -l 'force' -d 'Replace existing files'

# aiot firmware
complete -c aiot -n '__aiot_at \'firmware\'' -a 'add' -d 'Register a firmware image: SHA-256 and size'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'sign' -d 'Sign a registered version: a detached signature over its digest and metadata'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'verify' -d 'Check a version\'s signature with a public key, and its file\'s SHA-256 (exit 3 if not)'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'list' -d 'List registered versions, oldest first'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'ls' -d 'List registered versions, oldest first (alias of list)'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'show' -d 'Show a version: digest, URI, signature, ONNX metadata and I/O (-o json: all)'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'diff' -d 'Compare two versions: digest, metadata and I/O signature (breaking changes flagged)'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'card' -d 'A model card (Model Card Toolkit JSON) from the registry, rollouts and metrics'
complete -c aiot -n '__aiot_at \'firmware\'' -a 'keygen' -d 'Create a signing key pair (private key 0600, never printed)'

# aiot firmware add
complete -c aiot -n '__aiot_at \'firmware add\'' -l 'name' -x -d 'Artifact name (letters, digits, . _ + -)'
complete -c aiot -n '__aiot_at \'firmware add\'' -l 'version' -x -d 'Version (immutable once added)'
complete -c aiot -n '__aiot_at \'firmware add\'' -l 'uri' -x -d 'Where devices download it (default: the file\'s file:// URI)'
complete -c aiot -n '__aiot_at \'firmware add\'' -l 'sign-key' -x -d 'Sign it with this private key (PEM, mode 0600; Ed25519 or ECDSA P-256)'
complete -c aiot -n '__aiot_at \'firmware add\' 0' -F -d 'The artifact file'

# aiot firmware sign
complete -c aiot -n '__aiot_at \'firmware sign\'' -s 'k' -l 'key' -x -d 'Private key (PEM, mode 0600; Ed25519 or ECDSA P-256, e.g. an aiot ca key)'
complete -c aiot -n '__aiot_at \'firmware sign\'' -l 'signature-out' -r -F -d 'Also write the raw signature bytes to this file'
complete -c aiot -n '__aiot_at \'firmware sign\'' -l 'statement-out' -r -F -d 'Also write the signed statement (canonical JSON) to this file'

# aiot firmware verify
complete -c aiot -n '__aiot_at \'firmware verify\'' -s 'k' -l 'key' -x -d 'The signer\'s public key (PEM), certificate, or key pair'
complete -c aiot -n '__aiot_at \'firmware verify\'' -l 'file' -r -F -d 'Check this file\'s content (default: the file that was added, when it still exists)'

# aiot firmware diff
complete -c aiot -n '__aiot_at \'firmware diff\'' -l 'fail-on-breaking' -d 'Exit 3 when a change breaks the I/O signature'

# aiot firmware card
complete -c aiot -n '__aiot_at \'firmware card\'' -l 'metrics' -x -d 'Add performance metrics: a JSON array of {type, value, slice}'
complete -c aiot -n '__aiot_at \'firmware card\'' -l 'out' -r -F -d 'Write the card to this file (atomically) instead of stdout'

# aiot firmware keygen
complete -c aiot -n '__aiot_at \'firmware keygen\'' -l 'out' -r -F -d 'The private key file (PEM)'
complete -c aiot -n '__aiot_at \'firmware keygen\'' -l 'public-out' -r -F -d 'The public key file (default: KEY.pub.pem beside it)'
complete -c aiot -n '__aiot_at \'firmware keygen\'' -l 'algorithm' -x -a 'ed25519 ecdsa-p256' -d 'ed25519 (default) or ecdsa-p256'
complete -c aiot -n '__aiot_at \'firmware keygen\'' -l 'force' -d 'Replace existing files'

# aiot demo
complete -c aiot -n '__aiot_at \'demo\'' -l 'dir' -x -a '(__fish_complete_directories)' -d 'Folder for everything the demo makes (must be empty or new)'
complete -c aiot -n '__aiot_at \'demo\'' -s 'n' -l 'devices' -x -d 'Simulated fleet size'
complete -c aiot -n '__aiot_at \'demo\'' -l 'keep' -d 'Keep the week\'s telemetry data files (large; removed at the end by default)'
complete -c aiot -n '__aiot_at \'demo\'' -l 'force' -d 'Empty DIR first when an earlier demo left files there'
