#include "entitlement_store.hpp"

#include <cstdlib>
#include <memory>

#include "boundary.hpp"
#include "store.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

constexpr std::size_t kCachedOrgs = 10000;

std::optional<int64_t> opt_int(const char* text) {
  if (!text) return std::nullopt;
  return std::strtoll(text, nullptr, 10);
}

std::string str(const char* text) { return text ? text : ""; }

bool is_true(const char* text) { return text && text[0] == 't'; }

// A cache slot: the shared value (empty when cleared) and the cache id for invalidation.
template <typename T>
struct Slot {
  std::shared_ptr<T> value;
  int id = -1;
};

using OrgMap = std::unordered_map<Uuid, std::shared_ptr<const ent::OrgState>, UuidHash>;

Slot<const ent::Catalog> catalog_slot;
Slot<const ent::KillSwitches> kills_slot;
Slot<OrgMap> orgs_slot;

Query features_query = {
    "select key, kind = 'metered', unit from switchboard.features order by key", 0, {}};
Query tiers_query = {
    "select key, rank, overage_rate::text from switchboard.plan_tiers order by rank, key", 0, {}};
Query grants_query = {
    "select tier, feature, usage_limit, coalesce(period, 'billing_period'), mode "
    "from switchboard.plan_tier_features",
    0,
    {}};
Query kills_query = {
    "select feature, reason from switchboard.global_feature_flags where not enabled", 0, {}};
Query org_query = {
    "select o.timezone, s.tier, s.status, (extract(epoch from s.trial_ends_at) * 1e6)::int8, "
    "(extract(epoch from s.current_period_start) * 1e6)::int8, "
    "(extract(epoch from s.current_period_end) * 1e6)::int8, s.billing_cycle, t.overage_rate::text "
    "from switchboard.organizations o left join switchboard.subscriptions s on s.org_id = o.id "
    "left join switchboard.plan_tiers t on t.key = s.tier where o.id = $1",
    1,
    {UUIDOID}};
Query effective_query = {
    "select f, (s.effective_limits -> f ->> 'limit')::int8, s.effective_limits -> f ->> 'period', "
    "s.effective_limits -> f ->> 'mode' "
    "from switchboard.subscriptions s, unnest(s.effective_features) as f where s.org_id = $1",
    1,
    {UUIDOID}};
Query overrides_query = {
    "select feature, enabled, usage_limit, limit_mode, "
    "(extract(epoch from expires_at) * 1e6)::int8 "
    "from switchboard.feature_overrides where org_id = $1",
    1,
    {UUIDOID}};

ent::Grant grant_from(const char* limit, const char* period, const char* mode) {
  ent::Grant g;
  g.limit = opt_int(limit);
  g.period = ent::parse_period(str(period)).value_or(ent::Period::billing_period);
  g.mode = ent::parse_mode(str(mode)).value_or(ent::Mode::hard);
  return g;
}

std::shared_ptr<const ent::Catalog> load_catalog() {
  auto c = std::make_shared<ent::Catalog>();
  TextRows f = spi_query(features_query, nullptr, nullptr, ReadMode::fresh);
  for (uint64 i = 0; i < f.count; ++i) {
    c->features[f.at(i, 0)] = ent::Feature{f.at(i, 0), is_true(f.at(i, 1)), str(f.at(i, 2))};
    c->feature_keys.push_back(f.at(i, 0));
  }
  TextRows t = spi_query(tiers_query, nullptr, nullptr, ReadMode::fresh);
  for (uint64 i = 0; i < t.count; ++i)
    c->tiers.push_back(ent::Tier{t.at(i, 0), std::atoi(t.at(i, 1)), str(t.at(i, 2))});
  TextRows g = spi_query(grants_query, nullptr, nullptr, ReadMode::fresh);
  for (uint64 i = 0; i < g.count; ++i)
    c->grants[g.at(i, 0)][g.at(i, 1)] = grant_from(g.at(i, 2), g.at(i, 3), g.at(i, 4));
  return c;
}

