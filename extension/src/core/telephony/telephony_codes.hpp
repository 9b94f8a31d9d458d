// Caller-ID ownership codes (OWASP ASVS 2.7, ../shared/domain/telephony.md): 6 digits from
// OpenSSL's strong random source, stored only as HMAC-SHA256 under a server secret, bound to the
// verification they were issued for, compared in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::tel {

using CodeDigest = std::array<std::uint8_t, 32>;

// The shortest server secret the keyed hash accepts.
constexpr std::size_t kMinSecretSize = 32;

// Ensures: 6 decimal digits, uniformly drawn from RAND_bytes; sb::Error 58000 when the random
// source fails.
std::string new_code();

// Ensures: `code` is exactly 6 ASCII digits.
bool is_code(std::string_view code);

// Ensures: HMAC-SHA256 under `secret` of the verification id and the code; sb::Error 55000 when
// the secret is shorter than kMinSecretSize.
CodeDigest code_digest(std::string_view secret, std::string_view verification_id,
                       std::string_view code);

// Ensures: whether `stored` (32 bytes) is the digest of `code` for the verification, compared in
// constant time; false for a stored value of another size or a code of another shape.
bool code_matches(std::string_view stored, std::string_view secret,
                  std::string_view verification_id, std::string_view code);

}  // namespace sb::tel
