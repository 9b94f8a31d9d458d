// Who a request acts as: the role and claims of its verified JWT, or the anonymous role.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "jwks.hpp"

namespace shim {

struct Identity {
  std::string role;
  nlohmann::json claims;    // with "role" filled in
  std::string claims_json;  // the same, serialized (request.jwt.claims)
  std::string org_id;       // app_metadata.org_id, or ""
  bool anonymous = true;    // no token: errors of privilege are 401, not 403
};

struct AuthOutcome {
  std::shared_ptr<const Identity> identity;  // nullptr when refused
  std::string error;                         // why the token was refused (safe to return)
};

// Verifies bearer tokens; a verified token is remembered (its signature is not checked again,
// its time claims are, on every use) while the key set stays the same.
class Authenticator {
 public:
  explicit Authenticator(const Config& config);

  // The identity of a request with this Authorization header value ("" when absent).
  AuthOutcome authenticate(const std::string& authorization) const;

 private:
  std::shared_ptr<const Identity> remembered(const std::string& token) const;
  // Ensures: `token` is remembered when `generation` (of the keys it was verified with) is still
  // the key set in force.
  void remember(const std::string& token, std::shared_ptr<const Identity> identity,
                std::uint64_t generation) const;

  // The verdict on `token`, fetching the JWKS again (rate-limited) when its kid is unknown.
  sb::JwtResult verify(const std::string& token) const;

  const Config& config_;
  mutable JwtKeys keys_;
  std::shared_ptr<const Identity> anonymous_;
  mutable std::mutex mutex_;  // verified_, verified_generation_
  mutable std::unordered_map<std::string, std::shared_ptr<const Identity>> verified_;
  mutable std::uint64_t verified_generation_ = 0;  // the key set the remembered tokens passed
};

// The token of an Authorization header value "Bearer <token>" ("Bearer" in any case), or nothing.
std::optional<std::string> bearer_token(const std::string& authorization);

// The identity the shim uses for verified webhooks.
std::shared_ptr<const Identity> service_identity();

}  // namespace shim
