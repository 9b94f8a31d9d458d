// POST /webhooks/{provider} over real HTTP: every vector of shared/domain/webhooks.md through the
// endpoint, one-byte changes refused, replays and duplicates refused, events stored exactly once
// in switchboard.webhook_inbox with their organisation resolved through provider_accounts.
#include <gtest/gtest.h>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::Connection;
using sbtest::Env;
using sbtest::Shim;

std::string flip_last(std::string text) {
  text.back() = static_cast<char>(text.back() ^ 1);
  return text;
}

struct Reply {
  int status = 0;
  json body;
};

Reply post(Shim& shim, const std::string& path, const httplib::Headers& headers,
           const std::string& body, const std::string& type = "application/json") {
  auto res = shim.client().Post(path.c_str(), headers, body, type.c_str());
  Reply r;
  r.status = res ? res->status : 0;
  if (res && !res->body.empty()) r.body = json::parse(res->body, nullptr, false);
  return r;
}

long inbox_count(Connection& admin, const std::string& provider, const std::string& event_id) {
  return std::stol(admin
                       .must("select count(*) from switchboard.webhook_inbox where provider = $1 "
                             "and event_id = $2",
                             {provider, event_id})
                       .value());
}

// Removes earlier runs' rows of one event (the test database outlives a single test).
void forget(Connection& admin, const std::string& provider, const std::string& event_id) {
  admin.must("delete from switchboard.webhook_inbox where provider = $1 and event_id = $2",
             {provider, event_id});
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks

httplib::Headers standard(const std::string& id, const std::string& ts, const std::string& sig) {
  return {{"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", sig}};
}

TEST(ShimWebhooks, StandardVectorAThroughTheEndpoint) {
  Connection admin;
  forget(admin, "standard", "msg_p5jXN8AQM9LWM0D4loKWxJek");
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS",
                 "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                {"SWITCHBOARD_FIXED_NOW", "1614265330"}});
  std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek", ts = "1614265330",
              body = R"({"test": 2432232314})";
  std::string sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  EXPECT_EQ(post(shim, "/webhooks/standard",
                 standard(id, ts, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), body)
                .status,
            401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, "1614265331", sig), body).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, sig), flip_last(body)).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, flip_last(sig)), body).status, 401);
  EXPECT_EQ(inbox_count(admin, "standard", id), 0);
  Reply first = post(shim, "/webhooks/standard", standard(id, ts, sig), body);
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["received"], true);
  Reply again = post(shim, "/webhooks/standard", standard(id, ts, sig), body);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["duplicate"], true);
  EXPECT_EQ(inbox_count(admin, "standard", id), 1);
  auto row = admin.must(
      "select status, org_id is null, payload::text, headers ? 'webhook-signature' "
      "from switchboard.webhook_inbox where provider = 'standard' and event_id = $1",
      {id});
  EXPECT_EQ(row.rows[0][0], "unmatched");
  EXPECT_EQ(row.rows[0][1], "t");
  EXPECT_EQ(row.rows[0][2], R"({"test": 2432232314})");
  EXPECT_EQ(row.rows[0][3], "f");
  std::string metrics = shim.metrics();
  EXPECT_NE(
      metrics.find(
          R"(switchboard_webhook_verifications_total{provider="standard",outcome="bad_signature"} 4)"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          R"(switchboard_webhook_verifications_total{provider="standard",outcome="verified"} 2)"),
      std::string::npos);
}

TEST(ShimWebhooks, StandardVectorBAndReplayOutsideTolerance) {
  Connection admin;
  std::string id = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", ts = "1649367553";
  std::string body = R"({"email":"test@example.com","username":"test_user"})";
  std::string sig = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
  forget(admin, "standard", id);
  std::string secrets = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
  Shim late(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS", secrets},
                {"SWITCHBOARD_FIXED_NOW", "1649367854"}});
  EXPECT_EQ(post(late, "/webhooks/standard", standard(id, ts, sig), body).status,
            401);  // 301 s later
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS", secrets},
                {"SWITCHBOARD_FIXED_NOW", "1649367853"}});
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, sig), body).status, 200);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, sig), flip_last(body)).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, sig), body).body["duplicate"], true);
  EXPECT_EQ(inbox_count(admin, "standard", id), 1);
}

