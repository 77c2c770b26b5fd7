// Man pages and completion scripts generated from the command tree: the checked-in files must be
// what the tree generates now, every verb must be documented, and every documented example must
// still parse. The scripts' behaviour in real shells is tested by tests/integration/test_completion.sh.
#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "aiot/core/error.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/rollout/backend.hpp"
#include "cli/common.hpp"
#include "docs/completion.hpp"
#include "docs/long_help.hpp"
#include "docs/manpage.hpp"
#include "docs/tree.hpp"
#include "root.hpp"
#include "support/harness.hpp"

namespace docs = aiot::cli::docs;
namespace stdfs = std::filesystem;
using aiot::test::Harness;

namespace {

struct Tree {
  CLI::App app;
  aiot::cli::Dispatch dispatch;
  aiot::cli::GlobalOptions globals;
  Tree() { aiot::cli::build_tree(app, dispatch, globals); }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The first differing line, diff-style, so a failure says what changed without a diff tool.
std::string first_difference(const std::string& checked_in, const std::string& generated) {
  const auto a = lines_of(checked_in);
  const auto b = lines_of(generated);
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string* old_line = i < a.size() ? &a[i] : nullptr;
    const std::string* new_line = i < b.size() ? &b[i] : nullptr;
    if (old_line && new_line && *old_line == *new_line) continue;
    std::string out = "@@ line " + std::to_string(i + 1) + " @@\n";
    out += old_line ? "-" + *old_line + "\n" : "-(end of file)\n";
    out += new_line ? "+" + *new_line + "\n" : "+(end of file)\n";
    return out;
  }
  return "(the files differ only in a final newline)\n";
}

void collect(const docs::CommandDoc& c, std::vector<const docs::CommandDoc*>& out) {
  out.push_back(&c);
  for (const auto& s : c.subcommands) collect(s, out);
}

std::vector<const docs::CommandDoc*> all_commands(const docs::CommandDoc& root) {
  std::vector<const docs::CommandDoc*> out;
  collect(root, out);
  return out;
}

// Shell words of an example up to the first pipe or redirection; quotes removed.
std::vector<std::string> shell_words(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : command) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
      continue;
    }
    if (c == '|' || c == '>' || c == '<' || c == ';' || c == '&') break;
    if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    word += c;
    in_word = true;
  }
  if (in_word) words.push_back(word);
  return words;
}

const docs::OptionDoc* find_option(const docs::CommandDoc& c, const std::string& name) {
  for (const auto& o : c.options) {
    if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) return &o;
  }
  return nullptr;
}

