#include "core/http/http_api.hpp"

namespace sb {
namespace {

// True when `text` begins with `prefix`.
bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// True for a {name} segment of a route template.
bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// The segments of a path between its slashes.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The status of a custom SQLSTATE PTnnn (PostgREST's convention), or 0.
int custom_status(std::string_view code) {
  if (code.size() != 5 || !starts_with(code, "PT")) return 0;
  int value = 0;
  for (char c : code.substr(2)) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + (c - '0');
  }
  return value >= 100 && value <= 599 ? value : 0;
}

// True when `fn` takes exactly these named arguments (all known, every required one given).
bool takes_keys(const FunctionInfo& fn, const std::set<std::string>& keys) {
  std::size_t known = 0;
  for (const auto& arg : fn.args) {
    if (arg.name.empty()) return false;
    bool given = keys.count(arg.name) > 0;
    if (!given && !arg.has_default) return false;
    known += given;
  }
  return known == keys.size();
}

// The expression that turns the call's rows (`value`: the row, or a scalar's column) into one
// JSON text value (and for a set, the number of rows).
std::string result_expression(const FunctionInfo& fn, const std::string& value = "_r") {
  if (fn.returns_void) return "NULL::text";
  if (fn.returns_set)
    return "coalesce(pg_catalog.json_agg(" + value + "), '[]')::text, pg_catalog.count(*)";
  return "pg_catalog.to_json(" + value + ")::text";
}

// The FROM item of call_from with the time columns written as answers write them: the rows as
// relation _r (a scalar result: one column named after the function).
std::string answer_from(const std::string& schema, const FunctionInfo& fn,
                        const std::set<std::string>& keys) {
  std::vector<std::string> columns = fn.columns ? *fn.columns : std::vector<std::string>{fn.name};
  std::string list;
  for (const auto& c : columns)
    list += (list.empty() ? "" : ", ") + answer_column(schema, fn.time_columns, "_c", c, c);
  return "(SELECT " + list + " FROM " +
         call_from(schema, fn, keys, fn.columns ? "" : fn.name, "_c") + ") _r";
}

// nlohmann-json's DOM builder behind a SAX interface that refuses to open a level beyond the cap.
class DepthCappedBuilder {
 public:
  using json = nlohmann::json;
  DepthCappedBuilder(json& result, std::size_t max_depth) : dom_(result, false), max_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return deeper() && dom_.start_object(n); }
  bool key(json::string_t& k) { return dom_.key(k); }
  bool end_object() { return --depth_, dom_.end_object(); }
  bool start_array(std::size_t n) { return deeper() && dom_.start_array(n); }
  bool end_array() { return --depth_, dom_.end_array(); }
  bool parse_error(std::size_t at, const std::string& token, const nlohmann::detail::exception& e) {
    return dom_.parse_error(at, token, e);
  }
  bool too_deep() const { return too_deep_; }

