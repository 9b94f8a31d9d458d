// The small name parsers of the core: UUIDs (core/base/base_uuid), member roles
// (core/tenancy/tenancy_roles), usage periods and limit modes (core/entitlements). Whatever one
// accepts, it writes back as the same text (UUIDs in lowercase).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

#include "core/base/base_uuid.hpp"
#include "core/entitlements/entitlements.hpp"
#include "core/tenancy/tenancy_roles.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = sb::fuzz::text_of(data, size);
  if (auto uuid = sb::parse_uuid(text)) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    sb::fuzz::require(sb::to_string(*uuid) == lower, "a UUID writes back as read");
  }
  if (auto role = sb::parse_role(text)) sb::fuzz::require(sb::role_name(*role) == text, "role");
  if (auto period = sb::ent::parse_period(text))
    sb::fuzz::require(sb::ent::period_name(*period) == text, "period");
  if (auto mode = sb::ent::parse_mode(text))
    sb::fuzz::require(sb::ent::mode_name(*mode) == text, "mode");
  return 0;
}
