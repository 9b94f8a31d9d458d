# What runs on a shard through the coordinator: a calendar row passed to the slot generator is the
# shard's row type on the worker (switchboard.calendars_<shardid>); a grant added to or taken from
# a plan tier (reference tables, whose statement triggers with a transition table run on every
# node's placement) reaches the subscriptions on both workers.
org=e0000000-0000-4000-8000-000000000003
check "_booking_slots with a calendar row through the coordinator" "6" 0 \
  "select count(*) from switchboard.calendars c,
          switchboard._booking_slots(c, '{}', '{}', '{}', '2026-03-09 09:00+00', '2026-03-09 12:00+00', 30, '2026-03-01') s
    where c.org_id = '$org'"
check "_booking_refusal with a calendar row through the coordinator" "OUTSIDE_HOURS" 0 \
  "select switchboard._booking_refusal(c, '{}', '{}', '{}', '2026-03-09 07:00+00', 30, '2026-03-01')
     from switchboard.calendars c where c.org_id = '$org' limit 1"
# 30_entitlements.sh's organisations 1-20 (odd: broadcast_starter) are on both workers.
grants() {
  local g answers=""
  for g in $(seq 1 20); do
    answers+=$(citus_psql 0 -tA -c "select switchboard.has_feature('e0000000-0000-4000-8000-$(printf '%012d' "$g")', 'citus_grant')")
  done
  echo "$answers"
}
citus_psql 0 -q -c "insert into switchboard.features (key, name, category, kind)
                      values ('citus_grant', 'Citus grant', 'test', 'boolean')" >/dev/null
check "a feature granted to no tier: nowhere" "ffffffffffffffffffff" 0 "select '$(grants)'"
got=$(citus_psql 0 -tA -c "insert into switchboard.plan_tier_features (tier, feature)
                             values ('broadcast_starter', 'citus_grant')" 2>&1)
check "a grant added to a tier reaches its subscriptions on both workers" \
  "tftftftftftftftftftf" 0 "select '$got$(grants)'"
got=$(citus_psql 0 -tA -c "update switchboard.features set kind = kind where key = 'citus_grant'" 2>&1)
check "a feature's kind or bit updated resyncs every subscription on both workers" \
  "tftftftftftftftftftf" 0 "select '$got$(grants)'"
got=$(citus_psql 0 -tA -c "delete from switchboard.plan_tier_features where feature = 'citus_grant'" 2>&1)
check "a grant taken from a tier leaves its subscriptions on both workers" \
  "ffffffffffffffffffff" 0 "select '$got$(grants)'"
citus_psql 0 -q -c "delete from switchboard.features where key = 'citus_grant'" >/dev/null
