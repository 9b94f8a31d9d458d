// Business hours, exceptions and options (core/booking/booking_hours) from any JSON value: each
// reader accepts it or throws sb::Error (22023, or 22007 for a bad exception date), and what it
// accepts is normalised: written back and read again, it is the same.
#include <cstdint>
#include <string>

#include "core/base/base_error.hpp"
#include "core/booking/booking_hours.hpp"
#include "core/base/base_json.hpp"
#include "fuzz_support.hpp"

namespace bk = sb::booking;

namespace {

// Runs `read`; an sb::Error must carry one of the documented SQLSTATEs. True when it returned.
template <typename Read>
bool accepted(Read read) {
  try {
    read();
    return true;
  } catch (const sb::Error& e) {
    std::string state = e.sqlstate();
    sb::fuzz::require(state == "22023" || state == "22007", "refusals are 22023 or 22007");
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sb::Json value;
  try {
    value = sb::read_json(sb::fuzz::text_of(data, size));
  } catch (const sb::Error&) {
    return 0;  // the reader's own target covers malformed text
  }
  std::array<bk::DayHours, 7> weekly;
  if (accepted([&] { weekly = bk::parse_weekly(value); })) {
    std::string text = bk::weekly_json(weekly);
    sb::fuzz::require(bk::weekly_json(bk::parse_weekly(sb::read_json(text))) == text,
                      "weekly hours are normalised");
  }
  std::map<int, bk::DayHours> exceptions;
  if (accepted([&] { exceptions = bk::parse_exceptions(value); })) {
    std::string text = bk::exceptions_json(exceptions);
    sb::fuzz::require(bk::exceptions_json(bk::parse_exceptions(sb::read_json(text))) == text,
                      "exceptions are normalised");
  }
  bk::CalendarRules rules;
  if (accepted([&] { bk::apply_options(value, &rules); })) {
    sb::Json written = sb::read_json(bk::rules_json(rules));
    bk::CalendarRules again;
    const sb::Json* hours = written.find("businessHours");
    sb::fuzz::require(hours != nullptr, "rules_json names the business hours");
    again.weekly = bk::parse_weekly(*hours);
    written.members.erase(written.members.begin());  // apply_options takes the rest
    bk::apply_options(written, &again);
    sb::fuzz::require(bk::rules_json(again) == bk::rules_json(rules), "options are normalised");
  }
  return 0;
}
