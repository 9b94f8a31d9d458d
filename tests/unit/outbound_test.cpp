// Unit tests of outbound webhook policy (extension/src/core/outbound): the SSRF guard's address
// ranges (IPv4, IPv6, IPv4 inside IPv6), allow lists, status outcomes, Retry-After, the
// signature header against the Standard Webhooks test vector, v1a (Ed25519) keys and signatures
// against RFC 8032's test vector and the core verifier, the stored form of response bodies, and
// per-endpoint pacing (concurrency cap, rate window, circuit breaker) on a simulated clock.
#include <algorithm>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdexcept>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "core/outbound/outbound_limits.hpp"
#include "core/outbound/outbound_policy.hpp"

namespace {

namespace ob = sb::outbound;

// The address of a literal IPv4 or IPv6 text, through a socket address as libcurl hands it over.
ob::Address addr(const char* text) {
  sockaddr_in6 v6{};
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return *ob::address_of(reinterpret_cast<sockaddr*>(&v4));
  }
  EXPECT_EQ(inet_pton(AF_INET6, text, &v6.sin6_addr), 1) << text;
  v6.sin6_family = AF_INET6;
  return *ob::address_of(reinterpret_cast<sockaddr*>(&v6));
}

TEST(OutboundSsrf, RefusesReservedAddresses) {
  for (const char* a : {"127.0.0.1",
                        "127.255.0.9",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "192.0.2.10",
                        "198.18.0.1",
                        "::1",
                        "::",
                        "fe80::1",
                        "fc00::1",
                        "fd12::1",
                        "ff02::1",
                        "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1",
                        "::127.0.0.1",
                        "64:ff9b::a9fe:a9fe",
                        "2001:db8::1",
                        "2002:7f00:1::1"})
    EXPECT_TRUE(ob::is_reserved(addr(a))) << a;
}

TEST(OutboundSsrf, AllowsPublicAddresses) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "2606:4700::1111",
                        "::ffff:8.8.8.8", "64:ff9b::808:808"})
    EXPECT_FALSE(ob::is_reserved(addr(a))) << a;
}

TEST(OutboundSsrf, AllowListOpensOnlyItsNetworks) {
  auto allowed = ob::parse_networks(" 127.0.0.1/32, ::1 ,10.0.0.0/8");
  EXPECT_TRUE(ob::may_connect(addr("127.0.0.1"), allowed));
  EXPECT_TRUE(ob::may_connect(addr("::ffff:127.0.0.1"), allowed));  // the same IPv4 host
  EXPECT_TRUE(ob::may_connect(addr("::1"), allowed));
  EXPECT_TRUE(ob::may_connect(addr("10.200.0.1"), allowed));
  EXPECT_FALSE(ob::may_connect(addr("127.0.0.2"), allowed));
  EXPECT_FALSE(ob::may_connect(addr("169.254.169.254"), allowed));
  EXPECT_TRUE(ob::may_connect(addr("8.8.8.8"), {}));
  EXPECT_FALSE(ob::may_connect(addr("127.0.0.1"), {}));
}

TEST(OutboundSsrf, BadNetworksAreRefused) {
  for (const char* bad :
       {"localhost", "10.0.0.0/33", "::1/129", "10.0.0.0/", "1.2.3.4/x", "300.1.1.1"})
    EXPECT_THROW(ob::parse_networks(bad), std::invalid_argument) << bad;
  EXPECT_TRUE(ob::parse_networks(" , ").empty());
}

TEST(OutboundPolicy, StatusOutcomes) {
  EXPECT_STREQ(ob::outcome_of_status(200), "success");
  EXPECT_STREQ(ob::outcome_of_status(299), "success");
  EXPECT_STREQ(ob::outcome_of_status(301), "redirect");
  EXPECT_STREQ(ob::outcome_of_status(410), "http_error");
  EXPECT_STREQ(ob::outcome_of_status(100), "http_error");
}

TEST(OutboundPolicy, RetryAfter) {
  EXPECT_EQ(ob::retry_after_seconds(" 120 ", 0), 120);
  EXPECT_EQ(ob::retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412420), 60);
  EXPECT_EQ(ob::retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1445412540), 0);
  EXPECT_FALSE(ob::retry_after_seconds("soon", 0));
  EXPECT_FALSE(ob::retry_after_seconds("", 0));
}

