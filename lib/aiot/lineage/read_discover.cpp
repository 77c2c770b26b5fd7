// Local inputs of an audit: files, directories (recursive) and globs with "**".
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include "aiot/core/error.hpp"
#include "aiot/lineage/readers.hpp"

namespace aiot::lineage {

namespace {

namespace stdfs = std::filesystem;

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::string> split_path(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t slash = s.find('/', at);
    const std::size_t end = slash == std::string_view::npos ? s.size() : slash;
    if (end > at) {
      parts.emplace_back(s.substr(at, end - at));
    }
    if (slash == std::string_view::npos) {
      break;
    }
    at = slash + 1;
  }
  return parts;
}

// Segment-wise glob: "**" matches any number of directories (zero included); other segments use
// fnmatch, where a leading '.' must be matched explicitly (hidden files are skipped, as in a shell).
bool glob_match(const std::vector<std::string>& pat, std::size_t pi, const std::vector<std::string>& path, std::size_t si) {
  if (pi == pat.size()) {
    return si == path.size();
  }
  if (pat[pi] == "**") {
    for (std::size_t k = si; k <= path.size(); ++k) {
      if (glob_match(pat, pi + 1, path, k)) {
        return true;
      }
      if (k < path.size() && path[k].front() == '.') {
        return false;  // "**" does not descend into hidden directories
      }
    }
    return false;
  }
  if (si == path.size()) {
    return false;
  }
  return fnmatch(pat[pi].c_str(), path[si].c_str(), FNM_PERIOD) == 0 && glob_match(pat, pi + 1, path, si + 1);
}

bool hidden(const stdfs::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name.front() == '.';
}

// Regular files under a directory, skipping hidden files and directories.
void add_tree(const stdfs::path& dir, std::vector<stdfs::path>& out) {
  std::error_code ec;
  stdfs::recursive_directory_iterator it(dir, stdfs::directory_options::follow_directory_symlink, ec), end;
  if (ec) {
    throw Error::usage("cannot read directory " + dir.string() + ": " + ec.message());
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      throw Error::usage("cannot read directory " + dir.string() + ": " + ec.message());
    }
    if (hidden(it->path())) {
      if (it->is_directory(ec)) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (it->is_regular_file(ec)) {
      out.push_back(it->path());
    }
  }
}

Input file_input(const stdfs::path& path) {
  Input in;
  in.name = path.lexically_normal().string();
  std::error_code ec;
  const auto size = stdfs::file_size(path, ec);
  if (!ec) {
    in.size = size;
  }
  in.ol_namespace = "file";
  in.ol_name = stdfs::absolute(path, ec).lexically_normal().string();
  const std::string open_path = path.string();
  in.open = [open_path] { return open_file(open_path); };
  return in;
}

}  // namespace

std::vector<Input> discover_files(const std::vector<std::string>& patterns) {
  std::vector<stdfs::path> found;
  for (const auto& pattern : patterns) {
    const std::size_t before = found.size();
    std::error_code ec;
    if (!has_wildcard(pattern)) {
      const stdfs::path p(pattern);
      if (stdfs::is_directory(p, ec)) {
        add_tree(p, found);
      } else if (stdfs::is_regular_file(p, ec)) {
        found.push_back(p);
      } else if (stdfs::exists(p, ec)) {
        throw Error::usage("input " + pattern + " is not a file or a directory");
      }
    } else {
      // Walk from the longest leading part without wildcards.
      const bool absolute = !pattern.empty() && pattern.front() == '/';
      const auto parts = split_path(pattern);
      std::size_t fixed = 0;
      stdfs::path base = absolute ? stdfs::path("/") : stdfs::path();
      while (fixed < parts.size() && !has_wildcard(parts[fixed])) {
        base /= parts[fixed];
        ++fixed;
      }
      const std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(fixed), parts.end());
      const stdfs::path root = base.empty() ? stdfs::path(".") : base;
      if (stdfs::is_directory(root, ec)) {
        stdfs::recursive_directory_iterator it(root, stdfs::directory_options::follow_directory_symlink, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
          const auto rel = it->path().lexically_relative(root);
          const auto segments = split_path(rel.generic_string());
          const bool is_dir = it->is_directory(ec);
          if (glob_match(rest, 0, segments, 0)) {
            const stdfs::path hit = base.empty() ? rel : base / rel;
            if (is_dir) {
              add_tree(hit, found);
              it.disable_recursion_pending();
            } else if (it->is_regular_file(ec)) {
              found.push_back(hit);
            }
          } else if (is_dir && hidden(it->path())) {
            it.disable_recursion_pending();
          }
        }
        if (ec) {
          throw Error::usage("cannot read directory " + root.string() + " for " + pattern + ": " + ec.message());
        }
      }
    }
    if (found.size() == before) {
      throw Error::usage("no input matches " + pattern, "give files, directories or globs such as 'exports/**/*.json'");
    }
  }
  std::vector<Input> inputs;
  std::set<std::string> seen;  // canonical paths: "a/b" and "./a/b" are one input
  for (const auto& p : found) {
    std::error_code ec;
    auto canonical = stdfs::weakly_canonical(p, ec).string();
    if (ec) {
      canonical = p.lexically_normal().string();
    }
    if (seen.insert(canonical).second) {
      inputs.push_back(file_input(p));
    }
  }
  std::sort(inputs.begin(), inputs.end(), [](const Input& a, const Input& b) { return a.name < b.name; });
  return inputs;
}

}  // namespace aiot::lineage
