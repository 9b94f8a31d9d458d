// switchboard-shim over real HTTP against the test cluster: JWT, role switching by RLS, /rpc
// argument mapping, REST routes, errors, limits, metrics, logs, database restarts and draining.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/http/http_crypto.hpp"
#include "core/http/http_jwt_verify.hpp"
#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::bearer;
using sbtest::Connection;
using sbtest::Env;
using sbtest::Shim;

class ShimTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sbtest::ensure_shim_fixtures(); }
};

std::string post_json(Shim& shim, const std::string& path, const std::string& body, int& status,
                      const std::string& token = "") {
  auto res = shim.client().Post(path.c_str(), token.empty() ? httplib::Headers{} : bearer(token),
                                body, "application/json");
  status = res ? res->status : 0;
  return res ? res->body : "";
}

// ---------------------------------------------------------------------------------------------
// JWT

TEST_F(ShimTest, Hs256TokenActsAsItsUser) {
  Shim shim;
  Connection admin;
  std::string user = sbtest::new_uuid(admin);
  auto res = shim.client().Post("/rpc/shimtest_whoami", bearer(sbtest::token(user)), "{}",
                                "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json who = json::parse(res->body);
  EXPECT_EQ(who["role"], "authenticated");
  EXPECT_EQ(who["sub"], user);
  EXPECT_EQ(who["method"], "POST");
  EXPECT_EQ(who["path"], "/rpc/shimtest_whoami");
  EXPECT_EQ(who["readOnly"], "on");  // STABLE functions run read-only
  EXPECT_FALSE(who["headers"].contains("authorization"));
  EXPECT_EQ(who["headers"]["content-type"], "application/json");
}

TEST_F(ShimTest, NoTokenIsAnon) {
  Shim shim;
  auto res = shim.client().Get("/rpc/shimtest_whoami");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["role"], "anon");
}

TEST_F(ShimTest, Rs256AndEs256ViaJwks) {
  auto rsa = sb::generate_key("RSA");
  auto ec = sb::generate_key("EC");
  json keys = json::parse(sb::jwks_of(rsa, "rsa-1"))["keys"];
  keys.push_back(json::parse(sb::jwks_of(ec, "ec-1"))["keys"][0]);
  sbtest::TempFile jwks(json{{"keys", keys}}.dump());
  Shim shim(
      Env{{"SWITCHBOARD_JWKS_FILE", jwks.path()}, {"SWITCHBOARD_JWT_AUDIENCE", "authenticated"}});
  long now = static_cast<long>(std::time(nullptr));
  json claims = {{"role", "authenticated"},
                 {"aud", "authenticated"},
                 {"sub", "00000000-0000-4000-8000-00000000beef"},
                 {"exp", now + 600}};
  for (auto [alg, key, kid] :
       {std::tuple{"RS256", rsa, "rsa-1"}, std::tuple{"ES256", ec, "ec-1"}}) {
    auto res =
        shim.client().Get("/rpc/shimtest_whoami", bearer(sb::sign_jwt(alg, key, kid, claims)));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << alg << " " << res->body;
    EXPECT_EQ(json::parse(res->body)["role"], "authenticated") << alg;
  }
  auto stranger = sb::generate_key("EC");
  auto res = shim.client().Get("/rpc/shimtest_whoami",
                               bearer(sb::sign_jwt("ES256", stranger, "ec-1", claims)));
  EXPECT_EQ(res->status, 401);
  auto hs = shim.client().Get("/rpc/shimtest_whoami", bearer(sbtest::token("")));
  EXPECT_EQ(hs->status, 200);  // the HS256 secret stays accepted next to the JWKS
}

// Tokens that must be refused, each with the claims or parts that make it wrong.
std::vector<std::pair<std::string, std::string>> bad_tokens() {
  long now = static_cast<long>(std::time(nullptr));
  auto sign = [](json c, const std::string& secret = sbtest::kJwtSecret) {
    return sb::sign_hs256(c.dump(), secret);
  };
  json base = {{"role", "service_role"}, {"aud", "authenticated"}, {"exp", now + 600}};
  std::vector<std::pair<std::string, std::string>> out;
  json expired = base, future = base, audience = base;
  expired["exp"] = now - 60;
  future["nbf"] = now + 120;
  audience["aud"] = "somebody-else";
  out.emplace_back("expired", sign(expired));
  out.emplace_back("not yet valid", sign(future));
  out.emplace_back("wrong audience", sign(audience));
  out.emplace_back("alg none", sb::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                                   sb::base64url_encode(base.dump()) + ".");
  std::string good =
      sign(json{{"role", "authenticated"}, {"aud", "authenticated"}, {"exp", now + 600}});
  out.emplace_back("tampered payload", good.substr(0, good.find('.') + 1) +
                                           sb::base64url_encode(base.dump()) +
                                           good.substr(good.rfind('.')));
  out.emplace_back("wrong key", sign(base, "a-completely-different-secret-of-32-bytes"));
  out.emplace_back("garbage", "not-a-jwt");
  return out;
}

