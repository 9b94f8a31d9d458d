#!/usr/bin/env bash
# Call events arrive duplicated and out of order: 8 parallel clients replaying a shuffled stream of
# 20,000 provider events (Twilio, Vapi and Retell, with duplicates) for 2,000 calls, one
# transaction per event, end with exactly the calls (and call rollups) of an in-order replay by one
# client. Then two agents setting dispositions on the same call at once leave one consistent
# result and one disposition event per call each. Needs SB_TEST_HOME and SB_TEST_PORT (set by
# tests/run_all.sh); CONTACTS_CALLS scales it down for a quick run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
DB=contacts_replay CALLS=${CONTACTS_CALLS:-2000} CLIENTS=8
q() { sb_psql "$HOME_DIR" "$PORT" -d "$DB" -tA "$@"; }
fail() { echo "FAILED: $*"; exit 1; }
SHUFFLED=00000000-0000-4000-8000-0000000c5001 IN_ORDER=00000000-0000-4000-8000-0000000c5002
AGENT1=00000000-0000-4000-8000-0000000c50a1 AGENT2=00000000-0000-4000-8000-0000000c50a2

sb_psql "$HOME_DIR" "$PORT" -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB" >/dev/null
trap 'sb_psql "$HOME_DIR" "$PORT" -d postgres -c "drop database if exists $DB" >/dev/null' EXIT
q -c "set client_min_messages = warning" -c "create extension switchboard cascade" >/dev/null

# The stream: per call 9 distinct events of its provider (Twilio: status callbacks 0-3, a
# recording and, as separate deliveries, repeats; Vapi: status updates and the end-of-call report;
# Retell: call_started, call_ended, call_analyzed), then 1 duplicate of a random one: 10 per call.
q -v calls="$CALLS" -v shuffled="$SHUFFLED" -v in_order="$IN_ORDER" <<'SQL' >/dev/null
insert into switchboard.organizations (id, name, slug)
  values (:'shuffled', 'Shuffled', 'shuffled'), (:'in_order', 'In order', 'in-order');
create table stream (n bigserial, call int, step int, provider text, event jsonb);
insert into stream (call, step, provider, event)
select c, s, p, case p
  when 'twilio' then jsonb_strip_nulls(jsonb_build_object(
    'CallSid', 'CA' || c, 'AccountSid', 'ACreplay', 'Direction', 'outbound-api',
    'From', '+14155550000', 'To', '+1415556' || lpad(c::text, 4, '0'),
    'CallStatus', (array['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'in-progress',
                         'completed', null, 'ringing'])[s],
    'SequenceNumber', (array[0, 1, 2, 3, 4, 3, 4, null, 2])[s]::text,
    'Timestamp', to_char(timestamptz '2026-12-01 09:00:00+00' + c * interval '1 minute' + s * interval '5 seconds',
                         'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000',
    'CallDuration', case when s in (5, 7) then (30 + c % 300)::text end,
    'AnsweredBy', case when s >= 4 then (array['human', 'machine_end_beep'])[1 + c % 2] end,
    'RecordingSid', case when s = 8 then 'RE' || c end,
    'RecordingStatus', case when s = 8 then 'completed' end,
    'RecordingUrl', case when s = 8 then 'https://rec.example/' || c end))
  when 'vapi' then jsonb_build_object('message', jsonb_strip_nulls(jsonb_build_object(
    'type', case when s >= 8 then 'end-of-call-report' else 'status-update' end,
    'status', (array['scheduled', 'queued', 'ringing', 'in-progress', 'forwarding', 'in-progress', 'ended',
                     null, null])[s],
    'endedReason', case when s >= 7 then (array['customer-ended-call', 'customer-busy', 'voicemail'])[1 + c / 3 % 3] end,
    'timestamp', 1764579600000 + c * 60000 + s * 1000,
    'cost', case when s >= 8 then round((c % 97) / 100.0, 2) end,
    'startedAt', case when s >= 8 then '2026-12-01T09:00:00Z' end,
    'endedAt', case when s >= 8 then '2026-12-01T09:0' || (s - 5) || ':00Z' end,
    'artifact', case when s >= 8 then jsonb_build_object('transcript', 'call ' || c || ' v' || s) end,
    'call', jsonb_build_object('id', 'vapi-' || c, 'type', 'outboundPhoneCall', 'assistantId', 'asst',
                               'customer', jsonb_build_object('number', '+1415557' || lpad(c::text, 4, '0'))))))
  else jsonb_build_object('event', (array['call_started', 'call_started', 'call_ended', 'call_ended', 'call_analyzed',
                                          'call_analyzed', 'call_ended', 'call_started', 'call_analyzed'])[s],
    'call', jsonb_strip_nulls(jsonb_build_object('call_id', 'rt-' || c, 'agent_id', 'ag', 'direction', 'outbound',
      'call_status', case when s in (1, 2, 8) then 'ongoing' else 'ended' end,
      'from_number', '+14155550000', 'to_number', '+1415558' || lpad(c::text, 4, '0'),
      'start_timestamp', 1764579600000 + c * 60000,
      'end_timestamp', case when s not in (1, 2, 8) then 1764579600000 + c * 60000 + 90000 + (c % 7) * 1000 end,
      'duration_ms', case when s not in (1, 2, 8) then 90000 + (c % 7) * 1000 end,
      'disconnection_reason', case when s not in (1, 2, 8) then (array['user_hangup', 'dial_busy', 'voicemail_reached'])[1 + c / 3 % 3] end,
      'transcript', case when s not in (1, 2, 8) then 'rt ' || c end,
      'call_analysis', case when s in (5, 6, 9) then jsonb_build_object('call_summary', 'summary ' || c) end,
      'call_cost', case when s in (5, 6, 9) then jsonb_build_object('combined_cost', c % 50) end)))
  end
  from generate_series(1, :calls) c,
       lateral (select (array['twilio', 'vapi', 'retell'])[1 + c % 3] as p) pr,
       generate_series(1, 9) s;
-- one duplicate delivery per call
insert into stream (call, step, provider, event)
select distinct on (call) call, step, provider, event from stream order by call, random();
create table shuffled as select row_number() over (order by random()) as n, provider, event from stream;
SQL
[ "$(q -c "select count(*) from stream")" = "$((CALLS * 10))" ] || fail "the stream does not hold 10 events per call"

# In order, one client.
q -v org="$IN_ORDER" <<<"select count(switchboard.record_call_event(:'org', s.provider, s.event))
  from (select provider, event from stream order by call, step) s" >/dev/null

# Shuffled, 8 clients, one transaction per event (the DO block reads its parameters from settings:
# psql does not expand variables inside $$).
pids=()
for k in $(seq 0 $((CLIENTS - 1))); do
  PGOPTIONS="-c replay.org=$SHUFFLED -c replay.k=$k -c replay.clients=$CLIENTS" q <<'SQL' >/dev/null &
do $$
declare
  r record;
begin
  for r in select provider, event from shuffled
            where n % current_setting('replay.clients')::int = current_setting('replay.k')::int order by n loop
    perform switchboard.record_call_event(current_setting('replay.org')::uuid, r.provider, r.event);
    commit;
  end loop;
end
$$;
SQL
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a replay client failed"; done

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
