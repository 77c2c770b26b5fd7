// aiot demo [--dir DIR] [--devices N] [--keep] [--force]: the whole mission on the embedded local hub,
// narrated. Every step is an ordinary aiot command run in-process through cli::run() with a fresh
// Context (so it parses its own flags, as a reader replaying the narrated line would), on the hub
// DIR/hub.db. The demo's stdout holds only the closing summary (where everything is); the
// narration and the steps' own output go to stderr.
#include "demo/demo.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/time.hpp"
#include "cli/common.hpp"
#include "root.hpp"

namespace aiot::cli {

namespace {

namespace fsys = std::filesystem;
using nlohmann::json;

constexpr std::uint64_t k_seed = 42;
constexpr const char* k_marker = ".aiot-demo";  // marks a folder this command made, so --force may empty it
constexpr const char* k_good_version = "2.0.1";
constexpr const char* k_bad_version = "2.1";  // the simulator's built-in profile fails 15% of its installs
constexpr std::size_t k_min_devices = 100;    // fewer make a canary too small to judge 15% failures reliably
// Below this the canary (40% of the devices outside Tokyo) is too small for the planner to prove a
// 5% failure limit; the demo then accepts the plan with --allow-underpowered (2.1 is still caught).
constexpr std::size_t k_powered_devices = 300;

struct DemoOptions {
  std::string dir = "aiot-demo";
  std::size_t devices = 500;
  bool keep = false;
  bool force = false;
};

// Single-quotes what a shell would split or expand, so a narrated line can be pasted as it is.
std::string shell_quote(const std::string& s) {
  static const std::string k_plain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+";
  if (!s.empty() && s.find_first_not_of(k_plain) == std::string::npos) return s;
  if (s.find_first_of("\"$`\\!") == std::string::npos) return "\"" + s + "\"";  // reads better around '...'
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string command_line(const std::vector<std::string>& args) {
  std::string line = "aiot";
  for (const auto& a : args) line += " " + shell_quote(a);
  return line;
}

// The ISO week before the one `now` is in: the demo's week of telemetry and the report's period.
struct DemoWeek {
  std::string label;   // "2026-W47"
  TimePoint start;     // Monday 00:00 UTC
  TimePoint end;       // the next Monday 00:00 UTC
  TimePoint fleet;     // Wednesday 09:00: the fleet and its rollouts start mid-week
};

DemoWeek last_iso_week(TimePoint now) {
  using namespace std::chrono;
  sys_days today = floor<days>(now);
  sys_days this_monday = today - days(weekday(today).iso_encoding() - 1);
  sys_days monday = this_monday - days(7);
  sys_days thursday = monday + days(3);  // an ISO week belongs to the year of its Thursday
  year y = year_month_day(thursday).year();
  auto week = (thursday - sys_days(y / January / 1)).count() / 7 + 1;
  return {fmt::format("{}-W{:02}", static_cast<int>(y), week), monday, this_monday, monday + days(2) + hours(9)};
}

// Whether this build has the verb at `path` (verbs of other areas land over time).
bool verb_available(const std::vector<std::string>& path) {
  CLI::App root;
  Dispatch dispatch;
  GlobalOptions globals;
  build_tree(root, dispatch, globals);
  CLI::App* at = &root;
  for (const auto& name : path) {
    CLI::App* next = nullptr;
    for (auto* sub : at->get_subcommands({})) {
      if (sub->get_name() == name) next = sub;
    }
    if (!next) return false;
    at = next;
  }
  return dispatch.find(at) != nullptr;
}

std::string rollout_spec(const std::string& name, const std::string& version, std::size_t devices) {
  // A small canary cannot prove a 5% limit with confidence bounds: judge its plain failure rate.
  const std::string mode = devices < k_powered_devices ? "mode: point, " : "";
  // The install gate needs enough finished canary devices to judge; scale it with small fleets.
  std::size_t canary = devices * 40 / 100;
  std::size_t min_samples = std::clamp<std::size_t>(canary / 2, 10, 50);
  return fmt::format(
      "apiVersion: aiot.dev/v1\n"
      "kind: Rollout\n"
      "metadata: {{name: {0}}}\n"
      "spec:\n"
      "  artifact: {{name: detector, version: \"{1}\", uri: \"https://models.example/detector-{1}.onnx\", sha256: \"{2}\"}}\n"
      "  targets: {{query: \"tags.sim = true\"}}\n"
      "  exclude: \"tags.site = 'tokyo'\"    # Tokyo is frozen this week: it stays on 2.0\n"
      "  baseline: {{version: auto, control: matched, stratifyBy: [hw]}}\n"
      "  waves:\n"
      "    - {{name: canary, size: {{percent: 40}}, bake: {{min: 2h, max: 4h}}}}\n"
      "    - {{name: all, size: {{percent: 100}}, bake: {{min: 1h, max: 4h}}}}\n"
      "  gates:\n"
      "    - {{name: install, type: outcome, {4}successAtLeast: \"95%\", failureAbove: \"5%\", minSamples: {3}}}\n"
      "  analysis: {{interval: 1h, warmup: 30m}}\n"
      "  onFailure: {{action: rollback}}\n",
      name, version, std::string(64, '0'), min_samples, mode);
}

// Eight cameras whose certificates the fleet CA signs (device import issues key + certificate).
std::string cameras_csv() {
  std::string csv = "id,auth,tags.site,tags.region,tags.hw\n";
  for (int i = 1; i <= 8; ++i) {
    bool berlin = i % 2 == 0;
    csv += fmt::format("cam-{:02},x509-ca,{},{},{}\n", i, berlin ? "berlin" : "paris", berlin ? "eu-central" : "eu-west",
                       i <= 4 ? "jetson-nano" : "pi5");
  }
  return csv;
}

class Demo {
 public:
  Demo(Context& ctx, const DemoOptions& o) : ctx_(ctx), o_(o), started_(std::chrono::steady_clock::now()) {
    fsys::path dir = o.dir;
    abs_ = fsys::weakly_canonical(dir.is_relative() ? ctx.cwd / dir : dir);
    shown_ = o.dir;
    while (shown_.size() > 1 && shown_.back() == '/') shown_.pop_back();
    quiet_ = ctx.io.quiet();
    color_ = ctx.io.color_err();
    env_ = ctx.env;
    env_.set("AIOT_HUB", "local:" + (abs_ / "hub.db").string());
  }

  int run() {
    prepare_dir();
    const DemoWeek week = last_iso_week(ctx_.now());
    const std::string d = shown_;
    const std::string good = std::string("detector-") + k_good_version;
    const std::string bad = std::string("detector-") + k_bad_version;
    const std::string good_name = name_of(good), bad_name = name_of(bad);

    narrate_intro(week);

    section("Create the fleet CA: it signs every device certificate");
    step({"ca", "create", "--name", "aiot demo fleet CA", "--out", d + "/ca"});

    section("Register eight cameras with X.509 certificates signed by the fleet CA (keys 0600)");
    write_file(d + "/cameras.csv", cameras_csv());
    step({"device", "import", "-f", d + "/cameras.csv", "--ca", d + "/ca", "--out-dir", d + "/credentials"});
    step({"device", "list", "--where", "authenticationType = 'certificateAuthority'"});

    section(fmt::format("Simulate a fleet of {} devices running detector 2.0, with its own clock from {}", o_.devices,
                        format_rfc3339(week.fleet)));
    step({"sim", "fleet", "--devices", std::to_string(o_.devices), "--seed", std::to_string(k_seed), "--start",
          format_rfc3339(week.fleet)});

    section(fmt::format("Roll out detector {} in waves (canary 40%, then the rest; Tokyo is frozen), judged by an install gate",
                        k_good_version));
    write_file(d + "/rollouts/" + good_name + ".yaml", rollout_spec(good_name, k_good_version, o_.devices));
    std::vector<std::string> small_fleet;
    if (o_.devices < k_powered_devices) {
      small_fleet.push_back("--allow-underpowered");
      narrate(fmt::format("(With {} devices the canary is too small to prove a 5% failure limit with confidence bounds: "
                          "the gate judges the plain failure rate (mode: point), and the demo accepts the plan's "
                          "warning with --allow-underpowered.)",
                          o_.devices));
    }
    step(with({"rollout", "plan", "-f", d + "/rollouts/" + good_name + ".yaml"}, small_fleet));
    step(with({"rollout", "apply", "-f", d + "/rollouts/" + good_name + ".yaml", "--wait"}, small_fleet));

    section(fmt::format("Roll out detector {}, which fails 15% of installs: the canary gate must catch it", k_bad_version));
    write_file(d + "/rollouts/" + bad_name + ".yaml", rollout_spec(bad_name, k_bad_version, o_.devices));
    step(with({"rollout", "apply", "-f", d + "/rollouts/" + bad_name + ".yaml", "--wait"}, small_fleet), {3},
         "exit 3 is the expected verdict: the canary gate failed 2.1 and rolled the canary back; the rest of the fleet "
         "never saw it");
    step({"rollout", "history", bad_name});
    step({"rollout", "audit", "verify", bad_name});

    section(fmt::format("Let the rest of the week pass on the sim clock (to {})", format_rfc3339(week.end)));
    step({"sim", "advance", "--to", format_rfc3339(week.end)});

    if (available({"sim", "telemetry"})) {
      section("Write the week's telemetry (NDJSON) with planted defects and a ground-truth manifest");
      step({"sim", "telemetry", "--out", d + "/telemetry", "--hours", "168", "--interval", "15m", "--defects", "0.001"});
      telemetry_ = true;
    }
    if (telemetry_ && available({"lineage", "audit"})) {
      section("Audit the telemetry's lineage: clocks, gaps, duplicates, ranges, schema, registry and model attribution");
      make_dir(d + "/audit");
      step({"lineage", "audit", "--input", d + "/telemetry/data", "--out", d + "/audit/audit.json", "--profile-out",
            d + "/audit/profile.json"},
           {0, 3}, "exit 3 is the expected verdict: the audit found the defects the generator planted (audit.json lists them)");
      audit_ = true;
    }
    if (available({"report", "governance"})) {
      section(fmt::format("Write the governance report of {} (Markdown, HTML, JSON)", week.label));
      std::vector<std::string> args = {"report", "governance", "--period", week.label, "--format", "md,html,json", "--out",
                                       d + "/report"};
      if (audit_) {
        args.push_back("--audits");
        args.push_back(d + "/audit");
      }
      step(args, {0, 3}, "exit 3 is a verdict: a governance policy failed on this week's evidence (the report says which)");
      report_ = true;
    }
    if (telemetry_ && !o_.keep) {
      section("Remove the bulky telemetry data (the manifest, ground truth, audit and report stay; --keep keeps it)");
      remove_dir(d + "/telemetry/data");
    }
    return finish(week);
  }

 private:
  static std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  static std::string name_of(std::string s) {
    std::replace(s.begin(), s.end(), '.', '-');
    return s;
  }

  bool available(const std::vector<std::string>& path) {
    if (verb_available(path)) return true;
    skipped_.push_back(fmt::format("aiot {}", fmt::join(path, " ")));
    say(ctx_, fmt::format("\n(skipped: 'aiot {}' is not in this build yet)", fmt::join(path, " ")));
    return false;
  }

  void prepare_dir() {
    std::error_code ec;
    if (fsys::exists(abs_, ec) && !fsys::is_directory(abs_, ec)) {
      throw Error::usage(fmt::format("--dir {}: not a folder", shown_), "Choose another --dir.");
    }
    if (fsys::is_directory(abs_, ec) && !fsys::is_empty(abs_, ec)) {
      if (!o_.force) {
        throw Error::usage(fmt::format("{} is not empty: the demo needs a fresh folder", shown_),
                           "Use --force to start again in it, or --dir for another folder.");
      }
      if (!fsys::exists(abs_ / k_marker)) {
        throw Error::usage(fmt::format("{} is not empty and was not made by 'aiot demo': --force empties only demo folders",
                                       shown_),
                           "Choose another --dir.");
      }
      for (const auto& entry : fsys::directory_iterator(abs_)) fsys::remove_all(entry.path());
    }
    fsys::create_directories(abs_);
    fs::write_atomic(abs_ / k_marker, "This folder was written by 'aiot demo'; 'aiot demo --force' may empty it.\n");
  }

  void narrate(const std::string& line) {
    if (quiet_) return;
    ctx_.io.err() << line << '\n';
    ctx_.io.err().flush();
  }

  void section(const std::string& title) {
    ++section_;
    narrate("");
    narrate(output::bold(fmt::format("# {}. {}", section_, title), color_));
  }

  void narrate_intro(const DemoWeek& week) {
    narrate(output::bold(fmt::format("aiot demo: {} simulated devices on the embedded local hub in {}", o_.devices, shown_),
                         color_));
    narrate(fmt::format("Every step below is an ordinary aiot command, printed before it runs: to replay one, set the "
                        "same hub first (week {}: {} .. {}):",
                        week.label, format_rfc3339(week.start), format_rfc3339(week.end)));
    narrate(output::bold("$ export AIOT_HUB=" + shell_quote(env_.get_or("AIOT_HUB", "")), color_));
  }

  // A file the demo writes itself, narrated as the heredoc that writes the same bytes.
  void write_file(const std::string& shown, const std::string& content) {
    narrate(output::bold(fmt::format("$ mkdir -p {} && cat > {} <<'EOF'", shell_quote(parent_of(shown)), shell_quote(shown)),
                         color_));
    if (!quiet_) ctx_.io.err() << content << "EOF\n";
    fs::ensure_dir(path_of(parent_of(shown)));
    fs::write_atomic(path_of(shown), content);
  }

  void make_dir(const std::string& shown) {
    narrate(output::bold("$ mkdir -p " + shell_quote(shown), color_));
    fs::ensure_dir(path_of(shown));
  }

  void remove_dir(const std::string& shown) {
    narrate(output::bold("$ rm -r " + shell_quote(shown), color_));
    std::error_code ec;
    fsys::remove_all(path_of(shown), ec);
  }

  static std::string parent_of(const std::string& shown) {
    auto p = fsys::path(shown).parent_path().string();
    return p.empty() ? "." : p;
  }

  fsys::path path_of(const std::string& shown) const {
    fsys::path p = shown;
    return p.is_relative() ? ctx_.cwd / p : p;
  }

  // Runs `aiot ARGS` in-process with its own Context on the demo's hub. An exit code outside
  // `expected` stops the demo with that code (1 when the unexpected code is 0).
  void step(const std::vector<std::string>& args, const std::set<int>& expected = {0}, const std::string& why = {}) {
    ++steps_;
    narrate(output::bold("$ " + command_line(args), color_));
    std::istringstream no_input;
    std::ostringstream captured;  // with -q the steps' chatter is kept back, and shown only if one fails
    std::ostream& sink = quiet_ ? static_cast<std::ostream&>(captured) : ctx_.io.err();
    const bool tty = !quiet_ && ctx_.io.err_tty();
    IOStreams io(no_input, sink, sink, false, tty, tty);
    io.set_width(ctx_.io.width());
    Context step_ctx(io, env_, ctx_.cwd, ctx_.now);
    const auto t0 = std::chrono::steady_clock::now();
    int code = cli::run(args, step_ctx);
    sink.flush();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (expected.count(code)) {
      std::string note = code != 0 && !why.empty() ? fmt::format("({}) ", why) : "";
      narrate(output::dim(fmt::format("{}[exit {}, {:.1f} s]", note, code, seconds), color_));
      return;
    }
    if (quiet_) ctx_.io.err() << captured.str();
    std::string wanted = fmt::format("{}", fmt::join(expected, " or "));
    throw Error(code == 0 ? ExitCode::failure : static_cast<ExitCode>(code),
                fmt::format("the demo stopped at step {} ('{}'): exit {}, expected {}", steps_, command_line(args), code,
                            wanted),
                fmt::format("Its output is above; the folder {} holds what the steps before it made.", shown_));
  }

  // Where everything is: a summary on stdout, and a closing word on stderr.
  int finish(const DemoWeek& week) {
    auto at = [&](const std::string& rel) { return (abs_ / rel).string(); };
    json where = {
        {"dir", abs_.string()},
        {"hub", at("hub.db")},
        {"journals", at("hub.db.journal")},
        {"ca", at("ca/ca.cert.pem")},
        {"credentials", at("credentials")},
        {"rollouts", at("rollouts")},
        {"devices", o_.devices},
        {"period", week.label},
    };
    if (telemetry_) where["telemetry"] = at("telemetry/manifest.json");
    if (audit_) {
      where["audit"] = at("audit/audit.json");
      where["profile"] = at("audit/profile.json");
    }
    if (report_) {
      json report = json::object();
      std::error_code ec;
      for (const auto& e : fsys::directory_iterator(abs_ / "report", ec)) {
        auto ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".html" || ext == ".md" || ext == ".json")) report[ext.substr(1)] = e.path().string();
      }
      where["report"] = report;
    }
    if (!skipped_.empty()) where["skipped"] = skipped_;
    output::print_object(ctx_.io, where, render_options(ctx_));

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    narrate("");
    std::string open;
    if (report_ && where["report"].contains("html")) open = fmt::format("; open {}", where["report"]["html"].get<std::string>());
    say(ctx_, fmt::format("✓ Demo done in {:.1f} s: {} steps did what they should{}", seconds, steps_, open));
    return 0;
  }

