// The C++ half of caller-ID ownership verification (the SQL half is in
// extension/sql/20_telephony/functions.sql): the settings, a new code, its keyed digest and the
// constant-time check. None of these functions is granted: only the owner's functions call them.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/telephony/telephony_settings.hpp"

#include <string>

#include "core/base/base_uuid.hpp"
#include "core/telephony/telephony_codes.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace {

char* secret_setting = nullptr;
int max_checks = 3;
int org_sends_per_hour = 20;

std::string_view secret() {
  return secret_setting ? std::string_view(secret_setting) : std::string_view();
}

// Ensures: the text a digest binds the code to: the verification id in canonical form.
std::string verification_key(FunctionCallInfo fcinfo, int n) {
  return sb::to_string(sb::pg::uuid_arg(fcinfo, n, "verification_id"));
}

}  // namespace

namespace sb::pg {

void init_telephony() {
  static bool defined = false;
  if (defined) return;
  DefineCustomStringVariable(
      "switchboard.caller_id_secret",
      "The server secret of caller-ID verification codes' HMAC-SHA256 (at least 32 characters).",
      nullptr, &secret_setting, "", PGC_SUSET,
      GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("switchboard.caller_id_max_checks",
                          "Checks allowed per caller-ID verification code (1 to 5).", nullptr,
                          &max_checks, 3, 1, 5, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("switchboard.caller_id_org_sends_per_hour",
                          "Caller-ID verification codes an organisation may send per hour.",
                          nullptr, &org_sends_per_hour, 20, 1, 10000, PGC_SUSET, 0, nullptr,
                          nullptr, nullptr);
  defined = true;
}

}  // namespace sb::pg

// _caller_id_new_code() -> text: 6 digits from the strong random source.
SB_FUNCTION(sb_caller_id_new_code) {
  return sb::pg::text_datum(sb::tel::new_code());
}

// _caller_id_digest(verification_id uuid, code text) -> bytea: HMAC-SHA256 under the secret.
SB_FUNCTION(sb_caller_id_digest) {
  sb::pg::require_arg(fcinfo, 1, "code");
  auto digest =
      sb::tel::code_digest(secret(), verification_key(fcinfo, 0), sb::pg::text_arg(fcinfo, 1));
  bytea* out = nullptr;
  sb::pg::guard([&] { out = static_cast<bytea*>(palloc(VARHDRSZ + digest.size())); });
  SET_VARSIZE(out, VARHDRSZ + digest.size());
  memcpy(VARDATA(out), digest.data(), digest.size());
  return PointerGetDatum(out);
}

// _caller_id_code_matches(stored bytea, verification_id uuid, code text) -> boolean, compared in
// constant time.
SB_FUNCTION(sb_caller_id_code_matches) {
  sb::pg::require_arg(fcinfo, 0, "stored");
  sb::pg::require_arg(fcinfo, 2, "code");
  bytea* stored = nullptr;
  sb::pg::guard([&] { stored = PG_GETARG_BYTEA_PP(0); });
  std::string_view stored_bytes(VARDATA_ANY(stored), VARSIZE_ANY_EXHDR(stored));
  bool same = sb::tel::code_matches(stored_bytes, secret(), verification_key(fcinfo, 1),
                                    sb::pg::text_arg(fcinfo, 2));
  return BoolGetDatum(same);
}

// _caller_id_max_checks() -> integer: switchboard.caller_id_max_checks.
SB_FUNCTION(sb_caller_id_max_checks) {
  return Int32GetDatum(max_checks);
}

// _caller_id_org_sends_per_hour() -> integer: switchboard.caller_id_org_sends_per_hour.
SB_FUNCTION(sb_caller_id_org_sends_per_hour) {
  return Int32GetDatum(org_sends_per_hour);
}
