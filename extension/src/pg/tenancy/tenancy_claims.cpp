#include "pg/tenancy/tenancy_claims.hpp"

#include <string>

#include "pg/base/base_boundary.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

// A claim read from the claims object: absent, a string, or some other JSON value.
struct Field {
  bool present = false;
  bool is_string = false;
  std::string text;
};

// What the current settings say, parsed once per distinct value; errors are kept, not raised,
// so that a malformed claim only fails the functions that need it.
struct ClaimState {
  bool filled = false;
  std::string legacy_sub, claims, setting;  // the cache key, and which setting held the claims
  std::string json_error;
  std::optional<Uuid> user, org;
  std::string user_error, org_error;
  std::string sub_conflict;  // set when the legacy sub and the claims' sub name different users
};

const char* setting(const char* name) {
  const char* value = GetConfigOption(name, true, false);
  return value && value[0] ? value : nullptr;
}

void read_field(JsonbContainer* container, const char* key, Field* out) {
  JsonbValue buf;
  JsonbValue* v = getKeyJsonValueFromContainer(container, key, strlen(key), &buf);
  if (!v || v->type == jbvNull) return;
  out->present = true;
  out->is_string = v->type == jbvString;
  if (out->is_string) out->text.assign(v->val.string.val, v->val.string.len);
}

// Parses the claims; returns an error text, or empty when they are a JSON object.
std::string parse_claims(const char* text, Field* sub, Field* org_id) {
  Jsonb* jb = nullptr;
  try {
    guard([&] { jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text))); });
  } catch (const PgError& e) {
    return e.data()->detail ? e.data()->detail : e.what();
  }
  if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb)) return "the claims are not a json object";
  read_field(&jb->root, "sub", sub);
  JsonbValue buf;
  JsonbValue* meta = getKeyJsonValueFromContainer(&jb->root, "app_metadata", 12, &buf);
  if (meta && meta->type == jbvBinary && JsonContainerIsObject(meta->val.binary.data))
    read_field(meta->val.binary.data, "org_id", org_id);
  return {};
}

// A uuid in any form PostgreSQL accepts (as auth.uid() does), or nothing.
std::optional<Uuid> lenient_uuid(const std::string& text) {
  if (std::optional<Uuid> canonical = parse_uuid(text)) return canonical;
  pg_uuid_t* value = nullptr;
  try {
    guard([&] {
      value = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(text.c_str())));
    });
  } catch (const PgError&) {
    return std::nullopt;
  }
  return Uuid::from_raw(value->data);
}

// Reads a uuid claim into `out`, or describes why it is not one into `error`.
void claim_uuid(const Field& field, std::optional<Uuid>* out, std::string* error) {
  if (!field.present || (field.is_string && field.text.empty())) return;
  if (field.is_string) *out = lenient_uuid(field.text);
  if (!*out)
    *error = field.is_string ? "value: \"" + field.text + "\"" : "the claim is not a string";
}

// True when the claims' sub names the same user as the legacy request.jwt.claim.sub text.
bool same_subject(const Field& sub, const char* legacy_sub) {
  if (!sub.is_string) return false;
  if (sub.text == legacy_sub) return true;
  std::optional<Uuid> a = lenient_uuid(sub.text), b = lenient_uuid(legacy_sub);
  return a && b && *a == *b;
}

ClaimState& state() {
  static ClaimState s;
  return s;
}

bool same_text(const std::string& cached, const char* now) {
  return now ? cached == now : cached.empty();
}

const char* claims_setting_name() {
  return setting("request.jwt.claims") ? "request.jwt.claims" : "request.jwt.claim";
}

// Fills the state from the current settings unless they are unchanged.
const ClaimState& current_state() {
  const char* legacy_sub = setting("request.jwt.claim.sub");
  const char* claims = setting("request.jwt.claims");
  if (!claims) claims = setting("request.jwt.claim");
  ClaimState& s = state();
  if (s.filled && same_text(s.legacy_sub, legacy_sub) && same_text(s.claims, claims)) return s;
  s = ClaimState{};
  Field sub, org_id;
  if (claims) s.json_error = parse_claims(claims, &sub, &org_id);
  if (legacy_sub && sub.present && !same_subject(sub, legacy_sub))
    s.sub_conflict = "request.jwt.claim.sub: \"" + std::string(legacy_sub) + "\", sub in " +
                     claims_setting_name() + ": " +
                     (sub.is_string ? "\"" + sub.text + "\"" : "not a string");
  if (legacy_sub) sub = Field{true, true, legacy_sub};
  claim_uuid(sub, &s.user, &s.user_error);
  claim_uuid(org_id, &s.org, &s.org_error);
  s.setting = claims ? claims_setting_name() : "";
  s.legacy_sub = legacy_sub ? legacy_sub : "";
  s.claims = claims ? claims : "";
  s.filled = true;
  return s;
}

void raise_json_error(const ClaimState& s) {
  if (!s.json_error.empty())
    throw Error("22P02", s.setting + " is not a valid json object", s.json_error);
}

}  // namespace

std::optional<Uuid> caller_user() {
  const ClaimState& s = current_state();
  if (!s.sub_conflict.empty())
    throw Error("28000", "request.jwt.claim.sub and the jwt claims name different users",
                s.sub_conflict,
                "set request.jwt.claims only; the legacy setting may only repeat it");
  if (!s.user_error.empty())
    throw Error("22P02", "the sub claim is not a uuid", s.user_error,
                "a jwt used with switchboard must carry uuid identifiers");
  if (!s.user) raise_json_error(s);
  return s.user;
}

std::optional<Uuid> caller_org() {
  const ClaimState& s = current_state();
  raise_json_error(s);
  if (!s.org_error.empty())
    throw Error("22P02", "the app_metadata.org_id claim is not a uuid", s.org_error);
  return s.org;
}

const char* current_claims_text() {
  const ClaimState& s = current_state();
  raise_json_error(s);
  return s.claims.empty() ? nullptr : s.claims.c_str();
}

}  // namespace sb::pg
