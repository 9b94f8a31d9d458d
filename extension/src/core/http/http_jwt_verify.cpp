#include "core/http/http_jwt_verify.hpp"

#include <stdexcept>

#include "core/http/http_jwt.hpp"

namespace sb {
namespace {

using nlohmann::json;

// The base64url-decoded value of a string member of a JWK, or throws.
std::string jwk_bytes(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string())
    throw std::runtime_error(std::string("jwk member missing: ") + name);
  auto bytes = base64url_decode(it->get<std::string>());
  if (!bytes) throw std::runtime_error(std::string("jwk member is not base64url: ") + name);
  return *bytes;
}

// The string member `name` of `object`, or `fallback`.
std::string member_or(const json& object, const char* name, const std::string& fallback) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// The verification key described by one JWK.
JwtKey key_of_jwk(const json& jwk) {
  JwtKey key;
  key.kid = member_or(jwk, "kid", "");
  std::string kty = member_or(jwk, "kty", "");
  if (kty == "RSA") {
    key.alg = "RS256";
    key.key = rsa_public_key(jwk_bytes(jwk, "n"), jwk_bytes(jwk, "e"));
    if (rsa_bits(key.key) < 2048) throw std::runtime_error("jwk RSA key shorter than 2048 bits");
  } else if (kty == "EC") {
    if (member_or(jwk, "crv", "") != "P-256") throw std::runtime_error("jwk EC curve is not P-256");
    key.alg = "ES256";
    key.key = p256_public_key(jwk_bytes(jwk, "x"), jwk_bytes(jwk, "y"));
  } else if (kty == "oct") {
    key.alg = "HS256";
    key.secret = jwk_bytes(jwk, "k");
  } else {
    throw std::runtime_error("jwk kty not supported: " + kty);
  }
  std::string alg = member_or(jwk, "alg", key.alg);
  if (alg != key.alg) throw std::runtime_error("jwk alg not supported: " + alg);
  return key;
}

// True when the signature over `signing_input` verifies under `key`.
bool signature_valid(const JwtKey& key, std::string_view signing_input,
                     std::string_view signature) {
  if (key.alg == "HS256")
    return !key.secret.empty() &&
           constant_time_equal(hmac(Digest::sha256, key.secret, signing_input), signature);
  if (key.alg == "RS256") return verify_rs256(key.key, signing_input, signature);
  if (key.alg == "ES256") return verify_es256(key.key, signing_input, signature);
  return false;
}

// True when some key for `alg` (and `kid`, when the token names one) verifies the signature.
bool any_key_verifies(const JwtPolicy& policy, const std::string& alg, const std::string& kid,
                      std::string_view signing_input, std::string_view signature) {
  for (const auto& key : policy.keys) {
    if (key.alg != alg || (!kid.empty() && !key.kid.empty() && key.kid != kid)) continue;
    if (signature_valid(key, signing_input, signature)) return true;
  }
  return false;
}

}  // namespace

std::string jwt_time_problem(const json& claims, std::int64_t now, std::int64_t leeway) {
  for (const char* name : {"exp", "nbf", "iat"}) {
    auto it = claims.find(name);
    if (it == claims.end()) continue;
    if (!it->is_number()) return std::string("jwt claim ") + name + " is not a number";
    double value = it->get<double>();
    if (name[0] == 'e' && static_cast<double>(now - leeway) >= value) return "jwt expired";
    if (name[0] == 'n' && static_cast<double>(now + leeway) < value) return "jwt not yet valid";
    if (name[0] == 'i' && static_cast<double>(now + leeway) < value)
      return "jwt issued in the future";
  }
  return "";
}

std::string jwt_lifetime_problem(const json& claims, std::int64_t now, const JwtPolicy& policy) {
  if (policy.max_lifetime_seconds <= 0) return "";
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number()) return "jwt has no exp claim";
  auto iat = claims.find("iat");
  double from =
      iat != claims.end() && iat->is_number() ? iat->get<double>() : static_cast<double>(now);
  if (exp->get<double>() - from > static_cast<double>(policy.max_lifetime_seconds))
    return "jwt lifetime exceeds " + std::to_string(policy.max_lifetime_seconds) + " seconds";
  return "";
}

