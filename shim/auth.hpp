// Who a request acts as: the role and claims of its verified JWT, or the anonymous role.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "config.hpp"

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
// its time claims are, on every use).
class Authenticator {
 public:
  explicit Authenticator(const Config& config);

  // The identity of a request with this Authorization header value ("" when absent).
  AuthOutcome authenticate(const std::string& authorization) const;

 private:
  std::shared_ptr<const Identity> remembered(const std::string& token) const;
  void remember(const std::string& token, std::shared_ptr<const Identity> identity) const;

  const Config& config_;
  std::shared_ptr<const Identity> anonymous_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Identity>> verified_;
};

// The token of an Authorization header value "Bearer <token>" ("Bearer" in any case), or nothing.
std::optional<std::string> bearer_token(const std::string& authorization);

// The identity the shim uses for verified webhooks.
std::shared_ptr<const Identity> service_identity();

}  // namespace shim
