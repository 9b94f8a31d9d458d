// Member roles of an organisation, ordered viewer < agent < manager < admin < owner.
#pragma once

#include <optional>
#include <string_view>

namespace sb {

enum class Role : int { viewer = 1, agent = 2, manager = 3, admin = 4, owner = 5 };

// The role named by `name` (exact, lowercase), or nothing for an unknown name.
std::optional<Role> parse_role(std::string_view name) noexcept;

// The lowercase name of `role`.
std::string_view role_name(Role role) noexcept;

// True when `held` ranks at least as high as `wanted`.
inline bool role_at_least(Role held, Role wanted) noexcept {
  return static_cast<int>(held) >= static_cast<int>(wanted);
}

}  // namespace sb
