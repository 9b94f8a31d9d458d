// PostgREST's read contract (core/http/http_pgrst): the query grammar, Prefer, Range, Accept,
// Content-Range and the SQL of a read.
#include <gtest/gtest.h>

#include "core/http/http_pgrst.hpp"

namespace {

// The plan of a list of query parameters.
sb::ReadPlan plan_of(std::initializer_list<std::pair<const char*, const char*>> params) {
  sb::ReadPlan plan;
  for (const auto& [name, value] : params) sb::add_query_param(plan, name, value);
  return plan;
}

// The code of the ApiError `f` throws, or "".
template <typename F>
std::string error_code(F f) {
  try {
    f();
  } catch (const sb::ApiError& e) {
    return e.code() + "/" + std::to_string(e.status());
  }
  return "";
}

TEST(Pgrst, SelectOrderLimitOffsetAndFilters) {
  auto plan = plan_of({{"select", "id,when:starts_at"},
                       {"order", "starts_at.desc.nullslast,id"},
                       {"limit", "10"},
                       {"offset", "20"},
                       {"status", "eq.confirmed"},
                       {"notes", "not.is.null"},
                       {"id", "in.(1,\"2,3\",4)"},
                       {"name", "ilike.*smith*"}});
  ASSERT_EQ(plan.select.size(), 2u);
  EXPECT_EQ(plan.select[1].column, "starts_at");
  EXPECT_EQ(plan.select[1].alias, "when");
  ASSERT_EQ(plan.order.size(), 2u);
  EXPECT_TRUE(plan.order[0].descending);
  EXPECT_EQ(plan.order[0].nulls_first, false);
  EXPECT_FALSE(plan.order[1].descending);
  EXPECT_EQ(plan.limit, 10u);
  EXPECT_EQ(plan.offset, 20u);
  ASSERT_EQ(plan.filters.size(), 4u);
  EXPECT_EQ(plan.filters[0].op, sb::FilterOp::eq);
  EXPECT_EQ(plan.filters[0].values, std::vector<std::string>{"confirmed"});
  EXPECT_TRUE(plan.filters[1].negated);
  EXPECT_EQ(plan.filters[1].values, std::vector<std::string>{"null"});
  EXPECT_EQ(plan.filters[2].values, (std::vector<std::string>{"1", "2,3", "4"}));
  EXPECT_EQ(plan.filters[3].values, std::vector<std::string>{"%smith%"});
  EXPECT_TRUE(plan_of({{"select", "*"}}).select.empty());
}

TEST(Pgrst, WhatTheGrammarRefusesIsPgrst100) {
  for (auto [name, value] :
       std::initializer_list<std::pair<const char*, const char*>>{{"status", "confirmed"},
                                                                  {"status", "cs.{a}"},
                                                                  {"select", "id,calendar(*)"},
                                                                  {"select", "id::text"},
                                                                  {"data->>x", "eq.1"},
                                                                  {"or", "(a.eq.1,b.eq.2)"},
                                                                  {"limit", "-1"},
                                                                  {"offset", "x"},
                                                                  {"order", "id.up"},
                                                                  {"id", "in.1,2"},
                                                                  {"id", "in.(\"open"},
                                                                  {"done", "is.maybe"}}) {
    EXPECT_EQ(error_code([&] {
                plan_of({{name, value}});
              }),
              "PGRST100/400")
        << name << "=" << value;
  }
  EXPECT_TRUE(sb::reserved_query_param("select"));
  EXPECT_FALSE(sb::reserved_query_param("org_id"));
}

TEST(Pgrst, RangeHeaderNarrowsThePage) {
  sb::ReadPlan plan;
  sb::apply_range_header(plan, "0-9");
  EXPECT_EQ(plan.offset, 0u);
  EXPECT_EQ(plan.limit, 10u);
  plan = {};
  sb::apply_range_header(plan, "items=5-");
  EXPECT_EQ(plan.offset, 5u);
  EXPECT_FALSE(plan.limit);
  plan = plan_of({{"limit", "3"}, {"offset", "2"}});  // rows 2-4 and 0-3: rows 2-3
  sb::apply_range_header(plan, "0-3");
  EXPECT_EQ(plan.offset, 2u);
  EXPECT_EQ(plan.limit, 2u);
  plan = {};
  sb::apply_range_header(plan, "");
  EXPECT_FALSE(plan.pages());
  EXPECT_EQ(error_code([&] { sb::apply_range_header(plan, "5-2"); }), "PGRST103/416");
  EXPECT_EQ(error_code([&] { sb::apply_range_header(plan, "x-2"); }), "PGRST103/416");
}

TEST(Pgrst, PreferAcceptAndContentRange) {
  auto p = sb::parse_prefer("return=minimal, count=exact,tx=rollback, params=single-object, x=y");
  EXPECT_EQ(p.return_kind, std::string("minimal"));
  EXPECT_EQ(p.count, std::string("exact"));
  EXPECT_EQ(p.tx, std::string("rollback"));
  EXPECT_TRUE(p.single_object_params);
  EXPECT_EQ(p.unknown, std::vector<std::string>{"x=y"});
  EXPECT_EQ(error_code([] { sb::parse_prefer("handling=strict, foo"); }), "PGRST122/400");
  EXPECT_EQ(sb::parse_accept(""), sb::Representation::array);
  EXPECT_EQ(sb::parse_accept("application/vnd.pgrst.object+json"), sb::Representation::object);
  EXPECT_EQ(sb::parse_accept("application/vnd.pgrst.object+json;nulls=stripped"),
            sb::Representation::object);
  EXPECT_EQ(sb::parse_accept("text/html, */*;q=0.8"), sb::Representation::array);
  EXPECT_EQ(error_code([] { sb::parse_accept("text/csv"); }), "PGRST107/406");
  EXPECT_EQ(sb::content_range(0, 10, std::nullopt), "0-9/*");
  EXPECT_EQ(sb::content_range(20, 5, 25), "20-24/25");
  EXPECT_EQ(sb::content_range(0, 0, 0), "*/0");
  EXPECT_EQ(sb::content_range(30, 0, std::nullopt), "*/*");
}

TEST(Pgrst, ColumnsAreCheckedAgainstTheResult) {
  sb::ResultShape shape{true, {"id", "starts_at"}, "list"};
  sb::check_columns(plan_of({{"select", "id"}, {"order", "starts_at"}}), shape, "switchboard.list");
  EXPECT_EQ(error_code([&] {
              sb::check_columns(plan_of({{"nope", "eq.1"}}), shape, "switchboard.list");
            }),
            "42703/400");
  sb::ResultShape scalar{true, {}, "numbers"};
  sb::check_columns(plan_of({{"numbers", "gt.1"}}), scalar, "switchboard.numbers");
  EXPECT_EQ(error_code([&] {
              sb::check_columns(plan_of({{"id", "eq.1"}}), scalar, "switchboard.numbers");
            }),
            "42703/400");
}

TEST(Pgrst, ReadSqlQuotesIdentifiersAndPassesValuesAsParameters) {
  sb::FunctionInfo fn;
  fn.name = "list";
  fn.returns_set = true;
  fn.args = {{"org_id", "uuid", false}};
  sb::ResultShape shape{true, {"id", "na\"me"}, "list"};
  auto plan = plan_of({{"select", "x:na\"me"},
                       {"na\"me", "like.a*"},
                       {"id", "in.(1,2)"},
                       {"order", "id.desc"},
                       {"limit", "5"}});
  std::vector<std::string> params{"{}"};
  std::string sql = sb::read_sql("switchboard", fn, {"org_id"}, shape, plan, {}, params);
  EXPECT_EQ(params, (std::vector<std::string>{"{}", "a%", "1", "2"}));
  EXPECT_EQ(sql,
            "SELECT coalesce(pg_catalog.json_agg(_p), '[]')::pg_catalog.text, pg_catalog.count(*), "
            "NULL::pg_catalog.int8 FROM (SELECT _r.\"na\"\"me\" AS \"x\" FROM "
            "pg_catalog.json_to_record($1::json) AS _a(\"org_id\" uuid), LATERAL "
            "\"switchboard\".\"list\"(\"org_id\" := _a.\"org_id\") _r WHERE "
            "_r.\"na\"\"me\"::pg_catalog.text OPERATOR(pg_catalog.~~) $2 AND (_r.\"id\" "
            "OPERATOR(pg_catalog.=) $3 OR _r.\"id\" OPERATOR(pg_catalog.=) $4) ORDER BY _r.\"id\" "
            "DESC LIMIT 5) _p");
  params = {"{}"};
  sb::ReadOptions counted{sb::Representation::object, true};
  sql = sb::read_sql("switchboard", fn, {}, sb::ResultShape{true, {}, "list"},
                     plan_of({{"list", "gt.3"}}), counted, params);
  EXPECT_EQ(sql,
            "WITH _s AS (SELECT _r.* FROM \"switchboard\".\"list\"() AS _r(\"list\") WHERE "
            "_r.\"list\" OPERATOR(pg_catalog.>) $2) SELECT CASE WHEN pg_catalog.count(*) "
            "OPERATOR(pg_catalog.=) 1 THEN (pg_catalog.json_agg(_p.\"list\") "
            "OPERATOR(pg_catalog.->) 0)::pg_catalog.text END, pg_catalog.count(*), (SELECT "
            "pg_catalog.count(*) FROM _s) FROM (SELECT _s.\"list\" FROM _s) _p");
}

}  // namespace
