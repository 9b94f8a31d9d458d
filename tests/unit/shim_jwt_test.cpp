// Unit tests of JWT verification (extension/src/core/jwt_verify) and its crypto helpers.
#include <gtest/gtest.h>

#include "core/http/http_crypto.hpp"
#include "core/http/http_jwt.hpp"
#include "core/http/http_jwt_verify.hpp"

namespace {

using nlohmann::json;

const std::int64_t kNow = 1700000000;

json claims(std::int64_t exp_offset = 3600) {
  return {{"sub", "00000000-0000-4000-8000-0000000000a1"},
          {"role", "authenticated"},
          {"aud", "authenticated"},
          {"iat", kNow - 10},
          {"exp", kNow + exp_offset}};
}

sb::JwtPolicy hs_policy(
    const std::string& secret = "super-secret-jwt-token-with-at-least-32-characters") {
  sb::JwtPolicy p;
  p.keys.push_back({"", "HS256", secret, nullptr});
  p.audience = "authenticated";
  return p;
}

std::string hs_token(const json& c, const std::string& secret =
                                        "super-secret-jwt-token-with-at-least-32-characters") {
  return sb::sign_hs256(c.dump(), secret);
}

// The token with its payload part replaced by `c` (signature kept).
std::string with_payload(const std::string& token, const json& c) {
  auto a = token.find('.'), b = token.rfind('.');
  return token.substr(0, a + 1) + sb::base64url_encode(c.dump()) + token.substr(b);
}

TEST(Jwt, Hs256HappyPath) {
  auto r = sb::verify_jwt(hs_token(claims()), hs_policy(), kNow);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.claims["role"], "authenticated");
}

TEST(Jwt, TimeClaimsWithLeeway) {
  EXPECT_TRUE(sb::verify_jwt(hs_token(claims(-29)), hs_policy(), kNow).ok);
  EXPECT_EQ(sb::verify_jwt(hs_token(claims(-31)), hs_policy(), kNow).error, "jwt expired");
  json future = claims();
  future["nbf"] = kNow + 31;
  EXPECT_EQ(sb::verify_jwt(hs_token(future), hs_policy(), kNow).error, "jwt not yet valid");
  future["nbf"] = kNow + 29;
  EXPECT_TRUE(sb::verify_jwt(hs_token(future), hs_policy(), kNow).ok);
  json issued = claims();
  issued["iat"] = kNow + 60;
  EXPECT_EQ(sb::verify_jwt(hs_token(issued), hs_policy(), kNow).error, "jwt issued in the future");
  json text_exp = claims();
  text_exp["exp"] = "tomorrow";
  EXPECT_FALSE(sb::verify_jwt(hs_token(text_exp), hs_policy(), kNow).ok);
}

// Tokens without exp, or living longer than the cap (exp - iat, else exp - now), are refused by
// default; a cap of 0 accepts both (PostgREST's behaviour).
TEST(Jwt, ExpRequiredAndLifetimeCapped) {
  auto verify = [](const json& c, std::int64_t cap = 86400) {
    auto p = hs_policy();
    p.max_lifetime_seconds = cap;
    return sb::verify_jwt(hs_token(c), p, kNow);
  };
  EXPECT_EQ(hs_policy().max_lifetime_seconds, 86400);
  json forever = claims();
  forever.erase("exp");
  EXPECT_EQ(verify(forever).error, "jwt has no exp claim");
  json day = claims();
  day["exp"] = kNow - 10 + 86400;  // iat is now - 10
  EXPECT_TRUE(verify(day).ok);
  day["exp"] = kNow - 10 + 86401;
  EXPECT_EQ(verify(day).error, "jwt lifetime exceeds 86400 seconds");
  json no_iat = claims(86400);
  no_iat.erase("iat");
  EXPECT_TRUE(verify(no_iat).ok);
  no_iat["exp"] = kNow + 86401;
  EXPECT_EQ(verify(no_iat).error, "jwt lifetime exceeds 86400 seconds");
  json ten_years = claims(10L * 365 * 86400);  // like Supabase's anon and service_role keys
  EXPECT_FALSE(verify(ten_years).ok);
  EXPECT_TRUE(verify(ten_years, 0).ok);
  EXPECT_TRUE(verify(forever, 0).ok);
}

TEST(Jwt, Audience) {
  json c = claims();
  c["aud"] = "someone-else";
  EXPECT_EQ(sb::verify_jwt(hs_token(c), hs_policy(), kNow).error, "jwt audience not allowed");
  c["aud"] = json::array({"x", "authenticated"});
  EXPECT_TRUE(sb::verify_jwt(hs_token(c), hs_policy(), kNow).ok);
  c.erase("aud");  // PostgREST accepts tokens without aud
  EXPECT_TRUE(sb::verify_jwt(hs_token(c), hs_policy(), kNow).ok);
}

TEST(Jwt, AlgNoneTamperedAndWrongKeyFail) {
  std::string none = sb::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                     sb::base64url_encode(claims().dump()) + ".";
  EXPECT_EQ(sb::verify_jwt(none, hs_policy(), kNow).error, "jwt algorithm not allowed");
  json escalated = claims();
  escalated["role"] = "service_role";
  EXPECT_EQ(sb::verify_jwt(with_payload(hs_token(claims()), escalated), hs_policy(), kNow).error,
            "jwt signature invalid");
  EXPECT_EQ(
      sb::verify_jwt(hs_token(claims(), "another-secret-another-secret-123"), hs_policy(), kNow)
          .error,
      "jwt signature invalid");
  EXPECT_EQ(sb::verify_jwt("a.b", hs_policy(), kNow).error, "jwt malformed");
  EXPECT_EQ(sb::verify_jwt("a.b.c.d", hs_policy(), kNow).error, "jwt malformed");
}

