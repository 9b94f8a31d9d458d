-- Built-in events: booking, memberships, subscriptions, usage limits and caller-ID verification
-- each queue exactly one message with the documented payload in the transaction of the change,
-- and nothing when it rolls back. caller_id.verification_started (it carries no code) reaches
-- only endpoints of its organisation that name it.
set client_min_messages = warning;
set timezone = 'UTC';
select switchboard.set_outbound_paused(true) ->> 'reason' as delivery;
\set O '''61000000-0000-4000-8000-00000000000a'''
\set P '''61000000-0000-4000-8000-00000000000b'''
insert into switchboard.organizations (id, name, slug) values
  (:O, 'Events O', 'events-o'), (:P, 'Events P', 'events-p');

-- The messages of O queued since the last call: type and payload (times and ids replaced by
-- what they are).
CREATE TEMP TABLE seen (id text PRIMARY KEY);
CREATE FUNCTION pg_temp.taken() RETURNS TABLE (event_type text, data jsonb) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
    SELECT m.event_type, (SELECT jsonb_object_agg(k, CASE
               WHEN k ~ '(At|Id|End)$' AND v <> 'null' THEN to_jsonb(jsonb_typeof(v)) ELSE v END)
             FROM jsonb_each(m.body::jsonb -> 'data') AS e(k, v))
      FROM switchboard.webhook_messages m
     WHERE m.org_id = '61000000-0000-4000-8000-00000000000a'
       AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.id = m.id)
     ORDER BY m.created_at, m.event_type, m.body;  -- one order for events of one transaction
  INSERT INTO seen SELECT m.id FROM switchboard.webhook_messages m ON CONFLICT DO NOTHING;
END
$$;
select * from pg_temp.taken();
-- Every message has the envelope {type, timestamp, data}.
select count(*) filter (where not (body::jsonb ?& array['type', 'timestamp', 'data'])) as bad_envelopes
  from switchboard.webhook_messages;

--
-- Memberships (functions or direct DML alike).
--
insert into switchboard.organization_members (org_id, user_id, role)
  values (:O, '61000000-0000-4000-8000-0000000a0001', 'owner'),
         (:O, '61000000-0000-4000-8000-0000000a0002', 'agent');
select * from pg_temp.taken();
update switchboard.organization_members set role = 'manager'
 where org_id = :O and user_id = '61000000-0000-4000-8000-0000000a0002';
update switchboard.organization_members set updated_at = now()
 where org_id = :O and user_id = '61000000-0000-4000-8000-0000000a0002';
select * from pg_temp.taken();
delete from switchboard.organization_members
 where org_id = :O and user_id = '61000000-0000-4000-8000-0000000a0002';
select * from pg_temp.taken();
begin;
insert into switchboard.organization_members (org_id, user_id, role)
  values (:O, '61000000-0000-4000-8000-0000000a0003', 'viewer');
rollback;
select count(*) as after_rollback from pg_temp.taken();

--
-- Subscriptions: a new one and a change of tier raise subscription.changed; the same again does not.
--
select switchboard.set_subscription(:O, 'broadcast_starter') is not null as subscribed;
select * from pg_temp.taken();
select switchboard.set_subscription(:O, 'broadcast_starter') is not null as same_again;
select count(*) as unchanged from pg_temp.taken();
select switchboard.set_subscription(:O, 'smart_broadcast_pro', 'trialing',
  '{"trialEndsAt": "2030-01-01T00:00:00Z"}') is not null as upgraded;
select * from pg_temp.taken();

--
-- Usage limits: feature.limit_reached once, when a consumption or reservation reaches the limit.
--
INSERT INTO switchboard.features (key, name, category, kind, unit)
  VALUES ('test_events_metered', 'Test events', 'test', 'metered', 'unit');
INSERT INTO switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, overage_rate)
  VALUES ('events_lab', 301, 'Events Lab', 1, 10, 0);
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode)
  VALUES ('events_lab', 'test_events_metered', 3, 'billing_period', 'hard');
select switchboard.set_subscription(:O, 'events_lab') is not null as lab;
select count(*) as subscription_changed from pg_temp.taken() where event_type = 'subscription.changed';
select switchboard.consume_feature(:O, 'test_events_metered', 2) ->> 'ok' as two;
select count(*) as below_limit from pg_temp.taken();
begin;
select switchboard.consume_feature(:O, 'test_events_metered', 1) ->> 'ok' as rolled_back;
rollback;
select count(*) as after_rollback from pg_temp.taken();
select switchboard.consume_feature(:O, 'test_events_metered', 1) ->> 'ok' as third;
select * from pg_temp.taken();
select switchboard.consume_feature(:O, 'test_events_metered', 1) ->> 'ok' as refused;
select count(*) as none_when_refused from pg_temp.taken();

