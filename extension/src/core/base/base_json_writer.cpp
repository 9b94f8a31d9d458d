#include "core/base/base_json_writer.hpp"

#include <cstdio>
#include <ctime>

namespace sb {

void append_json_string(std::string& out, std::string_view value) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

// Records the token in tokens mode; true when the text is not wanted.
bool JsonWriter::token(JsonToken::Kind kind, std::string_view text, int64_t integer, bool flag) {
  if (!tokens_only_) return false;
  tokens_.push_back(JsonToken{kind, std::string(text), integer, flag});
  return true;
}

void JsonWriter::separate() {
  if (!first_) out_.push_back(',');
  first_ = false;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  if (token(JsonToken::Kind::key, name)) return *this;
  separate();
  append_json_string(out_, name);
  out_.push_back(':');
  first_ = true;  // the value that follows needs no comma
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  if (token(JsonToken::Kind::string, value)) return *this;
  separate();
  append_json_string(out_, value);
  return *this;
}

JsonWriter& JsonWriter::number(int64_t value) {
  if (token(JsonToken::Kind::number, {}, value)) return *this;
  separate();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::raw_number(std::string_view digits) {
  if (token(JsonToken::Kind::raw_number, digits)) return *this;
  separate();
  out_.append(digits);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  if (token(JsonToken::Kind::boolean, {}, 0, value)) return *this;
  separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  if (token(JsonToken::Kind::null)) return *this;
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::open(char bracket) {
  separate();
  out_.push_back(bracket);
  first_ = true;
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  out_.push_back(bracket);
  first_ = false;
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  if (token(JsonToken::Kind::begin_object)) return *this;
  return open('{');
}

JsonWriter& JsonWriter::end_object() {
  if (token(JsonToken::Kind::end_object)) return *this;
  return close('}');
}

JsonWriter& JsonWriter::begin_array() {
  if (token(JsonToken::Kind::begin_array)) return *this;
  return open('[');
}

JsonWriter& JsonWriter::end_array() {
  if (token(JsonToken::Kind::end_array)) return *this;
  return close(']');
}

JsonWriter& JsonWriter::field(std::string_view name, std::string_view value) {
  key(name);
  return value.empty() ? null() : string(value);
}

JsonWriter& JsonWriter::field(std::string_view name, const std::optional<int64_t>& value) {
  key(name);
  return value ? number(*value) : null();
}

JsonWriter& JsonWriter::field(std::string_view name, bool value) {
  key(name);
  return boolean(value);
}

std::string iso8601_utc(int64_t unix_micros) {
  char buf[kIso8601Size];
  iso8601_utc(unix_micros, buf);
  return buf;
}

void iso8601_utc(int64_t unix_micros, char* buf) noexcept {
  int64_t seconds = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::snprintf(buf, kIso8601Size, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
}

std::string mark_replayed(std::string_view json) {
  auto end = json.find_last_of('}');
  if (end == std::string_view::npos) return std::string(json);
  bool empty = json.find_first_not_of(" \t\r\n{", 0) == end;
  return std::string(json.substr(0, end)) + (empty ? "" : ", ") + "\"replayed\": true}";
}

std::string answer_time(int64_t unix_micros, int offset_seconds) {
  int64_t seconds = unix_micros / 1000000 - (unix_micros % 1000000 < 0 ? 1 : 0);
  std::time_t t = static_cast<std::time_t>(seconds + offset_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[kIso8601Size];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  int off = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  if (offset_seconds == 0)
    std::snprintf(buf + n, sizeof buf - n, "Z");
  else
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset_seconds < 0 ? '-' : '+',
                  off / 3600, off / 60 % 60);
  return buf;
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
