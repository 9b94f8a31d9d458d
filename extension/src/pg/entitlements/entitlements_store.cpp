#include "pg/entitlements/entitlements_store.hpp"

#include <cstdlib>
#include <memory>

#include "pg/base/base_boundary.hpp"
#include "pg/entitlements/entitlements_org_reader.hpp"
#include "pg/tenancy/tenancy_org_versions.hpp"
#include "pg/base/base_store.hpp"

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

std::string str(const char* text) {
  return text ? text : "";
}

bool is_true(const char* text) {
  return text && text[0] == 't';
}

// A cache slot: the shared value (empty when cleared) and the cache id for invalidation.
template <typename T>
struct Slot {
  std::shared_ptr<T> value;
  int id = -1;
};

// An organisation's state and the shared change counter it was loaded under.
struct CachedOrg {
  uint64_t version = 0;
  std::shared_ptr<const ent::OrgState> state;
};
using OrgMap = std::unordered_map<Uuid, CachedOrg, UuidHash>;

Slot<const ent::Catalog> catalog_slot;
Slot<const ent::KillSwitches> kills_slot;
Slot<OrgMap> orgs_slot;

Query features_query = {
    "select key, kind OPERATOR(pg_catalog.=) 'metered', unit, bit from switchboard.features "
    "order by key",
    0,
    {}};
Query tiers_query = {
    "select key, rank, overage_rate::pg_catalog.text from switchboard.plan_tiers "
    "order by rank, key",
    0,
    {}};
Query grants_query = {
    "select tier, feature, usage_limit, coalesce(period, 'billing_period'), mode "
    "from switchboard.plan_tier_features",
    0,
    {}};
Query kills_query = {
    "select feature, reason from switchboard.global_feature_flags where not enabled", 0, {}};
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
    c->features[f.at(i, 0)] =
        ent::Feature{f.at(i, 0), is_true(f.at(i, 1)), str(f.at(i, 2)), std::atoi(f.at(i, 3))};
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

ent::Subscription subscription_from(const TextRows& r, uint64 i) {
  ent::Subscription s;
  s.tier = r.at(i, 2);
  s.status = str(r.at(i, 3));
  s.trial_ends_at = opt_int(r.at(i, 4));
  s.period_start = opt_int(r.at(i, 5)).value_or(0);
  s.period_end = opt_int(r.at(i, 6)).value_or(0);
  s.billing_cycle = str(r.at(i, 7));
  s.overage_rate = str(r.at(i, 8));
  return s;
}

ent::Override override_from(const TextRows& r, uint64 i) {
  ent::Override o;
  o.enabled = is_true(r.at(i, 2));
  o.limit = opt_int(r.at(i, 3));
  if (r.at(i, 4)) o.mode = ent::parse_mode(r.at(i, 4));
  o.expires_at = opt_int(r.at(i, 5));
  o.tenant = str(r.at(i, 6)) == "tenant";
  return o;
}

// The subscription's grants: its 'e' rows (feature bits), then the 'l' rows' limits.
void add_effective(const TextRows& rows, ent::Subscription& sub) {
  std::shared_ptr<const ent::Catalog> c = catalog();
  for (uint64 i = 0; i < rows.count; ++i)
    if (rows.at(i, 0)[0] == 'e')
      if (const std::string* key = c->key_of_bit(std::atoi(rows.at(i, 1))))
        sub.effective[*key] = grant_from(nullptr, nullptr, nullptr);
  for (uint64 i = 0; i < rows.count; ++i) {
    if (rows.at(i, 0)[0] != 'l') continue;
    auto it = sub.effective.find(rows.at(i, 1));
    if (it != sub.effective.end())
      it->second = grant_from(rows.at(i, 2), rows.at(i, 3), rows.at(i, 4));
  }
}

std::shared_ptr<const ent::OrgState> load_org(const Uuid& org) {
  TextRows rows = read_org_rows(org);
  uint64 head = 0;
  while (head < rows.count && rows.at(head, 0)[0] != 'o') ++head;
  if (head == rows.count) throw sb::organization_not_found_error(to_string(org));
  auto state = std::make_shared<ent::OrgState>();
  state->timezone = str(rows.at(head, 1));
  if (rows.at(head, 2)) {
    state->subscription = subscription_from(rows, head);
    if (const ent::Tier* tier = catalog()->tier(state->subscription->tier))
      state->subscription->overage_rate = tier->overage_rate;
  }
  for (uint64 i = 0; i < rows.count; ++i)
    if (rows.at(i, 0)[0] == 'v') state->overrides[rows.at(i, 1)] = override_from(rows, i);
  if (state->subscription) add_effective(rows, *state->subscription);
  return state;
}

// The slot's value, loaded when empty; kept unless an invalidation raced with the load.
template <typename T, typename Load>
std::shared_ptr<T> cached(Slot<T>& slot, Load load) {
  if (slot.value) return slot.value;
  bool keep = false;
  std::shared_ptr<T> fresh = load_for_cache(slot.id, load, &keep);
  if (keep) slot.value = fresh;
  return fresh;
}

}  // namespace

std::shared_ptr<const ent::Catalog> catalog() {
  return cached(catalog_slot, load_catalog);
}

std::shared_ptr<const ent::KillSwitches> kill_switches() {
  return cached(kills_slot, load_kills);
}

std::shared_ptr<const ent::OrgState> org_state(const Uuid& org) {
  std::shared_ptr<OrgMap> orgs = cached(orgs_slot, [] { return std::make_shared<OrgMap>(); });
  auto it = orgs->find(org);
  if (it != orgs->end() && it->second.version == org_version(org)) return it->second.state;
  if (it != orgs->end()) orgs->erase(it);
  uint64_t version = org_version(org);
  bool keep = false;
  std::shared_ptr<const ent::OrgState> state = load_for_cache(
      orgs_slot.id, [&] { return load_org(org); }, &keep);
  if (!keep || orgs_slot.value != orgs) return state;
  if (orgs->size() >= kCachedOrgs) orgs->clear();
  (*orgs)[org] = CachedOrg{version, state};
  return state;
}

void organization_changed(const Uuid& org) {
  note_org_change(org);
  if (orgs_slot.value) orgs_slot.value->erase(org);
}

void forget_catalog() noexcept {
  catalog_slot.value.reset();
}

void init_entitlement_store() {
  catalog_slot.id = register_cache({"features", "plan_tiers", "plan_tier_features"},
                                   []() noexcept { catalog_slot.value.reset(); });
  kills_slot.id =
      register_cache({"global_feature_flags"}, []() noexcept { kills_slot.value.reset(); });
  orgs_slot.id =
      register_cache({"organizations", "subscriptions", "feature_overrides", "plan_tiers"},
                     []() noexcept { orgs_slot.value.reset(); });
}

}  // namespace sb::pg
