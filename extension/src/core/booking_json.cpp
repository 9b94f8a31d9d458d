#include "booking_json.hpp"

#include <cstdio>

namespace sb::booking {

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_text(const Json& v) {
  switch (v.kind) {
    case Json::Kind::null:
      return "null";
    case Json::Kind::boolean:
      return v.boolean ? "true" : "false";
    case Json::Kind::number:
      return v.text;
    case Json::Kind::string:
      return json_quote(v.text);
    case Json::Kind::array: {
      std::string out = "[";
      for (const Json& item : v.items) out += (out.size() > 1 ? "," : "") + json_text(item);
      return out + "]";
    }
    case Json::Kind::object: {
      std::string out = "{";
      for (const auto& [k, item] : v.members)
        out += (out.size() > 1 ? "," : "") + json_quote(k) + ":" + json_text(item);
      return out + "}";
    }
  }
  return "null";
}

}  // namespace sb::booking

#include "cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
