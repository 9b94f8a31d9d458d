// Caller-ID ownership codes with OpenSSL (telephony_codes.hpp).
#include "core/telephony/telephony_codes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/base/base_error.hpp"

namespace sb::tel {

std::string new_code() {
  // Rejection sampling: below the largest multiple of 10^6 every code is equally likely.
  constexpr std::uint32_t kLimit = 4294000000u;
  std::uint32_t value = 0;
  do {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1)
      throw Error("58000", "the random source failed", "RAND_bytes returned an error.");
  } while (value >= kLimit);
  std::string code = std::to_string(value % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

bool is_code(std::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code)
    if (c < '0' || c > '9') return false;
  return true;
}

CodeDigest code_digest(std::string_view secret, std::string_view verification_id,
                       std::string_view code) {
  if (secret.size() < kMinSecretSize)
    throw Error("55000", "caller-ID verification is not configured",
                "Setting switchboard.caller_id_secret has " + std::to_string(secret.size()) +
                    " characters; at least " + std::to_string(kMinSecretSize) + " are needed.",
                "set it in postgresql.conf or with ALTER SYSTEM (superusers only)");
  std::string message = std::string(verification_id) + ":" + std::string(code);
  CodeDigest out{};
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
            &size) ||
      size != out.size())
    throw Error("58000", "HMAC-SHA256 failed", "OpenSSL's HMAC returned an error.");
  return out;
}

bool code_matches(std::string_view stored, std::string_view secret,
                  std::string_view verification_id, std::string_view code) {
  CodeDigest digest = code_digest(secret, verification_id, is_code(code) ? code : "------");
  if (stored.size() != digest.size()) return false;
  bool same = CRYPTO_memcmp(stored.data(), digest.data(), digest.size()) == 0;
  return same && is_code(code);
}

}  // namespace sb::tel
