// The long help of every command: what the man pages say beyond the one-line summaries in the
// tree. tests/cli/test_docs.cpp checks that every visible command has an entry and that every
// example parses against the tree, so a renamed flag cannot leave a stale example behind.
#include "docs/long_help.hpp"

#include <algorithm>

namespace aiot::cli::docs {

namespace {

const std::vector<LongHelp>& table() {
  static const std::vector<LongHelp> k_table = {
      {"",
       "aiot is one git-style binary for operating AIoT fleets. It registers devices with SAS keys or X.509 "
       "certificates, rolls out models and firmware in canary waves with statistical health gates and automatic "
       "rollback, and keeps a hash-chained journal of every decision.\n\n"
       "It drives the Azure IoT Hub service REST API and the AWS IoT Core REST API, and it works out of the box on "
       "an embedded local hub (a SQLite file) with a simulated fleet, so everything can be tried, scripted and "
       "tested offline. The hub is chosen by --hub, the AIOT_HUB variable or the active profile.\n\n"
       "Data goes to standard output, everything else (progress, confirmations, warnings) to standard error. "
       "-o json is the machine interface: stable field names and RFC 3339 UTC times. Settings are read, highest "
       "first, from flags, AIOT_* variables, ./.aiot.yaml, the user settings file, /etc/aiot/config.yaml and the "
       "built-in defaults.",
       {
           {"Register a device with SAS keys on the local hub", "aiot device register cam-1 --tag site=berlin"},
           {"List the devices in Berlin as JSON", "aiot device list --where \"tags.site = 'berlin'\" -o json"},
           {"Start a rollout and follow it to the end (exit 0, 3 or 6)", "aiot rollout apply -f rollout.yaml --wait"},
           {"Use another hub for one command", "aiot --hub local:/tmp/demo.db device list"},
           {"Install bash completion for the current user",
            "aiot completion bash > ~/.local/share/bash-completion/completions/aiot"},
       }},

      // ---- device -------------------------------------------------------------------------
      {"device",
       "Devices live in the hub's identity registry: an id, an authentication method (SAS keys, a self-signed "
       "X.509 certificate, or a certificate signed by the fleet CA), tags, and a twin with desired and reported "
       "properties.\n\n"
       "Secrets (SAS keys, private keys) are written 0600 to --out-dir and never printed unless --show-secrets "
       "asks for them. Registration is idempotent: registering or importing a device that already exists with the "
       "same content succeeds and changes nothing.",
       {
           {"List the fleet", "aiot device list"},
           {"Import a fleet file, signing certificates with the fleet CA",
            "aiot device import -f fleet.csv --ca ./ca --out-dir ./credentials"},
       }},
      {"device register",
       "Registers one device. With --auth sas (the default) the hub generates primary and secondary keys. With "
       "--auth x509-self-signed aiot generates an ECDSA P-256 key and a self-signed certificate whose CN is the "
       "device id; with --auth x509-ca the certificate is signed by the fleet CA (--ca, or the ca_dir setting). "
       "--cert uses an existing PEM certificate instead, taking its thumbprints.\n\n"
       "Generated keys and certificates are written 0600 to --out-dir (X.509 default: ./aiot-devices). The device "
       "twin is printed on standard output, without secrets unless --show-secrets is given.\n\n"
       "On AWS IoT the certificate is registered (RegisterCertificateWithoutCA), attached to the thing and given "
       "the device policy (the aws.policy setting, created least-privilege when missing). --auth aws-generated "
       "lets AWS make the key pair (CreateKeysAndCertificate); the private key is written 0600 before anything is "
       "printed.",
       {
           {"A device with SAS keys and two tags", "aiot device register gw-1 --tag site=berlin --tag hw=x86"},
           {"A device with a certificate signed by the fleet CA",
            "aiot device register cam-1 --auth x509-ca --ca ./ca --out-dir ./credentials"},
           {"A self-signed device, registered disabled",
            "aiot device register sensor-1 --auth x509-self-signed --disabled"},
           {"A thing whose key pair AWS IoT makes", "aiot --hub aws device register cam-9 --auth aws-generated --out-dir ./credentials"},
       }},
      {"device import",
       "Registers many devices from a file: CSV with a header row (id,auth,tags.KEY,...), YAML (a list of "
       "devices) or JSON Lines. The format comes from --format, else from the file extension or its content; '-' "
       "reads standard input.\n\n"
       "The import is idempotent: a device that exists with the same content is 'unchanged', one with other "
       "content is a conflict unless --update replaces it. Every row gets an outcome (created, updated, unchanged, "
       "failed); failed rows are reported as FILE:LINE on standard error and make the exit status 2, while the "
       "other rows are still imported. Credentials are generated only for devices the hub does not have yet.",
       {
           {"Import a CSV fleet file", "aiot device import -f fleet.csv"},
           {"Import again after editing tags: replace what changed", "aiot device import -f fleet.csv --update"},
           {"Import JSON Lines from standard input", "aiot device import -f - --format jsonl < devices.jsonl"},
       }},
      {"device list",
       "Lists devices, optionally filtered by a query condition over the twin: tags.*, properties.desired.*, "
       "properties.reported.*, deviceId, status and authenticationType, with =, !=, <, >, IN, AND, OR, NOT, "
       "IS_DEFINED(), STARTSWITH() and ENDSWITH(). --tag KEY=VALUE filters are joined to the condition with AND.\n\n"
       "On a terminal the table is aligned and coloured; piped, it is tab-separated. -o json prints the twins.",
       {
           {"Every device", "aiot device list"},
           {"Devices in Berlin that do not run model 2.0 yet",
            "aiot device list --where \"tags.site = 'berlin' AND properties.reported.aiot.ota.version != '2.0'\""},
           {"The ids of the first ten Jetson devices",
            "aiot device list --tag hw=jetson-orin -n 10 -o json | jq -r '.[].deviceId'"},
       }},
      {"device count",
       "Counts devices, optionally only those a query condition matches (--where, --tag as for device list), "
       "grouped by the values of one or more property paths (--by, repeatable): how many devices run each model "
       "version, in which install state, per site. The hub counts: IoT Hub answers one aggregation query "
       "(SELECT ..., COUNT() ... GROUP BY), the local hub one SQL query; AWS IoT lists the things and counts "
       "them here.\n\n"
       "One row per group, most devices first; a path a device does not have is left out of its row (an "
       "empty cell in the table). Columns are named after the paths' last names.",
       {
           {"Devices per model version", "aiot device count --by properties.reported.aiot.ota.version"},
           {"Install states of the devices a rollout's canary wave updates",
            "aiot device count --where \"tags.aiot.rollouts['det-v3'].wave = 'canary'\" "
            "--by properties.reported.aiot.ota.version --by properties.reported.aiot.ota.state"},
           {"How many devices Berlin has", "aiot device count --tag site=berlin -o json"},
       }},
      {"device show",
       "Prints one device's identity and twin: status, authentication type and thumbprints, tags, desired and "
       "reported properties with their versions, and the etag used by device update --if-match. SAS keys are "
       "left out unless --show-secrets is given.",
       {
           {"A device as YAML", "aiot device show cam-1 -o yaml"},
           {"The model version a device reports",
            "aiot device show cam-1 -o json | jq -r .properties.reported.aiot.ota.version"},
       }},
      {"device update",
       "Changes a device's tags, desired properties or status in one request. --desired takes a property path and "
       "a JSON value; a value that is not JSON is taken as a string. --if-match makes the update conditional on "
       "the twin's etag (exit 1 when someone changed the device in between).",
       {
           {"Move a device to another site", "aiot device update cam-1 --tag site=lyon --untag ring"},
           {"Ask a device for a model version",
            "aiot device update cam-1 --desired 'aiot.model={\"name\":\"detector\",\"version\":\"2.0\"}'"},
           {"Disable a device", "aiot device update cam-1 --disable"},
       }},
      {"device delete",
       "Deletes devices from the registry. Every id is checked first, so a typo in one id deletes nothing. On a "
       "terminal aiot asks for confirmation; otherwise --yes is required (exit 2 without it). --missing-ok makes "
       "ids that do not exist a success, for idempotent clean-up scripts.",
       {
           {"Delete two devices without asking", "aiot device delete cam-1 cam-2 --yes"},
           {"Clean up whether or not the device exists", "aiot device delete sensor-1 --missing-ok --yes"},
       }},
      {"device export",
       "Writes the registry as CSV or JSON Lines in the format device import reads, so a fleet can be copied from "
       "one hub to another. Secrets are never exported. --out writes the file atomically.",
       {
           {"Export the fleet as CSV", "aiot device export --out fleet.csv"},
           {"Copy the Berlin devices to another hub",
            "aiot device export --where \"tags.site = 'berlin'\" --format jsonl --out berlin.jsonl"},
       }},

      // ---- ca -------------------------------------------------------------------------------
      {"ca",
       "The fleet certificate authority signs device certificates for --auth x509-ca. It is a folder holding "
       "ca.key.pem (ECDSA P-256, 0600) and ca.cert.pem. Point the ca_dir setting at it to avoid passing --ca to "
       "every command. Upload ca.cert.pem to the cloud hub as a verified CA certificate before devices connect.",
       {
           {"Create a fleet CA", "aiot ca create --name \"Acme fleet CA\" --out ./ca"},
           {"Make it the default for x509-ca devices", "aiot config set ca_dir ./ca"},
       }},
      {"ca create",
       "Creates a new fleet CA in the --out folder: an ECDSA P-256 private key written 0600 and a self-signed CA "
       "certificate with the given common name. An existing CA in the folder is never overwritten.",
       {
           {"A CA valid for ten years (the default)", "aiot ca create --name \"Acme fleet CA\" --out ./ca"},
           {"A short-lived CA for a test", "aiot ca create --name \"Test CA\" --out /tmp/test-ca --days 30"},
       }},
      {"ca show",
       "Prints the subject, serial number, validity and SHA-1 and SHA-256 thumbprints of a fleet CA's "
       "certificate, and where its files are.",
       {
           {"Show the CA in ./ca", "aiot ca show ./ca"},
           {"The SHA-256 thumbprint only", "aiot ca show ./ca -o json | jq -r .thumbprintSha256"},
       }},

      // ---- config ---------------------------------------------------------------------------
      {"config",
       "Settings come from, highest first: flags, AIOT_* environment variables, ./.aiot.yaml, the user file "
       "($XDG_CONFIG_HOME/aiot/config.yaml, or --config FILE), /etc/aiot/config.yaml, and the built-in defaults. "
       "Every value remembers where it came from.\n\n"
       "A profile is a named section of a settings file (profiles: NAME: {...}) whose values override the file's "
       "top-level ones while it is active. The active profile is --profile, else AIOT_PROFILE, else the profile: "
       "key of the files, else 'default'.",
       {
           {"Where does each value come from?", "aiot config list --show-origin"},
           {"A 'prod' profile on Azure, then switch to it", "aiot config set --profile prod hub azure"},
       }},
      {"config list",
       "Lists the active profile and every setting with its value; secrets are shown as (secret). --show-origin "
       "adds where each value comes from: a flag, an environment variable, a file (and profile), or the default.",
       {
           {"All settings", "aiot config list"},
           {"All settings with their origin, as JSON", "aiot config list --show-origin -o json"},
       }},
      {"config get",
       "Prints one setting's value, bare, for scripts; 'profile' prints the active profile. With an explicit -o "
       "json, yaml or csv it prints the key, value and origin instead. Secret settings are never printed.",
       {
           {"The hub in use", "aiot config get hub"},
           {"The active profile and where it was chosen", "aiot config get profile -o json"},
       }},
      {"config set",
       "Writes a setting into the user settings file, or into a profile's section with --profile, creating the "
       "file or section if needed. The value is checked before anything is written, and aiot warns when a "
       "higher-precedence source (a flag, an environment variable or ./.aiot.yaml) still overrides it.",
       {
           {"JSON output by default", "aiot config set output json"},
           {"A profile for a hub emulator", "aiot config set --profile emu azure.endpoint http://127.0.0.1:8443"},
       }},
      {"config profiles",
       "Lists the profiles defined in the settings files, plus 'default', with the hub each one uses; the active "
       "profile is marked.",
       {
           {"All profiles", "aiot config profiles"},
       }},
      {"config use",
       "Makes a profile the active one by writing profile: NAME into the user settings file. The profile must "
       "exist in one of the settings files (or be 'default').",
       {
           {"Switch to the prod profile", "aiot config use prod"},
           {"Back to the top-level settings", "aiot config use default"},
       }},

      // ---- rollout --------------------------------------------------------------------------
      {"rollout",
       "A rollout moves a cohort of devices from a baseline version of a model or firmware to a target version in "
       "waves. It is described by a rollout.yaml spec: metadata.name, spec.artifact (name, version, uri, sha256), "
       "spec.targets.query (which devices), spec.waves (sizes, bake times, approvals) and spec.gates (health "
       "checks comparing each wave with control devices that stay on the baseline).\n\n"
       "The controller's state lives in the hub, written with compare-and-swap under a lease, so any machine can "
       "drive or resume a rollout. Every transition is appended to a hash-chained journal whose head is mirrored "
       "in the hub. A failing critical gate rolls the devices back (or pauses or aborts, as the spec says).\n\n"
       "On AWS IoT Core (--hub aws) the record is the named shadow aiot-rollout of the thing aiot-ctl-<name>, "
       "waves and their controls are static thing groups, and each wave is one IoT job on its group: rate.perMinute "
       "becomes maximumPerMinute, timeouts.install the in-progress timeout, and the outcome gate an abortConfig "
       "backstop; rate.maxInFlight does not apply there. A rollback cancels the wave jobs still in progress and "
       "sends the baseline as a new job. Fleet Indexing must index the aiot and aiot-health shadows.\n\n"
       "Exit status of apply --wait and reconcile: 0 succeeded, 3 rolled back or aborted, 6 still waiting "
       "(approval, or --timeout).",
       {
           {"Check the plan", "aiot rollout plan -f rollout.yaml"},
           {"Start the rollout and follow it to the end", "aiot rollout apply -f rollout.yaml --wait --timeout 2h"},
           {"Where does the rollout stand?", "aiot rollout status detector-2-0"},
       }},
      {"rollout plan",
       "Reads a rollout spec and prints the plan without changing anything: the cohort, the baseline version, the "
       "waves with their devices and controls, and for each gate whether the wave is large enough to detect what "
       "the gate is set to catch.",
       {
           {"The plan as a table", "aiot rollout plan -f rollout.yaml"},
           {"The plan as JSON", "aiot rollout plan -f rollout.yaml -o json"},
       }},
      {"rollout apply",
       "Starts a rollout from its spec, or resumes it: applying the same spec again is idempotent (the spec's "
       "digest is recorded), while a changed spec for an existing rollout is refused. A plan in which a critical "
       "gate cannot detect its threshold is refused unless --allow-underpowered.\n\n"
       "Without --wait, apply returns once the first wave is dispatched and baking; reconcile or another apply "
       "moves it on. With --wait it follows the rollout to a final state, evaluating gates as reports arrive; on a "
       "simulated local hub the hub's clock moves instead of the process sleeping. --steal-lease takes over from "
       "another driver (journaled).",
       {
           {"Start a rollout and return", "aiot rollout apply -f rollout.yaml"},
           {"Start and follow it, giving up after 4 hours of hub time",
            "aiot rollout apply -f rollout.yaml --wait --timeout 4h"},
       }},
      {"rollout status",
       "Shows a rollout: its phase, the current wave, each wave's devices by state, and each gate's sample size, "
       "estimate, interval and verdict. --watch refreshes the view until the rollout is final.",
       {
           {"The status tree", "aiot rollout status detector-2-0"},
           {"The phase only, for a script", "aiot rollout status detector-2-0 -o json | jq -r .phase"},
       }},
      {"rollout list",
       "Lists the rollouts recorded in the hub with their phase, current wave, target and baseline versions.",
       {
           {"All rollouts", "aiot rollout list"},
       }},
      {"rollout approve",
       "Approves a rollout that waits for approval, before its start or before a wave (spec.approvals). Who "
       "approved and --remark are recorded in the journal.",
       {
           {"Approve the next wave", "aiot rollout approve detector-2-0 --remark \"canary looks good\""},
       }},
      {"rollout deny",
       "Denies a waiting approval. A rollout that has already dispatched devices rolls them back; one that has not "
       "started ends without touching any device.",
       {
           {"Deny with a reason", "aiot rollout deny detector-2-0 --remark \"freeze until Monday\""},
       }},
      {"rollout pause",
       "Pauses a running rollout: nothing is dispatched and no wave is promoted until it is resumed. Devices that "
       "already received the new version keep it.",
       {
           {"Pause during an incident", "aiot rollout pause detector-2-0 --remark \"incident 4711\""},
       }},
      {"rollout resume",
       "Resumes a paused rollout. A wave whose gates were inconclusive gets a fresh bake window.",
       {
           {"Resume", "aiot rollout resume detector-2-0"},
       }},
      {"rollout promote",
       "Promotes the current wave by hand, skipping its gates; --full skips the gates and approvals of every "
       "remaining wave too. The override is journaled with who did it.",
       {
           {"Promote the current wave", "aiot rollout promote detector-2-0 --remark \"verified by hand\""},
           {"Finish the rollout now", "aiot rollout promote detector-2-0 --full"},
       }},
      {"rollout abort",
       "Stops a rollout for good. --keep leaves every device on what it runs now; --revert rolls back the devices "
       "that got the new version, like rollout rollback.",
       {
           {"Stop and leave devices as they are", "aiot rollout abort detector-2-0 --keep"},
           {"Stop and restore the baseline", "aiot rollout abort detector-2-0 --revert --remark \"wrong build\""},
       }},
      {"rollout rollback",
       "Rolls back every device that got the new version to the baseline model recorded when the rollout started, "
       "and waits for nothing: status shows the devices confirming the baseline.",
       {
           {"Roll back", "aiot rollout rollback detector-2-0 --remark \"latency regression\""},
       }},
      {"rollout reconcile",
       "Advances rollouts by one step each and returns: evaluates gates, promotes, dispatches the next wave or "
       "rolls back, as the state and the device reports say. Meant for cron jobs and CI pipelines that drive "
       "rollouts without a long-running process.",
       {
           {"Advance every rollout that is not final", "aiot rollout reconcile --all"},
           {"Advance two rollouts", "aiot rollout reconcile detector-2-0 firmware-5-1"},
       }},
      {"rollout history",
       "Prints every transition of a rollout from its journal: planning, wave dispatches, gate evaluations with "
       "their inputs, promotions, approvals and rollbacks, with who did what.",
       {
           {"The history as a table", "aiot rollout history detector-2-0"},
           {"The raw journal events", "aiot rollout history detector-2-0 -o json"},
       }},
      {"rollout audit",
       "Checks that a rollout's journal has not been edited, reordered or truncated: every line's hash chains to "
       "the previous one, and the last one matches the head recorded in the hub.",
       {
           {"Verify a journal", "aiot rollout audit verify detector-2-0"},
       }},
      {"rollout audit verify",
       "Verifies the hash chain of a rollout's journal and that it reaches the head the hub recorded. Exit 0 when "
       "it does; exit 3, naming the first bad line as FILE:LINE, when it does not.",
       {
           {"Verify the default journal", "aiot rollout audit verify detector-2-0"},
           {"Verify a copy of the journal",
            "aiot rollout audit verify detector-2-0 --journal backup/detector-2-0.jsonl"},
       }},

      // ---- hub ------------------------------------------------------------------------------
      {"hub",
       "The local hub is a SQLite file. hub serve exposes it over HTTP in the Azure IoT Hub or AWS IoT dialect, so "
       "scripts and aiot's own REST providers can be tested against it, with throttling and injected faults.",
       {
           {"Serve the default local hub in the Azure dialect", "aiot hub serve --api azure --port 8443"},
       }},
      {"hub serve",
       "Serves a local hub over HTTP until interrupted. --api azure speaks the IoT Hub service REST API (SAS "
       "authentication); --api aws speaks the IoT control plane and iot-data (SigV4). It listens on loopback "
       "only unless --allow-non-loopback. --port 0 picks a free port and --port-file tells scripts which; "
       "--credentials-out writes how to connect, 0600. --throttle and --faults make it behave like a busy cloud.",
       {
           {"An Azure emulator on a free port, for a test script",
            "aiot --hub local:/tmp/emu.db hub serve --api azure --port 0 --port-file /tmp/emu.port --credentials-out "
            "/tmp/emu.conn"},
           {"An AWS emulator that throttles and fails now and then",
            "aiot hub serve --api aws --port 9443 --throttle identity=100/s,query=20/min --faults 429=0.2,503=0.05"},
       }},

      // ---- sim ------------------------------------------------------------------------------
      {"sim",
       "The fleet simulator makes rollouts real without hardware. Simulated devices live in the local hub like "
       "any other device; they pick up a desired model version and report downloading, installing, then succeeded "
       "or failed with sampled delays, and after an update they report health metrics (crashes, latency, "
       "confidence) drawn from a per-version profile.\n\n"
       "Everything is deterministic from a seed, and time is the hub's own sim clock, which only sim advance (and "
       "rollout apply --wait on a simulated hub) moves: a three-wave rollout with bake times runs in seconds.",
       {
           {"A fleet of 200 devices", "aiot sim fleet --devices 200"},
           {"Let two hours of device events happen", "aiot sim advance 2h"},
       }},
      {"sim fleet",
       "Registers N simulated devices (PREFIX00001, PREFIX00002, ...) on the local hub with tags and a starting "
       "model version drawn from the profile. It is idempotent: running it again changes nothing, and a larger N "
       "adds the missing devices. The first run starts the hub's sim clock at --start (default: now).\n\n"
       "--print-default-profile prints the built-in profile (versions, failure and crash rates, latency and "
       "confidence distributions, delays) as YAML, to copy, edit and pass back with --profile.",
       {
           {"100 devices with the built-in profile", "aiot sim fleet --devices 100"},
           {"A reproducible fleet on its own hub file",
            "aiot --hub local:/tmp/sim.db sim fleet -n 500 --seed 42 --prefix cam- --start 2026-11-23T09:00:00Z"},
           {"Start from the built-in profile", "aiot sim fleet --print-default-profile > profile.yaml"},
       }},
      {"sim advance",
       "Moves the hub's sim clock forward by DURATION (or to --to TIME) and plays every device event due up to "
       "then: installs that start, progress, successes and failures, health reports, devices going offline. "
       "Prints a summary of what happened.",
       {
           {"Two hours later", "aiot sim advance 2h"},
           {"To a given time", "aiot sim advance --to 2026-11-24T09:00:00Z"},
       }},
      {"sim status",
       "Prints the sim clock, the seed and profile, and device counts: in all, offline, installing, by reported "
       "model version and by OTA state.",
       {
           {"Where the simulation stands", "aiot sim status"},
           {"Devices per version, for a script", "aiot sim status -o json | jq .byVersion"},
       }},
      {"sim telemetry",
       "Writes the simulated fleet's telemetry for a window ending at the sim clock, in a cloud export layout "
       "(ndjson, csv, iothub-json, iothub-avro, aws-s3-json), optionally gzip'd. Each record carries the model "
       "version the device ran at that instant. Defects are planted at a rate or from a YAML file of counts, and "
       "DIR/manifest.json records what was planted and what aiot lineage audit must find. --drift, --bias and "
       "--labels set up scenarios for the governance report.",
       {
           {"A week at one message a minute with defects", "aiot sim telemetry --out exports --hours 168 --interval 1m --defects 0.001"},
           {"IoT Hub Avro routing exports, gzip'd", "aiot sim telemetry --out azure --hours 24 --format iothub-avro --gzip"},
           {"A drifting field, a biased site and labels",
            "aiot sim telemetry --out week --hours 168 --drift temperature:+3sd@version=2.2 --bias site=site-3 --labels week/labels.jsonl"},
       }},

      // ---- demo ---------------------------------------------------------------------------------
      {"demo",
       "Runs the whole mission on an embedded local hub in a fresh folder in under a minute: it creates a fleet CA, "
       "registers cameras with CA-signed X.509 certificates, simulates a fleet, rolls out a healthy model version "
       "in waves, then detector 2.1, which fails 15% of installs, so the canary gate catches it and rolls it back. "
       "Then it writes a week of telemetry with planted defects, audits its lineage and writes that week's "
       "governance report in Markdown, HTML and JSON.\n\n"
       "Every step is an ordinary aiot command printed on standard error before it runs, so it can be replayed "
       "after export AIOT_HUB=local:DIR/hub.db. Standard output holds only the closing summary of where everything "
       "is. Exit 0 means every step did what it should (the bad rollout's exit 3 is expected); otherwise the demo "
       "stops at the failing step with its exit code.",
       {
           {"The tour, in ./aiot-demo", "aiot demo"},
           {"A larger fleet elsewhere, summary as JSON", "aiot demo --dir /tmp/aiot-demo --devices 2000 -o json"},
           {"Again in the same folder, keeping the telemetry files", "aiot demo --force --keep"},
       }},
      // ---- help and completion ----------------------------------------------------------------
      {"help",
       "Prints the help of a command (the same as --help), or a topic: exit-codes lists the exit status of every "
       "command, environment lists the environment variables aiot reads.",
       {
           {"The exit codes", "aiot help exit-codes"},
           {"The help of a verb", "aiot help device import"},
       }},
      {"completion",
       "Prints a completion script for bash, zsh or fish. The scripts complete groups, verbs, options and choice "
       "values from the command tree built into them, and profile names, device ids and rollout names by asking "
       "aiot itself (aiot __complete, time-boxed to two seconds). Packages install them in the system locations; "
       "the commands below install them for one user.",
       {
           {"Install the bash completion for the current user",
            "aiot completion bash > ~/.local/share/bash-completion/completions/aiot"},
           {"Install the zsh completion as a file named _aiot in a folder of $fpath",
            "aiot completion zsh > ~/.zfunc/_aiot"},
           {"Install the fish completion for the current user",
            "aiot completion fish > ~/.config/fish/completions/aiot.fish"},
       }},

      // ---- lineage ------------------------------------------------------------------------------
      {"lineage",
       "Audits the lineage and health of device telemetry where it lies: exports on disk or in Azure Blob Storage "
       "and Amazon S3, as NDJSON, CSV, IoT Hub routing JSON and Avro, or AWS IoT rule S3 JSON, gzip'd or not. Each "
       "record is attributed to the device, identity, schema and model version that produced it (from the "
       "registry and the rollout journal), and checked for clock health (device clock against hub clock), gaps, "
       "duplicates, missing and out-of-range fields, outliers, stuck sensors, unknown schemas and drift.\n\n"
       "Audits stream with bounded memory and write audit.json, a mergeable profile.json and OpenLineage events; "
       "profiles from shards merge into one. See docs/lineage.md and docs/storage-inputs.md.",
       {
           {"Audit a folder of exports", "aiot lineage audit --input exports/ --out audit.json"},
           {"Merge the profiles of two shards", "aiot lineage merge a/profile.json b/profile.json --out week.json"},
       }},
      {"lineage audit",
       "Reads every input once, streamed (a reader thread, JSON-lines parsed on --threads threads, the record "
       "checks and the field checks on a thread each; memory bounded by devices and fields, not records), and runs the checks of docs/lineage.md: TS001-TS007 (timestamps, future, skew, "
       "order, duplicates, gaps, late arrivals), FR001 freshness, CMP001 completeness, RNG001 ranges, OUT001 "
       "outliers, STK001 stuck sensors, SCH001 schemas, DRF001 drift against --baseline, and attribution: ATT001 "
       "no known model version, ATT002 a record claiming a version the ledger says the device did not run (a "
       "canary leak or a failed install), REG001 senders not in the registry, REG002 disabled devices still "
       "sending. Malformed input is counted and reported with file:offset, and the audit goes on.\n\n"
       "Inputs are files, folders, globs (**) or URLs: az://ACCOUNT/CONTAINER/PREFIX or https blob URLs (SAS "
       "token, AZURE_STORAGE_CONNECTION_STRING), s3://BUCKET/PREFIX (the AWS credential chain); --window narrows "
       "remote listings by the time-based path layout. Exit 0 clean, 3 when a check fails at --fail-on, 2 bad "
       "input, 4 credentials refused.",
       {
           {"Audit a week of exports with a table summary", "aiot lineage audit --input 'exports/**/*.json' --window 2026-11-16T00:00:00Z/7d"},
           {"Write the audit, the profile and OpenLineage events",
            "aiot lineage audit --input exports/ --out audit.json --profile-out profile.json --openlineage file:lineage.jsonl"},
           {"Compare with last week's profile, warnings fail too",
            "aiot lineage audit --input exports/ --baseline 2026-W46/profile.json --fail-on warn"},
           {"Audit IoT Hub routing exports in Azure Blob Storage",
            "aiot lineage audit --input az://acct/routing/aiot-hub/ --window 2026-11-26T00:00:00Z/1d"},
           {"Audit AWS IoT rule output in S3", "aiot lineage audit --input s3://fleet-telemetry/iot/2026/11/"},
       }},
      {"lineage merge",
       "Combines the profile.json files written by aiot lineage audit --profile-out on different shards or "
       "machines into the profile of their union: counts add, the KLL, HLL and frequent-item sketches merge, and "
       "windows widen. Writes atomically with --out, or prints the profile with -o json. With --openlineage (or "
       "OPENLINEAGE_URL) it emits START and then COMPLETE or FAIL events.",
       {
           {"Merge shards into a week", "aiot lineage merge shard-1/profile.json shard-2/profile.json --out week.json"},
           {"Print the merged profile", "aiot lineage merge a.json b.json -o json"},
           {"Merge and report the run to Marquez", "aiot lineage merge a.json b.json --out all.json --openlineage http://127.0.0.1:5000"},
       }},
      // ---- report -------------------------------------------------------------------------------
      {"report",
       "Governance reports: what a cron job runs every Monday and a review board reads. aiot report governance "
       "joins the registry, the rollout journals (their chains verified), lineage audits, labels, billing and "
       "energy inputs and a policy file into one deterministic report: Markdown, a single-file HTML page with "
       "inline SVG charts, JSON, and model cards. See docs/report.md and docs/report-metrics.md.",
       {
           {"Last week's report", "aiot report governance --period last-week --out reports/ --audits audits/"},
       }},
      {"report governance",
       "Writes the governance report of a period (an ISO week such as 2026-W47, last-week, or FROM/TO) into --out: "
       "a summary with changes since the previous period's report in the same folder, KPIs of the use cases in "
       "the policy, update compliance (approved versions, time to adopt, stragglers, failed installs, canary "
       "leaks, rollouts from the verified journals), data health from the lineage audits, model performance and "
       "decay (label-free when no labels are given), drift (PSI, Jensen-Shannon, Wasserstein, KS), a bias audit "
       "per site, region and hw class with confidence intervals, cost per inference, carbon per deployment (grid "
       "intensity by region with its source and year), fleet security posture, policy adherence with evidence, "
       "and the evidence itself (input hashes, OpenLineage run ids, journal heads, aiot version).\n\n"
       "A section without its inputs says so instead of inventing numbers. The same inputs and period give "
       "byte-identical files, written atomically; a re-run replaces the period's files. Exit 3 when a policy "
       "fails at --fail-on (default error), so cron and CI can alert.",
       {
           {"The weekly report from cron", "aiot report governance --period last-week --out reports/ --audits audits/ --policy policy.yaml"},
           {"One week in every format, with billing and energy inputs",
            "aiot report governance --period 2026-W47 --format md,html,json,modelcard --out reports/ --billing cost.csv --energy emissions.csv"},
           {"Bias and performance from decisions and labels",
            "aiot report governance --period 2026-W47 --out reports/ --decisions exports/ --labels labels.jsonl --fail-on warn"},
       }},
      // ---- model and firmware (artifacts) -----------------------------------------------------
      {"model",
       "The artifact registry for ML models: every version an ONNX file with its SHA-256, size, URI, inspected "
       "metadata (IR version, opsets, producer, typed inputs and outputs) and an optional detached signature. "
       "Rollout specs name a registered version as artifact: {model: NAME, version: V}; plan and apply resolve it, "
       "refuse it unsigned when signatures are required and refuse an I/O signature that breaks the baseline's.\n\n"
       "On the local hub the registry lives in the hub's file; for Azure and AWS profiles in "
       "$XDG_DATA_HOME/aiot/artifacts/<profile>-<hub>.db. See docs/artifacts.md.",
       {
           {"Register and sign a model", "aiot model add vision.onnx --name vision --version 7.0.0 --sign-key signer.pem"},
           {"List the versions of a model", "aiot model list vision"},
       }},
      {"model add",
       "Registers a file as a version of a model: SHA-256, size and, read with the ONNX protobuf definitions, the "
       "IR version, opset imports, producer and graph inputs and outputs with element types and shapes. A file "
       "that is not a valid ONNX model is refused with exit 2. Versions are immutable: the same bytes again are "
       "'unchanged', other bytes a conflict.\n\n"
       "--uri is where devices download it (default: the file's file:// URI). --triton DIR also writes a Triton "
       "model repository entry (config.pbtxt for onnxruntime_onnx and N/model.onnx).",
       {
           {"Register a model served from a CDN",
            "aiot model add vision.onnx --name vision --version 7.0.0 --uri https://cdn.example/vision-7.0.0.onnx"},
           {"Register, sign and add model card fields",
            "aiot model add vision.onnx --name vision --version 7.0.0 --sign-key signer.pem --card card.yaml"},
           {"Also write a Triton model repository entry",
            "aiot model add vision.onnx --name vision --version 7.0.0 --triton ./model_repository"},
       }},
      {"model keygen",
       "Creates a signing key pair with OpenSSL: Ed25519 by default, or ECDSA P-256. The private key is written "
       "0600 and never printed; the public key goes beside it (KEY.pub.pem) and the key id (sha256 of the DER "
       "public key) is printed. Existing files are kept unless --force.",
       {
           {"An Ed25519 signing key", "aiot model keygen --out signer.pem"},
           {"An ECDSA P-256 key with a chosen public key file",
            "aiot model keygen --out p256.pem --algorithm ecdsa-p256 --public-out p256.pub"},
       }},
      {"model sign",
       "Signs a registered version: a detached signature over the canonical JSON statement of its kind, name, "
       "version, SHA-256, size and metadata digest (docs/artifacts.md says exactly what). The private key must be "
       "mode 0600; a wider mode is refused with exit 2. --signature-out and --statement-out write the raw "
       "signature and the statement, which openssl pkeyutl -verify checks without aiot.",
       {
           {"Sign a version", "aiot model sign vision 7.0.0 --key signer.pem"},
           {"Sign and write the files openssl verifies",
            "aiot model sign vision 7.0.0 --key signer.pem --signature-out vision.sig --statement-out vision.statement.json"},
       }},
      {"model verify",
       "Checks a version with the signer's public key only: the file's SHA-256 and size against the registry "
       "(--file, else the file that was added), that it is signed, by that key, and that the signature matches "
       "the statement. Exit 0 when verified, 3 when the check says no (a negative verdict).",
       {
           {"Verify a version", "aiot model verify vision 7.0.0 --key signer.pub.pem"},
           {"Verify a downloaded copy", "aiot model verify vision 7.0.0 --key signer.pub.pem --file /tmp/vision.onnx"},
       }},
      {"model list",
       "Lists the registered versions, oldest first, with size, SHA-256, whether they are signed and their inputs.",
       {
           {"Every model", "aiot model list"},
           {"One model's versions as JSON", "aiot model list vision -o json"},
       }},
      {"model show",
       "Shows one version (the latest without VERSION): digest, URI, signature, ONNX metadata and I/O. -o json "
       "prints the whole record, including the signed statement.",
       {
           {"The latest version", "aiot model show vision"},
           {"One version as JSON", "aiot model show vision 7.0.0 -o json"},
       }},
      {"model diff",
       "Compares two versions: digest, size, URI, and for ONNX models the I/O signature, IR version, opsets and "
       "producer. A removed, added, retyped or reshaped input and a removed, retyped or reshaped output are "
       "breaking. --fail-on-breaking exits 3 on a breaking change.",
       {
           {"What changed between two versions", "aiot model diff vision 6.0.0 7.0.0"},
           {"Fail a CI job on a breaking change", "aiot model diff vision 6.0.0 7.0.0 --fail-on-breaking"},
       }},
      {"model card",
       "Prints a model card in the Model Card Toolkit JSON layout, filled from the registry (name, version, date, "
       "path, I/O formats, architecture, the diff from the previous version), the card fields given to add --card, "
       "the rollouts of this version (phase, device outcomes, gate verdicts), and --metrics rows.",
       {
           {"The card of the latest version", "aiot model card vision"},
           {"With evaluation metrics, to a file",
            "aiot model card vision 7.0.0 --metrics eval.json --out vision-7.0.0.card.json"},
       }},
      {"firmware",
       "The artifact registry for firmware images: the same verbs as aiot model (add, keygen, sign, verify, list, "
       "show, diff, card) without ONNX inspection. Rollout specs name a version as artifact: {firmware: NAME, "
       "version: V}.",
       {
           {"Register and sign an image", "aiot firmware add gw-1.4.2.bin --name gateway --version 1.4.2 --sign-key signer.pem"},
           {"Verify it", "aiot firmware verify gateway 1.4.2 --key signer.pub.pem"},
       }},
      {"firmware add",
       "Registers a firmware image: SHA-256 and size (any non-empty file). --uri is where devices download it.",
       {
           {"Register an image served from a CDN",
            "aiot firmware add gw.bin --name gateway --version 1.4.2 --uri https://cdn.example/gw-1.4.2.bin"},
       }},
      {"firmware keygen",
       "Creates a signing key pair with OpenSSL: Ed25519 by default, or ECDSA P-256. The private key is written "
       "0600 and never printed; the public key goes beside it (KEY.pub.pem) and the key id (sha256 of the DER "
       "public key) is printed. Existing files are kept unless --force.",
       {
           {"An Ed25519 signing key", "aiot firmware keygen --out signer.pem"},
           {"An ECDSA P-256 key with a chosen public key file",
            "aiot firmware keygen --out p256.pem --algorithm ecdsa-p256 --public-out p256.pub"},
       }},
      {"firmware sign",
       "Signs a registered version: a detached signature over the canonical JSON statement of its kind, name, "
       "version, SHA-256, size and metadata digest (docs/artifacts.md says exactly what). The private key must be "
       "mode 0600; a wider mode is refused with exit 2. --signature-out and --statement-out write the raw "
       "signature and the statement, which openssl pkeyutl -verify checks without aiot.",
       {
           {"Sign a version", "aiot firmware sign gateway 1.4.2 --key signer.pem"},
           {"Sign and write the files openssl verifies",
            "aiot firmware sign gateway 1.4.2 --key signer.pem --signature-out gateway.sig --statement-out gateway.statement.json"},
       }},
      {"firmware verify",
       "Checks a version with the signer's public key only: the file's SHA-256 and size against the registry "
       "(--file, else the file that was added), that it is signed, by that key, and that the signature matches "
       "the statement. Exit 0 when verified, 3 when the check says no (a negative verdict).",
       {
           {"Verify a version", "aiot firmware verify gateway 1.4.2 --key signer.pub.pem"},
           {"Verify a downloaded copy", "aiot firmware verify gateway 1.4.2 --key signer.pub.pem --file /tmp/gateway.bin"},
       }},
      {"firmware list",
       "Lists the registered versions, oldest first, with size, SHA-256, whether they are signed and their inputs.",
       {
           {"Every firmware image", "aiot firmware list"},
           {"One image's versions as JSON", "aiot firmware list gateway -o json"},
       }},
      {"firmware show",
       "Shows one version (the latest without VERSION): digest, URI, signature, ONNX metadata and I/O. -o json "
       "prints the whole record, including the signed statement.",
       {
           {"The latest version", "aiot firmware show gateway"},
           {"One version as JSON", "aiot firmware show gateway 1.4.2 -o json"},
       }},
      {"firmware diff",
       "Compares two versions: digest, size, URI, and for ONNX models the I/O signature, IR version, opsets and "
       "producer. A removed, added, retyped or reshaped input and a removed, retyped or reshaped output are "
       "breaking. --fail-on-breaking exits 3 on a breaking change.",
       {
           {"What changed between two versions", "aiot firmware diff gateway 1.4.1 1.4.2"},
           {"Fail a CI job on a breaking change", "aiot firmware diff gateway 1.4.1 1.4.2 --fail-on-breaking"},
       }},
      {"firmware card",
       "Prints a card for a firmware version in the Model Card Toolkit JSON layout, filled from the registry (name, version, date, "
       "path, I/O formats, architecture, the diff from the previous version), the card fields given to add --card, "
       "the rollouts of this version (phase, device outcomes, gate verdicts), and --metrics rows.",
       {
           {"The card of the latest version", "aiot firmware card gateway"},
           {"With evaluation metrics, to a file",
            "aiot firmware card gateway 1.4.2 --metrics eval.json --out gateway-1.4.2.card.json"},
       }},
  };
  return k_table;
}

}  // namespace

std::span<const LongHelp> long_help_table() { return table(); }

const LongHelp* find_long_help(std::string_view path) {
  const auto& t = table();
  auto it = std::find_if(t.begin(), t.end(), [&](const LongHelp& h) { return h.path == path; });
  return it == t.end() ? nullptr : &*it;
}

}  // namespace aiot::cli::docs