const docs::CommandDoc* find_command(const docs::CommandDoc& root, const std::string& path) {
  for (const auto* c : all_commands(root)) {
    if (c->path_string() == path) return c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("docs: the checked-in man pages and completion scripts are what the tree generates") {
  Harness h;
  const auto out_dir = h.dir / "generated";
  // The page of a group that no longer exists goes; other files in the folder stay.
  aiot::test::write_text(out_dir / "man" / "aiot-gone.1", ".TH GONE 1\n");
  aiot::test::write_text(out_dir / "man" / "README", "not ours\n");
  auto r = h.run({"__docs", "--man", (out_dir / "man").string(), "--completions", (out_dir / "completions").string()});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK_FALSE(stdfs::exists(out_dir / "man" / "aiot-gone.1"));
  CHECK(stdfs::exists(out_dir / "man" / "README"));
  CHECK(h.run({"__docs"}).code == 2);  // nothing asked for

  Tree tree;
  const auto expected = docs::generated_files(tree.app);
  REQUIRE(expected.contains("man/aiot.1"));
  REQUIRE(expected.contains("completions/aiot.bash"));

  const stdfs::path source = AIOT_SOURCE_DIR;
  std::set<std::string> stale;
  for (const auto& [rel, text] : expected) {
    CAPTURE(rel);
    // What __docs wrote is what the generator returns in-process.
    CHECK(aiot::test::read_text(out_dir / rel) == text);
    const auto checked_in_path = source / rel;
    const std::string checked_in = stdfs::exists(checked_in_path) ? aiot::test::read_text(checked_in_path) : "";
    if (checked_in != text) {
      stale.insert(rel);
      const std::string missing = stdfs::exists(checked_in_path) ? "" : " (missing)";
      FAIL_CHECK(rel << " is stale" << missing << ":\n"
                     << "--- " << rel << " (checked in)\n+++ " << rel << " (generated)\n"
                     << first_difference(checked_in, text) << "run: " << std::string(docs::k_regenerate_command));
    }
  }
  // Nothing checked in that the tree no longer generates (a removed group's page).
  for (const auto* area : {"man", "completions"}) {
    if (!stdfs::exists(source / area)) continue;
    for (const auto& entry : stdfs::directory_iterator(source / area)) {
      const std::string rel = std::string(area) + "/" + entry.path().filename().string();
      if (entry.path().filename().string().front() == '.') continue;
      CHECK_MESSAGE(expected.contains(rel),
                    rel << " is not generated any more; run: " << std::string(docs::k_regenerate_command));
    }
  }
  CHECK(stale.empty());
}

TEST_CASE("docs: every verb appears in its group's man page and in every completion script") {
  Tree tree;
  const auto files = docs::generated_files(tree.app);
  const auto root = docs::describe_tree(tree.app);
  REQUIRE(root.subcommands.size() >= 5);
  std::size_t verbs = 0;
  for (const auto& top : root.subcommands) {
    const auto page = "man/aiot-" + top.name + ".1";
    REQUIRE_MESSAGE(files.contains(page), page);
    CHECK(files.at("man/aiot.1").find("aiot\\-" + top.name + "\\fR(1)") != std::string::npos);
    for (const auto* leaf : top.leaves()) {
      ++verbs;
      CAPTURE(leaf->path_string());
      CHECK(files.at(page).find(".SS \"" + docs::roff_escape("aiot " + leaf->path_string(), true) + "\"") !=
            std::string::npos);
      const std::string parent = leaf->path_string().substr(0, leaf->path_string().rfind(' '));
      CHECK(files.at("completions/aiot.bash").find("'" + parent + "|" + leaf->name + "'") != std::string::npos);
      CHECK(files.at("completions/_aiot").find("'" + parent + "|" + leaf->name + "'") != std::string::npos);
      CHECK(files.at("completions/aiot.fish").find("'" + parent + "|" + leaf->name + "'") != std::string::npos);
    }
  }
  CHECK(verbs >= 20);
  // Hidden commands stay out of everything users see.
  for (const auto& [rel, text] : files) {
    CAPTURE(rel);
    CHECK(text.find("'|__docs'") == std::string::npos);
    CHECK(text.find("'|__complete'") == std::string::npos);
    CHECK(text.find("aiot\\-__") == std::string::npos);
  }
}

TEST_CASE("docs: every command has long help and examples, and every example parses") {
  Tree tree;
  const auto root = docs::describe_tree(tree.app);
  std::set<std::string> paths;
  for (const auto* c : all_commands(root)) {
    const std::string path = c->path_string();
    paths.insert(path);
    CAPTURE(path);
    const auto* help = docs::find_long_help(path);
    CHECK_MESSAGE(help != nullptr, "add an entry for '" << path << "' to cmd/docs/long_help.cpp");
    if (!help) continue;
    CHECK(!help->description.empty());
    CHECK(!help->examples.empty());
    for (const auto& example : help->examples) {
      CAPTURE(example.command);
      CHECK(!example.what.empty());
      auto words = shell_words(example.command);
      REQUIRE(!words.empty());
      CHECK(words.front() == "aiot");
      words.erase(words.begin());
      // A fresh tree per parse (CLI11 pitfall 8); parse() takes the words reversed (pitfall 1).
      Tree fresh;
      std::vector<std::string> reversed(words.rbegin(), words.rend());
      bool parsed = true;
      std::string error;
      try {
        fresh.app.parse(reversed);
      } catch (const CLI::CallForHelp&) {
      } catch (const CLI::ParseError& e) {
        parsed = false;
        error = e.what();
      }
      CHECK_MESSAGE(parsed, "example does not parse: " << error);
    }
  }
  // An entry for a command that no longer exists is dead text.
  for (const auto& help : docs::long_help_table()) {
    CHECK_MESSAGE(paths.contains(std::string(help.path)),
                  "long help for a command that does not exist: '" << help.path << "'");
  }
}

TEST_CASE("docs: choice values are read from CLI11 validator descriptions") {
  CHECK(docs::parse_choices("TEXT:{table,json,yaml,csv}") == std::vector<std::string>{"table", "json", "yaml", "csv"});
  CHECK(docs::parse_choices("TEXT:{a->1,b->2}") == std::vector<std::string>{"a", "b"});
  CHECK(docs::parse_choices("INT:INT in [1 - 36500]").empty());
  CHECK(docs::parse_choices("TEXT").empty());
  CHECK(docs::parse_choices("{not,after,a,colon}").empty());

  CLI::App app;
  std::string format;
  app.add_option("--format", format)->check(CLI::IsMember({"csv", "jsonl"}));
  CHECK(docs::parse_choices(app.get_option("--format")->get_type_name()) == std::vector<std::string>{"csv", "jsonl"});
}

TEST_CASE("docs: the tree walk lifts option groups, skips hidden items, keeps aliases and classifies values") {
  CLI::App root;
  root.name("aiot");
  std::string output, profile, file, out_dir, ca, id, where, secret, name;
  std::vector<std::string> ids;
  bool keep = false, revert = false;
  root.add_option("-o,--output", output, "Output format")->check(CLI::IsMember({"table", "json"}))->group("Global");
  root.add_option("--profile", profile, "Profile")->group("Global");
  auto* device = root.add_subcommand("device", "Devices");
  auto* show = device->add_subcommand("show", "Show a device");
  show->add_option("id", id, "Device id")->required();
  auto* del = device->add_subcommand("delete", "Delete devices")->alias("rm");
  del->add_option("ids", ids, "Device ids")->required();
  auto* reg = device->add_subcommand("register", "Register");
  reg->add_option("id", id, "New device id")->required();
  auto* import = device->add_subcommand("import", "Import");
  import->add_option("-f,--file", file, "The device file")->required();
  import->add_option("--out-dir", out_dir, "Credentials here");
  import->add_option("--ca", ca, "Fleet CA folder");
  import->add_option("-w,--where", where, "Query");
  import->add_option("--secret", secret, "Not for users")->group("");
  auto* rollout = root.add_subcommand("rollout", "Rollouts");
  auto* abort = rollout->add_subcommand("abort", "Abort");
  abort->add_option("name", name, "Rollout name")->required();
  auto* r = abort->add_flag("--revert", revert, "Roll back");
  auto* k = abort->add_flag("--keep", keep, "Keep");
  auto* group = abort->add_option_group("what to do with devices");
  group->add_option(r);
  group->add_option(k);
  root.add_subcommand("__hidden", "Hidden")->group("");

  const auto doc = docs::describe_tree(root);
  REQUIRE(doc.subcommands.size() == 2);  // __hidden left out
  CHECK(doc.subcommands[0].name == "device");
  const auto* output_opt = find_option(doc, "--output");
  REQUIRE(output_opt);
  CHECK(output_opt->names == std::vector<std::string>{"-o", "--output"});
  CHECK(output_opt->kind == docs::ValueKind::choice);
  CHECK(output_opt->choices == std::vector<std::string>{"table", "json"});
  CHECK(find_option(doc, "--profile")->kind == docs::ValueKind::profile);
  CHECK(find_option(doc, "--help")->help);

  const auto* del_doc = find_command(doc, "device delete");
  REQUIRE(del_doc);
  CHECK(del_doc->aliases == std::vector<std::string>{"rm"});
  REQUIRE(del_doc->positionals.size() == 1);
  CHECK(del_doc->positionals[0].kind == docs::ValueKind::device);
  CHECK(del_doc->positionals[0].repeatable);
  CHECK(find_command(doc, "device show")->positionals[0].kind == docs::ValueKind::device);
  // A new id: nothing existing to offer.
  CHECK(find_command(doc, "device register")->positionals[0].kind == docs::ValueKind::text);

  const auto* import_doc = find_command(doc, "device import");
  REQUIRE(import_doc);
  CHECK(find_option(*import_doc, "--file")->kind == docs::ValueKind::file);
  CHECK(find_option(*import_doc, "--file")->metavar == "FILE");
  CHECK(find_option(*import_doc, "--file")->required);
  CHECK(find_option(*import_doc, "--out-dir")->kind == docs::ValueKind::directory);
  CHECK(find_option(*import_doc, "--ca")->kind == docs::ValueKind::directory);
  CHECK(find_option(*import_doc, "--where")->kind == docs::ValueKind::text);
  CHECK(find_option(*import_doc, "--where")->metavar == "WHERE");
  CHECK(find_option(*import_doc, "--secret") == nullptr);

  const auto* abort_doc = find_command(doc, "rollout abort");
  REQUIRE(abort_doc);
  CHECK(abort_doc->subcommands.empty());  // the option group is not a command
  REQUIRE(find_option(*abort_doc, "--revert"));
  CHECK(find_option(*abort_doc, "--revert")->kind == docs::ValueKind::none);
  CHECK(find_option(*abort_doc, "--keep"));
  CHECK(abort_doc->positionals[0].kind == docs::ValueKind::rollout);

  const auto leaves = doc.leaves();
  CHECK(leaves.size() == 5);
}

TEST_CASE("docs: roff escaping") {
  CHECK(docs::roff_escape("a\\b") == "a\\eb");
  CHECK(docs::roff_escape(".hidden") == "\\&.hidden");
  CHECK(docs::roff_escape("'quoted'") == "\\&'quoted'");
  CHECK(docs::roff_escape("one\n.two") == "one\n\\&.two");
  CHECK(docs::roff_escape("--out-dir", true) == "\\-\\-out\\-dir");
  CHECK(docs::roff_escape("x509-ca") == "x509-ca");
  // Option names inside prose keep their dashes as minus signs, so they can be copied and never hyphenate.
  CHECK(docs::roff_escape("use --out-dir or '-' for self-signed") == "use \\-\\-out\\-dir or '\\-' for self-signed");
}

TEST_CASE("docs: man pages have the sections and tables they promise") {
  Tree tree;
  const auto files = docs::generated_files(tree.app);
  const auto& aiot1 = files.at("man/aiot.1");
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS", ".SH GLOBAL OPTIONS",
                              ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES", ".SH SEE ALSO"}) {
    CHECK_MESSAGE(aiot1.find(std::string("\n") + section + "\n") != std::string::npos, section);
  }
  CHECK(aiot1.find(std::string(".TH \"AIOT\" 1 \"") + docs::k_manual_date + "\" \"aiot " + AIOT_VERSION + "\"") !=
        std::string::npos);
  for (const auto& e : aiot::exit_code_table()) {
    CHECK(aiot1.find(".TP\n\\fB" + std::to_string(aiot::to_int(e.code)) + "\\fR\n") != std::string::npos);
  }
  CHECK(aiot1.find("\\fBAIOT_HUB\\fR") != std::string::npos);
  CHECK(aiot1.find("\\fBNO_COLOR\\fR") != std::string::npos);
  CHECK(aiot1.find("\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fItable|json|yaml|csv\\fR") != std::string::npos);

  const auto& device = files.at("man/aiot-device.1");
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS", ".SH OPTIONS",
                              ".SH EXAMPLES", ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES"}) {
    CHECK_MESSAGE(device.find(std::string("\n") + section + "\n") != std::string::npos, section);
  }
  CHECK(device.find("\\fB\\-\\-file\\fR \\fIFILE\\fR") != std::string::npos);
  CHECK(device.find(".EX\naiot device import \\-f fleet.csv\n.EE") != std::string::npos);
  // Nothing in the pages changes from one run to the next.
  Tree again;
  CHECK(docs::generated_files(again.app) == files);
}