namespace {

// True when the aud claim (string or array of strings) names `audience`, or is absent.
bool audience_matches(const json& claims, const std::string& audience) {
  auto it = claims.find("aud");
  if (audience.empty() || it == claims.end()) return true;
  if (it->is_string()) return it->get<std::string>() == audience;
  if (!it->is_array()) return false;
  for (const auto& entry : *it)
    if (entry.is_string() && entry.get<std::string>() == audience) return true;
  return false;
}

// A refusal saying why.
JwtResult refuse(std::string why) {
  JwtResult r;
  r.error = std::move(why);
  return r;
}

// The decoded JSON object of one base64url token part, or a null json.
json decode_part(std::string_view part) {
  auto bytes = base64url_decode(part);
  if (!bytes) return nullptr;
  json value = json::parse(*bytes, nullptr, false);
  return value.is_object() ? value : json(nullptr);
}

}  // namespace

std::vector<JwtKey> parse_jwks(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    throw std::runtime_error("a JWKS document is an object with a keys array");
  std::vector<JwtKey> keys;
  for (const auto& jwk : doc["keys"]) {
    if (!jwk.is_object()) throw std::runtime_error("a jwk is an object");
    if (member_or(jwk, "use", "sig") != "sig") continue;
    keys.push_back(key_of_jwk(jwk));
  }
  return keys;
}

std::string jwks_of(const PublicKey& key, const std::string& kid) {
  auto [a, b] = public_numbers(key);
  json jwk = {{"kid", kid}, {"use", "sig"}};
  if (key_type(key) == "RSA") {
    jwk.update(
        {{"kty", "RSA"}, {"alg", "RS256"}, {"n", base64url_encode(a)}, {"e", base64url_encode(b)}});
  } else {
    jwk.update({{"kty", "EC"},
                {"crv", "P-256"},
                {"alg", "ES256"},
                {"x", base64url_encode(a)},
                {"y", base64url_encode(b)}});
  }
  return json{{"keys", json::array({jwk})}}.dump();
}

std::string jwt_kid(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return "";
  return member_or(decode_part(token.substr(0, dot)), "kid", "");
}

bool has_kid(const JwtPolicy& policy, const std::string& kid) {
  for (const auto& key : policy.keys)
    if (key.kid == kid) return true;
  return false;
}

JwtResult verify_jwt(std::string_view token, const JwtPolicy& policy, std::int64_t now) {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse("jwt malformed");
  json header = decode_part(token.substr(0, dot1));
  json claims = decode_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (header.is_null() || claims.is_null() || !signature) return refuse("jwt malformed");
  std::string alg = member_or(header, "alg", "");
  if (alg != "HS256" && alg != "RS256" && alg != "ES256")
    return refuse("jwt algorithm not allowed");
  if (header.contains("crit")) return refuse("jwt critical header not supported");
  if (!any_key_verifies(policy, alg, member_or(header, "kid", ""), token.substr(0, dot2),
                        *signature))
    return refuse("jwt signature invalid");
  std::string problem = jwt_time_problem(claims, now, policy.leeway_seconds);
  if (problem.empty()) problem = jwt_lifetime_problem(claims, now, policy);
  if (!problem.empty()) return refuse(problem);
  if (!audience_matches(claims, policy.audience)) return refuse("jwt audience not allowed");
  JwtResult ok;
  ok.ok = true;
  ok.claims = std::move(claims);
  return ok;
}

std::string sign_jwt(const std::string& alg, const PublicKey& key, const std::string& kid,
                     const json& claims) {
  json header = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  std::string signature = alg == "ES256" ? sign_es256(key, input) : sign_rs256(key, input);
  return input + "." + base64url_encode(signature);
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
