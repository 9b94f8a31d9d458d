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

// The best route for the request's method and path; `allowed` collects the methods of every
// route whose template fits the path (so a 405 can say them).
const Route* find_route(const Schema& schema, const httplib::Request& req, json& path_values,
                        std::set<std::string>& allowed) {
  const Route* best = nullptr;
  for (const auto& route : schema.routes) {
    auto values = sb::match_template(route.path, req.path);
    if (!values) continue;
    allowed.insert(route.method);
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

// The number in a result column, or nothing.
std::optional<std::uint64_t> number_of(const std::vector<std::optional<std::string>>& more,
                                       std::size_t at) {
  if (more.size() <= at || !more[at]) return std::nullopt;
  return std::stoull(*more[at]);
}

// How the call's transaction ends: committed, rolled back (SWITCHBOARD_TX_END, or Prefer: tx= when
// it allows an override), or decided once the answer is known (an answer that is refused after the
// function ran must not keep its writes); `applied` collects the preference when honoured.
TxEnd transaction_end(const App& app, const Call& call, std::vector<std::string>& applied) {
  bool rollback = app.config.tx_rollback;
  if (app.config.tx_override && call.prefer.tx) {
    rollback = *call.prefer.tx == "rollback";
    applied.push_back("tx=" + *call.prefer.tx);
  }
  if (rollback) return TxEnd::rollback;
  bool may_refuse = call.plan && (call.read.representation == sb::Representation::object ||
                                  (call.read.count && call.plan->offset > 0));
  return may_refuse && !call.read_only ? TxEnd::decide : TxEnd::commit;
}

// The SQL of the call and its parameters ($1: the arguments).
std::string call_text(const App& app, const Call& call, std::vector<std::string>& params) {
  params.push_back(call.arg);
  if (!call.plan) return sb::call_sql(app.config.schema, *call.fn, call.keys);
  return sb::read_sql(app.config.schema, *call.fn, call.keys, shape_of(*call.fn), *call.plan,
                      call.read, params);
}

// Writes the answer of a successful call: status, body, Content-Range and Preference-Applied;
// false (the refusal written) when the contract refuses the result.
bool write_answer(const Call& call, const CallResult& result, httplib::Response& res,
                  std::vector<std::string>& applied) {
  auto rows = number_of(result.more, 0);
  auto total = number_of(result.more, 1);
  std::uint64_t offset = call.plan ? call.plan->offset : 0;
  if (call.plan && call.read.representation == sb::Representation::object && !result.value) {
    send_error(res, 406, code::singular, "JSON object requested, multiple (or no) rows returned",
               "The result contains " + std::to_string(rows.value_or(0)) + " rows");
    return false;
  }
  if (total && rows == 0 && offset > 0 && offset >= *total) {
    send_error(res, 416, "PGRST103", "Requested range not satisfiable",
               "An offset of " + std::to_string(offset) + " was requested, but there are only " +
                   std::to_string(*total) + " rows.");
    res.set_header("Content-Range", sb::content_range(0, 0, total));
    return false;
  }
  if (call.read.count) applied.push_back("count=exact");
  if (rows && (call.fn->returns_set || call.plan))
    res.set_header("Content-Range", sb::content_range(offset, *rows, total));
  bool partial = total && rows && *rows > 0 && (offset > 0 || offset + *rows < *total);
  if (call.prefer.return_kind == std::string("minimal")) {
    applied.push_back("return=minimal");
    res.status = 204;
    return true;
  }
  if (call.fn->returns_void) {
    res.status = 204;
    return true;
  }
  bool object = call.plan && call.read.representation == sb::Representation::object;
  res.status = partial ? 206 : 200;
  if (call.statuses && result.value) res.status = sb::answer_status(*result.value, *call.statuses);
  res.set_content(result.value.value_or("null"),
                  object ? "application/vnd.pgrst.object+json; charset=utf-8"
                         : "application/json; charset=utf-8");
  return true;
}

// Joins the honoured preferences into Preference-Applied.
void set_preference_applied(httplib::Response& res, const std::vector<std::string>& applied) {
  std::string text;
  for (const auto& a : applied) text += (text.empty() ? "" : ", ") + a;
  if (!text.empty()) res.set_header("Preference-Applied", text);
}

}  // namespace

std::optional<Call> resolve(const Schema& schema, const std::string& name, const json& args,
                            httplib::Response& res) {
  auto overloads = schema.overloads(name);
  Call call;
  call.keys = keys_of(args);
  call.fn = overloads ? sb::choose_overload(*overloads, call.keys) : nullptr;
  if (!call.fn) {
    std::string list;
    for (const auto& k : call.keys) list += (list.empty() ? "" : ", ") + k;
    send_error(
        res, 404, code::no_function,
        "could not find the function switchboard." + name + "(" + list + ") in the schema cache",
        "", "Check the function name and the argument names (/openapi.json lists them).");
    return std::nullopt;
  }
  call.read_only = call.fn->read_only();
  call.arg = args.dump(-1, ' ', false, json::error_handler_t::replace);
  return call;
}

sb::ResultShape shape_of(const sb::FunctionInfo& fn) {
  sb::ResultShape shape;
  shape.returns_set = fn.returns_set;
  if (fn.columns) shape.columns = *fn.columns;
  shape.scalar_column = fn.name;
  shape.time_columns = fn.time_columns;
  return shape;
}

std::shared_ptr<const Schema> schema_or_503(App& app, httplib::Response& res) {
  DbError error;
  auto schema = app.schema.get(error);
  if (schema) return schema;
  if (error.connection_failed)  // an outage: the listener notes it once, the request's line says it
    current_request().error = "database unavailable: " + error.message;
  else
    log_note("cannot load the api schema: " + error.message);
  send_error(res, 503, code::schema_unavailable, "api schema unavailable", "", "Retry shortly.");
  return nullptr;
}

void refuse_deep_json(App& app, httplib::Response& res) {
  app.metrics.count_refusal("json_depth");
  send_error(res, 400, code::bad_body, "the request body is nested too deeply",
             "The limit is " + std::to_string(app.config.max_json_depth) + " levels.");
}

std::optional<json> body_json(App& app, const std::string& body, httplib::Response& res) {
  if (blank(body)) return json::object();
  auto parsed = sb::parse_json(body, app.config.max_json_depth);
  if (!parsed.value.is_discarded()) return std::move(parsed.value);
  if (parsed.too_deep)
    refuse_deep_json(app, res);
  else
    send_error(res, 400, code::bad_body, "the request body is not JSON");
  return std::nullopt;
}

std::optional<json> body_object(App& app, const std::string& body, httplib::Response& res) {
  auto parsed = body_json(app, body, res);
  if (!parsed || parsed->is_object()) return parsed;
  send_error(res, 400, code::bad_body, "the request body must be a JSON object");
  return std::nullopt;
}

void execute(App& app, const httplib::Request& req, httplib::Response& res, const Identity& who,
             const Call& call, int denied_status) {
  RequestContext ctx{who.role,          who.claims_json, req.method,  req.path,
                     headers_json(req), call.read_only,  call.fn->oid};
  std::vector<std::string> applied;
  if (call.prefer.single_object_params) applied.push_back("params=single-object");
  std::vector<std::string> params;
  std::string sql = call_text(app, call, params);
  TxEnd end = transaction_end(app, call, applied);
  auto lease = app.pool.acquire(app.config.request_timeout);
  if (!lease) return send_pool_exhausted(res);
  CallResult result = (*lease)->call(ctx, sql, params, end);
  if (result.may_execute == false) {
    bool hide = denied_status == 404;
    return send_error(
        res, denied_status, hide ? code::no_function : "42501",
        hide ? "could not find the function switchboard." + call.fn->name + " in the schema cache"
             : "permission denied for function " + call.fn->name);
  }
  if (!result.ok && result.settings_ok && !result.may_execute) {
    app.schema.invalidate();  // the function is gone: the cached schema is stale
    return send_error(
        res, 404, code::no_function,
        "could not find the function switchboard." + call.fn->name + " in the schema cache");
  }
  if (!result.ok) return send_db_error(res, result.error, who.anonymous);
  bool keep = write_answer(call, result, res, applied);
  if (end == TxEnd::decide) {
    auto failed = (*lease)->finish(keep);
    if (failed) return send_db_error(res, *failed, who.anonymous);
  }
  set_preference_applied(res, applied);
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
  auto sub = auth.identity->claims.find("sub");
  if (sub != auth.identity->claims.end() && sub->is_string())
    current_request().subject = sub->get<std::string>();
  return auth.identity;
}

void handle_route(App& app, const httplib::Request& req, httplib::Response& res,
                  const std::string& body) {
  auto who = identify(app, req, res);
  auto schema = who ? schema_or_503(app, res) : nullptr;
  if (!schema) return;
  json path_values;
  std::set<std::string> allowed;
  const Route* route = find_route(*schema, req, path_values, allowed);
  if (!route && !allowed.empty()) return send_method_not_allowed(res, req.path, allowed);
  if (!route)
    return send_error(res, 404, code::not_found, "no route " + req.method + " " + req.path, "",
                      "See /openapi.json for the routes.");
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
  if (!call) return;
  call->statuses = &route->statuses;
  execute(app, req, res, *who, *call, who->anonymous ? 401 : 403);
}

void handle_openapi(App& app, const httplib::Request& req, httplib::Response& res) {
  current_request().route = "/openapi.json";
  auto who = identify(app, req, res);
  auto schema = who ? schema_or_503(app, res) : nullptr;
  if (!schema) return;
  DocumentCache& cache = *schema->documents;
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.by_role.find(who->role);
    if (it != cache.by_role.end()) return send_json(res, 200, it->second);
  }
  json args =
      app.config.public_url.empty() ? json::object() : json{{"server_url", app.config.public_url}};
  auto call = resolve(*schema, "openapi", args, res);
  if (!call) return;
  execute(app, req, res, *who, *call, who->anonymous ? 401 : 403);
  if (res.status != 200) return;
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.by_role.emplace(who->role, res.body);  // the same document until the schema changes
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