std::shared_ptr<const ent::KillSwitches> load_kills() {
  auto k = std::make_shared<ent::KillSwitches>();
  TextRows rows = spi_query(kills_query, nullptr, nullptr, ReadMode::fresh);
  for (uint64 i = 0; i < rows.count; ++i) (*k)[rows.at(i, 0)] = str(rows.at(i, 1));
  return k;
}

ent::Subscription subscription_from(const TextRows& r) {
  ent::Subscription s;
  s.tier = r.at(0, 1);
  s.status = str(r.at(0, 2));
  s.trial_ends_at = opt_int(r.at(0, 3));
  s.period_start = opt_int(r.at(0, 4)).value_or(0);
  s.period_end = opt_int(r.at(0, 5)).value_or(0);
  s.billing_cycle = str(r.at(0, 6));
  s.overage_rate = str(r.at(0, 7));
  return s;
}

std::shared_ptr<const ent::OrgState> load_org(const Uuid& org) {
  pg_uuid_t key;
  memcpy(key.data, org.bytes.data(), 16);
  Datum args[1] = {UUIDPGetDatum(&key)};
  TextRows o = spi_query(org_query, args, nullptr, ReadMode::fresh);
  if (o.count == 0)
    throw Error("P0002", "organization not found", "org_id: " + to_string(org));
  auto state = std::make_shared<ent::OrgState>();
  state->timezone = str(o.at(0, 0));
  if (o.at(0, 1)) {
    state->subscription = subscription_from(o);
    TextRows e = spi_query(effective_query, args, nullptr, ReadMode::fresh);
    for (uint64 i = 0; i < e.count; ++i)
      state->subscription->effective[e.at(i, 0)] = grant_from(e.at(i, 1), e.at(i, 2), e.at(i, 3));
  }
  TextRows v = spi_query(overrides_query, args, nullptr, ReadMode::fresh);
  for (uint64 i = 0; i < v.count; ++i) {
    ent::Override& ov = state->overrides[v.at(i, 0)];
    ov.enabled = is_true(v.at(i, 1));
    ov.limit = opt_int(v.at(i, 2));
    if (v.at(i, 3)) ov.mode = ent::parse_mode(v.at(i, 3));
    ov.expires_at = opt_int(v.at(i, 4));
  }
  return state;
}

// The slot's value, loaded when empty; kept unless an invalidation raced with the load.
template <typename T, typename Load>
std::shared_ptr<T> cached(Slot<T>& slot, Load load) {
  if (slot.value) return slot.value;
  prepare_cache_load(slot.id);
  uint64_t before = cache_generation(slot.id);
  std::shared_ptr<T> fresh = load();
  if (cache_generation(slot.id) == before) slot.value = fresh;
  return fresh;
}

}  // namespace

std::shared_ptr<const ent::Catalog> catalog() { return cached(catalog_slot, load_catalog); }

std::shared_ptr<const ent::KillSwitches> kill_switches() { return cached(kills_slot, load_kills); }

std::shared_ptr<const ent::OrgState> org_state(const Uuid& org) {
  std::shared_ptr<OrgMap> orgs = cached(orgs_slot, [] { return std::make_shared<OrgMap>(); });
  if (auto it = orgs->find(org); it != orgs->end()) return it->second;
  uint64_t before = cache_generation(orgs_slot.id);
  std::shared_ptr<const ent::OrgState> state = load_org(org);
  if (cache_generation(orgs_slot.id) != before || orgs_slot.value != orgs) return state;
  if (orgs->size() >= kCachedOrgs) orgs->clear();
  (*orgs)[org] = state;
  return state;
}

void init_entitlement_store() {
  catalog_slot.id = register_cache({"features", "plan_tiers", "plan_tier_features"},
                                   [] () noexcept { catalog_slot.value.reset(); });
  kills_slot.id =
      register_cache({"global_feature_flags"}, [] () noexcept { kills_slot.value.reset(); });
  orgs_slot.id = register_cache({"organizations", "subscriptions", "feature_overrides"},
                                [] () noexcept { orgs_slot.value.reset(); });
}

}  // namespace sb::pg
