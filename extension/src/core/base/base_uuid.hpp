// A 16-byte UUID value, hashable, for keys of in-memory caches.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sb {

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};

  static Uuid from_raw(const void* data) {
    Uuid u;
    std::memcpy(u.bytes.data(), data, 16);
    return u;
  }
  bool operator==(const Uuid& other) const noexcept { return bytes == other.bytes; }
  bool operator!=(const Uuid& other) const noexcept { return bytes != other.bytes; }
};

// The UUID written in canonical 8-4-4-4-12 form (any case), or nothing.
std::optional<Uuid> parse_uuid(std::string_view text) noexcept;

// Ensures: a version 4 (random) UUID made of 16 random bytes (122 of them kept).
Uuid random_uuid_from(const std::uint8_t* random16) noexcept;

// The canonical lowercase text of `u`.
std::string to_string(const Uuid& u);

struct UuidHash {
  std::size_t operator()(const Uuid& u) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, u.bytes.data(), 8);
    std::memcpy(&b, u.bytes.data() + 8, 8);
    return std::hash<std::uint64_t>{}(a ^ (b * 0x9E3779B97F4A7C15ULL));
  }
};

}  // namespace sb
