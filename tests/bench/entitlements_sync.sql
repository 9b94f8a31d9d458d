-- One round of the sync benchmark: insert :subs subscriptions in one statement, for :variant
--   ours           switchboard.subscriptions with its C++ sync trigger (and the audit trigger)
--   ours_no_audit  the same with the audit trigger disabled
--   no_trigger     the same with the sync trigger disabled (audit on)
--   ours_events    as ours, with the subscription.changed event (webhooks) queued for every row
--   seed           seed 000's user_subscription_plans with its PL/pgSQL sync trigger
-- The subscription.changed events are off but in ours_events (the seed sends none).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DELETE FROM switchboard.subscriptions WHERE org_id >= '20000000-0000-0000-0000-000000000000';
TRUNCATE switchboard.entitlement_audit;
DELETE FROM switchboard.webhook_messages WHERE org_id >= '20000000-0000-0000-0000-000000000000';
DELETE FROM seed.user_subscription_plans WHERE user_id >= '20000000-0000-0000-0000-000000000000';
-- Rewritten compact, so every variant extends its tables alike (a plain VACUUM would leave each the
-- free space of whichever variant ran before it).
VACUUM FULL switchboard.subscriptions, switchboard.webhook_messages, seed.user_subscription_plans,
  seed.user_feature_toggles;
CHECKPOINT;
SELECT :'variant' = 'seed' AS seed, :'variant' = 'ours_no_audit' AS no_audit,
       :'variant' = 'no_trigger' AS no_sync, :'variant' <> 'ours_events' AS no_events \gset
\if :no_audit
ALTER TABLE switchboard.subscriptions DISABLE TRIGGER subscriptions_audit_insert;
\endif
\if :no_sync
ALTER TABLE switchboard.subscriptions DISABLE TRIGGER subscriptions_sync;
\endif
\if :no_events
ALTER TABLE switchboard.subscriptions DISABLE TRIGGER subscriptions_events_insert;
\endif
-- The backend's CPU time (user + system, in clock ticks) brackets the insert: unlike wall time, other
-- work on the machine hardly moves it.
SELECT pg_backend_pid() AS pid \gset
\setenv SB_BACKEND :pid
\! awk '{print "cpu_ticks_before", $14 + $15}' /proc/$SB_BACKEND/stat
\timing on
\if :seed
INSERT INTO seed.user_subscription_plans (user_id, organization_id, plan_tier, monthly_price)
SELECT id, id, (ARRAY['broadcast_starter', 'smart_broadcast_pro', 'ai_powered_elite',
                      'autonomous_ferrari', 'enterprise_pro', 'enterprise_elite', 'white_label'])[1 + n % 7], 59
  FROM (SELECT ('20000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid AS id, n
          FROM generate_series(1, :subs) n) s;
\else
INSERT INTO switchboard.subscriptions (org_id, tier)
SELECT ('20000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       (ARRAY['broadcast_starter', 'smart_broadcast_pro', 'ai_powered_elite', 'autonomous_ferrari',
              'enterprise_pro', 'enterprise_elite', 'white_label'])[1 + n % 7]
  FROM generate_series(1, :subs) n;
\endif
\timing off
\! awk '{print "cpu_ticks_after", $14 + $15}' /proc/$SB_BACKEND/stat
ALTER TABLE switchboard.subscriptions ENABLE TRIGGER subscriptions_audit_insert;
ALTER TABLE switchboard.subscriptions ENABLE TRIGGER subscriptions_sync;
ALTER TABLE switchboard.subscriptions ENABLE TRIGGER subscriptions_events_insert;
