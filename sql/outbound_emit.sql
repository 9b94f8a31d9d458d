-- emit_event keeps a transaction's events and writes them, with their deliveries, just before it
-- commits: a rolled-back savepoint (or PL/pgSQL exception block) drops the events emitted in it,
-- a released one keeps them; an event with an idempotency key is written at once, after the events
-- kept before it, and the deliveries keep the emitting order; the cache of event type names sees a
-- new type at once. Within the emitting transaction an event without a key is not visible yet.
set client_min_messages = warning;
select switchboard.set_outbound_paused(true) ->> 'reason' as delivery;
\set O '''62000000-0000-4000-8000-00000000000a'''
insert into switchboard.organizations (id, name, slug) values (:O, 'Emit O', 'emit-o');
select switchboard.create_webhook_endpoint(:O, 'https://hooks.example.com/emit', '{member.*}') ->> 'endpointId' as ep \gset

-- The data of O's messages, in the order of their deliveries.
CREATE FUNCTION pg_temp.sent() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(m.body::jsonb -> 'data' ->> 'n', ' ' ORDER BY d.seq), '-')
    FROM switchboard.webhook_messages m
    LEFT JOIN switchboard.webhook_deliveries d ON d.org_id = m.org_id AND d.message_id = m.id
   WHERE m.org_id = '62000000-0000-4000-8000-00000000000a'
$$;

begin;
select switchboard.emit_event(:O, 'member.added', '{"n": "1"}') ~ '^msg_' as kept;
select pg_temp.sent() as before_commit;
savepoint a;
select switchboard.emit_event(:O, 'member.added', '{"n": "dropped"}') ~ '^msg_' as in_savepoint;
savepoint b;
select switchboard.emit_event(:O, 'member.added', '{"n": "dropped too"}') ~ '^msg_' as nested;
release savepoint b;
rollback to savepoint a;
savepoint c;
select switchboard.emit_event(:O, 'member.removed', '{"n": "2"}') ~ '^msg_' as released;
release savepoint c;
do $$
BEGIN
  PERFORM switchboard.emit_event('62000000-0000-4000-8000-00000000000a', 'member.added', '{"n": "in block"}');
  RAISE EXCEPTION 'undo the block';
EXCEPTION WHEN raise_exception THEN
  NULL;
END
$$;
select switchboard.emit_event(:O, 'member.added', '{"n": "3"}', 'emit-key-1') ~ '^msg_' as keyed;
select pg_temp.sent() as keyed_writes_the_kept_first;
select switchboard.emit_event(:O, 'member.added', '{"n": "4"}') ~ '^msg_' as after_keyed;
commit;
select pg_temp.sent() as committed;

-- A rolled-back transaction writes nothing.
begin;
select switchboard.emit_event(:O, 'member.added', '{"n": "rolled back"}') ~ '^msg_' as emitted;
rollback;
select pg_temp.sent() as after_rollback;

-- A new event type is known to the next call; a removed one is refused again.
insert into switchboard.event_types (name, description) values ('emit_test.created', 'a test type');
select switchboard.emit_event(:O, 'emit_test.created', '{"n": "5"}') ~ '^msg_' as new_type;
delete from switchboard.webhook_messages where event_type = 'emit_test.created';
delete from switchboard.event_types where name = 'emit_test.created';
select switchboard.emit_event(:O, 'emit_test.created', '{}');

-- Many events in one statement: each once, one delivery each, in order.
select count(switchboard.emit_event(:O, 'member.added', jsonb_build_object('n', i))) as emitted
  from generate_series(1, 500) i;
select count(*) as messages, count(distinct d.seq) as deliveries,
       bool_and(d.endpoint_id = :'ep') as one_endpoint
  from switchboard.webhook_messages m
  join switchboard.webhook_deliveries d on d.org_id = m.org_id and d.message_id = m.id
 where m.org_id = :O and m.body::jsonb -> 'data' -> 'n' is not null
   and jsonb_typeof(m.body::jsonb -> 'data' -> 'n') = 'number';
select bool_and(later.n > earlier.n) as in_emitting_order
  from (select (m.body::jsonb -> 'data' ->> 'n')::int as n, d.seq,
               lag((m.body::jsonb -> 'data' ->> 'n')::int) over (order by d.seq) as prev
          from switchboard.webhook_messages m
          join switchboard.webhook_deliveries d on d.org_id = m.org_id and d.message_id = m.id
         where m.org_id = :O and jsonb_typeof(m.body::jsonb -> 'data' -> 'n') = 'number') later,
       lateral (select later.prev as n) earlier
 where later.prev is not null;

