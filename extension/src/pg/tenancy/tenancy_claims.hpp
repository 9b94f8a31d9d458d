// The caller's identity from the PostgREST/Supabase request settings.
#pragma once

#include <optional>

#include "core/base/base_uuid.hpp"

namespace sb::pg {

// The JWT `sub` as a uuid (request.jwt.claims ->> 'sub', or the legacy request.jwt.claim.sub);
// nothing when absent. Raises 28000 when both are set and name different users, 22P02 when the
// claims are not a JSON object or `sub` is not a uuid.
std::optional<Uuid> caller_user();

// The JWT `app_metadata.org_id` as a uuid; nothing when absent; 22P02 when malformed.
std::optional<Uuid> caller_org();

// The claims text in force (request.jwt.claims, else the legacy request.jwt.claim), or nullptr;
// raises 22P02 when it is not a JSON object.
const char* current_claims_text();

}  // namespace sb::pg
