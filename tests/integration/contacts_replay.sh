#!/usr/bin/env bash
# Call events arrive duplicated and out of order: 8 parallel clients replaying a shuffled stream of
# 20,000 provider events (Twilio, Vapi and Retell, with duplicates) for 2,000 calls, one
# transaction per event, end with exactly the calls (and call rollups) of an in-order replay by one
# client. Then two agents setting dispositions on the same call at once leave one consistent
# result and one disposition event per call each. Needs SB_TEST_HOME and SB_TEST_PORT (set by
# tests/run_all.sh); CONTACTS_CALLS scales it down for a quick run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/contacts_stream.bash"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
DB=contacts_replay CALLS=${CONTACTS_CALLS:-2000} CLIENTS=8
q() { sb_psql "$HOME_DIR" "$PORT" -d "$DB" -tA "$@"; }
fail() { echo "FAILED: $*"; exit 1; }
SHUFFLED=00000000-0000-4000-8000-0000000c5001 IN_ORDER=00000000-0000-4000-8000-0000000c5002
AGENT1=00000000-0000-4000-8000-0000000c50a1 AGENT2=00000000-0000-4000-8000-0000000c50a2

sb_psql "$HOME_DIR" "$PORT" -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB" >/dev/null
trap 'sb_psql "$HOME_DIR" "$PORT" -d postgres -c "drop database if exists $DB" >/dev/null' EXIT
q -c "set client_min_messages = warning" -c "create extension switchboard cascade" >/dev/null

# The stream (tests/integration/contacts_stream.sql): 10 events per call, duplicates included.
q -v shuffled="$SHUFFLED" -v in_order="$IN_ORDER" <<'SQL' >/dev/null
insert into switchboard.organizations (id, name, slug)
  values (:'shuffled', 'Shuffled', 'shuffled'), (:'in_order', 'In order', 'in-order');
SQL
contacts_stream_load q "$CALLS"
[ "$(q -c "select count(*) from stream")" = "$((CALLS * 10))" ] || fail "the stream does not hold 10 events per call"

# In order, one client.
q -v org="$IN_ORDER" <<<"select count(switchboard.record_call_event(:'org', s.provider, s.event))
  from (select provider, event from stream order by call, step) s" >/dev/null

# Shuffled, 8 clients, one transaction per event.
contacts_stream_replay q $(for k in $(seq "$CLIENTS"); do echo "$SHUFFLED"; done) || fail "a replay client failed"

# The same calls, column for column, and the same call rollups.
same=$(q -v a="$SHUFFLED" -v b="$IN_ORDER" <<'SQL'
with c as (
  select org_id, provider, provider_call_id, status, outcome, direction, from_number, to_number, assistant_id,
         started_at, answered_at, ended_at, duration_seconds, answered_by, ended_reason, recording_url,
         recording_duration_seconds, transcript, summary, cost, transferred_to, fold
    from switchboard.calls)
select (select count(*) from (select provider, provider_call_id, status, outcome, direction, from_number, to_number,
          assistant_id, started_at, answered_at, ended_at, duration_seconds, answered_by, ended_reason, recording_url,
          recording_duration_seconds, transcript, summary, cost, transferred_to, fold from c where org_id = :'a'
        except select provider, provider_call_id, status, outcome, direction, from_number, to_number,
          assistant_id, started_at, answered_at, ended_at, duration_seconds, answered_by, ended_reason, recording_url,
          recording_duration_seconds, transcript, summary, cost, transferred_to, fold from c where org_id = :'b') x)
    || ' ' || (select count(*) from c where org_id = :'a') || ' ' || (select count(*) from c where org_id = :'b')
    || ' ' || (select count(*) from (
          select hour, dimension, count, amount from switchboard.contact_metrics where org_id = :'a' and metric = 'calls' and (count <> 0 or amount <> 0)
          except
          select hour, dimension, count, amount from switchboard.contact_metrics where org_id = :'b' and metric = 'calls' and (count <> 0 or amount <> 0)) y)
SQL
)
[ "$same" = "0 $CALLS $CALLS 0" ] || fail "shuffled replay differs from the in-order one (differing calls, calls, calls, differing rollups: $same)"
echo "ok: $((CALLS * 10)) events by $CLIENTS clients in shuffled order = the in-order replay ($CALLS calls)"

# No lost update: the call rollups the 8 clients' triggers wrote equal a recount of the calls.
recount=$(q -v a="$SHUFFLED" <<'SQL'
select count(*) from (
  (select hour, dimension, count, amount from switchboard.contact_metrics
    where org_id = :'a' and metric = 'calls' and (count <> 0 or amount <> 0)
   except
   select date_trunc('hour', coalesce(started_at, created_at), 'UTC'), coalesce(outcome, 'open'), count(*),
          coalesce(sum(cost), 0) from switchboard.calls where org_id = :'a' group by 1, 2)
  union all
  (select date_trunc('hour', coalesce(started_at, created_at), 'UTC'), coalesce(outcome, 'open'), count(*),
          coalesce(sum(cost), 0) from switchboard.calls where org_id = :'a' group by 1, 2
   except
   select hour, dimension, count, amount from switchboard.contact_metrics
    where org_id = :'a' and metric = 'calls' and (count <> 0 or amount <> 0))) x
SQL
)
[ "$recount" = 0 ] || fail "the call rollups of the shuffled replay differ from a recount of its calls in $recount rows"
echo "ok: the call rollups written by $CLIENTS concurrent clients equal a recount of the calls"
q -v org="$SHUFFLED" <<<"select status || ':' || coalesce(outcome, '-') || '=' || count(*) from switchboard.calls where org_id = :'org' group by status, outcome order by 1" | tr '\n' ' '
echo

