#include "core/base/base_json.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/base/base_error.hpp"
#include "core/base/base_json_writer.hpp"

namespace sb {
namespace {

[[noreturn]] void invalid_json(const std::string& detail) {
  throw Error("22P02", "invalid json", detail);
}

// nlohmann-json's SAX events assembled into a Json, numbers with their literal.
class JsonBuilder {
 public:
  using json = nlohmann::json;

  bool null() { return scalar(Json::Kind::null, {}); }
  bool boolean(bool v) {
    Json value;
    value.kind = Json::Kind::boolean;
    value.boolean = v;
    return checked(assembler_.scalar(std::move(value)));
  }
  bool number_integer(json::number_integer_t v) {
    return scalar(Json::Kind::number, std::to_string(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return scalar(Json::Kind::number, std::to_string(v));
  }
  bool number_float(json::number_float_t, const json::string_t& literal) {
    return scalar(Json::Kind::number, literal);
  }
  bool string(json::string_t& v) { return scalar(Json::Kind::string, std::move(v)); }
  bool binary(json::binary_t&) { return false; }
  bool key(json::string_t& k) {
    assembler_.key(std::move(k));
    return true;
  }
  bool start_object(std::size_t) { return checked(assembler_.open(Json::Kind::object)); }
  bool end_object() { return assembler_.close(), true; }
  bool start_array(std::size_t) { return checked(assembler_.open(Json::Kind::array)); }
  bool end_array() { return assembler_.close(), true; }
  bool parse_error(std::size_t at, const std::string&, const nlohmann::detail::exception&) {
    problem_ = "not json at byte " + std::to_string(at);
    return false;
  }

  const std::string& problem() const { return problem_; }
  Json& root() { return assembler_.root(); }

 private:
  bool scalar(Json::Kind kind, std::string text) {
    Json value;
    value.kind = kind;
    value.text = std::move(text);
    return checked(assembler_.scalar(std::move(value)));
  }

  bool checked(bool placed) {
    if (!placed) problem_ = json_too_deep();
    return placed;
  }

  JsonAssembler assembler_{true};
  std::string problem_;
};

// The escape of control character `c` as jsonb writes it: \b \f \n \r \t by name, others \u00XX.
std::string control_escape(char c) {
  static const char kNamed[] = "\b\f\n\r\t", kLetters[] = "bfnrt";
  for (int i = 0; i < 5; ++i)
    if (c == kNamed[i]) return std::string("\\") + kLetters[i];
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", c);
  return buf;
}

// `text` as jsonb quotes a string.
std::string jsonb_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += control_escape(c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// `v` as JSON text: compact, or spaced and quoted as jsonb prints it when `jsonb`.
std::string render(const Json& v, bool jsonb) {
  const char* comma = jsonb ? ", " : ",";
  auto quote = [jsonb](std::string_view s) { return jsonb ? jsonb_quote(s) : json_quote(s); };
  switch (v.kind) {
    case Json::Kind::null:
      return "null";
    case Json::Kind::boolean:
      return v.boolean ? "true" : "false";
    case Json::Kind::number:
      return v.text;
    case Json::Kind::string:
      return quote(v.text);
    case Json::Kind::array: {
      std::string out = "[";
      for (const Json& item : v.items) out += (out.size() > 1 ? comma : "") + render(item, jsonb);
      return out + "]";
    }
    case Json::Kind::object: {
      std::string out = "{";
      for (const auto& [k, item] : v.members)
        out +=
            (out.size() > 1 ? comma : "") + quote(k) + (jsonb ? ": " : ":") + render(item, jsonb);
      return out + "}";
    }
  }
  return "null";
}

// Ensures: of a key written more than once in `object`, only its last member remains (jsonb's
// rule: the last value wins), at the place it was last written.
void keep_last_of_each_key(Json& object) {
  std::unordered_set<std::string> later;
  std::vector<std::pair<std::string, Json>> kept;
  for (auto m = object.members.rbegin(); m != object.members.rend(); ++m)
    if (later.insert(m->first).second) kept.push_back(std::move(*m));
  std::reverse(kept.begin(), kept.end());
  object.members = std::move(kept);
}

}  // namespace

Json* JsonAssembler::place(Json value) {
  if (open_.size() > kJsonMaxDepth) return nullptr;
  if (open_.empty()) return &(root_ = std::move(value));
  Json& parent = *open_.back();
  if (parent.kind == Json::Kind::array) return &parent.items.emplace_back(std::move(value));
  return &parent.members.emplace_back(std::move(key_), std::move(value)).second;
}

bool JsonAssembler::scalar(Json value) {
  return place(std::move(value)) != nullptr;
}

bool JsonAssembler::open(Json::Kind kind) {
  Json value;
  value.kind = kind;
  Json* placed = place(std::move(value));
  if (placed) open_.push_back(placed);
  return placed != nullptr;
}

void JsonAssembler::close() {
  if (open_.empty()) return;
  Json& done = *open_.back();
  open_.pop_back();
  if (keys_may_repeat_ && done.kind == Json::Kind::object && done.members.size() > 1)
    keep_last_of_each_key(done);
}

void JsonAssembler::key(std::string name) {
  key_ = std::move(name);
}

std::string json_too_deep() {
  return "nested deeper than " + std::to_string(kJsonMaxDepth) + " levels";
}

Json read_json(std::string_view text) {
  JsonBuilder builder;
  if (!nlohmann::json::sax_parse(text, &builder)) invalid_json(builder.problem());
  return std::move(builder.root());
}

std::string json_quote(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string json_text(const Json& v) {
  return render(v, false);
}

std::string jsonb_text(const Json& v) {
  return render(v, true);
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
