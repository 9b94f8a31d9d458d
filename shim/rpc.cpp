// GET, HEAD and POST /rpc/{function}: PostgREST's contract for calling a function and reading its
// result (select, filters, order, limit/offset and Range, the object representation, Prefer).
#include <algorithm>

#include "app.hpp"
#include "errors.hpp"

namespace shim {
namespace {

using nlohmann::json;

// Ensures: a schema the request names (Accept-Profile, Content-Profile) is the one served; else
// 406 PGRST106.
void check_profile(const App& app, const httplib::Request& req) {
  for (const char* header : {"Accept-Profile", "Content-Profile"}) {
    if (!req.has_header(header)) continue;
    std::string wanted = req.get_header_value(header);
    if (wanted == app.config.schema) continue;
    throw sb::ApiError(406, code::unknown_profile,
                       "The schema must be one of the following: " + app.config.schema,
                       "The " + std::string(header) + " header asks for schema " + wanted + ".",
                       "With supabase-js: createClient(url, key, { db: { schema: '" +
                           app.config.schema + "' } }).");
  }
}

// Every value of header `name`, joined by commas (as a list header may be split over lines).
std::string joined_header(const httplib::Request& req, const char* name) {
  std::string out;
  auto range = req.headers.equal_range(name);
  for (auto it = range.first; it != range.second; ++it)
    out += (out.empty() ? "" : ", ") + it->second;
  return out;
}

// The argument names any overload takes.
std::set<std::string> argument_names(const std::vector<sb::FunctionInfo>* overloads) {
  std::set<std::string> names;
  if (overloads)
    for (const auto& fn : *overloads)
      for (const auto& arg : fn.args) names.insert(arg.name);
  return names;
}

// GET and HEAD: the query parameters an overload takes are arguments (the last value of a repeated
// name); the others select, order, page or filter.
void split_query(const httplib::Request& req, const std::vector<sb::FunctionInfo>* overloads,
                 json& args, sb::ReadPlan& plan) {
  auto names = argument_names(overloads);
  for (const auto& [name, value] : req.params) {
    if (!sb::reserved_query_param(name) && names.count(name))
      args[name] = value;
    else
      sb::add_query_param(plan, name, value);
  }
}

// True when one of the overloads receives the whole body (so any JSON value will do).
bool takes_whole_body(const std::vector<sb::FunctionInfo>* overloads) {
  return overloads && std::any_of(overloads->begin(), overloads->end(),
                                  [](const sb::FunctionInfo& fn) { return fn.takes_whole_body(); });
}

// The overload of Prefer: params=single-object: one json or jsonb argument, or nothing.
const sb::FunctionInfo* single_json_overload(const std::vector<sb::FunctionInfo>* overloads) {
  if (!overloads) return nullptr;
  for (const auto& fn : *overloads)
    if (fn.args.size() == 1 && (fn.args[0].type == "json" || fn.args[0].type == "jsonb"))
      return &fn;
  return nullptr;
}

// The call of a POST: the body's keys are the arguments (or the body is the one json argument of
// a function that takes it whole, or of any one-json function under params=single-object).
std::optional<Call> post_call(App& app, const Schema& schema, const std::string& name,
                              const std::string& body, const sb::Preferences& prefer,
                              httplib::Response& res) {
  auto parsed = body_json(app, body, res);
  if (!parsed) return std::nullopt;
  auto overloads = schema.overloads(name);
  if (prefer.single_object_params) {
    const sb::FunctionInfo* one = single_json_overload(overloads);
    if (!one)
      throw sb::ApiError(
          404, code::no_function,
          "could not find the function switchboard." + name + "(json) in the schema cache",
          "Params=single-object needs a function of one json or jsonb argument.");
    Call call;
    call.fn = one;
    call.arg = body;
    call.read_only = one->read_only();
    if (!one->takes_whole_body()) {  // a named argument: the body becomes its value
      call.keys = {one->args[0].name};
      call.arg = json{{one->args[0].name, std::move(*parsed)}}.dump(-1, ' ', false,
                                                                    json::error_handler_t::replace);
    }
    return call;
  }
  bool object = parsed->is_object();
  if (!object && overloads && !takes_whole_body(overloads))
    throw sb::ApiError(400, code::bad_body, "the request body must be a JSON object");
  static const json no_arguments = json::object();
  auto call = resolve(schema, name, object ? *parsed : no_arguments, res);
  if (call && (call->fn->takes_whole_body() || object) &&
      body.find_first_not_of(" \t\r\n") != std::string::npos)
    call->arg = body;  // as sent: no second serialization
  return call;
}

}  // namespace

void handle_rpc(App& app, const httplib::Request& req, httplib::Response& res,
                const std::string& body) {
  std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  auto who = identify(app, req, res);
  auto schema = who ? schema_or_503(app, res) : nullptr;
  if (!schema) return;
  auto overloads = schema->overloads(name);
  if (!overloads) {
    resolve(*schema, name, json::object(), res);  // 404 PGRST202
    return;
  }
  current_request().route = "/rpc/" + name;
  try {
    bool get = req.method == "GET" || req.method == "HEAD";
    if (!get && req.method != "POST")
      return send_method_not_allowed(res, req.path, {"GET", "HEAD", "POST"});
    check_profile(app, req);
    sb::Preferences prefer = sb::parse_prefer(joined_header(req, "Prefer"));
    sb::Representation representation = sb::parse_accept(joined_header(req, "Accept"));
    sb::ReadPlan plan;
    std::optional<Call> call;
    if (get) {
      json args = json::object();
      split_query(req, overloads, args, plan);
      call = resolve(*schema, name, args, res);
    } else {
      for (const auto& [key, value] : req.params) sb::add_query_param(plan, key, value);
      call = post_call(app, *schema, name, body, prefer, res);
    }
    if (!call) return;
    if (get && !call->read_only) {
      send_error(res, 405, code::method_not_allowed,
                 "switchboard." + name + " is volatile: call it with POST");
      return res.set_header("Allow", "POST");
    }
    sb::apply_range_header(plan, req.get_header_value("Range"));
    bool reads = plan.shapes_rows() || plan.pages() || prefer.count ||
                 representation == sb::Representation::object;
    if (reads && !call->fn->returns_void) {
      sb::check_columns(plan, shape_of(*call->fn), "switchboard." + name);
      call->plan = std::move(plan);
      call->read = {representation, prefer.count.has_value()};
    }
    call->prefer = std::move(prefer);
    execute(app, req, res, *who, *call, 404);
  } catch (const sb::ApiError& e) {
    send_api_error(res, e);
  }
}

}  // namespace shim
