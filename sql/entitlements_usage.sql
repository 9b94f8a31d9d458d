-- Metered usage: hard and soft limits, daily / monthly / billing-period windows in the
-- organisation's time zone and their resets, idempotency keys, reservations (reserve, settle,
-- release, expiry), the seed-compatible increment_feature_usage / is_feature_enabled, and the
-- purge of idempotency answers (kept at least 48 hours).
-- Organisations 'e3000000-0000-4000-8000-0000000000NN' (slugs ent-usage-*), a test tier usage_lab
-- and test features test_*; all removed at the end. Times are never printed: windows are compared
-- with the ones computed here from now() (the transaction start, which the checks use too).

-- The test catalog: usage_lab (overage rate 0.25) grants 5 units a day, a month and a billing
-- period (hard), 5 a billing period soft, 10 calls a billing period hard, 10 minutes soft.
INSERT INTO switchboard.features (key, name, category, kind, unit) VALUES
  ('test_daily', 'Test daily', 'test', 'metered', 'unit'),
  ('test_monthly', 'Test monthly', 'test', 'metered', 'unit'),
  ('test_billing', 'Test billing', 'test', 'metered', 'unit'),
  ('test_soft', 'Test soft', 'test', 'metered', 'unit');
INSERT INTO switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, overage_rate)
VALUES ('usage_lab', 201, 'Usage Lab', 1, 10, 0.25);
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode) VALUES
  ('usage_lab', 'test_daily', 5, 'day', 'hard'),
  ('usage_lab', 'test_monthly', 5, 'month', 'hard'),
  ('usage_lab', 'test_billing', 5, 'billing_period', 'hard'),
  ('usage_lab', 'test_soft', 5, 'billing_period', 'soft'),
  ('usage_lab', 'calls', 10, 'billing_period', 'hard'),
  ('usage_lab', 'minutes', 10, 'billing_period', 'soft'),
  ('usage_lab', 'recording', NULL, NULL, 'hard');

-- U: monthly billing periods that started on 2020-01-15 12:00 UTC (rolled forward to the one
-- containing now); B: the same tier, annual periods from 2019-03-01; K and P: the Kiritimati
-- (UTC+14) and Pago Pago (UTC-11) time zones; R: reservations; G: the seed-compatible functions;
-- N: no subscription; M: periods anchored on January 31; Y: periods anchored at New York midnight.
INSERT INTO switchboard.organizations (id, name, slug, timezone) VALUES
  ('e3000000-0000-4000-8000-00000000000a', 'Usage U', 'ent-usage-u', 'UTC'),
  ('e3000000-0000-4000-8000-00000000000b', 'Usage B', 'ent-usage-b', 'UTC'),
  ('e3000000-0000-4000-8000-00000000000c', 'Usage K', 'ent-usage-k', 'Pacific/Kiritimati'),
  ('e3000000-0000-4000-8000-00000000000d', 'Usage P', 'ent-usage-p', 'Pacific/Pago_Pago'),
  ('e3000000-0000-4000-8000-00000000000e', 'Usage R', 'ent-usage-r', 'UTC'),
  ('e3000000-0000-4000-8000-00000000000f', 'Usage G', 'ent-usage-g', 'UTC'),
  ('e3000000-0000-4000-8000-000000000010', 'Usage N', 'ent-usage-n', 'UTC'),
  ('e3000000-0000-4000-8000-000000000011', 'Usage M', 'ent-usage-m', 'UTC'),
  ('e3000000-0000-4000-8000-000000000012', 'Usage Y', 'ent-usage-y', 'America/New_York');
