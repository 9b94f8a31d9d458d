#include "auth.hpp"

#include <cctype>

namespace shim {
namespace {

constexpr std::size_t kRememberedTokens = 10000;

// An identity acting as `role` with `claims` (their role filled in) and their organisation.
std::shared_ptr<const Identity> identity_of(std::string role, nlohmann::json claims,
                                            bool anonymous) {
  auto id = std::make_shared<Identity>();
  claims["role"] = role;
  auto meta = claims.find("app_metadata");
  if (meta != claims.end() && meta->is_object()) {
    auto org = meta->find("org_id");
    if (org != meta->end() && org->is_string()) id->org_id = org->get<std::string>();
  }
  id->role = std::move(role);
  id->claims_json = claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  id->claims = std::move(claims);
  id->anonymous = anonymous;
  return id;
}

// The identity described by verified claims (role claim, else the anonymous role).
std::shared_ptr<const Identity> from_claims(const Config& config, nlohmann::json claims) {
  auto role = claims.find("role");
  std::string name = role != claims.end() && role->is_string() && !role->get<std::string>().empty()
                         ? role->get<std::string>()
                         : config.anon_role;
  bool anonymous = name == config.anon_role;
  return identity_of(std::move(name), std::move(claims), anonymous);
}

// The outcome of a refused token.
AuthOutcome refused(std::string why) {
  return AuthOutcome{nullptr, std::move(why)};
}

}  // namespace

Authenticator::Authenticator(const Config& config)
    : config_(config),
      keys_(config),
      anonymous_(identity_of(config.anon_role, nlohmann::json::object(), true)) {}

std::shared_ptr<const Identity> Authenticator::remembered(const std::string& token) const {
  std::uint64_t generation = keys_.generation();
  std::lock_guard<std::mutex> lock(mutex_);
  if (generation != verified_generation_) {  // keys were rotated: verify every token again
    verified_.clear();
    verified_generation_ = generation;
  }
  auto it = verified_.find(token);
  return it == verified_.end() ? nullptr : it->second;
}

void Authenticator::remember(const std::string& token, std::shared_ptr<const Identity> identity,
                             std::uint64_t generation) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (generation != verified_generation_) return;  // verified with keys no longer in force
  if (verified_.size() >= kRememberedTokens) verified_.clear();
  verified_.emplace(token, std::move(identity));
}

AuthOutcome Authenticator::authenticate(const std::string& authorization) const {
  if (authorization.empty()) return AuthOutcome{anonymous_, ""};
  auto bearer = bearer_token(authorization);
  if (!bearer) return refused("authorization header is not a bearer token");
  if (keys_.policy()->keys.empty() && config_.jwks_url.empty())
    return refused("jwt verification is not configured");
  const std::string& token = *bearer;
  if (auto known = remembered(token)) {
    std::string problem =
        sb::jwt_time_problem(known->claims, config_.now(), config_.jwt.leeway_seconds);
    return problem.empty() ? AuthOutcome{known, ""} : refused(problem);
  }
  std::uint64_t generation = keys_.generation();
  auto verdict = verify(token);
  if (!verdict.ok) return refused(verdict.error);
  auto identity = from_claims(config_, std::move(verdict.claims));
  remember(token, identity, generation);
  return AuthOutcome{identity, ""};
}

sb::JwtResult Authenticator::verify(const std::string& token) const {
  auto policy = keys_.policy();
  auto verdict = sb::verify_jwt(token, *policy, config_.now());
  if (verdict.ok || verdict.error != "jwt signature invalid") return verdict;
  std::string kid = sb::jwt_kid(token);
  if (sb::has_kid(*policy, kid) || !keys_.refresh_for_kid(kid)) return verdict;
  return sb::verify_jwt(token, *keys_.policy(), config_.now());
}

std::optional<std::string> bearer_token(const std::string& authorization) {
  static const char prefix[] = "bearer ";
  if (authorization.size() < sizeof prefix) return std::nullopt;
  for (std::size_t i = 0; i + 1 < sizeof prefix; ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != prefix[i])
      return std::nullopt;
  return authorization.substr(sizeof prefix - 1);
}

std::shared_ptr<const Identity> service_identity() {
  static const auto service = identity_of("service_role", nlohmann::json::object(), false);
  return service;
}

}  // namespace shim