TEST_CASE("docs: completion scripts") {
  Tree tree;
  const auto root = docs::describe_tree(tree.app);
  const auto bash = docs::bash_script(root);
  std::size_t registrations = 0;
  for (std::size_t at = bash.find("complete -F _aiot aiot"); at != std::string::npos;
       at = bash.find("complete -F _aiot aiot", at + 1)) {
    ++registrations;
  }
  CHECK(registrations == 1);
  CHECK(bash.find("'-o' | '--output') printf '%s\\n' 'choice:table json yaml csv' ;;") != std::string::npos);
  CHECK(bash.find("'--profile') printf '%s\\n' 'profiles' ;;") != std::string::npos);
  // A verb's own --profile (a simulator profile file) wins over the global one, as in CLI11.
  CHECK(bash.find("'sim fleet|--profile') printf '%s\\n' 'file'; return ;;") != std::string::npos);
  CHECK(bash.find("'sim fleet|--profile') return 1 ;;") != std::string::npos);
  CHECK(bash.find("'device show|0') printf '%s\\n' 'devices' ;;") != std::string::npos);
  CHECK(bash.find("'device delete|'*) printf '%s\\n' 'devices' ;;") != std::string::npos);
  CHECK(bash.find("'device|list' | 'device|ls') printf '%s\\n' 'list' ;;") != std::string::npos);
  CHECK(bash.find("'rollout status|0') printf '%s\\n' 'rollouts' ;;") != std::string::npos);
  CHECK(bash.find("'device import|-f' | 'device import|--file') printf '%s\\n' 'file'; return ;;") !=
        std::string::npos);
  CHECK(docs::zsh_script(root).rfind("#compdef aiot\n", 0) == 0);
  CHECK(docs::fish_script(root).find("complete -c aiot -s 'o' -l 'output' -x -a 'table json yaml csv'") !=
        std::string::npos);
  CHECK_THROWS_AS(docs::completion_script(root, "tcsh"), aiot::Error);

  Harness h;
  auto r = h.run({"completion", "bash"});
  CHECK(r.code == 0);
  CHECK(r.out == bash);
  CHECK(h.run({"completion", "tcsh"}).code == 2);
}

