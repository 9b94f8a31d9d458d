#include "pg/tenancy/tenancy_claims.hpp"

#include <string>

#include "pg/base/base_boundary.hpp"

extern "C" {
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/guc.h"
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

// A claim as the JSON parser saw it (its text in PostgreSQL memory).
struct RawField {
  bool present;
  bool is_string;
  const char* text;
};

enum class Key { other, sub, app_metadata };

// What pg_parse_json's callbacks record of the claims: the root's kind, `sub` and
// `app_metadata.org_id` (the last of repeated keys, as jsonb keeps). Plain data: the callbacks run
// inside PostgreSQL's parser.
struct ClaimScan {
  JsonLexContext* lex;
  bool root_is_object;
  Key top_key;          // the key of the top-level field being parsed
  bool meta_is_object;  // the current app_metadata is an object
  bool at_org_id;       // the field being parsed is app_metadata.org_id
  RawField sub, org_id;
};

// The field the value now starting belongs to, if it is one the scan records.
RawField* recorded(ClaimScan* scan) {
  int level = scan->lex->lex_level;
  if (level == 1 && scan->top_key == Key::sub) return &scan->sub;
  if (level == 2 && scan->at_org_id) return &scan->org_id;
  return nullptr;
}

void on_object_start(void* state) {
  auto* scan = static_cast<ClaimScan*>(state);
  if (scan->lex->lex_level == 0) scan->root_is_object = true;
  if (scan->lex->lex_level == 1 && scan->top_key == Key::app_metadata) scan->meta_is_object = true;
  if (RawField* f = recorded(scan)) *f = {true, false, nullptr};
}

void on_array_start(void* state) {
  auto* scan = static_cast<ClaimScan*>(state);
  if (RawField* f = recorded(scan)) *f = {true, false, nullptr};
}

void on_field_start(void* state, char* name, bool) {
  auto* scan = static_cast<ClaimScan*>(state);
  int level = scan->lex->lex_level;
  if (level == 1) {
    scan->top_key = strcmp(name, "sub") == 0            ? Key::sub
                    : strcmp(name, "app_metadata") == 0 ? Key::app_metadata
                                                        : Key::other;
    scan->at_org_id = false;
    if (scan->top_key == Key::sub) scan->sub = {};
    if (scan->top_key == Key::app_metadata) scan->org_id = {}, scan->meta_is_object = false;
  } else if (level == 2) {
    scan->at_org_id =
        scan->top_key == Key::app_metadata && scan->meta_is_object && strcmp(name, "org_id") == 0;
    if (scan->at_org_id) scan->org_id = {};
  }
}

void on_scalar(void* state, char* token, JsonTokenType type) {
  auto* scan = static_cast<ClaimScan*>(state);
  if (RawField* f = recorded(scan))
    *f = {type != JSON_TOKEN_NULL, type == JSON_TOKEN_STRING, token};
}

// Parses `text` with PostgreSQL's JSON parser, which reports malformed JSON as a result instead of
// an error (only running out of memory or stack raises, and those are not caught). Call inside
// sb::pg::guard; `*error` is the parser's detail, or nullptr.
void scan_claims(const char* text, ClaimScan* scan, const char** error) {
  scan->lex = makeJsonLexContextCstringLen(const_cast<char*>(text), static_cast<int>(strlen(text)),
                                           GetDatabaseEncoding(), true);
  JsonSemAction sem{};
  sem.semstate = scan;
  sem.object_start = on_object_start;
  sem.array_start = on_array_start;
  sem.object_field_start = on_field_start;
  sem.scalar = on_scalar;
  JsonParseErrorType result = pg_parse_json(scan->lex, &sem);
  *error = result == JSON_SUCCESS ? nullptr : json_errdetail(result, scan->lex);
}

Field field_of(const RawField& raw) {
  Field f;
  f.present = raw.present;
  f.is_string = raw.is_string;
  if (raw.is_string && raw.text) f.text = raw.text;
  return f;
}

// Parses the claims; returns an error text, or empty when they are a JSON object.
std::string parse_claims(const char* text, Field* sub, Field* org_id) {
  ClaimScan scan{};
  const char* error = nullptr;
  guard([&] { scan_claims(text, &scan, &error); });
  if (error) return error;
  if (!scan.root_is_object) return "The claims are not a json object.";
  *sub = field_of(scan.sub);
  *org_id = field_of(scan.org_id);
  return {};
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A uuid in any form PostgreSQL's uuid_in accepts (as auth.uid() does: braces, a hyphen after any
// group of four digits, any case), or nothing; never raises.
std::optional<Uuid> lenient_uuid(const std::string& text) {
  if (std::optional<Uuid> canonical = parse_uuid(text)) return canonical;
  const char* p = text.c_str();
  bool braces = *p == '{';
  if (braces) ++p;
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) {
    int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);
    if (lo < 0) return std::nullopt;
    u.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    p += 2;
    if (*p == '-' && i % 2 == 1 && i + 1 < u.bytes.size()) ++p;
  }
  if (braces && *p++ != '}') return std::nullopt;
  if (*p != '\0') return std::nullopt;
  return u;
}

// Reads a uuid claim into `out`, or describes why it is not one into `error`.
void claim_uuid(const Field& field, std::optional<Uuid>* out, std::string* error) {
  if (!field.present || (field.is_string && field.text.empty())) return;
  if (field.is_string) *out = lenient_uuid(field.text);
  if (!*out)
    *error = field.is_string ? "The claim's value is \"" + field.text + "\"."
                             : "The claim is not a string.";
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
    s.sub_conflict = "request.jwt.claim.sub is \"" + std::string(legacy_sub) +
                     "\", but the sub in " + claims_setting_name() + " is " +
                     (sub.is_string ? "\"" + sub.text + "\"." : "not a string.");
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
                "Set request.jwt.claims only; the legacy setting may only repeat it.");
  if (!s.user_error.empty())
    throw Error("22P02", "the sub claim is not a uuid", s.user_error,
                "A JWT used with switchboard must carry uuid identifiers.");
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
