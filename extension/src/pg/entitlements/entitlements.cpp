// SQL functions of the entitlements area that read: has_feature, check_feature, feature_matrix.
#include "pg/tenancy/tenancy_access.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/entitlements/entitlements_check.hpp"
#include "pg/entitlements/entitlements_store.hpp"

#include "core/base/base_json_writer.hpp"

namespace {

using sb::pg::Evaluation;

// Upgrade advice for a denial: the cheapest higher tier that would grant (more of) the feature.
void write_upgrade(sb::JsonWriter& w, const Evaluation& e) {
  const sb::ent::Tier* tier = sb::ent::upgrade_tier(*e.catalog, e.decision);
  w.field("upgradeRequired", tier != nullptr);
  w.field("upgradeTier", tier ? std::string_view(tier->key) : std::string_view());
}

void write_overage_rate(sb::JsonWriter& w, const Evaluation& e) {
  const sb::ent::Decision& d = e.decision;
  w.key("overageRate");
  if (d.grant && d.grant->mode == sb::ent::Mode::soft && !d.overage_rate.empty())
    w.raw_number(d.overage_rate);
  else
    w.null();
}

std::optional<int64_t> calls_remaining(const sb::Uuid& org, const Evaluation& asked,
                                       std::string_view feature) {
  if (feature == "calls") return asked.remaining;
  if (!asked.catalog->feature("calls")) return std::nullopt;
  return sb::pg::evaluate(org, "calls", 1).remaining;
}

Datum check_json(const sb::Uuid& org, const Evaluation& e, std::string_view feature) {
  const sb::ent::Decision& d = e.decision;
  bool metered = d.grant && d.feature && d.feature->metered;
  sb::JsonWriter w(sb::JsonWriter::Output::tokens);
  w.begin_object();
  w.field("hasAccess", d.access);
  w.key("reason").string(sb::ent::reason_code(d.reason));
  w.key("feature").string(feature);
  w.field("plan", d.plan);
  w.field("limit", metered ? d.grant->limit : std::nullopt);
  w.field("used", metered ? std::optional<int64_t>(e.usage.used) : std::nullopt);
  w.field("remaining", e.remaining);
  w.field("resetsAt", metered ? sb::answer_time(e.window.end) : std::string());
  write_overage_rate(w, e);
  write_upgrade(w, e);
  w.field("callsRemaining", calls_remaining(org, e, feature));
  if (d.reason == sb::ent::Reason::kill_switch) w.field("killReason", d.kill_reason);
  w.end_object();
  return sb::pg::jsonb_datum(w);
}

}  // namespace

// Ensures: whether the organisation may use one more unit of the feature now (the hot path).
SB_FUNCTION(sb_has_feature) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  std::string_view feature = sb::pg::feature_arg(fcinfo, 1);
  sb::pg::require_role(org, sb::Role::viewer);
  PG_RETURN_BOOL(sb::pg::evaluate(org, feature, 1).decision.access);
}

// Ensures: the full answer for `quantity` units, with the reason that decided it.
SB_FUNCTION(sb_check_feature) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  std::string_view feature = sb::pg::feature_arg(fcinfo, 1);
  int64_t quantity = sb::pg::positive_arg(fcinfo, 2, "quantity");
  sb::pg::require_role(org, sb::Role::viewer);
  Evaluation e = sb::pg::evaluate(org, feature, quantity);
  return check_json(org, e, feature);
}

// Ensures: every catalog feature mapped to whether the organisation may use it now.
SB_FUNCTION(sb_feature_matrix) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  sb::pg::require_role(org, sb::Role::viewer);
  std::shared_ptr<const sb::ent::Catalog> catalog = sb::pg::catalog();
  sb::JsonWriter w(sb::JsonWriter::Output::tokens);
  w.begin_object();
  for (const std::string& key : catalog->feature_keys)
    w.field(key, sb::pg::evaluate(org, key, 1).decision.access);
  w.end_object();
  return sb::pg::jsonb_datum(w);
}

// Ensures: a tenant's override (org_id, feature, enabled, usage_limit, limit_mode) only narrows
// what the organisation has without overrides now (42501 otherwise). Called by
// set_feature_override for callers other than the service role; executable by the owner only.
SB_FUNCTION(sb_assert_narrowing_override) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  std::string_view feature = sb::pg::feature_arg(fcinfo, 1);
  sb::pg::require_arg(fcinfo, 2, "enabled");
  sb::ent::Override proposed;
  proposed.tenant = true;
  proposed.enabled = PG_GETARG_BOOL(2);
  if (!PG_ARGISNULL(3)) proposed.limit = PG_GETARG_INT64(3);
  if (!PG_ARGISNULL(4)) proposed.mode = sb::ent::parse_mode(sb::pg::text_arg(fcinfo, 4));
  sb::ent::require_narrowing(*sb::pg::catalog(), *sb::pg::org_state(org), feature, proposed,
                             sb::pg::transaction_now());
  PG_RETURN_VOID();
}
