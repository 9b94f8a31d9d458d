#include "core/http/http_framing.hpp"

#include <cctype>

namespace sb {
namespace {

constexpr std::size_t kMaxSizeDigits = 15;        // chunk sizes below 2^60
constexpr std::size_t kMaxExtensionBytes = 1024;  // chunk extensions are ignored, but bounded

// True when `a` and `b` are equal ignoring ASCII case.
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// A refusal with `status` and `problem`.
RequestFraming refused(int status, std::string problem) {
  RequestFraming f;
  f.status = status;
  f.problem = std::move(problem);
  return f;
}

// True when `value` is 1 to 19 digits (a Content-Length that fits in 64 bits).
bool plain_length(std::string_view value) {
  if (value.empty() || value.size() > 19) return false;
  for (char c : value)
    if (c < '0' || c > '9') return false;
  return true;
}

// The framing given by the Transfer-Encoding codings `codings` (comma-separated, all lines).
RequestFraming chunked_framing(std::string_view codings) {
  std::string_view last;
  bool others = false;
  while (!codings.empty()) {
    std::size_t comma = codings.find(',');
    std::string_view coding = trimmed(codings.substr(0, comma));
    codings.remove_prefix(comma == std::string_view::npos ? codings.size() : comma + 1);
    if (coding.empty()) continue;
    others = others || !last.empty();
    last = coding;
  }
  if (!same_name(last, "chunked")) return refused(400, "transfer-encoding must end with chunked");
  if (others) return refused(501, "transfer codings other than chunked are not supported");
  RequestFraming f;
  f.body = BodyKind::chunked;
  return f;
}

}  // namespace

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::size_t request_head_end(std::string_view received, std::size_t scanned) {
  std::size_t from = scanned > 3 ? scanned - 3 : 0;
  std::size_t at = received.find("\r\n\r\n", from);
  return at == std::string_view::npos ? 0 : at + 4;
}

std::size_t leading_blank_lines(std::string_view received) {
  std::size_t n = 0;
  while (received.size() >= 2 * (n + 1) && received.compare(2 * n, 2, "\r\n") == 0) ++n;
  return n;
}

RequestFraming request_framing(std::string_view head, std::size_t max_fields) {
  std::size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  bool http10 =
      request_line.size() >= 8 && request_line.substr(request_line.size() - 8) == "HTTP/1.0";
  std::string_view length;
  std::string codings;
  std::size_t fields = 0, lengths = 0;
  for (std::size_t at = line_end + 2; at < head.size();) {
    std::size_t end = head.find("\r\n", at);
    std::string_view line = head.substr(at, end - at);
    at = end + 2;
    if (line.empty()) break;
    if (++fields > max_fields) return refused(431, "too many header fields");
    if (line.front() == ' ' || line.front() == '\t')
      return refused(400, "obsolete line folding in the request head");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[colon - 1] == ' ' ||
        line[colon - 1] == '\t')
      return refused(400, "malformed header field");
    std::string_view name = line.substr(0, colon), value = trimmed(line.substr(colon + 1));
    if (same_name(name, "content-length")) {
      ++lengths;
      length = value;
    } else if (same_name(name, "transfer-encoding")) {
      codings.append(codings.empty() ? "" : ",").append(value);
    }
  }
  if (lengths > 1) return refused(400, "more than one content-length");
  if (!codings.empty() && lengths) return refused(400, "content-length with transfer-encoding");
  if (!codings.empty() && http10) return refused(400, "transfer-encoding in an http/1.0 request");
  if (!codings.empty()) return chunked_framing(codings);
  RequestFraming f;
  if (!lengths) return f;
  if (!plain_length(length)) return refused(400, "invalid content-length");
  f.body = BodyKind::length;
  f.content_length = std::stoull(std::string(length));
  return f;
}

void ChunkedBody::step(unsigned char c) {
  bool hex = std::isxdigit(c) != 0;
  switch (state_) {
    case State::size:
    case State::size_more:
      if (hex && run_ < kMaxSizeDigits) {
        left_ = left_ * 16 +
                static_cast<std::uint64_t>(std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
        ++run_;
        state_ = State::size_more;
      } else if (state_ == State::size_more && (c == ';' || c == ' ' || c == '\t')) {
        run_ = 0;
        state_ = State::extension;
      } else {
        state_ = state_ == State::size_more && c == '\r' ? State::size_lf : State::failed;
      }
      return;
    case State::extension:
      if (c == '\r')
        state_ = State::size_lf;
      else if ((c < 0x20 && c != '\t') || c == 0x7f || ++run_ > kMaxExtensionBytes)
        state_ = State::failed;
      return;
    case State::size_lf:
      state_ = c != '\n' ? State::failed : left_ == 0 ? State::end_cr : State::data;
      return;
    case State::data_cr:
      state_ = c == '\r' ? State::data_lf : State::failed;
      return;
    case State::data_lf:
      run_ = 0;
      state_ = c == '\n' ? State::size : State::failed;
      return;
    case State::end_cr:
      state_ = c == '\r' ? State::end_lf : State::failed;  // no trailer fields
      return;
    case State::end_lf:
      state_ = c == '\n' ? State::done : State::failed;
      return;
    default:
      return;
  }
}

std::size_t ChunkedBody::feed(const char* data, std::size_t size) {
  std::size_t taken = 0;
  while (taken < size && state_ != State::done && state_ != State::failed) {
    if (state_ == State::data) {
      std::size_t n = left_ < size - taken ? static_cast<std::size_t>(left_) : size - taken;
      taken += n;
      left_ -= n;
      if (left_ == 0) state_ = State::data_cr;
      continue;
    }
    step(static_cast<unsigned char>(data[taken]));
    if (state_ != State::failed) ++taken;
  }
  return taken;
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
