// Phone numbers: parsing, validation and E.164 formatting with Google libphonenumber, and the time
// zones of a number from libphonenumber's prefix data (telephony_zones). Pure C++17; only the
// extension and the tests link libphonenumber (the shim does not).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/telephony/telephony_zones.hpp"

namespace sb::tel {

// What libphonenumber tells about one input. `reason` is empty for a valid number, else one of
// NOT_A_NUMBER, INVALID_COUNTRY_CODE, TOO_SHORT, TOO_LONG, INVALID_LENGTH, INVALID_FOR_REGION.
struct PhoneInfo {
  std::string e164;  // the E.164 form of a valid number, else empty
  bool valid = false;
  bool possible = false;
  std::string region;     // ISO 3166 code, "001" for non-geographic numbers; empty when unknown
  int country_code = 0;   // 0 when the input does not parse
  std::string type;       // MOBILE, FIXED_LINE, FIXED_LINE_OR_MOBILE, TOLL_FREE, ... UNKNOWN
  std::string extension;  // empty when none
  std::vector<std::string> time_zones;  // IANA zones of a valid number, longest prefix
  std::string reason;
};

// Ensures: `region` in upper case when libphonenumber knows it (a region it has metadata for);
// sb::Error 22023 naming it otherwise.
std::string checked_region(std::string_view region);

// Ensures: what libphonenumber makes of `input` (national input read for `default_region`,
// checked with checked_region); time zones from `zones` when given. Never throws for a bad input.
PhoneInfo phone_info(std::string_view input, std::string_view default_region,
                     const ZoneMap* zones = nullptr);

// Ensures: the E.164 form of a valid number (an extension is dropped: E.164 has no place for it);
// sb::Error 22023 "invalid phone number" whose detail names the input and the reason otherwise.
std::string normalize_phone(std::string_view input, std::string_view default_region);

// The 22023 error for an input phone_info found invalid: one wording for every caller.
[[noreturn]] void throw_invalid_phone(std::string_view input, const PhoneInfo& info);

}  // namespace sb::tel