# Two agents set dispositions on the same calls at once: every call ends with one of them, its
# disposition and notes from the same call, and each set_disposition left exactly one event.
q -v org="$SHUFFLED" -v a1="$AGENT1" -v a2="$AGENT2" <<'SQL' >/dev/null
insert into switchboard.organization_members (org_id, user_id, role) values (:'org', :'a1', 'agent'), (:'org', :'a2', 'agent');
insert into switchboard.contacts (org_id, phone) select :'org', '+1415556' || lpad(c::text, 4, '0') from generate_series(1, 60) c;
update switchboard.calls set contact_id = k.id from switchboard.contacts k
 where calls.org_id = :'org' and k.org_id = :'org' and k.phone = calls.to_number;
select switchboard.upsert_disposition(:'org', 'interested', '{"stage": "Interested", "createMissingStage": true}');
select switchboard.upsert_disposition(:'org', 'callback', '{"stage": "Callback", "createMissingStage": true, "callbackAfterMinutes": 30}');
SQL
pids=()
for who in "$AGENT1:interested" "$AGENT2:callback"; do
  user=${who%%:*} disp=${who##*:}
  PGOPTIONS="-c request.jwt.claims={\"sub\":\"$user\",\"role\":\"authenticated\"} -c replay.org=$SHUFFLED -c replay.disp=$disp" q <<'SQL' >/dev/null &
set role authenticated;
do $$
declare
  r record;
begin
  for round in 1..5 loop
    for r in select c.id from switchboard.calls c
              where c.org_id = current_setting('replay.org')::uuid and c.provider = 'twilio' and c.contact_id is not null
              order by c.id loop
      perform switchboard.set_disposition(current_setting('replay.org')::uuid, r.id, current_setting('replay.disp'),
                                          jsonb_build_object('notes', current_setting('replay.disp') || ' ' || round));
      commit;
    end loop;
  end loop;
end
$$;
SQL
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a disposition client failed"; done
result=$(q -v org="$SHUFFLED" <<'SQL'
with c as (select * from switchboard.calls where org_id = :'org' and provider = 'twilio' and contact_id is not null)
select (select count(*) from c) || ' ' ||
       (select count(*) from switchboard.disposition_events e join c on c.id = e.call_id) || ' ' ||
       (select count(*) from c where disposition_notes not like disposition || ' %') || ' ' ||
       (select count(*) from c join switchboard.contacts k on k.org_id = c.org_id and k.id = c.contact_id
         join switchboard.pipeline_stages s on s.org_id = k.org_id and s.id = k.stage_id
        where lower(s.name) <> c.disposition) || ' ' ||
       (select count(*) from (select e.call_id, e.previous_disposition from switchboard.disposition_events e
                               join c on c.id = e.call_id group by 1, 2 having count(*) > 1 and e.previous_disposition is null) z)
SQL
)
set -- $result
[ "$1" -gt 0 ] || fail "no calls with contacts to set dispositions on"
[ "$2" = "$(($1 * 10))" ] || fail "expected one disposition event per call ($(($1 * 10))), found $2"
[ "$3" = 0 ] || fail "$3 calls carry a disposition with another call's notes"
[ "$4" = 0 ] || fail "$4 contacts are in a stage that is not their call's disposition"
[ "$5" = 0 ] || fail "$5 calls had two first dispositions"
echo "ok: two agents, $1 calls, 10 dispositions each: $2 events, calls and contacts consistent"

# 8 clients import the same 2,000 phones at once, each in its own order, half of them new and half
# already there: every import ends (no deadlock between their merges or their inserts), and the
# organisation holds one contact per phone.
q -v org="$IN_ORDER" <<<"insert into switchboard.contacts (org_id, phone)
  select :'org', '+1415557' || lpad(p::text, 4, '0') from generate_series(1, 2000, 2) p" >/dev/null
pids=()
for k in $(seq "$CLIENTS"); do
  q -v org="$IN_ORDER" -v k="$k" <<'SQL' >"$SB_HOME/contacts_import_$k.out" 2>&1 &
select switchboard.import_contacts(:'org', (
  select jsonb_agg(jsonb_build_object('phone', '+1415557' || lpad(p::text, 4, '0'), 'firstName', 'Client ' || :'k')
                   order by md5(p::text || :'k'))
    from generate_series(1, 2000) p)) - 'rejected' - 'reason';
SQL
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
answers=$(grep -h '"merged"' "$SB_HOME"/contacts_import_*.out | sort | uniq -c | awk '{$1=$1; print}' | tr '\n' ';' || true)
errors=$(grep -h '^ERROR' "$SB_HOME"/contacts_import_*.out | sort | uniq -c | tr '\n' ';' || true)
rm -f "$SB_HOME"/contacts_import_*.out
[ -z "$errors" ] || fail "concurrent imports of the same phones: $errors answered: $answers"
count=$(q -v org="$IN_ORDER" <<<"select count(*) from switchboard.contacts where org_id = :'org' and phone like '+1415557%'")
[ "$count" = 2000 ] || fail "concurrent imports left $count contacts for 2,000 phones"
echo "ok: $CLIENTS concurrent imports of the same 2,000 phones all answered ($answers), one contact per phone"
