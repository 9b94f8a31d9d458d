#include "pg/base/base_datums.hpp"

#include <vector>

#include "pg/base/base_boundary.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/uuid.h"
}

namespace sb::pg {

void require_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) throw Error("22023", std::string(name) + " must not be null");
}

Uuid uuid_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  require_arg(fcinfo, n, name);
  return Uuid::from_raw(PG_GETARG_UUID_P(n)->data);
}

std::optional<std::string> idempotency_key_arg(FunctionCallInfo fcinfo, int n) {
  constexpr int kMaxCharacters = 255;
  if (PG_ARGISNULL(n)) return std::nullopt;
  std::string_view key = text_arg(fcinfo, n);
  int characters = 0, shown = 0;
  guard([&] {
    characters = pg_mbstrlen_with_len(key.data(), static_cast<int>(key.size()));
    shown = pg_mbcharcliplen(key.data(), static_cast<int>(key.size()), 80);
  });
  if (characters < 1 || characters > kMaxCharacters)
    throw Error("22023", "idempotency_key must have 1 to 255 characters",
                "The idempotency_key given has " + std::to_string(characters) + " characters: \"" +
                    std::string(key.substr(0, shown)) +
                    (static_cast<std::size_t>(shown) < key.size() ? "...\"." : "\"."));
  return std::string(key);
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

namespace {

// One token of a jsonb as its iterator returns it, with what the Json needs of a scalar (texts in
// PostgreSQL memory).
struct JsonbStep {
  JsonbIteratorToken token;
  Json::Kind kind;
  const char* text;
  int length;
  bool flag;  // a boolean's value; a raw scalar's wrapping array
};

struct JsonbSteps {
  JsonbStep* items = nullptr;
  int count = 0;
  int capacity = 0;
};

// The scalar `v` into `step`: numbers as jsonb prints them (PostgreSQL calls only).
void scalar_step(const JsonbValue& v, JsonbStep* step) {
  step->kind = v.type == jbvString    ? Json::Kind::string
               : v.type == jbvNumeric ? Json::Kind::number
               : v.type == jbvBool    ? Json::Kind::boolean
                                      : Json::Kind::null;
  step->flag = v.type == jbvBool && v.val.boolean;
  if (v.type == jbvString) {
    step->text = v.val.string.val;
    step->length = v.val.string.len;
  } else if (v.type == jbvNumeric) {
    step->text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
    step->length = static_cast<int>(strlen(step->text));
  }
}

// Every token of `jb` in order, in PostgreSQL memory (PostgreSQL calls only: run under guard).
void read_jsonb_steps(Jsonb* jb, JsonbSteps* out) {
  JsonbIterator* it = JsonbIteratorInit(&jb->root);
  JsonbValue v;
  JsonbIteratorToken token;
  while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
    if (out->count == out->capacity) {
      out->capacity = out->capacity ? out->capacity * 2 : 16;
      Size size = sizeof(JsonbStep) * out->capacity;
      out->items = static_cast<JsonbStep*>(out->items ? repalloc(out->items, size) : palloc(size));
    }
    JsonbStep* step = &out->items[out->count++];
    *step = JsonbStep{token, Json::Kind::null, nullptr, 0, false};
    if (token == WJB_KEY || token == WJB_VALUE || token == WJB_ELEM) scalar_step(v, step);
    if (token == WJB_BEGIN_ARRAY) step->flag = v.val.array.rawScalar;
  }
}

// Ensures: `s` given to `out`; false when its value lies deeper than kJsonMaxDepth.
bool assemble(const JsonbStep& s, JsonAssembler* out) {
  switch (s.token) {
    case WJB_BEGIN_ARRAY:
      return s.flag || out->open(Json::Kind::array);  // a raw scalar's array is not a value
    case WJB_BEGIN_OBJECT:
      return out->open(Json::Kind::object);
    case WJB_END_ARRAY:
    case WJB_END_OBJECT:
      out->close();
      return true;
    case WJB_KEY:
      out->key(s.text ? std::string(s.text, s.length) : std::string());
      return true;
    default: {
      Json value;
      value.kind = s.kind;
      value.boolean = s.flag;
      if (s.text) value.text.assign(s.text, s.length);
      return out->scalar(std::move(value));
    }
  }
}

}  // namespace

Json jsonb_value(Datum value) {
  JsonbSteps steps;
  guard([&] { read_jsonb_steps(DatumGetJsonbP(value), &steps); });
  JsonAssembler assembler;
  for (int i = 0; i < steps.count; ++i)
    if (!assemble(steps.items[i], &assembler))
      throw Error("22P02", "invalid json", json_too_deep());
  return std::move(assembler.root());
}

}  // namespace sb::pg
