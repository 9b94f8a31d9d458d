// Unit tests of the endpoint filter rule (core/outbound/outbound_events): every type, exact
// names, .* wildcards and explicit-only types.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "core/outbound/outbound_events.hpp"

namespace {

using sb::outbound::event_type_wanted;
using Filters = std::vector<std::string_view>;

TEST(OutboundEvents, NoFilterTakesEveryTypeButExplicitOnes) {
  EXPECT_TRUE(event_type_wanted(true, {}, "member.added", false));
  EXPECT_FALSE(event_type_wanted(true, {}, "caller_id.verification_started", true));
}

TEST(OutboundEvents, NamesAndWildcards) {
  Filters f = {"appointment.*", "member.added"};
  EXPECT_TRUE(event_type_wanted(false, f, "appointment.booked", false));
  EXPECT_TRUE(event_type_wanted(false, f, "appointment.no_show", false));
  EXPECT_TRUE(event_type_wanted(false, f, "member.added", false));
  EXPECT_FALSE(event_type_wanted(false, f, "member.removed", false));
  EXPECT_FALSE(event_type_wanted(false, f, "appointmentx.booked", false));
  EXPECT_FALSE(event_type_wanted(false, {}, "member.added", false));
}

TEST(OutboundEvents, WildcardNeedsTheDotAndOneStar) {
  EXPECT_FALSE(event_type_wanted(false, {"appointment*"}, "appointment.booked", false));
  EXPECT_FALSE(event_type_wanted(false, {"appointment.**"}, "appointment.booked", false));
  EXPECT_FALSE(event_type_wanted(false, {".*"}, "appointment.booked", false));
  EXPECT_FALSE(event_type_wanted(false, {"*"}, "appointment.booked", false));
  EXPECT_TRUE(event_type_wanted(false, {"lead.*"}, "lead.stage.changed", false));
}

TEST(OutboundEvents, ExplicitOnlyNeedsTheExactName) {
  std::string_view type = "caller_id.verification_started";
  EXPECT_FALSE(event_type_wanted(false, {"caller_id.*"}, type, true));
  EXPECT_TRUE(event_type_wanted(false, {"caller_id.verification_started"}, type, true));
  EXPECT_TRUE(event_type_wanted(false, {"member.added", std::string_view(type)}, type, true));
}

}  // namespace
