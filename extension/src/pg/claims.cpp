#include "claims.hpp"

#include <string>

#include "boundary.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

// A string field of a claims object, copied out of PostgreSQL memory.
struct Field {
  bool present = false;
  bool is_string = false;
  std::string text;
};

struct ParsedClaims {
  Field sub;
  Field org_id;
  bool is_object = false;
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

Jsonb* parse_jsonb(const char* text) {
  Jsonb* jb = nullptr;
  try {
    guard([&] { jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text))); });
  } catch (const PgError& e) {
    const char* why = e.data()->detail ? e.data()->detail : e.what();
    throw Error("22P02", "request.jwt.claims is not valid json", why);
  }
  return jb;
}

ParsedClaims parse_claims(const char* text) {
  ParsedClaims parsed;
  Jsonb* jb = parse_jsonb(text);
  parsed.is_object = JB_ROOT_IS_OBJECT(jb);
  if (!parsed.is_object) return parsed;
  read_field(&jb->root, "sub", &parsed.sub);
  JsonbValue buf;
  JsonbValue* meta = getKeyJsonValueFromContainer(&jb->root, "app_metadata", 12, &buf);
  if (meta && meta->type == jbvBinary && JsonContainerIsObject(meta->val.binary.data))
    read_field(meta->val.binary.data, "org_id", &parsed.org_id);
  return parsed;
}

std::optional<Uuid> claim_uuid(const Field& field, const char* claim) {
  if (!field.present || (field.is_string && field.text.empty())) return std::nullopt;
  std::optional<Uuid> id = field.is_string ? parse_uuid(field.text) : std::nullopt;
  if (!id)
    throw Error("22P02", std::string("the ") + claim + " claim is not a uuid",
                field.is_string ? "value: \"" + field.text + "\"" : "the claim is not a string",
                "a jwt used with switchboard must carry uuid identifiers");
  return id;
}

Caller caller_from(const char* legacy_sub, const char* claims) {
  Caller caller;
  if (claims) {
    ParsedClaims parsed = parse_claims(claims);
    if (!parsed.is_object)
      throw Error("22P02", "request.jwt.claims is not a json object",
                  std::string("value: ") + claims);
    caller.user = claim_uuid(parsed.sub, "sub");
    caller.org = claim_uuid(parsed.org_id, "app_metadata.org_id");
  }
  if (legacy_sub) {
    Field legacy{true, true, legacy_sub};
    caller.user = claim_uuid(legacy, "sub");
  }
  return caller;
}

struct CallerCache {
  bool filled = false;
  std::string legacy_sub;
  std::string claims;
  Caller caller;
};

CallerCache& caller_cache() {
  static CallerCache cache;
  return cache;
}

bool same_text(const std::string& cached, const char* now) {
  return now ? cached == now : cached.empty();
}

}  // namespace

const char* current_claims_text() {
  const char* claims = setting("request.jwt.claims");
  return claims ? claims : setting("request.jwt.claim");
}

const Caller& current_caller() {
  const char* legacy_sub = setting("request.jwt.claim.sub");
  const char* claims = current_claims_text();
  CallerCache& cache = caller_cache();
  if (cache.filled && same_text(cache.legacy_sub, legacy_sub) && same_text(cache.claims, claims))
    return cache.caller;
  cache.filled = false;
  cache.caller = caller_from(legacy_sub, claims);
  cache.legacy_sub = legacy_sub ? legacy_sub : "";
  cache.claims = claims ? claims : "";
  cache.filled = true;
  return cache.caller;
}

}  // namespace sb::pg
