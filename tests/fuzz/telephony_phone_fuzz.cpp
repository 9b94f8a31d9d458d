// The phone parser (core/telephony: libphonenumber behind phone_info / normalize_phone) and the
// time-zone prefix data parser. Input: a default region on the first line, the number after it.
// A valid number's E.164 form matches the E.164 pattern and normalises to itself; the only error
// is sb::Error 22023 (an unknown region, an invalid number) or 22P02 (malformed prefix data).
// normalize_phone gives phone_info's E.164 form for a valid number and 22023 for any other.
#include <cstdint>
#include <cstring>
#include <regex>
#include <string>

#include "core/base/base_error.hpp"
#include "core/telephony/telephony_phone.hpp"
#include "core/telephony/telephony_zones.hpp"
#include "fuzz_support.hpp"

namespace {

bool is_e164(const std::string& s) {
  static const std::regex pattern("^\\+[1-9][0-9]{6,14}$");
  return std::regex_match(s, pattern);
}

// normalize_phone asks libphonenumber less than phone_info: it must still agree with it.
void check_normalize(std::string_view region, std::string_view input,
                     const sb::tel::PhoneInfo& info) {
  std::string e164;
  try {
    e164 = sb::tel::normalize_phone(input, region);
  } catch (const sb::Error& e) {
    sb::fuzz::require(!info.valid && std::strcmp(e.sqlstate(), "22023") == 0,
                      "normalize_phone refuses exactly what phone_info finds invalid, with 22023");
    return;
  }
  sb::fuzz::require(info.valid && e164 == info.e164, "normalize_phone gives phone_info's E.164");
}

void check_phone(std::string_view region, std::string_view input) {
  static const sb::tel::ZoneMap zones =
      sb::tel::ZoneMap::parse("1|America/New_York\n44|Europe/London\n");
  sb::tel::PhoneInfo info;
  try {
    info = sb::tel::phone_info(input, region, &zones);
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::strcmp(e.sqlstate(), "22023") == 0, "phone_info raises only 22023");
    return;
  }
  sb::fuzz::require(info.valid == info.reason.empty(), "a reason exactly when invalid");
  check_normalize(region, input, info);
  if (!info.valid) return;
  sb::fuzz::require(is_e164(info.e164), "a valid number's E.164 form is E.164");
  sb::fuzz::require(sb::tel::normalize_phone(info.e164, region) == info.e164,
                    "E.164 normalises to itself");
}

void check_zones(std::string_view text) {
  try {
    sb::tel::ZoneMap map = sb::tel::ZoneMap::parse(text);
    for (const auto& zone : map.zones_of("12083011234")) sb::fuzz::require(!zone.empty(), "zone");
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::strcmp(e.sqlstate(), "22P02") == 0, "prefix data raises only 22P02");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = sb::fuzz::text_of(data, size);
  auto parts = sb::fuzz::fields(text, 2);
  check_phone(parts[0], parts[1]);
  check_zones(text);
  return 0;
}
