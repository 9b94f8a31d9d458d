// Who a request acts as: the role and claims of its verified JWT, or the anonymous role.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config.hpp"

namespace shim {

struct Identity {
  std::string role;
  nlohmann::json claims;  // with "role" filled in
  std::string org_id;     // app_metadata.org_id, or ""
  bool anonymous = true;  // no token: errors of privilege are 401, not 403
};

struct AuthOutcome {
  bool ok = false;
  Identity identity;
  std::string error;  // why the token was refused (safe to return)
};

// The identity of a request with this Authorization header value ("" when absent).
AuthOutcome authenticate(const Config& config, const std::string& authorization);

// The identity the shim uses for verified webhooks.
Identity service_identity();

}  // namespace shim
