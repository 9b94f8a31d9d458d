// The HTTP API rules (core/http/http_api): the route template matcher and specificity, the status
// of a SQLSTATE and identifier quoting. Input: a route template, a request path, then a SQLSTATE.
// A match binds every {name} to a non-empty segment, and putting the values back in the template
// gives the path, but for a trailing slash, which matching ignores (in templates too).
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "core/http/http_api.hpp"
#include "fuzz_support.hpp"

namespace {

// The path `path_template` names when each {name} segment takes its value from `values`, or
// nothing when a name repeats (the last segment's value wins: no path to rebuild).
std::optional<std::string> fill(std::string_view path_template,
                                const std::map<std::string, std::string>& values) {
  std::string out;
  std::set<std::string> seen;
  while (true) {
    auto slash = path_template.find('/');
    std::string_view segment = path_template.substr(0, slash);
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
      std::string name(segment.substr(1, segment.size() - 2));
      if (!seen.insert(name).second) return std::nullopt;
      out += values.at(name);
    } else {
      out += segment;
    }
    if (slash == std::string_view::npos) return out;
    out += '/';
    path_template.remove_prefix(slash + 1);
  }
}

// `path` without one trailing slash: matching ignores it in templates and paths alike.
std::string_view without_trailing_slash(std::string_view path) {
  return !path.empty() && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 3);
  int literal = sb::template_specificity(f[0]);
  sb::fuzz::require(literal >= 0 && static_cast<std::size_t>(literal) <= f[0].size() + 1,
                    "specificity counts segments");
  if (auto values = sb::match_template(f[0], f[1])) {
    for (const auto& [name, value] : *values)
      sb::fuzz::require(!name.empty() && !value.empty() && value.find('/') == std::string::npos,
                        "a parameter binds one non-empty segment");
    auto rebuilt = fill(f[0], *values);
    sb::fuzz::require(!rebuilt || without_trailing_slash(*rebuilt) == without_trailing_slash(f[1]),
                      "the bound values rebuild the path (trailing slashes aside)");
  }
  for (bool anonymous : {false, true}) {
    int status = sb::http_status_for_sqlstate(f[2], anonymous);
    sb::fuzz::require(status >= 100 && status <= 599, "a status is an HTTP status");
  }
  std::string quoted = sb::quote_ident(f[2]);
  sb::fuzz::require(
      quoted.size() >= f[2].size() + 2 && quoted.front() == '"' && quoted.back() == '"',
      "an identifier is quoted");
  return 0;
}
