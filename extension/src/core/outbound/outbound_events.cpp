#include "core/outbound/outbound_events.hpp"

namespace sb::outbound {

namespace {

// True when the filter is a wildcard ("appointment.*") whose prefix the type starts with.
bool wildcard_matches(std::string_view filter, std::string_view type) {
  if (filter.size() < 2 || filter.substr(filter.size() - 2) != ".*") return false;
  std::string_view prefix = filter.substr(0, filter.size() - 1);  // keeps the dot
  return type.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool event_type_wanted(bool every_type, const std::vector<std::string_view>& filters,
                       std::string_view type, bool explicit_only) {
  bool named = false, wildcard = false;
  for (std::string_view f : filters) {
    named = named || f == type;
    wildcard = wildcard || wildcard_matches(f, type);
  }
  if (explicit_only) return named;
  return every_type || named || wildcard;
}

}  // namespace sb::outbound

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
