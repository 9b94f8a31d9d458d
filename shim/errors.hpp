// Error responses: JSON {code, message, details, hint} with PostgREST's SQLSTATE -> status mapping;
// 5xx answers never carry database internals.
#pragma once

#include <string>

#include <httplib.h>

#include "pool.hpp"

namespace shim {

// Codes of errors the shim itself raises (database errors carry their SQLSTATE).
namespace code {
inline constexpr const char* bad_request = "SB400";
inline constexpr const char* unauthorized = "SB401";
inline constexpr const char* not_found = "SB404";
inline constexpr const char* method_not_allowed = "SB405";
inline constexpr const char* too_large = "SB413";
inline constexpr const char* internal = "SB500";
inline constexpr const char* unavailable = "SB503";
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

// The response for a database error; `anonymous` turns 42501 into 401 instead of 403.
void send_db_error(httplib::Response& res, const DbError& error, bool anonymous);

// 503 for a pool that had no connection to lend in time.
void send_pool_exhausted(httplib::Response& res);

void send_json(httplib::Response& res, int status, const std::string& json);

}  // namespace shim
