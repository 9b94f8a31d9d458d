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
                                                                  {"or", "a.eq.1,b.eq.2"},
                                                                  {"or", "(a.eq.1,)"},
                                                                  {"and", "(a.eq.1,or(b.eq.2)"},
                                                                  {"and", "(a.eq.1))"},
                                                                  {"or", "(a.cs.{1})"},
                                                                  {"or", "(a)"},
                                                                  {"or", "(a.eq.\"x\"y\")"},
                                                                  {"not.and", "(x(y).eq.1)"},
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

TEST(Pgrst, LogicalTreesNestWithNot) {
  auto plan = plan_of({{"or", "(age.lt.18,age.gt.21)"},
                       {"and",
                        "(grade.gte.90,student.is.true,or(age.eq.14,not.and(age.gte.11,"
                        "age.lte.17)))"},
                       {"not.or", "(name.eq.\"Smith, Jr.\",id.in.(1,\"2,3\"),name.not.like.A*)"}});
  ASSERT_EQ(plan.trees.size(), 3u);
  EXPECT_TRUE(plan.shapes_rows());
  const sb::LogicTree& any = plan.trees[0];
  EXPECT_TRUE(any.any);
  EXPECT_FALSE(any.negated);
  ASSERT_EQ(any.filters.size(), 2u);
  EXPECT_EQ(any.filters[1].op, sb::FilterOp::gt);
  EXPECT_EQ(any.filters[1].values, std::vector<std::string>{"21"});
  const sb::LogicTree& all = plan.trees[1];
  EXPECT_FALSE(all.any);
  ASSERT_EQ(all.filters.size(), 2u);
  ASSERT_EQ(all.trees.size(), 1u);
  EXPECT_TRUE(all.trees[0].any);
  ASSERT_EQ(all.trees[0].trees.size(), 1u);
  EXPECT_TRUE(all.trees[0].trees[0].negated);
  EXPECT_FALSE(all.trees[0].trees[0].any);
  const sb::LogicTree& none = plan.trees[2];
  EXPECT_TRUE(none.negated);
  ASSERT_EQ(none.filters.size(), 3u);
  EXPECT_EQ(none.filters[0].values, std::vector<std::string>{"Smith, Jr."});
  EXPECT_EQ(none.filters[1].values, (std::vector<std::string>{"1", "2,3"}));
  EXPECT_TRUE(none.filters[2].negated);
  EXPECT_EQ(none.filters[2].values, std::vector<std::string>{"A%"});
  EXPECT_EQ(sb::every_filter(plan).size(), 10u);
  // Nesting is bounded (a query cannot exhaust the stack).
  std::string deep = "(a.eq.1)";
  for (int i = 1; i < sb::kMaxLogicDepth; ++i) deep = "(or" + deep + ")";
  EXPECT_EQ(plan_of({{"or", deep.c_str()}}).trees.size(), 1u);
  deep = "(and" + deep + ")";
  EXPECT_EQ(error_code([&] { plan_of({{"or", deep.c_str()}}); }), "PGRST100/400");
  // Resource embedding stays refused, with a message that says so.
  try {
    plan_of({{"select", "id,calendar(name)"}});
    ADD_FAILURE() << "embedding accepted";
  } catch (const sb::ApiError& e) {
    EXPECT_NE(std::string(e.what()).find("resource embedding is not supported"), std::string::npos);
  }
}

TEST(Pgrst, LogicalTreesBecomeConditionsWithParameters) {
  sb::FunctionInfo fn;
  fn.name = "list";
  fn.returns_set = true;
  sb::ResultShape shape{true, {"a", "b"}, "list", {}};
  auto plan = plan_of({{"a", "eq.0"}, {"not.or", "(a.eq.1,and(b.is.null,b.not.in.(2,3)))"}});
  std::vector<std::string> params{"{}"};
  std::string sql = sb::read_sql("switchboard", fn, {}, shape, plan, {}, params);
  EXPECT_EQ(params, (std::vector<std::string>{"{}", "0", "1", "2", "3"}));
  EXPECT_NE(sql.find(" WHERE _r.\"a\" OPERATOR(pg_catalog.=) $2 AND NOT (_r.\"a\" "
                     "OPERATOR(pg_catalog.=) $3 OR (_r.\"b\" IS NULL AND NOT ((_r.\"b\" "
                     "OPERATOR(pg_catalog.=) $4 OR _r.\"b\" OPERATOR(pg_catalog.=) $5))))"),
            std::string::npos)
      << sql;
  // Columns inside trees are checked like any other.
  EXPECT_EQ(
      error_code([&] {
        sb::check_columns(plan_of({{"or", "(a.eq.1,and(c.eq.2))"}}), shape, "switchboard.list");
      }),
      "42703/400");
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
  sb::ResultShape shape{true, {"id", "starts_at"}, "list", {}};
  sb::check_columns(plan_of({{"select", "id"}, {"order", "starts_at"}}), shape, "switchboard.list");
  EXPECT_EQ(error_code([&] {
              sb::check_columns(plan_of({{"nope", "eq.1"}}), shape, "switchboard.list");
            }),
            "42703/400");
  sb::ResultShape scalar{true, {}, "numbers", {}};
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
  sb::ResultShape shape{true, {"id", "na\"me"}, "list", {}};
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
  sql = sb::read_sql("switchboard", fn, {}, sb::ResultShape{true, {}, "list", {}},
                     plan_of({{"list", "gt.3"}}), counted, params);
  EXPECT_EQ(sql,
            "WITH _s AS (SELECT _r.* FROM \"switchboard\".\"list\"() AS _r(\"list\") WHERE "
            "_r.\"list\" OPERATOR(pg_catalog.>) $2) SELECT CASE WHEN pg_catalog.count(*) "
            "OPERATOR(pg_catalog.=) 1 THEN (pg_catalog.json_agg(_p.\"list\") "
            "OPERATOR(pg_catalog.->) 0)::pg_catalog.text END, pg_catalog.count(*), (SELECT "
            "pg_catalog.count(*) FROM _s) FROM (SELECT _s.\"list\" FROM _s) _p");
}

TEST(Pgrst, ReadSqlWritesTimeColumnsAsAnswersDo) {
  sb::FunctionInfo fn;
  fn.name = "list";
  fn.returns_set = true;
  sb::ResultShape shape{true, {"id", "at"}, "list", {"at"}};
  std::vector<std::string> params{"{}"};
  std::string sql =
      sb::read_sql("switchboard", fn, {}, shape, plan_of({{"order", "at"}}), {}, params);
  EXPECT_EQ(sql,
            "SELECT coalesce(pg_catalog.json_agg(_p), '[]')::pg_catalog.text, pg_catalog.count(*), "
            "NULL::pg_catalog.int8 FROM (SELECT _r.\"id\", \"switchboard\".answer_time(_r.\"at\") "
            "AS \"at\" FROM \"switchboard\".\"list\"() _r ORDER BY _r.\"at\" ASC) _p");
  sql = sb::read_sql("switchboard", fn, {}, shape, plan_of({{"select", "when:at"}}), {}, params);
  EXPECT_NE(sql.find("\"switchboard\".answer_time(_r.\"at\") AS \"when\""), std::string::npos);
}

}  // namespace