TEST_F(ShimTest, BadTokensAre401AndNothingRuns) {
  Shim shim(Env{{"SWITCHBOARD_JWT_AUDIENCE", "authenticated"}});
  Connection admin;
  for (const auto& [why, token] : bad_tokens()) {
    std::string slug = "never-" + admin.must("select substr(md5(random()::text), 1, 10)").value();
    auto res = shim.client().Post("/rpc/create_organization", bearer(token),
                                  json{{"name", "x"}, {"slug", slug}}.dump(), "application/json");
    ASSERT_TRUE(res) << why;
    EXPECT_EQ(res->status, 401) << why << ": " << res->body;
    EXPECT_EQ(json::parse(res->body)["code"], "PGRST301") << why;
    EXPECT_NE(res->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos) << why;
    EXPECT_EQ(admin.must("select count(*) from switchboard.organizations where slug = $1", {slug})
                  .value(),
              "0")
        << why;
  }
  auto basic = shim.client().Get("/rpc/shimtest_whoami", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  EXPECT_EQ(basic->status, 401);
}

// ---------------------------------------------------------------------------------------------
// Role switching, proven by row-level security

TEST_F(ShimTest, SameCallDifferentRowsPerOrgMemberNothingForAnon) {
  Connection admin;
  std::string alice = sbtest::new_uuid(admin), bob = sbtest::new_uuid(admin);
  std::string org_a = sbtest::new_org(admin, alice), org_b = sbtest::new_org(admin, bob);
  admin.must(
      "insert into public.shimtest_notes (org_id, body) values ($1, 'a1'), ($1, 'a2'), ($2, 'b1')",
      {org_a, org_b});
  Shim shim;
  auto rows = [&](const std::string& token) {
    auto res = shim.client().Get("/rpc/shimtest_notes",
                                 token.empty() ? httplib::Headers{} : bearer(token));
    EXPECT_EQ(res->status, 200) << res->body;
    std::vector<std::string> bodies;
    for (const auto& row : json::parse(res->body)) bodies.push_back(row["body"]);
    return bodies;
  };
  EXPECT_EQ(rows(sbtest::token(alice)), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(rows(sbtest::token(bob)), (std::vector<std::string>{"b1"}));
  EXPECT_TRUE(rows("").empty());
  EXPECT_TRUE(rows(sbtest::token(sbtest::new_uuid(admin))).empty());
}

// ---------------------------------------------------------------------------------------------
// /rpc argument mapping

TEST_F(ShimTest, RpcNamedArgumentsAndDefaults) {
  Shim shim;
  int status = 0;
  EXPECT_EQ(post_json(shim, "/rpc/shimtest_add", R"({"a": 1})", status), "11");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(post_json(shim, "/rpc/shimtest_add", R"({"a": 1, "b": 2})", status), "3");
  EXPECT_EQ(post_json(shim, "/rpc/shimtest_add", R"({"b": 2, "a": 40})", status), "42");
  post_json(shim, "/rpc/shimtest_add", R"({"a": 1, "c": 2})", status);
  EXPECT_EQ(status, 404);  // no overload takes c
  post_json(shim, "/rpc/shimtest_add", R"({"b": 2})", status);
  EXPECT_EQ(status, 404);  // a has no default
  post_json(shim, "/rpc/shimtest_add", R"({"a": "x"})", status);
  EXPECT_EQ(status, 400);  // 22P02
  post_json(shim, "/rpc/shimtest_add", R"([1, 2])", status);
  EXPECT_EQ(status, 400);
  post_json(shim, "/rpc/shimtest_add", R"({"a": )", status);
  EXPECT_EQ(status, 400);
}

TEST_F(ShimTest, RpcSingleJsonParameterGetsTheWholeBody) {
  Shim shim;
  int status = 0;
  std::string body = R"({"x": [1, 2, {"y": null}], "z": "text"})";
  EXPECT_EQ(json::parse(post_json(shim, "/rpc/shimtest_echo", body, status)), json::parse(body));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(json::parse(post_json(shim, "/rpc/shimtest_echo", "[1, 2, 3]", status)),
            json::parse("[1,2,3]"));
}

TEST_F(ShimTest, RpcGetForStableFunctionsOnly) {
  Shim shim;
  auto res = shim.client().Get("/rpc/shimtest_add?a=5");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "15");
  res = shim.client().Get("/rpc/shimtest_add?a=5&b=6");
  EXPECT_EQ(res->body, "11");
  res = shim.client().Get("/rpc/shimtest_touch?note=hi");
  EXPECT_EQ(res->status, 405);
  int status = 0;
  EXPECT_EQ(post_json(shim, "/rpc/shimtest_touch", R"({"note": "hi"})", status), "\"HI\"");
  EXPECT_EQ(status, 200);
}

TEST_F(ShimTest, RpcUnknownOrNotExecutableIs404) {
  Shim shim;
  Connection admin;
  int status = 0;
  post_json(shim, "/rpc/no_such_function", "{}", status);
  EXPECT_EQ(status, 404);
  post_json(shim, "/rpc/shimtest_secret", "{}", status);
  EXPECT_EQ(status, 404);  // granted to nobody
  post_json(shim, "/rpc/shimtest_secret", "{}", status, sbtest::token(sbtest::new_uuid(admin)));
  EXPECT_EQ(status, 404);
  post_json(shim, "/rpc/create_organization", R"({"name": "x", "slug": "x"})", status);
  EXPECT_EQ(status, 404);  // authenticated only
  post_json(shim, "/rpc/pg_sleep", R"({"seconds": 1})", status);
  EXPECT_EQ(status, 404);  // not in schema switchboard
  auto service =
      shim.client().Post("/rpc/shimtest_secret", bearer(sbtest::token("", "", "service_role")),
                         "{}", "application/json");
  EXPECT_EQ(service->status, 404);  // service_role has no grant either
}

TEST_F(ShimTest, RpcVoidIs204AndSetsAreArrays) {
  Shim shim;
  int status = 0;
  EXPECT_EQ(post_json(shim, "/rpc/shimtest_nothing", "", status), "");
  EXPECT_EQ(status, 204);
  EXPECT_EQ(post_json(shim, "/rpc/shimtest_notes", "", status), "[]");
  EXPECT_EQ(status, 200);
}

TEST_F(ShimTest, NewFunctionsAppearWithoutRestart) {
  Shim shim;
  int status = 0;
  post_json(shim, "/rpc/shimtest_late", "{}", status);
  EXPECT_EQ(status, 404);
  Connection admin;
  admin.must(
      "create or replace function switchboard.shimtest_late() returns text language sql as 'select "
      "''late'''");
  admin.must("grant execute on function switchboard.shimtest_late() to anon");
  std::string body;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    body = post_json(shim, "/rpc/shimtest_late", "{}", status);
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "\"late\"");
  admin.must("drop function switchboard.shimtest_late()");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_F(ShimTest, SqlstatesMapToStatuses) {
  Shim shim;
  Connection admin;
  std::string user_token = sbtest::token(sbtest::new_uuid(admin));
  struct Case {
    const char* state;
    int anon;
    int user;
  };
  for (auto c : {Case{"22023", 400, 400}, Case{"22P02", 400, 400}, Case{"23502", 400, 400},
                 Case{"42501", 401, 403}, Case{"P0002", 404, 404}, Case{"23505", 409, 409},
                 Case{"23P01", 409, 409}, Case{"40001", 503, 503}, Case{"40P01", 503, 503},
                 Case{"P0001", 400, 400}, Case{"XX000", 500, 500}, Case{"42P17", 500, 500}}) {
    for (bool anon : {true, false}) {
      int status = 0;
      std::string body = post_json(shim, "/rpc/shimtest_raise", json{{"state", c.state}}.dump(),
                                   status, anon ? "" : user_token);
      EXPECT_EQ(status, anon ? c.anon : c.user) << c.state << " " << body;
      json error = json::parse(body);
      if (status == 500) {  // the request id only: no SQLSTATE, message, detail or hint
        EXPECT_EQ(error["code"], "SB500");
        EXPECT_EQ(error["message"], "internal server error") << c.state;
        EXPECT_TRUE(error["details"].is_null());
        EXPECT_EQ(body.find("raised"), std::string::npos);
        EXPECT_NE(error["hint"].get<std::string>().find("request id "), std::string::npos);
        continue;
      }
      EXPECT_EQ(error["code"], c.state);
      if (std::string(c.state) != "P0001") {
        EXPECT_EQ(error["message"], std::string("raised ") + c.state);
        EXPECT_EQ(error["details"], std::string("detail of ") + c.state);
        EXPECT_EQ(error["hint"], std::string("hint of ") + c.state);
      }
    }
  }
  auto res = shim.client().Post("/rpc/shimtest_raise", R"({"state": "40001"})", "application/json");
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
}

TEST_F(ShimTest, UnknownPathsAndMethodsAreJsonErrors) {
  Shim shim;
  auto res = shim.client().Get("/nowhere/at/all");
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["code"], "SB404");
  res = shim.client().Get("/nowhere");  // PostgREST's path of a table
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["code"], "PGRST205");
  res = shim.client().Delete("/api/organizations");
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, POST");
  res = shim.client().Get("/api/nothing/here");
  EXPECT_EQ(res->status, 404);
}

