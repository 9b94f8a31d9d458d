// The shim's HTTP framing reader (core/http/http_framing) on any bytes. Input: the header field
// limit, a read size, then the bytes received. Reading in pieces of that size finds the same head
// end (the first CR LF CR LF) as reading at once; the framing of the head is accepted (no
// problem) or refused with 400, 431 or 501 and a problem; a chunked body takes the same bytes and
// ends the same way whatever the pieces, takes nothing once ended, and ends after CR LF CR LF.
#include <cstdint>
#include <string>

#include "core/http/http_framing.hpp"
#include "fuzz_support.hpp"

namespace {

// Ensures: the head end found when the bytes arrive `step` at a time, as the shim reads them.
std::size_t head_end_in_pieces(std::string_view received, std::size_t step) {
  std::size_t scanned = 0;
  for (std::size_t have = step; scanned < received.size(); have += step) {
    std::string_view part = received.substr(0, have);
    if (std::size_t end = sb::request_head_end(part, scanned)) return end;
    scanned = part.size();
  }
  return 0;
}

void check_head(std::string_view received, std::size_t step) {
  std::size_t end = sb::request_head_end(received);
  std::size_t first = received.find("\r\n\r\n");
  sb::fuzz::require(end == (first == std::string_view::npos ? 0 : first + 4),
                    "the head ends after the first CR LF CR LF");
  sb::fuzz::require(head_end_in_pieces(received, step) == end, "pieces find the same head end");
  std::size_t blank = sb::leading_blank_lines(received);
  sb::fuzz::require(received.substr(0, 2 * blank).find_first_not_of("\r\n") == std::string::npos &&
                        received.compare(2 * blank, 2, "\r\n") != 0,
                    "leading blank lines are counted exactly");
}

void check_framing(std::string_view head, std::size_t max_fields) {
  sb::RequestFraming f = sb::request_framing(head, max_fields);
  bool known = f.status == 0 || f.status == 400 || f.status == 431 || f.status == 501;
  sb::fuzz::require(known && f.problem.empty() == (f.status == 0),
                    "framing is accepted, or refused with 400/431/501 and a problem");
  sb::fuzz::require(f.status == 0 || f.body == sb::BodyKind::none,
                    "a refused request has no body kind");
  sb::fuzz::require(f.body == sb::BodyKind::length || f.content_length == 0,
                    "only a content-length body has a length");
}

// Ensures: what a ChunkedBody makes of `body` fed `step` bytes at a time; *taken: bytes it took.
sb::ChunkedBody chunked_in_pieces(std::string_view body, std::size_t step, std::size_t* taken) {
  sb::ChunkedBody reader;
  *taken = 0;
  for (std::size_t at = 0; at < body.size() && !reader.done() && !reader.failed(); at += step) {
    std::string_view part = body.substr(at, step);
    std::size_t n = reader.feed(part.data(), part.size());
    sb::fuzz::require(n <= part.size(), "a chunked body takes at most what it is given");
    *taken += n;
    if (n < part.size()) break;
  }
  return reader;
}

void check_chunked(std::string_view body, std::size_t step) {
  sb::ChunkedBody whole;
  std::size_t taken = whole.feed(body.data(), body.size()), taken_in_pieces = 0;
  sb::ChunkedBody pieces = chunked_in_pieces(body, step, &taken_in_pieces);
  sb::fuzz::require(taken <= body.size() && !(whole.done() && whole.failed()),
                    "a chunked body takes what it was given and ends one way");
  sb::fuzz::require(taken_in_pieces == taken && pieces.done() == whole.done() &&
                        pieces.failed() == whole.failed(),
                    "pieces read a chunked body the same");
  sb::fuzz::require(!whole.done() || (taken >= 5 && body.substr(taken - 4, 4) == "\r\n\r\n"),
                    "a chunked body ends after its last chunk's CR LF CR LF");
  sb::fuzz::require((!whole.done() && !whole.failed()) || whole.feed("0\r\n\r\n", 5) == 0,
                    "an ended chunked body takes nothing more");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 3);
  auto max_fields = static_cast<std::size_t>(sb::fuzz::integer_or(f[0], 100) & 0xff);
  auto step = static_cast<std::size_t>(sb::fuzz::integer_or(f[1], 7) & 0xff) + 1;
  std::string_view received = f[2];
  check_head(received, step);
  // The shim frames only a whole head: bytes without an end get the blank line that ends one.
  std::size_t end = sb::request_head_end(received);
  std::string closed = end ? std::string() : std::string(received) + "\r\n\r\n";
  std::string_view head = end ? received.substr(0, end) : std::string_view(closed);
  check_framing(head.substr(0, sb::request_head_end(head)), max_fields);
  check_chunked(received.substr(end), step);
  return 0;
}
