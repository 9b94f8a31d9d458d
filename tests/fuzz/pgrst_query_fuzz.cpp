// PostgREST's read contract (core/http/http_pgrst): query parameters, Range, Prefer and Accept, and
// the SQL of the read. Input: lines of name=value query parameters until an empty line, then the
// Range, Prefer and Accept headers (logical trees, or=(...) and=(...) nested with not., included).
// Only ApiError is thrown (400, 406 or 416 with a PGRST or
// SQLSTATE code); every filter value becomes a parameter, never SQL text: the read's parameters are
// $1 and one per value.
#include <cstdint>
#include <string>

#include "core/http/http_pgrst.hpp"
#include "fuzz_support.hpp"

namespace {

// The columns named anywhere in the plan: the result has exactly these (so the SQL is built); the
// first is a timestamptz column.
sb::ResultShape shape_naming_all(const sb::ReadPlan& plan) {
  sb::ResultShape shape{true, {}, "f", {}};
  auto add = [&](const std::string& c) { shape.columns.push_back(c); };
  for (const auto& s : plan.select) add(s.column);
  for (const sb::Filter* f : sb::every_filter(plan)) add(f->column);
  for (const auto& o : plan.order) add(o.column);
  if (shape.columns.empty()) shape.columns.push_back("id");
  shape.time_columns.insert(shape.columns.front());  // written through answer_time
  return shape;
}

// The number of values the plan's filters pass as parameters.
std::size_t value_count(const sb::ReadPlan& plan) {
  std::size_t n = 0;
  for (const sb::Filter* f : sb::every_filter(plan))
    if (f->op != sb::FilterOp::is) n += f->values.size();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = sb::fuzz::text_of(data, size);
  try {
    sb::ReadPlan plan;
    while (!input.empty()) {
      auto end = input.find('\n');
      std::string_view line = input.substr(0, end);
      input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
      if (line.empty()) break;
      auto eq = line.find('=');
      sb::add_query_param(plan, line.substr(0, eq),
                          eq == std::string_view::npos ? "" : line.substr(eq + 1));
    }
    auto headers = sb::fuzz::fields(input, 3);
    sb::apply_range_header(plan, headers[0]);
    auto prefer = sb::parse_prefer(headers[1]);
    auto representation = sb::parse_accept(headers[2]);
    sb::FunctionInfo fn;
    fn.name = "f";
    fn.returns_set = true;
    std::vector<std::string> params{"{}"};
    std::string sql = sb::read_sql("switchboard", fn, {}, shape_naming_all(plan), plan,
                                   {representation, prefer.count.has_value()}, params);
    sb::fuzz::require(params.size() == 1 + value_count(plan), "one parameter per filter value");
    if (plan.limit) sb::fuzz::require(sql.find(" LIMIT ") != std::string::npos, "limit applied");
  } catch (const sb::ApiError& e) {
    int s = e.status();
    sb::fuzz::require(s == 400 || s == 406 || s == 416, "refusals are 400, 406 or 416");
    sb::fuzz::require(!e.code().empty(), "refusals carry a code");
  }
  return 0;
}