// PostgREST's /<table>: the shim serves functions and routes, and the 404 names them.
TEST_F(ShimTest, TablesAreNotServedAndThe404SaysWhatServesThem) {
  Shim shim;
  auto res = shim.client().Get("/organization_members?select=*");
  ASSERT_EQ(res->status, 404);
  json error = json::parse(res->body);
  EXPECT_EQ(error["code"], "PGRST205");
  EXPECT_NE(error["message"].get<std::string>().find("does not serve tables"), std::string::npos);
  EXPECT_NE(error["hint"].get<std::string>().find("Supabase"), std::string::npos);
  res = shim.client().Get("/shimtest_notes");  // not in schema switchboard
  EXPECT_EQ(json::parse(res->body)["message"],
            "could not find the table switchboard.shimtest_notes in the schema cache");
}

// A wrong method on a known path is 405 naming the allowed ones in Allow.
TEST_F(ShimTest, MethodNotAllowedCarriesAllow) {
  Shim shim;
  auto client = shim.client();
  auto res = client.Post("/healthz", "{}", "application/json");
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
  res = client.Get("/webhooks/stripe");
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  res = client.Put("/rpc/shimtest_add", R"({"a": 1})", "application/json");
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, POST");
  res = client.Get("/rpc/shimtest_touch?note=x");
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
}

