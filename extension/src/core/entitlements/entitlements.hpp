// Entitlement decisions: which source (kill switch, override, plan) decides whether an
// organisation may use a feature, with which limit, and what an upgrade would take.
// Pure data in, decision out: the PostgreSQL glue loads the data and counts the usage.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb::ent {

using Micros = int64_t;  // microseconds since the Unix epoch

enum class Reason {
  plan,
  override_grant,
  no_subscription,
  not_in_plan,
  override_disabled,
  kill_switch,
  limit_exceeded,
  unknown_feature
};

// PLAN, OVERRIDE, NO_SUBSCRIPTION, NOT_IN_PLAN, OVERRIDE_DISABLED, KILL_SWITCH, LIMIT_EXCEEDED or
// UNKNOWN_FEATURE.
std::string_view reason_code(Reason reason);

enum class Period { day, month, billing_period };
enum class Mode { hard, soft };

std::optional<Period> parse_period(std::string_view text);
std::string_view period_name(Period period);
std::optional<Mode> parse_mode(std::string_view text);
std::string_view mode_name(Mode mode);

// A grant of a feature; metered grants carry a limit per period (no amount = unlimited).
struct Grant {
  std::optional<int64_t> limit;
  Period period = Period::billing_period;
  Mode mode = Mode::hard;
};

struct Feature {
  std::string key;
  bool metered = false;
  std::string unit;
  int bit = -1;  // its position in the effective_features bitmaps
};

struct Tier {
  std::string key;
  int rank = 0;
  std::string overage_rate;  // numeric text, e.g. "0.0200"
};

// The catalog: features, tiers (cheapest first) and what each tier grants.
struct Catalog {
  std::unordered_map<std::string, Feature> features;
  std::vector<std::string> feature_keys;                                 // sorted
  std::vector<Tier> tiers;                                               // by rank
  std::unordered_map<std::string, std::map<std::string, Grant>> grants;  // tier -> feature -> grant

  const Feature* feature(std::string_view key) const;
  const Tier* tier(std::string_view key) const;
  // The key of the feature at `bit`, or nullptr (a deleted feature's bit).
  const std::string* key_of_bit(int bit) const;
  // The bitmap of the features `grants` names (bit n = byte n / 8, mask 1 << n % 8).
  std::string bitmap_of(const std::map<std::string, Grant>& grants) const;
};

struct Subscription {
  std::string tier;
  std::string status;  // active, trialing, cancelled, suspended, past_due
  std::optional<Micros> trial_ends_at;
  Micros period_start = 0;
  Micros period_end = 0;
  std::string billing_cycle;               // monthly, annual
  std::map<std::string, Grant> effective;  // features granted by tier and add-ons
  std::string overage_rate;
};

// An organisation's override of one feature. The billing backend's (service role) grant or deny
// as they say; a tenant's (set by an admin of the organisation) can only narrow the plan: it
// disables the feature, or caps a metered feature the plan grants (a hard cap that never raises
// the plan's limit, however the plan changes later).
struct Override {
  bool enabled = false;
  std::optional<int64_t> limit;
  std::optional<Mode> mode;
  std::optional<Micros> expires_at;
  bool tenant = false;
};

// What an organisation has, as loaded from its subscription and overrides.
struct OrgState {
  std::string timezone;
  std::optional<Subscription> subscription;
  std::unordered_map<std::string, Override> overrides;
};

// Kill switches by feature: true = switched off everywhere, with its reason.
using KillSwitches = std::unordered_map<std::string, std::string>;

struct Decision {
  bool access = false;
  Reason reason = Reason::unknown_feature;
  const Feature* feature = nullptr;
  std::optional<Grant> grant;  // the grant in force (metered: its limit)
  std::string plan;            // the subscription's tier, if any
  std::string overage_rate;    // the tier's rate, if any
  std::string kill_reason;
  bool by_override = false;  // the grant in force comes from an override
};

// True while the subscription's status still grants access at `now` (past_due keeps access
// during dunning; a cancelled one until its period ends; a trial until it ends).
bool subscription_active(const Subscription& subscription, Micros now);

// Ensures a tenant's override of `feature` only narrows what the organisation has without
// overrides at `now` (its plan and add-ons): it disables the feature, or is a hard cap on a
// metered feature the plan grants, no higher than the plan's limit. Raises 42501 naming what
// would widen otherwise.
void require_narrowing(const Catalog& catalog, const OrgState& org, std::string_view feature,
                       const Override& proposed, Micros now);

// Decides access to `feature`: kill switch > unexpired override > plan > deny.
Decision decide(const Catalog& catalog, const OrgState& org, const KillSwitches& kills,
                std::string_view feature, Micros now);

// The tier to suggest after a denial: the cheapest tier above the current plan that grants the
// feature (with a higher limit than the current one after LIMIT_EXCEEDED); nullptr when none
// would help (no such tier, or an override decided).
const Tier* upgrade_tier(const Catalog& catalog, const Decision& decision);

// One named value of a sum of units (for the error naming them).
struct Term {
  std::string_view name;
  int64_t value;
};

// The sum of `terms`; raises 22003 (`message`, detail "The sum of name value, ... and name
// value<context> is beyond bigint.") instead of leaving the bigint range.
int64_t checked_sum(std::string_view message, std::initializer_list<Term> terms,
                    std::string_view context = {});

// What a tier and its add-ons grant: add-on `true` grants a feature, a number adds to a metered
// limit. Throws sb::Error 22023 naming an unknown tier, feature or add-on value, 22003 when a
// limit plus its add-on leaves the bigint range.
struct AddonValue {
  bool grant = false;
  int64_t quantity = 0;
};
std::map<std::string, Grant> effective_grants(const Catalog& catalog, std::string_view tier,
                                              const std::map<std::string, AddonValue>& addons);

// The grants as stored in subscriptions.effective_limits: {"calls":{"limit":1000,...}, ...}.
std::string limits_json(const std::map<std::string, Grant>& grants, const Catalog& catalog);

}  // namespace sb::ent
