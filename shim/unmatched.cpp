// What no endpoint takes: OPTIONS (CORS preflights), wrong methods on known paths (405 with
// Allow), /<table> (PostgREST's table path: the shim serves no tables, the 404 says what serves
// the rows instead), and the rest (404).
#include <regex>

#include "app.hpp"
#include "errors.hpp"

namespace shim {
namespace {

constexpr const char* kAllMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr const char* kRequestHeaders =
    "Authorization, Content-Type, Accept, Prefer, Range, Range-Unit, Accept-Profile, "
    "Content-Profile, X-Request-Id, X-Client-Info, apikey";
constexpr const char* kExposedHeaders =
    "Content-Range, Preference-Applied, X-Request-Id, Retry-After, WWW-Authenticate, Allow";

// True when a browser page of `origin` may call the API (SWITCHBOARD_CORS_ORIGINS).
bool origin_allowed(const App& app, const std::string& origin) {
  for (const auto& allowed : app.config.cors_origins)
    if (allowed == "*" || allowed == origin) return true;
  return false;
}

// The methods of a fixed endpoint at `path`, or "".
std::string fixed_methods(const std::string& path) {
  static const std::regex webhook(R"(/webhooks/[A-Za-z0-9_-]+)");
  if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json")
    return "GET, HEAD";
  if (std::regex_match(path, webhook)) return "POST";
  return "";
}

// A list "a, b" of `names` with `prefix` before each, or `none`.
std::string listed(const std::vector<std::string>& names, const std::string& prefix,
                   const std::string& none) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + prefix + n;
  return out.empty() ? none : out;
}

// 404 for /<name>: a table the shim does not serve (with what serves it), or no such table.
void send_table_not_served(App& app, const std::string& name, httplib::Response& res) {
  auto schema = schema_or_503(app, res);
  if (!schema) return;
  const TableInfo* table = schema->table(name);
  if (!table)
    return send_error(res, 404, code::no_table,
                      "could not find the table switchboard." + name + " in the schema cache",
                      "The switchboard-shim serves no tables, only /rpc/{function}, /api/... and "
                      "/webhooks/{provider}.",
                      "See /openapi.json for the functions and routes.");
  send_error(res, 404, code::no_table,
             "switchboard-shim does not serve tables: switchboard." + name +
                 " is read through functions and routes",
             "The functions returning its rows are " + listed(table->functions, "/rpc/", "none") +
                 "; its routes are " + listed(table->routes, "", "none") + ".",
             "Supabase's own PostgREST serves the table when switchboard is an exposed schema "
             "(README, Supabase).");
}

}  // namespace

void add_cors_headers(const App& app, const httplib::Request& req, httplib::Response& res) {
  std::string origin = req.get_header_value("Origin");
  if (origin.empty() || !origin_allowed(app, origin)) return;
  res.set_header("Access-Control-Allow-Origin", origin);
  res.set_header("Vary", "Origin");
  res.set_header("Access-Control-Expose-Headers", kExposedHeaders);
}

void handle_options(App& app, const httplib::Request& req, httplib::Response& res) {
  current_request().route = "OPTIONS";
  std::string origin = req.get_header_value("Origin");
  if (!origin.empty() && req.has_header("Access-Control-Request-Method")) {
    if (!origin_allowed(app, origin))
      return send_error(res, 403, "SB403",
                        "cross-origin requests from " + origin + " are not allowed", "",
                        "Add the origin to SWITCHBOARD_CORS_ORIGINS (comma-separated, or *).");
    std::string asked = req.get_header_value("Access-Control-Request-Headers");
    res.set_header("Access-Control-Allow-Methods", kAllMethods);
    res.set_header("Access-Control-Allow-Headers", asked.empty() ? kRequestHeaders : asked);
    res.set_header("Access-Control-Max-Age", "86400");
  }
  std::string fixed = fixed_methods(req.path);
  res.set_header("Allow", fixed.empty() ? kAllMethods : fixed + ", OPTIONS");
  res.status = 204;
}

void handle_unmatched(App& app, const httplib::Request& req, httplib::Response& res) {
  std::string fixed = fixed_methods(req.path);
  if (!fixed.empty()) {
    send_error(res, 405, code::method_not_allowed, "method not allowed on " + req.path,
               "The allowed methods are " + fixed + ".");
    return res.set_header("Allow", fixed);
  }
  static const std::regex table(R"(/([A-Za-z_][A-Za-z0-9_$]*)/?)");
  std::smatch m;
  if (std::regex_match(req.path, m, table)) return send_table_not_served(app, m[1], res);
  send_error(res, 404, code::not_found, "no route " + req.method + " " + req.path, "",
             "See /openapi.json for the routes.");
}

}  // namespace shim