--
-- Appointments: booked, held, confirmed, rescheduled, cancelled, completed, no_show.
--
select switchboard.create_calendar(:O, 'Events', 'UTC',
  '{"mon": [["08:00", "18:00"]], "tue": [["08:00", "18:00"]], "wed": [["08:00", "18:00"]],
    "thu": [["08:00", "18:00"]], "fri": [["08:00", "18:00"]], "sat": [["08:00", "18:00"]],
    "sun": [["08:00", "18:00"]]}') as cal \gset
select (current_date + 3)::text as day \gset
select switchboard.book_appointment(:O, :'cal', (:'day' || ' 10:00Z')::timestamptz, 30, NULL,
  '{"service": "cleaning"}', 'events-book-1') ->> 'appointmentId' as booked \gset
select switchboard.book_appointment(:O, :'cal', (:'day' || ' 10:00Z')::timestamptz, 30, NULL,
  '{"service": "cleaning"}', 'events-book-1') ->> 'replayed' as replayed;
select * from pg_temp.taken();
select substr(m.body::jsonb -> 'data' ->> 'startsAt', 11) as starts_at,
       substr(m.body::jsonb -> 'data' ->> 'endsAt', 11) as ends_at
  from switchboard.webhook_messages m where m.org_id = :O and m.event_type = 'appointment.booked';
select switchboard.hold_slot(:O, :'cal', (:'day' || ' 11:00Z')::timestamptz, 30) ->> 'appointmentId' as held \gset
select * from pg_temp.taken();
select switchboard.confirm_appointment(:O, :'held') ->> 'reason' as confirm;
select * from pg_temp.taken();
select switchboard.reschedule_appointment(:O, :'booked', (:'day' || ' 12:00Z')::timestamptz) ->> 'reason' as reschedule;
select * from pg_temp.taken();
select substr(m.body::jsonb -> 'data' ->> 'previousStartsAt', 11) as previous_start,
       substr(m.body::jsonb -> 'data' ->> 'startsAt', 11) as starts_at
  from switchboard.webhook_messages m where m.org_id = :O and m.event_type = 'appointment.rescheduled';
select switchboard.cancel_appointment(:O, :'booked', 'patient called') ->> 'reason' as cancel;
select * from pg_temp.taken();
begin;
select switchboard.book_appointment(:O, :'cal', (:'day' || ' 14:00Z')::timestamptz, 30) ->> 'reason' as rolled_back;
rollback;
select count(*) as after_rollback from pg_temp.taken();
-- Outcomes of past appointments (written directly: the functions refuse to book the past).
insert into switchboard.appointments (org_id, id, calendar_id, starts_at, ends_at, block_start, block_end, status)
values (:O, '61000000-0000-4000-8000-0000000c0001', :'cal', now() - interval '2 hours',
        now() - interval '90 minutes', now() - interval '2 hours', now() - interval '90 minutes', 'confirmed'),
       (:O, '61000000-0000-4000-8000-0000000c0002', :'cal', now() - interval '4 hours',
        now() - interval '210 minutes', now() - interval '4 hours', now() - interval '210 minutes', 'confirmed');
select count(*) as booked_directly from pg_temp.taken() where event_type = 'appointment.booked';
select switchboard.complete_appointment(:O, '61000000-0000-4000-8000-0000000c0001') ->> 'reason' as complete;
select switchboard.mark_no_show(:O, '61000000-0000-4000-8000-0000000c0002') ->> 'reason' as no_show;
select * from pg_temp.taken();

