#include "entitlement_check.hpp"

#include <cstdlib>

#include "boundary.hpp"
#include "entitlement_store.hpp"
#include "org_reader.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

Query usage_query = {
    "select u.used, u.reserved - coalesce((select sum(r.quantity) "
    "from switchboard.feature_reservations r where r.org_id = u.org_id and r.feature = u.feature "
    "and r.period_start = u.period_start and r.status = 'active' and r.expires_at <= now()), 0), "
    "u.overage from switchboard.feature_usage u "
    "where u.org_id = $1 and u.feature = $2 and u.period_start = $3",
    3,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID}};

int64_t to_int(const char* text) {
  return text ? std::strtoll(text, nullptr, 10) : 0;
}

// The counter of the period, with reservations that expired given back.
Usage read_usage(const Uuid& org, std::string_view feature, const Window& window) {
  int64_t counts[3];
  if (!read_usage_row(org, feature, window.start, counts)) return Usage{};
  if (counts[1] == 0) return Usage{counts[0], 0, counts[2]};
  Datum args[3] = {uuid_datum(org), text_datum(feature),
                   TimestampTzGetDatum(from_unix(window.start))};
  TextRows rows = spi_query(usage_query, args, nullptr, ReadMode::current);
  if (rows.count == 0) return Usage{};
  return Usage{to_int(rows.at(0, 0)), to_int(rows.at(0, 1)), to_int(rows.at(0, 2))};
}

}  // namespace

Uuid uuid_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) throw Error("22023", "organization id must not be null");
  return Uuid::from_raw(PG_GETARG_UUID_P(n)->data);
}

std::string_view text_arg(FunctionCallInfo fcinfo, int n) {
  text* value = nullptr;
  guard([&] { value = PG_GETARG_TEXT_PP(n); });
  return std::string_view(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

Datum uuid_datum(const Uuid& id) {
  pg_uuid_t* out = nullptr;
  guard([&] { out = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t))); });
  memcpy(out->data, id.bytes.data(), 16);
  return UUIDPGetDatum(out);
}

Datum text_datum(std::string_view value) {
  text* out = nullptr;
  guard([&] { out = cstring_to_text_with_len(value.data(), static_cast<int>(value.size())); });
  return PointerGetDatum(out);
}

Datum jsonb_datum(const std::string& json) {
  Datum out = 0;
  guard([&] { out = DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
  return out;
}

namespace {

using Kind = JsonToken::Kind;

// What pushJsonbValue is told for each token; the tokens must form one object or array.
std::vector<JsonbIteratorToken> jsonb_steps(const std::vector<JsonToken>& tokens) {
  std::vector<JsonbIteratorToken> steps;
  std::vector<bool> in_array;
  for (const JsonToken& t : tokens) {
    bool opens = t.kind == Kind::begin_object || t.kind == Kind::begin_array;
    if (in_array.empty() && !(opens && steps.empty()))
      throw Error("XX000", "a json result must be one object or array");
    if (t.kind == Kind::begin_object || t.kind == Kind::end_object)
      steps.push_back(t.kind == Kind::begin_object ? WJB_BEGIN_OBJECT : WJB_END_OBJECT);
    else if (t.kind == Kind::begin_array || t.kind == Kind::end_array)
      steps.push_back(t.kind == Kind::begin_array ? WJB_BEGIN_ARRAY : WJB_END_ARRAY);
    else
      steps.push_back(t.kind == Kind::key ? WJB_KEY : in_array.back() ? WJB_ELEM : WJB_VALUE);
    if (opens) in_array.push_back(t.kind == Kind::begin_array);
    if (t.kind == Kind::end_object || t.kind == Kind::end_array) in_array.pop_back();
  }
  if (!in_array.empty() || steps.empty())
    throw Error("XX000", "a json result must be one object or array");
  return steps;
}

JsonbValue* push_token(JsonbParseState** state, JsonbIteratorToken step, const JsonToken& t) {
  if (step != WJB_KEY && step != WJB_VALUE && step != WJB_ELEM)
    return pushJsonbValue(state, step, nullptr);
  JsonbValue v;
  switch (t.kind) {
    case Kind::number:
      v.type = jbvNumeric;
      v.val.numeric = int64_to_numeric(t.integer);
      break;
    case Kind::raw_number:
      v.type = jbvNumeric;
      v.val.numeric =
          DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(t.text.c_str()),
                                              ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
      break;
    case Kind::boolean:
      v.type = jbvBool;
      v.val.boolean = t.flag;
      break;
    case Kind::null:
      v.type = jbvNull;
      break;
    default:  // key, string
      v.type = jbvString;
      v.val.string.val = const_cast<char*>(t.text.data());
      v.val.string.len = static_cast<int>(t.text.size());
  }
  return pushJsonbValue(state, step, &v);
}

}  // namespace

Datum jsonb_datum(const JsonWriter& json) {
  const std::vector<JsonToken>& tokens = json.tokens();
  std::vector<JsonbIteratorToken> steps = jsonb_steps(tokens);
  Datum out = 0;
  guard([&] {
    JsonbParseState* state = nullptr;
    JsonbValue* result = nullptr;
    for (size_t i = 0; i < tokens.size(); ++i) result = push_token(&state, steps[i], tokens[i]);
    out = JsonbPGetDatum(JsonbValueToJsonb(result));
  });
  return out;
}

void apply_limit(Evaluation& e, int64_t quantity) {
  const std::optional<int64_t>& limit = e.decision.grant->limit;
  if (!limit) return;
  int64_t taken = e.usage.used + e.usage.reserved;
  e.remaining = std::max<int64_t>(0, *limit - taken);
  if (e.decision.grant->mode == ent::Mode::hard && taken + quantity > *limit) {
    e.decision.access = false;
    e.decision.reason = ent::Reason::limit_exceeded;
  }
}

Evaluation evaluate(const Uuid& org, std::string_view feature, int64_t quantity) {
  Evaluation e;
  e.org = org_state(org);
  e.catalog = catalog();
  ent::Micros now = transaction_now();
  e.decision = ent::decide(*e.catalog, *e.org, *kill_switches(), feature, now);
  if (!e.decision.access || !e.decision.feature->metered) return e;
  e.window = usage_window(e.decision.grant->period, *e.org, now);
  e.usage = read_usage(org, feature, e.window);
  apply_limit(e, quantity);
  return e;
}

}  // namespace sb::pg
