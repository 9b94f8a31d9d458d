// The caller's identity from the PostgREST/Supabase request settings.
#pragma once

#include <optional>

#include "../core/uuid.hpp"

namespace sb::pg {

struct Caller {
  std::optional<Uuid> user;  // JWT `sub`
  std::optional<Uuid> org;   // JWT `app_metadata.org_id`
};

// The caller described by the current request.jwt.* settings (parsed once per distinct value).
const Caller& current_caller();

// The claims text in force ('' or unset count as absent), or nullptr.
const char* current_claims_text();

}  // namespace sb::pg
