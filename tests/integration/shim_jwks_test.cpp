// switchboard-shim reading its JWT keys from a JWKS URL (as Supabase publishes them at
// /auth/v1/.well-known/jwks.json), served here by a real HTTP server in the test: key rotation
// without a restart, fetched again on an unknown kid (at most once per minimum interval) and on
// a timer; a URL that does not answer yet at the start.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/http/http_crypto.hpp"
#include "core/http/http_jwt_verify.hpp"
#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::bearer;
using sbtest::Env;
using sbtest::Shim;

// A JWKS endpoint on 127.0.0.1 whose document the test changes; counts the fetches.
class JwksServer {
 public:
  JwksServer() : port_(sbtest::next_port()) {
    server_.Get("/auth/v1/.well-known/jwks.json",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++fetches_;
                  std::lock_guard<std::mutex> lock(mutex_);
                  if (document_.empty()) {
                    res.status = 503;
                    return;
                  }
                  res.set_content(document_, "application/json");
                });
    if (!server_.bind_to_port("127.0.0.1", port_)) throw std::runtime_error("cannot bind");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~JwksServer() {
    server_.stop();
    thread_.join();
  }

  // Ensures: the endpoint publishes `document` ("" answers 503).
  void publish(const std::string& document) {
    std::lock_guard<std::mutex> lock(mutex_);
    document_ = document;
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/auth/v1/.well-known/jwks.json";
  }
  int fetches() const { return fetches_; }

 private:
  int port_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mutex_;
  std::string document_;
  std::atomic<int> fetches_{0};
};

// A JWKS document publishing each (key, kid).
std::string jwks(std::initializer_list<std::pair<sb::PublicKey, std::string>> keys) {
  json out = json::array();
  for (const auto& [key, kid] : keys) out.push_back(json::parse(sb::jwks_of(key, kid))["keys"][0]);
  return json{{"keys", out}}.dump();
}

// A token for a fresh user signed ES256 with `key` under `kid`, valid for ten minutes.
std::string signed_by(const sb::PublicKey& key, const std::string& kid) {
  long now = static_cast<long>(std::time(nullptr));
  return sb::sign_jwt("ES256", key, kid,
                      {{"role", "authenticated"},
                       {"aud", "authenticated"},
                       {"sub", "00000000-0000-4000-8000-00000000feed"},
                       {"iat", now},
                       {"exp", now + 600}});
}

// The status of GET /rpc/shimtest_whoami with `token`.
int status_with(Shim& shim, const std::string& token) {
  auto res = shim.client().Get("/rpc/shimtest_whoami", bearer(token));
  return res ? res->status : 0;
}

class ShimJwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sbtest::ensure_shim_fixtures(); }
};

TEST_F(ShimJwksTest, RotatedKeysAreFetchedOnAnUnknownKidWithoutRestart) {
  auto first = sb::generate_key("EC"), second = sb::generate_key("EC");
  JwksServer keys;
  keys.publish(jwks({{first, "key-1"}}));
  Shim shim(Env{{"SWITCHBOARD_JWKS_URL", keys.url()},
                {"SWITCHBOARD_JWKS_MIN_REFRESH_SECONDS", "60"},
                {"SWITCHBOARD_JWKS_REFRESH_SECONDS", "3600"}});
  EXPECT_EQ(keys.fetches(), 1);
  std::string old_token = signed_by(first, "key-1");
  EXPECT_EQ(status_with(shim, old_token), 200) << shim.output();

  // Rotation: the issuer now signs with key-2 and no longer publishes key-1.
  keys.publish(jwks({{second, "key-2"}}));
  EXPECT_EQ(status_with(shim, signed_by(second, "key-2")), 200) << shim.output();
  EXPECT_EQ(keys.fetches(), 2);
  EXPECT_EQ(status_with(shim, old_token), 401) << "a withdrawn key's token, even a remembered one";
  EXPECT_EQ(status_with(shim, signed_by(first, "key-2")), 401);  // a known kid, a bad signature
  EXPECT_EQ(status_with(shim, sbtest::token("")), 200);          // the HS256 secret stays accepted
  EXPECT_NE(shim.output().find("keys key-2"), std::string::npos) << shim.output();
  EXPECT_EQ(keys.fetches(), 2);
}

TEST_F(ShimJwksTest, UnknownKidsFetchAtMostOncePerMinimumInterval) {
  auto key = sb::generate_key("EC"), stranger = sb::generate_key("EC");
  JwksServer keys;
  keys.publish(jwks({{key, "key-1"}}));
  Shim shim(Env{{"SWITCHBOARD_JWKS_URL", keys.url()},
                {"SWITCHBOARD_JWKS_MIN_REFRESH_SECONDS", "3"},
                {"SWITCHBOARD_JWKS_REFRESH_SECONDS", "3600"}});
  std::vector<std::thread> clients;
  std::atomic<int> refused{0};
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; i < 10; ++i)
        if (status_with(shim, signed_by(stranger, "made-up-" + std::to_string(c * 10 + i))) == 401)
          ++refused;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(refused, 80);
  EXPECT_EQ(keys.fetches(), 2) << "80 unknown kids within the interval: one fetch";
  EXPECT_EQ(status_with(shim, signed_by(key, "key-1")), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  EXPECT_EQ(status_with(shim, signed_by(stranger, "made-up-again")), 401);
  EXPECT_EQ(keys.fetches(), 3) << "after the interval, the next unknown kid fetches again";
}

TEST_F(ShimJwksTest, KeysAreRefreshedOnTheTimerAndAfterAFailedStart) {
  auto key = sb::generate_key("EC"), next = sb::generate_key("EC");
  JwksServer keys;  // publishes nothing yet: 503
  Shim shim(Env{{"SWITCHBOARD_JWKS_URL", keys.url()},
                {"SWITCHBOARD_JWKS_MIN_REFRESH_SECONDS", "1"},
                {"SWITCHBOARD_JWKS_REFRESH_SECONDS", "2"}});
  EXPECT_NE(shim.output().find("no keys from SWITCHBOARD_JWKS_URL yet"), std::string::npos)
      << shim.output();
  keys.publish(jwks({{key, "key-1"}}));
  for (int i = 0; i < 50 && shim.output().find("keys key-1") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(status_with(shim, signed_by(key, "key-1")), 200) << shim.output();

  // Published next to the current key: picked up by the timer, before any token names it.
  keys.publish(jwks({{key, "key-1"}, {next, "key-2"}}));
  int before = keys.fetches();
  for (int i = 0; i < 50 && shim.output().find("keys key-1, key-2") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(shim.output().find("keys key-1, key-2"), std::string::npos) << shim.output();
  EXPECT_GT(keys.fetches(), before);
  EXPECT_EQ(status_with(shim, signed_by(next, "key-2")), 200);

  // A broken document changes nothing: the keys in force stay.
  keys.publish(R"({"keys": [{"kty": "EC", "crv": "P-384", "kid": "bad"}]})");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_NE(shim.output().find("the keys in force stay"), std::string::npos) << shim.output();
  EXPECT_EQ(status_with(shim, signed_by(key, "key-1")), 200);
}

}  // namespace
