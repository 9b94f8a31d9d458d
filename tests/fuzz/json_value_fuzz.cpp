// read_json (core/base/base_json, nlohmann-json): any text is a value or sb::Error 22P02; a value's
// renderings (json_text, jsonb_text) read back as the same value; require_details (booking_answer)
// accepts or refuses any value with sb::Error 22023.
#include <cstdint>
#include <string>

#include "core/base/base_error.hpp"
#include "core/base/base_json.hpp"
#include "core/booking/booking_answer.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sb::Json value;
  try {
    value = sb::read_json(sb::fuzz::text_of(data, size));
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::string(e.sqlstate()) == "22P02", "malformed json is 22P02");
    return 0;
  }
  std::string compact = sb::json_text(value), spaced = sb::jsonb_text(value);
  sb::fuzz::require(sb::json_text(sb::read_json(compact)) == compact, "json_text reads back");
  sb::fuzz::require(sb::json_text(sb::read_json(spaced)) == compact, "jsonb_text reads back");
  try {
    sb::booking::require_details(value);
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::string(e.sqlstate()) == "22023", "bad details are 22023");
  }
  return 0;
}
