// Unit tests of the HTTP translation rules (extension/src/core/http_api).
#include <gtest/gtest.h>

#include "core/http/http_api.hpp"

namespace {

TEST(SqlstateStatus, PostgrestMapping) {
  EXPECT_EQ(sb::http_status_for_sqlstate("22023", false), 400);
  EXPECT_EQ(sb::http_status_for_sqlstate("22P02", false), 400);
  EXPECT_EQ(sb::http_status_for_sqlstate("23502", false), 400);
  EXPECT_EQ(sb::http_status_for_sqlstate("42501", true), 401);
  EXPECT_EQ(sb::http_status_for_sqlstate("42501", false), 403);
  EXPECT_EQ(sb::http_status_for_sqlstate("P0002", false), 404);
  EXPECT_EQ(sb::http_status_for_sqlstate("23505", false), 409);
  EXPECT_EQ(sb::http_status_for_sqlstate("23P01", false), 409);
  EXPECT_EQ(sb::http_status_for_sqlstate("40001", false), 503);
  EXPECT_EQ(sb::http_status_for_sqlstate("40P01", false), 503);
  EXPECT_EQ(sb::http_status_for_sqlstate("57P01", false), 503);
  EXPECT_EQ(sb::http_status_for_sqlstate("25006", false), 405);
  EXPECT_EQ(sb::http_status_for_sqlstate("PT418", false), 418);
  EXPECT_EQ(sb::http_status_for_sqlstate("XX000", false), 500);
  EXPECT_EQ(sb::http_status_for_sqlstate("42P17", false), 500);
  EXPECT_TRUE(sb::status_is_retryable(503));
  EXPECT_FALSE(sb::status_is_retryable(500));
}

TEST(Templates, MatchAndSpecificity) {
  auto m = sb::match_template("/api/organizations/{id}/members", "/api/organizations/abc/members");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->at("id"), "abc");
  EXPECT_FALSE(
      sb::match_template("/api/organizations/{id}/members", "/api/organizations//members"));
  EXPECT_FALSE(sb::match_template("/api/organizations/{id}", "/api/organizations/a/b"));
  EXPECT_FALSE(sb::match_template("/api/organizations", "/api/organization"));
  EXPECT_GT(sb::template_specificity("/api/a/special"), sb::template_specificity("/api/a/{id}"));
}

sb::FunctionInfo fn(std::string name, std::vector<sb::FunctionArg> args, bool set = false) {
  sb::FunctionInfo f;
  f.name = std::move(name);
  f.args = std::move(args);
  f.returns_set = set;
  return f;
}

TEST(Overloads, NamedDefaultsAndWholeBody) {
  std::vector<sb::FunctionInfo> overloads{
      fn("f", {{"a", "integer", false}, {"b", "text", true}}),
      fn("f", {{"a", "integer", false}, {"c", "uuid", false}}),
  };
  EXPECT_EQ(sb::choose_overload(overloads, {"a"}), &overloads[0]);
  EXPECT_EQ(sb::choose_overload(overloads, {"a", "b"}), &overloads[0]);
  EXPECT_EQ(sb::choose_overload(overloads, {"a", "c"}), &overloads[1]);
  EXPECT_EQ(sb::choose_overload(overloads, {"a", "zzz"}), nullptr);
  EXPECT_EQ(sb::choose_overload(overloads, {}), nullptr);
  std::vector<sb::FunctionInfo> body{fn("g", {{"", "jsonb", false}})};
  EXPECT_EQ(sb::choose_overload(body, {"anything"}), &body[0]);
  std::vector<sb::FunctionInfo> unnamed{fn("h", {{"", "integer", false}})};
  EXPECT_EQ(sb::choose_overload(unnamed, {}), nullptr);
}

TEST(CallSql, ShapesByResultAndArguments) {
  auto f = fn("is_member", {{"org_id", "uuid", false}});
  EXPECT_EQ(
      sb::call_sql("switchboard", f, {"org_id"}),
      "SELECT pg_catalog.to_json(_r)::text FROM pg_catalog.json_to_record($1::json) AS "
      "_a(\"org_id\" uuid), LATERAL \"switchboard\".\"is_member\"(\"org_id\" := _a.\"org_id\") _r");
  auto s = fn("list", {{"a", "integer", true}}, true);
  EXPECT_EQ(sb::call_sql("switchboard", s, {}),
            "SELECT coalesce(pg_catalog.json_agg(_r), '[]')::text, pg_catalog.count(*) FROM "
            "\"switchboard\".\"list\"() _r");
  auto b = fn("body", {{"", "jsonb", false}});
  EXPECT_EQ(sb::call_sql("switchboard", b, {"x"}),
            "SELECT pg_catalog.to_json(_r)::text FROM \"switchboard\".\"body\"($1::jsonb) _r");
  EXPECT_EQ(sb::quote_ident("a\"b"), "\"a\"\"b\"");
}

TEST(CallSql, WritesTimeColumnsAsAnswersDo) {
  auto rows = fn("list_members", {{"org_id", "uuid", false}}, true);
  rows.columns = std::vector<std::string>{"user_id", "joined_at"};
  rows.time_columns = {"joined_at"};
  EXPECT_EQ(sb::call_sql("switchboard", rows, {}),
            "SELECT coalesce(pg_catalog.json_agg(_r), '[]')::text, pg_catalog.count(*) FROM "
            "(SELECT _c.\"user_id\", \"switchboard\".answer_time(_c.\"joined_at\") AS "
            "\"joined_at\" FROM \"switchboard\".\"list_members\"() _c) _r");
  auto scalar = fn("now_at", {});
  scalar.time_columns = {"now_at"};
  EXPECT_EQ(sb::call_sql("switchboard", scalar, {}),
            "SELECT pg_catalog.to_json(_r.\"now_at\")::text FROM (SELECT "
            "\"switchboard\".answer_time(_c.\"now_at\") AS \"now_at\" FROM "
            "\"switchboard\".\"now_at\"() AS _c(\"now_at\")) _r");
}

TEST(AnswerStatus, ReasonsListedByTheRouteGetTheirStatus) {
  std::map<std::string, int> statuses{{"EXPIRED", 410}, {"CREATED", 201}};
  EXPECT_EQ(sb::answer_status(R"({"success": false, "reason": "EXPIRED"})", statuses), 410);
  EXPECT_EQ(sb::answer_status(R"({"reason": "CREATED", "config": {"reason": "x"}})", statuses),
            201);
  EXPECT_EQ(sb::answer_status(R"({"reason": "OTHER"})", statuses), 200);
  EXPECT_EQ(sb::answer_status(R"({"reason": 410})", statuses), 200);
  EXPECT_EQ(sb::answer_status(R"([{"reason": "EXPIRED"}])", statuses), 200);
  EXPECT_EQ(sb::answer_status("not json", statuses), 200);
  EXPECT_EQ(sb::answer_status(R"({"reason": "EXPIRED"})", {}), 200);
}

}  // namespace
