// JSON Web Tokens signed with HS256 (RFC 7519 / RFC 7515), and the base64url they are built from.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sb {

// base64url without padding (RFC 4648 section 5).
std::string base64url_encode(std::string_view bytes);

// The decoded bytes, or nothing when `text` is not unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

// HMAC-SHA256 of `message` under `key`, as raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// A compact JWS with header {"alg":"HS256","typ":"JWT"} over `payload_json`.
std::string sign_hs256(std::string_view payload_json, std::string_view secret);

}  // namespace sb
