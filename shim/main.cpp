// switchboard-shim: the HTTP front of Switchboard (see README.md, "switchboard-shim").
//   switchboard-shim                      serve (configuration: SWITCHBOARD_* or --flags)
//   switchboard-shim token --sub UUID ... print a signed development JWT
#include <cstring>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "core/http/http_jwt.hpp"
#include "core/http/http_jwt_verify.hpp"
#include "logging.hpp"
#include "server.hpp"

namespace {

// The claims of a development token: role, audience, lifetime, subject and organisation.
nlohmann::json token_claims(int argc, char** argv) {
  long now = static_cast<long>(std::time(nullptr));
  long ttl = std::stol(shim::setting(argc, argv, "ttl", "86400"));
  nlohmann::json claims = {{"role", shim::setting(argc, argv, "role", "authenticated")},
                           {"aud", shim::setting(argc, argv, "aud", "authenticated")},
                           {"iat", now},
                           {"exp", now + ttl}};
  std::string sub = shim::setting(argc, argv, "sub", "");
  std::string org = shim::setting(argc, argv, "org", "");
  if (!sub.empty()) claims["sub"] = sub;
  if (!org.empty()) claims["app_metadata"] = {{"org_id", org}};
  return claims;
}

// Prints a token: token [--secret-file F | --key PEM --alg RS256|ES256 --kid K] --sub UUID
// [--org UUID] [--role R] [--ttl S] [--aud A]. Without a key it signs HS256 with the JWT secret.
int print_token(int argc, char** argv) {
  nlohmann::json claims = token_claims(argc, argv);
  std::string key_file = shim::setting(argc, argv, "key", "");
  if (!key_file.empty()) {
    auto key = sb::private_key_from_pem(shim::read_text_file(key_file));
    std::cout << sb::sign_jwt(shim::setting(argc, argv, "alg", "RS256"), key,
                              shim::setting(argc, argv, "kid", ""), claims)
              << '\n';
    return 0;
  }
  std::string secret = shim::setting(argc, argv, "jwt-secret", "");
  std::string secret_file = shim::setting(argc, argv, "secret-file", "");
  if (!secret_file.empty()) secret = shim::read_text_file(secret_file);
  if (secret.empty())
    throw std::runtime_error("no secret: set SWITCHBOARD_JWT_SECRET or --secret-file");
  std::cout << sb::sign_hs256(claims.dump(), secret) << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "token") == 0) return print_token(argc, argv);
    return shim::serve(shim::load_config(argc, argv));
  } catch (const std::exception& e) {
    shim::log_note(e.what());
    return 1;
  }
}