TEST_CASE("docs: __complete prints devices, profiles and rollouts, one per line") {
  Harness h;
  // No hub file yet: nothing to offer, and completing must not create one.
  auto none = h.run({"__complete", "devices"});
  CHECK(none.code == 0);
  CHECK(none.out.empty());
  CHECK_FALSE(stdfs::exists(h.hub_path()));

  REQUIRE(h.run({"device", "register", "cam-1"}).code == 0);
  REQUIRE(h.run({"device", "register", "cam-2"}).code == 0);
  REQUIRE(h.run({"device", "register", "gw-1"}).code == 0);
  REQUIRE(h.run({"device", "register", "it's-odd"}).code == 0);
  CHECK(h.run({"__complete", "devices"}).out == "cam-1\ncam-2\ngw-1\nit's-odd\n");
  CHECK(h.run({"__complete", "devices", "cam"}).out == "cam-1\ncam-2\n");
  CHECK(h.run({"__complete", "devices", "it's"}).out == "it's-odd\n");
  CHECK(h.run({"__complete", "devices", "zz"}).out.empty());

  CHECK(h.run({"__complete", "rollouts"}).code == 0);
  CHECK(h.run({"__complete", "rollouts"}).out.empty());
  {
    // Two rollout records, written the way the controller writes them; their controller devices
    // are not offered as device ids.
    aiot::hub::local::LocalHub hub(h.hub_path(), [&h] { return h.now; });
    auto backend = aiot::rollout::make_registry_backend(hub);
    backend->write("detector-2-0", {{"rollout", "detector-2-0"}, {"phase", "planned"}}, "");
    backend->write("firmware-5-1", {{"rollout", "firmware-5-1"}, {"phase", "planned"}}, "");
  }
  CHECK(h.run({"__complete", "rollouts"}).out == "detector-2-0\nfirmware-5-1\n");
  CHECK(h.run({"__complete", "rollouts", "fir"}).out == "firmware-5-1\n");
  CHECK(h.run({"__complete", "devices"}).out == "cam-1\ncam-2\ngw-1\nit's-odd\n");

  aiot::test::write_text(h.dir / "config" / "aiot" / "config.yaml",
                         "profiles:\n  prod:\n    hub: azure\n  staging:\n    hub: local\n");
  CHECK(h.run({"__complete", "profiles"}).out == "default\nprod\nstaging\n");
  CHECK(h.run({"__complete", "profiles", "st"}).out == "staging\n");
  CHECK(h.run({"__complete", "nonsense"}).code == 2);
}
