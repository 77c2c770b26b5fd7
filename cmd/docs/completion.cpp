#include "docs/completion.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "docs/tree.hpp"

namespace aiot::cli::docs {

namespace {

// ---- shared helpers -------------------------------------------------------------------

// Every command of the tree, root first, depth first: the scripts list them in this order.
void flatten(const CommandDoc& c, std::vector<const CommandDoc*>& out) {
  out.push_back(&c);
  for (const auto& s : c.subcommands) flatten(s, out);
}

std::vector<const CommandDoc*> all_commands(const CommandDoc& root) {
  std::vector<const CommandDoc*> out;
  flatten(root, out);
  return out;
}

// One line of text: descriptions end up inside single-line shell strings.
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

// A POSIX shell single-quoted word (bash, zsh).
std::string sq(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A fish single-quoted word: only \ and ' are special inside.
std::string fq(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// flag, text, file, directory, profiles, devices, rollouts, or choice:A B C.
std::string kind_word(const OptionDoc& o) {
  if (o.kind == ValueKind::choice) return "choice:" + str::join(o.choices, " ");
  return to_string(o.kind);
}

std::vector<const OptionDoc*> own_options(const CommandDoc& c) {
  std::vector<const OptionDoc*> out;
  for (const auto& o : c.options) {
    if (!o.help) out.push_back(&o);
  }
  return out;
}

// The root's options, help included: global flags are accepted after any verb (fallthrough).
std::vector<const OptionDoc*> global_options(const CommandDoc& root) {
  std::vector<const OptionDoc*> out;
  for (const auto& o : root.options) out.push_back(&o);
  return out;
}

std::vector<std::string> command_words(const CommandDoc& c) {
  std::vector<std::string> words;
  for (const auto& s : c.subcommands) {
    words.push_back(s.name);
    for (const auto& a : s.aliases) words.push_back(a);
  }
  return words;
}

std::vector<std::string> option_words(const std::vector<const OptionDoc*>& options) {
  std::vector<std::string> words;
  for (const auto* o : options) {
    for (const auto& n : o->names) words.push_back(n);
  }
  return words;
}

// Where a positional's completion applies: "0", "1", ... or "N+" for a repeatable last one.
std::vector<std::pair<std::string, const OptionDoc*>> positional_slots(const CommandDoc& c) {
  std::vector<std::pair<std::string, const OptionDoc*>> out;
  for (std::size_t i = 0; i < c.positionals.size(); ++i) {
    const auto& p = c.positionals[i];
    out.emplace_back(p.repeatable ? fmt::format("{}+", i) : std::to_string(i), &p);
  }
  return out;
}

// The global options that choose where dynamic values come from; `aiot __complete` gets them too.
std::vector<std::string> forwarded_names(const CommandDoc& root) {
  std::vector<std::string> out;
  for (const auto& o : root.options) {
    for (const auto& n : o.names) {
      if (n == "--hub" || n == "--profile" || n == "--config") out.push_back(n);
    }
  }
  return out;
}

// (command path, option name) where a verb's own option has the name of a global one and hides it.
std::vector<std::pair<std::string, std::string>> shadowed_globals(const CommandDoc& root,
                                                                  const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<const CommandDoc*> commands;
  flatten(root, commands);
  for (const auto* c : commands) {
    if (c == &root) continue;
    for (const auto& o : c->options) {
      if (o.help) continue;
      for (const auto& n : o.names) {
        if (std::find(names.begin(), names.end(), n) != names.end()) out.emplace_back(c->path_string(), n);
      }
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> shadowed_forwarded(const CommandDoc& root) {
  return shadowed_globals(root, forwarded_names(root));
}

bool completes(const OptionDoc& o) { return o.kind != ValueKind::none && o.kind != ValueKind::text; }

std::string header(std::string_view comment, std::string_view shell, std::string_view install) {
  std::string out;
  out += fmt::format("{} {} completion for aiot.\n", comment, shell);
  out += fmt::format("{} Generated from the command tree by `aiot __docs`: do not edit. Regenerate with\n", comment);
  out += fmt::format("{}   {}\n", comment, k_regenerate_command);
  out += fmt::format("{} Install for one user: {}\n", comment, install);
  return out;
}

// ---- bash and zsh: the same case tables -----------------------------------------------

// _aiot_child, _aiot_commands, _aiot_options, _aiot_option_kind, _aiot_positional_kind.
std::string sh_tables(const CommandDoc& root, bool with_descriptions) {
  const auto commands = all_commands(root);
  const auto globals = global_options(root);
  std::string out;

  out += "# _aiot_child PATH WORD: the name of subcommand WORD (a name or an alias) of command PATH.\n";
  out += "_aiot_child() {\n  case \"$1|$2\" in\n";
  for (const auto* c : commands) {
    for (const auto& s : c->subcommands) {
      std::vector<std::string> patterns{sq(c->path_string() + "|" + s.name)};
      for (const auto& a : s.aliases) patterns.push_back(sq(c->path_string() + "|" + a));
      out += fmt::format("    {}) printf '%s\\n' {} ;;\n", str::join(patterns, " | "), sq(s.name));
    }
  }
  out += "  esac\n}\n\n";

  out += "# _aiot_commands PATH: the subcommands of PATH, aliases included.\n";
  out += "_aiot_commands() {\n  case \"$1\" in\n";
  for (const auto* c : commands) {
    if (c->subcommands.empty()) continue;
    out += fmt::format("    {}) printf '%s\\n' {} ;;\n", sq(c->path_string()), sq(str::join(command_words(*c), " ")));
  }
  out += "  esac\n}\n\n";

  out += "# _aiot_options PATH: the options of PATH itself; the global ones are in _aiot_globals.\n";
  out += "_aiot_options() {\n  case \"$1\" in\n";
  for (const auto* c : commands) {
    if (c == &root) continue;
    auto words = option_words(own_options(*c));
    if (words.empty()) continue;
    out += fmt::format("    {}) printf '%s\\n' {} ;;\n", sq(c->path_string()), sq(str::join(words, " ")));
  }
  out += "  esac\n}\n";
  out += fmt::format("_aiot_globals={}\n\n", sq(str::join(option_words(globals), " ")));

  if (with_descriptions) {
    out += "# _aiot_described_commands PATH / _aiot_described_options PATH: NAME:DESCRIPTION lines for _describe.\n";
    out += "_aiot_described_commands() {\n  case \"$1\" in\n";
    for (const auto* c : commands) {
      if (c->subcommands.empty()) continue;
      std::vector<std::string> lines;
      for (const auto& s : c->subcommands) {
        lines.push_back(sq(s.name + ":" + one_line(s.description)));
        for (const auto& a : s.aliases)
          lines.push_back(sq(a + ":" + one_line(s.description) + " (alias of " + s.name + ")"));
      }
      out += fmt::format("    {})\n      printf '%s\\n' \\\n        {}\n      ;;\n", sq(c->path_string()),
                         str::join(lines, " \\\n        "));
    }
    out += "  esac\n}\n";
    out += "_aiot_described_options() {\n  case \"$1\" in\n";
    for (const auto* c : commands) {
      auto options = c == &root ? globals : own_options(*c);
      if (options.empty()) continue;
      std::vector<std::string> lines;
      for (const auto* o : options) {
        for (const auto& n : o->names) lines.push_back(sq(n + ":" + one_line(o->description)));
      }
      out += fmt::format("    {})\n      printf '%s\\n' \\\n        {}\n      ;;\n", sq(c->path_string()),
                         str::join(lines, " \\\n        "));
    }
    out += "  esac\n}\n\n";
  }

  out += "# _aiot_option_kind PATH OPTION: flag, text, file, directory, profiles, devices, rollouts or\n";
  out += "# choice:VALUES; nothing for an unknown option. A verb's own options first (CLI11 matches them\n";
  out += "# first), then the global ones: they work after any verb.\n";
  out += "_aiot_option_kind() {\n  case \"$1|$2\" in\n";
  for (const auto* c : commands) {
    if (c == &root) continue;
    for (const auto* o : own_options(*c)) {
      std::vector<std::string> patterns;
      for (const auto& n : o->names) patterns.push_back(sq(c->path_string() + "|" + n));
      out += fmt::format("    {}) printf '%s\\n' {}; return ;;\n", str::join(patterns, " | "), sq(kind_word(*o)));
    }
  }
  out += "  esac\n  case \"$2\" in\n";
  for (const auto* o : globals) {
    std::vector<std::string> patterns;
    for (const auto& n : o->names) patterns.push_back(sq(n));
    out += fmt::format("    {}) printf '%s\\n' {} ;;\n", str::join(patterns, " | "), sq(kind_word(*o)));
  }
  out += "  esac\n}\n\n";

  out += "# _aiot_forwarded PATH OPTION: whether OPTION at PATH is a global flag that picks the hub or the\n";
  out += "# settings (--hub, --profile, --config), passed on to `aiot __complete`.\n";
  out += "_aiot_forwarded() {\n";
  {
    std::vector<std::string> shadowed;
    for (const auto& [path, name] : shadowed_forwarded(root)) shadowed.push_back(sq(path + "|" + name));
    if (!shadowed.empty())
      out += fmt::format("  case \"$1|$2\" in\n    {}) return 1 ;;\n  esac\n", str::join(shadowed, " | "));
  }
  std::vector<std::string> forwarded;
  for (const auto& n : forwarded_names(root)) forwarded.push_back(sq(n));
  out += fmt::format("  case \"$2\" in\n    {}) return 0 ;;\n  esac\n  return 1\n}}\n\n", str::join(forwarded, " | "));

  out += "# _aiot_positional_kind PATH INDEX: what the INDEX-th (from 0) argument of PATH completes to.\n";
  out += "_aiot_positional_kind() {\n  case \"$1|$2\" in\n";
  for (const auto* c : commands) {
    for (const auto& [slot, p] : positional_slots(*c)) {
      if (!completes(*p)) continue;
      std::string pattern = slot.back() == '+' ? sq(c->path_string() + "|") + "*" : sq(c->path_string() + "|" + slot);
      out += fmt::format("    {}) printf '%s\\n' {} ;;\n", pattern, sq(kind_word(*p)));
    }
  }
  out += "  esac\n}\n\n";
  return out;
}

// The word loop both shells share: finds the command path, the positional count, an option that
// waits for its value, and the --hub/--profile/--config given (passed on to `aiot __complete`).
// `first` is the index of the first word after `aiot`, `last` the cursor's index.
std::string sh_walk(std::string_view words, std::string_view first, std::string_view last) {
  return fmt::format(R"SH(  local cmd_path='' pos=0 i word kind child expect='' forward='' opt='' lead=''
  local -a hub_flags
  hub_flags=()
  for ((i = {1}; i < {2}; i++)); do
    word=${{{0}[i]}}
    if [[ -n $expect ]]; then
      # This word is the value of option $expect (bash splits --opt=value at '=').
      [[ $word == '=' ]] && continue
      [[ -n $forward ]] && hub_flags+=("$expect" "$word")
      expect=''
      continue
    fi
    case $word in
      -*=*)
        _aiot_forwarded "$cmd_path" "${{word%%=*}}" && hub_flags+=("$word")
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
      cmd_path=${{cmd_path:+$cmd_path }}$child
    else
      pos=$((pos + 1))
    fi
  done
)SH",
                     words, first, last);
}

// Prints `aiot __complete KIND PREFIX` with the hub flags of the command line, within 2 s.
std::string sh_dynamic(std::string_view self) {
  return fmt::format(R"SH(# _aiot_dynamic KIND PREFIX: profile names, device ids or rollout names from aiot itself.
_aiot_dynamic() {{
  local self={0}
  if command -v timeout >/dev/null 2>&1; then
    timeout 2 "$self" "${{hub_flags[@]}}" __complete "$1" "$2" 2>/dev/null
  else
    "$self" "${{hub_flags[@]}}" __complete "$1" "$2" 2>/dev/null
  fi
}}

)SH",
                     self);
}

}  // namespace

std::string bash_script(const CommandDoc& root) {
  std::string out = "# shellcheck shell=bash\n";
  out += header("#", "bash", "aiot completion bash > ~/.local/share/bash-completion/completions/aiot");
  out += "\n";
  out += sh_tables(root, false);
  out += sh_dynamic("${COMP_WORDS[0]/#\\~/$HOME}");
  out += R"SH(# _aiot_values KIND PREFIX: fills COMPREPLY with the values of KIND that start with PREFIX.
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
)SH";
  out += sh_walk("words", "1", "cword");
  out += R"SH(
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
)SH";
  return out;
}

std::string zsh_script(const CommandDoc& root) {
  std::string out = "#compdef aiot\n";
  out += header("#", "zsh", "aiot completion zsh > ~/.zfunc/_aiot (a folder of $fpath)");
  out += "\n";
  out += sh_tables(root, true);
  out += sh_dynamic("${~words[1]}");
  out += R"SH(# _aiot_values KIND PREFIX: offers the values of KIND.
_aiot_values() {
  local kind=$1
  local -a values
  case $kind in
    choice:*)
      values=(${=${kind#choice:}})
      compadd -a values
      ;;
    file) _files ;;
    directory) _files -/ ;;
    profiles | devices | rollouts)
      values=(${(f)"$(_aiot_dynamic "$kind" "$2")"})
      compadd -a values
      ;;
  esac
}

_aiot() {
  local cur=${words[CURRENT]}
  local -a described
)SH";
  out += sh_walk("words", "2", "CURRENT");
  out += R"SH(
  if [[ -n $expect ]]; then
    opt=$expect
  elif [[ $cur == -*=* ]]; then
    opt=${cur%%=*}
    compset -P '*='
    cur=${cur#*=}
  fi

  if [[ -n $opt ]]; then
    _aiot_values "$(_aiot_option_kind "$cmd_path" "$opt")" "$cur"
  elif [[ $cur == -* ]]; then
    described=(${(f)"$(_aiot_described_options "$cmd_path")"})
    [[ -n $cmd_path ]] && described+=(${(f)"$(_aiot_described_options '')"})
    _describe -t options 'option' described
  elif ((pos == 0)) && [[ -n $(_aiot_commands "$cmd_path") ]]; then
    described=(${(f)"$(_aiot_described_commands "$cmd_path")"})
    _describe -t commands 'command' described
  else
    _aiot_values "$(_aiot_positional_kind "$cmd_path" "$pos")" "$cur"
  fi
}

if [[ $funcstack[1] == _aiot ]]; then
  _aiot "$@"
else
  compdef _aiot aiot
fi
)SH";
  return out;
}

