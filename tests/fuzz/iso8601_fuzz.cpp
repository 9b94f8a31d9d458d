// parse_iso8601 (core/http/http_webhook_verify): any text is a time or nothing, and a time read
// back from its UTC rendering (iso8601_utc, core/base/base_json_writer) is the same time. An
// offset can move a time out of the four-digit years (0000-01-01T00:30+01:00): those do not.
#include <cstdint>
#include <string>

#include "core/base/base_json_writer.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto seconds = sb::parse_iso8601(sb::fuzz::text_of(data, size));
  // iso8601_utc writes four-digit years: 0000-01-01 to 9999-12-31 (UTC) read back.
  if (!seconds || *seconds < -62167219200 || *seconds > 253402300799) return 0;
  std::string utc = sb::iso8601_utc(*seconds * 1000000);
  auto again = sb::parse_iso8601(utc);
  sb::fuzz::require(again && *again == *seconds, "a parsed time reads back from its UTC text");
  return 0;
}