--
-- Caller-ID verification: caller_id.verification_started (without the code: admins read their
-- organisation's messages) goes out only to an
-- endpoint of the organisation that names that type (not to "every type" nor to caller_id.*).
--
select switchboard.create_webhook_endpoint(:O, 'https://hooks.example.com/all') ->> 'endpointId' as e_all \gset
select switchboard.create_webhook_endpoint(:O, 'https://hooks.example.com/wild', '{caller_id.*}') ->> 'endpointId' as e_wild \gset
select switchboard.create_webhook_endpoint(:O, 'https://hooks.example.com/named', '{caller_id.verification_started}') ->> 'endpointId' as e_named \gset
select switchboard.create_webhook_endpoint(:P, 'https://hooks.example.com/p', '{caller_id.verification_started}') ->> 'endpointId' as e_p \gset
SET switchboard.caller_id_secret = 'outbound-events-regression-secret-0123456789';
begin;
select switchboard.start_caller_id_verification(:O, '+1 650 253 0000') ->> 'reason' as rolled_back;
rollback;
select count(*) as after_rollback from pg_temp.taken();
select switchboard.start_caller_id_verification(:O, '+1 650 253 0000') ->> 'reason' as started;
select m.event_type, m.body::jsonb -> 'data' ->> 'phoneNumber' as phone,
       m.body::jsonb -> 'data' ? 'code' as carries_code,
       (select string_agg(e.url, ' ' order by e.url) from switchboard.webhook_deliveries d
          join switchboard.webhook_endpoints e on e.org_id = d.org_id and e.id = d.endpoint_id
         where d.org_id = m.org_id and d.message_id = m.id) as delivered_to
  from switchboard.webhook_messages m
 where m.event_type = 'caller_id.verification_started';
select count(*) as one_message from pg_temp.taken();
-- Other events still reach the "every type" endpoint.
select switchboard.emit_event(:O, 'member.added', '{}') is not null as emitted;
select d.endpoint_id::text = :'e_all' as to_all, count(*)
  from switchboard.webhook_deliveries d join switchboard.webhook_messages m
    on m.org_id = d.org_id and m.id = d.message_id
 where d.org_id = :O and m.event_type = 'member.added' group by 1;
-- Bad input to the internal function changes nothing.
select switchboard._emit_event(:O, 'no.such_type', '{}');
select switchboard._emit_event(NULL, 'member.added', '{}');

--
-- v1a (Ed25519) endpoints: the answer shows the whpk_ public key once (never the whsk_ secret key,
-- which stays in the database); rotation adds a new key pair; the scheme cannot change.
--
select r ->> 'reason' as reason, r ->> 'signing' as signing, r ->> 'publicKey' ~ '^whpk_[A-Za-z0-9+/]{43}=$' as public_key,
       r ? 'secret' as shows_secret, r ->> 'endpointId' as e_v1a, r ->> 'publicKey' as pk
  from switchboard.create_webhook_endpoint(:O, 'https://hooks.example.com/v1a', NULL, '{"signing": "v1a"}') r \gset
select :'reason' as reason, :'signing' as signing, :'public_key' as public_key, :'shows_secret' as shows_secret;
select s.secret ~ '^whsk_[A-Za-z0-9+/]{43}=$' as secret_key, switchboard._webhook_public_key(s.secret) = :'pk' as pair
  from switchboard.webhook_endpoint_secrets s where s.endpoint_id = :'e_v1a';
select r ->> 'reason' as reason, r ->> 'publicKey' <> :'pk' and r ->> 'publicKey' ~ '^whpk_' as new_public_key,
       r ? 'secret' as shows_secret
  from switchboard.rotate_webhook_secret(:O, :'e_v1a') r;
select count(*) as keys, bool_and(secret ~ '^whsk_') as all_ed25519
  from switchboard.webhook_endpoint_secrets where endpoint_id = :'e_v1a';
select switchboard.update_webhook_endpoint(:O, :'e_v1a', '{"signing": "v1"}');
select switchboard.update_webhook_endpoint(:O, :'e_v1a', '{"signing": "v1a", "description": "ed"}') ->> 'description' as same_scheme;
select switchboard._webhook_public_key('whsk_bm90IGEga2V5');
select switchboard._webhook_public_key('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') is null as none_for_v1;

--
-- Retention: messages older than switchboard.outbound_retention go with their deliveries and
-- attempts, oldest first, in batches; one still pending for an enabled endpoint stays.
--
insert into switchboard.webhook_messages (org_id, id, event_type, body, created_at) values
  (:O, 'msg_000000000000000000000000000000a1', 'member.added', '{}', now() - interval '40 days'),
  (:O, 'msg_000000000000000000000000000000a2', 'member.added', '{}', now() - interval '39 days'),
  (:O, 'msg_000000000000000000000000000000a3', 'member.added', '{}', now() - interval '38 days'),
  (:O, 'msg_000000000000000000000000000000a4', 'member.added', '{}', now() - interval '1 hour');
insert into switchboard.webhook_deliveries (org_id, message_id, endpoint_id, status) values
  (:O, 'msg_000000000000000000000000000000a1', :'e_all', 'delivered'),
  (:O, 'msg_000000000000000000000000000000a2', :'e_all', 'pending'),
  (:O, 'msg_000000000000000000000000000000a3', :'e_all', 'failed'),
  (:O, 'msg_000000000000000000000000000000a4', :'e_all', 'delivered');
insert into switchboard.webhook_attempts (org_id, message_id, endpoint_id, outcome, attempted_at)
  values (:O, 'msg_000000000000000000000000000000a1', :'e_all', 'success', now() - interval '40 days');
set switchboard.outbound_retention = '30d';
select switchboard._outbound_retention();
select switchboard._prune_webhooks(1) as first_batch;
select switchboard._prune_webhooks(10) as second_batch;
select switchboard._prune_webhooks(10) as nothing_left;
select id from switchboard.webhook_messages where id like 'msg_0000%' order by id;
select count(*) as attempts_left from switchboard.webhook_attempts where message_id like 'msg_0000%';
select switchboard._prune_webhooks(0);
reset switchboard.outbound_retention;
select switchboard._outbound_retention();

-- Clean up (deleting the organisations raises no events for them).
delete from switchboard.organizations where id in (:O, :P);
select count(*) as left_over from switchboard.webhook_messages where org_id in (:O, :P);
DELETE FROM switchboard.plan_tier_features WHERE tier = 'events_lab';
DELETE FROM switchboard.plan_tiers WHERE key = 'events_lab';
DELETE FROM switchboard.features WHERE key = 'test_events_metered';
select switchboard.set_outbound_paused(false) ->> 'reason' as delivery;
