#include "auth.hpp"

#include <cctype>

namespace shim {
namespace {

bool has_bearer_prefix(const std::string& value) {
  static const char prefix[] = "bearer ";
  if (value.size() < sizeof prefix) return false;
  for (std::size_t i = 0; i + 1 < sizeof prefix; ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != prefix[i]) return false;
  return true;
}

Identity anonymous(const Config& config) {
  Identity id;
  id.role = config.anon_role;
  id.claims = {{"role", config.anon_role}};
  return id;
}

// The identity described by verified claims (role claim, else the anonymous role).
Identity from_claims(const Config& config, nlohmann::json claims) {
  Identity id;
  auto role = claims.find("role");
  id.role = role != claims.end() && role->is_string() && !role->get<std::string>().empty()
                ? role->get<std::string>()
                : config.anon_role;
  claims["role"] = id.role;
  auto meta = claims.find("app_metadata");
  if (meta != claims.end() && meta->is_object()) {
    auto org = meta->find("org_id");
    if (org != meta->end() && org->is_string()) id.org_id = org->get<std::string>();
  }
  id.claims = std::move(claims);
  id.anonymous = id.role == config.anon_role;
  return id;
}

}  // namespace

AuthOutcome authenticate(const Config& config, const std::string& authorization) {
  AuthOutcome out;
  if (authorization.empty()) {
    out.ok = true;
    out.identity = anonymous(config);
    return out;
  }
  if (!has_bearer_prefix(authorization)) {
    out.error = "authorization header is not a bearer token";
    return out;
  }
  if (config.jwt.keys.empty()) {
    out.error = "jwt verification is not configured";
    return out;
  }
  auto verdict = sb::verify_jwt(authorization.substr(7), config.jwt, config.now());
  if (!verdict.ok) {
    out.error = verdict.error;
    return out;
  }
  out.ok = true;
  out.identity = from_claims(config, std::move(verdict.claims));
  return out;
}

Identity service_identity() {
  Identity id;
  id.role = "service_role";
  id.claims = {{"role", "service_role"}};
  id.anonymous = false;
  return id;
}

}  // namespace shim
