// The one answer builder of the booking commands (core/booking/booking_answer): every accepted and
// refused answer, and update_calendar's.
#include <gtest/gtest.h>

#include <string>

#include "core/base/base_json_writer.hpp"
#include "core/booking/booking_answer.hpp"

namespace {

using namespace sb::booking;

Micros utc(int y, int mo, int d, int h, int mi) {
  return (static_cast<Micros>(days_from_civil(y, mo, d)) * 86400 + h * 3600 + mi * 60) * kSecond;
}

// New York in March 2026: EST until 2026-03-08 07:00Z, then EDT.
Zone new_york_march() {
  Micros spring = utc(2026, 3, 8, 7, 0);
  return Zone({{0, spring, -5 * 3600}, {spring, spring + 60 * kDay, -4 * 3600}});
}

AppointmentFacts appointment(const char* status, Micros start) {
  return {*sb::parse_uuid("00000000-0000-4000-8000-0000000000a1"),
          *sb::parse_uuid("00000000-0000-4000-8000-0000000000c1"),
          status,
          start,
          start + 30 * kMinute,
          start - 10 * kMinute};
}

TEST(BookingAnswer, AcceptedAnswersNameTheAppointmentInTheCalendarsZone) {
  Zone ny = new_york_march();
  AppointmentFacts held = appointment("held", utc(2026, 3, 9, 14, 0));
  EXPECT_EQ(
      accepted_answer("held", "HELD", held, ny),
      R"({"held":true,"reason":"HELD","appointmentId":"00000000-0000-4000-8000-0000000000a1",)"
      R"("calendarId":"00000000-0000-4000-8000-0000000000c1","status":"held",)"
      R"("startsAt":"2026-03-09T10:00:00-04:00","endsAt":"2026-03-09T10:30:00-04:00",)"
      R"("expiresAt":"2026-03-09T09:50:00-04:00"})");
  // Only a hold says when it expires; a replay says so.
  AppointmentFacts confirmed = appointment("confirmed", utc(2026, 3, 9, 14, 0));
  std::string replay = accepted_answer("booked", "IDEMPOTENT_REPLAY", confirmed, ny, {true, {}});
  EXPECT_EQ(replay.find("expiresAt"), std::string::npos);
  EXPECT_NE(replay.find(R"("replayed":true)"), std::string::npos);
}

TEST(BookingAnswer, ARescheduleSaysWhereTheAppointmentWas) {
  Zone ny = new_york_march();
  AppointmentFacts moved = appointment("confirmed", utc(2026, 3, 9, 16, 0));
  // Before the change of offset: the previous times keep EST.
  Slot before{utc(2026, 3, 7, 15, 0), utc(2026, 3, 7, 15, 30)};
  std::string answer = accepted_answer("rescheduled", "RESCHEDULED", moved, ny, {false, before});
  EXPECT_NE(answer.find(R"("startsAt":"2026-03-09T12:00:00-04:00")"), std::string::npos);
  EXPECT_NE(answer.find(R"("previousStartsAt":"2026-03-07T10:00:00-05:00")"), std::string::npos);
  EXPECT_NE(answer.find(R"("previousEndsAt":"2026-03-07T10:30:00-05:00")"), std::string::npos);
  EXPECT_EQ(answer.find("replayed"), std::string::npos);
}

TEST(BookingAnswer, RefusalsCarryAlternativesAndWhatElseExplainsThem) {
  Zone ny = new_york_march();
  // A refusal about the appointment (an outcome, a state, an unknown id) has no alternatives.
  EXPECT_EQ(refused_answer("cancelled", "NOT_FOUND", std::nullopt, ny),
            R"({"cancelled":false,"reason":"NOT_FOUND"})");
  EXPECT_EQ(refused_answer("noShow", "INVALID_STATE", std::nullopt, ny, {{}, "held"}),
            R"({"noShow":false,"reason":"INVALID_STATE","status":"held"})");
  EXPECT_EQ(refused_answer("booked", "CALENDAR_NOT_FOUND", std::vector<Micros>{}, ny),
            R"({"booked":false,"reason":"CALENDAR_NOT_FOUND","alternatives":[]})");
  EXPECT_EQ(refused_answer("confirmed", "HOLD_EXPIRED", std::vector<Micros>{utc(2026, 3, 9, 15, 0)},
                           ny, {"SLOT_TAKEN", {}}),
            R"({"confirmed":false,"reason":"HOLD_EXPIRED","slotReason":"SLOT_TAKEN",)"
            R"("alternatives":["2026-03-09T11:00:00-04:00"]})");
}

TEST(BookingAnswer, TimesFollowTheOneRuleOfAnswers) {
  Zone ny = new_york_march();
  // To the second (a fraction is dropped, not rounded), the zone's offset, Z for offset 0.
  EXPECT_EQ(answer_time(utc(2026, 3, 9, 14, 0) + 999999, ny), "2026-03-09T10:00:00-04:00");
  EXPECT_EQ(answer_time(utc(2026, 3, 7, 14, 0), ny), "2026-03-07T09:00:00-05:00");
  EXPECT_EQ(answer_time(utc(2026, 3, 9, 14, 0), Zone({})), "2026-03-09T14:00:00Z");
  EXPECT_EQ(answer_time(utc(2026, 3, 9, 14, 0), ny),
            sb::answer_time(utc(2026, 3, 9, 14, 0), -4 * 3600));
  AppointmentFacts held = appointment("held", utc(2026, 3, 9, 14, 0));
  held.expires = *held.expires + 123456;
  EXPECT_NE(
      accepted_answer("held", "HELD", held, ny).find(R"("expiresAt":"2026-03-09T09:50:00-04:00")"),
      std::string::npos);
}

TEST(BookingAnswer, RepeatedIdempotentCommandsSayTheyReplay) {
  Zone ny = new_york_march();
  AppointmentFacts done = appointment("cancelled", utc(2026, 3, 9, 14, 0));
  std::string again = accepted_answer("cancelled", "ALREADY_CANCELLED", done, ny, {true, {}});
  EXPECT_NE(again.find(R"("replayed":true)"), std::string::npos);
  EXPECT_EQ(again.find("alternatives"), std::string::npos);
}

TEST(BookingAnswer, CalendarAnswers) {
  EXPECT_EQ(calendar_answer("CALENDAR_NOT_FOUND", {}),
            R"({"updated":false,"reason":"CALENDAR_NOT_FOUND"})");
  EXPECT_EQ(calendar_answer("UPDATED", std::string_view(R"({"name": "Desk"})")),
            R"({"updated":true,"reason":"UPDATED","calendar":{"name": "Desk"}})");
}

}  // namespace
