// The pure translation rules of the HTTP API: SQLSTATE -> HTTP status, route templates, the choice
// of a function overload for a set of named arguments and the SQL that calls it, and the parsing
// of request JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sb {

// The HTTP status PostgREST gives an error with this SQLSTATE (anonymous: no JWT role but anon).
int http_status_for_sqlstate(std::string_view sqlstate, bool anonymous);

// The HTTP status of a route's JSON answer: the one `statuses` (answer reason -> status) gives
// the answer's top-level "reason", else 200.
int answer_status(std::string_view answer, const std::map<std::string, int>& statuses);

// True when responses with this status ask the client to retry later (Retry-After).
bool status_is_retryable(int status);

// The values of the {name} segments when `path` fits `path_template`, else nothing.
std::optional<std::map<std::string, std::string>> match_template(std::string_view path_template,
                                                                 std::string_view path);

// How specific a template is: its number of literal segments (more wins when several fit).
int template_specificity(std::string_view path_template);

struct FunctionArg {
  std::string name;  // "" for an unnamed argument
  std::string type;  // SQL type as format_type writes it
  bool has_default = false;
};

struct FunctionInfo {
  std::uint32_t oid = 0;
  std::string name;
  char volatility = 'v';  // 'i', 's' or 'v'
  bool returns_set = false;
  bool returns_void = false;
  std::vector<FunctionArg> args;
  std::optional<std::vector<std::string>> columns;  // of a composite result; none for a scalar
  // The result columns of type timestamptz (a scalar one: the function's name): answers write
  // them as answer_time does, like every time the API returns.
  std::set<std::string> time_columns;

  bool read_only() const { return volatility == 'i' || volatility == 's'; }
  // One unnamed json/jsonb argument: it receives the whole request body.
  bool takes_whole_body() const;
};

// The overload that takes exactly these named arguments (every key known, every argument
// without default given); else one taking the whole body; else nothing.
const FunctionInfo* choose_overload(const std::vector<FunctionInfo>& overloads,
                                    const std::set<std::string>& keys);

// The FROM item calling `fn` with the arguments named in `keys`, read from $1, as relation `rel`
// (its one column named `column` when given: for a scalar result).
std::string call_from(const std::string& schema, const FunctionInfo& fn,
                      const std::set<std::string>& keys, const std::string& column = "",
                      const std::string& rel = "_r");

// SQL calling `fn` with the arguments named in `keys`, read from $1 (a JSON object, or the whole
// body for takes_whole_body()); it returns one text column: the JSON result, or NULL for void (a
// set adds a second column: its number of rows). Its time columns are written by
// `schema`.answer_time.
std::string call_sql(const std::string& schema, const FunctionInfo& fn,
                     const std::set<std::string>& keys);

// A parsed request document: `value` is discarded when the text is not JSON or nests deeper than
// allowed (`too_deep`).
struct ParsedJson {
  nlohmann::json value;
  bool too_deep = false;
};

// `text` parsed with arrays and objects nested at most `max_depth` deep; the cap stops the parser
// at the first level too deep, so deep input costs no more than the levels allowed.
ParsedJson parse_json(std::string_view text, std::size_t max_depth);

// A double-quoted SQL identifier.
std::string quote_ident(std::string_view name);

// The value of column `column` of relation `rel` as an answer writes it: through
// `schema`.answer_time when it is one of `time_columns` (ISO 8601 UTC to the second), else as it
// is; named `alias` (unless it is the column itself, as it is).
std::string answer_column(const std::string& schema, const std::set<std::string>& time_columns,
                          const std::string& rel, const std::string& column,
                          const std::string& alias);

}  // namespace sb
