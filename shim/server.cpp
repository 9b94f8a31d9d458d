// The HTTP server: limits and timeouts, routes, per-request logging and metrics, and the
// lifecycle (SIGTERM/SIGINT stop accepting, drain in-flight requests, exit 0).
#include "server.hpp"

#include <sys/resource.h>

#include <csignal>
#include <pthread.h>
#include <thread>

#include "app.hpp"
#include "core/http/http_crypto.hpp"
#include "errors.hpp"
#include "http_server.hpp"
#include "logging.hpp"

namespace shim {
namespace {

using httplib::Request;
using httplib::Response;
using Handled = httplib::Server::HandlerResponse;

// Milliseconds since `start`.
double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// A short lowercase description of an HTTP error status.
std::string reason_phrase(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large";
    case 414:
      return "request uri too long";
    default:
      return "request failed";
  }
}

// True when the declared Content-Length exceeds the limit.
bool declared_too_large(const App& app, const Request& req) {
  if (!req.has_header("Content-Length")) return false;
  const std::string value = req.get_header_value("Content-Length");
  char* end = nullptr;
  unsigned long long length = std::strtoull(value.c_str(), &end, 10);
  return *end != '\0' || length > app.config.max_body_bytes;
}

// Writes the 413 of a body over the limit (the connection closes: the body stays unread).
void send_too_large(App& app, Response& res) {
  app.metrics.count_refusal("body_bytes");
  send_error(res, 413, code::too_large, "request body too large",
             "The limit is " + std::to_string(app.config.max_body_bytes) + " bytes.");
  res.set_header("Connection", "close");
}

// Ensures: the answer carries the request's id (the client's X-Request-Id when usable).
void stamp_request_id(const Request& req, Response& res) {
  RequestState& r = current_request();
  if (r.request_id.empty()) r.request_id = request_id_from(req.get_header_value("X-Request-Id"));
  if (r.path.empty()) r.path = req.path;
  if (!res.has_header("X-Request-Id")) res.set_header("X-Request-Id", r.request_id);
}

// Stamps the request id and CORS headers, and refuses oversized bodies before reading them.
Handled before_routing(App& app, const Request& req, Response& res) {
  stamp_request_id(req, res);
  add_cors_headers(app, req, res);
  if (!declared_too_large(app, req)) return Handled::Unhandled;
  send_too_large(app, res);
  return Handled::Handled;
}

// True when the request may read /metrics (else 401 or 403 written): anyone when public, else
// the bearer of the metrics token or of a service_role JWT.
bool may_read_metrics(App& app, const Request& req, Response& res) {
  if (app.config.metrics_public) return true;
  auto token = bearer_token(req.get_header_value("Authorization"));
  const std::string& secret = app.config.metrics_token;
  if (token && !secret.empty() && sb::constant_time_equal(*token, secret)) return true;
  auto who = identify(app, req, res);
  if (!who || who->role == "service_role") return who != nullptr;
  const char* why = "metrics need the metrics token or a service_role token";
  if (who->anonymous)
    send_unauthorized(res, why);
  else
    send_error(res, 403, "42501", why);
  return false;
}

// One log line and the metrics of a finished request.
void after_response(App& app, const Request& req, const Response& res) {
  const RequestState& r = current_request();
  double ms = elapsed_ms(r.start);
  app.metrics.observe_request(req.method, r.route, res.status, ms / 1000.0);
  log_request(req.method, res.status, ms);
}

// Runs a handler; any exception becomes a 500 that tells the request id only.
template <typename F>
void guarded(Response& res, F handler) {
  try {
    handler();
  } catch (const std::exception& e) {
    send_internal_error(res, e.what());
  }
}

// A handler for requests with a body: reads it within the limit first.
httplib::Server::HandlerWithContentReader with_body(App& app,
                                                    void (*handler)(App&, const Request&, Response&,
                                                                    const std::string&)) {
  return [&app, handler](const Request& req, Response& res, const httplib::ContentReader& reader) {
    guarded(res, [&] {
      auto body = read_body(app, reader, res);
      if (body) handler(app, req, res, *body);
    });
  };
}

// A handler for requests without a body.
httplib::Server::Handler without_body(App& app, void (*handler)(App&, const Request&, Response&,
                                                                const std::string&)) {
  return [&app, handler](const Request& req, Response& res) {
    guarded(res, [&] { handler(app, req, res, ""); });
  };
}

// Registers every endpoint of the shim; what none of them takes goes to handle_unmatched.
void add_routes(httplib::Server& server, App& app) {
  const char* rpc = R"(/rpc/([A-Za-z_][A-Za-z0-9_]*))";
  const char* api = R"(/api/.+)";
  server.Get("/healthz", [](const Request&, Response& res) {
    current_request().route = "/healthz";
    send_json(res, 200, R"({"status":"ok"})");
  });
  server.Get("/readyz", [&app](const Request&, Response& res) {
    guarded(res, [&] { handle_ready(app, res); });
  });
  server.Get("/metrics", [&app](const Request& req, Response& res) {
    current_request().route = "/metrics";
    guarded(res, [&] {
      if (may_read_metrics(app, req, res))
        res.set_content(app.metrics.render(app.pool.stats()), "text/plain; version=0.0.4");
    });
  });
  server.Get("/openapi.json", [&app](const Request& req, Response& res) {
    guarded(res, [&] { handle_openapi(app, req, res); });
  });
  server.Get(rpc, without_body(app, handle_rpc));  // HEAD too
  server.Post(rpc, with_body(app, handle_rpc));
  server.Put(rpc, with_body(app, handle_rpc));
  server.Patch(rpc, with_body(app, handle_rpc));
  server.Delete(rpc, with_body(app, handle_rpc));
  server.Get(api, without_body(app, handle_route));
  server.Post(api, with_body(app, handle_route));
  server.Put(api, with_body(app, handle_route));
  server.Patch(api, with_body(app, handle_route));
  server.Delete(api, with_body(app, handle_route));
  server.Post(R"(/webhooks/([A-Za-z0-9_-]+))", with_body(app, handle_webhook));
  server.Options(".*", [&app](const Request& req, Response& res) {
    guarded(res, [&] { handle_options(app, req, res); });
  });
  auto unmatched = [&app](const Request& req, Response& res, const httplib::ContentReader& r) {
    guarded(res, [&] {
      if (read_body(app, r, res)) handle_unmatched(app, req, res);
    });
  };
  server.Get(".*", [&app](const Request& req, Response& res) {
    guarded(res, [&] { handle_unmatched(app, req, res); });
  });
  server.Post(".*", unmatched);
  server.Put(".*", unmatched);
  server.Patch(".*", unmatched);
  server.Delete(".*", unmatched);
}

// The connection limits of the configuration.
HttpLimits limits_of(const Config& c) {
  HttpLimits limits;
  limits.threads = c.threads;
  limits.max_connections = c.max_connections;
  limits.max_connections_per_client = c.max_connections_per_client;
  limits.max_header_bytes = c.max_header_bytes;
  limits.max_headers = c.max_headers;
  limits.keep_alive_seconds = c.keep_alive_seconds;
  limits.client_timeout_seconds = c.client_timeout_seconds;
  return limits;
}

// Ensures: open files allow every connection the limits admit (the soft limit raised up to the
// hard one); says so when they still do not.
void raise_file_limit(const Config& c) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(c.max_connections) + c.pool_size + 64;
  if (files.rlim_cur < wanted) {
    files.rlim_cur = std::min(wanted, files.rlim_max);
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur < wanted)
    log_note("open files are limited to " + std::to_string(files.rlim_cur) +
             ": fewer than SWITCHBOARD_MAX_CONNECTIONS connections can be accepted");
}

