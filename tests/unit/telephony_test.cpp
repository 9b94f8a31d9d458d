// Unit tests of the telephony core (extension/src/core/telephony): libphonenumber parsing, the
// time-zone prefix map and the carrier forwarding codes of ../shared/domain/telephony.md.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/telephony/telephony_forwarding.hpp"
#include "core/telephony/telephony_phone.hpp"
#include "core/telephony/telephony_zones.hpp"

namespace {

using namespace sb::tel;

const ZoneMap& shipped_zones() {
  static const ZoneMap map =
      ZoneMap::read(std::string(SB_SOURCE_DIR) + "/extension/data/switchboard_phone_timezones.txt");
  return map;
}

std::string sqlstate_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sb::Error& e) {
    return e.sqlstate();
  }
  return "ok";
}

TEST(TelephonyPhone, NationalAndInternationalFormats) {
  struct Case {
    const char* input;
    const char* region;
    const char* e164;
  } cases[] = {
      {"(650) 253-0000", "US", "+16502530000"},       {"1-650-253-0000", "US", "+16502530000"},
      {"650.253.0000", "us", "+16502530000"},         {"(416) 555-0123", "CA", "+14165550123"},
      {"+44 20 7946 0958", "US", "+442079460958"},    {"020 7946 0958", "GB", "+442079460958"},
      {"+91 98765 43210", "US", "+919876543210"},     {"098765 43210", "IN", "+919876543210"},
      {"650 253 0000 ext. 12", "US", "+16502530000"}, {"1-800-FLOWERS", "US", "+18003569377"}};
  for (const auto& c : cases) EXPECT_EQ(normalize_phone(c.input, c.region), c.e164) << c.input;
}

TEST(TelephonyPhone, BadInputIsReportedAndRaised) {
  struct Case {
    const char* input;
    const char* reason;
  } cases[] = {{"hello", "NOT_A_NUMBER"},
               {"12", "TOO_SHORT"},
               {"+999 1234 5678", "INVALID_COUNTRY_CODE"},
               {"+1 555 010 9999", "INVALID_FOR_REGION"},
               {"+1 650 253 0000 0000 0000 0000", "TOO_LONG"},
               // valid in Germany's plan, but 17 digits: E.164 allows 15 (found by fuzzing)
               {"+49 7946 0958 3978 712", "TOO_LONG"},
               {"+49 1696", "TOO_SHORT"},  // valid in Germany's plan, 6 digits (fuzzing)
               {"", "NOT_A_NUMBER"}};
  for (const auto& c : cases) {
    PhoneInfo info = phone_info(c.input, "US");
    EXPECT_FALSE(info.valid) << c.input;
    EXPECT_EQ(info.reason, c.reason) << c.input;
    EXPECT_TRUE(info.e164.empty()) << c.input;
    EXPECT_EQ(sqlstate_of([&] { normalize_phone(c.input, "US"); }), "22023") << c.input;
  }
  EXPECT_EQ(sqlstate_of([] { phone_info("650 253 0000", "XX"); }), "22023");
}

TEST(TelephonyPhone, ValidNumberDescribed) {
  PhoneInfo info = phone_info("+1 650 253 0000 x 99", "US", &shipped_zones());
  EXPECT_TRUE(info.valid);
  EXPECT_EQ(info.e164, "+16502530000");
  EXPECT_EQ(info.region, "US");
  EXPECT_EQ(info.country_code, 1);
  EXPECT_EQ(info.type, "FIXED_LINE_OR_MOBILE");
  EXPECT_EQ(info.extension, "99");
  EXPECT_EQ(info.time_zones, std::vector<std::string>{"America/Los_Angeles"});
  EXPECT_EQ(phone_info("+44 7911 123456", "US").type, "MOBILE");
}

TEST(TelephonyZones, LongestPrefixWinsAndZonesSplit) {
  ZoneMap map = ZoneMap::parse("# comment\n\n1|A/X&B/Y\n1208|B/Y\n120830|A/X&C/Z\n");
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.zones_of("12083012345"), (std::vector<std::string>{"A/X", "C/Z"}));
  EXPECT_EQ(map.zones_of("12089999999"), std::vector<std::string>{"B/Y"});
  EXPECT_EQ(map.zones_of("12129999999"), (std::vector<std::string>{"A/X", "B/Y"}));
  EXPECT_TRUE(map.zones_of("44").empty());
  EXPECT_EQ(shipped_zones().zones_of("12083011234"),
            (std::vector<std::string>{"America/Boise", "America/Los_Angeles"}));
  for (const char* bad : {"x|A/B\n", "12\n", "12|\n", "12|A&&B\n", "|A/B\n"})
    EXPECT_EQ(sqlstate_of([&] { ZoneMap::parse(bad); }), "22P02") << bad;
  EXPECT_EQ(sqlstate_of([] { ZoneMap::read("/nonexistent/switchboard_phone_timezones.txt"); }),
            "58P01");
}

