// The shim's shared state and its request handlers: /rpc, the REST routes of api_routes,
// /openapi.json, health, metrics and inbound webhooks.
#pragma once

#include <chrono>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "auth.hpp"
#include "config.hpp"
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

// What the log line and the metrics of the request in progress on this thread report.
struct RequestState {
  std::chrono::steady_clock::time_point start;
  std::string route = "unmatched";
  std::string role;
  std::string org_id;
};
RequestState& current_request();

// One translated call: the function, its $1 argument text and the transaction mode.
struct Call {
  const sb::FunctionInfo* fn = nullptr;
  std::set<std::string> keys;
  std::string arg;
  bool read_only = false;
};

// Runs `call` as `who` in one transaction and writes the response. A function the role may not
// execute is answered with `denied_status`.
void execute(App& app, const httplib::Request& req, httplib::Response& res, const Identity& who,
             const Call& call, int denied_status);

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
void handle_ready(App& app, httplib::Response& res);
void handle_webhook(App& app, const httplib::Request& req, httplib::Response& res,
                    const std::string& body);

}  // namespace shim
