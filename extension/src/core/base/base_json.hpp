// A JSON value as plain C++: what the PostgreSQL side reads out of a jsonb with PostgreSQL's jsonb
// API (pg/base/base_datums), or read_json out of text with nlohmann-json; and its renderings for
// messages that name a value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb {

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // a number's literal or a string's value
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;  // in the order written (jsonb's order);
                                                      // distinct keys, as in a jsonb

  // The member named `key` of an object, or nullptr.
  const Json* find(std::string_view key) const noexcept {
    for (const auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
};

// A value nested deeper than this below the root is refused (the root is at depth 0).
constexpr std::size_t kJsonMaxDepth = 64;

// Builds a Json from a reader's events (nlohmann-json's SAX, a jsonb's iterator tokens), refusing
// a value nested deeper than kJsonMaxDepth: each call returns false then, and the reader stops.
// With `keys_may_repeat` (a reader of text), a key written twice in one object keeps its last
// value, as jsonb does; a jsonb's keys are already distinct.
class JsonAssembler {
 public:
  explicit JsonAssembler(bool keys_may_repeat = false) : keys_may_repeat_(keys_may_repeat) {}
  bool scalar(Json value);     // a null, boolean, number or string where the reader stands
  bool open(Json::Kind kind);  // an array or object there, which the next events fill
  void close();                // the innermost open array or object is complete
  void key(std::string name);  // the next value is the member `name` of the open object
  Json& root() noexcept { return root_; }

 private:
  Json* place(Json value);

  Json root_;
  std::vector<Json*> open_;  // the containers being filled, innermost last
  std::string key_;
  bool keys_may_repeat_;
};

// The detail of the 22P02 error for a value nested deeper than kJsonMaxDepth.
std::string json_too_deep();

// Ensures: the JSON value written in `text` (nlohmann-json; numbers keep their literal), or
// sb::Error 22P02 "invalid json" when it is malformed or nests deeper than kJsonMaxDepth.
Json read_json(std::string_view text);

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

// A compact JSON rendering of `value` (for messages naming the offending value).
std::string json_text(const Json& value);

// `value` as jsonb prints it ({"a": [1, 2]}), for messages that name a jsonb value.
std::string jsonb_text(const Json& value);

}  // namespace sb