SELECT count(switchboard.set_subscription(o.id, 'usage_lab', 'active', o.options)) AS subscriptions
  FROM (VALUES
    ('e3000000-0000-4000-8000-00000000000a'::uuid,
     '{"currentPeriodStart": "2020-01-15T12:00:00Z", "currentPeriodEnd": "2020-02-15T12:00:00Z"}'::jsonb),
    ('e3000000-0000-4000-8000-00000000000b',
     '{"billingCycle": "annual", "currentPeriodStart": "2019-03-01T00:00:00Z", "currentPeriodEnd": "2020-03-01T00:00:00Z"}'),
    ('e3000000-0000-4000-8000-00000000000c', '{}'),
    ('e3000000-0000-4000-8000-00000000000d', '{}'),
    ('e3000000-0000-4000-8000-00000000000e', '{}'),
    ('e3000000-0000-4000-8000-00000000000f', '{}'),
    ('e3000000-0000-4000-8000-000000000011',
     '{"currentPeriodStart": "2023-01-31T00:00:00Z", "currentPeriodEnd": "2023-02-28T00:00:00Z"}'),
    ('e3000000-0000-4000-8000-000000000012',
     '{"currentPeriodStart": "2023-01-15T00:00:00-05", "currentPeriodEnd": "2023-02-15T00:00:00-05"}')) AS o (id, options);

