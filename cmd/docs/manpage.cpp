#include "docs/manpage.hpp"

#include <fmt/format.h>

#include <cctype>

#include "aiot/config/settings.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "docs/completion.hpp"
#include "docs/long_help.hpp"
#include "docs/tree.hpp"

namespace aiot::cli::docs {

namespace {

constexpr const char* k_summary = "operate AIoT fleets: devices, canary rollouts, lineage audits, governance reports";

std::string bold(std::string_view s) { return "\\fB" + roff_escape(s, true) + "\\fR"; }
std::string italic(std::string_view s) { return "\\fI" + roff_escape(s, true) + "\\fR"; }

// A quoted macro argument (.TH, .SS).
std::string macro_arg(std::string_view s, bool dashes = true) {
  std::string out = "\"";
  for (char c : roff_escape(s, dashes)) {
    if (c == '"') {
      out += "\\(dq";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// "Register, inspect ..." -> "register, inspect ..." for NAME lines, unless it starts with an acronym.
std::string lower_first(std::string s) {
  if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      std::islower(static_cast<unsigned char>(s[1]))) {
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  }
  return s;
}

std::string with_period(std::string s) {
  if (!s.empty() && std::string_view(".?!:").find(s.back()) == std::string_view::npos) s += '.';
  return s;
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// Plain text with blank-line-separated paragraphs -> text lines with .PP between paragraphs.
// `first` says whether a .PP is needed before the first paragraph.
std::string paragraphs(std::string_view text, bool leading_pp) {
  std::string out;
  bool first = true;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find("\n\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view para = text.substr(start, end - start);
    if (!str::trim(para).empty()) {
      if (!first || leading_pp) out += ".PP\n";
      for (const auto& line : str::split(para, '\n')) out += roff_escape(str::trim(line)) + "\n";
      first = false;
    }
    start = end + 2;
  }
  return out;
}

std::string option_tag(const OptionDoc& o) {
  std::string tag;
  if (o.positional.empty()) {
    std::vector<std::string> names;
    for (const auto& n : o.names) names.push_back(bold(n));
    tag = str::join(names, ", ");
    if (o.takes_value()) tag += " " + italic(o.metavar);
  } else {
    tag = italic(o.positional) + (o.repeatable ? "..." : "");
  }
  return tag;
}

std::string option_entry(const OptionDoc& o) {
  std::string text = with_period(o.description.empty() ? "" : o.description);
  if (o.required && o.positional.empty()) text += " Required.";
  if (o.repeatable && o.positional.empty() && o.description.find("repeatable") == std::string::npos) {
    text += " May be given more than once.";
  }
  if (!o.default_value.empty()) text += fmt::format(" Default: {}.", o.default_value);
  if (o.kind == ValueKind::choice && !o.positional.empty()) text += " One of: " + str::join(o.choices, ", ") + ".";
  return ".TP\n" + option_tag(o) + "\n" + roff_escape(str::trim(text)) + "\n";
}

// "aiot device import -f FILE [--format csv|yaml] [--update] ..." as one roff text line.
std::string full_synopsis(const CommandDoc& c) {
  std::vector<std::string> parts{bold("aiot " + c.path_string())};
  if (!c.subcommands.empty()) parts.push_back(italic("verb"));
  for (const auto& o : c.options) {
    if (o.help) continue;
    std::string s = bold(o.names.back());
    if (o.takes_value()) s += " " + italic(o.metavar);
    if (!o.required) s = "[" + s + "]";
    if (o.repeatable) s += "...";
    parts.push_back(s);
  }
  for (const auto& p : c.positionals) {
    std::string s = italic(p.positional) + (p.repeatable ? "..." : "");
    parts.push_back(p.required ? s : "[" + s + "]");
  }
  return str::join(parts, " ");
}

// "aiot device import -f FILE [options]": required items only, for the SYNOPSIS section.
std::string short_synopsis(const CommandDoc& c) {
  std::vector<std::string> parts{bold("aiot " + c.path_string())};
  if (!c.subcommands.empty()) parts.push_back(italic("verb"));
  bool optional = false;
  for (const auto& o : c.options) {
    if (o.help) continue;
    if (!o.required) {
      optional = true;
      continue;
    }
    std::string s = bold(o.names.back());
    if (o.takes_value()) s += " " + italic(o.metavar);
    parts.push_back(s);
  }
  if (optional) parts.push_back("[" + italic("options") + "]");
  for (const auto& p : c.positionals) {
    std::string s = italic(p.positional) + (p.repeatable ? "..." : "");
    parts.push_back(p.required ? s : "[" + s + "]");
  }
  return str::join(parts, " ");
}

// `after_heading`: right after .SH, where a .PP would be redundant (mandoc warns).
std::string examples_block(const std::vector<Example>& examples, bool after_heading = false) {
  std::string out;
  for (const auto& e : examples) {
    if (!after_heading || !out.empty()) out += ".PP\n";
    out += roff_escape(with_period(std::string(e.what))) + "\n";
    out += ".PP\n.RS 4\n.EX\n" + roff_escape(e.command, true) + "\n.EE\n.RE\n";
  }
  return out;
}

std::string page_header(const std::string& title, std::string_view name, std::string_view summary) {
  std::string out;
  out += fmt::format(".\\\" Generated from the command tree by `aiot __docs`: do not edit.\n");
  out += fmt::format(".\\\" Regenerate with: {}\n", k_regenerate_command);
  out += fmt::format(".TH {} 1 {} {} {}\n", macro_arg(title), macro_arg(k_manual_date, false),
                     macro_arg(std::string("aiot ") + AIOT_VERSION), macro_arg("aiot manual"));
  out += ".nh\n.ad l\n";  // no hyphenation inside option names and paths; ragged right
  out += ".SH NAME\n";
  out += roff_escape(name, true) + " \\- " + roff_escape(summary) + "\n";
  return out;
}

std::string page_name(const CommandDoc& top) { return "aiot-" + top.name; }

std::string see_page(const std::string& page) { return bold(page) + "(1)"; }

std::string exit_status_section() {
  std::string out = ".SH EXIT STATUS\nThe same for every command (also printed by \\fBaiot help exit\\-codes\\fR):\n";
  for (const auto& e : exit_code_table()) {
    out += fmt::format(".TP\n\\fB{}\\fR\n{}\n", to_int(e.code), roff_escape(capitalized(with_period(e.meaning))));
  }
  return out;
}

std::string environment_section() {
  std::string out =
      ".SH ENVIRONMENT\n"
      "Each setting has an environment variable, which overrides the settings files and is overridden by "
      "flags (also printed by \\fBaiot help environment\\fR):\n";
  for (const auto& k : config::key_table()) {
    const std::string text = capitalized(with_period(k.description));
    out += fmt::format(".TP\n{}\n{} Setting {}", bold(k.env), roff_escape(text), bold(k.key));
    if (*k.default_value) out += fmt::format(", default {}", italic(k.default_value));
    out += ".\n";
  }
  out += ".PP\nOther variables:\n";
  for (const auto& v : fixed_environment()) {
    const std::string text = capitalized(with_period(v.meaning));
    out += fmt::format(".TP\n{}\n{}\n", bold(v.name), roff_escape(text));
  }
  return out;
}

std::string files_section() {
  return ".SH FILES\n"
         ".TP\n\\fI$XDG_CONFIG_HOME/aiot/config.yaml\\fR\n"
         "The user settings file (\\fI~/.config/aiot/config.yaml\\fR when XDG_CONFIG_HOME is not set); "
         "\\fB\\-\\-config\\fR \\fIFILE\\fR reads and writes another one.\n"
         ".TP\n\\fI./.aiot.yaml\\fR\n"
         "Project settings, read from the working folder; they override the user file.\n"
         ".TP\n\\fI/etc/aiot/config.yaml\\fR\n"
         "System-wide settings, overridden by every other source.\n"
         ".TP\n\\fI$XDG_DATA_HOME/aiot/hub.db\\fR\n"
         "The embedded local hub (\\fI~/.local/share/aiot/hub.db\\fR when XDG_DATA_HOME is not set): a SQLite "
         "file in WAL mode that several aiot processes can use at once; \\fB\\-\\-hub local:\\fR\\fIPATH\\fR "
         "uses another file.\n"
         ".TP\n\\fIPATH\\fR\\fB.journal/\\fR\\fIROLLOUT\\fR\\fB.jsonl\\fR\n"
         "The hash-chained journal of a rollout on the local hub at \\fIPATH\\fR. For the default local hub and "
         "the cloud hubs the journals are in \\fI$XDG_DATA_HOME/aiot/journal/HUB/\\fR.\n"
         ".TP\n\\fI./aiot\\-devices/\\fR\n"
         "Where device keys and certificates are written (0600) when \\fB\\-\\-out\\-dir\\fR is not given.\n";
}

std::string aiot_page(const CommandDoc& root) {
  std::string out = page_header("AIOT", "aiot", k_summary);
  out += ".SH SYNOPSIS\n";
  out += "\\fBaiot\\fR [\\fIglobal options\\fR] \\fIcommand\\fR [\\fIverb\\fR] [\\fIoptions\\fR] [\\fIarguments\\fR]\n";
  out += ".br\n\\fBaiot\\fR \\fB\\-\\-version\\fR\n";
  out += ".br\n\\fBaiot\\fR \\fBhelp\\fR [\\fIcommand\\fR...|\\fBexit\\-codes\\fR|\\fBenvironment\\fR]\n";

  out += ".SH DESCRIPTION\n";
  if (const auto* help = find_long_help("")) {
    out += paragraphs(help->description, false);
  } else {
    out += paragraphs(root.description, false);
  }

  out += ".SH COMMANDS\n";
  for (const auto& top : root.subcommands) {
    out += ".TP\n" + bold("aiot " + top.name) + (top.subcommands.empty() ? "" : " " + italic("verb")) + "\n";
    std::string text = roff_escape(with_period(top.description));
    if (!top.subcommands.empty()) {
      std::vector<std::string> verbs;
      for (const auto& v : top.subcommands) verbs.push_back(bold(v.name));
      text += " Verbs: " + str::join(verbs, ", ") + ".";
    }
    out += text + " See " + see_page(page_name(top)) + ".\n";
  }

  out += ".SH GLOBAL OPTIONS\n";
  out += "Global options go before the command or anywhere after it.\n";
  for (const auto& o : root.options) out += option_entry(o);

  out += exit_status_section();
  out += environment_section();
  out += files_section();

  if (const auto* help = find_long_help(""); help && !help->examples.empty()) {
    out += ".SH EXAMPLES\n" + examples_block(help->examples, true);
  }

  out += ".SH SEE ALSO\n";
  std::vector<std::string> pages;
  for (const auto& top : root.subcommands) pages.push_back(see_page(page_name(top)));
  out += str::join(pages, ",\n") + "\n";
  return out;
}

// One command under a group page: synopsis, summary, long help, options, examples.
void command_section(const CommandDoc& c, std::string& out) {
  out += ".SS " + macro_arg("aiot " + c.path_string()) + "\n";
  out += full_synopsis(c) + "\n";
  out += ".PP\n" + roff_escape(with_period(c.description)) + "\n";
  const LongHelp* help = find_long_help(c.path_string());
  if (help) out += paragraphs(help->description, true);
  std::string options;
  for (const auto& p : c.positionals) options += option_entry(p);
  for (const auto& o : c.options) {
    if (!o.help) options += option_entry(o);
  }
  if (!options.empty()) out += ".PP\nOptions and arguments:\n" + options;
  if (!c.subcommands.empty()) {
    std::vector<std::string> verbs;
    for (const auto& v : c.subcommands) verbs.push_back(bold(v.name));
    out += ".PP\nVerbs: " + str::join(verbs, ", ") + ".\n";
  }
  if (help && !help->examples.empty()) out += ".PP\nExamples:\n" + examples_block(help->examples);
  for (const auto& s : c.subcommands) command_section(s, out);
}

std::string group_page(const CommandDoc& root, const CommandDoc& top) {
  const std::string name = page_name(top);
  std::string out = page_header(str::to_upper(name), name, lower_first(top.description));
  const LongHelp* help = find_long_help(top.path_string());

  out += ".SH SYNOPSIS\n";
  if (top.subcommands.empty()) {
    out += full_synopsis(top) + "\n";
  } else {
    bool first = true;
    for (const auto* leaf : top.leaves()) {
      if (!first) out += ".br\n";
      out += short_synopsis(*leaf) + "\n";
      first = false;
    }
  }

  out += ".SH DESCRIPTION\n" + roff_escape(with_period(top.description)) + "\n";
  if (help) out += paragraphs(help->description, true);
  if (!top.footer.empty()) out += paragraphs(top.footer, true);

  if (!top.subcommands.empty()) {
    out += ".SH COMMANDS\n";
    for (const auto& s : top.subcommands) command_section(s, out);
  }

  out += ".SH OPTIONS\n";
  std::vector<std::string> globals;
  for (const auto& o : root.options) {
    if (!o.help) globals.push_back(bold(o.names.back()));
  }
  out += "Every command also takes the global options of " + see_page("aiot") + " (" + str::join(globals, ", ") +
         "), before the command or after it, and \\fB\\-h\\fR, \\fB\\-\\-help\\fR.\n";
  for (const auto& p : top.positionals) out += option_entry(p);
  for (const auto& o : top.options) {
    if (!o.help) out += option_entry(o);
  }

  if (help && !help->examples.empty()) out += ".SH EXAMPLES\n" + examples_block(help->examples, true);

  std::vector<std::string> codes;
  for (const auto& e : exit_code_table()) codes.push_back(fmt::format("{} {}", to_int(e.code), e.name));
  out += ".SH EXIT STATUS\nThe same for every command: " + str::join(codes, ", ") + ". See EXIT STATUS in " +
         see_page("aiot") + " or run \\fBaiot help exit\\-codes\\fR.\n";
  out +=
      ".SH ENVIRONMENT\n"
      "The AIOT_* variables of each setting (\\fBaiot help environment\\fR); see ENVIRONMENT in " +
      see_page("aiot") + ".\n";
  out += ".SH FILES\nSettings files, the local hub and rollout journals: see FILES in " + see_page("aiot") + ".\n";
  out += ".SH SEE ALSO\n" + see_page("aiot");
  for (const auto& other : root.subcommands) {
    if (&other != &top) out += ",\n" + see_page(page_name(other));
  }
  out += "\n";
  return out;
}

// Breaks text lines longer than 80 bytes at spaces (mandoc's style check; diffs read better too).
// Macro lines and no-fill (.EX) blocks are left alone; a piece that would start a line with '.' or
// '\'' gets the \& guard.
std::string wrap_text_lines(const std::string& page) {
  constexpr std::size_t k_width = 80;
  std::string out;
  bool no_fill = false;
  for (const auto& line : str::split(page, '\n')) {
    if (line.starts_with(".EX") || line.starts_with(".nf")) no_fill = true;
    if (line.starts_with(".EE") || line.starts_with(".fi")) no_fill = false;
    if (no_fill || line.starts_with(".") || line.size() <= k_width) {
      out += line + "\n";
      continue;
    }
    std::string current;
    for (const auto& word : str::split(line, ' ')) {
      if (!current.empty() && current.size() + 1 + word.size() > k_width) {
        out += current + "\n";
        current.clear();
      }
      if (current.empty()) {
        current = (word.starts_with(".") || word.starts_with("'")) ? "\\&" + word : word;
      } else {
        current += " " + word;
      }
    }
    out += current + "\n";
  }
  out.pop_back();  // split() gave one more piece than there are newlines
  return out;
}

}  // namespace

std::string roff_escape(std::string_view text, bool dashes) {
  std::string out;
  bool line_start = true;
  bool word_start = true;
  bool in_option = false;  // a word that starts with '-' (--out-dir, -o): its dashes are minus signs
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (word_start && c == '-') in_option = true;
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-' && (dashes || in_option)) {
      out += "\\-";
    } else {
      out += c;
    }
    word_start = std::string_view(" \n\t('\"[,").find(c) != std::string_view::npos;
    if (word_start) in_option = false;
  }
  return out;
}

std::span<const EnvironmentVariable> fixed_environment() {
  static constexpr EnvironmentVariable k_variables[] = {
      {"AIOT_PROFILE", "configuration profile to use"},
      {"AIOT_NOW", "pin the clock to this RFC 3339 time (scripted demos)"},
      {"AIOT_FORCE_TTY", "behave as if stdout and stderr were terminals"},
      {"NO_COLOR", "never colour output when set and not empty"},
      {"CLICOLOR_FORCE", "colour output even when not a terminal"},
      {"XDG_CONFIG_HOME", "user config lives in $XDG_CONFIG_HOME/aiot/config.yaml"},
      {"XDG_DATA_HOME", "the local hub lives in $XDG_DATA_HOME/aiot/hub.db"},
  };
  return k_variables;
}

std::map<std::string, std::string> man_pages(const CommandDoc& root) {
  std::map<std::string, std::string> pages;
  pages["aiot.1"] = wrap_text_lines(aiot_page(root));
  for (const auto& top : root.subcommands) pages[page_name(top) + ".1"] = wrap_text_lines(group_page(root, top));
  return pages;
}

std::map<std::string, std::string> generated_files(CLI::App& root) {
  const CommandDoc tree = describe_tree(root);
  std::map<std::string, std::string> files;
  for (auto& [name, text] : man_pages(tree)) files["man/" + name] = std::move(text);
  files["completions/aiot.bash"] = bash_script(tree);
  files["completions/_aiot"] = zsh_script(tree);
  files["completions/aiot.fish"] = fish_script(tree);
  return files;
}

}  // namespace aiot::cli::docs