// The entry "<version>,<base64>" with one bit of its first signature byte flipped (still base64).
std::string tamper_signature(const std::string& entry) {
  auto comma = entry.find(',');
  std::string bytes = sb::base64_decode(entry.substr(comma + 1)).value();
  bytes[0] = static_cast<char>(bytes[0] ^ 1);
  return entry.substr(0, comma + 1) + sb::base64_encode(bytes);
}

// The whpk_ form of an Ed25519 key's public half.
std::string whpk(const sb::PublicKey& key) {
  return "whpk_" + sb::base64_encode(sb::ed25519_raw_public_key(key));
}

TEST(ShimWebhooks, StandardV1aEd25519SignaturesAndOneByteChanges) {
  Connection admin;
  sb::PublicKey key = sb::generate_key("ED25519"), rotated = sb::generate_key("ED25519");
  std::string id = "msg_v1a_" + sbtest::new_uuid(admin), ts = std::to_string(std::time(nullptr));
  std::string body = R"({"type": "v1a.test", "n": 1})", later = std::to_string(std::stoll(ts) + 1);
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_PUBLIC_KEYS", whpk(rotated) + " " + whpk(key)}});
  std::string v1a = sb::standard_v1a_signature(key, id, ts, body);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, v1a), flip_last(body)).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, later, v1a), body).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, tamper_signature(v1a)), body).status,
            401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, flip_last(v1a)), body).status, 401);
  std::string stranger = sb::standard_v1a_signature(sb::generate_key("ED25519"), id, ts, body);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, stranger), body).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, "v1," + v1a.substr(4)), body).status,
            401);  // the right bytes under another version
  EXPECT_EQ(inbox_count(admin, "standard", id), 0);
  Reply first = post(shim, "/webhooks/standard", standard(id, ts, v1a), body);
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["received"], true);
  EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, v1a), body).body["duplicate"], true);
  EXPECT_EQ(inbox_count(admin, "standard", id), 1);
}

TEST(ShimWebhooks, StandardV1AndV1aEntriesMixed) {
  Connection admin;
  sb::PublicKey key = sb::generate_key("ED25519");
  std::string secret = "whsec_" + sb::base64_encode("a-standard-secret-next-to-v1a-keys");
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS", secret},
                {"SWITCHBOARD_STANDARD_WEBHOOK_PUBLIC_KEYS", whpk(key)}});
  std::string ts = std::to_string(std::time(nullptr)), body = R"({"type": "mixed"})";
  // Each header value with whether it verifies: either kind matching is enough.
  auto cases = [&](const std::string& id) -> std::vector<std::pair<std::string, int>> {
    std::string v1 = sb::standard_signature(secret, id, ts, body);
    std::string v1a = sb::standard_v1a_signature(key, id, ts, body);
    return {{"v2,AAAA " + tamper_signature(v1) + " " + v1a, 200},
            {tamper_signature(v1a) + " " + v1, 200},
            {v1 + " " + v1a, 200},
            {tamper_signature(v1a) + " " + tamper_signature(v1) + " v1b,AAAA", 401},
            {"v1a," + v1.substr(3), 401}};
  };
  for (int i = 0; i < 5; ++i) {
    std::string id = "msg_mixed_" + std::to_string(i) + "_" + sbtest::new_uuid(admin);
    auto [signature, status] = cases(id)[static_cast<std::size_t>(i)];
    EXPECT_EQ(post(shim, "/webhooks/standard", standard(id, ts, signature), body).status, status)
        << signature;
    EXPECT_EQ(inbox_count(admin, "standard", id), status == 200 ? 1 : 0);
  }
}

