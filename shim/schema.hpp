// The cached API schema: the callable functions of schema switchboard and the REST routes of
// switchboard.api_routes, loaded with switchboard.api_schema() and reloaded whenever the database
// announces a change (NOTIFY switchboard_api) or the listener loses its connection.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/http/http_api.hpp"
#include "pool.hpp"

namespace shim {

struct Route {
  std::string method;
  std::string path;
  std::string function;
  std::map<std::string, std::string> arg_names;  // request name -> argument name
  std::optional<std::string> org_arg;
  int specificity = 0;
  std::map<std::string, int> statuses;  // answer reason -> HTTP status (api_routes.statuses)
};

// A table or view of the schema: not served by the shim; what serves its rows instead.
struct TableInfo {
  std::vector<std::string> functions;  // that return its rows
  std::vector<std::string> routes;     // "GET /api/..." calling those functions
};

// The OpenAPI documents of one schema version, by role (computed on first request).
struct DocumentCache {
  std::mutex mutex;
  std::map<std::string, std::string> by_role;
};

struct Schema {
  std::map<std::string, std::vector<sb::FunctionInfo>> functions;  // by name: the overloads
  std::vector<Route> routes;
  std::map<std::string, TableInfo> tables;  // by name
  std::shared_ptr<DocumentCache> documents = std::make_shared<DocumentCache>();

  const std::vector<sb::FunctionInfo>* overloads(const std::string& name) const;
  const TableInfo* table(const std::string& name) const;
};

// The schema parsed from the JSON that switchboard.api_schema() returns; throws when malformed.
Schema parse_schema(const std::string& json);

class SchemaCache {
 public:
  // With `listen`, a connection of its own waits for NOTIFY switchboard_api; without (behind a
  // transaction-mode pooler, where a LISTEN would stay on some server connection nobody reads),
  // the schema is read again every kPollSeconds and replaced only when it changed.
  SchemaCache(Pool& pool, std::string schema, std::string conninfo, bool listen = true);
  ~SchemaCache();

  // The current schema, loaded first when needed; nullptr (with `error`) when the database
  // cannot be reached.
  std::shared_ptr<const Schema> get(DbError& error);
  void invalidate();
  void stop();

  static constexpr int kPollSeconds = 5;

 private:
  void listen_loop();
  void poll_loop();
  // The text of api_schema(), read through the pool; nothing (with `error`) on failure.
  std::optional<std::string> read_schema(DbError& error);

  Pool& pool_;
  std::string schema_;
  std::string conninfo_;
  std::mutex mutex_;
  std::shared_ptr<const Schema> current_;
  std::string current_text_;  // what current_ was parsed from
  std::atomic<bool> stopping_{false};
  std::thread listener_;
};

}  // namespace shim