CREATE FUNCTION pg_temp.org(code text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT ('e3000000-0000-4000-8000-0000000000' || CASE code WHEN 'U' THEN '0a' WHEN 'B' THEN '0b'
            WHEN 'K' THEN '0c' WHEN 'P' THEN '0d' WHEN 'R' THEN '0e' WHEN 'G' THEN '0f' WHEN 'M' THEN '11'
            WHEN 'Y' THEN '12' ELSE '10' END)::uuid
$$;
-- The window containing now() for an organisation's zone: a calendar day or month, or the
-- billing period stepped from `anchor` by `step`.
CREATE FUNCTION pg_temp.calendar_window(unit text, tz text, OUT w_start timestamptz, OUT w_end timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT date_trunc(unit, now() AT TIME ZONE tz) AT TIME ZONE tz,
         (date_trunc(unit, now() AT TIME ZONE tz) + ('1 ' || unit)::interval) AT TIME ZONE tz
$$;
CREATE FUNCTION pg_temp.billing_window(anchor timestamptz, step interval, OUT w_start timestamptz,
                                       OUT w_end timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT s, s + step FROM generate_series(anchor, now(), step) AS s ORDER BY s DESC LIMIT 1
$$;
-- An answer without its times: resetsAt and expiresAt are checked separately.
CREATE FUNCTION pg_temp.a(answer jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT (answer - 'resetsAt' - 'expiresAt' - 'reservationId')::text
$$;
-- The counters of an organisation and feature, oldest period first, labelled relative to the
-- current window (`current`, `previous`, or the period start for older ones).
-- (The helpers that read switchboard's tables are PL/pgSQL with the organisation's uuid in a
-- variable: on Citus their statements are then router queries with constants, where an SQL
-- function's parameters cannot be planned, and no pg_temp call is sent to a worker.)
CREATE FUNCTION pg_temp.counters(org text, feature text, cur timestamptz) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_org uuid := pg_temp.org(org);
BEGIN
  RETURN (SELECT coalesce(string_agg(format('%s: used %s reserved %s overage %s',
                                            CASE WHEN u.period_start = cur THEN 'current'
                                                 WHEN u.period_start < cur THEN 'earlier' ELSE 'later' END,
                                            u.used, u.reserved, u.overage), '; ' ORDER BY u.period_start), 'none')
            FROM switchboard.feature_usage u WHERE u.org_id = v_org AND u.feature = counters.feature);
END
$$;
-- An organisation's subscription and the start of its stored billing period.
CREATE FUNCTION pg_temp.sub(org text) RETURNS switchboard.subscriptions LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_org uuid := pg_temp.org(org);
  r switchboard.subscriptions;
BEGIN
  SELECT * INTO r FROM switchboard.subscriptions s WHERE s.org_id = v_org;
  RETURN r;
END
$$;
CREATE FUNCTION pg_temp.sub_start(org text) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (pg_temp.sub(org)).current_period_start;
END
$$;
-- An organisation's counter of a feature (its latest period; NULLs when there is none).
CREATE FUNCTION pg_temp.usage_row(org text, feature text) RETURNS switchboard.feature_usage LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_org uuid := pg_temp.org(org);
  r switchboard.feature_usage;
BEGIN
  SELECT * INTO r FROM switchboard.feature_usage u WHERE u.org_id = v_org AND u.feature = usage_row.feature
   ORDER BY u.period_start DESC LIMIT 1;
  RETURN r;
END
$$;
-- The monthly billing period containing now() for periods anchored at local time `anchor` in
-- zone tz: the k-th period starts `k months` after the anchor (PostgreSQL clamps to the month's
-- last day).
CREATE FUNCTION pg_temp.anchored_window(anchor timestamp, tz text, OUT w_start timestamptz, OUT w_end timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT (anchor + make_interval(months => k)) AT TIME ZONE tz, (anchor + make_interval(months => k + 1)) AT TIME ZONE tz
    FROM generate_series(0, 2000) AS k
   WHERE (anchor + make_interval(months => k)) AT TIME ZONE tz <= now()
   ORDER BY k DESC LIMIT 1
$$;
CREATE FUNCTION pg_temp.u_billing() RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT w_start FROM pg_temp.billing_window('2020-01-15T12:00:00Z', '1 month')
$$;

--
-- Hard limit (test_billing, 5): an answer that would pass the limit is LIMIT_EXCEEDED and counts
-- nothing; the rest of the limit can still be used.
--
SELECT r.n, r.quantity, pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_billing', r.quantity)) AS answer
  FROM (VALUES (1, 3), (2, 3), (3, 2), (4, 1)) AS r (n, quantity) ORDER BY r.n;
SELECT pg_temp.counters('U', 'test_billing', pg_temp.u_billing()) AS counters,
       pg_temp.a(switchboard.check_feature(pg_temp.org('U'), 'test_billing')) AS check_answer;

--
-- Soft limit (test_soft, 5, overage rate 0.25): always allowed; units beyond the limit are
-- counted as overage (each answer says how many of its own units were overage).
--
SELECT r.n, r.quantity, pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_soft', r.quantity)) AS answer
  FROM (VALUES (1, 4), (2, 3), (3, 1)) AS r (n, quantity) ORDER BY r.n;
SELECT pg_temp.counters('U', 'test_soft', pg_temp.u_billing()) AS counters,
       pg_temp.a(switchboard.check_feature(pg_temp.org('U'), 'test_soft', 100)) AS check_answer;

--
-- Billing periods: U's monthly periods step from 2020-01-15 12:00 UTC; the counters above are in
-- the one containing now, and resetsAt is its end. B's annual periods step from 2019-03-01.
--
SELECT (c ->> 'resetsAt')::timestamptz = w.w_end AS u_resets_at_period_end,
       (SELECT period_start = w.w_start AND period_end = w.w_end FROM pg_temp.usage_row('U', 'test_billing'))
         AS u_counter_in_period,
       extract(day FROM w.w_start AT TIME ZONE 'UTC') AS period_day, (w.w_start AT TIME ZONE 'UTC')::time AS period_time
  FROM switchboard.check_feature(pg_temp.org('U'), 'test_billing') c,
       pg_temp.billing_window('2020-01-15T12:00:00Z', '1 month') w;
SELECT (c ->> 'resetsAt')::timestamptz = w.w_end AS b_resets_at_annual_period_end,
       to_char(w.w_start AT TIME ZONE 'UTC', 'MM-DD HH24:MI') AS period_starts
  FROM switchboard.check_feature(pg_temp.org('B'), 'test_billing') c,
       pg_temp.billing_window('2019-03-01T00:00:00Z', '1 year') w;
-- Periods keep their anchor: monthly periods that began on January 31 end on the last day of
-- shorter months and on the 31st again after them (M, UTC); periods anchored at local midnight
-- stay at local midnight across daylight-saving changes (Y, New York).
SELECT o.code, pg_temp.a(switchboard.consume_feature(pg_temp.org(o.code), 'test_billing', 1)) AS consumed
  FROM (VALUES ('M'), ('Y')) AS o (code) ORDER BY o.code;
SELECT o.code, (c ->> 'resetsAt')::timestamptz = w.w_end AS resets_at_anchored_period_end,
       (SELECT period_start = w.w_start FROM pg_temp.usage_row(o.code, 'test_billing')) AS counter_in_anchored_period,
       (w.w_start AT TIME ZONE o.tz)::time AS local_start_time
  FROM (VALUES ('M', 'UTC', '2023-01-31 00:00'::timestamp), ('Y', 'America/New_York', '2023-01-15 00:00')) AS o (code, tz, anchor),
       LATERAL switchboard.check_feature(pg_temp.org(o.code), 'test_billing') AS c,
       LATERAL pg_temp.anchored_window(o.anchor, o.tz) AS w
 ORDER BY o.code;
-- A new billing period (the billing system records a renewal that started an hour ago): the next
-- answer counts from 0 in it, the previous period's counters are untouched.
SELECT switchboard.set_subscription(pg_temp.org('U'), 'usage_lab', 'active',
         jsonb_build_object('currentPeriodStart', now() - interval '1 hour',
                            'currentPeriodEnd', now() - interval '1 hour' + interval '1 month')) IS NOT NULL AS renewed;
SELECT pg_temp.a(switchboard.check_feature(pg_temp.org('U'), 'test_billing')) AS check_in_new_period,
       (switchboard.check_feature(pg_temp.org('U'), 'test_billing') ->> 'resetsAt')::timestamptz
         = date_trunc('second', (pg_temp.sub('U')).current_period_end) AS resets_at_new_period_end;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_billing', 4)) AS consume_in_new_period;
SELECT pg_temp.counters('U', 'test_billing', pg_temp.sub_start('U')) AS test_billing,
       pg_temp.counters('U', 'test_soft', pg_temp.sub_start('U')) AS test_soft;

--
-- Daily and monthly windows (test_daily, test_monthly: 5 each, hard), and their resets: usage
-- recorded in the previous day or month (the counter of the current window moved back one
-- period, as the clock would) no longer counts; the new window starts at 0 and the old counter is
-- untouched.
--
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_daily', 5)) AS daily_5,
       pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_daily', 1)) AS daily_one_more;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_monthly', 5)) AS monthly_5,
       pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_monthly', 1)) AS monthly_one_more;
SELECT f.feature, (c ->> 'resetsAt')::timestamptz = w.w_end AS resets_at_window_end,
       (SELECT period_start = w.w_start AND period_end = w.w_end FROM pg_temp.usage_row('U', f.feature))
         AS counter_in_window
  FROM (VALUES ('test_daily', 'day'), ('test_monthly', 'month')) AS f (feature, unit),
       LATERAL switchboard.check_feature(pg_temp.org('U'), f.feature) c,
       LATERAL pg_temp.calendar_window(f.unit, 'UTC') w
 ORDER BY f.feature;
-- (The new times computed first: Citus refuses a stable operator on a column in an UPDATE.)
DO $$
DECLARE
  u switchboard.feature_usage := pg_temp.usage_row('U', 'test_daily');
BEGIN
  UPDATE switchboard.feature_usage
     SET period_start = u.period_start - interval '1 day', period_end = u.period_end - interval '1 day'
   WHERE org_id = u.org_id AND feature = u.feature;
  u := pg_temp.usage_row('U', 'test_monthly');
  UPDATE switchboard.feature_usage
     SET period_start = u.period_start - interval '1 month', period_end = u.period_end - interval '1 month'
   WHERE org_id = u.org_id AND feature = u.feature;
END
$$;
SELECT pg_temp.a(switchboard.check_feature(pg_temp.org('U'), 'test_daily')) AS daily_after_reset,
       pg_temp.a(switchboard.check_feature(pg_temp.org('U'), 'test_monthly')) AS monthly_after_reset;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_daily', 2)) AS daily_consume,
       pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'test_monthly', 3)) AS monthly_consume;
SELECT pg_temp.counters('U', 'test_daily', w_start) AS test_daily FROM pg_temp.calendar_window('day', 'UTC');
SELECT pg_temp.counters('U', 'test_monthly', w_start) AS test_monthly FROM pg_temp.calendar_window('month', 'UTC');

--
-- Windows follow the organisation's time zone: K (UTC+14) and P (UTC-11) count their days and
-- months from local midnight, which is never UTC midnight, so their windows differ.
--
SELECT o.code, f.feature, pg_temp.a(switchboard.consume_feature(pg_temp.org(o.code), f.feature, 1)) AS answer
  FROM (VALUES ('K'), ('P')) AS o (code), (VALUES ('test_daily'), ('test_monthly')) AS f (feature)
 ORDER BY o.code, f.feature;
SELECT o.code, o.tz, f.unit,
       (SELECT period_start = w.w_start AND period_end = w.w_end FROM pg_temp.usage_row(o.code, f.feature))
         AS counter_in_local_window,
       (switchboard.check_feature(pg_temp.org(o.code), f.feature) ->> 'resetsAt')::timestamptz = w.w_end
         AS resets_at_local_window_end,
       w.w_start <> u.w_start AS differs_from_utc_window
  FROM (VALUES ('K', 'Pacific/Kiritimati'), ('P', 'Pacific/Pago_Pago')) AS o (code, tz),
       (VALUES ('test_daily', 'day'), ('test_monthly', 'month')) AS f (feature, unit),
       LATERAL pg_temp.calendar_window(f.unit, o.tz) w,
       LATERAL pg_temp.calendar_window(f.unit, 'UTC') u
 ORDER BY o.code, f.unit;
SELECT (pg_temp.usage_row('K', 'test_daily')).period_start <> (pg_temp.usage_row('P', 'test_daily')).period_start
         AS k_and_p_days_differ;
-- Changing the organisation's zone moves its windows at once.
UPDATE switchboard.organizations SET timezone = 'UTC' WHERE id = 'e3000000-0000-4000-8000-00000000000c';
SELECT (switchboard.check_feature(pg_temp.org('K'), 'test_daily') ->> 'resetsAt')::timestamptz = w_end
         AS k_now_resets_at_utc_midnight
  FROM pg_temp.calendar_window('day', 'UTC');

--
-- Idempotency keys (R's calls: 10, hard): a replay returns the original answer (with replayed:
-- true) and consumes nothing; the same key for a different feature or quantity is refused
-- (23505); keys belong to one organisation.
--
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 2, 'order-1')) AS first;
-- The answer stored for an organisation's idempotency key.
CREATE FUNCTION pg_temp.stored_answer(org text, key text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_org uuid := pg_temp.org(org);
BEGIN
  RETURN (SELECT e.result FROM switchboard.usage_events e WHERE e.org_id = v_org AND e.idempotency_key = key);
END
$$;
SELECT count(*) AS replays,
       count(DISTINCT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 2, 'order-1'))) AS distinct_answers,
       bool_and(switchboard.consume_feature(pg_temp.org('R'), 'calls', 2, 'order-1')
                = pg_temp.stored_answer('R', 'order-1') || '{"replayed": true}') AS same_as_stored
  FROM generate_series(1, 5);
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 2, 'order-1')) AS replay,
       pg_temp.counters('R', 'calls', pg_temp.sub_start('R')) AS counters;
CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  result text;
BEGIN
  EXECUTE stmt INTO result;
  RETURN result;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT pg_temp.attempt('SELECT switchboard.consume_feature(pg_temp.org(''R''), ''calls'', 3, ''order-1'')')
         AS other_quantity,
       pg_temp.attempt('SELECT switchboard.consume_feature(pg_temp.org(''R''), ''minutes'', 2, ''order-1'')')
         AS other_feature,
       pg_temp.a(switchboard.consume_feature(pg_temp.org('U'), 'calls', 2, 'order-1')) AS same_key_other_org;
SELECT pg_temp.counters('R', 'calls', pg_temp.sub_start('R')) AS r_counters,
       (SELECT count(*) FROM switchboard.usage_events WHERE idempotency_key = 'order-1') AS events_for_the_key;
-- A denial is an answer too: replaying it returns the denial, even once the limit would allow it.
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 9, 'order-2')) AS denied;
SELECT switchboard.set_feature_override(pg_temp.org('R'), 'calls', true, 100) ->> 'reason' AS limit_raised;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 9, 'order-2')) AS replayed,
       pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 9, 'order-3')) AS new_key;
SELECT switchboard.clear_feature_override(pg_temp.org('R'), 'calls') ->> 'reason' AS limit_back;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 9, 'order-3')) AS replay_after_limit_back,
       pg_temp.counters('R', 'calls', pg_temp.sub_start('R')) AS counters;