// Svix's header names: the event id is the signed svix-id, so two messages with the same body are
// two events and a replay is one.
TEST(ShimWebhooks, StandardSvixHeadersUseTheSvixIdAsEventId) {
  Connection admin;
  std::string secret = "whsec_" + sb::base64_encode("a-svix-style-standard-webhooks-secret");
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS", secret}});
  std::string ts = std::to_string(std::time(nullptr)), body = R"({"type": "svix.test"})";
  auto svix = [&](const std::string& id) {
    return httplib::Headers{{"svix-id", id},
                            {"svix-timestamp", ts},
                            {"svix-signature", sb::standard_signature(secret, id, ts, body)}};
  };
  std::string one = "msg_svix_" + sbtest::new_uuid(admin),
              two = "msg_svix_" + sbtest::new_uuid(admin);
  Reply r = post(shim, "/webhooks/standard", svix(one), body);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["eventId"], one);
  EXPECT_EQ(post(shim, "/webhooks/standard", svix(two), body).body["eventId"], two);
  EXPECT_EQ(post(shim, "/webhooks/standard", svix(one), body).body["duplicate"], true);
  EXPECT_EQ(inbox_count(admin, "standard", one), 1);
  EXPECT_EQ(inbox_count(admin, "standard", two), 1);
}

// A signed event whose JSON nests deeper than SWITCHBOARD_MAX_JSON_DEPTH is refused with 400 (never
// parsed past the limit, never stored) and the shim keeps serving.
TEST(ShimWebhooks, DeeplyNestedSignedPayloadIs400AndNotStored) {
  Connection admin;
  std::string secret = "whsec_" + sb::base64_encode("a-standard-webhooks-secret-for-depth");
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS", secret}});
  std::string ts = std::to_string(std::time(nullptr)), id = "msg_deep_" + sbtest::new_uuid(admin);
  std::string body = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  Reply r = post(shim, "/webhooks/standard",
                 standard(id, ts, sb::standard_signature(secret, id, ts, body)), body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(inbox_count(admin, "standard", id), 0);
  EXPECT_EQ(shim.client().Get("/healthz")->status, 200);
}

TEST(ShimWebhooks, MalformedPublicKeyStopsTheStart) {
  std::string binary = sbtest::build_dir() + "/switchboard-shim";
  for (const char* bad : {"whpk_bm90LWEta2V5", "whsk_AAAA", "whpk_%%%"}) {
    std::string command = "SWITCHBOARD_STANDARD_WEBHOOK_PUBLIC_KEYS='" + std::string(bad) +
                          "' SWITCHBOARD_LISTEN=127.0.0.1:1 timeout 10 " + binary +
                          " >/dev/null 2>&1";
    int status = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << bad;
  }
}

TEST(ShimWebhooks, MatchedEventIsProcessedForItsOrganisation) {
  Connection admin;
  std::string owner = sbtest::new_uuid(admin), org = sbtest::new_org(admin, owner);
  std::string account = "acct_" + owner.substr(0, 8);
  admin.must(
      "insert into switchboard.provider_accounts (org_id, provider, kind, external_id) "
      "values ($1, 'standard', 'account', $2)",
      {org, account});
  std::string secret = "whsec_" + sb::base64_encode("a-fresh-standard-webhooks-secret");
  Shim shim(Env{{"SWITCHBOARD_STANDARD_WEBHOOK_SECRETS", secret}});
  std::string id = "msg_" + owner, ts = std::to_string(std::time(nullptr));
  std::string body =
      json{{"type", "call.ended"}, {"account_id", account}, {"data", {{"org_id", "forged"}}}}
          .dump();
  Reply r = post(shim, "/webhooks/standard",
                 standard(id, ts, sb::standard_signature(secret, id, ts, body)), body);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["reason"], "PROCESSED");
  auto row = admin.must(
      "select org_id, status, event_type, processed_at is not null from switchboard.webhook_inbox "
      "where provider = 'standard' and event_id = $1",
      {id});
  EXPECT_EQ(row.rows[0], (std::vector<std::string>{org, "processed", "call.ended", "t"}));
  Connection member;
  member.become_user(owner);
  EXPECT_EQ(member.must("select count(*) from switchboard.webhook_inbox where event_id = $1", {id})
                .value(),
            "1");
  EXPECT_EQ(
      member.must("select count(*) from switchboard.webhook_inbox where org_id is null").value(),
      "0");
}

