// What the booking commands answer (the JSON text of their jsonb, times in the calendar's zone as
// sb::answer_time writes them) and the check of their `details` argument. Pure C++: unit-tested
// without a server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/base_json.hpp"
#include "core/booking/booking_slots.hpp"
#include "core/base/base_uuid.hpp"

namespace sb::booking {

// Ensures: `t` as every booking answer and slot listing writes it: sb::answer_time (ISO 8601 to
// the second) with the offset `zone` has at `t`, e.g. 2027-03-15T10:00:00-04:00 (Z for offset 0).
std::string answer_time(Micros t, const Zone& zone);

// An appointment as a command's answer describes it.
struct AppointmentFacts {
  Uuid id;
  Uuid calendar;
  std::string status;  // held, confirmed, cancelled ...
  Micros start = 0;
  Micros end = 0;
  std::optional<Micros> expires;  // the hold's expiry
};

// What an accepted answer says beyond the appointment: that it replays an earlier answer (an
// idempotency key used again, or an idempotent command repeated: ALREADY_*), and where a
// rescheduled appointment was before.
struct AcceptedExtras {
  bool replayed = false;
  std::optional<Slot> previous;
};

// Ensures: {<verb>: true, reason, appointmentId, calendarId, status, startsAt, endsAt} with times
// as ISO local times of `zone`, plus expiresAt while held, replayed: true for a replay and
// previousStartsAt/previousEndsAt for a move. The one answer of every booking command that
// accepts (book, hold, confirm, reschedule, cancel, complete, no-show).
std::string accepted_answer(std::string_view verb, std::string_view reason,
                            const AppointmentFacts& a, const Zone& zone,
                            const AcceptedExtras& extras = {});

// What a refusal says beyond its reason and alternatives: why the slot itself is refused (an
// expired hold whose slot is gone) and the appointment's status (a command its state forbids).
struct RefusedExtras {
  std::string_view slot_reason;  // empty: none
  std::string_view status;       // empty: none
};

// Ensures: {<verb>: false, reason, alternatives: [times of `zone`]}, plus slotReason and status
// when given. The one answer of every booking command that refuses; a refusal about the
// appointment rather than a slot (an outcome, a cancellation, a state the command forbids, an
// unknown appointment) has no alternatives: std::nullopt leaves the key out.
std::string refused_answer(std::string_view verb, std::string_view reason,
                           const std::optional<std::vector<Micros>>& alternatives, const Zone& zone,
                           const RefusedExtras& extras = {});

// Ensures: {updated: true, reason, calendar} with `calendar` (JSON text) as it is, or
// {updated: false, reason} without one.
std::string calendar_answer(std::string_view reason, std::optional<std::string_view> calendar);

// Ensures: `details` holds only service and notes (strings), metadata (an object) and source
// (ai_call, dashboard or api); sb::Error 22023 naming the first offending key or value (as jsonb
// prints it) otherwise.
void require_details(const Json& details);

}  // namespace sb::booking
