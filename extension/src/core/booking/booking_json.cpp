#include "core/booking/booking_json.hpp"

#include "core/base/base_error.hpp"

namespace sb::booking {
namespace {

// A recursive-descent reader of one JSON text.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  Json document() {
    Json value = next_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the value");
    return value;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw Error("22P02", "invalid json", std::string(what) + " at offset " + std::to_string(pos_));
  }

  void skip_space() noexcept {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool take(char c) noexcept {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }

  bool take_word(std::string_view word) noexcept {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Json next_value(int depth) {
    if (depth > 64) fail("nesting too deep");
    skip_space();
    if (pos_ >= text_.size()) fail("missing value");
    Json v;
    char c = text_[pos_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      v.kind = Json::Kind::string;
      v.text = string();
    } else if (take_word("null")) {
      v.kind = Json::Kind::null;
    } else if (take_word("true") || take_word("false")) {
      v.kind = Json::Kind::boolean;
      v.boolean = c == 't';
    } else {
      v.kind = Json::Kind::number;
      v.text = number();
    }
    return v;
  }

  Json object(int depth) {
    Json v;
    v.kind = Json::Kind::object;
    ++pos_;
    if (take('}')) return v;
    do {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a key");
      std::string key = string();
      if (!take(':')) fail("expected ':'");
      v.members.emplace_back(std::move(key), next_value(depth + 1));
    } while (take(','));
    if (!take('}')) fail("expected '}'");
    return v;
  }

  Json array(int depth) {
    Json v;
    v.kind = Json::Kind::array;
    ++pos_;
    if (take(']')) return v;
    do v.items.push_back(next_value(depth + 1));
    while (take(','));
    if (!take(']')) fail("expected ']'");
    return v;
  }

  std::string number() {
    size_t start = pos_;
    while (pos_ < text_.size() &&
           std::string_view("+-0123456789.eE").find(text_[pos_]) != std::string_view::npos)
      ++pos_;
    if (pos_ == start) fail("unexpected character");
    return std::string(text_.substr(start, pos_ - start));
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) fail("bad \\u escape");
      v = v * 16 + static_cast<unsigned>(d);
    }
    return v;
  }

  static void put_utf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  void escape(std::string* out) {
    if (pos_ >= text_.size()) fail("unterminated string");
    char c = text_[pos_++];
    switch (c) {
      case 'b':
        out->push_back('\b');
        return;
      case 'f':
        out->push_back('\f');
        return;
      case 'n':
        out->push_back('\n');
        return;
      case 'r':
        out->push_back('\r');
        return;
      case 't':
        out->push_back('\t');
        return;
      case 'u':
        break;
      default:
        out->push_back(c);
        return;
    }
    unsigned cp = hex4();
    if (cp >= 0xD800 && cp < 0xDC00 && take_word("\\u")) {
      unsigned low = hex4();
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    put_utf8(out, cp);
  }

  std::string string() {
    std::string out;
    ++pos_;  // the opening quote
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\')
        escape(&out);
      else
        out.push_back(c);
    }
    if (pos_ >= text_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Json parse_json(std::string_view text) {
  return Reader(text).document();
}

}  // namespace sb::booking

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
