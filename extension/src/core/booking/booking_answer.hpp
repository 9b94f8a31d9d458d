// What the booking commands answer (the JSON text of their jsonb, times local to the calendar's
// zone) and the check of their `details` argument. Pure C++: unit-tested without a server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/base_json.hpp"
#include "core/booking/booking_slots.hpp"
#include "core/base/base_uuid.hpp"

namespace sb::booking {

// An appointment as a command's answer describes it.
struct AppointmentFacts {
  Uuid id;
  Uuid calendar;
  std::string status;  // held, confirmed, cancelled ...
  Micros start = 0;
  Micros end = 0;
  std::optional<Micros> expires;  // the hold's expiry
};

// Ensures: {<verb>: true, reason, appointmentId, calendarId, status, startsAt, endsAt} with times
// as ISO local times of `zone`, plus expiresAt while held and replayed: true for a replay.
std::string accepted_answer(std::string_view verb, std::string_view reason,
                            const AppointmentFacts& a, const Zone& zone, bool replayed);

// Ensures: {<verb>: false, reason, alternatives: [ISO local times of `zone`]}.
std::string refused_answer(std::string_view verb, std::string_view reason,
                           const std::vector<Micros>& alternatives, const Zone& zone);

// Ensures: `details` holds only service and notes (strings), metadata (an object) and source
// (ai_call, dashboard or api); sb::Error 22023 naming the first offending key or value (as jsonb
// prints it) otherwise.
void require_details(const Json& details);

}  // namespace sb::booking