-- A key of 255 characters is accepted.
SELECT switchboard.consume_feature(pg_temp.org('U'), 'minutes', 1, repeat('k', 255)) ->> 'ok' AS long_key,
       switchboard.consume_feature(pg_temp.org('U'), 'minutes', 1, repeat('k', 255)) ->> 'used' AS replayed_used;

--
-- Reservations on R's calls: 11 used after the idempotency cases; an override makes the limit 20
-- (hard).
--
SELECT switchboard.set_feature_override(pg_temp.org('R'), 'calls', true, 20, 'hard') ->> 'reason' AS limit_20;
CREATE TEMP TABLE res (name text PRIMARY KEY, id uuid);
CREATE FUNCTION pg_temp.reserve(name text, quantity int, ttl interval DEFAULT '15 minutes') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  r jsonb := switchboard.reserve_feature(pg_temp.org('R'), 'calls', quantity, ttl);
BEGIN
  INSERT INTO res VALUES (name, (r ->> 'reservationId')::uuid);
  RETURN pg_temp.a(r) || format(' id=%s expiresAt=%s', CASE WHEN r ->> 'reservationId' IS NULL THEN 'null' ELSE 'set' END,
                                CASE WHEN r ->> 'expiresAt' IS NULL THEN 'null'
                                     WHEN (r ->> 'expiresAt')::timestamptz = date_trunc('second', now() + ttl)
                                       AND r ->> 'expiresAt' LIKE '%:__Z' THEN 'now+ttl'
                                     ELSE r ->> 'expiresAt' END);
