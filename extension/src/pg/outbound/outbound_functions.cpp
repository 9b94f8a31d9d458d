// The SQL functions of outbound webhooks written in C++: signing secrets from PostgreSQL's strong
// random source.
#include <string>

#include "core/base/base_error.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_postgres.hpp"

extern "C" {
#include "common/base64.h"
}

namespace {

constexpr int kSecretBytes = 32;  // Standard Webhooks: 24 to 64 random bytes

// Ensures: a Standard Webhooks secret, whsec_ and the padded base64 of fresh random bytes.
std::string new_secret() {
  unsigned char raw[kSecretBytes];
  bool ok = false;
  sb::pg::guard([&] { ok = pg_strong_random(raw, sizeof raw); });
  if (!ok) throw sb::Error("XX000", "could not generate random bytes for a webhook secret");
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
