-- One authorisation for every area (sb::pg::require_role, SQL switchboard.assert_role): the same
-- 42501 "permission denied for this organization" from tenancy, entitlements and booking, for a
-- caller without a user, a stranger and a member whose role is too low; the detail names the
-- organisation, the role needed and what the caller lacks, the hint how to get it. And one
-- wording for a NULL argument, from SQL (switchboard.require_arg) and C++ alike.
set client_min_messages = warning;
insert into switchboard.organizations (id, name, slug) values
  ('31000000-0000-4000-8000-00000000000a', 'One Refusal', 'one-refusal');
insert into switchboard.organization_members (org_id, user_id, role) values
  ('31000000-0000-4000-8000-00000000000a', '31000000-0000-4000-8000-0000000a0001', 'viewer');
select switchboard.create_calendar('31000000-0000-4000-8000-00000000000a', 'Desk', 'UTC', '{}') as cal \gset
-- Runs a statement as `authenticated` with the claims; its SQLSTATE, message, detail and hint.
create function pg_temp.refusal(claims jsonb, statement text) returns text language plpgsql as $$
declare
  s text; m text; d text; h text;
begin
  perform set_config('request.jwt.claims', claims::text, true);
  set local role authenticated;
  execute statement;
  reset role;
  return 'ok';
exception when others then
  get stacked diagnostics s = returned_sqlstate, m = message_text, d = pg_exception_detail,
    h = pg_exception_hint;
  return concat_ws(E'\n', s || ': ' || m, 'DETAIL: ' || nullif(d, ''), 'HINT: ' || nullif(h, ''));
end
$$;
-- Each attempt runs in a transaction of its own, as a request does (on Citus a transaction may not
-- reach an organisation's node as two different users); the answers are then listed together.
create temp table answers (who text, what text, answer text);
select format('insert into answers values (%L, %L, pg_temp.refusal(%L, %L))', c.who, a.area, c.claims, a.statement)
  from (values
    ('no user', '{}'::jsonb),
    ('stranger', '{"sub": "31000000-0000-4000-8000-0000000b0001"}'),
    ('viewer', '{"sub": "31000000-0000-4000-8000-0000000a0001"}')) as c(who, claims),
  (values
    ('tenancy', 'select switchboard.add_member(''31000000-0000-4000-8000-00000000000a'', ''31000000-0000-4000-8000-0000000a0009'', ''viewer'')'),
    ('entitlements', 'select switchboard.consume_feature(''31000000-0000-4000-8000-00000000000a'', ''calls'')'),
    ('booking', format('select switchboard.cancel_appointment(''31000000-0000-4000-8000-00000000000a'', %L)', :'cal')),
    ('assert_role', 'select switchboard.assert_role(''31000000-0000-4000-8000-00000000000a'', ''agent'')')) as a(area, statement)
\set ECHO none
\gexec
\set ECHO all
select who, what as area, answer as refusal from answers order by who, what;
truncate answers;
-- NULL arguments: one wording whether SQL or C++ checks them.
select format('insert into answers values (null, %L, pg_temp.refusal(%L, %L))', a.call, '{"sub": "31000000-0000-4000-8000-0000000a0001"}', a.statement)
  from (values
    ('require_arg (SQL)', 'select switchboard.require_arg(null::uuid, ''org_id'')'),
    ('require_arg without a name', 'select switchboard.require_arg(1, null)'),
    ('assert_role (C++)', 'select switchboard.assert_role(null, ''agent'')'),
    ('add_member (plpgsql)', 'select switchboard.add_member(null, ''31000000-0000-4000-8000-0000000a0009'', ''viewer'')'),
    ('check_feature (C++)', 'select switchboard.check_feature(null, ''calls'')'),
    ('confirm_appointment (C++)', 'select switchboard.confirm_appointment(null, null)'),
    ('create_calendar (C++)', 'select switchboard.create_calendar(null, ''X'', ''UTC'', ''{}'')')) as a(call, statement)
\set ECHO none
\gexec
\set ECHO all
select what as call, answer as refusal from answers order by what;
delete from switchboard.organizations where id = '31000000-0000-4000-8000-00000000000a';
