// The SQL functions of outbound webhooks written in C++: signing secrets and Ed25519 keys from
// PostgreSQL's strong random source.
#include <stdexcept>
#include <string>

#include "core/outbound/outbound_policy.hpp"

#include "core/base/base_error.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_postgres.hpp"

extern "C" {
#include "common/base64.h"
}

namespace {

constexpr int kSecretBytes = 32;  // Standard Webhooks: 24 to 64 random bytes

// Ensures: `raw` holds fresh bytes from the strong random source.
void random_bytes(unsigned char* raw, std::size_t size) {
  bool ok = false;
  sb::pg::guard([&] { ok = pg_strong_random(raw, size); });
  if (!ok) throw sb::Error("XX000", "could not generate random bytes for a webhook secret");
}

// Ensures: a Standard Webhooks secret, whsec_ and the padded base64 of fresh random bytes.
std::string new_secret() {
  unsigned char raw[kSecretBytes];
  random_bytes(raw, sizeof raw);
  char encoded[2 * kSecretBytes];
  int n = pg_b64_encode(reinterpret_cast<const char*>(raw), sizeof raw, encoded, sizeof encoded);
  if (n < 0) throw sb::Error("XX000", "could not encode a webhook secret");
  return "whsec_" + std::string(encoded, static_cast<std::size_t>(n));
}

}  // namespace

// switchboard._new_webhook_secret() -> text
SB_FUNCTION(sb_new_webhook_secret) {
  return sb::pg::text_datum(new_secret());
}

// switchboard._new_webhook_signing_key() -> text: a fresh Ed25519 secret key (whsk_) for v1a.
SB_FUNCTION(sb_new_webhook_signing_key) {
  unsigned char seed[32];
  random_bytes(seed, sizeof seed);
  std::string text =
      sb::outbound::v1a_key_pair(std::string(reinterpret_cast<char*>(seed), sizeof seed)).first;
  return sb::pg::text_datum(text);
}

// switchboard._webhook_public_key(secret text) -> text: the whpk_ of a whsk_ key, NULL for a
// whsec_ secret (22023 for a malformed key).
SB_FUNCTION(sb_webhook_public_key) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  std::string secret(sb::pg::text_arg(fcinfo, 0));
  if (secret.compare(0, 5, "whsk_") != 0) PG_RETURN_NULL();
  try {
    return sb::pg::text_datum(sb::outbound::v1a_public_key(secret));
  } catch (const std::runtime_error&) {
    throw sb::Error("22023", "invalid webhook signing key",
                    "The key given is not a whsk_ Ed25519 key.");
  }
}
