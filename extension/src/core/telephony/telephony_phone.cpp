// Phone numbers with libphonenumber (telephony_phone.hpp).
#include "core/telephony/telephony_phone.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <set>

#include "core/base/base_error.hpp"

namespace sb::tel {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& util() {
  return *PhoneNumberUtil::GetInstance();
}

const char* type_name(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE:
      return "FIXED_LINE";
    case PhoneNumberUtil::MOBILE:
      return "MOBILE";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
      return "FIXED_LINE_OR_MOBILE";
    case PhoneNumberUtil::TOLL_FREE:
      return "TOLL_FREE";
    case PhoneNumberUtil::PREMIUM_RATE:
      return "PREMIUM_RATE";
    case PhoneNumberUtil::SHARED_COST:
      return "SHARED_COST";
    case PhoneNumberUtil::VOIP:
      return "VOIP";
    case PhoneNumberUtil::PERSONAL_NUMBER:
      return "PERSONAL_NUMBER";
    case PhoneNumberUtil::PAGER:
      return "PAGER";
    case PhoneNumberUtil::UAN:
      return "UAN";
    case PhoneNumberUtil::VOICEMAIL:
      return "VOICEMAIL";
    default:
      return "UNKNOWN";
  }
}

const char* parse_reason(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "INVALID_COUNTRY_CODE";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "TOO_SHORT";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "TOO_LONG";
    default:
      return "NOT_A_NUMBER";
  }
}

// Ensures: the reason a parsed but invalid number is invalid, by its length first.
const char* invalid_reason(const PhoneNumber& number) {
  switch (util().IsPossibleNumberWithReason(number)) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return "INVALID_COUNTRY_CODE";
    case PhoneNumberUtil::TOO_SHORT:
      return "TOO_SHORT";
    case PhoneNumberUtil::TOO_LONG:
      return "TOO_LONG";
    case PhoneNumberUtil::INVALID_LENGTH:
      return "INVALID_LENGTH";
    default:
      return "INVALID_FOR_REGION";
  }
}

// Ensures: *e164 is the E.164 form of a valid number and nullptr is returned, unless it has fewer
// than 7 or more than 15 digits (the `phone` domain's bounds; some regions' plans take shorter or
// longer ones): then its reason, TOO_SHORT or TOO_LONG, and *e164 empty.
const char* format_e164(const PhoneNumber& number, std::string* e164) {
  util().Format(number, PhoneNumberUtil::E164, e164);
  const char* reason = e164->size() < 8 ? "TOO_SHORT" : e164->size() > 16 ? "TOO_LONG" : nullptr;
  if (reason) e164->clear();
  return reason;
}

// Ensures: the sentence of the 22023 detail for `reason`.
std::string reason_sentence(const PhoneInfo& info) {
  const std::string& reason = info.reason;
  if (reason == "TOO_SHORT") return "is too short to be a phone number";
  if (reason == "TOO_LONG") return "is too long to be a phone number";
  if (reason == "INVALID_LENGTH") return "has no valid length for its region";
  if (reason == "INVALID_COUNTRY_CODE") return "has no valid country code";
  if (reason == "INVALID_FOR_REGION")
    return "is not a valid number for " +
           (info.region.empty() ? "country code +" + std::to_string(info.country_code)
                                : "region " + info.region);
  return "is not a phone number";
}

}  // namespace

std::string checked_region(std::string_view region) {
  std::string upper;
  for (char c : region) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  static const std::set<std::string> known = [] {
    std::set<std::string> regions;
    util().GetSupportedRegions(&regions);
    return regions;
  }();
  if (known.count(upper) == 0)
    throw Error(
        "22023", "unknown phone region",
        "Region \"" + std::string(region) + "\" is not an ISO 3166 region with phone numbers.",
        "use a two-letter region code such as US, CA or GB");
  return upper;
}

PhoneInfo phone_info(std::string_view input, std::string_view default_region,
                     const ZoneMap* zones) {
  std::string region = checked_region(default_region);
  PhoneInfo info;
  PhoneNumber number;
  auto error = util().Parse(std::string(input), region, &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
    info.reason = parse_reason(error);
    return info;
  }
  info.country_code = number.country_code();
  info.possible = util().IsPossibleNumber(number);
  info.valid = util().IsValidNumber(number);
  if (number.has_extension()) info.extension = number.extension();
  util().GetRegionCodeForNumber(number, &info.region);
  if (info.region == "ZZ") info.region.clear();
  info.type = type_name(util().GetNumberType(number));
  if (!info.valid) {
    info.reason = invalid_reason(number);
    return info;
  }
  if (const char* reason = format_e164(number, &info.e164)) {
    info.valid = info.possible = false;
    info.reason = reason;
    return info;
  }
  if (zones) info.time_zones = zones->zones_of(std::string_view(info.e164).substr(1));
  return info;
}

void throw_invalid_phone(std::string_view input, const PhoneInfo& info) {
  throw Error("22023", "invalid phone number",
              "Phone number \"" + std::string(input) + "\" " + reason_sentence(info) + ".",
              "give the number in E.164 (+ and country code) or national for the default region");
}

std::string normalize_phone(std::string_view input, std::string_view default_region) {
  // The fast path asks libphonenumber only what the answer needs (its ICU regexes dominate the
  // cost); an invalid number takes phone_info's path for the reason.
  std::string region = checked_region(default_region);
  PhoneNumber number;
  std::string e164;
  if (util().Parse(std::string(input), region, &number) == PhoneNumberUtil::NO_PARSING_ERROR &&
      util().IsValidNumber(number) && !format_e164(number, &e164))
    return e164;
  throw_invalid_phone(input, phone_info(input, default_region));
}

}  // namespace sb::tel