// The domain file's table, row by row.
TEST(TelephonyForwarding, CodesPerCarrierAndType) {
  struct Case {
    const char* carrier;
    const char* type;
    std::optional<int> ring;
    const char* activation;
    const char* deactivation;
  } cases[] = {
      {"att", "total_ai", std::nullopt, "**21*+12125550100#", "##21#"},
      {"att", "safety_net", 20, "**004*+12125550100*11*20#", "##004#"},
      {"att", "safety_net", std::nullopt, "**004*+12125550100*11*25#", "##004#"},
      {"tmobile", "total_ai", std::nullopt, "**21*12125550100#", "##21#"},
      {"tmobile", "safety_net", 5, "**004*12125550100*11*5#", "##004#"},
      {"sprint", "safety_net", 30, "**004*12125550100*11*30#", "##004#"},
      {"other_gsm", "total_ai", std::nullopt, "**21*+12125550100#", "##21#"},
      {"international", "safety_net", 15, "**004*+12125550100*11*15#", "##004#"},
      {"verizon", "total_ai", std::nullopt, "*722125550100", "*73"},
      {"verizon", "safety_net", std::nullopt, "*712125550100", "*73"},
      {"other_cdma", "safety_net", std::nullopt, "*712125550100", "*73"},
  };
  for (const auto& c : cases) {
    ForwardingCodes codes = forwarding_codes(c.carrier, c.type, "+1 212 555 0100", c.ring);
    EXPECT_EQ(codes.activation_code, c.activation) << c.carrier << " " << c.type;
    EXPECT_EQ(codes.deactivation_code, c.deactivation) << c.carrier << " " << c.type;
    EXPECT_EQ(codes.destination, "+12125550100");
  }
}

TEST(TelephonyForwarding, RingTimesOutsideTheRuleAreRefused) {
  for (int ring = -10; ring <= 65; ++ring) {
    bool allowed = ring >= 5 && ring <= 30 && ring % 5 == 0;
    EXPECT_EQ(sqlstate_of([&] { forwarding_codes("att", "safety_net", "+12125550100", ring); }),
              allowed ? "ok" : "22023")
        << ring;
    EXPECT_EQ(sqlstate_of([&] { forwarding_codes("att", "total_ai", "+12125550100", ring); }),
              "22023");
    EXPECT_EQ(sqlstate_of([&] { forwarding_codes("verizon", "safety_net", "+12125550100", ring); }),
              "22023");
  }
}

TEST(TelephonyForwarding, BadCarrierTypeOrDestination) {
  EXPECT_EQ(sqlstate_of([] { forwarding_codes("vodafone", "total_ai", "+12125550100", {}); }),
            "22023");
  EXPECT_EQ(sqlstate_of([] { forwarding_codes("att", "busy", "+12125550100", {}); }), "22023");
  EXPECT_EQ(sqlstate_of([] { forwarding_codes("att", "total_ai", "12", {}); }), "22023");
  EXPECT_EQ(sqlstate_of([] { forwarding_codes("tmobile", "total_ai", "+442079460958", {}); }),
            "22023");
  EXPECT_EQ(sqlstate_of([] { forwarding_codes("verizon", "total_ai", "+442079460958", {}); }),
            "22023");
  EXPECT_EQ(forwarding_codes("att", "total_ai", "+442079460958", {}).activation_code,
            "**21*+442079460958#");
}

TEST(TelephonyForwarding, UndoOfAllConditionalWarnsAboutVoicemail) {
  auto codes = forwarding_codes("att", "safety_net", "+12125550100", 20);
  bool warned = false;
  for (const auto& note : codes.notes) warned |= note.find("voicemail") != std::string::npos;
  EXPECT_TRUE(warned);
  for (const auto& note : forwarding_codes("att", "total_ai", "+12125550100", {}).notes)
    EXPECT_EQ(note.find("voicemail"), std::string::npos);
}

}  // namespace
