// HTTP/1.1 request framing as RFC 9112 defines it, decided before a request reaches cpp-httplib:
// where a request head ends, what it may hold, how long its body is (Content-Length, chunked, or
// none at all), and a strict check of chunked bodies. Only the shim links it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb {

// `text` without leading and trailing spaces and tabs (OWS).
std::string_view trimmed(std::string_view text);

// The offset just after the blank line that ends the request head at the start of `received`, or
// 0 while it is incomplete. Bytes before `scanned` are known to hold no end (pass the size of the
// previous call's input to search only what is new).
std::size_t request_head_end(std::string_view received, std::size_t scanned = 0);

// The number of CR LF pairs that start `received` (blank lines a client may send between requests).
std::size_t leading_blank_lines(std::string_view received);

enum class BodyKind { none, length, chunked };

// How a request's body is delimited, or why the request must be refused (and its connection
// closed): `status` 400 (malformed or ambiguous framing), 431 (too many header fields) or 501
// (a transfer coding other than chunked); 0 when acceptable.
struct RequestFraming {
  int status = 0;
  std::string problem;  // lowercase, safe to show
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;
};

// The framing of `head` (the request line through the blank line) with at most `max_fields`
// header lines: one Content-Length of digits, or Transfer-Encoding ending in chunked (never both,
// never in HTTP/1.0); neither means an empty body.
RequestFraming request_framing(std::string_view head, std::size_t max_fields);

// A strict reader of a chunked body (RFC 9112 7.1): hex sizes, chunk extensions, CR LF after each
// chunk, the last chunk and the final CR LF (trailer fields are refused).
class ChunkedBody {
 public:
  // Takes up to `size` bytes; returns how many belong to the body (fewer once it has ended or
  // when a byte is malformed, which sets failed()).
  std::size_t feed(const char* data, std::size_t size);
  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State {
    size,
    size_more,
    extension,
    size_lf,
    data,
    data_cr,
    data_lf,
    end_cr,
    end_lf,
    done,
    failed
  };
  // Moves to the state that follows byte `c`.
  void step(unsigned char c);

  State state_ = State::size;
  std::uint64_t left_ = 0;  // size being read, then data bytes still to come
  std::size_t run_ = 0;     // digits of the size, or bytes of the extension, so far
};

}  // namespace sb
