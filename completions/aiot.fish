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
        case 'device|register'
            echo 'register'
        case 'device|import'
            echo 'import'
        case 'device|list' 'device|ls'
            echo 'list'
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
        case 'hub|serve'
            echo 'serve'
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
        case 'device list|--limit' 'device update|--tag' 'device update|--untag' 'device update|--desired'
            return 0
        case 'device update|--if-match' 'device export|--format' 'device export|--out' 'device export|-w'
            return 0
        case 'device export|--where' 'ca create|--name' 'ca create|--out' 'ca create|--days'
            return 0
        case 'config set|--profile' 'rollout plan|-f' 'rollout plan|--file' 'rollout plan|--out'
            return 0
        case 'rollout apply|-f' 'rollout apply|--file' 'rollout apply|--timeout' 'rollout approve|--remark'
            return 0
        case 'rollout deny|--remark' 'rollout pause|--remark' 'rollout resume|--remark' 'rollout promote|--remark'
            return 0
        case 'rollout abort|--remark' 'rollout rollback|--remark' 'rollout audit verify|--journal' 'sim fleet|-n'
            return 0
        case 'sim fleet|--devices' 'sim fleet|--profile' 'sim fleet|--seed' 'sim fleet|--prefix'
            return 0
        case 'sim fleet|--start' 'sim advance|--to' 'hub serve|--api' 'hub serve|--port'
            return 0
        case 'hub serve|--bind' 'hub serve|--port-file' 'hub serve|--credentials-out' 'hub serve|--throttle'
            return 0
        case 'hub serve|--faults' 'hub serve|--seed'
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
complete -c aiot -l 'version' -d 'Print the version and exit'

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
complete -c aiot -n '__aiot_at \'\'' -a 'report' -d 'Governance reports'

# aiot device
complete -c aiot -n '__aiot_at \'device\'' -a 'register' -d 'Register one device (SAS keys, self-signed or CA-signed X.509)'
complete -c aiot -n '__aiot_at \'device\'' -a 'import' -d 'Register devices from a CSV, YAML or JSON Lines file (idempotent)'
complete -c aiot -n '__aiot_at \'device\'' -a 'list' -d 'List devices, optionally filtered by a query'
complete -c aiot -n '__aiot_at \'device\'' -a 'ls' -d 'List devices, optionally filtered by a query (alias of list)'
complete -c aiot -n '__aiot_at \'device\'' -a 'show' -d 'Show a device\'s identity and twin'
complete -c aiot -n '__aiot_at \'device\'' -a 'update' -d 'Change a device\'s tags, desired properties or status'
complete -c aiot -n '__aiot_at \'device\'' -a 'delete' -d 'Delete devices (asks on a terminal; --yes otherwise)'
complete -c aiot -n '__aiot_at \'device\'' -a 'rm' -d 'Delete devices (asks on a terminal; --yes otherwise) (alias of delete)'
complete -c aiot -n '__aiot_at \'device\'' -a 'export' -d 'Export devices as CSV or JSON Lines (never secrets), re-importable'

# aiot device register
complete -c aiot -n '__aiot_at \'device register\'' -l 'auth' -x -a 'sas x509-self-signed x509-ca' -d 'Authentication: sas, x509-self-signed or x509-ca'
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
complete -c aiot -n '__aiot_at \'config get\' 0' -x -a 'hub output color ca_dir azure.connection_string_file azure.endpoint aws.region aws.endpoint aws.profile azure.tier azure.units cacert profile' -d 'Setting name, e.g. hub, output, aws.region'

# aiot config set
complete -c aiot -n '__aiot_at \'config set\'' -l 'profile' -x -a '(__aiot_dynamic profiles)' -d 'Write into this profile\'s section, creating it if needed (default: the global --profile, else the top level)'
complete -c aiot -n '__aiot_at \'config set\' 0' -x -a 'hub output color ca_dir azure.connection_string_file azure.endpoint aws.region aws.endpoint aws.profile azure.tier azure.units cacert' -d 'Setting name, e.g. hub, output, aws.region'

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

# aiot rollout apply
complete -c aiot -n '__aiot_at \'rollout apply\'' -s 'f' -l 'file' -r -F -d 'The rollout spec (rollout.yaml)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'wait' -d 'Follow the rollout to a final state: exit 0 succeeded, 3 rolled back/aborted, 6 waiting'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'timeout' -x -d 'With --wait: give up after this much hub time (exit 6)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'detach' -d 'Return once the current wave is dispatched (the default without --wait)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'steal-lease' -d 'Take over from another driver (journaled)'
complete -c aiot -n '__aiot_at \'rollout apply\'' -l 'allow-underpowered' -d 'Start even when a critical gate cannot detect its threshold'

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

# aiot sim fleet
complete -c aiot -n '__aiot_at \'sim fleet\'' -s 'n' -l 'devices' -x -d 'How many devices (ids PREFIX00001...)'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'profile' -r -F -d 'Simulator profile YAML (default: the built-in one)'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'seed' -x -d 'Seed of every random draw: the same seed, the same fleet'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'prefix' -x -d 'Device id prefix'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'start' -x -d 'Start the hub\'s sim clock at this RFC 3339 time (default: now), if it has none'
complete -c aiot -n '__aiot_at \'sim fleet\'' -l 'print-default-profile' -d 'Print the built-in profile, to copy and edit'

# aiot sim advance
complete -c aiot -n '__aiot_at \'sim advance\'' -l 'to' -x -d 'Advance to this RFC 3339 time instead'

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