std::string fish_script(const CommandDoc& root) {
  const auto commands = all_commands(root);
  const auto globals = global_options(root);
  std::string out = header("#", "fish", "aiot completion fish > ~/.config/fish/completions/aiot.fish");
  out += "\n";

  out += "# __aiot_child PATH WORD: the name of subcommand WORD (a name or an alias) of command PATH.\n";
  out += "function __aiot_child --argument-names cmd_path word\n    switch \"$cmd_path|$word\"\n";
  for (const auto* c : commands) {
    for (const auto& s : c->subcommands) {
      std::vector<std::string> patterns{fq(c->path_string() + "|" + s.name)};
      for (const auto& a : s.aliases) patterns.push_back(fq(c->path_string() + "|" + a));
      out += fmt::format("        case {}\n            echo {}\n", str::join(patterns, " "), fq(s.name));
    }
  }
  out += "    end\nend\n\n";

  out += "# __aiot_takes_value PATH OPTION: whether OPTION of PATH (or a global one) reads the next word.\n";
  out += "function __aiot_takes_value --argument-names cmd_path opt\n    switch $opt\n";
  {
    std::vector<std::string> names;
    for (const auto* o : globals) {
      if (o->takes_value()) {
        for (const auto& n : o->names) names.push_back(fq(n));
      }
    }
    if (!names.empty()) out += fmt::format("        case {}\n            return 0\n", str::join(names, " "));
  }
  out += "    end\n    switch \"$cmd_path|$opt\"\n";
  {
    std::vector<std::string> patterns;
    for (const auto* c : commands) {
      if (c == &root) continue;
      for (const auto* o : own_options(*c)) {
        if (!o->takes_value()) continue;
        for (const auto& n : o->names) patterns.push_back(fq(c->path_string() + "|" + n));
      }
    }
    for (std::size_t i = 0; i < patterns.size(); i += 4) {
      std::vector<std::string> chunk(patterns.begin() + i, patterns.begin() + std::min(i + 4, patterns.size()));
      out += fmt::format("        case {}\n            return 0\n", str::join(chunk, " "));
    }
  }
  out += "    end\n    return 1\nend\n\n";

  out += "# __aiot_forwarded PATH OPTION: whether OPTION at PATH is a global flag that picks the hub or the\n";
  out += "# settings (--hub, --profile, --config), passed on to `aiot __complete`.\n";
  out += "function __aiot_forwarded --argument-names cmd_path opt\n";
  {
    std::vector<std::string> shadowed;
    for (const auto& [path, name] : shadowed_forwarded(root)) shadowed.push_back(fq(path + "|" + name));
    if (!shadowed.empty()) {
      out += fmt::format("    switch \"$cmd_path|$opt\"\n        case {}\n            return 1\n    end\n",
                         str::join(shadowed, " "));
    }
    std::vector<std::string> forwarded;
    for (const auto& n : forwarded_names(root)) forwarded.push_back(fq(n));
    out += fmt::format("    switch $opt\n        case {}\n            return 0\n    end\n    return 1\nend\n\n",
                       str::join(forwarded, " "));
  }

  out += R"SH(# __aiot_state: the command path, the number of arguments after it, then the forwarded hub flags.
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

)SH";

  // What `complete` is told about a value of this kind.
  auto value_args = [](const OptionDoc& o) -> std::string {
    switch (o.kind) {
      case ValueKind::none:
        return "";
      case ValueKind::text:
        return " -x";
      case ValueKind::choice:
        return " -x -a " + fq(str::join(o.choices, " "));
      case ValueKind::file:
        return " -r -F";
      case ValueKind::directory:
        return " -x -a '(__fish_complete_directories)'";
      case ValueKind::profile:
      case ValueKind::device:
      case ValueKind::rollout:
        return fmt::format(" -x -a '(__aiot_dynamic {})'", to_string(o.kind));
    }
    return "";
  };
  auto option_line = [&](const std::string& condition, const OptionDoc& o) {
    std::string names;
    for (const auto& n : o.names) {
      names += n.rfind("--", 0) == 0 ? " -l " + fq(n.substr(2)) : " -s " + fq(n.substr(1));
    }
    return fmt::format("complete -c aiot{}{}{} -d {}\n", condition, names, value_args(o), fq(one_line(o.description)));
  };

  out += "# Global options: accepted after any verb, unless the verb has an option of the same name.\n";
  for (const auto* o : globals) {
    std::vector<std::string> hidden_at;
    for (const auto& [path, name] : shadowed_globals(root, o->names)) {
      if (std::find(hidden_at.begin(), hidden_at.end(), path) == hidden_at.end()) hidden_at.push_back(path);
    }
    std::vector<std::string> conditions;
    for (const auto& path : hidden_at) conditions.push_back("not __aiot_at " + sq(path));
    out += option_line(conditions.empty() ? "" : " -n " + fq(str::join(conditions, "; and ")), *o);
  }

  for (const auto* c : commands) {
    const std::string at = fmt::format(" -n {}", fq("__aiot_at " + sq(c->path_string())));
    std::string block;
    for (const auto& s : c->subcommands) {
      block += fmt::format("complete -c aiot{} -a {} -d {}\n", at, fq(s.name), fq(one_line(s.description)));
      for (const auto& a : s.aliases) {
        block += fmt::format("complete -c aiot{} -a {} -d {}\n", at, fq(a),
                             fq(one_line(s.description) + " (alias of " + s.name + ")"));
      }
    }
    if (c != &root) {
      for (const auto* o : own_options(*c)) block += option_line(at, *o);
    }
    for (const auto& [slot, p] : positional_slots(*c)) {
      if (!completes(*p)) continue;
      const std::string at_slot = fmt::format(" -n {}", fq("__aiot_at " + sq(c->path_string()) + " " + slot));
      std::string values = value_args(*p);
      if (p->kind == ValueKind::file) values = " -F";
      block += fmt::format("complete -c aiot{}{} -d {}\n", at_slot, values, fq(one_line(p->description)));
    }
    if (block.empty()) continue;
    out += fmt::format("\n# aiot {}\n", c->path.empty() ? "(top level)" : c->path_string());
    out += block;
  }
  return out;
}

std::string completion_script(const CommandDoc& root, std::string_view shell) {
  if (shell == "bash") return bash_script(root);
  if (shell == "zsh") return zsh_script(root);
  if (shell == "fish") return fish_script(root);
  throw Error::usage(fmt::format("no completion for shell '{}'", shell), "Shells: bash, zsh, fish.");
}

}  // namespace aiot::cli::docs
