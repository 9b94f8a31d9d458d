#include "core/http/http_pgrst.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "core/http/http_framing.hpp"

namespace sb {
namespace {

constexpr const char* kSupportedOperators = "eq, neq, gt, gte, lt, lte, in, is, like, ilike";

// `text` in ASCII lowercase.
std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The parts of `text` between `separator`s.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  while (true) {
    auto at = text.find(separator);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

// The 400 PGRST100 of a query parameter the grammar refuses.
ApiError query_error(const std::string& message, std::string_view name, std::string_view value,
                     const std::string& hint = "") {
  return ApiError(400, "PGRST100", message,
                  "query parameter " + std::string(name) + "=" + std::string(value), hint);
}

// A non-negative integer of at most 18 digits, or nothing.
std::optional<std::uint64_t> count_value(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// Ensures: `column` is a plain column name (no embedding, cast or JSON path), else PGRST100.
void require_plain_column(std::string_view column, std::string_view name, std::string_view value) {
  if (column.empty()) throw query_error("a column name is missing", name, value);
  if (column.find('(') != std::string_view::npos || column.find(')') != std::string_view::npos)
    throw query_error("resource embedding is not supported by switchboard-shim", name, value,
                      "select columns of the function's result only");
  if (column.find("::") != std::string_view::npos)
    throw query_error("casts are not supported by switchboard-shim", name, value);
  if (column.find("->") != std::string_view::npos)
    throw query_error("json paths are not supported by switchboard-shim", name, value);
}

// `select=a,alias:b,*`.
void parse_select(ReadPlan& plan, std::string_view name, std::string_view value) {
  plan.select.clear();
  bool all = false;
  for (auto item : split(value, ',')) {
    item = trimmed(item);
    if (item == "*") {
      all = true;
      continue;
    }
    auto colon = item.find(':');
    bool aliased = colon != std::string_view::npos && item.substr(colon, 2) != "::";
    std::string_view column = aliased ? trimmed(item.substr(colon + 1)) : item;
    std::string_view alias = aliased ? trimmed(item.substr(0, colon)) : item;
    require_plain_column(column, name, value);
    if (alias.empty()) throw query_error("an alias is empty", name, value);
    plan.select.push_back({std::string(column), std::string(alias)});
  }
  if (all) plan.select.clear();  // every column (PostgREST allows no mix of * and embedding here)
}

// `order=a.desc.nullslast,b`.
void parse_order(ReadPlan& plan, std::string_view name, std::string_view value) {
  plan.order.clear();
  for (auto item : split(value, ',')) {
    auto parts = split(trimmed(item), '.');
    OrderTerm term;
    term.column = std::string(parts[0]);
    require_plain_column(term.column, name, value);
    for (std::size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == "asc" || parts[i] == "desc")
        term.descending = parts[i] == "desc";
      else if (parts[i] == "nullsfirst" || parts[i] == "nullslast")
        term.nulls_first = parts[i] == "nullsfirst";
      else
        throw query_error("unknown order modifier " + std::string(parts[i]), name, value,
                          "use asc, desc, nullsfirst or nullslast");
    }
    plan.order.push_back(std::move(term));
  }
}

// The values of `in.(a,"b,c",d)`: commas separate, double quotes enclose, backslash escapes.
std::vector<std::string> in_values(std::string_view list, std::string_view name,
                                   std::string_view value) {
  if (list.size() < 2 || list.front() != '(' || list.back() != ')')
    throw query_error("the values of in must be in parentheses: in.(a,b)", name, value);
  list = list.substr(1, list.size() - 2);
  std::vector<std::string> out;
  if (trimmed(list).empty()) return out;
  std::string current;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (c == '\\' && i + 1 < list.size()) {
      current.push_back(list[++i]);
    } else if (c == '"') {
      quoted = !quoted;
      was_quoted = true;
    } else if (c == ',' && !quoted) {
      out.push_back(was_quoted ? current : std::string(trimmed(current)));
      current.clear();
      was_quoted = false;
    } else {
      current.push_back(c);
    }
  }
  if (quoted) throw query_error("a double quote is not closed", name, value);
  out.push_back(was_quoted ? current : std::string(trimmed(current)));
  return out;
}

// The operator of a filter's text, or nothing.
std::optional<FilterOp> filter_op(std::string_view op) {
  static const std::pair<const char*, FilterOp> ops[] = {
      {"eq", FilterOp::eq},      {"neq", FilterOp::neq}, {"gt", FilterOp::gt},
      {"gte", FilterOp::gte},    {"lt", FilterOp::lt},   {"lte", FilterOp::lte},
      {"in", FilterOp::in},      {"is", FilterOp::is},   {"like", FilterOp::like},
      {"ilike", FilterOp::ilike}};
  for (const auto& [text, value] : ops)
    if (op == text) return value;
  return std::nullopt;
}

// A value of a logical tree as written: "a,b" (double quotes, backslash escapes) is a,b; any
// other text is itself.
std::string unquoted(const std::string& text, std::string_view name, std::string_view value) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return text;
  std::string out;
  for (std::size_t i = 1; i + 1 < text.size(); ++i) {
    if (text[i] == '\\' && i + 2 < text.size())
      out.push_back(text[++i]);
    else if (text[i] == '"')
      throw query_error("a double quote inside a quoted value must be escaped: \\\"", name, value);
    else
      out.push_back(text[i]);
  }
  return out;
}

// The filter `column`=`rest` ([not.]op.value) of query parameter `name`=`value`: the parameter
// itself, or one condition of a logical tree (`in_tree`: column.[not.]op.value, a value may be
// double-quoted).
Filter parse_filter(std::string_view column, std::string_view rest, std::string_view name,
                    std::string_view value, bool in_tree) {
  require_plain_column(column, name, value);
  Filter f;
  f.column = std::string(column);
  if (rest.substr(0, 4) == "not.") {
    f.negated = true;
    rest.remove_prefix(4);
  }
  auto dot = rest.find('.');
  if (dot == std::string_view::npos)
    throw query_error("a filter needs an operator and a value: column=op.value", name, value,
                      std::string("operators: ") + kSupportedOperators);
  auto op = filter_op(rest.substr(0, dot));
  if (!op)
    throw query_error(
        "operator " + std::string(rest.substr(0, dot)) + " is not supported by switchboard-shim",
        name, value, std::string("operators: ") + kSupportedOperators);
  f.op = *op;
  std::string operand(rest.substr(dot + 1));
  if (in_tree && f.op != FilterOp::in) operand = unquoted(operand, name, value);
  if (f.op == FilterOp::in) {
    f.values = in_values(operand, name, value);
  } else if (f.op == FilterOp::is) {
    std::string word = lower(operand);
    if (word != "null" && word != "not_null" && word != "true" && word != "false" &&
        word != "unknown")
      throw query_error("is takes null, not_null, true, false or unknown", name, value);
    f.values.push_back(word);
  } else {
    std::string text = std::move(operand);
    if (f.op == FilterOp::like || f.op == FilterOp::ilike)
      std::replace(text.begin(), text.end(), '*', '%');
    f.values.push_back(std::move(text));
  }
  return f;
}

// The conditions of `(a,b,...)`, split at the commas outside parentheses and double quotes.
std::vector<std::string_view> tree_items(std::string_view list, std::string_view name,
                                         std::string_view value) {
  if (list.size() < 2 || list.front() != '(' || list.back() != ')')
    throw query_error("the conditions of a logical tree must be in parentheses: or=(a.eq.1,b.eq.2)",
                      name, value);
  list = list.substr(1, list.size() - 2);
  std::vector<std::string_view> out;
  int depth = 0;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == '(') {
      ++depth;
    } else if (!quoted && c == ')') {
      if (--depth < 0) throw query_error("a parenthesis is not opened", name, value);
    } else if (!quoted && depth == 0 && c == ',') {
      out.push_back(trimmed(list.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (quoted) throw query_error("a double quote is not closed", name, value);
  if (depth != 0) throw query_error("a parenthesis is not closed", name, value);
  out.push_back(trimmed(list.substr(start)));
  for (auto item : out)
    if (item.empty()) throw query_error("a logical tree has an empty condition", name, value);
  return out;
}

// `or(...)`, `and(...)`, `not.or(...)`, `not.and(...)` at the start of `item`: the tree's kind, and
// `item` left at its parenthesis; nothing (and `item` untouched) for a filter.
std::optional<LogicTree> tree_head(std::string_view& item) {
  LogicTree tree;
  std::string_view rest = item;
  if (rest.substr(0, 4) == "not.") {
    tree.negated = true;
    rest.remove_prefix(4);
  }
  if (rest.substr(0, 3) == "or(")
    tree.any = true;
  else if (rest.substr(0, 4) != "and(")
    return std::nullopt;
  item = rest.substr(tree.any ? 2 : 3);
  return tree;
}

// The tree `tree` whose conditions are `list`, nested `depth` deep.
LogicTree parse_tree(LogicTree tree, std::string_view list, int depth, std::string_view name,
                     std::string_view value) {
  if (depth > kMaxLogicDepth)
    throw query_error("logical trees are nested too deep", name, value,
                      "nest at most " + std::to_string(kMaxLogicDepth) + " levels");
  for (std::string_view item : tree_items(list, name, value)) {
    if (auto sub = tree_head(item)) {
      tree.trees.push_back(parse_tree(std::move(*sub), item, depth + 1, name, value));
      continue;
    }
    auto dot = item.find('.');
    if (dot == std::string_view::npos)
      throw query_error("a condition of a logical tree is column.op.value", name, value,
                        std::string("operators: ") + kSupportedOperators);
    tree.filters.push_back(
        parse_filter(item.substr(0, dot), item.substr(dot + 1), name, value, true));
  }
  return tree;
}

// The comparison operator of a filter, schema-qualified.
const char* sql_operator(FilterOp op) {
  switch (op) {
    case FilterOp::neq:
      return "OPERATOR(pg_catalog.<>)";
    case FilterOp::gt:
      return "OPERATOR(pg_catalog.>)";
    case FilterOp::gte:
      return "OPERATOR(pg_catalog.>=)";
    case FilterOp::lt:
      return "OPERATOR(pg_catalog.<)";
    case FilterOp::lte:
      return "OPERATOR(pg_catalog.<=)";
    case FilterOp::like:
      return "OPERATOR(pg_catalog.~~)";
    case FilterOp::ilike:
      return "OPERATOR(pg_catalog.~~*)";
    default:
      return "OPERATOR(pg_catalog.=)";
  }
}

// "$n" for a new parameter holding `value`.
std::string parameter(std::vector<std::string>& params, std::string value) {
  params.push_back(std::move(value));
  return "$" + std::to_string(params.size());
}

// The SQL condition of one filter on relation `rel`.
std::string condition(const Filter& f, const std::string& rel, std::vector<std::string>& params) {
  std::string column = rel + "." + quote_ident(f.column);
  std::string out;
  if (f.op == FilterOp::is) {
    const std::string& v = f.values[0];
    out = column + (v == "null"       ? " IS NULL"
                    : v == "not_null" ? " IS NOT NULL"
                    : v == "true"     ? " IS TRUE"
                    : v == "false"    ? " IS FALSE"
                                      : " IS UNKNOWN");
  } else if (f.op == FilterOp::in) {
    for (const auto& v : f.values)
      out +=
          (out.empty() ? "" : " OR ") + column + " OPERATOR(pg_catalog.=) " + parameter(params, v);
    out = out.empty() ? "false" : "(" + out + ")";
  } else {
    bool pattern = f.op == FilterOp::like || f.op == FilterOp::ilike;
    out = (pattern ? column + "::pg_catalog.text" : column) + " " + sql_operator(f.op) + " " +
          parameter(params, f.values[0]);
  }
  return f.negated ? "NOT (" + out + ")" : out;
}

// The SQL condition of a logical tree on `rel`: its filters, then its trees.
std::string condition(const LogicTree& tree, const std::string& rel,
                      std::vector<std::string>& params) {
  std::string out;
  const char* join = tree.any ? " OR " : " AND ";
  for (const auto& f : tree.filters) out += (out.empty() ? "" : join) + condition(f, rel, params);
  for (const auto& t : tree.trees) out += (out.empty() ? "" : join) + condition(t, rel, params);
  return (tree.negated ? "NOT (" : "(") + out + ")";
}

// " WHERE ..." for the plan's filters and trees on `rel`, or "".
std::string where_clause(const ReadPlan& plan, const std::string& rel,
                         std::vector<std::string>& params) {
  std::string out;
  for (const auto& f : plan.filters)
    out += (out.empty() ? " WHERE " : " AND ") + condition(f, rel, params);
  for (const auto& t : plan.trees)
    out += (out.empty() ? " WHERE " : " AND ") + condition(t, rel, params);
  return out;
}

// Appends the filters of `tree` and of its trees to `out`, in the order condition() reads them.
void collect_filters(const LogicTree& tree, std::vector<const Filter*>& out) {
  for (const auto& f : tree.filters) out.push_back(&f);
  for (const auto& t : tree.trees) collect_filters(t, out);
}

// " ORDER BY ... LIMIT ... OFFSET ..." of the plan on `rel`.
std::string order_and_page(const ReadPlan& plan, const std::string& rel) {
  std::string out;
  for (const auto& t : plan.order) {
    out += (out.empty() ? " ORDER BY " : ", ") + rel + "." + quote_ident(t.column) +
           (t.descending ? " DESC" : " ASC");
    if (t.nulls_first) out += *t.nulls_first ? " NULLS FIRST" : " NULLS LAST";
  }
  if (plan.limit) out += " LIMIT " + std::to_string(*plan.limit);
  if (plan.offset) out += " OFFSET " + std::to_string(plan.offset);
  return out;
}

// The columns a page answers with, read from `rel` (times as answers write them).
std::string projection(const std::string& schema, const ReadPlan& plan, const ResultShape& shape,
                       const std::string& rel) {
  auto column = [&](const std::string& name, const std::string& alias) {
    return answer_column(schema, shape.time_columns, rel, name, alias);
  };
  if (shape.columns.empty()) return column(shape.scalar_column, shape.scalar_column);
  if (plan.select.empty() && shape.time_columns.empty()) return rel + ".*";
  std::string out;
  if (plan.select.empty())
    for (const auto& name : shape.columns) out += (out.empty() ? "" : ", ") + column(name, name);
  for (const auto& item : plan.select)
    out += (out.empty() ? "" : ", ") + column(item.column, item.alias);
  return out;
}

// The JSON answer of the page rows _p.
std::string answer(const ResultShape& shape, const ReadOptions& options) {
  std::string value = shape.columns.empty() ? "_p." + quote_ident(shape.scalar_column) : "_p";
  std::string rows = "pg_catalog.json_agg(" + value + ")";
  std::string first = "(" + rows + " OPERATOR(pg_catalog.->) 0)::pg_catalog.text";
  if (options.representation == Representation::object)
    return "CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1 THEN " + first + " END";
  if (!shape.returns_set) return "coalesce(" + first + ", 'null')";
  return "coalesce(" + rows + ", '[]')::pg_catalog.text";
}

}  // namespace

bool reserved_query_param(std::string_view name) {
  return name == "select" || name == "order" || name == "limit" || name == "offset" ||
         name == "columns" || name == "on_conflict" || name == "or" || name == "and" ||
         name == "not.or" || name == "not.and";
}

void add_query_param(ReadPlan& plan, std::string_view name, std::string_view value) {
  if (name == "select") return parse_select(plan, name, value);
  if (name == "order") return parse_order(plan, name, value);
  if (name == "limit" || name == "offset") {
    auto n = count_value(value);
    if (!n) throw query_error(std::string(name) + " must be a non-negative integer", name, value);
    if (name == "limit")
      plan.limit = *n;
    else
      plan.offset = *n;
    return;
  }
  if (name == "columns" || name == "on_conflict") return;  // for writes to tables: nothing to do
  if (name == "or" || name == "and" || name == "not.or" || name == "not.and") {
    LogicTree tree;
    tree.negated = name.substr(0, 4) == "not.";
    tree.any = name.substr(name.size() - 2) == "or";
    return plan.trees.push_back(parse_tree(std::move(tree), value, 1, name, value));
  }
  plan.filters.push_back(parse_filter(name, value, name, value, false));
}

std::vector<const Filter*> every_filter(const ReadPlan& plan) {
  std::vector<const Filter*> out;
  for (const auto& f : plan.filters) out.push_back(&f);
  for (const auto& t : plan.trees) collect_filters(t, out);
  return out;
}

void apply_range_header(ReadPlan& plan, std::string_view header) {
  header = trimmed(header);
  if (header.empty()) return;
  if (header.substr(0, 6) == "items=") header.remove_prefix(6);
  auto dash = header.find('-');
  auto first = count_value(header.substr(0, dash));
  std::string_view last_text =
      dash == std::string_view::npos ? std::string_view() : header.substr(dash + 1);
  auto last = count_value(last_text);
  if (dash == std::string_view::npos || !first || (!last_text.empty() && !last))
    throw ApiError(416, "PGRST103", "Requested range not satisfiable",
                   "the Range header must be first-last or first- (items, from 0)");
  if (last && *last < *first)
    throw ApiError(416, "PGRST103", "Requested range not satisfiable",
                   "The lower boundary must be lower than or equal to the upper boundary in the "
                   "Range header.");
  // The rows both the query's limit and offset and the header ask for.
  std::uint64_t lower = std::max(plan.offset, *first);
  std::uint64_t end = std::numeric_limits<std::uint64_t>::max();  // one past the last row
  if (plan.limit) end = plan.offset + *plan.limit;
  if (last) end = std::min(end, *last + 1);
  plan.offset = lower;
  if (end != std::numeric_limits<std::uint64_t>::max()) plan.limit = end > lower ? end - lower : 0;
}

Preferences parse_prefer(std::string_view header) {
  Preferences p;
  for (auto item : split(header, ',')) {
    item = trimmed(item);
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string key = lower(trimmed(item.substr(0, eq)));
    std::string value = eq == std::string_view::npos ? "" : lower(trimmed(item.substr(eq + 1)));
    if (key == "return" &&
        (value == "minimal" || value == "headers-only" || value == "representation"))
      p.return_kind = value;
    else if (key == "count" && (value == "exact" || value == "planned" || value == "estimated"))
      p.count = value;
    else if (key == "params" && value == "single-object")
      p.single_object_params = true;
    else if (key == "tx" && (value == "commit" || value == "rollback"))
      p.tx = value;
    else if (key == "handling" && (value == "strict" || value == "lenient"))
      p.strict = value == "strict";
    else
      p.unknown.emplace_back(item);
  }
  if (p.strict && !p.unknown.empty()) {
    std::string list;
    for (const auto& u : p.unknown) list += (list.empty() ? "" : ", ") + u;
    throw ApiError(400, "PGRST122", "Invalid preferences given with handling=strict",
                   "Invalid preferences: " + list);
  }
  return p;
}

Representation parse_accept(std::string_view accept) {
  if (trimmed(accept).empty()) return Representation::array;
  for (auto item : split(accept, ',')) {
    std::string type = lower(trimmed(item.substr(0, item.find(';'))));
    if (type == "application/vnd.pgrst.object+json" || type == "application/vnd.pgrst.object")
      return Representation::object;
    if (type == "application/json" || type == "application/vnd.pgrst.array+json" || type == "*/*" ||
        type == "application/*")
      return Representation::array;
  }
  throw ApiError(406, "PGRST107", "None of these media types are available: " + std::string(accept),
                 "", "accept application/json or application/vnd.pgrst.object+json");
}

std::string content_range(std::uint64_t offset, std::uint64_t rows,
                          std::optional<std::uint64_t> total) {
  std::string of = total ? std::to_string(*total) : "*";
  if (rows == 0) return "*/" + of;
  return std::to_string(offset) + "-" + std::to_string(offset + rows - 1) + "/" + of;
}

void check_columns(const ReadPlan& plan, const ResultShape& shape, const std::string& function) {
  auto known = [&](const std::string& column) {
    if (shape.columns.empty()) return column == shape.scalar_column;
    return std::find(shape.columns.begin(), shape.columns.end(), column) != shape.columns.end();
  };
  auto require = [&](const std::string& column) {
    if (known(column)) return;
    std::string list;
    for (const auto& c :
         shape.columns.empty() ? std::vector<std::string>{shape.scalar_column} : shape.columns)
      list += (list.empty() ? "" : ", ") + c;
    throw ApiError(400, "42703", "column " + function + "." + column + " does not exist",
                   "the result of " + function + " has the columns " + list);
  };
  for (const auto& s : plan.select) require(s.column);
  for (const Filter* f : every_filter(plan)) require(f->column);
  for (const auto& o : plan.order) require(o.column);
}

std::string read_sql(const std::string& schema, const FunctionInfo& fn,
                     const std::set<std::string>& keys, const ResultShape& shape,
                     const ReadPlan& plan, const ReadOptions& options,
                     std::vector<std::string>& params) {
  std::string from = call_from(schema, fn, keys, shape.columns.empty() ? shape.scalar_column : "");
  std::string select = "SELECT " + answer(shape, options) + ", pg_catalog.count(*), ";
  if (!options.count)
    return select + "NULL::pg_catalog.int8 FROM (SELECT " + projection(schema, plan, shape, "_r") +
           " FROM " + from + where_clause(plan, "_r", params) + order_and_page(plan, "_r") + ") _p";
  return "WITH _s AS (SELECT _r.* FROM " + from + where_clause(plan, "_r", params) + ") " + select +
         "(SELECT pg_catalog.count(*) FROM _s) FROM (SELECT " +
         projection(schema, plan, shape, "_s") + " FROM _s" + order_and_page(plan, "_s") + ") _p";
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