  Context& ctx_;
  const DemoOptions& o_;
  std::chrono::steady_clock::time_point started_;
  fsys::path abs_;
  std::string shown_;
  bool quiet_ = false;
  bool color_ = false;
  Env env_;
  int section_ = 0;
  int steps_ = 0;
  bool telemetry_ = false, audit_ = false, report_ = false;
  std::vector<std::string> skipped_;
};

int run_demo(const DemoOptions& o, Context& ctx) {
  if (o.dir.empty()) throw Error::usage("--dir needs a folder", "For example: aiot demo --dir /tmp/aiot-demo");
  return Demo(ctx, o).run();
}

}  // namespace

void add_demo(CLI::App& root, Dispatch& d) {
  auto o = std::make_shared<DemoOptions>();
  auto* c = root.add_subcommand(
      "demo", "Run the whole mission on a local hub in under a minute, narrating every command (a replayable tour)");
  c->add_option("--dir", o->dir, "Folder for everything the demo makes (must be empty or new)")->capture_default_str();
  c->add_option("-n,--devices", o->devices, "Simulated fleet size")
      ->check(CLI::Range(k_min_devices, std::size_t{100'000}))
      ->capture_default_str();
  c->add_flag("--keep", o->keep, "Keep the week's telemetry data files (large; removed at the end by default)");
  c->add_flag("--force", o->force, "Empty DIR first when an earlier demo left files there");
  d.on(c, [o](Context& ctx) { return run_demo(*o, ctx); });
}

}  // namespace aiot::cli
