// JSON Web Tokens signed with HS256 (RFC 7519 / RFC 7515).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http/http_crypto.hpp"  // base64url_encode, base64url_decode

namespace sb {

// HMAC-SHA256 of `message` under `key`, as raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// A compact JWS with header {"alg":"HS256","typ":"JWT"} over `payload_json`.
std::string sign_hs256(std::string_view payload_json, std::string_view secret);

}  // namespace sb