// Test vector A of shared/domain/webhooks.md, signed with two secrets during a rotation.
TEST(OutboundPolicy, SignatureHeaderMatchesTheStandardVector) {
  std::string a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  EXPECT_EQ(ob::signature_header({a}, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                                 "{\"test\": 2432232314}"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  std::string two =
      ob::signature_header({"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", a},
                           "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "{\"test\": 2432232314}");
  EXPECT_EQ(two.substr(two.find(' ') + 1), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

std::string unhex(const std::string& hex) {
  return *sb::hex_decode(hex);
}

// RFC 8032, section 7.1, TEST 1: the seed, its public key and the signature of the empty message.
const char* kRfcSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char* kRfcPublic = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char* kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
    "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

TEST(OutboundV1a, KeysFollowRfc8032) {
  auto [whsk, whpk] = ob::v1a_key_pair(unhex(kRfcSeed));
  EXPECT_EQ(whsk, "whsk_" + sb::base64_encode(unhex(kRfcSeed)));
  EXPECT_EQ(whpk, "whpk_" + sb::base64_encode(unhex(kRfcPublic)));
  EXPECT_EQ(ob::v1a_public_key(whsk), whpk);
  EXPECT_EQ(sb::hex_encode(sb::sign_ed25519(sb::standard_private_key(whsk), "")), kRfcSignature);
  // libsodium's 64-byte form (seed, then public key) is read too; a mismatched half is refused.
  std::string sodium = "whsk_" + sb::base64_encode(unhex(kRfcSeed) + unhex(kRfcPublic));
  EXPECT_EQ(ob::v1a_public_key(sodium), whpk);
  std::string wrong = unhex(kRfcSeed) + unhex(kRfcSeed);
  EXPECT_THROW(ob::v1a_public_key("whsk_" + sb::base64_encode(wrong)), std::runtime_error);
  EXPECT_THROW(ob::v1a_public_key("whsk_" + sb::base64_encode("short")), std::runtime_error);
  EXPECT_THROW(ob::v1a_public_key("whsec_" + sb::base64_encode(unhex(kRfcSeed))),
               std::runtime_error);
}

// A v1a header (alone, and beside a v1 entry during a scheme's rotation) verifies with the public
// key in the core verifier the shim uses for inbound Standard Webhooks; a changed body does not.
TEST(OutboundV1a, SignatureHeaderVerifiesWithThePublicKey) {
  auto [whsk, whpk] = ob::v1a_key_pair(unhex(kRfcSeed));
  std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek", ts = "1614265330",
              body = "{\"test\": 2432232314}";
  std::string header = ob::signature_header({whsk}, id, ts, body);
  ASSERT_EQ(header.rfind("v1a,", 0), 0u) << header;
  sb::StandardWebhookConfig config;
  config.public_keys = {sb::standard_public_key(whpk)};
  sb::HeaderMap headers = {
      {"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", header}};
  EXPECT_TRUE(sb::verify_standard(config, headers, body, 1614265330).ok());
  EXPECT_FALSE(sb::verify_standard(config, headers, body + " ", 1614265330).ok());
  std::string both =
      ob::signature_header({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", whsk}, id, ts, body);
  EXPECT_EQ(both.substr(0, both.find(' ')), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  headers["webhook-signature"] = both;
  EXPECT_TRUE(sb::verify_standard(config, headers, body, 1614265330).ok());
}

TEST(OutboundPolicy, StoredResponseBodyIsBoundedAscii) {
  EXPECT_EQ(ob::stored_response_body("ok\r\n\tfine", 100), "ok\r\n\tfine");
  EXPECT_EQ(ob::stored_response_body("caf\xc3\xa9 \x01\x7f", 100), "caf?? ??");
  EXPECT_EQ(ob::stored_response_body(std::string(50000, 'x'), 20000).size(), 20000u);
  EXPECT_EQ(ob::stored_response_body(std::string("a\0b", 3), 10), "a?b");
}

TEST(OutboundLimits, ConcurrencyCapHoldsRequestsBack) {
  ob::EndpointLimits limits;
  ob::EndpointCaps caps{2, std::nullopt};
  EXPECT_EQ(ob::fresh_room(caps), 2);
  limits.started("e", caps, 0);
  EXPECT_EQ(limits.room("e", 0), 1);
  limits.started("e", caps, 0);
  EXPECT_EQ(limits.room("e", 0), 0);
  limits.finished("e", false, 10);
  EXPECT_EQ(limits.room("e", 10), 1);
  limits.finished("e", false, 10);
  EXPECT_TRUE(limits.rooms(10).empty());  // back to fresh: forgotten
}

TEST(OutboundLimits, RateLimitHoldsEverySecondToTheRate) {
  ob::EndpointLimits limits;
  ob::EndpointCaps caps{100, 10};
  EXPECT_EQ(ob::fresh_room(caps), 10);
  std::vector<std::int64_t> starts;
  // 5 simulated seconds, asking every 10 ms, each request done at once: 10 in every second.
  for (std::int64_t now = 0; now <= 5000; now += 10) {
    int room = starts.empty() ? ob::fresh_room(caps) : limits.room("e", now);
    for (int i = 0; i < room; ++i) {
      limits.started("e", caps, now);
      limits.finished("e", false, now);
      starts.push_back(now);
    }
  }
  EXPECT_EQ(starts.size(), 60u);
  for (std::int64_t a : starts) {
    auto in_window = std::count_if(starts.begin(), starts.end(),
                                   [a](std::int64_t b) { return a <= b && b < a + 1000; });
    EXPECT_LE(in_window, 10) << "the second from " << a << " ms";
  }
}

TEST(OutboundLimits, NextRoomIsWhenTheOldestStartLeavesTheWindow) {
  ob::EndpointLimits limits;
  ob::EndpointCaps caps{100, 2};
  EXPECT_EQ(limits.next_room_ms(0), -1);
  limits.started("e", caps, 100);
  EXPECT_EQ(limits.next_room_ms(150), -1);  // room left: not held back
  limits.started("e", caps, 300);
  EXPECT_EQ(limits.room("e", 1099), 0);
  EXPECT_EQ(limits.next_room_ms(1099), 1100);
  EXPECT_EQ(limits.room("e", 1100), 1);
}

TEST(OutboundLimits, BreakerOpensProbesAndCloses) {
  ob::EndpointLimits limits({3, 1000, 4000});
  ob::EndpointCaps caps{10, std::nullopt};
  for (int i = 0; i < 3; ++i) limits.started("e", caps, 0);
  for (int i = 0; i < 2; ++i) limits.finished("e", true, 0);
  EXPECT_FALSE(limits.open("e"));
  limits.finished("e", true, 0);
  EXPECT_TRUE(limits.open("e"));
  EXPECT_EQ(limits.room("e", 999), 0);
  EXPECT_EQ(limits.room("e", 1000), 1);  // half open: one probe
  limits.started("e", caps, 1000);
  EXPECT_EQ(limits.room("e", 1000), 0);
  limits.finished("e", true, 1100);  // the probe failed: open again for twice as long
  EXPECT_EQ(limits.room("e", 3099), 0);
  EXPECT_EQ(limits.room("e", 3100), 1);
  limits.started("e", caps, 3100);
  limits.finished("e", true, 3100);  // 4 s at most
  EXPECT_EQ(limits.room("e", 7099), 0);
  EXPECT_EQ(limits.room("e", 7100), 1);
  limits.started("e", caps, 7100);
  limits.finished("e", false, 7200);  // the probe succeeded: closed, full room again
  EXPECT_FALSE(limits.open("e"));
  EXPECT_TRUE(limits.rooms(7200).empty());
}

TEST(OutboundLimits, WhatCountsAgainstTheBreaker) {
  EXPECT_TRUE(ob::breaker_failure(0, false));  // no answer: timeout, refused, reset
  EXPECT_TRUE(ob::breaker_failure(503, false));
  EXPECT_FALSE(ob::breaker_failure(404, false));  // the endpoint answers
  EXPECT_FALSE(ob::breaker_failure(429, false));  // throttling: Retry-After paces it
  EXPECT_FALSE(ob::breaker_failure(200, true));
  ob::EndpointLimits off({0, 1000, 1000});
  ob::EndpointCaps caps;
  for (int i = 0; i < 20; ++i) off.started("e", caps, 0), off.finished("e", true, 0);
  EXPECT_FALSE(off.open("e"));
}

}  // namespace
