// Unit tests of request framing (extension/src/core/http_framing) and of the depth-capped JSON
// parser of request bodies (extension/src/core/http_api).
#include <gtest/gtest.h>

#include "core/http/http_api.hpp"
#include "core/http/http_framing.hpp"

namespace {

// A head with the request line `line` and the header lines `fields` (each ending in CR LF).
std::string head(const std::string& fields, const std::string& line = "POST /rpc/f HTTP/1.1") {
  return line + "\r\nHost: x\r\n" + fields + "\r\n";
}

TEST(RequestFraming, HeadEndAndBlankLines) {
  std::string h = head("");
  EXPECT_EQ(sb::request_head_end(h + "{}"), h.size());
  EXPECT_EQ(sb::request_head_end(h.substr(0, h.size() - 1)), 0u);
  EXPECT_EQ(sb::request_head_end(h, h.size() - 2), h.size());  // an end split across reads
  EXPECT_EQ(sb::leading_blank_lines("\r\n\r\nGET"), 2u);
  EXPECT_EQ(sb::leading_blank_lines("GET"), 0u);
}

TEST(RequestFraming, BodyLengthFromTheHead) {
  auto none = sb::request_framing(head(""), 100);
  EXPECT_EQ(none.status, 0);
  EXPECT_EQ(none.body, sb::BodyKind::none);  // no Content-Length, no chunked: an empty body
  auto sized = sb::request_framing(head("content-LENGTH: 42\r\n"), 100);
  EXPECT_EQ(sized.body, sb::BodyKind::length);
  EXPECT_EQ(sized.content_length, 42u);
  auto chunked = sb::request_framing(head("Transfer-Encoding: Chunked\r\n"), 100);
  EXPECT_EQ(chunked.body, sb::BodyKind::chunked);
}

TEST(RequestFraming, AmbiguousOrBrokenFramingIsRefused) {
  struct Case {
    std::string fields;
    int status;
    const char* problem;
  };
  for (const auto& c :
       {Case{"Content-Length: 1\r\nContent-Length: 1\r\n", 400, "more than one content-length"},
        Case{"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n", 400,
             "content-length with transfer-encoding"},
        Case{"Content-Length: 1, 1\r\n", 400, "invalid content-length"},
        Case{"Content-Length: -5\r\n", 400, "invalid content-length"},
        Case{"Content-Length: 99999999999999999999\r\n", 400, "invalid content-length"},
        Case{"Transfer-Encoding: chunked, gzip\r\n", 400,
             "transfer-encoding must end with chunked"},
        Case{"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501,
             "transfer codings other than chunked are not supported"},
        Case{"Content-Length : 1\r\n", 400, "malformed header field"},
        Case{"X-A: 1\r\n folded\r\n", 400, "obsolete line folding in the request head"},
        Case{"no colon\r\n", 400, "malformed header field"}}) {
    auto f = sb::request_framing(head(c.fields), 100);
    EXPECT_EQ(f.status, c.status) << c.fields;
    EXPECT_EQ(f.problem, c.problem) << c.fields;
  }
  auto http10 =
      sb::request_framing(head("Transfer-Encoding: chunked\r\n", "POST /rpc/f HTTP/1.0"), 100);
  EXPECT_EQ(http10.status, 400);
  std::string fields;
  for (int i = 0; i < 99; ++i) fields += "X-" + std::to_string(i) + ": 1\r\n";
  EXPECT_EQ(sb::request_framing(head(fields), 100).status, 0);  // 100 with Host
  EXPECT_EQ(sb::request_framing(head(fields + "X-Last: 1\r\n"), 100).status, 431);
}

// Feeds `body` to a chunked reader in pieces of `step` bytes; the bytes taken.
std::size_t feed(sb::ChunkedBody& reader, const std::string& body, std::size_t step) {
  std::size_t taken = 0;
  for (std::size_t at = 0; at < body.size() && !reader.done() && !reader.failed(); at += step)
    taken += reader.feed(body.data() + at, std::min(step, body.size() - at));
  return taken;
}

TEST(ChunkedBody, WellFormedBodiesEndAtTheirLastChunk) {
  std::string body = "5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n";
  for (std::size_t step : {1u, 3u, 1000u}) {
    sb::ChunkedBody reader;
    EXPECT_EQ(feed(reader, body + "GET / HTTP/1.1", step), body.size()) << step;
    EXPECT_TRUE(reader.done());
    EXPECT_FALSE(reader.failed());
  }
}

TEST(ChunkedBody, MalformedBytesFail) {
  for (const std::string& body :
       {std::string("5\r\nhelloXY0\r\n\r\n"), std::string("g\r\nhello\r\n0\r\n\r\n"),
        std::string(" 5\r\nhello\r\n0\r\n\r\n"), std::string("5\nhello\r\n0\r\n\r\n"),
        std::string("0\r\nTrailer: x\r\n\r\n"), std::string("1234567890123456\r\n"),
        std::string("5;") + std::string(2000, 'e') + "\r\n", std::string("5;a\x01\r\n")}) {
    sb::ChunkedBody reader;
    feed(reader, body, 1);
    EXPECT_TRUE(reader.failed()) << body.substr(0, 40);
    EXPECT_FALSE(reader.done());
  }
  sb::ChunkedBody unfinished;
  feed(unfinished, "5\r\nhello\r\n", 1);
  EXPECT_FALSE(unfinished.done());
  EXPECT_FALSE(unfinished.failed());
}

TEST(ParseJson, DepthIsCappedWhileParsing) {
  auto ok = sb::parse_json(std::string(64, '[') + std::string(64, ']'), 64);
  EXPECT_FALSE(ok.value.is_discarded());
  EXPECT_FALSE(ok.too_deep);
  auto deep = sb::parse_json(std::string(65, '[') + std::string(65, ']'), 64);
  EXPECT_TRUE(deep.value.is_discarded());
  EXPECT_TRUE(deep.too_deep);
  auto hostile = sb::parse_json(R"({"a": )" + std::string(1000000, '['), 64);  // no overflow
  EXPECT_TRUE(hostile.too_deep);
  auto broken = sb::parse_json(R"({"a": )", 64);
  EXPECT_TRUE(broken.value.is_discarded());
  EXPECT_FALSE(broken.too_deep);
  auto object = sb::parse_json(R"({"a": {"b": [1, 2.5, "x", null, true]}})", 3);
  EXPECT_EQ(object.value["a"]["b"][1], 2.5);
}

}  // namespace
