// A JSON value as the booking area receives it (jsonb's text, parsed without PostgreSQL), and the
// quoting it needs to write JSON text back.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::booking {

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // a number's literal or a string's value
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  // The member named `key` of an object, or nullptr.
  const Json* find(std::string_view key) const noexcept {
    for (const auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
};

// The JSON value written in `text` (as jsonb prints it); sb::Error 22P02 when malformed.
Json parse_json(std::string_view text);

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

// A compact JSON rendering of `value` (for messages naming the offending value).
std::string json_text(const Json& value);

// `value` as jsonb prints it ({"a": [1, 2]}), for messages that name a jsonb value.
std::string jsonb_text(const Json& value);

}  // namespace sb::booking
