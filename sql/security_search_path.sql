-- Privileged SQL never resolves a name through the caller's search_path. The caller plants objects
-- that shadow what Switchboard's SQL names: pg_temp domains for the built-in types, pg_temp views
-- and domains named like Switchboard's tables and types, and functions and operators in a schema of
-- the caller's ahead of pg_catalog. Then every API function is called and every protected table is
-- read as anon, three signed-in users and the service role. A planted object that runs raises a
-- WARNING naming itself and the role it ran as, and counts itself; the count must stay 0.
set client_min_messages = warning;
set timezone = 'UTC';
\set A '00000000-0000-4000-8000-0000000fa000'
\set B '00000000-0000-4000-8000-0000000fb000'
\set owner_a '00000000-0000-4000-8000-0000000fa001'
\set agent_a '00000000-0000-4000-8000-0000000fa004'
\set viewer_a '00000000-0000-4000-8000-0000000fa005'
\set owner_b '00000000-0000-4000-8000-0000000fb001'
\set stranger '00000000-0000-4000-8000-0000000fdead'

--
-- Data the calls act on: organisations A and B, a plan, a calendar, appointments, a reservation,
-- a webhook mapping.
--
insert into switchboard.organizations (id, name, slug)
  values (:'A', 'Path A', 'path-a'), (:'B', 'Path B', 'path-b');
insert into switchboard.organization_members (org_id, user_id, role) values
  (:'A', :'owner_a', 'owner'), (:'A', :'agent_a', 'agent'), (:'A', :'viewer_a', 'viewer'),
  (:'B', :'owner_b', 'owner');
select switchboard.set_subscription(:'A', 'ai_powered_elite') is not null as subscribed;
select switchboard.create_calendar(:'A', 'Desk', 'America/New_York',
  '{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]],
    "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]],
    "sun": [["00:00", "24:00"]]}', '{"slotMinutes": 30}') as calendar \gset
-- Free slot times in the coming days: one for new bookings, one for reschedules.
select date_trunc('hour', now()) + interval '2 days' as slot,
       date_trunc('hour', now()) + interval '3 days' as slot2,
       date_trunc('hour', now()) + interval '4 days' as slot3 \gset
select set_config('request.jwt.claims', json_build_object('sub', :'owner_a', 'role', 'authenticated')::text, false);
select switchboard.book_appointment(:'A', :'calendar', :'slot3', 30, null, '{}', 'path-booked') ->> 'appointmentId' as appointment \gset
select switchboard.reserve_feature(:'A', 'calls', 1) ->> 'reservationId' as reservation \gset
select set_config('request.jwt.claims', '', false);
insert into switchboard.provider_accounts (org_id, provider, kind, external_id)
  values (:'A', 'twilio', 'account', 'ACpath');

--
-- The planted objects. planted.ran() warns and counts (a sequence: the count survives rollbacks).
--
create schema planted;
grant usage on schema planted to public;
create sequence planted.runs;
grant usage on sequence planted.runs to public;
create function planted.ran(what text) returns boolean language plpgsql as $$
begin
  perform pg_catalog.nextval('planted.runs');
  raise warning 'planted % ran as %', what, current_user;
  return true;
end
$$;

-- Functions of schema planted with the exact signatures of built-ins that SQL calls unqualified.
create function planted.now() returns timestamptz language plpgsql as
  $$ begin perform planted.ran('now()'); return pg_catalog.now(); end $$;
create function planted.current_setting(text, boolean) returns text language plpgsql as
  $$ begin perform planted.ran('current_setting()'); return pg_catalog.current_setting($1, $2); end $$;
create function planted.set_config(text, text, boolean) returns text language plpgsql as
  $$ begin perform planted.ran('set_config()'); return pg_catalog.set_config($1, $2, $3); end $$;
create function planted.lower(text) returns text language plpgsql as
  $$ begin perform planted.ran('lower()'); return pg_catalog.lower($1); end $$;
create function planted.length(text) returns integer language plpgsql as
  $$ begin perform planted.ran('length()'); return pg_catalog.length($1); end $$;
create function planted.btrim(text) returns text language plpgsql as
  $$ begin perform planted.ran('btrim()'); return pg_catalog.btrim($1); end $$;
create function planted.gen_random_uuid() returns uuid language plpgsql as
  $$ begin perform planted.ran('gen_random_uuid()'); return pg_catalog.gen_random_uuid(); end $$;