END
$$;
CREATE FUNCTION pg_temp.rid(n text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM res WHERE name = n $$;
-- A reservation of R by its id (NULLs when there is none).
CREATE FUNCTION pg_temp.reservation(id uuid) RETURNS switchboard.feature_reservations LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_org uuid := pg_temp.org('R');
  r switchboard.feature_reservations;
BEGIN
  SELECT * INTO r FROM switchboard.feature_reservations f WHERE f.org_id = v_org AND f.id = reservation.id;
  RETURN r;
END
$$;
CREATE FUNCTION pg_temp.r_state() RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.counters('R', 'calls', pg_temp.sub_start('R')) || ' | ' ||
         coalesce((SELECT string_agg(format('%s %s %s settled=%s', r.name, f.quantity, f.status,
                                            coalesce(f.settled_quantity::text, '-')), ', ' ORDER BY r.name)
                     FROM res r, LATERAL pg_temp.reservation(r.id) f WHERE f.id IS NOT NULL), 'none')
$$;
SELECT pg_temp.r_state() AS start;
-- A reservation counts against the hard limit for checks, consumption and other reservations.
SELECT pg_temp.reserve('r1', 6) AS reserve_6;
SELECT switchboard.check_feature(pg_temp.org('R'), 'calls', 3) ->> 'reason' AS check_3,
       switchboard.check_feature(pg_temp.org('R'), 'calls', 4) ->> 'reason' AS check_4;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 4)) AS consume_4,
       pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 2)) AS consume_2;
SELECT pg_temp.reserve('r_denied', 2) AS reserve_beyond_limit;
SELECT pg_temp.r_state() AS after_reserve;
-- Settling replaces the reservation by the actual quantity; settling again returns the same answer
-- (with replayed: true) and changes nothing; releasing a settled reservation gives nothing back.
SELECT pg_temp.a(switchboard.settle_reservation(pg_temp.org('R'), pg_temp.rid('r1'), 2)) AS settle_2;
SELECT switchboard.settle_reservation(pg_temp.org('R'), pg_temp.rid('r1'), 2)
       = (pg_temp.reservation(pg_temp.rid('r1'))).result || '{"replayed": true}' AS settle_again_same_answer,
       pg_temp.a(switchboard.release_reservation(pg_temp.org('R'), pg_temp.rid('r1'))) AS release_settled;