-- The body is jsonb's own text of {type, timestamp, data} (written by the C++ call, byte for byte
-- what jsonb_build_object(...)::text gave), for a kept and a keyed event, unicode and escapes too.
begin;
select switchboard.emit_event(:O, 'member.added', '{"s": "é \u00e9 \" \n", "z": [1.50, null, {"b": 1, "a": 2}]}') as kept_id \gset
select switchboard.emit_event(:O, 'member.added', '{"n": 1e3}', 'emit-body-key') as keyed_id \gset
commit;
select m.id = :'kept_id' as kept, m.body = m.body::jsonb::text as canonical,
       m.body = jsonb_build_object('type', m.event_type, 'timestamp', switchboard.answer_time(m.created_at),
                                   'data', m.body::jsonb -> 'data')::text as as_jsonb_writes_it,
       m.body::jsonb -> 'data' as data
  from switchboard.webhook_messages m
 where m.org_id = :O and m.id in (:'kept_id', :'keyed_id') order by m.id = :'kept_id' desc;

-- Message ids follow time: their first 12 hex digits are the milliseconds since 1970 when emitted.
select bool_and(abs(('x' || substr(m.id, 5, 12))::bit(48)::bigint
                    - extract(epoch from m.created_at) * 1000) < 600000) as ids_follow_time
  from switchboard.webhook_messages m where m.org_id = :O;
select count(*) = count(distinct id) as unique_ids from switchboard.webhook_messages where org_id = :O;

-- The cached catalog also says which types are explicit-only: marking a type so reaches the next
-- call, which then queues nothing for an endpoint taking member.* (and one naming the type gets it).
select switchboard.create_webhook_endpoint(:O, 'https://hooks.example.com/named', '{member.role_changed}') ->> 'endpointId' as named \gset
select count(*) as before_marked from switchboard.webhook_deliveries where org_id = :O;
select switchboard.emit_event(:O, 'member.role_changed', '{}') ~ '^msg_' as both_endpoints;
select count(*) as after_two from switchboard.webhook_deliveries where org_id = :O;
update switchboard.event_types set explicit_only = true where name = 'member.role_changed';
select switchboard.emit_event(:O, 'member.role_changed', '{}') ~ '^msg_' as named_only;
select switchboard.emit_event(:O, 'member.role_changed', '{}', 'explicit-keyed') ~ '^msg_' as named_only_keyed;
select count(*) filter (where endpoint_id = :'named') as named, count(*) filter (where endpoint_id = :'ep') as wildcard
  from switchboard.webhook_deliveries d join switchboard.webhook_messages m on m.org_id = d.org_id and m.id = d.message_id
 where d.org_id = :O and m.event_type = 'member.role_changed';
update switchboard.event_types set explicit_only = false where name = 'member.role_changed';

-- The id check refuses what is not msg_ and 32 lowercase hex digits.
\set VERBOSITY terse
insert into switchboard.webhook_messages (org_id, id, event_type, body)
values (:O, 'msg_01a24b26694c9717eee7ace12a1979dZ', 'member.added', '{}');
insert into switchboard.webhook_messages (org_id, id, event_type, body)
values (:O, 'msg_01A24B26694C9717EEE7ACE12A1979D9', 'member.added', '{}');
insert into switchboard.webhook_messages (org_id, id, event_type, body)
values (:O, 'msg_01a24b26694c9717eee7ace12a1979d', 'member.added', '{}');
\set VERBOSITY default

-- The delivery worker's statistics check: an outbox grown past twice what its last ANALYZE saw
-- (here 10,000 new deliveries) is analyzed, once; the next look finds it current.
analyze switchboard.webhook_deliveries;
select switchboard._refresh_outbox_stats() as analyzed_before;
select count(switchboard.emit_event(:O, 'member.added', jsonb_build_object('n', i))) as emitted
  from generate_series(1, 10000) i;
select switchboard._refresh_outbox_stats() as analyzed;
select switchboard._refresh_outbox_stats() as analyzed_again;

delete from switchboard.organizations where id = :O;
select switchboard.set_outbound_paused(false) ->> 'reason' as delivery;