// ---------------------------------------------------------------------------------------------
// Stripe

TEST(ShimWebhooks, StripeVectorThroughTheEndpoint) {
  Connection admin;
  forget(admin, "stripe", "evt_123");
  std::string body = sbtest::file_text(std::string(SB_SOURCE_DIR) +
                                       "/tests/data/webhooks/stripe_event_test_signature.json");
  ASSERT_EQ(body.size(), 484u);
  Shim shim(Env{{"SWITCHBOARD_STRIPE_WEBHOOK_SECRET", "webhook_secret"},
                {"SWITCHBOARD_FIXED_NOW", "1533204620"}});
  std::string v1 = "2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7";
  auto sig = [](const std::string& t, const std::string& v) {
    return httplib::Headers{{"Stripe-Signature", "t=" + t + ",v1=" + v}};
  };
  EXPECT_EQ(post(shim, "/webhooks/stripe", sig("1533204620", v1), flip_last(body)).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/stripe", sig("1533204621", v1), body).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/stripe", sig("1533204620", flip_last(v1)), body).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/stripe", {}, body).status, 401);
  EXPECT_EQ(inbox_count(admin, "stripe", "evt_123"), 0);
  Reply r = post(shim, "/webhooks/stripe", sig("1533204620", v1), body);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["received"], true);
  EXPECT_EQ(post(shim, "/webhooks/stripe", sig("1533204620", v1), body).body["duplicate"], true);
  EXPECT_EQ(inbox_count(admin, "stripe", "evt_123"), 1);
  EXPECT_EQ(admin
                .must("select event_type from switchboard.webhook_inbox where provider = 'stripe' "
                      "and event_id = 'evt_123'")
                .value(),
            "customer.created");
  Shim late(Env{{"SWITCHBOARD_STRIPE_WEBHOOK_SECRET", "webhook_secret"},
                {"SWITCHBOARD_FIXED_NOW", "1533204921"}});
  EXPECT_EQ(post(late, "/webhooks/stripe", sig("1533204620", v1), body).status,
            401);  // replay, 301 s old
}

// ---------------------------------------------------------------------------------------------
// Twilio

const char* kTwilioForm =
    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%"
    "2B18005551212";

// A Twilio request: its signature and an idempotency token (headers are not signed).
httplib::Headers twilio(const std::string& sig, const std::string& token) {
  return {{"X-Twilio-Signature", sig}, {"I-Twilio-Idempotency-Token", token}};
}

// The event id of a Twilio request without signed ids: the digest of the signed URL and parameters.
std::string twilio_digest_id(const std::string& url, const std::string& body) {
  std::string data = sb::twilio_signed_data(url, sb::twilio_signed_params(url, body));
  return "sha256:" + sb::hex_encode(sb::digest(sb::Digest::sha256, data));
}

// Posts a Twilio vector to a shim configured with `url`; checks that it verifies once, that a
// changed body or signature fails, and that the same delivery again, with a new idempotency token,
// is a duplicate.
void check_twilio_vector(const std::string& url, const std::string& query, const std::string& body,
                         const std::string& type, const std::string& sig) {
  Connection admin;
  std::string id = twilio_digest_id(url + query, body);
  forget(admin, "twilio", id);
  Shim shim(
      Env{{"SWITCHBOARD_TWILIO_AUTH_TOKEN", "12345"}, {"SWITCHBOARD_TWILIO_WEBHOOK_URL", url}});
  std::string path = "/webhooks/twilio" + query;
  EXPECT_EQ(post(shim, path, twilio(sig, "t1"), body + "0", type).status, 401) << url << query;
  EXPECT_EQ(post(shim, path, twilio(flip_last(sig), "t1"), body, type).status, 401) << url << query;
  Reply r = post(shim, path, twilio(sig, "t1"), body, type);
  EXPECT_EQ(r.status, 200) << url << query << " " << sig;
  EXPECT_EQ(r.body["received"], true);
  EXPECT_EQ(r.body["eventId"], id);
  EXPECT_EQ(post(shim, path, twilio(sig, "t2"), body, type).body["duplicate"], true);
  EXPECT_EQ(inbox_count(admin, "twilio", id), 1);
}

