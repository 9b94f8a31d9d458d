// Helpers of the entitlements integration tests: organisations with members and subscriptions,
// and the answers of the entitlement functions as fields (extracted by the server).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pg.hpp"

namespace enttest {

using sbtest::Connection;

// A random lowercase hex string of `n` characters (from the server).
inline std::string random_hex(Connection& c, int n = 12) {
  return c
      .must("select substr(md5(random()::text || clock_timestamp()::text), 1, $1::int)",
            {std::to_string(n)})
      .value();
}

// An organisation with a member of each role, made by the superuser.
struct Org {
  std::string id;
  std::map<std::string, std::string> users;  // role -> user id
  const std::string& user(const std::string& role) const { return users.at(role); }
};

// Creates an organisation (random slug) with one member of each role and, unless `tier` is
// empty, a subscription on `tier`.
inline Org make_org(Connection& admin, const std::string& tier = "broadcast_starter") {
  Org org;
  std::string slug = "it-ent-" + random_hex(admin);
  org.id =
      admin
          .must(
              "insert into switchboard.organizations (name, slug) values ('IT entitlements', $1) "
              "returning id",
              {slug})
          .value();
  for (const char* role : {"viewer", "agent", "manager", "admin", "owner"}) {
    std::string user = sbtest::new_uuid(admin);
    admin.must(
        "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, $3)",
        {org.id, user, role});
    org.users[role] = user;
  }
  if (!tier.empty()) admin.must("select switchboard.set_subscription($1, $2)", {org.id, tier});
  return org;
}

// The fields of one jsonb answer, as text ("<null>" for JSON null or a missing key).
struct Answer {
  std::map<std::string, std::string> fields;
  std::string text;  // the whole answer
  std::string sqlstate;
  std::string message;
  bool ok() const { return sqlstate.empty(); }
  std::string operator[](const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? "<null>" : it->second;
  }
  long long num(const std::string& key) const { return std::stoll((*this)[key]); }
};

// Runs `call` (an expression yielding jsonb, with $n parameters) and extracts `keys`.
inline Answer answer(Connection& c, const std::string& call, const std::vector<std::string>& params,
                     const std::vector<std::string>& keys) {
  std::string sql = "select r::text";
  for (size_t i = 0; i < keys.size(); ++i) sql += ", r ->> '" + keys[i] + "'";
  sql += " from " + call + " as r";
  sbtest::Result res = c.run(sql, params);
  Answer a;
  if (!res.ok()) {
    a.sqlstate = res.sqlstate;
    a.message = res.message;
    return a;
  }
  a.text = res.rows.at(0).at(0);
  for (size_t i = 0; i < keys.size(); ++i) a.fields[keys[i]] = res.rows.at(0).at(i + 1);
  return a;
}

inline Answer check(Connection& c, const std::string& org, const std::string& feature,
                    int quantity = 1) {
  return answer(
      c, "switchboard.check_feature($1, $2, $3)", {org, feature, std::to_string(quantity)},
      {"hasAccess", "reason", "plan", "limit", "used", "remaining", "overageRate", "upgradeTier"});
}

inline Answer consume(Connection& c, const std::string& org, const std::string& feature,
                      int quantity = 1, const std::string& key = "") {
  if (key.empty())
    return answer(c, "switchboard.consume_feature($1, $2, $3)",
                  {org, feature, std::to_string(quantity)},
                  {"ok", "reason", "used", "reserved", "limit", "remaining", "overage"});
  return answer(c, "switchboard.consume_feature($1, $2, $3, $4)",
                {org, feature, std::to_string(quantity), key},
                {"ok", "reason", "used", "reserved", "limit", "remaining", "overage"});
}

// The counter of the current period: used, reserved (as stored) for the feature's only row.
inline std::pair<long long, long long> counter(Connection& admin, const std::string& org,
                                               const std::string& feature) {
  sbtest::Result r = admin.must(
      "select coalesce(sum(used), 0), coalesce(sum(reserved), 0) from switchboard.feature_usage "
      "where org_id = $1 and feature = $2",
      {org, feature});
  return {std::stoll(r.rows.at(0).at(0)), std::stoll(r.rows.at(0).at(1))};
}

}  // namespace enttest
