// Verification of JSON Web Tokens as PostgREST does it: HS256 with a shared secret, RS256 and ES256
// with keys from a JWKS document; exp/nbf/iat with leeway; aud when configured. Nothing else is
// accepted (in particular not `alg: none`, and never an HMAC keyed with a public key).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/http/http_crypto.hpp"

namespace sb {

// One verification key: an HMAC secret (HS256) or a public key (RS256, ES256).
struct JwtKey {
  std::string kid;  // empty: matches any token kid
  std::string alg;  // "HS256", "RS256" or "ES256"
  std::string secret;
  PublicKey key;
};

// The keys of a JWKS document (RSA, EC P-256 and oct keys meant for signatures); throws
// std::runtime_error naming the first unusable key.
std::vector<JwtKey> parse_jwks(std::string_view json);

// A JWKS document ({"keys": [...]}) publishing `key` under `kid` (for tests and tools).
std::string jwks_of(const PublicKey& key, const std::string& kid);

struct JwtPolicy {
  std::vector<JwtKey> keys;
  std::string audience;  // empty: aud is not checked
  std::int64_t leeway_seconds = 30;
  // Tokens must carry exp, at most this long after iat (after now when there is no iat); 0: exp
  // is optional and unbounded (PostgREST's behaviour).
  std::int64_t max_lifetime_seconds = 86400;
};

// The outcome of checking one token: its claims, or why it was refused.
struct JwtResult {
  bool ok = false;
  std::string error;  // a short lowercase reason, safe to show
  nlohmann::json claims;
};

// The kid of the compact JWS `token`'s header, or "" (none, or not a JWS).
std::string jwt_kid(std::string_view token);

// True when some key of `policy` has exactly `kid`.
bool has_kid(const JwtPolicy& policy, const std::string& kid);

// Checks the compact JWS `token` at time `now` (Unix seconds) against `policy`.
JwtResult verify_jwt(std::string_view token, const JwtPolicy& policy, std::int64_t now);

// Why the exp, nbf and iat claims refuse a token at `now` (with `leeway` seconds), or "".
std::string jwt_time_problem(const nlohmann::json& claims, std::int64_t now, std::int64_t leeway);

// Why the token of `claims` lives too long for `policy` at `now` (no exp, or exp beyond the
// lifetime cap), or "".
std::string jwt_lifetime_problem(const nlohmann::json& claims, std::int64_t now,
                                 const JwtPolicy& policy);

// A compact JWS of `claims` signed with `key` using `alg` ("RS256", "ES256"), with `kid` in its
// header (for tests and the `token` command).
std::string sign_jwt(const std::string& alg, const PublicKey& key, const std::string& kid,
                     const nlohmann::json& claims);

}  // namespace sb
