// switchboard-shim: the HTTP front of Switchboard (see README.md, "switchboard-shim").
//   switchboard-shim                      serve (configuration: SWITCHBOARD_* or --flags)
//   switchboard-shim token --sub UUID ... print a signed development JWT
//   switchboard-shim --help               the flags (exit 0); an unknown flag exits 2
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "core/base/base_uuid.hpp"
#include "core/http/http_jwt.hpp"
#include "core/http/http_jwt_verify.hpp"
#include "logging.hpp"
#include "server.hpp"

namespace {

// Prints the usage of the server (or of the token command) on stdout.
void print_usage(bool token) {
  std::cout << "usage: switchboard-shim [--FLAG VALUE | --FLAG=VALUE ...]   serve HTTP\n"
               "       switchboard-shim token --sub UUID [--org UUID] [--role R] [--ttl S] ...\n"
               "       switchboard-shim --help | switchboard-shim token --help\n\n";
  if (token) {
    std::cout << "token prints a signed development JWT (HS256 with the JWT secret, or RS256/ES256 "
                 "with --key):\n";
    for (const auto& f : shim::token_flags()) std::printf("  --%-14s %s\n", f.name, f.meaning);
    return;
  }
  std::cout << "Every flag is also an environment variable (the flag wins); README.md, section "
               "switchboard-shim, explains each:\n";
  for (const auto& s : shim::server_settings())
    std::printf("  --%s (%s)\n        %s\n", s.name, shim::variable_name(s.name).c_str(),
                s.meaning);
}

// True when argv holds --help or -h.
bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  return false;
}

// The value of a uuid flag of the token command ("" when absent); throws UsageError otherwise.
std::string uuid_flag(int argc, char** argv, const char* name) {
  std::string value = shim::setting(argc, argv, name, "");
  if (!value.empty() && !sb::parse_uuid(value))
    throw shim::UsageError(std::string("--") + name +
                           " must be a uuid (Switchboard's user and "
                           "organisation ids are uuids), not \"" +
                           value + "\"");
  return value;
}

// The claims of a development token: role, audience, lifetime, subject and organisation.
nlohmann::json token_claims(int argc, char** argv) {
  long now = static_cast<long>(std::time(nullptr));
  long ttl = shim::integer_setting(argc, argv, "ttl", 86400, 1, 20L * 366 * 86400);
  nlohmann::json claims = {{"role", shim::setting(argc, argv, "role", "authenticated")},
                           {"aud", shim::setting(argc, argv, "aud", "authenticated")},
                           {"iat", now},
                           {"exp", now + ttl}};
  std::string sub = uuid_flag(argc, argv, "sub");
  std::string org = uuid_flag(argc, argv, "org");
  if (!sub.empty()) claims["sub"] = sub;
  if (!org.empty()) claims["app_metadata"] = {{"org_id", org}};
  return claims;
}

// Prints a token: token [--secret-file F | --key PEM --alg RS256|ES256 --kid K] --sub UUID
// [--org UUID] [--role R] [--ttl S] [--aud A]. Without a key it signs HS256 with the JWT secret.
int print_token(int argc, char** argv) {
  shim::check_flags(argc, argv, 2, true);
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
  bool token = argc > 1 && std::strcmp(argv[1], "token") == 0;
  try {
    if (wants_help(argc, argv)) {
      print_usage(token);
      return 0;
    }
    if (token) return print_token(argc, argv);
    shim::check_flags(argc, argv, 1, false);
    return shim::serve(shim::load_config(argc, argv));
  } catch (const shim::UsageError& e) {
    shim::log_note(std::string(e.what()) + " (switchboard-shim " + (token ? "token " : "") +
                   "--help lists the flags)");
    return 2;
  } catch (const std::exception& e) {
    shim::log_note(e.what());
    return 1;
  }
}
