// switchboard-shim: the HTTP front of Switchboard. For now it serves /healthz and /readyz and
// signs development tokens; routing, JWT verification and webhooks arrive with their issue.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <httplib.h>
#include <libpq-fe.h>

#include "../extension/src/core/jwt.hpp"

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// The value following `--name` in argv, or `fallback`.
std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return argv[i + 1];
  return fallback;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Prints an HS256 token: token --secret-file F --sub UUID [--org UUID] [--role R] [--ttl S].
int print_token(int argc, char** argv) {
  std::string secret = env_or("SWITCHBOARD_JWT_SECRET", "");
  std::string secret_file = flag(argc, argv, "secret-file", "");
  if (!secret_file.empty()) secret = read_file(secret_file);
  if (secret.empty())
    throw std::runtime_error("no secret: set SWITCHBOARD_JWT_SECRET or --secret-file");
  std::string role = flag(argc, argv, "role", "authenticated");
  std::string sub = flag(argc, argv, "sub", "");
  std::string org = flag(argc, argv, "org", "");
  long now = static_cast<long>(std::time(nullptr));
  long ttl = std::stol(flag(argc, argv, "ttl", "86400"));
  std::ostringstream claims;
  claims << R"({"role":")" << role << R"(","aud":"authenticated","iat":)" << now << R"(,"exp":)"
         << now + ttl;
  if (!sub.empty()) claims << R"(,"sub":")" << sub << '"';
  if (!org.empty()) claims << R"(,"app_metadata":{"org_id":")" << org << R"("})";
  claims << '}';
  std::cout << sb::sign_hs256(claims.str(), secret) << '\n';
  return 0;
}

bool database_reachable(const std::string& url) {
  return PQping(url.c_str()) == PQPING_OK;
}

void log_request(const httplib::Request& req, const httplib::Response& res) {
  std::cout << R"({"time":)" << std::time(nullptr) << R"(,"method":")" << req.method
            << R"(","path":")" << req.path << R"(","status":)" << res.status << "}" << std::endl;
}

// Splits "host:port" into its parts.
std::pair<std::string, int> listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("SWITCHBOARD_LISTEN must be host:port");
  return {text.substr(0, colon), std::stoi(text.substr(colon + 1))};
}

int serve(int argc, char** argv) {
  std::string database_url =
      flag(argc, argv, "database-url", env_or("SWITCHBOARD_DATABASE_URL", ""));
  auto [host, port] =
      listen_address(flag(argc, argv, "listen", env_or("SWITCHBOARD_LISTEN", "127.0.0.1:8080")));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  httplib::Server server;
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server.Get("/readyz", [&](const httplib::Request&, httplib::Response& res) {
    bool ok = database_reachable(database_url);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? R"({"status":"ready"})" : R"({"status":"database unreachable"})",
                    "application/json");
  });
  server.set_logger(log_request);

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  });
  if (!server.bind_to_port(host.c_str(), port)) {
    std::cerr << "switchboard-shim: cannot listen on " << host << ":" << port << std::endl;
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    return 1;
  }
  std::cerr << "switchboard-shim: listening on http://" << host << ":" << port << std::endl;
  server.listen_after_bind();
  stopper.join();
  std::cerr << "switchboard-shim: stopped" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "token") == 0) return print_token(argc, argv);
    return serve(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "switchboard-shim: " << e.what() << std::endl;
    return 1;
  }
}