// Counts and logs a refused connection or request.
void refused(App& app, const Refusal& r) {
  app.metrics.count_refusal(r.reason);
  log_refusal(r.reason, r.status, r.client);
}

// Limits, error and exception handlers, logging and routes.
void configure(HttpServer& http, App& app) {
  const Config& c = app.config;
  httplib::Server& server = http.routes();
  http.before_request = [] { begin_request(); };
  http.on_refusal = [&app](const Refusal& r) { refused(app, r); };
  http.on_connections = [&app](std::size_t open) { app.metrics.set_http_connections(open); };
  server.set_keep_alive_max_count(1000000);  // (both only describe the connection to the client)
  server.set_keep_alive_timeout(c.keep_alive_seconds);
  server.set_payload_max_length(c.max_body_bytes);
  server.set_pre_routing_handler(
      [&app](const Request& req, Response& res) { return before_routing(app, req, res); });
  server.set_expect_100_continue_handler([&app](const Request& req, Response& res) {
    return before_routing(app, req, res) == Handled::Handled ? 413 : 100;
  });
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
        stamp_request_id(req, res);
        if (!res.body.empty()) return Handled::Unhandled;
        send_error(res, res.status, "SB" + std::to_string(res.status), reason_phrase(res.status));
        return Handled::Handled;
      }));
  server.set_exception_handler([](const Request& req, Response& res, std::exception_ptr) {
    stamp_request_id(req, res);
    send_internal_error(res, "unexpected exception");
  });
  server.set_logger(
      [&app](const Request& req, const Response& res) { after_response(app, req, res); });
  add_routes(server, app);
}

}  // namespace

std::optional<std::string> read_body(App& app, const httplib::ContentReader& reader,
                                     Response& res) {
  std::string body;
  bool too_large = false;
  bool complete = reader([&](const char* data, size_t length) {
    too_large = body.size() + length > app.config.max_body_bytes;
    if (!too_large) body.append(data, length);
    return !too_large;
  });
  if (complete) return body;
  if (too_large) {
    send_too_large(app, res);
    return std::nullopt;
  }
  app.metrics.count_refusal("body_framing");  // the client closed early, or a chunk was malformed
  send_error(res, 400, code::bad_request, "the request body is incomplete or malformed");
  res.set_header("Connection", "close");
  return std::nullopt;
}

App::App(Config c)
    : config(std::move(c)),
      auth(config),
      pool(config.database_url, config.pool_size, config.request_timeout,
           !config.transaction_pooler),
      schema(pool, config.schema, config.database_url, !config.transaction_pooler) {}

int serve(const Config& config) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  raise_file_limit(config);
  App app(config);
  HttpServer server(limits_of(config));
  configure(server, app);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log_note("stopping: draining in-flight requests");
    server.stop();
  });
  if (!server.bind(config.listen_host, config.listen_port)) {
    log_note("cannot listen on " + config.listen_host + ":" + std::to_string(config.listen_port));
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
    return 1;
  }
  log_note("listening on http://" + config.listen_host + ":" + std::to_string(config.listen_port));
  if (config.jwt.keys.empty() && config.jwks_file.empty() && config.jwks_url.empty())
    log_note(
        "warning: no JWT secret or JWKS is configured (SWITCHBOARD_JWT_SECRET, "
        "SWITCHBOARD_JWKS_FILE or SWITCHBOARD_JWKS_URL): every request with a token gets 401, "
        "requests without one run as " +
        config.anon_role);
  if (config.fixed_now)
    log_note("SWITCHBOARD_FIXED_NOW is set: the clock is fixed (for tests only)");
  server.run();
  stopper.join();
  app.schema.stop();
  log_note("stopped");
  return 0;
}

}  // namespace shim