 private:
  // Opens one more level; false (parsing stops) beyond the cap.
  bool deeper() {
    too_deep_ = ++depth_ > max_;
    return !too_deep_;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t max_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

int http_status_for_sqlstate(std::string_view code, bool anonymous) {
  if (code == "42501") return anonymous ? 401 : 403;
  if (int custom = custom_status(code)) return custom;
  if (starts_with(code, "22") || code == "23502" || code == "23514" || code == "P0001") return 400;
  if (code == "P0002" || code == "42883" || code == "42P01") return 404;
  if (code == "23505" || code == "23P01" || code == "23503") return 409;
  if (code == "25006") return 405;
  if (code == "57014") return 504;
  if (code == "40001" || code == "40P01" || starts_with(code, "08") || starts_with(code, "53") ||
      starts_with(code, "57P"))
    return 503;
  if (starts_with(code, "28") || starts_with(code, "0L") || starts_with(code, "0P")) return 403;
  return 500;
}

int answer_status(std::string_view answer, const std::map<std::string, int>& statuses) {
  if (statuses.empty() || answer.empty() || answer.front() != '{') return 200;
  auto parsed = nlohmann::json::parse(answer, nullptr, false);
  if (!parsed.is_object()) return 200;
  auto reason = parsed.find("reason");
  if (reason == parsed.end() || !reason->is_string()) return 200;
  auto status = statuses.find(reason->get<std::string>());
  return status == statuses.end() ? 200 : status->second;
}

bool status_is_retryable(int status) {
  return status == 503;
}

std::optional<std::map<std::string, std::string>> match_template(std::string_view path_template,
                                                                 std::string_view path) {
  auto want = segments(path_template);
  auto have = segments(path);
  if (want.size() != have.size()) return std::nullopt;
  std::map<std::string, std::string> values;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (is_param(want[i])) {
      if (have[i].empty()) return std::nullopt;
      values[std::string(want[i].substr(1, want[i].size() - 2))] = std::string(have[i]);
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return values;
}

int template_specificity(std::string_view path_template) {
  int literal = 0;
  for (auto segment : segments(path_template)) literal += !is_param(segment);
  return literal;
}

bool FunctionInfo::takes_whole_body() const {
  return args.size() == 1 && args[0].name.empty() &&
         (args[0].type == "json" || args[0].type == "jsonb");
}

const FunctionInfo* choose_overload(const std::vector<FunctionInfo>& overloads,
                                    const std::set<std::string>& keys) {
  for (const auto& fn : overloads)
    if (takes_keys(fn, keys)) return &fn;
  for (const auto& fn : overloads)
    if (fn.takes_whole_body()) return &fn;
  return nullptr;
}

std::string call_from(const std::string& schema, const FunctionInfo& fn,
                      const std::set<std::string>& keys, const std::string& column,
                      const std::string& rel) {
  std::string callee = quote_ident(schema) + "." + quote_ident(fn.name);
  std::string alias = column.empty() ? " " + rel : " AS " + rel + "(" + quote_ident(column) + ")";
  if (fn.takes_whole_body()) return callee + "($1::" + fn.args[0].type + ")" + alias;
  std::string columns, call_args;
  for (const auto& arg : fn.args) {
    if (!keys.count(arg.name)) continue;
    std::string name = quote_ident(arg.name);
    columns += (columns.empty() ? "" : ", ") + name + " " + arg.type;
    call_args += (call_args.empty() ? "" : ", ") + name + " := _a." + name;
  }
  if (columns.empty()) return callee + "()" + alias;
  return "pg_catalog.json_to_record($1::json) AS _a(" + columns + "), LATERAL " + callee + "(" +
         call_args + ")" + alias;
}

std::string call_sql(const std::string& schema, const FunctionInfo& fn,
                     const std::set<std::string>& keys) {
  if (fn.time_columns.empty() || fn.returns_void)
    return "SELECT " + result_expression(fn) + " FROM " + call_from(schema, fn, keys);
  std::string value = fn.columns ? "_r" : "_r." + quote_ident(fn.name);
  return "SELECT " + result_expression(fn, value) + " FROM " + answer_from(schema, fn, keys);
}

ParsedJson parse_json(std::string_view text, std::size_t max_depth) {
  ParsedJson out;
  DepthCappedBuilder builder(out.value, max_depth);
  if (!nlohmann::json::sax_parse(text, &builder)) out.value = nlohmann::json::value_t::discarded;
  out.too_deep = builder.too_deep();
  return out;
}

std::string answer_column(const std::string& schema, const std::set<std::string>& time_columns,
                          const std::string& rel, const std::string& column,
                          const std::string& alias) {
  std::string value = rel + "." + quote_ident(column);
  bool time = time_columns.count(column) > 0;
  if (time) value = quote_ident(schema) + ".answer_time(" + value + ")";
  return time || alias != column ? value + " AS " + quote_ident(alias) : value;
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
