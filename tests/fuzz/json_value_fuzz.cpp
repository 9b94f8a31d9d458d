// parse_json (core/booking/booking_json): any text is a value or sb::Error 22P02; a value's
// renderings (json_text, jsonb_text) read back as the same value; require_details (booking_answer)
// accepts or refuses any value with sb::Error 22023.
#include <cstdint>
#include <string>

#include "core/base/base_error.hpp"
#include "core/booking/booking_answer.hpp"
#include "core/booking/booking_json.hpp"
#include "fuzz_support.hpp"

namespace bk = sb::booking;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bk::Json value;
  try {
    value = bk::parse_json(sb::fuzz::text_of(data, size));
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::string(e.sqlstate()) == "22P02", "malformed json is 22P02");
    return 0;
  }
  std::string compact = bk::json_text(value), spaced = bk::jsonb_text(value);
  sb::fuzz::require(bk::json_text(bk::parse_json(compact)) == compact, "json_text reads back");
  sb::fuzz::require(bk::json_text(bk::parse_json(spaced)) == compact, "jsonb_text reads back");
  try {
    bk::require_details(value, spaced);
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::string(e.sqlstate()) == "22023", "bad details are 22023");
  }
  return 0;
}
