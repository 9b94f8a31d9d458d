// sb::parse_json (core/http/http_api), the depth-capped reader of request bodies, on any text.
// Input: the depth cap, then the text. Text nlohmann-json refuses is discarded and not called too
// deep; what is read nests at most the cap deep, reads again from its own dump as the same value,
// and a cap one level lower than its depth calls it too deep.
#include <algorithm>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/http/http_api.hpp"
#include "fuzz_support.hpp"

namespace {

// The nesting of arrays and objects in `v` (a scalar: 0).
std::size_t depth_of(const nlohmann::json& v) {
  std::size_t deepest = 0;
  if (v.is_structured())
    for (const auto& item : v) deepest = std::max(deepest, depth_of(item));
  return v.is_structured() ? deepest + 1 : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 2);
  auto cap = static_cast<std::size_t>(sb::fuzz::integer_or(f[0], 64) & 0x7f);
  std::string_view text = f[1];
  sb::ParsedJson parsed = sb::parse_json(text, cap);
  if (parsed.value.is_discarded()) {
    sb::fuzz::require(parsed.too_deep || !nlohmann::json::accept(text),
                      "only invalid or too deep text is discarded");
    return 0;
  }
  sb::fuzz::require(!parsed.too_deep, "a value read is not too deep");
  std::size_t depth = depth_of(parsed.value);
  sb::fuzz::require(depth <= cap, "a value read nests at most the cap deep");
  sb::ParsedJson again = sb::parse_json(parsed.value.dump(), depth);
  sb::fuzz::require(!again.too_deep && again.value == parsed.value, "a value reads back");
  if (depth > 0)
    sb::fuzz::require(sb::parse_json(text, depth - 1).too_deep, "a lower cap is too deep");
  return 0;
}
