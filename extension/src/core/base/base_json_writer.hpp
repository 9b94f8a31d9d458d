// Writes one flat or nested JSON object (arrays included); for results whose shape our code
// decides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb {

// One step of a written JSON value, for building a database value without parsing text.
struct JsonToken {
  enum class Kind : char {
    begin_object,
    end_object,
    begin_array,
    end_array,
    key,
    string,
    number,      // `integer`
    raw_number,  // `text` holds the formatted number
    boolean,     // `flag`
    null
  };
  Kind kind;
  std::string text;
  int64_t integer = 0;
  bool flag = false;
};

class JsonWriter {
 public:
  enum class Output { text, tokens };
  explicit JsonWriter(Output output = Output::text) : tokens_only_(output == Output::tokens) {}

  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& number(int64_t value);
  JsonWriter& raw_number(std::string_view digits);  // an already formatted JSON number
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();

  // Convenience: a key with an optional value (null when empty).
  JsonWriter& field(std::string_view name, std::string_view value);
  JsonWriter& field(std::string_view name, const std::optional<int64_t>& value);
  JsonWriter& field(std::string_view name, bool value);

  // The text (Output::text) or the tokens (Output::tokens) written so far.
  const std::string& text() const { return out_; }
  const std::vector<JsonToken>& tokens() const { return tokens_; }

 private:
  bool token(JsonToken::Kind kind, std::string_view text = {}, int64_t integer = 0,
             bool flag = false);
  void separate();
  JsonWriter& open(char bracket);   // starts an object or array
  JsonWriter& close(char bracket);  // ends it
  std::string out_;
  bool first_ = true;
  bool tokens_only_ = false;
  std::vector<JsonToken> tokens_;
};

// Appends `value` to `out` as a JSON string literal.
void append_json_string(std::string& out, std::string_view value);

// Unix microseconds as ISO 8601 UTC with microseconds, e.g. 2026-11-21T16:00:00.000000Z.
std::string iso8601_utc(int64_t unix_micros);

// The same into `buf` (at least kIso8601Size bytes), allocating nothing.
constexpr size_t kIso8601Size = 96;
void iso8601_utc(int64_t unix_micros, char* buf) noexcept;

// The JSON object text `json` with "replayed": true added: how every command marks an answer it
// gives again for a repeated idempotency key.
std::string mark_replayed(std::string_view json);

// A time as every command answers it: ISO 8601 to the second (a fraction is dropped) with the
// offset of the zone it is shown in: "Z" for UTC (offset 0), else e.g. 2027-03-15T10:00:00-04:00.
std::string answer_time(int64_t unix_micros, int offset_seconds = 0);

}  // namespace sb
