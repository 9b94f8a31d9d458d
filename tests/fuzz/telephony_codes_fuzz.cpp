// The caller-ID code checks (core/telephony/telephony_codes): is_code on any text, and
// code_matches on any stored value and code. Input: the verification id on the first line, the
// stored value on the second, the code after it. A code is accepted exactly when it is 6 ASCII
// digits and its own digest is stored; any other stored value (another code's digest, a value of
// another size) never matches; the only error is 55000 for a short secret.
#include <cstdint>
#include <cstring>
#include <regex>
#include <string>

#include "core/base/base_error.hpp"
#include "core/telephony/telephony_codes.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef-0123456789";

std::string_view bytes_of(const sb::tel::CodeDigest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

void check_code(std::string_view id, std::string_view stored, std::string_view code) {
  static const std::regex six_digits("^[0-9]{6}$");
  bool shaped = std::regex_match(std::string(code), six_digits);
  sb::fuzz::require(sb::tel::is_code(code) == shaped, "is_code is exactly 6 ASCII digits");
  sb::tel::CodeDigest own = sb::tel::code_digest(kSecret, id, code);
  sb::fuzz::require(sb::tel::code_matches(bytes_of(own), kSecret, id, code) == shaped,
                    "a code matches its own digest exactly when it is 6 digits");
  bool stored_is_own = stored == bytes_of(own);
  sb::fuzz::require(!sb::tel::code_matches(stored, kSecret, id, code) || (shaped && stored_is_own),
                    "only the code's own digest matches");
  sb::fuzz::require(!sb::tel::code_matches(bytes_of(own), kSecret, std::string(id) + "x", code),
                    "a digest is bound to its verification");
  try {
    sb::tel::code_matches(stored, stored, id, code);
  } catch (const sb::Error& e) {
    sb::fuzz::require(
        std::strcmp(e.sqlstate(), "55000") == 0 && stored.size() < sb::tel::kMinSecretSize,
        "only a short secret is refused, with 55000");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = sb::fuzz::fields(sb::fuzz::text_of(data, size), 3);
  check_code(parts[0], parts[1], parts[2]);
  return 0;
}
