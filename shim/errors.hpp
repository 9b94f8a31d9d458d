// Error responses: JSON {code, message, details, hint} with PostgREST's SQLSTATE -> status mapping;
// 5xx answers never carry database internals.
#pragma once

#include <set>
#include <string>

#include <httplib.h>

#include "core/http/http_pgrst.hpp"
#include "pool.hpp"

namespace shim {

// Codes of errors the shim itself raises (database errors carry their SQLSTATE): PostgREST's
// PGRSTnnn where PostgREST has one for the case, else SBnnn (nnn: the HTTP status).
namespace code {
inline constexpr const char* bad_request = "SB400";
inline constexpr const char* unauthorized = "SB401";
inline constexpr const char* not_found = "SB404";
inline constexpr const char* method_not_allowed = "SB405";
inline constexpr const char* too_large = "SB413";
inline constexpr const char* internal = "SB500";
inline constexpr const char* unavailable = "SB503";
inline constexpr const char* db_unreachable = "PGRST000";      // the database cannot be reached
inline constexpr const char* schema_unavailable = "PGRST002";  // the API schema cannot be loaded
inline constexpr const char* pool_timeout = "PGRST003";        // no pooled connection in time
inline constexpr const char* bad_query = "PGRST100";           // select, filters, order, limit
inline constexpr const char* rpc_method = "PGRST101";          // /rpc takes GET, HEAD and POST
inline constexpr const char* bad_body = "PGRST102";            // not JSON, or not an object
inline constexpr const char* unknown_profile = "PGRST106";     // Accept-/Content-Profile
inline constexpr const char* singular = "PGRST116";            // object asked, not one row
inline constexpr const char* no_function = "PGRST202";         // no such callable function
inline constexpr const char* no_table = "PGRST205";            // tables are not served
inline constexpr const char* jwt_invalid = "PGRST301";         // a token that was refused
inline constexpr const char* token_needed = "PGRST302";        // no token where one is needed
}  // namespace code

// The JSON body of every error: {code, message, details, hint} (details and hint null when "").
std::string error_json(const std::string& error_code, const std::string& message,
                       const std::string& details = "", const std::string& hint = "");

void send_error(httplib::Response& res, int status, const std::string& error_code,
                const std::string& message, const std::string& details = "",
                const std::string& hint = "");

// 401 for a refused token, with the Bearer challenge.
void send_unauthorized(httplib::Response& res, const std::string& why);

// Answers 401 for a request without a token where one is needed (RFC 6750: no error code).
void send_token_needed(httplib::Response& res, const std::string& why);

// 500 telling the client the request id only; `cause` goes to the log line.
void send_internal_error(httplib::Response& res, const std::string& cause);

// The response for a database error (its SQLSTATE goes to the log line; a 5xx tells the client the
// request id only); `anonymous` turns 42501 into 401 instead of 403.
void send_db_error(httplib::Response& res, const DbError& error, bool anonymous);

// 405 for a path whose other methods exist, with Allow listing them.
void send_method_not_allowed(httplib::Response& res, const std::string& path,
                             const std::set<std::string>& allowed);

// 503 for a pool that had no connection to lend in time.
void send_pool_exhausted(httplib::Response& res);

void send_json(httplib::Response& res, int status, const std::string& json);

// Answers an ApiError of the PostgREST contract.
void send_api_error(httplib::Response& res, const sb::ApiError& error);

}  // namespace shim