TEST(ShimWebhooks, TwilioVectorsThroughTheEndpoint) {
  const std::string form = "application/x-www-form-urlencoded";
  check_twilio_vector("https://mycompany.com/myapp.php", "?foo=1&bar=2", kTwilioForm, form,
                      "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  check_twilio_vector("https://mycompany.com/myapp.php", "?foo=1&bar=2", kTwilioForm, form,
                      "kvajT1Ptam85bY51eRf/AJRuM3w=");
  check_twilio_vector("http://mycompany.com/myapp.php", "?foo=1&bar=2", kTwilioForm, form,
                      "0ZXoZLH/DfblKGATFgpif+LLRf4=");
  check_twilio_vector("http://mycompany.com:1234/myapp.php", "?foo=1&bar=2", kTwilioForm, form,
                      "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
  check_twilio_vector("https://mycompany.com/myapp.php", "?foo=1&bar=2",
                      "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", form,
                      "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
  check_twilio_vector(
      "https://mycompany.com/myapp.php",
      "?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
      R"({"property": "value", "boolean": true})", "application/json",
      "a9nBmqA0ju/hNViExpshrM61xv4=");
}

const char* kForm = "application/x-www-form-urlencoded";

// Form text of the name/value pairs, percent-encoded.
std::string form_text(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params)
    out += (out.empty() ? "" : "&") + name + "=" + httplib::detail::encode_query_param(value);
  return out;
}

// The issue's reproduction: one captured status callback replayed with a fresh
// I-Twilio-Idempotency-Token each time (and once with its parameters reordered) is one event,
// identified by its signed CallSid, CallStatus and SequenceNumber; the next callback is another.
TEST(ShimWebhooks, TwilioReplaysWithNewIdempotencyTokensAreOneEvent) {
  Connection admin;
  std::string call = "CA" + sbtest::new_uuid(admin).substr(0, 8);
  Shim shim(Env{{"SWITCHBOARD_TWILIO_AUTH_TOKEN", "12345"},
                {"SWITCHBOARD_PUBLIC_URL", "https://mycompany.com"}});
  std::string url = "https://mycompany.com/webhooks/twilio";
  std::vector<std::pair<std::string, std::string>> params = {
      {"AccountSid", "AC-unmapped"}, {"CallSid", call},        {"CallStatus", "completed"},
      {"Direction", "inbound"},      {"From", "+14158675309"}, {"SequenceNumber", "3"},
      {"To", "+18005551212"}};
  std::string sig = sb::twilio_signature("12345", url, params);
  std::string body = form_text(params);
  Reply first = post(shim, "/webhooks/twilio", twilio(sig, "RE-1"), body, kForm);
  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["eventId"], call + ":completed:3");
  for (const char* token : {"RE-2", "RE-3", "RE-4"})
    EXPECT_EQ(post(shim, "/webhooks/twilio", twilio(sig, token), body, kForm).body["duplicate"],
              true)
        << token;
  std::vector<std::pair<std::string, std::string>> reordered(params.rbegin(), params.rend());
  EXPECT_EQ(post(shim, "/webhooks/twilio", twilio(sig, "RE-5"), form_text(reordered), kForm)
                .body["duplicate"],
            true);
  auto stored = admin.must(
      "select count(*), min(payload ->> 'From') from switchboard.webhook_inbox "
      "where provider = 'twilio' and payload ->> 'CallSid' = $1",
      {call});
  EXPECT_EQ(stored.rows[0], (std::vector<std::string>{"1", "+14158675309"}));
  params[5].second = "4";
  Reply next =
      post(shim, "/webhooks/twilio", twilio(sb::twilio_signature("12345", url, params), "RE-6"),
           form_text(params), kForm);
  EXPECT_EQ(next.body["received"], true) << next.body.dump();
  EXPECT_EQ(inbox_count(admin, "twilio", call + ":completed:4"), 1);
}

