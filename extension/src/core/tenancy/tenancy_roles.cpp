#include "core/tenancy/tenancy_roles.hpp"

#include <array>

namespace sb {
namespace {
constexpr std::array<std::string_view, 5> kNames = {"viewer", "agent", "manager", "admin", "owner"};
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Role>(i + 1);
  return std::nullopt;
}

std::string_view role_name(Role role) noexcept {
  return kNames[static_cast<size_t>(role) - 1];
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
