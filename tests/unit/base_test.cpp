// Unit tests of the base core: uuids and the JSON writer. No server needed.
#include <gtest/gtest.h>

#include <cstring>

#include "core/base/base_json.hpp"
#include "core/base/base_json_writer.hpp"
#include "core/base/base_uuid.hpp"

namespace {

TEST(Uuid, RoundTripsAndRejectsMalformed) {
  auto u = sb::parse_uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(sb::to_string(*u), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_FALSE(sb::parse_uuid("a0eebc999c0b4ef8bb6d6bb9bd380a11").has_value());
  EXPECT_FALSE(sb::parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g").has_value());
  EXPECT_FALSE(sb::parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1").has_value());
  EXPECT_FALSE(sb::parse_uuid("a0eebc99-9c0b-4ef8-bb6d6-bb9bd380a11").has_value());
  EXPECT_FALSE(sb::parse_uuid("").has_value());
}

TEST(Uuid, RandomBytesBecomeVersion4) {
  std::uint8_t ones[16];
  std::uint8_t zeros[16] = {};
  std::memset(ones, 0xff, sizeof ones);
  EXPECT_EQ(sb::to_string(sb::random_uuid_from(ones)), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  EXPECT_EQ(sb::to_string(sb::random_uuid_from(zeros)), "00000000-0000-4000-8000-000000000000");
}

TEST(JsonWriter, TextEscapesAndNests) {
  sb::JsonWriter w;
  w.begin_object().field("a", std::optional<int64_t>(-3)).field("b", std::string_view("q\"\n"));
  w.key("c").begin_array().boolean(true).null().raw_number("0.02").end_array().end_object();
  EXPECT_EQ(w.text(), R"({"a":-3,"b":"q\"\u000a","c":[true,null,0.02]})");
}

TEST(JsonWriter, TokensModeRecordsEveryStepAndNoText) {
  using Kind = sb::JsonToken::Kind;
  sb::JsonWriter w(sb::JsonWriter::Output::tokens);
  w.begin_object().field("n", std::optional<int64_t>(7)).key("l").begin_array();
  w.string("x").raw_number("1.5").boolean(false).null().end_array().end_object();
  EXPECT_TRUE(w.text().empty());
  std::vector<Kind> kinds;
  for (const auto& t : w.tokens()) kinds.push_back(t.kind);
  EXPECT_EQ(kinds,
            (std::vector<Kind>{Kind::begin_object, Kind::key, Kind::number, Kind::key,
                               Kind::begin_array, Kind::string, Kind::raw_number, Kind::boolean,
                               Kind::null, Kind::end_array, Kind::end_object}));
  EXPECT_EQ(w.tokens()[1].text, "n");
  EXPECT_EQ(w.tokens()[2].integer, 7);
  EXPECT_EQ(w.tokens()[6].text, "1.5");
  EXPECT_FALSE(w.tokens()[7].flag);
}

}  // namespace

TEST(AnswerTime, SecondsWithTheOffsetOfTheZoneShown) {
  const int64_t t = 1796502805123456;  // 2026-12-05T20:33:25.123456Z
  EXPECT_EQ(sb::answer_time(t), "2026-12-05T20:33:25Z");
  EXPECT_EQ(sb::answer_time(t, -5 * 3600), "2026-12-05T15:33:25-05:00");
  EXPECT_EQ(sb::answer_time(t, 5 * 3600 + 45 * 60), "2026-12-06T02:18:25+05:45");
  EXPECT_EQ(sb::answer_time(-1),
            "1969-12-31T23:59:59Z");  // a fraction is dropped, never rounded up
  EXPECT_EQ(sb::answer_time(0), "1970-01-01T00:00:00Z");
}

TEST(MarkReplayed, AddsTheFlagToAnyObject) {
  EXPECT_EQ(sb::mark_replayed(R"({"ok": true})"), R"({"ok": true, "replayed": true})");
  EXPECT_EQ(sb::mark_replayed("{}"), R"({"replayed": true})");
  EXPECT_EQ(sb::mark_replayed(R"({"a": {"b": 1}})"), R"({"a": {"b": 1}, "replayed": true})");
}

TEST(ReadJson, ARepeatedKeyKeepsItsLastValueAsJsonbDoes) {
  sb::Json v = sb::read_json(R"({"a": 1, "b": {"c": 2, "c": [3]}, "a": "x"})");
  EXPECT_EQ(sb::json_text(v), R"({"b":{"c":[3]},"a":"x"})");
}