TEST(Jwt, Rs256AndEs256ViaJwks) {
  auto rsa = sb::generate_key("RSA");
  auto ec = sb::generate_key("EC");
  sb::JwtPolicy p;
  for (auto& k : sb::parse_jwks(sb::jwks_of(rsa, "r1"))) p.keys.push_back(k);
  for (auto& k : sb::parse_jwks(sb::jwks_of(ec, "e1"))) p.keys.push_back(k);
  auto rs = sb::verify_jwt(sb::sign_jwt("RS256", rsa, "r1", claims()), p, kNow);
  EXPECT_TRUE(rs.ok) << rs.error;
  auto es = sb::verify_jwt(sb::sign_jwt("ES256", ec, "e1", claims()), p, kNow);
  EXPECT_TRUE(es.ok) << es.error;
  EXPECT_TRUE(sb::verify_jwt(sb::sign_jwt("ES256", ec, "", claims()), p, kNow).ok);
  EXPECT_FALSE(sb::verify_jwt(sb::sign_jwt("ES256", ec, "r1", claims()), p, kNow).ok);  // wrong kid
  auto other = sb::generate_key("EC");
  EXPECT_FALSE(sb::verify_jwt(sb::sign_jwt("ES256", other, "e1", claims()), p, kNow).ok);
}

TEST(Jwt, NoHmacWithPublicKeyMaterial) {
  auto rsa = sb::generate_key("RSA");
  sb::JwtPolicy p;
  p.keys = sb::parse_jwks(sb::jwks_of(rsa, "r1"));
  std::string pem = sb::public_key_pem(rsa);
  EXPECT_EQ(sb::verify_jwt(sb::sign_hs256(claims().dump(), pem), p, kNow).error,
            "jwt signature invalid");
}

TEST(Jwks, RejectsUnusableKeys) {
  EXPECT_THROW(sb::parse_jwks("[]"), std::runtime_error);
  EXPECT_THROW(sb::parse_jwks(R"({"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]})"),
               std::runtime_error);
  EXPECT_THROW(sb::parse_jwks(R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})"),
               std::runtime_error);
  EXPECT_TRUE(
      sb::parse_jwks(R"({"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]})").empty());
  auto oct = sb::parse_jwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");
  ASSERT_EQ(oct.size(), 1u);
  EXPECT_EQ(oct[0].secret, "secret");
}

TEST(Crypto, EcdsaDerJoseRoundTrip) {
  auto ec = sb::generate_key("EC");
  std::string jose = sb::sign_es256(ec, "message");
  ASSERT_EQ(jose.size(), 64u);
  auto der = sb::ecdsa_jose_to_der(jose);
  ASSERT_TRUE(der.has_value());
  EXPECT_EQ(sb::ecdsa_der_to_jose(*der, 32), jose);
  EXPECT_TRUE(sb::verify_es256(ec, "message", jose));
  EXPECT_FALSE(sb::verify_es256(ec, "massage", jose));
}

TEST(Crypto, EncodingsAndConstantTimeCompare) {
  EXPECT_EQ(sb::base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(sb::base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(sb::base64_decode("aGVsbG8"), "hello");
  EXPECT_FALSE(sb::base64_decode("aGV$bG8=").has_value());
  EXPECT_EQ(sb::hex_decode("0aFF"), std::string("\x0a\xff"));
  EXPECT_FALSE(sb::hex_decode("0g").has_value());
  EXPECT_TRUE(sb::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(sb::constant_time_equal("abc", "abd"));
  EXPECT_FALSE(sb::constant_time_equal("abc", "abcd"));
}

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(sb::base64url_encode(""), "");
  EXPECT_EQ(sb::base64url_encode("f"), "Zg");
  EXPECT_EQ(sb::base64url_encode("fo"), "Zm8");
  EXPECT_EQ(sb::base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(sb::base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(sb::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(*sb::base64url_decode("Zm9vYg"), "foob");
  EXPECT_EQ(*sb::base64url_decode("-_8"), "\xfb\xff");
  EXPECT_FALSE(sb::base64url_decode("Zm9vY").has_value());
  EXPECT_FALSE(sb::base64url_decode("Zm9v+").has_value());
  EXPECT_FALSE(sb::base64url_decode("Zh").has_value());  // non-canonical trailing bits
}

TEST(Jwt, Hs256KnownToken) {
  // The example token of RFC 7519's most quoted debugger (secret "your-256-bit-secret").
  std::string token = sb::sign_hs256(R"({"sub":"1234567890","name":"John Doe","iat":1516239022})",
                                     "your-256-bit-secret");
  EXPECT_EQ(token,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

TEST(Jwt, HmacSha256Rfc4231Case2) {
  std::string mac = sb::hmac_sha256("Jefe", "what do ya want for nothing?");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : mac) hex += {kHex[c >> 4], kHex[c & 15]};
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