create function planted.jsonb_typeof(jsonb) returns text language plpgsql as
  $$ begin perform planted.ran('jsonb_typeof()'); return pg_catalog.jsonb_typeof($1); end $$;
create function planted.to_jsonb(anyelement) returns jsonb language plpgsql as
  $$ begin perform planted.ran('to_jsonb()'); return pg_catalog.to_jsonb($1); end $$;
create function planted.jsonb_build_object(text, text) returns jsonb language plpgsql as
  $$ begin perform planted.ran('jsonb_build_object()'); return pg_catalog.jsonb_build_object($1, $2); end $$;
create function planted.tstzrange(timestamptz, timestamptz, text) returns tstzrange language plpgsql as
  $$ begin perform planted.ran('tstzrange()'); return pg_catalog.tstzrange($1, $2, $3); end $$;
create function planted.array_length(anyarray, integer) returns integer language plpgsql as
  $$ begin perform planted.ran('array_length()'); return pg_catalog.array_length($1, $2); end $$;
create function planted.uuid_eq(uuid, uuid) returns boolean language plpgsql as
  $$ begin perform planted.ran('= (uuid)'); return $1 operator(pg_catalog.=) $2; end $$;
create function planted.text_eq(text, text) returns boolean language plpgsql as
  $$ begin perform planted.ran('= (text)'); return $1 operator(pg_catalog.=) $2; end $$;
create function planted.int8_pl(int8, int8) returns int8 language plpgsql as
  $$ begin perform planted.ran('+ (int8)'); return $1 operator(pg_catalog.+) $2; end $$;
create function planted.field(jsonb, text) returns text language plpgsql as
  $$ begin perform planted.ran('->> (jsonb)'); return $1 operator(pg_catalog.->>) $2; end $$;
create function planted.member(jsonb, text) returns jsonb language plpgsql as
  $$ begin perform planted.ran('-> (jsonb)'); return $1 operator(pg_catalog.->) $2; end $$;
create function planted.concat(text, text) returns text language plpgsql as
  $$ begin perform planted.ran('|| (text)'); return $1 operator(pg_catalog.||) $2; end $$;
create function planted.ts_le(timestamptz, timestamptz) returns boolean language plpgsql as
  $$ begin perform planted.ran('<= (timestamptz)'); return $1 operator(pg_catalog.<=) $2; end $$;
create operator planted.= (leftarg = uuid, rightarg = uuid, function = planted.uuid_eq);
create operator planted.= (leftarg = text, rightarg = text, function = planted.text_eq);
create operator planted.+ (leftarg = int8, rightarg = int8, function = planted.int8_pl);
create operator planted.->> (leftarg = jsonb, rightarg = text, function = planted.field);
create operator planted.-> (leftarg = jsonb, rightarg = text, function = planted.member);
create operator planted.|| (leftarg = text, rightarg = text, function = planted.concat);
create operator planted.<= (leftarg = timestamptz, rightarg = timestamptz, function = planted.ts_le);
grant execute on all functions in schema planted to public;

-- pg_temp domains for the built-in types SQL names without a keyword.
do $$
declare
  t text;
begin
  foreach t in array array['text', 'int8', 'int4', 'int2', 'jsonb', 'json', 'uuid', 'bool',
                           'timestamptz', 'date', 'bytea', 'float8', 'oid', 'name', 'tstzrange']
  loop
    execute pg_catalog.format(
      'create domain pg_temp.%I as pg_catalog.%I check (planted.ran(%L))', t, t, 'pg_temp.' || t);
  end loop;
end
$$;

-- pg_temp views named like Switchboard's relations, domains named like its other types.
do $$
declare
  r record;
begin
  for r in select c.relname from pg_catalog.pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'v', 'p')
  loop
    execute pg_catalog.format(
      'create temp view %I as select * from switchboard.%I where planted.ran(%L)',
      r.relname, r.relname, 'pg_temp.' || r.relname);
  end loop;
  for r in select t.typname from pg_catalog.pg_type t
            where t.typnamespace = 'switchboard'::regnamespace and t.typtype in ('e', 'd')
  loop
    execute pg_catalog.format(
      'create domain pg_temp.%I as pg_catalog.text check (planted.ran(%L))',
      r.typname, 'pg_temp.' || r.typname);
  end loop;
end
$$;

