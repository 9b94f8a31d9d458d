#include "core/base/base_uuid.hpp"

namespace sb {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_dash_position(size_t i) noexcept {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

}  // namespace

Uuid random_uuid_from(const std::uint8_t* random16) noexcept {
  Uuid u = Uuid::from_raw(random16);
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0f) | 0x40);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3f) | 0x80);
  return u;
}

std::optional<Uuid> parse_uuid(std::string_view text) noexcept {
  if (text.size() != 36) return std::nullopt;
  Uuid u;
  size_t out = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0 || is_dash_position(i + 1)) return std::nullopt;
    u.bytes[out++] = static_cast<std::uint8_t>(hi * 16 + lo);
    ++i;
  }
  return u;
}

std::string to_string(const Uuid& u) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[u.bytes[i] >> 4]);
    s.push_back(kHex[u.bytes[i] & 15]);
  }
  return s;
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