// CORS: allowed origins (SWITCHBOARD_CORS_ORIGINS) get their preflight and the headers a browser
// needs; others are refused with the setting named.
TEST_F(ShimTest, CorsForAllowedOriginsOnly) {
  Shim shim(
      Env{{"SWITCHBOARD_CORS_ORIGINS", "https://app.example.com, https://admin.example.com"}});
  auto client = shim.client();
  httplib::Headers preflight = {{"Origin", "https://app.example.com"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization, content-type"}};
  auto res = client.Options("/rpc/shimtest_add", preflight);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_NE(res->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Headers"), "authorization, content-type");
  res = client.Get("/rpc/shimtest_add?a=1", {{"Origin", "https://admin.example.com"}});
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://admin.example.com");
  EXPECT_NE(res->get_header_value("Access-Control-Expose-Headers").find("Content-Range"),
            std::string::npos);
  preflight.erase("Origin");
  preflight.emplace("Origin", "https://evil.example.com");
  res = client.Options("/rpc/shimtest_add", preflight);
  EXPECT_EQ(res->status, 403);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  EXPECT_NE(res->body.find("SWITCHBOARD_CORS_ORIGINS"), std::string::npos);
  res = client.Get("/rpc/shimtest_add?a=1", {{"Origin", "https://evil.example.com"}});
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
}

// RFC 9112: no Content-Length and no chunking is an empty body; the call runs at once.
TEST_F(ShimTest, BodylessPostWithoutContentLengthRunsAtOnce) {
  Shim shim;
  for (const char* path :
       {"/rpc/shimtest_nothing", "/api/appointments/x/confirm", "/webhooks/stripe"}) {
    sbtest::RawSocket raw(shim.port());
    auto start = std::chrono::steady_clock::now();
    raw.send_text(std::string("POST ") + path + " HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
    std::string answer = raw.receive(5);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << path;
    EXPECT_EQ(answer.rfind("HTTP/1.1 ", 0), 0u) << path;
    EXPECT_EQ(answer.find("HTTP/1.1 408"), std::string::npos) << answer;
    if (std::string(path) == "/rpc/shimtest_nothing") {
      EXPECT_EQ(answer.rfind("HTTP/1.1 204", 0), 0u) << answer;
    }
  }
}

// Every answer carries X-Request-Id (the client's when usable); a 500 tells the client only that
// id, and the log line says the id, SQLSTATE, message, route and user.
TEST_F(ShimTest, RequestIdsAndWhatFailuresLog) {
  Shim shim;
  auto client = shim.client();
  auto res = client.Get("/healthz", {{"X-Request-Id", "trace-42.a:b_c"}});
  EXPECT_EQ(res->get_header_value("X-Request-Id"), "trace-42.a:b_c");
  res = client.Get("/nowhere/at/all", {{"X-Request-Id", "not ok\u00e9"}});
  std::string made = res->get_header_value("X-Request-Id");
  EXPECT_EQ(made.size(), 32u);
  Connection admin;
  std::string user = sbtest::new_uuid(admin);
  res = client.Post("/rpc/shimtest_raise", bearer(sbtest::token(user)), R"({"state": "XX000"})",
                    "application/json");
  ASSERT_EQ(res->status, 500);
  std::string id = res->get_header_value("X-Request-Id");
  EXPECT_NE(json::parse(res->body)["hint"].get<std::string>().find(id), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  bool failure = false, unmatched = false;
  std::istringstream lines(shim.output());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("switchboard-shim: ", 0) == 0) continue;
    json entry = json::parse(line);  // every other line is JSON
    if (entry["request_id"] == id) {
      failure = true;
      EXPECT_EQ(entry["sqlstate"], "XX000");
      EXPECT_EQ(entry["error"], "raised XX000");
      EXPECT_EQ(entry["route"], "/rpc/shimtest_raise");
      EXPECT_EQ(entry["sub"], user);
      EXPECT_EQ(entry["status"], 500);
    }
    if (entry["request_id"] == made) {
      unmatched = true;
      EXPECT_EQ(entry["route"], "unmatched");
      EXPECT_EQ(entry["path"], "/nowhere/at/all");
    }
  }
  EXPECT_TRUE(failure && unmatched) << shim.output();
}

// The OpenAPI document is made once per role and schema version: a change the schema cache is not
// told of (the extension's version, changed in the catalog) does not show until the routes change.
TEST_F(ShimTest, OpenApiIsCachedUntilTheRoutesChange) {
  Shim shim;
  Connection admin;
  auto version = [&] {
    auto res = shim.client().Get("/openapi.json");
    return res && res->status == 200 ? json::parse(res->body)["info"]["version"] : json();
  };
  std::string before = version();
  admin.must("update pg_extension set extversion = '9.9.9-cache' where extname = 'switchboard'");
  EXPECT_EQ(version(), before);  // served from the cache
  admin.must("delete from switchboard.api_routes where path = '/api/shimtest/openapi'");
  admin.must(
      "insert into switchboard.api_routes (method, path, function_name, org_arg, area) values "
      "('GET', '/api/shimtest/openapi', 'shimtest_add', NULL, 'test')");
  json now;
  for (int i = 0; i < 200 && now != "9.9.9-cache"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    now = version();
  }
  admin.must("update pg_extension set extversion = $1 where extname = 'switchboard'", {before});
  admin.must("delete from switchboard.api_routes where path = '/api/shimtest/openapi'");
  EXPECT_EQ(now, "9.9.9-cache");  // made anew after the routes changed
}

// ---------------------------------------------------------------------------------------------
// REST routes from switchboard.api_routes

// A route that acts for the caller's organisation, called without a token: 401 saying a token is
// needed (RFC 6750's bare Bearer challenge), never 404 "function not found"; with a token it runs.
TEST_F(ShimTest, MemberRoutesWithoutATokenAre401) {
  Shim shim;
  auto client = shim.client();
  auto get = client.Get("/api/features");
  auto post = client.Post("/api/features/consume", R"({"feature": "calls"})", "application/json");
  for (auto* res : {&*get, &*post}) {
    EXPECT_EQ(res->status, 401) << res->body;
    json error = json::parse(res->body);
    EXPECT_EQ(error["code"], "PGRST302");
    EXPECT_NE(error["message"].get<std::string>().find("signed-in member"), std::string::npos);
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  }
}

TEST_F(ShimTest, OrganizationRoutes) {
  Shim shim;
  Connection admin;
  std::string owner = sbtest::new_uuid(admin), agent = sbtest::new_uuid(admin);
  std::string slug = "route-" + admin.must("select substr(md5(random()::text), 1, 10)").value();
  auto client = shim.client();
  auto res = client.Post("/api/organizations", bearer(sbtest::token(owner)),
                         json{{"name", "Route Clinic"}, {"slug", slug}}.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  std::string org = json::parse(res->body);
  std::string members = "/api/organizations/" + org + "/members";
  res = client.Post(members.c_str(), bearer(sbtest::token(owner)),
                    json{{"user_id", agent}, {"role", "agent"}}.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["reason"], "ADDED");
  res = client.Get(members.c_str(), bearer(sbtest::token(agent)));
  ASSERT_EQ(res->status, 200) << res->body;
  json list = json::parse(res->body);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["role"], "owner");
  EXPECT_EQ(list[1]["user_id"], agent);
  res = client.Patch((members + "/" + agent).c_str(), bearer(sbtest::token(owner)),
                     R"({"role": "manager"})", "application/json");
  EXPECT_EQ(json::parse(res->body)["previousRole"], "agent");
  res = client.Get(members.c_str(), bearer(sbtest::token(sbtest::new_uuid(admin))));
  EXPECT_EQ(res->status, 404);  // not a member: the organisation is invisible
  res = client.Get(members.c_str());
  EXPECT_EQ(res->status, 401);  // anon may not call list_members
  res = client.Delete((members + "/" + agent).c_str(), bearer(sbtest::token(owner)));
  EXPECT_EQ(json::parse(res->body)["reason"], "REMOVED");
  res = client.Post("/api/organizations", bearer(sbtest::token(owner)),
                    json{{"name", "Again"}, {"slug", slug}}.dump(), "application/json");
  EXPECT_EQ(res->status, 409);
}

// The entitlement routes act on the organisation of the caller's JWT.
TEST_F(ShimTest, FeatureRoutes) {
  Shim shim;
  Connection admin;
  std::string owner = sbtest::new_uuid(admin);
  std::string org = sbtest::new_org(admin, owner);
  admin.must("select switchboard.set_subscription($1, 'ai_powered_elite')", {org});
  std::string token = sbtest::token(owner, org);
  auto client = shim.client();
  auto res = client.Get("/api/features", bearer(token));
  ASSERT_EQ(res->status, 200) << res->body;
  json matrix = json::parse(res->body);
  EXPECT_EQ(matrix["predictive_dialing"], true);
  EXPECT_EQ(matrix["white_label_capabilities"], false);
  int status = 0;
  json check = json::parse(post_json(shim, "/api/features/check",
                                     R"({"feature": "calls", "quantity": 2})", status, token));
  ASSERT_EQ(status, 200);
  EXPECT_EQ(check["hasAccess"], true);
  EXPECT_EQ(check["reason"], "PLAN");
  std::string consume = R"({"feature": "calls", "quantity": 3, "idempotency_key": "route-k1"})";
  json first = json::parse(post_json(shim, "/api/features/consume", consume, status, token));
  json again = json::parse(post_json(shim, "/api/features/consume", consume, status, token));
  EXPECT_EQ(first["used"], 3);
  EXPECT_FALSE(first.contains("replayed"));
  EXPECT_EQ(again["replayed"], true);
  again.erase("replayed");
  EXPECT_EQ(again, first);  // replayed, not counted twice
  res = client.Put("/api/features/predictive_dialing", bearer(token),
                   R"({"enabled": false, "reason": "route test"})", "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  check = json::parse(post_json(shim, "/api/features/check", R"({"feature": "predictive_dialing"})",
                                status, token));
  EXPECT_EQ(check["reason"], "OVERRIDE_DISABLED");
  res = client.Get("/api/features");  // the route acts for the caller's organisation: a token first
  EXPECT_EQ(res->status, 401);
}

// A new organisation, its owner's token and a calendar of it open around the clock, in UTC.
struct OwnedCalendar {
  std::string owner, org, calendar, token;
};

OwnedCalendar owned_calendar(Connection& admin) {
  OwnedCalendar c;
  c.owner = sbtest::new_uuid(admin);
  c.org = sbtest::new_org(admin, c.owner);
  c.token = sbtest::token(c.owner, c.org);
  c.calendar = admin
                   .must(
                       "select switchboard.create_calendar($1, 'Front desk', 'UTC', "
                       "'{\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],"
                       "\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],"
                       "\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
                       "\"sun\":[[\"00:00\",\"24:00\"]]}')",
                       {c.org})
                   .value();
  return c;
}

// The appointment routes: slots, book, move, cancel, all in the JWT's organisation.
TEST_F(ShimTest, AppointmentRoutes) {
  Shim shim;
  Connection admin;
  auto [owner, org, calendar, token] = owned_calendar(admin);
  auto client = shim.client();
  std::string from = admin
                         .must(
                             "select to_char(date_trunc('day', now()) + interval '2 days', "
                             "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
                         .value();
  std::string to = admin
                       .must(
                           "select to_char(date_trunc('day', now()) + interval '3 days', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
                       .value();
  auto res = client.Get(
      ("/api/calendars/" + calendar + "/slots?from=" + from + "&to=" + to).c_str(), bearer(token));
  ASSERT_EQ(res->status, 200) << res->body;
  json slots = json::parse(res->body);
  ASSERT_GE(slots.size(), 4u);
  int status = 0;
  json booked = json::parse(post_json(
      shim, "/api/appointments",
      json{
          {"calendar_id", calendar}, {"starts_at", slots[0]["starts_at"]}, {"duration_minutes", 30}}
          .dump(),
      status, token));
  ASSERT_EQ(status, 200) << booked.dump();
  ASSERT_EQ(booked["booked"], true);
  // One rule for times: the slot listing and the answer write the same time the same way.
  EXPECT_EQ(booked["startsAt"], slots[0]["starts_at"]);
  EXPECT_EQ(booked["endsAt"], slots[0]["ends_at"]);
  std::string id = booked["appointmentId"];
  res = client.Patch(("/api/appointments/" + id).c_str(), bearer(token),
                     json{{"starts_at", slots[3]["starts_at"]}}.dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["startsAt"], slots[3]["starts_at"]);
  res = client.Delete(("/api/appointments/" + id).c_str(), bearer(token));
  ASSERT_EQ(res->status, 200) << res->body;
  // Cancelling again is a replay of the idempotent command: it says so, with no alternatives.
  res = client.Delete(("/api/appointments/" + id).c_str(), bearer(token));
  ASSERT_EQ(res->status, 200) << res->body;
  json again = json::parse(res->body);
  EXPECT_EQ(again["reason"], "ALREADY_CANCELLED");
  EXPECT_EQ(again["replayed"], true);
  EXPECT_FALSE(again.contains("alternatives"));
  EXPECT_EQ(admin
                .must("select status from switchboard.appointments where org_id = $1 and id = $2",
                      {org, id})
                .value(),
            "cancelled");
}

// The outcome routes: a confirmed appointment that has started is completed or a no-show, once.
TEST_F(ShimTest, AppointmentOutcomeRoutes) {
  Shim shim;
  Connection admin;
  auto [owner, org, calendar, token] = owned_calendar(admin);
  auto ids = admin.must(
      "insert into switchboard.appointments (org_id, calendar_id, starts_at, ends_at, "
      "block_start, block_end, status) select $1, $2, s, s + interval '30 minutes', s, "
      "s + interval '30 minutes', 'confirmed' from (values (1), (2)) v(h), lateral (select "
      "date_trunc('hour', now()) - make_interval(hours => v.h) as s) x returning id",
      {org, calendar});
  ASSERT_EQ(ids.rows.size(), 2u);
  auto outcome = [&](const std::string& id, const std::string& route) {
    int status = 0;
    json answer =
        json::parse(post_json(shim, "/api/appointments/" + id + "/" + route, "{}", status, token));
    EXPECT_EQ(status, 200) << answer.dump();
    return answer;
  };
  const std::string done = ids.rows[0][0], gone = ids.rows[1][0];
  EXPECT_EQ(outcome(done, "complete")["reason"], "COMPLETED");
  EXPECT_EQ(outcome(done, "complete")["reason"], "ALREADY_COMPLETED");
  EXPECT_EQ(outcome(gone, "no-show")["reason"], "NO_SHOW");
  json refused = outcome(done, "no-show");
  EXPECT_EQ(refused["noShow"], false);
  EXPECT_EQ(refused["reason"], "INVALID_STATE");
  EXPECT_EQ(admin
                .must("select string_agg(status::text, ',' order by starts_at desc) from "
                      "switchboard.appointments where org_id = $1",
                      {org})
                .value(),
            "completed,no_show");
}

TEST_F(ShimTest, RouteAddedAsDataTakesTheOrgFromTheJwt) {
  Shim shim;
  Connection admin;
  std::string owner = sbtest::new_uuid(admin), other = sbtest::new_uuid(admin);
  std::string org = sbtest::new_org(admin, owner), other_org = sbtest::new_org(admin, other);
  admin.must("delete from switchboard.api_routes where path = '/api/shimtest/members'");
  admin.must(
      "insert into switchboard.api_routes (method, path, function_name, org_arg, summary, area) "
      "values ('GET', '/api/shimtest/members', 'list_members', 'org_id', 'test route', 'test')");
  EXPECT_EQ(admin.must("select count(*) from switchboard.api_route_problems()").value(), "0");
  int status = 0;
  std::string body;
  for (int i = 0; i < 100 && (status == 0 || status == 404); ++i) {  // routes reload on NOTIFY
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto res = shim.client().Get(("/api/shimtest/members?org_id=" + other_org).c_str(),
                                 bearer(sbtest::token(owner, org)));
    status = res->status;
    body = res->body;
  }
  ASSERT_EQ(status, 200) << body;
  json list = json::parse(body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["user_id"], owner);  // the JWT's org, not the query's
  admin.must("delete from switchboard.api_routes where path = '/api/shimtest/members'");
}

TEST_F(ShimTest, OpenApiDocumentsRoutesAndFunctions) {
  Shim shim(Env{{"SWITCHBOARD_PUBLIC_URL", "https://api.example.com"}});
  auto res = shim.client().Get("/openapi.json");
  ASSERT_EQ(res->status, 200) << res->body;
  json doc = json::parse(res->body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_EQ(doc["servers"][0]["url"], "https://api.example.com");
  auto& members = doc["paths"]["/api/organizations/{id}/members"];
  EXPECT_EQ(members["get"]["parameters"][0]["name"], "id");
  EXPECT_EQ(members["get"]["parameters"][0]["in"], "path");
  EXPECT_TRUE(members["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
                  .contains("role"));
  EXPECT_TRUE(doc["paths"].contains("/rpc/is_member"));
  EXPECT_FALSE(doc["paths"].contains("/rpc/create_organization"));  // anon may not execute it
}

// ---------------------------------------------------------------------------------------------
// Limits, health, metrics and logs

TEST_F(ShimTest, BodyOverTheLimitIs413BeforeItIsRead) {
  Shim shim(Env{{"SWITCHBOARD_MAX_BODY_BYTES", "1024"}});
  int status = 0;
  post_json(shim, "/rpc/shimtest_echo", json{{"x", std::string(2000, 'a')}}.dump(), status);
  EXPECT_EQ(status, 413);
  post_json(shim, "/rpc/shimtest_echo", json{{"x", std::string(900, 'a')}}.dump(), status);
  EXPECT_EQ(status, 200);
  sbtest::RawSocket raw(shim.port());
  auto start = std::chrono::steady_clock::now();
  raw.send_text(
      "POST /rpc/shimtest_echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 104857600\r\n\r\n{\"x\":");
  std::string answer = raw.receive(5);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  sbtest::RawSocket chunked(shim.port());
  std::string chunk(1500, 'a');
  chunked.send_text(
      "POST /rpc/shimtest_echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5dc\r\n" +
      chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.receive(5).rfind("HTTP/1.1 413", 0), 0u);
}

// A POST of `body` to the echo function on a raw connection (headers only when `expect`).
std::string echo_request(const std::string& body, bool expect) {
  return "POST /rpc/shimtest_echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         std::string(expect ? "Expect: 100-continue\r\n" : "") +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + (expect ? "" : body);
}

TEST_F(ShimTest, KeptAliveConnectionsContinuePipelineAndLargeAnswers) {
  Shim shim;
  sbtest::RawSocket raw(shim.port());
  std::string small = R"({"n": 1})";
  raw.send_text(echo_request(small, true));
  EXPECT_EQ(raw.receive(5), "HTTP/1.1 100 Continue\r\n\r\n");  // before the body is sent
  raw.send_text(small);
  std::string answer = raw.receive(5);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_EQ(answer.substr(answer.size() - small.size()), small);
  raw.send_text(echo_request(R"({"n": 2})", false) + echo_request(R"({"n": 3})", false));
  std::string both = raw.receive(5);
  both += both.find(R"({"n": 3})") == std::string::npos ? raw.receive(5) : "";
  EXPECT_LT(both.find(R"({"n": 2})"), both.find(R"({"n": 3})")) << both;
  std::string large = R"({"x": ")" + std::string(300000, 'a') + R"("})";  // as jsonb writes it
  raw.send_text(echo_request(large, false));
  answer = raw.receive(5);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(answer.substr(answer.find("\r\n\r\n") + 4), large);
}

TEST_F(ShimTest, IdleAndSlowClientsTimeOut) {
  Shim shim(
      Env{{"SWITCHBOARD_CLIENT_TIMEOUT_SECONDS", "1"}, {"SWITCHBOARD_KEEP_ALIVE_SECONDS", "1"}});
  sbtest::RawSocket slow(shim.port());
  slow.send_text("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // headers never finish
  EXPECT_TRUE(slow.closed_by_peer(5));
  sbtest::RawSocket idle(shim.port());
  EXPECT_TRUE(idle.closed_by_peer(5));
}

TEST_F(ShimTest, ReadyzFollowsTheDatabase) {
  Shim up;
  EXPECT_EQ(up.client().Get("/readyz")->status, 200);
  Shim down(Env{{"SWITCHBOARD_DATABASE_URL", "host=127.0.0.1 port=1 user=nobody dbname=nothing"}});
  auto res = down.client().Get("/readyz");
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
  EXPECT_EQ(down.client().Get("/healthz")->status, 200);
  EXPECT_EQ(down.client().Post("/rpc/is_member", "{}", "application/json")->status, 503);
  // Every line is JSON or a "switchboard-shim: " note, the outage included.
  std::istringstream lines(down.output());
  bool outage = false;
  for (std::string line; std::getline(lines, line);) {
    bool note = line.rfind("switchboard-shim: ", 0) == 0;
    EXPECT_TRUE(note || json::accept(line)) << line;
    outage = outage || (note && line.find("database outage") != std::string::npos);
  }
  EXPECT_TRUE(outage) << down.output();
}

TEST_F(ShimTest, MetricsCountRequestsAndPool) {
  Shim shim;
  shim.client().Get("/rpc/shimtest_add?a=1");
  shim.client().Get("/nowhere");
  std::string text = shim.metrics();
  EXPECT_NE(
      text.find(
          R"(switchboard_http_requests_total{method="GET",route="/rpc/shimtest_add",status="200"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
  EXPECT_NE(text.find("switchboard_http_request_duration_seconds_bucket{method=\"GET\",route=\"/"
                      "rpc/shimtest_add\",le=\"+Inf\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE switchboard_db_pool_size gauge"), std::string::npos);
  auto value = [&](const std::string& series) {
    auto at = text.find("\n" + series + " ");  // a sample line, not its # HELP
    return at == std::string::npos ? -1 : std::stoi(text.substr(at + series.size() + 2));
  };
  int in_use = value("switchboard_db_pool_connections{state=\"in_use\"}");
  int idle = value("switchboard_db_pool_connections{state=\"idle\"}");
  int unconnected = value("switchboard_db_pool_connections{state=\"unconnected\"}");
  EXPECT_EQ(in_use, 0);
  EXPECT_GE(idle, 1);  // the call's connection (and the schema load's, when another)
  EXPECT_EQ(in_use + idle + unconnected, value("switchboard_db_pool_size")) << text;
  EXPECT_EQ(value("switchboard_db_pool_size"), 10);
}

TEST_F(ShimTest, OneJsonLogLinePerRequestWithoutTokensOrBodies) {
  Shim shim;
  Connection admin;
  std::string user = sbtest::new_uuid(admin);
  std::string org = sbtest::new_org(admin, user);
  std::string token = sbtest::token(user, org);
  shim.client().Post("/rpc/shimtest_touch", bearer(token), R"({"note": "very-private-body"})",
                     "application/json");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string out = shim.output();
  EXPECT_EQ(out.find(token.substr(token.rfind('.') + 1)), std::string::npos);
  EXPECT_EQ(out.find("very-private-body"), std::string::npos);
  EXPECT_EQ(out.find(sbtest::kJwtSecret), std::string::npos);
  bool found = false;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    json entry = json::parse(line);
    for (const char* key : {"time", "method", "route", "status", "duration_ms", "role", "org_id"})
      EXPECT_TRUE(entry.contains(key)) << key << " in " << line;
    if (entry["route"] == "/rpc/shimtest_touch") {
      found = true;
      EXPECT_EQ(entry["role"], "authenticated");
      EXPECT_EQ(entry["org_id"], org);
      EXPECT_EQ(entry["status"], 200);
    }
  }
  EXPECT_TRUE(found) << out;
}

TEST_F(ShimTest, MalformedRequestsNeverStopTheProcess) {
  Shim shim;
  for (const char* junk :
       {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
        "POST /rpc/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST /rpc/shimtest_echo HTTP/1.1\r\nContent-Length: 4\r\n\r\n\xff\xfe\x00\x01"}) {
    sbtest::RawSocket raw(shim.port());
    raw.send_text(junk);
    raw.receive(2);
  }
  int status = 0;
  post_json(shim, "/rpc/shimtest_echo", "{\"bad\": \"\xff\"}", status);
  EXPECT_EQ(status, 400);
  EXPECT_TRUE(shim.running());
  EXPECT_EQ(shim.client().Get("/healthz")->status, 200);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: database restart under load, SIGTERM drain

// After a restart every pooled connection is stale: each is found closed before a request is sent
// on it and replaced, so no request fails (each first request on a stale connection got 503).
TEST_F(ShimTest, StalePooledConnectionsAreReplacedBeforeUse) {
  if (!std::getenv("SB_TEST_HOME")) GTEST_SKIP() << "SB_TEST_HOME not set";
  Shim shim(Env{{"SWITCHBOARD_POOL_SIZE", "4"}});
  auto parallel = [&](const char* path, const char* body) {
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i)
      clients.emplace_back([&] {
        auto res = shim.client().Post(path, body, "application/json");
        ok += res && res->status == 200;
      });
    for (auto& t : clients) t.join();
    return ok.load();
  };
  ASSERT_EQ(parallel("/rpc/shimtest_sleep", R"({"seconds": 0.3})"), 4);  // 4 connections open
  ASSERT_TRUE(sbtest::restart_database());
  EXPECT_EQ(parallel("/rpc/shimtest_add", R"({"a": 1})"), 4);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(shim.client().Get("/rpc/shimtest_add?a=1")->status, 200);
  EXPECT_EQ(shim.client().Get("/readyz")->status, 200);
}

TEST_F(ShimTest, DatabaseRestartDuringLoadGives503ThenRecovers) {
  if (!std::getenv("SB_TEST_HOME")) GTEST_SKIP() << "SB_TEST_HOME not set";
  Shim shim(Env{{"SWITCHBOARD_POOL_SIZE", "4"}});
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, unavailable{0}, other{0}, ok_after{0};
  std::atomic<bool> restarted{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&] {
      auto client = shim.client();
      while (!stop) {
        auto res =
            client.Post("/rpc/is_member", R"({"org_id": "00000000-0000-4000-8000-000000000001"})",
                        "application/json");
        int status = res ? res->status : 0;
        if (status == 200)
          ++(restarted ? ok_after : ok);
        else if (status == 503 && res->get_header_value("Retry-After") == "1")
          ++unavailable;
        else
          ++other;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(sbtest::restart_database());
  restarted = true;
  for (int i = 0; i < 100 && ok_after < 50; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok, 0);
  EXPECT_GT(unavailable, 0);
  EXPECT_GE(ok_after, 50);
  EXPECT_EQ(other, 0);
  EXPECT_TRUE(shim.running());
}

TEST_F(ShimTest, SigtermDrainsInFlightRequestsAndExitsZero) {
  Shim shim;
  std::atomic<int> status{0};
  std::string body;
  std::thread slow([&] {
    auto res = shim.client().Post("/rpc/shimtest_sleep", R"({"seconds": 1.0})", "application/json");
    if (res) body = res->body;
    status = res ? res->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(shim.terminate(), 0);
  slow.join();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "\"slept\"");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_FALSE(httplib::Client("127.0.0.1", shim.port()).Get("/healthz"));  // no longer listening
}

}  // namespace