SELECT pg_temp.r_state() AS after_settle;
-- Releasing gives the whole quantity back, once; a released reservation cannot be settled.
SELECT pg_temp.reserve('r2', 4) AS reserve_4;
SELECT pg_temp.a(switchboard.release_reservation(pg_temp.org('R'), pg_temp.rid('r2'))) AS release,
       pg_temp.a(switchboard.release_reservation(pg_temp.org('R'), pg_temp.rid('r2'))) AS release_again,
       pg_temp.attempt(format('SELECT switchboard.settle_reservation(%L, %L, 1)', pg_temp.org('R'), pg_temp.rid('r2')))
         AS settle_released;
SELECT pg_temp.r_state() AS after_release;
-- An expired reservation gives its quantity back (to checks at once, to the counter at the next
-- write); settling it afterwards still records the actual quantity.
SELECT pg_temp.reserve('r3', 5, '1 millisecond') AS reserve_5_briefly;
SELECT pg_sleep(0.05);
SELECT switchboard.check_feature(pg_temp.org('R'), 'calls', 5) ->> 'reason' AS check_5_after_expiry,
       switchboard.check_feature(pg_temp.org('R'), 'calls') ->> 'remaining' AS remaining;
SELECT pg_temp.a(switchboard.consume_feature(pg_temp.org('R'), 'calls', 1)) AS consume_1;
SELECT pg_temp.r_state() AS after_expiry;
SELECT pg_temp.a(switchboard.settle_reservation(pg_temp.org('R'), pg_temp.rid('r3'), 2)) AS settle_expired_2,
       pg_temp.a(switchboard.release_reservation(pg_temp.org('R'), pg_temp.rid('r3'))) AS release_settled;
SELECT pg_temp.r_state() AS after_settling_expired;
-- A reservation that expires and is given back by another reservation's write; then settled with 0.
SELECT pg_temp.reserve('r4', 2, '1 millisecond') AS reserve_2_briefly;
SELECT pg_sleep(0.05);
SELECT pg_temp.reserve('r5', 2) AS reserve_2;
SELECT pg_temp.a(switchboard.release_reservation(pg_temp.org('R'), pg_temp.rid('r4'))) AS release_expired,
       pg_temp.a(switchboard.settle_reservation(pg_temp.org('R'), pg_temp.rid('r5'), 0)) AS settle_0;
