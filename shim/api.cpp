// Request handlers of the data API: /rpc/{function}, the REST routes, /openapi.json, /readyz.
#include <algorithm>
#include <cctype>

#include "app.hpp"
#include "errors.hpp"
#include "logging.hpp"

namespace shim {
namespace {

using nlohmann::json;

// Headers that carry credentials: never passed to the database.
bool secret_header(const std::string& name) {
  return name == "authorization" || name == "cookie" || name == "x-vapi-secret" ||
         name == "proxy-authorization";
}

// The request headers as one JSON object with lowercase names (request.headers).
std::string headers_json(const httplib::Request& req) {
  json out = json::object();
  for (const auto& [name, value] : req.headers) {
    std::string key = lowercase(name);
    if (secret_header(key) || key == "remote_addr" || key == "remote_port" || key == "local_addr" ||
        key == "local_port")
      continue;
    out[key] = out.contains(key) ? out[key].get<std::string>() + ", " + value : value;
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The query parameters as a JSON object of strings (the last value of a repeated name).
json query_object(const httplib::Request& req) {
  json out = json::object();
  for (const auto& [name, value] : req.params) out[name] = value;
  return out;
}

// The member names of a JSON object.
std::set<std::string> keys_of(const json& object) {
  std::set<std::string> keys;
  for (const auto& item : object.items()) keys.insert(item.key());
  return keys;
}

// True when the body has nothing but whitespace (it counts as {}).
bool blank(const std::string& body) {
  return body.find_first_not_of(" \t\r\n") == std::string::npos;
}

// True when one of the overloads receives the whole body (so any JSON value will do).
bool takes_whole_body(const std::vector<sb::FunctionInfo>& overloads) {
  return std::any_of(overloads.begin(), overloads.end(),
                     [](const sb::FunctionInfo& fn) { return fn.takes_whole_body(); });
}

// The call of function `name` with the named arguments of `args`, or nothing (404 written).
std::optional<Call> resolve(const Schema& schema, const std::string& name, const json& args,
                            httplib::Response& res) {
  auto overloads = schema.overloads(name);
  Call call;
  call.keys = keys_of(args);
  call.fn = overloads ? sb::choose_overload(*overloads, call.keys) : nullptr;
  if (!call.fn) {
    std::string list;
    for (const auto& k : call.keys) list += (list.empty() ? "" : ", ") + k;
    send_error(res, 404, code::not_found,
               "function switchboard." + name + "(" + list + ") not found", "",
               "check the function name and the argument names");
    return std::nullopt;
  }
  call.read_only = call.fn->read_only();
  call.arg = args.dump(-1, ' ', false, json::error_handler_t::replace);
  return call;
}

// The best route for the request's method and path; sets `path_matched` when only the method
// differs.
const Route* find_route(const Schema& schema, const httplib::Request& req, json& path_values,
                        bool& path_matched) {
  const Route* best = nullptr;
  for (const auto& route : schema.routes) {
    auto values = sb::match_template(route.path, req.path);
    if (!values) continue;
    path_matched = true;
    if (route.method != req.method || (best && best->specificity >= route.specificity)) continue;
    best = &route;
    path_values = json(*values);
  }
  return best;
}

// The arguments of a route call: query, then body, then path values (renamed), then the org.
// The values are moved, never copied.
json route_args(const Route& route, json query, json body, json path_values, const Identity& who) {
  json args = json::object();
  auto put = [&](json& source) {
    for (auto& item : source.items()) {
      auto renamed = route.arg_names.find(item.key());
      args[renamed == route.arg_names.end() ? item.key() : renamed->second] =
          std::move(item.value());
    }
  };
  put(query);
  put(body);
  put(path_values);
  if (route.org_arg && !who.org_id.empty()) args[*route.org_arg] = who.org_id;
  return args;
}

}  // namespace

std::shared_ptr<const Schema> schema_or_503(App& app, httplib::Response& res) {
  DbError error;
  auto schema = app.schema.get(error);
  if (schema) return schema;
  if (!error.connection_failed) log_note("cannot load the api schema: " + error.message);
  send_error(res, 503, code::unavailable, "api schema unavailable", "", "retry shortly");
  return nullptr;
}

void refuse_deep_json(App& app, httplib::Response& res) {
  app.metrics.count_refusal("json_depth");
  send_error(res, 400, code::bad_request, "the request body is nested too deeply",
             "the limit is " + std::to_string(app.config.max_json_depth) + " levels");
}

std::optional<json> body_json(App& app, const std::string& body, httplib::Response& res) {
  if (blank(body)) return json::object();
  auto parsed = sb::parse_json(body, app.config.max_json_depth);
  if (!parsed.value.is_discarded()) return std::move(parsed.value);
  if (parsed.too_deep)
    refuse_deep_json(app, res);
  else
    send_error(res, 400, code::bad_request, "the request body is not JSON");
  return std::nullopt;
}

std::optional<json> body_object(App& app, const std::string& body, httplib::Response& res) {
  auto parsed = body_json(app, body, res);
  if (!parsed || parsed->is_object()) return parsed;
  send_error(res, 400, code::bad_request, "the request body must be a JSON object");
  return std::nullopt;
}

void execute(App& app, const httplib::Request& req, httplib::Response& res, const Identity& who,
             const Call& call, int denied_status) {
  RequestContext ctx{who.role,          who.claims_json, req.method,  req.path,
                     headers_json(req), call.read_only,  call.fn->oid};
  auto lease = app.pool.acquire(app.config.request_timeout);
  if (!lease) return send_pool_exhausted(res);
  CallResult result =
      (*lease)->call(ctx, sb::call_sql(app.config.schema, *call.fn, call.keys), call.arg);
  if (result.may_execute == false) {
    bool hide = denied_status == 404;
    return send_error(res, denied_status, hide ? code::not_found : "42501",
                      hide ? "function switchboard." + call.fn->name + " not found"
                           : "permission denied for function " + call.fn->name);
  }
  if (!result.ok && result.settings_ok && !result.may_execute) {
    app.schema.invalidate();  // the function is gone: the cached schema is stale
    return send_error(res, 404, code::not_found,
                      "function switchboard." + call.fn->name + " not found");
  }
  if (!result.ok) return send_db_error(res, result.error, who.anonymous);
  if (result.value) return send_json(res, 200, *result.value);
  if (call.fn->returns_void) {
    res.status = 204;
    return;
  }
  send_json(res, 200, "null");
}

std::shared_ptr<const Identity> identify(App& app, const httplib::Request& req,
                                         httplib::Response& res) {
  AuthOutcome auth = app.auth.authenticate(req.get_header_value("Authorization"));
  if (!auth.identity) {
    send_unauthorized(res, auth.error);
    return nullptr;
  }
  current_request().role = auth.identity->role;
  current_request().org_id = auth.identity->org_id;
  return auth.identity;
}

void handle_rpc(App& app, const httplib::Request& req, httplib::Response& res,
                const std::string& body) {
  std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  auto who = identify(app, req, res);
  auto schema = who ? schema_or_503(app, res) : nullptr;
  if (!schema) return;
  if (schema->overloads(name)) current_request().route = "/rpc/" + name;
  bool get = req.method == "GET";
  auto parsed = get ? std::optional<json>(query_object(req)) : body_json(app, body, res);
  if (!parsed) return;
  bool object = parsed->is_object();
  if (!object && schema->overloads(name) && !takes_whole_body(*schema->overloads(name)))
    return send_error(res, 400, code::bad_request, "the request body must be a JSON object");
  static const json no_arguments = json::object();
  auto call = resolve(*schema, name, object ? *parsed : no_arguments, res);  // by reference
  if (!call) return;
  bool whole_body = call->fn->takes_whole_body() || object;
  if (!get && whole_body && !blank(body)) call->arg = body;  // as sent: no second serialization
  if (get && !call->read_only)
    return send_error(res, 405, code::method_not_allowed,
                      "switchboard." + name + " is volatile: call it with POST");
  execute(app, req, res, *who, *call, 404);
}

void handle_route(App& app, const httplib::Request& req, httplib::Response& res,
                  const std::string& body) {
  auto who = identify(app, req, res);
  auto schema = who ? schema_or_503(app, res) : nullptr;
  if (!schema) return;
  json path_values;
  bool path_matched = false;
  const Route* route = find_route(*schema, req, path_values, path_matched);
  if (!route)
    return path_matched
               ? send_error(res, 405, code::method_not_allowed, "method not allowed on " + req.path)
               : send_error(res, 404, code::not_found, "no route " + req.method + " " + req.path);
  current_request().route = route->path;
  if (route->org_arg && who->anonymous)
    return send_token_needed(
        res, req.method + " " + route->path +
                 " acts for the caller's organisation: it needs a signed-in member");
  auto body_args =
      req.method == "GET" ? std::optional<json>(json::object()) : body_object(app, body, res);
  if (!body_args) return;
  auto call = resolve(
      *schema, route->function,
      route_args(*route, query_object(req), std::move(*body_args), std::move(path_values), *who),
      res);
  if (call) execute(app, req, res, *who, *call, who->anonymous ? 401 : 403);
}

void handle_openapi(App& app, const httplib::Request& req, httplib::Response& res) {
  current_request().route = "/openapi.json";
  auto who = identify(app, req, res);
  auto schema = who ? schema_or_503(app, res) : nullptr;
  if (!schema) return;
  json args =
      app.config.public_url.empty() ? json::object() : json{{"server_url", app.config.public_url}};
  auto call = resolve(*schema, "openapi", args, res);
  if (call) execute(app, req, res, *who, *call, who->anonymous ? 401 : 403);
}

void handle_ready(App& app, httplib::Response& res) {
  current_request().route = "/readyz";
  auto lease = app.pool.acquire(app.config.request_timeout);
  if (!lease) return send_pool_exhausted(res);
  RequestContext ctx{app.config.anon_role, "{}", "GET", "/readyz", "{}", true, 0};
  CallResult r = (*lease)->call(ctx, "SELECT 'ready'::text", "");
  if (!r.ok) return send_db_error(res, r.error, true);
  send_json(res, 200, R"({"status":"ready"})");
}

}  // namespace shim
