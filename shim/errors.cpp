#include "errors.hpp"

#include <nlohmann/json.hpp>

#include "core/http/http_api.hpp"
#include "logging.hpp"

namespace shim {
namespace {

// A JSON string, or null for "".
nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json(text);
}

}  // namespace

void send_json(httplib::Response& res, int status, const std::string& json) {
  res.status = status;
  res.set_content(json, "application/json; charset=utf-8");
}

std::string error_json(const std::string& error_code, const std::string& message,
                       const std::string& details, const std::string& hint) {
  nlohmann::json body = {{"code", error_code},
                         {"message", message},
                         {"details", text_or_null(details)},
                         {"hint", text_or_null(hint)}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void send_error(httplib::Response& res, int status, const std::string& error_code,
                const std::string& message, const std::string& details, const std::string& hint) {
  send_json(res, status, error_json(error_code, message, details, hint));
  if (sb::status_is_retryable(status)) res.set_header("Retry-After", "1");
}

void send_api_error(httplib::Response& res, const sb::ApiError& error) {
  send_error(res, error.status(), error.code(), error.what(), error.details(), error.hint());
}

void send_unauthorized(httplib::Response& res, const std::string& why) {
  send_error(res, 401, code::jwt_invalid, why);
  res.set_header("WWW-Authenticate",
                 "Bearer error=\"invalid_token\", error_description=\"" + why + "\"");
}

void send_token_needed(httplib::Response& res, const std::string& why) {
  send_error(res, 401, code::token_needed, why, "",
             "Send a JWT in the header Authorization: Bearer <token>.");
  res.set_header("WWW-Authenticate", "Bearer");
}

void send_internal_error(httplib::Response& res, const std::string& cause) {
  RequestState& r = current_request();
  if (r.error.empty()) r.error = cause;
  send_error(res, 500, code::internal, "internal server error", "",
             "The server's log has the cause under request id " + r.request_id + ".");
}

void send_db_error(httplib::Response& res, const DbError& error, bool anonymous) {
  current_request().sqlstate = error.sqlstate;
  if (error.connection_failed || error.sqlstate.empty()) {
    current_request().error = "database unavailable: " + error.message;
    send_error(res, 503, code::db_unreachable, "database unavailable", "", "Retry shortly.");
    return;
  }
  int status = sb::http_status_for_sqlstate(error.sqlstate, anonymous);
  if (status >= 500 && status != 503 && status != 504)
    return send_internal_error(res, error.message);
  send_error(res, status, error.sqlstate, error.message, error.detail, error.hint);
  if (status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

void send_method_not_allowed(httplib::Response& res, const std::string& path,
                             const std::set<std::string>& allowed) {
  std::string list;
  for (const auto& m : allowed) list += (list.empty() ? "" : ", ") + m;
  send_error(res, 405, code::method_not_allowed, "method not allowed on " + path,
             "The allowed methods are " + list + ".");
  res.set_header("Allow", list);
}

void send_pool_exhausted(httplib::Response& res) {
  send_error(res, 503, code::pool_timeout, "no database connection available", "",
             "Retry shortly.");
}

}  // namespace shim
