#include "core/entitlements/entitlements.hpp"

#include <algorithm>

#include "core/base/base_error.hpp"
#include "core/base/base_json_writer.hpp"

namespace sb::ent {
namespace {

bool override_live(const Override& o, Micros now) {
  return !o.expires_at || now < *o.expires_at;
}

// The grant an enabling override puts in force, on top of what the plan granted.
Grant override_grant(const Override& o, const std::optional<Grant>& plan) {
  Grant g = plan ? *plan : Grant{std::nullopt, Period::month, Mode::hard};
  if (o.limit) g.limit = o.limit;
  if (o.mode) g.mode = *o.mode;
  return g;
}

std::optional<Grant> plan_grant(const OrgState& org, std::string_view feature, Micros now) {
  if (!org.subscription || !subscription_active(*org.subscription, now)) return std::nullopt;
  auto it = org.subscription->effective.find(std::string(feature));
  if (it == org.subscription->effective.end()) return std::nullopt;
  return it->second;
}

// The grant a tenant's cap leaves of the plan's: its limit, hard, when that is no more than the
// plan's; nothing when the plan grants nothing or the cap no longer narrows it.
std::optional<Grant> tenant_cap(const Override& o, const std::optional<Grant>& plan) {
  if (!o.limit || !plan || (plan->limit && *o.limit > *plan->limit)) return std::nullopt;
  return Grant{o.limit, plan->period, Mode::hard};
}

std::string limit_text(const std::optional<int64_t>& limit) {
  return limit ? std::to_string(*limit) : "null";
}

const char* const kAskBilling =
    "Grants and higher limits come from the billing backend: an owner asks with "
    "request_plan_change(org_id, tier).";

}  // namespace

std::string_view reason_code(Reason reason) {
  switch (reason) {
    case Reason::plan:
      return "PLAN";
    case Reason::override_grant:
      return "OVERRIDE";
    case Reason::no_subscription:
      return "NO_SUBSCRIPTION";
    case Reason::not_in_plan:
      return "NOT_IN_PLAN";
    case Reason::override_disabled:
      return "OVERRIDE_DISABLED";
    case Reason::kill_switch:
      return "KILL_SWITCH";
    case Reason::limit_exceeded:
      return "LIMIT_EXCEEDED";
    case Reason::unknown_feature:
      return "UNKNOWN_FEATURE";
  }
  return "UNKNOWN_FEATURE";
}

std::optional<Period> parse_period(std::string_view text) {
  if (text == "day") return Period::day;
  if (text == "month") return Period::month;
  if (text == "billing_period") return Period::billing_period;
  return std::nullopt;
}

std::string_view period_name(Period period) {
  switch (period) {
    case Period::day:
      return "day";
    case Period::month:
      return "month";
    case Period::billing_period:
      return "billing_period";
  }
  return "month";
}

std::optional<Mode> parse_mode(std::string_view text) {
  if (text == "hard") return Mode::hard;
  if (text == "soft") return Mode::soft;
  return std::nullopt;
}

std::string_view mode_name(Mode mode) {
  return mode == Mode::hard ? "hard" : "soft";
}

const std::string* Catalog::key_of_bit(int bit) const {
  for (const auto& entry : features)
    if (entry.second.bit == bit) return &entry.first;
  return nullptr;
}

std::string Catalog::bitmap_of(const std::map<std::string, Grant>& grants) const {
  std::string bits;
  for (const auto& entry : grants) {
    const Feature* f = feature(entry.first);
    if (!f || f->bit < 0) continue;
    std::size_t byte = static_cast<std::size_t>(f->bit) / 8;
    if (bits.size() <= byte) bits.resize(byte + 1, '\0');
    bits[byte] = static_cast<char>(bits[byte] | (1 << (f->bit % 8)));
  }
  return bits;
}

const Feature* Catalog::feature(std::string_view key) const {
  auto it = features.find(std::string(key));
  return it == features.end() ? nullptr : &it->second;
}

const Tier* Catalog::tier(std::string_view key) const {
  for (const Tier& t : tiers)
    if (t.key == key) return &t;
  return nullptr;
}

bool subscription_active(const Subscription& s, Micros now) {
  if (s.status == "active" || s.status == "past_due") return true;
  if (s.status == "trialing") return s.trial_ends_at && now < *s.trial_ends_at;
  if (s.status == "cancelled") return now < s.period_end;
  return false;
}

Decision decide(const Catalog& catalog, const OrgState& org, const KillSwitches& kills,
                std::string_view feature, Micros now) {
  Decision d;
  d.feature = catalog.feature(feature);
  if (org.subscription) {
    d.plan = org.subscription->tier;
    d.overage_rate = org.subscription->overage_rate;
  }
  if (!d.feature) return d;
  if (auto kill = kills.find(d.feature->key); kill != kills.end()) {
    d.reason = Reason::kill_switch;
    d.kill_reason = kill->second;
    return d;
  }
  std::optional<Grant> plan = plan_grant(org, feature, now);
  auto o = org.overrides.find(d.feature->key);
  if (o != org.overrides.end() && override_live(o->second, now)) {
    std::optional<Grant> cap = tenant_cap(o->second, plan);
    if (!o->second.enabled || !o->second.tenant || cap) {
      d.access = o->second.enabled;
      d.reason = d.access ? Reason::override_grant : Reason::override_disabled;
      d.by_override = true;
      if (d.access) d.grant = o->second.tenant ? cap : override_grant(o->second, plan);
      return d;
    }
  }
  if (!org.subscription || !subscription_active(*org.subscription, now)) {
    d.reason = Reason::no_subscription;
    return d;
  }
  d.access = plan.has_value();
  d.reason = d.access ? Reason::plan : Reason::not_in_plan;
  d.grant = plan;
  return d;
}

void require_narrowing(const Catalog& catalog, const OrgState& org, std::string_view feature,
                       const Override& proposed, Micros now) {
  if (!proposed.enabled) return;
  std::string name(feature);
  if (!proposed.limit)
    throw Error("42501", "a tenant override can only disable a feature or lower its limit",
                "The override enables feature \"" + name + "\" with no usage_limit.", kAskBilling);
  if (proposed.mode == Mode::soft)
    throw Error("42501", "a tenant limit is a hard cap",
                "The override of feature \"" + name + "\" asks for limit_mode soft.",
                "Leave limit_mode null or hard; soft limits (billed overage) are billing terms.");
  const Feature* f = catalog.feature(feature);
  std::optional<Grant> plan = plan_grant(org, feature, now);
  if (!f || !f->metered || !plan)
    throw Error("42501", "the plan does not grant this feature",
                "The plan grants no usage limit of feature \"" + name + "\" to lower.",
                kAskBilling);
  if (!tenant_cap(proposed, plan))
    throw Error("42501", "a tenant override cannot raise a limit",
                "The usage_limit given for feature \"" + name + "\" was " +
                    std::to_string(*proposed.limit) + "; the plan's limit is " +
                    limit_text(plan->limit) + ".",
                kAskBilling);
}

int64_t checked_sum(std::string_view message, std::initializer_list<Term> terms,
                    std::string_view context) {
  int64_t sum = 0;
  bool overflow = false;
  for (const Term& t : terms) overflow = __builtin_add_overflow(sum, t.value, &sum) || overflow;
  if (!overflow) return sum;
  std::string detail = "The sum of";
  for (const Term& t : terms)
    detail += std::string(&t == terms.begin()     ? " "
                          : &t == terms.end() - 1 ? " and "
                                                  : ", ") +
              std::string(t.name) + " " + std::to_string(t.value);
  throw Error("22003", std::string(message), detail + std::string(context) + " is beyond bigint.");
}

const Tier* upgrade_tier(const Catalog& catalog, const Decision& d) {
  bool more = d.reason == Reason::limit_exceeded;
  if (d.by_override || !d.feature ||
      !(more || d.reason == Reason::not_in_plan || d.reason == Reason::no_subscription))
    return nullptr;
  const Tier* current = d.reason == Reason::no_subscription ? nullptr : catalog.tier(d.plan);
  for (const Tier& t : catalog.tiers) {
    if (current && t.rank <= current->rank) continue;
    auto grants = catalog.grants.find(t.key);
    if (grants == catalog.grants.end()) continue;
    auto g = grants->second.find(d.feature->key);
    if (g == grants->second.end()) continue;
    if (!more || !g->second.limit || (d.grant->limit && *g->second.limit > *d.grant->limit))
      return &t;
  }
  return nullptr;
}

std::map<std::string, Grant> effective_grants(const Catalog& catalog, std::string_view tier,
                                              const std::map<std::string, AddonValue>& addons) {
  if (!catalog.tier(tier))
    throw Error("22023", "unknown plan tier",
                "Plan tier \"" + std::string(tier) + "\" is not in the plan catalog.");
  auto grants = catalog.grants.find(std::string(tier));
  std::map<std::string, Grant> out;
  if (grants != catalog.grants.end()) out = grants->second;
  for (const auto& [key, value] : addons) {
    const Feature* f = catalog.feature(key);
    if (!f)
      throw Error("22023", "unknown feature in add-ons",
                  "Feature \"" + key + "\" is not in the feature catalog.");
    if (value.grant) {
      out.emplace(key, Grant{});
      continue;
    }
    if (!f->metered)
      throw Error("22023", "a quantity add-on needs a metered feature",
                  "Feature \"" + key + "\" is not metered.",
                  "Use true to grant a boolean feature.");
    Grant& g = out.emplace(key, Grant{0, Period::billing_period, Mode::hard}).first->second;
    if (g.limit)
      *g.limit = checked_sum("limit plus add-on is out of range for bigint",
                             {{"limit", *g.limit}, {"add-on", value.quantity}},
                             " of feature \"" + key + "\"");
  }
  return out;
}

std::string limits_json(const std::map<std::string, Grant>& grants, const Catalog& catalog) {
  JsonWriter w;
  w.begin_object();
  for (const auto& [key, g] : grants) {
    const Feature* f = catalog.feature(key);
    if (!f || !f->metered) continue;
    w.key(key).begin_object();
    w.field("limit", g.limit);
    w.key("period").string(period_name(g.period));
    w.key("mode").string(mode_name(g.mode));
    w.end_object();
  }
  w.end_object();
  return w.text();
}

}  // namespace sb::ent

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
