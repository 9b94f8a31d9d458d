// Unit tests of webhook verification (extension/src/core/webhook_verify): every vector of
// shared/domain/webhooks.md, and one-byte changes to body, timestamp or signature.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"

namespace {

using sb::HeaderMap;

// The bytes of a file under tests/data, read in binary mode.
std::string data_file(const std::string& name) {
  std::ifstream in(std::string(SB_SOURCE_DIR) + "/tests/data/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string flip_last(std::string text) {
  text.back() = static_cast<char>(text.back() ^ 1);
  return text;
}

const char* kBodyA = R"({"test": 2432232314})";

sb::StandardWebhookConfig standard_a() {
  return {{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, 300, {}};
}

HeaderMap standard_headers(const std::string& id, const std::string& ts, const std::string& sig) {
  return {{"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", sig}};
}

TEST(StandardWebhooks, VectorAVerifiesAndWrongSignatureFails) {
  auto h = standard_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_TRUE(sb::verify_standard(standard_a(), h, kBodyA, 1614265330).ok());
  h["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
  EXPECT_EQ(sb::verify_standard(standard_a(), h, kBodyA, 1614265330).outcome, "bad_signature");
}

TEST(StandardWebhooks, VectorBVerifies) {
  sb::StandardWebhookConfig config{{"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}, 300, {}};
  auto h = standard_headers("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
                            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
  std::string body = R"({"email":"test@example.com","username":"test_user"})";
  EXPECT_TRUE(sb::verify_standard(config, h, body, 1649367553).ok());
  EXPECT_FALSE(sb::verify_standard(config, h, flip_last(body), 1649367553).ok());
}

TEST(StandardWebhooks, OneByteChangesFail) {
  std::string sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  auto h = standard_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", sig);
  EXPECT_EQ(sb::verify_standard(standard_a(), h, kBodyA, 1614265330).outcome, "bad_signature");
  h = standard_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig);
  EXPECT_EQ(sb::verify_standard(standard_a(), h, flip_last(kBodyA), 1614265330).outcome,
            "bad_signature");
  h["webhook-id"] = "msg_p5jXN8AQM9LWM0D4loKWxJeK";
  EXPECT_EQ(sb::verify_standard(standard_a(), h, kBodyA, 1614265330).outcome, "bad_signature");
}

TEST(StandardWebhooks, RotationUnpaddedUnknownVersionsAndTolerance) {
  sb::StandardWebhookConfig config{
      {"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
      300,
      {}};
  auto h =
      standard_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                       "v2,abc v1,bm90IHRoaXM= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE");
  EXPECT_TRUE(sb::verify_standard(config, h, kBodyA, 1614265330).ok());
  EXPECT_TRUE(sb::verify_standard(config, h, kBodyA, 1614265330 + 300).ok());
  EXPECT_EQ(sb::verify_standard(config, h, kBodyA, 1614265330 + 301).outcome, "stale_timestamp");
  EXPECT_EQ(sb::verify_standard(config, h, kBodyA, 1614265330 - 301).outcome, "stale_timestamp");
  h.erase("webhook-signature");
  EXPECT_EQ(sb::verify_standard(config, h, kBodyA, 1614265330).outcome, "missing_signature");
  EXPECT_EQ(sb::verify_standard({}, h, kBodyA, 1614265330).outcome, "not_configured");
}

TEST(StandardWebhooks, SignsWhatItVerifies) {
  EXPECT_EQ(sb::standard_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                   "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", kBodyA),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Stripe, VectorFileIsByteExact) {
  std::string body = data_file("webhooks/stripe_event_test_signature.json");
  ASSERT_EQ(body.size(), 484u);
  EXPECT_EQ(sb::hex_encode(sb::digest(sb::Digest::sha256, body)),
            "98cc89412549ca7faf118fca984763bdb6f81e13d1ce8c528dbbb5be602ec1be");
}

TEST(Stripe, VectorVerifiesAndOneByteChangesFail) {
  std::string body = data_file("webhooks/stripe_event_test_signature.json");
  sb::StripeConfig config{{"webhook_secret"}, 300};
  std::string v1 = "2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7";
  HeaderMap h{{"stripe-signature",
               "t=1533204620,v1=" + v1 +
                   ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"}};
  EXPECT_TRUE(sb::verify_stripe(config, h, body, 1533204620).ok());
  EXPECT_EQ(sb::verify_stripe(config, h, flip_last(body), 1533204620).outcome, "bad_signature");
  HeaderMap later{{"stripe-signature", "t=1533204621,v1=" + v1}};
  EXPECT_EQ(sb::verify_stripe(config, later, body, 1533204620).outcome, "bad_signature");
  HeaderMap wrong{{"stripe-signature", "t=1533204620,v1=" + flip_last(v1)}};
  EXPECT_EQ(sb::verify_stripe(config, wrong, body, 1533204620).outcome, "bad_signature");
  HeaderMap v0_only{{"stripe-signature", "t=1533204620,v0=" + v1}};
  EXPECT_EQ(sb::verify_stripe(config, v0_only, body, 1533204620).outcome, "malformed");
  EXPECT_EQ(sb::verify_stripe(config, h, body, 1533204620 + 301).outcome, "stale_timestamp");
  HeaderMap second{{"stripe-signature", "t=1533204620,v1=00,v1=" + v1}};
  EXPECT_TRUE(sb::verify_stripe(config, second, body, 1533204620).ok());
}

std::vector<std::pair<std::string, std::string>> twilio_params() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Digits", "1234"},
          {"From", "+14158675309"},
          {"To", "+18005551212"},
          {"Caller", "+14158675309"}};
}

TEST(Twilio, SignatureVectors) {
  std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  EXPECT_EQ(sb::twilio_signature("12345", url, twilio_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  EXPECT_EQ(sb::twilio_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                                 twilio_params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w=");
  EXPECT_EQ(sb::twilio_signature("12345", "http://mycompany.com:80/myapp.php?foo=1&bar=2",
                                 twilio_params()),
            "0ZXoZLH/DfblKGATFgpif+LLRf4=");
  EXPECT_EQ(sb::twilio_signature("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                                 twilio_params()),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
  EXPECT_EQ(
      sb::twilio_signature(
          "12345", url,
          {{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}}),
      "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

// The form body Twilio posts for the standard parameters.
std::string twilio_form() {
  return "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%"
         "2B18005551212";
}

TEST(Twilio, VerifiesFormBodiesWithPortVariants) {
  sb::TwilioConfig config{{"12345"}};
  std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  for (const char* sig : {"RSOYDt4T1cUTdK1PDd93/VVr8B8=", "kvajT1Ptam85bY51eRf/AJRuM3w="}) {
    HeaderMap h{{"x-twilio-signature", sig}};
    EXPECT_TRUE(sb::verify_twilio(config, h, url, twilio_form()).ok()) << sig;
    EXPECT_FALSE(sb::verify_twilio(config, h, url, twilio_form() + "1").ok()) << sig;
  }
  HeaderMap h80{{"x-twilio-signature", "0ZXoZLH/DfblKGATFgpif+LLRf4="}};
  EXPECT_TRUE(
      sb::verify_twilio(config, h80, "http://mycompany.com/myapp.php?foo=1&bar=2", twilio_form())
          .ok());
  HeaderMap h1234{{"x-twilio-signature", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="}};
  EXPECT_TRUE(sb::verify_twilio(config, h1234, "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                                twilio_form())
                  .ok());
  HeaderMap wrong{{"x-twilio-signature", "RSOYDt4T1cUTdK1PDd93/VVr8B9="}};
  EXPECT_EQ(sb::verify_twilio(config, wrong, url, twilio_form()).outcome, "bad_signature");
  EXPECT_EQ(sb::verify_twilio(config, {}, url, twilio_form()).outcome, "missing_signature");
}

// What the signature covers is the same for a reordered or re-encoded body (the event digest the
// shim stores relies on it), and for JSON bodies it is the URL alone (bodySHA256 covers the body).
TEST(Twilio, SignedDataIgnoresParameterOrderAndEncoding) {
  std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  std::string data = sb::twilio_signed_data(url, sb::twilio_signed_params(url, twilio_form()));
  EXPECT_EQ(data, url +
                      "CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+"
                      "18005551212");
  std::string reordered =
      "To=%2b18005551212&From=%2B14158675309&Digits=1234&Caller=%2B14158675309"
      "&CallSid=CA1234567890ABCDE";
  EXPECT_EQ(sb::twilio_signed_data(url, sb::twilio_signed_params(url, reordered)), data);
  std::string json_url = url + "&bodySHA256=0a1f";
  EXPECT_TRUE(sb::twilio_signed_params(json_url, R"({"a": 1})").empty());
  EXPECT_EQ(sb::twilio_signed_data(json_url, {}), json_url);
}

TEST(Twilio, RepeatedParametersAreSortedByValue) {
  sb::TwilioConfig config{{"12345"}};
  HeaderMap h{{"x-twilio-signature", "IK+Dwps556ElfBT0I3Rgjkr1wJU="}};
  std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  EXPECT_TRUE(
      sb::verify_twilio(config, h, url, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234").ok());
}

TEST(Twilio, JsonBodyIsCheckedByItsHash) {
  sb::TwilioConfig config{{"12345"}};
  std::string body = R"({"property": "value", "boolean": true})";
  std::string hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  EXPECT_EQ(sb::hex_encode(sb::digest(sb::Digest::sha256, body)), hash);
  std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + hash;
  HeaderMap h{{"x-twilio-signature", "a9nBmqA0ju/hNViExpshrM61xv4="}};
  EXPECT_TRUE(sb::verify_twilio(config, h, url, body).ok());
  EXPECT_EQ(sb::verify_twilio(config, h, url, flip_last(body)).outcome, "bad_signature");
}

TEST(Twilio, UrlVariants) {
  auto v = sb::twilio_url_variants("https://a.example/x?y=1");
  EXPECT_EQ(v,
            (std::vector<std::string>{"https://a.example/x?y=1", "https://a.example:443/x?y=1"}));
  v = sb::twilio_url_variants("http://a.example:8080/x");
  EXPECT_EQ(v, (std::vector<std::string>{"http://a.example:8080/x", "http://a.example/x"}));
}

// A GHL body with a timestamp `age` seconds before `now`.
std::string ghl_body(std::int64_t now, std::int64_t age) {
  std::time_t t = static_cast<std::time_t>(now - age);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
  return std::string(
             R"({"type":"ContactCreate","locationId":"loc1","webhookId":"wh-1","timestamp":")") +
         when + "\"}";
}

TEST(Ghl, Ed25519PreferredRsaFallbackAndBodyTimestamp) {
  auto ed = sb::generate_key("ED25519");
  auto rsa = sb::generate_key("RSA");
  sb::GhlConfig config{sb::public_key_from_pem(sb::public_key_pem(ed)),
                       sb::public_key_from_pem(sb::public_key_pem(rsa)), 300};
  std::int64_t now = 1760000000;
  std::string body = ghl_body(now, 10);
  HeaderMap both{{"x-ghl-signature", sb::base64_encode(sb::sign_ed25519(ed, body))},
                 {"x-wh-signature", "N/A"}};
  EXPECT_TRUE(sb::verify_ghl(config, both, body, now).ok());
  EXPECT_EQ(sb::verify_ghl(config, both, flip_last(body), now).outcome, "bad_signature");
  HeaderMap legacy{{"x-ghl-signature", "N/A"},
                   {"x-wh-signature", sb::base64_encode(sb::sign_rs256(rsa, body))}};
  EXPECT_TRUE(sb::verify_ghl(config, legacy, body, now).ok());
  legacy["x-wh-signature"] = flip_last(legacy["x-wh-signature"]);
  EXPECT_FALSE(sb::verify_ghl(config, legacy, body, now).ok());
  HeaderMap na{{"x-ghl-signature", "N/A"}};
  EXPECT_EQ(sb::verify_ghl(config, na, body, now).outcome, "missing_signature");
  std::string old = ghl_body(now, 301);
  HeaderMap stale{{"x-ghl-signature", sb::base64_encode(sb::sign_ed25519(ed, old))}};
  EXPECT_EQ(sb::verify_ghl(config, stale, old, now).outcome, "stale_timestamp");
}

TEST(Vapi, SecretBearerAndHmac) {
  sb::VapiConfig config;
  config.secret = "s3cret";
  EXPECT_TRUE(sb::verify_vapi(config, {{"x-vapi-secret", "s3cret"}}, "{}", 0).ok());
  EXPECT_EQ(sb::verify_vapi(config, {{"x-vapi-secret", "s3creT"}}, "{}", 0).outcome,
            "bad_signature");
  config.mode = sb::VapiConfig::Mode::bearer;
  EXPECT_TRUE(sb::verify_vapi(config, {{"authorization", "Bearer s3cret"}}, "{}", 0).ok());
  EXPECT_TRUE(sb::verify_vapi(config, {{"authorization", "s3cret"}}, "{}", 0).ok());
  EXPECT_FALSE(sb::verify_vapi(config, {{"authorization", "Bearer nope"}}, "{}", 0).ok());
  config.mode = sb::VapiConfig::Mode::hmac;
  std::string body = R"({"message":{"type":"status-update"}})";
  std::string mac = sb::hex_encode(sb::hmac(sb::Digest::sha256, "s3cret", "1700000000." + body));
  HeaderMap h{{"x-signature", mac}, {"x-timestamp", "1700000000"}};
  EXPECT_TRUE(sb::verify_vapi(config, h, body, 1700000100).ok());
  EXPECT_EQ(sb::verify_vapi(config, h, body, 1700000301).outcome, "stale_timestamp");
  EXPECT_EQ(sb::verify_vapi(config, h, flip_last(body), 1700000100).outcome, "bad_signature");
  config.base64 = true;
  config.signature_prefix = "sha512=";
  config.algorithm = sb::Digest::sha512;
  config.signed_payload = "{body}";
  h = {
      {"x-signature", "sha512=" + sb::base64_encode(sb::hmac(sb::Digest::sha512, "s3cret", body))}};
  EXPECT_TRUE(sb::verify_vapi(config, h, body, 0).ok());
}

// Retell: X-Retell-Signature v=<ms>,d=<hex HMAC-SHA256(api key, body + ms)> (../shared/domain/
// webhooks.md); the vector's digest was computed with `openssl dgst -sha256 -hmac`.
TEST(Retell, SignatureToleranceAndTampering) {
  sb::RetellConfig config{{"old_key", "key_retell_test"}, 300};
  std::string body = R"({"event":"call_started","call":{"call_id":"c1"}})";
  std::string sig =
      "v=1765000000000,d=a599b7f4bd09895c6f05fe8b7a7b22ea847eca9d302aec54e5239428c0057c2d";
  EXPECT_EQ(sb::retell_signature("key_retell_test", body, 1765000000000), sig);
  HeaderMap h{{"x-retell-signature", sig}};
  EXPECT_TRUE(sb::verify_retell(config, h, body, 1765000000).ok());
  EXPECT_TRUE(sb::verify_retell(config, h, body, 1765000300).ok());
  EXPECT_EQ(sb::verify_retell(config, h, body, 1765000301).outcome, "stale_timestamp");
  EXPECT_EQ(sb::verify_retell(config, h, body, 1764999699).outcome, "stale_timestamp");
  EXPECT_EQ(sb::verify_retell(config, h, flip_last(body), 1765000000).outcome, "bad_signature");
  HeaderMap moved{
      {"x-retell-signature",
       "v=1765000000001,d=a599b7f4bd09895c6f05fe8b7a7b22ea847eca9d302aec54e5239428c0057c2d"}};
  EXPECT_EQ(sb::verify_retell(config, moved, body, 1765000000).outcome, "bad_signature");
  EXPECT_EQ(sb::verify_retell(config, {}, body, 1765000000).outcome, "missing_signature");
  EXPECT_EQ(sb::verify_retell(config, {{"x-retell-signature", "v=x,d=00"}}, body, 0).outcome,
            "malformed");
  EXPECT_EQ(sb::verify_retell(sb::RetellConfig{}, h, body, 1765000000).outcome, "not_configured");
  sb::RetellConfig other{{"another_key"}, 300};
  EXPECT_EQ(sb::verify_retell(other, h, body, 1765000000).outcome, "bad_signature");
}

TEST(Forms, DecodesPlusPercentAndRepeats) {
  auto p = sb::parse_form("a=1+2&b=%2B1%20x&c&a=%zz");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"a", "1 2"}));
  EXPECT_EQ(p[1].second, "+1 x");
  EXPECT_EQ(p[2], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ(p[3].second, "%zz");
}

TEST(Iso8601, ParsesZonesAndFractions) {
  EXPECT_EQ(sb::parse_iso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(sb::parse_iso8601("2025-01-28T14:35:00.123Z"), 1738074900);
  EXPECT_EQ(sb::parse_iso8601("2025-01-28T16:35:00+02:00"), 1738074900);
  EXPECT_EQ(sb::parse_iso8601("2025-01-28T09:35:00-0500"), 1738074900);
  EXPECT_FALSE(sb::parse_iso8601("2025-01-28 14:35").has_value());
  EXPECT_FALSE(sb::parse_iso8601("2025-13-28T14:35:00Z").has_value());
  EXPECT_FALSE(sb::parse_iso8601("2025-01-28T14:35:00").has_value());
}

}  // namespace
