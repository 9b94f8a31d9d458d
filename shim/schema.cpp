#include "schema.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "logging.hpp"

namespace shim {
namespace {

using nlohmann::json;

// One function of api_schema()'s JSON.
sb::FunctionInfo function_of(const json& f) {
  sb::FunctionInfo info;
  info.oid = f.at("oid").get<std::uint32_t>();
  info.name = f.at("name").get<std::string>();
  info.volatility = f.at("volatility").get<std::string>().at(0);
  info.returns_set = f.at("returnsSet").get<bool>();
  info.returns_void = f.at("returnsVoid").get<bool>();
  for (const auto& a : f.at("args"))
    info.args.push_back({a.at("name").get<std::string>(), a.at("type").get<std::string>(),
                         a.at("hasDefault").get<bool>()});
  if (f.contains("columns") && f.at("columns").is_array())
    info.columns = f.at("columns").get<std::vector<std::string>>();
  if (f.contains("timeColumns"))
    info.time_columns = f.at("timeColumns").get<std::set<std::string>>();
  return info;
}

// One route of api_schema()'s JSON.
Route route_of(const json& r) {
  Route route;
  route.method = r.at("method").get<std::string>();
  route.path = r.at("path").get<std::string>();
  route.function = r.at("function").get<std::string>();
  for (const auto& [from, to] : r.at("argNames").items())
    route.arg_names[from] = to.get<std::string>();
  if (r.at("orgArg").is_string()) route.org_arg = r.at("orgArg").get<std::string>();
  if (r.contains("statuses"))
    for (const auto& [reason, status] : r.at("statuses").items())
      if (status.is_number_integer() && status.get<int>() >= 200 && status.get<int>() <= 599)
        route.statuses[reason] = status.get<int>();  // api_route_problems() names the others
  route.specificity = sb::template_specificity(route.path);
  return route;
}

// Sleeps up to `ms`, waking early when `stopping` turns true.
void nap(const std::atomic<bool>& stopping, int ms) {
  for (int waited = 0; waited < ms && !stopping; waited += 50)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// A connection listening on channel switchboard_api, or nullptr (`problem` says why, on one line).
PGconn* listening_connection(const std::string& conninfo, std::string& problem) {
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"5", "switchboard-shim-listener", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* r = PQexec(conn, "LISTEN switchboard_api");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok) return conn;
  }
  problem = conn ? PQerrorMessage(conn) : "out of memory";
  std::replace(problem.begin(), problem.end(), '\n', ' ');
  while (!problem.empty() && problem.back() == ' ') problem.pop_back();
  PQfinish(conn);
  return nullptr;
}

// Waits for notifications until the connection breaks or `stopping`; calls `changed` once for
// the notifications that arrived together.
template <typename F>
void wait_for_notifications(PGconn* conn, const std::atomic<bool>& stopping, F changed) {
  while (!stopping) {
    pollfd p{PQsocket(conn), POLLIN, 0};
    if (poll(&p, 1, 200) < 0 || (p.revents && !PQconsumeInput(conn))) return;
    bool any = false;  // a burst of changes (a migration) is one reload
    while (PGnotify* n = PQnotifies(conn)) {
      PQfreemem(n);
      any = true;
    }
    if (any) changed();
    if (PQstatus(conn) != CONNECTION_OK) return;
  }
}

}  // namespace

const std::vector<sb::FunctionInfo>* Schema::overloads(const std::string& name) const {
  auto it = functions.find(name);
  return it == functions.end() ? nullptr : &it->second;
}

const TableInfo* Schema::table(const std::string& name) const {
  auto it = tables.find(name);
  return it == tables.end() ? nullptr : &it->second;
}

Schema parse_schema(const std::string& text) {
  json doc = json::parse(text);
  Schema schema;
  for (const auto& f : doc.at("functions")) {
    auto info = function_of(f);
    schema.functions[info.name].push_back(std::move(info));
  }
  for (const auto& r : doc.at("routes")) schema.routes.push_back(route_of(r));
  if (doc.contains("tables"))
    for (const auto& t : doc.at("tables"))
      schema.tables[t.at("name").get<std::string>()] = {
          t.at("functions").get<std::vector<std::string>>(),
          t.at("routes").get<std::vector<std::string>>()};
  return schema;
}

SchemaCache::SchemaCache(Pool& pool, std::string schema, std::string conninfo, bool listen)
    : pool_(pool), schema_(std::move(schema)), conninfo_(std::move(conninfo)) {
  if (listen)
    listener_ = std::thread([this] { listen_loop(); });
  else
    listener_ = std::thread([this] { poll_loop(); });
}

SchemaCache::~SchemaCache() {
  stop();
}

void SchemaCache::stop() {
  stopping_ = true;
  if (listener_.joinable()) listener_.join();
}

void SchemaCache::invalidate() {
  std::lock_guard<std::mutex> lock(mutex_);
  current_.reset();
}

std::optional<std::string> SchemaCache::read_schema(DbError& error) {
  auto lease = pool_.acquire(std::chrono::seconds(5));
  if (!lease) {
    error.message = "no database connection available";
    error.connection_failed = true;
    return std::nullopt;
  }
  RequestContext ctx{"service_role", R"({"role":"service_role"})", "GET", "/", "{}", true, 0};
  CallResult r =
      (*lease)->call(ctx, "SELECT " + sb::quote_ident(schema_) + ".api_schema()::text", "");
  if (!r.ok || !r.value) {
    error = r.error;
    return std::nullopt;
  }
  return r.value;
}

std::shared_ptr<const Schema> SchemaCache::get(DbError& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (current_) return current_;
  std::optional<std::string> text = read_schema(error);
  if (!text) return nullptr;
  current_ = std::make_shared<const Schema>(parse_schema(*text));
  current_text_ = std::move(*text);
  return current_;
}

void SchemaCache::poll_loop() {
  while (!stopping_) {
    DbError ignored;
    std::optional<std::string> text = read_schema(ignored);
    if (text) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!current_ || *text != current_text_) {  // unchanged: the cached answers stay
        current_ = std::make_shared<const Schema>(parse_schema(*text));
        current_text_ = std::move(*text);
      }
    }
    nap(stopping_, kPollSeconds * 1000);
  }
}

void SchemaCache::listen_loop() {
  bool reachable = true;
  while (!stopping_) {
    std::string problem;
    PGconn* conn = listening_connection(conninfo_, problem);
    if (!conn && reachable)
      log_note("database outage: cannot listen for schema changes (" + problem +
               "); retrying every second");
    else if (conn && !reachable)
      log_note("database reachable again: listening for schema changes");
    reachable = conn != nullptr;
    invalidate();  // changes may have been missed while not listening
    DbError ignored;
    if (conn) get(ignored);  // loaded now, not by the first request
    if (conn)
      wait_for_notifications(conn, stopping_, [this] {
        invalidate();
        DbError ignored;
        get(ignored);
      });
    PQfinish(conn);
    nap(stopping_, 1000);
  }
}

}  // namespace shim