SELECT pg_temp.r_state() AS final;
-- On a soft limit (U's minutes: 10, soft) a reservation never fails, and settling beyond the limit
-- counts overage.
SELECT (switchboard.reserve_feature(pg_temp.org('U'), 'minutes', 30) ->> 'ok') AS reserve_30_soft;
SELECT f.id AS u_reservation FROM switchboard.feature_reservations f
 WHERE f.org_id = 'e3000000-0000-4000-8000-00000000000a' AND f.status = 'active' \gset
SELECT pg_temp.a(switchboard.settle_reservation(pg_temp.org('U'), :'u_reservation', 12)) AS settle_12;
SELECT pg_temp.counters('U', 'minutes', pg_temp.sub_start('U')) AS u_minutes;
-- Without a subscription there is nothing to reserve.
SELECT pg_temp.a(switchboard.reserve_feature(pg_temp.org('N'), 'calls', 1)) AS reserve_without_subscription;

--
-- Seed compatibility: increment_feature_usage(org, feature, quantity) is true while the units
-- are counted; is_feature_enabled(org, feature) says whether one more unit may be used.
--
SELECT string_agg(switchboard.increment_feature_usage(pg_temp.org('G'), 'test_daily', 1)::text, ',' ORDER BY n)
         AS six_increments
  FROM generate_series(1, 6) AS n;
SELECT switchboard.is_feature_enabled(pg_temp.org('G'), 'test_daily') AS enabled_at_limit,
       switchboard.has_feature(pg_temp.org('G'), 'test_daily') AS has_feature_at_limit;
SELECT switchboard.increment_feature_usage(pg_temp.org('G'), 'test_monthly') AS two_argument_form,
       switchboard.increment_feature_usage(pg_temp.org('G'), 'test_soft', 9) AS soft_beyond_limit,
       switchboard.increment_feature_usage(pg_temp.org('G'), 'teleportation', 1) AS unknown_feature,
       switchboard.increment_feature_usage(pg_temp.org('N'), 'calls', 1) AS without_subscription;
SELECT f.feature, u.used, u.overage
  FROM (VALUES ('test_daily'), ('test_monthly'), ('test_soft')) AS f (feature), LATERAL pg_temp.usage_row('G', f.feature) u
 ORDER BY f.feature;
SELECT switchboard.is_feature_enabled(pg_temp.org('G'), 'recording') AS recording,
       switchboard.is_feature_enabled(pg_temp.org('G'), 'voice_broadcast') AS not_in_tier,
       switchboard.is_feature_enabled(pg_temp.org('G'), 'test_monthly') AS metered_below_limit,
       switchboard.is_feature_enabled(pg_temp.org('N'), 'recording') AS without_subscription;
SELECT switchboard.set_kill_switch('recording', false, 'usage test') ->> 'reason' AS killed;
SELECT switchboard.is_feature_enabled(pg_temp.org('G'), 'recording') AS recording_killed;
SELECT switchboard.set_kill_switch('recording', true, 'usage test over') ->> 'reason' AS back;
SELECT switchboard.is_feature_enabled(pg_temp.org('G'), 'recording') AS recording_back;

--
-- purge_usage_events keeps idempotency answers at least 48 hours (default: 72).
--
INSERT INTO switchboard.usage_events (org_id, idempotency_key, feature, quantity, result, created_at)
SELECT pg_temp.org('G'), 'purge-' || h, 'calls', 1, '{"ok": true, "purged": false}', now() - (h || ' hours')::interval
  FROM unnest(ARRAY[0, 47, 49, 73]) AS h;
CREATE FUNCTION pg_temp.purge_keys() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(idempotency_key, ',' ORDER BY created_at DESC) FROM switchboard.usage_events
   WHERE idempotency_key LIKE 'purge-%'
$$;
SELECT pg_temp.purge_keys() AS before_purge;
SELECT switchboard.purge_usage_events() AS purged_default;
SELECT pg_temp.purge_keys() AS kept;
SELECT switchboard.purge_usage_events('48 hours') AS purged_48h;
SELECT pg_temp.purge_keys() AS kept;
-- A kept key still answers with its stored answer.
SELECT switchboard.consume_feature(pg_temp.org('G'), 'calls', 1, 'purge-47') AS replay_of_kept_key;
SELECT (SELECT count(*) FROM switchboard.usage_events WHERE idempotency_key IN ('order-1', 'order-2', 'order-3'))
         AS recent_keys_kept;

-- Every counter is consistent: nothing negative, nothing reserved without a live reservation.
SELECT count(*) AS counters,
       count(*) FILTER (WHERE u.used < 0 OR u.reserved < 0 OR u.overage < 0) AS negative,
       count(*) FILTER (WHERE u.reserved <> coalesce((SELECT sum(r.quantity) FROM switchboard.feature_reservations r
                                                      WHERE r.org_id = u.org_id AND r.feature = u.feature
                                                        AND r.period_start = u.period_start AND r.status = 'active'), 0))
         AS reserved_mismatch
  FROM switchboard.feature_usage u WHERE u.org_id::text LIKE 'e3000000-%';

-- Clean up.
DELETE FROM switchboard.global_feature_flags WHERE feature = 'recording';
DELETE FROM switchboard.kill_switch_audit WHERE feature = 'recording';
DELETE FROM switchboard.organizations WHERE slug LIKE 'ent-usage-%';
DELETE FROM switchboard.plan_tiers WHERE key = 'usage_lab';
DELETE FROM switchboard.features WHERE key LIKE 'test\_%';
DELETE FROM switchboard.entitlement_audit WHERE org_id::text LIKE 'e3000000-%';
SELECT (SELECT count(*) FROM switchboard.features) AS features, (SELECT count(*) FROM switchboard.plan_tiers) AS tiers,
       (SELECT count(*) FROM switchboard.plan_tier_features) AS grants;
