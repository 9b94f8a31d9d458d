// url_decode and parse_form (core/http/http_webhook_verify): any text decodes, never grows, and a
// form's fields are the decoded pieces between '&' and '='.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = sb::fuzz::text_of(data, size);
  std::string plain = sb::url_decode(text, false), form = sb::url_decode(text, true);
  sb::fuzz::require(plain.size() <= text.size() && form.size() == plain.size(),
                    "decoding never grows and '+' is one byte either way");
  if (text.find('%') == std::string_view::npos)
    sb::fuzz::require(plain == text, "text without '%' decodes to itself");
  std::size_t pieces = 0;
  for (const auto& [name, value] : sb::parse_form(text)) {
    sb::fuzz::require(name.size() + value.size() <= text.size(), "a field is part of the text");
    ++pieces;
  }
  auto ampersands = static_cast<std::size_t>(std::count(text.begin(), text.end(), '&'));
  sb::fuzz::require(pieces <= ampersands + 1, "at most one field per '&'");
  return 0;
}
