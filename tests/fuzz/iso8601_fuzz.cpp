// parse_iso8601 (core/http/http_webhook_verify): any text is a time or nothing, and a time read
// back from its UTC rendering (iso8601_utc, core/base/base_json_writer) is the same time.
#include <cstdint>
#include <string>

#include "core/base/base_json_writer.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto seconds = sb::parse_iso8601(sb::fuzz::text_of(data, size));
  if (!seconds) return 0;
  std::string utc = sb::iso8601_utc(*seconds * 1000000);
  auto again = sb::parse_iso8601(utc);
  sb::fuzz::require(again && *again == *seconds, "a parsed time reads back from its UTC text");
  return 0;
}
