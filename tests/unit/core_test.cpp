// Unit tests of extension/src/core: no server needed.
#include <gtest/gtest.h>

#include "core/entitlements/entitlements.hpp"
#include "core/base/base_json_writer.hpp"
#include "core/http/http_jwt.hpp"
#include "core/tenancy/tenancy_membership.hpp"
#include "core/tenancy/tenancy_roles.hpp"
#include "core/base/base_uuid.hpp"

namespace {

sb::Uuid uuid(const char* text) {
  return *sb::parse_uuid(text);
}

TEST(Roles, ParseKnownNamesOnly) {
  EXPECT_EQ(sb::parse_role("viewer"), sb::Role::viewer);
  EXPECT_EQ(sb::parse_role("owner"), sb::Role::owner);
  EXPECT_FALSE(sb::parse_role("Owner").has_value());
  EXPECT_FALSE(sb::parse_role("superadmin").has_value());
  EXPECT_FALSE(sb::parse_role("").has_value());
}

TEST(Roles, OrderedViewerToOwner) {
  const char* names[] = {"viewer", "agent", "manager", "admin", "owner"};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      EXPECT_EQ(sb::role_at_least(*sb::parse_role(names[i]), *sb::parse_role(names[j])), i >= j);
  EXPECT_EQ(sb::role_name(sb::Role::manager), "manager");
}

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

TEST(Membership, RoleInAndOrgsAtLeast) {
  sb::Uuid a = uuid("00000000-0000-4000-8000-00000000000a");
  sb::Uuid b = uuid("00000000-0000-4000-8000-00000000000b");
  sb::Uuid c = uuid("00000000-0000-4000-8000-00000000000c");
  sb::Memberships list = {{a, sb::Role::agent}, {b, sb::Role::owner}};
  EXPECT_EQ(sb::role_in(list, a), sb::Role::agent);
  EXPECT_FALSE(sb::role_in(list, c).has_value());
  EXPECT_EQ(sb::orgs_at_least(list, sb::Role::viewer).size(), 2u);
  ASSERT_EQ(sb::orgs_at_least(list, sb::Role::manager).size(), 1u);
  EXPECT_EQ(sb::orgs_at_least(list, sb::Role::manager)[0], b);
  EXPECT_TRUE(sb::orgs_at_least({}, sb::Role::viewer).empty());
}

// The default: the chosen one wherever it is in the list, else the oldest (the list's first).
TEST(Membership, DefaultOrgIsTheChosenOneElseTheOldest) {
  sb::Uuid a = uuid("00000000-0000-4000-8000-00000000000a");
  sb::Uuid b = uuid("00000000-0000-4000-8000-00000000000b");
  EXPECT_FALSE(sb::default_org({}).has_value());
  EXPECT_EQ(sb::default_org({{a, sb::Role::viewer, false}, {b, sb::Role::owner, false}}), a);
  EXPECT_EQ(sb::default_org({{a, sb::Role::viewer, false}, {b, sb::Role::owner, true}}), b);
}

TEST(Membership, CacheIsBoundedAndClears) {
  sb::MembershipCache cache(2);
  sb::Uuid u1 = uuid("00000000-0000-4000-8000-000000000001");
  sb::Uuid u2 = uuid("00000000-0000-4000-8000-000000000002");
  sb::Uuid u3 = uuid("00000000-0000-4000-8000-000000000003");
  EXPECT_EQ(cache.find(u1), nullptr);
  cache.store(u1, {{u2, sb::Role::admin}});
  cache.store(u2, {});
  ASSERT_NE(cache.find(u1), nullptr);
  EXPECT_EQ(cache.find(u1)->size(), 1u);
  cache.store(u1, {});  // replacing an entry does not evict
  EXPECT_EQ(cache.size(), 2u);
  cache.store(u3, {});  // full: starts afresh
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(u1), nullptr);
  cache.clear();
  EXPECT_EQ(cache.find(u3), nullptr);
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

TEST(Catalog, BitmapsNameFeaturesByTheirBits) {
  sb::ent::Catalog c;
  c.features["calls"] = sb::ent::Feature{"calls", true, "call", 0};
  c.features["sms"] = sb::ent::Feature{"sms", false, "", 9};
  c.features["gone"] = sb::ent::Feature{"gone", false, "", -1};
  std::map<std::string, sb::ent::Grant> grants{{"calls", {}}, {"sms", {}}, {"unknown", {}}};
  EXPECT_EQ(c.bitmap_of(grants), std::string("\x01\x02", 2));  // bit 0, bit 9 = byte 1 mask 2
  EXPECT_EQ(c.bitmap_of({}), "");
  ASSERT_NE(c.key_of_bit(9), nullptr);
  EXPECT_EQ(*c.key_of_bit(9), "sms");
  EXPECT_EQ(c.key_of_bit(3), nullptr);
}
