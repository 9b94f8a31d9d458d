#include "pg/entitlements/entitlements_check.hpp"

#include <cstdlib>

#include "pg/base/base_boundary.hpp"
#include "pg/entitlements/entitlements_store.hpp"
#include "pg/entitlements/entitlements_org_reader.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

Query usage_query = {
    "select u.used, u.reserved OPERATOR(pg_catalog.-) coalesce((select pg_catalog.sum(r.quantity) "
    "from switchboard.feature_reservations r where r.org_id OPERATOR(pg_catalog.=) u.org_id "
    "and r.feature OPERATOR(pg_catalog.=) u.feature "
    "and r.period_start OPERATOR(pg_catalog.=) u.period_start "
    "and r.status OPERATOR(pg_catalog.=) 'active' "
    "and r.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()), 0), "
    "u.overage from switchboard.feature_usage u where u.org_id OPERATOR(pg_catalog.=) $1 "
    "and u.feature OPERATOR(pg_catalog.=) $2 and u.period_start OPERATOR(pg_catalog.=) $3",
    3,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID}};

int64_t to_int(const char* text) {
  return text ? std::strtoll(text, nullptr, 10) : 0;
}

// The counter of the period, with reservations that expired given back.
Usage read_usage(const Uuid& org, std::string_view feature, const Window& window) {
  int64_t counts[3];
  if (!read_usage_row(org, feature, window.start, counts)) return Usage{};
  if (counts[1] == 0) return Usage{counts[0], 0, counts[2]};
  Datum args[3] = {uuid_datum(org), text_datum(feature),
                   TimestampTzGetDatum(from_unix(window.start))};
  TextRows rows = spi_query(usage_query, args, nullptr, ReadMode::current);
  if (rows.count == 0) return Usage{};
  return Usage{to_int(rows.at(0, 0)), to_int(rows.at(0, 1)), to_int(rows.at(0, 2))};
}

}  // namespace

void apply_limit(Evaluation& e, int64_t quantity) {
  int64_t wanted = ent::checked_sum(
      "usage is out of range for bigint",
      {{"used", e.usage.used}, {"reserved", e.usage.reserved}, {"quantity", quantity}});
  const std::optional<int64_t>& limit = e.decision.grant->limit;
  if (!limit) return;
  int64_t taken = e.usage.used + e.usage.reserved;
  e.remaining = std::max<int64_t>(0, *limit - taken);
  if (e.decision.grant->mode == ent::Mode::hard && wanted > *limit) {
    e.decision.access = false;
    e.decision.reason = ent::Reason::limit_exceeded;
  }
}

Evaluation evaluate(const Uuid& org, std::string_view feature, int64_t quantity) {
  Evaluation e;
  e.org = org_state(org);
  e.catalog = catalog();
  ent::Micros now = transaction_now();
  e.decision = ent::decide(*e.catalog, *e.org, *kill_switches(), feature, now);
  if (!e.decision.access || !e.decision.feature->metered) return e;
  e.window = usage_window(e.decision.grant->period, *e.org, now);
  e.usage = read_usage(org, feature, e.window);
  apply_limit(e, quantity);
  return e;
}

std::string_view feature_arg(FunctionCallInfo fcinfo, int n) {
  require_arg(fcinfo, n, "feature");
  std::string_view f = text_arg(fcinfo, n);
  if (f.empty()) throw Error("22023", "feature must not be empty");
  return f;
}

int64_t positive_arg(FunctionCallInfo fcinfo, int n, const char* name, bool zero_ok) {
  require_arg(fcinfo, n, name);
  int64_t value =
      get_fn_expr_argtype(fcinfo->flinfo, n) == INT8OID ? PG_GETARG_INT64(n) : PG_GETARG_INT32(n);
  if (value < 0 || (value == 0 && !zero_ok))
    throw Error("22023",
                std::string(name) + (zero_ok ? " must not be negative" : " must be positive"),
                sb::given_detail(name, std::to_string(value)));
  return value;
}

}  // namespace sb::pg
