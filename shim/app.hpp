// The shim's shared state and its request handlers: /rpc, the REST routes of api_routes,
// /openapi.json, health, metrics and inbound webhooks.
#pragma once

#include <chrono>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "auth.hpp"
#include "core/http/http_pgrst.hpp"
#include "config.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "pool.hpp"
#include "schema.hpp"

namespace shim {

struct App {
  explicit App(Config c);

  Config config;
  Authenticator auth;
  Pool pool;
  SchemaCache schema;
  Metrics metrics;
};

// One translated call: the function, its $1 argument text and the transaction mode; for /rpc,
// PostgREST's read contract (select, filters, order, page, representation) and preferences.
struct Call {
  const sb::FunctionInfo* fn = nullptr;
  std::set<std::string> keys;
  std::string arg;
  bool read_only = false;
  std::optional<sb::ReadPlan> plan;  // read the result through read_sql
  sb::ReadOptions read;
  sb::Preferences prefer;
  const std::map<std::string, int>* statuses = nullptr;  // a route's answer reason -> status
};

// Runs `call` as `who` in one transaction and writes the response. A function the role may not
// execute is answered with `denied_status`.
void execute(App& app, const httplib::Request& req, httplib::Response& res, const Identity& who,
             const Call& call, int denied_status);

// The call of function `name` with the named arguments of `args`, or nothing (404 written).
std::optional<Call> resolve(const Schema& schema, const std::string& name,
                            const nlohmann::json& args, httplib::Response& res);

// What a function's result looks like to the read contract.
sb::ResultShape shape_of(const sb::FunctionInfo& fn);

// The cached API schema, or nothing (503 written, the cause logged) when it cannot be loaded.
std::shared_ptr<const Schema> schema_or_503(App& app, httplib::Response& res);

// The identity of the request (401 written and nothing returned when its token is refused).
std::shared_ptr<const Identity> identify(App& app, const httplib::Request& req,
                                         httplib::Response& res);

// The request body, read up to the limit; nothing when it is larger (413 written) or did not
// arrive complete and well-formed (400 written): such a request never runs.
std::optional<std::string> read_body(App& app, const httplib::ContentReader& reader,
                                     httplib::Response& res);

// Answers 400 for request JSON nested deeper than the configured depth, and counts it.
void refuse_deep_json(App& app, httplib::Response& res);

// The JSON of a request body ("" is {}), parsed with its nesting capped at
// SWITCHBOARD_MAX_JSON_DEPTH; nothing (400 written) when it is not JSON or nests deeper.
std::optional<nlohmann::json> body_json(App& app, const std::string& body, httplib::Response& res);

// The JSON object of a request body ("" is {}), or nothing (400 written) when it is not one.
std::optional<nlohmann::json> body_object(App& app, const std::string& body,
                                          httplib::Response& res);

void handle_rpc(App& app, const httplib::Request& req, httplib::Response& res,
                const std::string& body);
void handle_route(App& app, const httplib::Request& req, httplib::Response& res,
                  const std::string& body);
void handle_openapi(App& app, const httplib::Request& req, httplib::Response& res);
// Requests no endpoint took: 405 with Allow for a known path, 404 naming what serves a table for
// /<table>, else 404.
void handle_unmatched(App& app, const httplib::Request& req, httplib::Response& res);
// OPTIONS: a CORS preflight (allowed origins only) or the methods of the path.
void handle_options(App& app, const httplib::Request& req, httplib::Response& res);
// Adds the CORS headers of an allowed Origin to an answer.
void add_cors_headers(const App& app, const httplib::Request& req, httplib::Response& res);
void handle_ready(App& app, httplib::Response& res);
void handle_webhook(App& app, const httplib::Request& req, httplib::Response& res,
                    const std::string& body);

}  // namespace shim