-- The planted path works: the caller's own unqualified SQL reaches every kind of planted object.
set search_path = pg_temp, planted, pg_catalog, public;
select 'x'::text as planted_type, now() is not null as planted_function,
       '00000000-0000-4000-8000-000000000001'::pg_catalog.uuid =
         '00000000-0000-4000-8000-000000000001'::pg_catalog.uuid as planted_operator,
       (select 1 from organizations limit 1) as planted_view;
-- The test's own statements find pg_temp's objects only by name or last.
set search_path = pg_catalog, public, pg_temp;
select pg_catalog.setval('planted.runs', 1, false) as planted_runs_reset;

-- The callers: anon, three signed-in users of A (owner, agent, viewer), a user of no organisation,
-- and the service role.
create temp table caller (label text primary key, api_role text not null, claims jsonb, rank int);
insert into caller values
  ('anon', 'anon', null, 1),
  ('owner', 'authenticated', jsonb_build_object('sub', :'owner_a', 'role', 'authenticated'), 2),
  ('agent', 'authenticated', jsonb_build_object('sub', :'agent_a', 'role', 'authenticated'), 3),
  ('viewer', 'authenticated', jsonb_build_object('sub', :'viewer_a', 'role', 'authenticated'), 4),
  ('stranger', 'authenticated', jsonb_build_object('sub', :'stranger', 'role', 'authenticated'), 5),
  ('service', 'service_role', jsonb_build_object('role', 'service_role'), 6);

-- Runs stmt as the caller with the planted search_path in a subtransaction that is rolled back
-- (which also drops every backend cache, so each call loads afresh). Returns 'ok' or the SQLSTATE.
create function pg_temp.probe(who text, stmt text) returns text language plpgsql as $$
declare
  c record;
  state text;
begin
  select * into c from pg_temp.caller where label = who;
  begin
    perform pg_catalog.set_config('request.jwt.claims', coalesce(c.claims::pg_catalog.text, ''), true);
    perform pg_catalog.set_config('role', c.api_role, true);
    perform pg_catalog.set_config('search_path', 'pg_temp, planted, pg_catalog, public', true);
    execute stmt;
    raise exception using errcode = 'SBRBK';
  exception when others then
    get stacked diagnostics state = returned_sqlstate;
  end;
  return case when state operator(pg_catalog.=) 'SBRBK' then 'ok' else state end;
end
$$;

-- The ids above, for the functions below (psql variables do not reach into function bodies).
create temp table id (k text primary key, v text);
insert into id values ('A', :'A'), ('calendar', :'calendar'), ('appointment', :'appointment'),
  ('reservation', :'reservation'), ('agent_a', :'agent_a'), ('stranger', :'stranger'),
  ('slot', :'slot'), ('slot2', :'slot2');
create function pg_temp.id(key text) returns text language sql as $$
  select v from pg_temp.id where k = key
$$;

