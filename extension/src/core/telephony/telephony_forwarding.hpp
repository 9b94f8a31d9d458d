// Carrier call-forwarding codes (MMI, 3GPP TS 22.030 / 22.082) the user dials on a mobile phone so
// that its calls reach the AI: all calls ("total_ai") or missed, busy and unreachable ones
// ("safety_net"), per carrier, as ../shared/domain/telephony.md states them. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::tel {

struct ForwardingCodes {
  std::string carrier;              // the canonical carrier name
  std::string forwarding_type;      // total_ai or safety_net
  std::string destination;          // E.164
  std::optional<int> ring_seconds;  // the no-reply timer in the code, when the code has one
  std::string activation_code;
  std::string deactivation_code;
  std::vector<std::string> instructions;
  std::vector<std::string> notes;
};

// The carriers forwarding_codes knows, in the order error details list them.
extern const char* const kCarriers[7];

// Ensures: the codes for `carrier` (att, tmobile, sprint, other_gsm, international: GSM/LTE;
// verizon, other_cdma: CDMA), `forwarding_type` (total_ai, safety_net) and `destination` (a valid
// number, E.164 or national US); `ring_seconds` only for GSM safety_net (5 to 30 in steps of 5,
// 25 when absent). sb::Error 22023 naming the bad value otherwise.
ForwardingCodes forwarding_codes(std::string_view carrier, std::string_view forwarding_type,
                                 std::string_view destination, std::optional<int> ring_seconds);

}  // namespace sb::tel
