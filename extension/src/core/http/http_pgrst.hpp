// PostgREST's read contract for /rpc, as pure rules: the query grammar (select, filters, order,
// limit, offset), the Prefer, Range and Accept headers, the Content-Range answer, and the SQL that
// reads a function's result through them (identifiers checked against the result's columns and
// quoted, every value a parameter). Only the shim links it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/http_api.hpp"

namespace sb {

// An error answered as PostgREST answers it: HTTP status, code (PGRSTnnn or a SQLSTATE), message,
// details and hint.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message, std::string details = {},
           std::string hint = {})
      : std::runtime_error(std::move(message)),
        status_(status),
        code_(std::move(code)),
        details_(std::move(details)),
        hint_(std::move(hint)) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  const std::string& details() const noexcept { return details_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  int status_;
  std::string code_;
  std::string details_;
  std::string hint_;
};

enum class FilterOp { eq, neq, gt, gte, lt, lte, in, is, like, ilike };

// One horizontal filter: column=[not.]op.value.
struct Filter {
  std::string column;
  FilterOp op = FilterOp::eq;
  bool negated = false;
  std::vector<std::string>
      values;  // one; any number for `in`; for `is`: null, true, false, unknown
};

// A logical tree: or=(...), and=(...), not.or=(...), not.and=(...), nested as or(...) and
// and(...) inside; its conditions are filters (column.[not.]op.value) and nested trees.
struct LogicTree {
  bool any = false;  // or: any condition holds; and: every one does
  bool negated = false;
  std::vector<Filter> filters;
  std::vector<LogicTree> trees;
};

// The deepest nesting of trees a query may use.
constexpr int kMaxLogicDepth = 16;

struct OrderTerm {
  std::string column;
  bool descending = false;
  std::optional<bool> nulls_first;
};

// One column of `select`: the result column and the name it is answered under.
struct SelectItem {
  std::string column;
  std::string alias;
};

// What a read asks of a function's result besides its arguments.
struct ReadPlan {
  std::vector<SelectItem> select;  // empty: every column
  std::vector<Filter> filters;
  std::vector<LogicTree> trees;  // each holds, as the filters do
  std::vector<OrderTerm> order;
  std::optional<std::uint64_t> limit;
  std::uint64_t offset = 0;

  bool shapes_rows() const {
    return !select.empty() || !filters.empty() || !trees.empty() || !order.empty();
  }
  bool pages() const { return limit.has_value() || offset > 0; }
};

// True for the query parameter names PostgREST reserves (never function arguments on GET).
bool reserved_query_param(std::string_view name);

// Adds query parameter `name`=`value` to the plan: select, order, limit, offset, a filter, or a
// logical tree (or, and, not.or, not.and; values in a tree may be double-quoted). Throws ApiError
// 400 PGRST100 for what the grammar does not allow (embedding, casts, json paths and unknown
// operators are named as not supported; trees nested deeper than kMaxLogicDepth are refused).
void add_query_param(ReadPlan& plan, std::string_view name, std::string_view value);

// Every filter of the plan: its own, then those of its trees, depth first (the order read_sql
// numbers their values in).
std::vector<const Filter*> every_filter(const ReadPlan& plan);

// Narrows the plan to the rows of a Range header ("items" unit: "0-9", "10-"); nothing for an
// empty header. Throws ApiError 416 PGRST103 for a range that cannot be read.
void apply_range_header(ReadPlan& plan, std::string_view header);

// The Prefer header (RFC 7240), the preferences this contract knows.
struct Preferences {
  std::optional<std::string> return_kind;  // minimal, headers-only, representation
  std::optional<std::string> count;        // exact, planned, estimated
  bool single_object_params = false;       // params=single-object
  std::optional<std::string> tx;           // commit, rollback
  bool strict = false;                     // handling=strict
  std::vector<std::string> unknown;        // preferences not understood
};

// Every Prefer value of a request, joined by commas. Throws ApiError 400 PGRST122 for unknown
// preferences under handling=strict.
Preferences parse_prefer(std::string_view header);

// The representation an Accept header asks for.
enum class Representation { array, object };

// The representation of `accept` (empty: array). Throws ApiError 406 PGRST107 when none of its
// media types can be produced (JSON, PostgREST's object type, or wildcards).
Representation parse_accept(std::string_view accept);

// The Content-Range of a page: "first-last/total" ("*" for an unknown total; "*/total" when the
// page is empty).
std::string content_range(std::uint64_t offset, std::uint64_t rows,
                          std::optional<std::uint64_t> total);

// What a function returns, as the read sees it.
struct ResultShape {
  bool returns_set = false;
  std::vector<std::string> columns;    // of a composite result; empty for a scalar one
  std::string scalar_column;           // a scalar result's column: the function's name
  std::set<std::string> time_columns;  // written as answers write times (FunctionInfo)
};

// Ensures: every column the plan names is a column of the result; else ApiError 400 42703 naming
// the column and listing the ones there are.
void check_columns(const ReadPlan& plan, const ResultShape& shape, const std::string& function);

struct ReadOptions {
  Representation representation = Representation::array;
  bool count = false;  // a third column: the number of rows before limit and offset
};

// SQL that calls `fn` like call_sql and reads its result through `plan`: one row of three columns,
// the JSON answer as text (an array, or for `object` the only row, NULL when there is not exactly
// one), the number of rows of the page, and the total number of rows (NULL unless counted). The
// filter values are appended to `params` and numbered after the ones already there ($1 is the
// arguments).
std::string read_sql(const std::string& schema, const FunctionInfo& fn,
                     const std::set<std::string>& keys, const ResultShape& shape,
                     const ReadPlan& plan, const ReadOptions& options,
                     std::vector<std::string>& params);

}  // namespace sb