// A caller-controlled From never picks the tenant; one organisation calling another's number files
// each leg under the organisation on its side.
TEST(ShimWebhooks, TwilioTenantComesFromTheAccountOrTheOwnSideNumber) {
  Connection admin;
  std::string a = sbtest::new_org(admin, sbtest::new_uuid(admin));
  std::string b = sbtest::new_org(admin, sbtest::new_uuid(admin));
  std::string tag = sbtest::new_uuid(admin).substr(0, 6);
  std::string number_a = "+1555" + tag + "1", number_b = "+1555" + tag + "2";
  admin.must(
      "insert into switchboard.provider_accounts (org_id, provider, kind, external_id) "
      "values ($1, 'twilio', 'phone_number', $2), ($3, 'twilio', 'phone_number', $4)",
      {a, number_a, b, number_b});
  Shim shim(Env{{"SWITCHBOARD_TWILIO_AUTH_TOKEN", "12345"},
                {"SWITCHBOARD_PUBLIC_URL", "https://mycompany.com"}});
  std::string url = "https://mycompany.com/webhooks/twilio";
  auto send = [&](const std::string& direction, const std::string& from, const std::string& to) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"AccountSid", "AC-unmapped"},
        {"CallSid", "CA" + sbtest::new_uuid(admin).substr(0, 8)},
        {"CallStatus", "ringing"},
        {"Called", to},
        {"Caller", from},
        {"Direction", direction},
        {"From", from},
        {"SequenceNumber", "0"},
        {"To", to}};
    Reply r = post(shim, "/webhooks/twilio", twilio(sb::twilio_signature("12345", url, params), ""),
                   form_text(params), kForm);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body["orgId"].is_string() ? r.body["orgId"].get<std::string>() : "unmatched";
  };
  EXPECT_EQ(send("inbound", number_a, "+15550000000"), "unmatched");  // spoofed From
  EXPECT_EQ(send("outbound-api", number_a, number_b), a);             // A calls B: A's leg
  EXPECT_EQ(send("inbound", number_a, number_b), b);                  // A calls B: B's leg
  EXPECT_EQ(send("outbound-dial", number_a, number_b), "unmatched");  // From may be forwarded
  EXPECT_EQ(send("", number_a, number_b), "unmatched");               // unknown direction
}

// The signed URL is the configured public one, never one built from Host or X-Forwarded-*: a
// signature made for another host is refused.
TEST(ShimWebhooks, TwilioSignsOnlyTheConfiguredPublicUrl) {
  Connection admin;
  Shim shim(Env{{"SWITCHBOARD_TWILIO_AUTH_TOKEN", "12345"},
                {"SWITCHBOARD_PUBLIC_URL", "https://mycompany.com/"}});
  std::string body = "CallSid=CA" + sbtest::new_uuid(admin).substr(0, 8) + "&Digits=7";
  auto params = sb::parse_form(body);
  for (const char* forged :
       {"http://evil.example/webhooks/twilio", "https://evil.example/webhooks/twilio"}) {
    httplib::Headers h = twilio(sb::twilio_signature("12345", forged, params), "x");
    h.emplace("Host", "evil.example");
    h.emplace("X-Forwarded-Host", "evil.example");
    h.emplace("X-Forwarded-Proto", std::string(forged).substr(0, 5) == "https" ? "https" : "http");
    EXPECT_EQ(post(shim, "/webhooks/twilio", h, body, kForm).status, 401) << forged;
  }
  std::string sig = sb::twilio_signature("12345", "https://mycompany.com/webhooks/twilio", params);
  EXPECT_EQ(post(shim, "/webhooks/twilio", twilio(sig, "x"), body, kForm).status, 200);
}

