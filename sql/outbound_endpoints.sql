-- Outbound webhooks: endpoint management by every role, emit_event's outbox (fan-out by event
-- type, idempotency keys, rollback), secret rotation, and the delivery worker's claim/record
-- steps with the retry rules (schedule compressed through switchboard.retry_schedule).
set client_min_messages = warning;
set timezone = 'UTC';
-- The steps of the delivery worker are run by hand here: the worker of this database stays idle.
select switchboard.set_outbound_paused(true) ->> 'reason' as delivery;

-- pg_temp.attempt (sql/include/attempt.sql); {xxxxx} stands for '60000000-0000-4000-8000-0000000xxxxx'.
CREATE FUNCTION pg_temp.expand(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(stmt, '\{([0-9a-f]{5})\}', '''60000000-0000-4000-8000-0000000\1''', 'g')
$$;
\i sql/include/attempt.sql

-- Runs stmt as a role: a user id (authenticated), 'service_role' or 'anon'.
CREATE FUNCTION pg_temp.as_role(who text, stmt text, keep boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.short(CASE who
    WHEN 'service_role' THEN pg_temp.attempt('service_role', '{"role": "service_role"}', stmt, keep)
    WHEN 'anon' THEN pg_temp.attempt('anon', '{"role": "anon"}', stmt, keep)
    ELSE pg_temp.attempt('authenticated', jsonb_build_object('sub', who, 'role', 'authenticated',
                         'app_metadata', jsonb_build_object('org_id', '60000000-0000-4000-8000-00000000000a')),
                         stmt, keep) END)
$$;

insert into switchboard.organizations (id, name, slug) values
  ('60000000-0000-4000-8000-00000000000a', 'Hooks A', 'hooks-a'),
  ('60000000-0000-4000-8000-00000000000b', 'Hooks B', 'hooks-b');
CREATE TEMP TABLE who (label text PRIMARY KEY, id text NOT NULL);
INSERT INTO who VALUES
  ('A viewer', '60000000-0000-4000-8000-0000000a0001'), ('A agent', '60000000-0000-4000-8000-0000000a0002'),
  ('A manager', '60000000-0000-4000-8000-0000000a0003'), ('A admin', '60000000-0000-4000-8000-0000000a0004'),
  ('A owner', '60000000-0000-4000-8000-0000000a0005'), ('B owner', '60000000-0000-4000-8000-0000000b0005'),
  ('stranger', '60000000-0000-4000-8000-0000000d0001'), ('service_role', 'service_role'), ('anon', 'anon');
insert into switchboard.organization_members (org_id, user_id, role) values
  ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-0000000a0001', 'viewer'),
  ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-0000000a0002', 'agent'),
  ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-0000000a0003', 'manager'),
  ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-0000000a0004', 'admin'),
  ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-0000000a0005', 'owner'),
  ('60000000-0000-4000-8000-00000000000b', '60000000-0000-4000-8000-0000000b0005', 'owner');

-- Endpoint E1 of A (every event type) and E2 (appointment.* only), made as superuser.
select switchboard.create_webhook_endpoint('60000000-0000-4000-8000-00000000000a',
  'https://hooks.example.com/all') ->> 'endpointId' as e1 \gset
select switchboard.create_webhook_endpoint('60000000-0000-4000-8000-00000000000a',
  'https://hooks.example.com/appointments', '{appointment.*}',
  '{"description": "bookings", "rateLimit": 50, "maxConcurrency": 4}') ->> 'endpointId' as e2 \gset
select url, event_types, enabled, rate_limit, max_concurrency, ordered, signing, description
  from switchboard.webhook_endpoints order by created_at;
select count(*) as secrets, bool_and(secret ~ '^whsec_[A-Za-z0-9+/]{43}=$') as well_formed,
       bool_and(length(decode(substr(secret, 7), 'base64')) = 32) as thirty_two_bytes
  from switchboard.webhook_endpoint_secrets;

--
-- Every role for every function: only admins, owners and the service role act for A; a member of
-- B, a stranger and anon are refused (42501), never shown A's endpoints.
--
select w.label,
  pg_temp.as_role(w.id, $$select switchboard.create_webhook_endpoint({0000a}, 'https://x.example.com/h') ->> 'reason'$$) as create_ep,
  pg_temp.as_role(w.id, format($$select switchboard.update_webhook_endpoint({0000a}, %L, '{"description": "x"}') ->> 'reason'$$, :'e1')) as update_ep,
  pg_temp.as_role(w.id, format($$select switchboard.delete_webhook_endpoint({0000a}, %L) ->> 'reason'$$, :'e1')) as delete_ep,
  pg_temp.as_role(w.id, format($$select switchboard.set_webhook_endpoint_enabled({0000a}, %L, false) ->> 'reason'$$, :'e1')) as disable,
  pg_temp.as_role(w.id, format($$select switchboard.rotate_webhook_secret({0000a}, %L) ->> 'reason'$$, :'e1')) as rotate,
  pg_temp.as_role(w.id, format($$select switchboard.send_test_webhook({0000a}, %L) ->> 'reason'$$, :'e1')) as test,
  pg_temp.as_role(w.id, $$select count(*) from switchboard.list_webhook_endpoints({0000a})$$) as list,
  pg_temp.as_role(w.id, $$select count(*) from switchboard.list_webhook_deliveries({0000a})$$) as deliveries,
  pg_temp.as_role(w.id, $$select switchboard.emit_event({0000a}, 'member.added', '{}') ~ '^msg_'$$) as emit
  from who w order by w.label;
select w.label,
  pg_temp.as_role(w.id, $$select count(*) from switchboard.webhook_endpoints$$) as endpoints_seen,
  pg_temp.as_role(w.id, $$select count(*) from switchboard.webhook_endpoint_secrets$$) as secrets_seen,
  pg_temp.as_role(w.id, $$select count(*) from switchboard._claim_deliveries(10)$$) as claim,
  pg_temp.as_role(w.id, $$select switchboard.emit_event({0000b}, 'member.added', '{}') ~ '^msg_'$$) as emit_for_b
  from who w order by w.label;

--
-- Bad input: a clear error, nothing written.
--
select pg_temp.attempt(NULL, NULL, stmt) from (values
  ($$select switchboard.create_webhook_endpoint({0000a}, 'http://hooks.example.com/plain')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'ftp://hooks.example.com/x')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://user:pw@hooks.example.com/x')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, NULL)$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', '{call.started}')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', '{}')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', NULL, '{"colour": 1}')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', NULL, '{"rateLimit": "fast"}')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', NULL, '{"maxConcurrency": 0}')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', NULL, '{"signing": "v2"}')$$),
  ($$select switchboard.create_webhook_endpoint({0000a}, 'https://h.example.com', NULL, '[]')$$),
  ($$select switchboard.create_webhook_endpoint({0000c}, 'https://h.example.com')$$),
  ($$select switchboard.update_webhook_endpoint({0000a}, {00000}, '{}')$$),
  ($$select switchboard.update_webhook_endpoint({0000a}, NULL, '{}')$$),
  ($$select switchboard.rotate_webhook_secret({0000a}, {00000}, '8 days')$$),
  ($$select switchboard.emit_event({0000a}, 'no.such_event', '{}')$$),
  ($$select switchboard.emit_event({0000a}, 'member.added', NULL)$$),
  ($$select switchboard.emit_event({0000a}, 'member.added', '{}', '')$$),
  ($$select switchboard.retry_webhook_message({0000a}, 'msg_nope')$$),
  ($$select count(*) from switchboard.list_webhook_deliveries({0000a}, max_rows => 0)$$)) s(stmt);
set switchboard.outbound_allow_http = on;
select switchboard.create_webhook_endpoint('60000000-0000-4000-8000-00000000000a',
  'http://127.0.0.1:9/plain') ->> 'reason' as http_allowed_when_set;
reset switchboard.outbound_allow_http;
select count(*) as endpoints from switchboard.webhook_endpoints;
select pg_temp.attempt(NULL, NULL, format($$select switchboard.update_webhook_endpoint({0000a}, %L, '{"eventTypes": "member.added"}')$$, :'e2'));
select switchboard.update_webhook_endpoint('60000000-0000-4000-8000-00000000000a', :'e2',
  '{"eventTypes": ["appointment.*", "member.added"], "rateLimit": null}') - 'endpointId' - 'orgId' as updated;

--
-- emit_event: the outbox in the caller's transaction, fanned out by event type.
--
delete from switchboard.webhook_endpoints where url like 'http://%';
begin;
select switchboard.emit_event('60000000-0000-4000-8000-00000000000a', 'appointment.booked', '{"n": 1}') ~ '^msg_[0-9a-f]{32}$' as rolled_back_id;
rollback;
-- (only the messages emitted here: the built-in events of other suites' changes are there too)
select count(*) as messages_after_rollback from switchboard.webhook_messages m
 where m.body::jsonb -> 'data' ? 'n';
select switchboard.emit_event('60000000-0000-4000-8000-00000000000a', 'appointment.booked', '{"n": 1}', 'key-1') as m1 \gset
select switchboard.emit_event('60000000-0000-4000-8000-00000000000a', 'appointment.booked', '{"n": 2}', 'key-1') = :'m1' as same_id_for_same_key;
select switchboard.emit_event('60000000-0000-4000-8000-00000000000b', 'appointment.booked', '{"n": 3}', 'key-1') <> :'m1' as keys_are_per_org;
select switchboard.emit_event('60000000-0000-4000-8000-00000000000a', 'subscription.changed', '{"n": 4}') as m2 \gset
select m.event_type, m.body::jsonb -> 'data' as data, m.body::jsonb ? 'timestamp' as has_timestamp,
       (select string_agg(e.url, ', ' order by e.url) from switchboard.webhook_deliveries d
          join switchboard.webhook_endpoints e on e.org_id = d.org_id and e.id = d.endpoint_id
         where d.message_id = m.id) as queued_for
  from switchboard.webhook_messages m where m.body::jsonb -> 'data' ? 'n' order by m.created_at, m.id;

--
-- The worker's steps: claim leases due deliveries; record moves them on by the retry rules.
--
set switchboard.retry_schedule = '10, 20';
select message_id = :'m1' as is_m1, attempt, url, body::jsonb -> 'data' as data, cardinality(secrets) as secrets
  from switchboard._claim_deliveries(10) order by url, body::jsonb -> 'data' ->> 'n';
select count(*) as claimed_again_while_leased from switchboard._claim_deliveries(10);
select switchboard._record_attempt(org_id, message_id, endpoint_id, 200, 'success', 'ok', 12)
  from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e1';
select switchboard._record_attempt(org_id, message_id, endpoint_id, 500, 'http_error', repeat('x', 30000), 7)
  from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
select status, attempts, last_status_code,
       next_attempt_at - now() between interval '8 s' and interval '12 s' as retry_in_10s_jittered
  from switchboard.webhook_deliveries where message_id = :'m1' order by endpoint_id = :'e2';
select status_code, outcome, length(response_body) as body_kept from switchboard.webhook_attempts order by id;
-- A 429 with Retry-After far beyond the delay is clamped to 2x the scheduled delay (20 s x 2).
update switchboard.webhook_deliveries set next_attempt_at = now() where message_id = :'m1';
select attempt from switchboard._claim_deliveries(10) where message_id = :'m1';
select switchboard._record_attempt(org_id, message_id, endpoint_id, 429, 'http_error', NULL, 5, 3600)
  from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
select status, attempts, next_attempt_at - now() between interval '39 s' and interval '41 s' as retry_after_clamped
  from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
-- The third attempt is the last of a two-delay schedule: the delivery fails.
update switchboard.webhook_deliveries set next_attempt_at = now() where message_id = :'m1';
select attempt from switchboard._claim_deliveries(10) where message_id = :'m1';
select switchboard._record_attempt(org_id, message_id, endpoint_id, NULL, 'timeout', NULL, 15000)
  from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
select status, attempts from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
select switchboard._record_attempt(org_id, message_id, endpoint_id, 200, 'success')
  from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
select message_id = :'m1' as is_m1, status, attempts
  from switchboard.list_webhook_deliveries('60000000-0000-4000-8000-00000000000a', for_endpoint => :'e2');
select (switchboard.retry_webhook_message('60000000-0000-4000-8000-00000000000a', :'m1')) - 'messageId' - 'orgId' as retried;
select status, attempts from switchboard.webhook_deliveries where message_id = :'m1' and endpoint_id = :'e2';
-- A 410 fails the delivery at once and disables the endpoint.
select switchboard._record_attempt(d.org_id, d.message_id, d.endpoint_id, 410, 'http_error')
  from switchboard._claim_deliveries(10) d where d.message_id = :'m1';
select enabled, disabled_reason from switchboard.webhook_endpoints where id = :'e2';
select count(*) as claimable_for_disabled from switchboard.webhook_deliveries d
  join switchboard._claim_deliveries(10) c using (org_id, message_id, endpoint_id) where d.endpoint_id = :'e2';
select switchboard.set_webhook_endpoint_enabled('60000000-0000-4000-8000-00000000000a', :'e2', true) ->> 'reason' as enabled;
select (switchboard.recover_webhook_endpoint('60000000-0000-4000-8000-00000000000a', :'e2', now() - interval '1 hour')) ->> 'queued' as recovered;
-- Failing every attempt for 5 days disables an endpoint.
update switchboard.webhook_endpoints set failing_since = now() - interval '6 days' where id = :'e2';
select switchboard._record_attempt(d.org_id, d.message_id, d.endpoint_id, 500, 'http_error')
  from switchboard._claim_deliveries(10) d where d.endpoint_id = :'e2';
select enabled, disabled_reason from switchboard.webhook_endpoints where id = :'e2';
-- A bad schedule setting is refused.
set switchboard.retry_schedule = '5 minutes';
select pg_temp.attempt(NULL, NULL, 'select switchboard._retry_schedule()');
reset switchboard.retry_schedule;
select switchboard._retry_schedule();

--
-- Ordered endpoints: only the oldest pending message of the endpoint is claimed.
--
select switchboard.create_webhook_endpoint('60000000-0000-4000-8000-00000000000b',
  'https://b.example.com/ordered', '{member.*}', '{"ordered": true}') ->> 'endpointId' as eo \gset
select switchboard.emit_event('60000000-0000-4000-8000-00000000000b', 'member.added', '{"i": 1}') as o1 \gset
select switchboard.emit_event('60000000-0000-4000-8000-00000000000b', 'member.removed', '{"i": 2}') as o2 \gset
select (select array_agg(body::jsonb #>> '{data,i}') from switchboard._claim_deliveries(10) where endpoint_id = :'eo') as first_claim;
update switchboard.webhook_deliveries set next_attempt_at = now() where endpoint_id = :'eo';
select (select array_agg(body::jsonb #>> '{data,i}') from switchboard._claim_deliveries(10) where endpoint_id = :'eo') as o1_retry_holds_o2;
select switchboard._record_attempt(org_id, message_id, endpoint_id, 204, 'success')
  from switchboard.webhook_deliveries where message_id = :'o1';
select (select array_agg(body::jsonb #>> '{data,i}') from switchboard._claim_deliveries(10) where endpoint_id = :'eo') as then_o2;

--
-- Rotation: the old secret keeps signing beside the new one for the grace period.
--
select switchboard.rotate_webhook_secret('60000000-0000-4000-8000-00000000000b', :'eo') ->> 'reason' as rotated;
select count(*) as secrets, count(expires_at) as expiring from switchboard.webhook_endpoint_secrets where endpoint_id = :'eo';
select switchboard.send_test_webhook('60000000-0000-4000-8000-00000000000b', :'eo') ->> 'reason' as test_queued;
update switchboard.webhook_deliveries set next_attempt_at = now() where endpoint_id = :'eo';
select body::jsonb ->> 'type' as type, cardinality(secrets) as signing_secrets
  from switchboard._claim_deliveries(10) where endpoint_id = :'eo';
select switchboard.rotate_webhook_secret('60000000-0000-4000-8000-00000000000b', :'eo', '0') ->> 'reason' as rotated_no_grace;
select count(*) as secrets from switchboard.webhook_endpoint_secrets where endpoint_id = :'eo';
select (switchboard.delete_webhook_endpoint('60000000-0000-4000-8000-00000000000b', :'eo')) ->> 'reason' as deleted;
select count(*) as left_behind from switchboard.webhook_deliveries where endpoint_id = :'eo';

-- Clean up: nothing of this file stays queued (a worker waiting for a retry holds the database,
-- so a later installcheck could not drop it).
delete from switchboard.organizations where id in ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-00000000000b');
select count(*) as left_queued from switchboard.webhook_deliveries where org_id in ('60000000-0000-4000-8000-00000000000a', '60000000-0000-4000-8000-00000000000b');