-- Every API function's call with plausible arguments, by argument name and type.
create function pg_temp.arg_literal(arg_name text, arg_type regtype) returns text language sql as $$
  select case
    when arg_type = 'pg_catalog.uuid'::regtype then pg_catalog.quote_literal(case arg_name
      when 'org_id' then pg_temp.id('A') when 'org' then pg_temp.id('A')
      when 'calendar_id' then pg_temp.id('calendar') when 'appointment_id' then pg_temp.id('appointment')
      when 'reservation_id' then pg_temp.id('reservation') when 'user_id' then pg_temp.id('agent_a')
      else pg_temp.id('stranger') end) || '::pg_catalog.uuid'
    when arg_type = 'pg_catalog.text'::regtype then pg_catalog.quote_literal(case arg_name
      when 'feature' then 'calls' when 'tier' then 'ai_powered_elite' when 'provider' then 'twilio'
      when 'time_zone' then 'America/New_York' when 'slug' then 'path-new' when 'status' then 'active'
      when 'limit_mode' then 'hard' when 'idempotency_key' then 'path-key'
      when 'path' then '/api/x/{id}' when 'name' then 'Path'
      when 'input' then '+12125550100' when 'destination' then '+12125550100'
      when 'default_region' then 'US' when 'carrier' then 'att' when 'forwarding_type' then 'total_ai'
      when 'code' then '123456'
      else 'x' end) || '::pg_catalog.text'
    when arg_type = 'pg_catalog.jsonb'::regtype then pg_catalog.quote_literal(case arg_name
      when 'business_hours' then '{"mon": [["09:00", "17:00"]]}'
      when 'payload' then '{"CallSid": "CApath", "AccountSid": "ACpath", "CallStatus": "ringing", "SequenceNumber": "0"}'
      when 'headers' then '{"i-twilio-idempotency-token": "path-1"}'
      when 'changes' then '{"name": "Renamed"}' else '{}' end) || '::pg_catalog.jsonb'
    when arg_type = 'pg_catalog.timestamptz'::regtype then
      pg_catalog.quote_literal(case when arg_name in ('to_ts', 'new_starts_at') then pg_temp.id('slot2')
                               else pg_temp.id('slot') end) || '::pg_catalog.timestamptz'
    when arg_type in ('integer'::regtype, 'bigint'::regtype) then
      case when arg_name like '%minutes' then '30' when arg_name = 'hold_seconds' then '60'
           when arg_name = 'fn' then '0' when arg_name = 'ring_seconds' then 'null::integer'
           else '1' end
    when arg_type = 'pg_catalog.oid'::regtype then '0::pg_catalog.oid'
    when arg_type = 'boolean'::regtype then 'true'
    when arg_type = 'interval'::regtype then '''1 hour''::pg_catalog.interval'
    when arg_type = 'pg_catalog.text[]'::regtype then '''{ACpath}''::pg_catalog.text[]'
    when arg_type = 'pg_catalog.bytea'::regtype then '''\x01''::pg_catalog.bytea'
    when arg_type = 'anyelement'::regtype then '''x''::pg_catalog.text'
    when arg_type = 'switchboard.member_role'::regtype then '''agent''::switchboard.member_role'
    when arg_type = 'switchboard.api_functions'::regtype then
      '(select f from switchboard.api_functions f limit 1)'
    else 'null::' || arg_type::text end
$$;

create temp view api_call as
select p.oid::regprocedure as fn, p.proname,
       pg_catalog.format('select * from %I.%I(%s)', n.nspname, p.proname,
         (select coalesce(string_agg(pg_temp.arg_literal(a.name, a.type), ', ' order by a.pos), '')
            from unnest(p.proargtypes::oid[], coalesce(p.proargnames, array[]::text[]))
                 with ordinality as a (type, name, pos)
           where a.pos <= p.pronargs)) as stmt
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname in ('switchboard', 'auth')
   and p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
   and exists (select 1 from caller c where has_function_privilege(c.api_role, p.oid, 'execute'));

-- Drop the caches the set-up filled (a rolled-back subtransaction does).
do $$ begin perform 1 / 0; exception when division_by_zero then null; end $$;

-- Every executable API function by every caller: the outcome is 'ok' or the SQLSTATE.
select a.fn,
       string_agg(c.label || '=' || pg_temp.probe(c.label, a.stmt), ' ' order by c.rank) as outcomes
  from api_call a cross join caller c
 where has_function_privilege(c.api_role, a.fn::oid, 'execute')
 group by a.fn order by a.fn::text;

-- Commands with the arguments that reach their writes, as the roles that may run them.
create temp table command (label text, who text, stmt text);
insert into command values
  ('book', 'agent', format('select switchboard.book_appointment(%L, %L, %L, 30, null, %L, %L)', :'A', :'calendar', :'slot', '{"service": "cleaning"}', 'k1')),
  ('hold', 'agent', format('select switchboard.hold_slot(%L, %L, %L, 30, null, 120, %L)', :'A', :'calendar', :'slot', 'k2')),
  ('rebook same key', 'agent', format('select switchboard.book_appointment(%L, %L, %L, 30, null, %L, %L)', :'A', :'calendar', :'slot3', '{}', 'path-booked')),
  ('confirm', 'agent', format('select switchboard.confirm_appointment(%L, %L)', :'A', :'appointment')),
  ('reschedule', 'agent', format('select switchboard.reschedule_appointment(%L, %L, %L)', :'A', :'appointment', :'slot2')),
  ('cancel', 'agent', format('select switchboard.cancel_appointment(%L, %L, %L)', :'A', :'appointment', 'probe')),
  ('slots', 'agent', format('select count(*) from switchboard.available_slots(%L, %L, %L, %L)', :'A', :'calendar', :'slot', :'slot2')),
  ('update calendar', 'owner', format('select switchboard.update_calendar(%L, %L, %L)', :'A', :'calendar', '{"name": "Front"}')),
  ('create calendar', 'owner', format('select switchboard.create_calendar(%L, %L, %L, %L)', :'A', 'Back', 'Europe/Paris', '{"mon": [["09:00", "17:00"]]}')),
  ('consume', 'agent', format('select switchboard.consume_feature(%L, %L, 1, %L)', :'A', 'calls', 'u1')),
  ('consume again', 'agent', format('select switchboard.consume_feature(%L, %L, 1, %L); select switchboard.consume_feature(%L, %L, 1, %L)', :'A', 'calls', 'u2', :'A', 'calls', 'u2')),
  ('increment', 'agent', format('select switchboard.increment_feature_usage(%L, %L, 2)', :'A', 'calls')),
  ('reserve', 'agent', format('select switchboard.reserve_feature(%L, %L, 2)', :'A', 'calls')),
  ('settle', 'agent', format('select switchboard.settle_reservation(%L, %L, 1)', :'A', :'reservation')),
  ('release', 'agent', format('select switchboard.release_reservation(%L, %L)', :'A', :'reservation')),
  ('check', 'viewer', format('select switchboard.check_feature(%L, %L, 1)', :'A', 'calls')),
  ('matrix', 'viewer', format('select switchboard.feature_matrix(%L)', :'A')),
  ('override', 'service', format('select switchboard.set_feature_override(%L, %L, false)', :'A', 'calls')),
  ('clear override', 'service', format('select switchboard.set_feature_override(%L, %L, false); select switchboard.clear_feature_override(%L, %L)', :'A', 'calls', :'A', 'calls')),
  ('subscription', 'service', format('select switchboard.set_subscription(%L, %L)', :'A', 'broadcast_starter')),
  ('kill switch', 'service', format('select switchboard.set_kill_switch(%L, false, %L)', 'calls', 'probe')),
  ('purge usage', 'service', 'select switchboard.purge_usage_events()'),
  ('create org', 'stranger', format('select switchboard.create_organization(%L, %L)', 'New', 'path-new')),
  ('add member', 'owner', format('select switchboard.add_member(%L, %L, %L)', :'A', :'stranger', 'agent')),
  ('set role', 'owner', format('select switchboard.set_member_role(%L, %L, %L)', :'A', :'agent_a', 'manager')),
  ('remove member', 'owner', format('select switchboard.remove_member(%L, %L)', :'A', :'agent_a')),
  ('list members', 'viewer', format('select count(*) from switchboard.list_members(%L)', :'A')),
  ('list organizations', 'viewer', 'select count(*) from switchboard.list_organizations()'),
  ('webhook', 'service', format('select switchboard.receive_webhook(%L, %L, %L)', 'twilio', '{"CallSid": "CA1", "AccountSid": "ACpath", "CallStatus": "completed", "SequenceNumber": "2"}', '{"i-twilio-idempotency-token": "t1"}')),
  ('rematch', 'service', 'select switchboard.rematch_webhooks()'),
  ('map account', 'service', format('insert into switchboard.provider_accounts (org_id, provider, kind, external_id) values (%L, %L, %L, %L)', :'B', 'twilio', 'account', 'ACother')),
  ('openapi', 'anon', 'select switchboard.openapi()'),
  ('request plan change', 'owner', format('select switchboard.request_plan_change(%L, %L)', :'A', 'white_label')),
  ('default organisation', 'agent', format('select switchboard.set_default_org(%L)', :'A')),
  ('pending plan changes', 'service', 'select count(*) from switchboard.pending_plan_changes()');
select label, who, pg_temp.probe(who, stmt) as outcome from command order by label;

-- Every table as every caller: a read and, for the tables with RLS, an update of every row.
select c.relname as "table",
       string_agg(k.label || '=' || pg_temp.probe(k.label,
         format('select count(*) from switchboard.%I', c.relname)) ||
         case when c.relrowsecurity and has_table_privilege(k.api_role, c.oid, 'update') then
           '/' || pg_temp.probe(k.label, format('update switchboard.%1$I set %2$I = %2$I', c.relname,
                                                (select attname from pg_attribute
                                                  where attrelid = c.oid and attnum = 1)))
         else '' end, ' ' order by k.rank) as outcomes
  from pg_class c cross join caller k
 where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'v')
 group by c.relname order by c.relname;

-- No planted object ran.
select pg_catalog.nextval('planted.runs') - 1 as planted_runs;

-- Every SECURITY DEFINER function pins the path (the rule for functions added later too).
select p.oid::regprocedure as unpinned_definer
  from pg_proc p
 where p.pronamespace = 'switchboard'::regnamespace and p.prosecdef
   and not coalesce(p.proconfig @> array['search_path=pg_catalog, pg_temp'], false);