// Output and exit status of the shim started with `env` (it must stop by itself).
std::pair<int, std::string> run_shim(const std::string& env) {
  std::string command = env + " SWITCHBOARD_LISTEN=127.0.0.1:1 timeout 10 " + sbtest::build_dir() +
                        "/switchboard-shim 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buf[512];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(ShimWebhooks, TwilioTokenWithoutPublicUrlStopsTheStart) {
  auto [status, output] = run_shim("SWITCHBOARD_TWILIO_AUTH_TOKEN=12345");
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("SWITCHBOARD_PUBLIC_URL"), std::string::npos) << output;
}

// ---------------------------------------------------------------------------------------------
// GoHighLevel

std::string ghl_body(const std::string& webhook_id, long age_seconds) {
  std::time_t t = std::time(nullptr) - age_seconds;
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
  return json{{"type", "ContactCreate"},
              {"locationId", "loc-unmapped"},
              {"webhookId", webhook_id},
              {"timestamp", when}}
      .dump();
}

TEST(ShimWebhooks, GhlEd25519PreferredRsaFallback) {
  Connection admin;
  auto ed = sb::generate_key("ED25519");
  auto rsa = sb::generate_key("RSA");
  sbtest::TempFile ed_pem(sb::public_key_pem(ed));
  Shim shim(Env{{"SWITCHBOARD_GHL_ED25519_PUBLIC_KEY", ed_pem.path()},
                {"SWITCHBOARD_GHL_PUBLIC_KEY", sb::public_key_pem(rsa)}});
  std::string id1 = "ghl-" + sbtest::new_uuid(admin), id2 = "ghl-" + sbtest::new_uuid(admin);
  std::string body1 = ghl_body(id1, 5), body2 = ghl_body(id2, 5);
  auto ed_sig = [&](const std::string& b) { return sb::base64_encode(sb::sign_ed25519(ed, b)); };
  auto rsa_sig = [&](const std::string& b) { return sb::base64_encode(sb::sign_rs256(rsa, b)); };
  httplib::Headers both{{"x-ghl-signature", ed_sig(body1)}, {"x-wh-signature", rsa_sig(body1)}};
  EXPECT_EQ(post(shim, "/webhooks/ghl", both, flip_last(body1)).status, 401);
  EXPECT_EQ(
      post(shim, "/webhooks/ghl", {{"x-ghl-signature", flip_last(ed_sig(body1))}}, body1).status,
      401);
  EXPECT_EQ(post(shim, "/webhooks/ghl", {{"x-ghl-signature", "N/A"}}, body1).status, 401);
  EXPECT_EQ(post(shim, "/webhooks/ghl", both, body1).status, 200);
  EXPECT_EQ(post(shim, "/webhooks/ghl", both, body1).body["duplicate"], true);
  httplib::Headers legacy{{"x-ghl-signature", "N/A"}, {"x-wh-signature", rsa_sig(body2)}};
  EXPECT_EQ(
      post(shim, "/webhooks/ghl", {{"x-wh-signature", flip_last(rsa_sig(body2))}}, body2).status,
      401);
  EXPECT_EQ(post(shim, "/webhooks/ghl", legacy, body2).status, 200);
  EXPECT_EQ(inbox_count(admin, "ghl", id1), 1);
  EXPECT_EQ(inbox_count(admin, "ghl", id2), 1);
  std::string stale = ghl_body("ghl-stale-" + id1, 301);
  EXPECT_EQ(post(shim, "/webhooks/ghl", {{"x-ghl-signature", ed_sig(stale)}}, stale).status, 401);
}

// ---------------------------------------------------------------------------------------------
// Vapi

