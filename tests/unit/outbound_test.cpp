// Unit tests of outbound webhook policy (extension/src/core/outbound): the SSRF guard's address
// ranges (IPv4, IPv6, IPv4 inside IPv6), allow lists, status outcomes, Retry-After, and the
// signature header against the Standard Webhooks test vector.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdexcept>

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

}  // namespace
