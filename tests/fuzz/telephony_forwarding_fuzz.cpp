// Carrier forwarding-code input (core/telephony/telephony_forwarding): carrier, forwarding type,
// ring time and destination on four lines. Whatever is accepted yields codes made of dial
// characters only, a ring time of 5 to 30 in steps of 5 or none, and one of the undo codes the
// domain names; anything else is sb::Error 22023.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "core/base/base_error.hpp"
#include "core/telephony/telephony_forwarding.hpp"
#include "fuzz_support.hpp"

namespace {

bool dial_characters(const std::string& code) {
  return !code.empty() && code.find_first_not_of("0123456789*#+") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  std::optional<int> ring;
  if (!parts[2].empty()) ring = static_cast<int>(sb::fuzz::integer_or(parts[2], -1));
  sb::tel::ForwardingCodes codes;
  try {
    codes = sb::tel::forwarding_codes(parts[0], parts[1], parts[3], ring);
  } catch (const sb::Error& e) {
    sb::fuzz::require(std::strcmp(e.sqlstate(), "22023") == 0,
                      "forwarding_codes raises only 22023");
    return 0;
  }
  sb::fuzz::require(dial_characters(codes.activation_code), "activation code is dialable");
  const std::string& undo = codes.deactivation_code;
  sb::fuzz::require(undo == "##21#" || undo == "##004#" || undo == "*73", "a known undo code");
  if (codes.ring_seconds)
    sb::fuzz::require(
        *codes.ring_seconds >= 5 && *codes.ring_seconds <= 30 && *codes.ring_seconds % 5 == 0,
        "ring time 5..30 in steps of 5");
  return 0;
}