TEST(ShimWebhooks, VapiSecretAndHmac) {
  Connection admin;
  std::string call = sbtest::new_uuid(admin);
  std::string body =
      json{{"message", {{"type", "status-update"}, {"timestamp", 1}, {"call", {{"id", call}}}}}}
          .dump();
  Shim secret(Env{{"SWITCHBOARD_VAPI_SECRET", "vapi-shared-secret"}});
  EXPECT_EQ(post(secret, "/webhooks/vapi", {{"x-vapi-secret", "vapi-shared-secreT"}}, body).status,
            401);
  EXPECT_EQ(post(secret, "/webhooks/vapi", {}, body).status, 401);
  EXPECT_EQ(post(secret, "/webhooks/vapi", {{"x-vapi-secret", "vapi-shared-secret"}}, body).status,
            200);
  Shim bearer(
      Env{{"SWITCHBOARD_VAPI_SECRET", "vapi-shared-secret"}, {"SWITCHBOARD_VAPI_AUTH", "bearer"}});
  EXPECT_EQ(post(bearer, "/webhooks/vapi", {{"Authorization", "Bearer vapi-shared-secret"}}, body)
                .body["duplicate"],
            true);
  Shim hmac(Env{{"SWITCHBOARD_VAPI_SECRET", "vapi-shared-secret"},
                {"SWITCHBOARD_VAPI_AUTH", "hmac"},
                {"SWITCHBOARD_VAPI_SIGNATURE_HEADER", "X-Vapi-Signature"},
                {"SWITCHBOARD_VAPI_SIGNATURE_ENCODING", "base64"}});
  std::string ts = std::to_string(std::time(nullptr));
  std::string mac =
      sb::base64_encode(sb::hmac(sb::Digest::sha256, "vapi-shared-secret", ts + "." + body));
  EXPECT_EQ(post(hmac, "/webhooks/vapi", {{"x-vapi-signature", mac}, {"x-timestamp", ts}},
                 flip_last(body))
                .status,
            401);
  EXPECT_EQ(
      post(hmac, "/webhooks/vapi", {{"x-vapi-signature", mac}, {"x-timestamp", ts}}, body).status,
      200);
  EXPECT_EQ(inbox_count(admin, "vapi", call + ":status-update::1"), 1);
}

// Two status updates of one call are two events; an exact replay of either is a duplicate.
TEST(ShimWebhooks, VapiStatusUpdatesOfOneCallAreDistinctEvents) {
  Connection admin;
  std::string call = sbtest::new_uuid(admin);
  Shim shim(Env{{"SWITCHBOARD_VAPI_SECRET", "vapi-shared-secret"}});
  httplib::Headers h{{"x-vapi-secret", "vapi-shared-secret"}};
  auto update = [&](const char* status, long ms) {
    return json{{"message",
                 {{"type", "status-update"},
                  {"status", status},
                  {"timestamp", ms},
                  {"call", {{"id", call}}}}}}
        .dump();
  };
  std::string ringing = update("ringing", 1700000000000), ended = update("ended", 1700000000000);
  EXPECT_EQ(post(shim, "/webhooks/vapi", h, ringing).body["received"], true);
  EXPECT_EQ(post(shim, "/webhooks/vapi", h, ended).body["received"], true);
  EXPECT_EQ(post(shim, "/webhooks/vapi", h, ringing).body["duplicate"], true);
  EXPECT_EQ(post(shim, "/webhooks/vapi", h, ended).body["duplicate"], true);
  EXPECT_EQ(
      admin
          .must("select string_agg(event_id, ' ' order by id) from switchboard.webhook_inbox "
                "where provider = 'vapi' and payload #>> '{message,call,id}' = $1",
                {call})
          .value(),
      call + ":status-update:ringing:1700000000000 " + call + ":status-update:ended:1700000000000");
}

TEST(ShimWebhooks, UnknownOrUnconfiguredProviders) {
  Shim shim;
  EXPECT_EQ(post(shim, "/webhooks/paypal", {}, "{}").status, 404);
  auto res = post(shim, "/webhooks/stripe", {{"Stripe-Signature", "t=1,v1=00"}}, "{}");
  EXPECT_EQ(res.status, 503);  // the provider may retry once the secret is set
  EXPECT_NE(res.body["hint"].get<std::string>().find("SWITCHBOARD_STRIPE_WEBHOOK_SECRET"),
            std::string::npos)
      << res.body;
  std::string metrics = shim.metrics();
  EXPECT_NE(metrics.find(R"(provider="stripe",outcome="not_configured"} 1)"), std::string::npos)
      << metrics;
}

}  // namespace
