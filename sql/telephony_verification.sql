--
-- Caller-ID ownership verification and forwarding configurations: the code lifecycle (keyed hash
-- only, 10 minutes, single use, counted checks, lock, rate limits, resend), what each role of the
-- organisation and of another one may do, and the forwarding configuration flow.
\set VERBOSITY default
\set SHOW_CONTEXT never
\set A '50000000-0000-4000-8000-0000000000ea'
\set B '50000000-0000-4000-8000-0000000000eb'
CREATE FUNCTION pg_temp.expand(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT replace(replace(stmt, ':A', '''50000000-0000-4000-8000-0000000000ea'''),
                 ':B', '''50000000-0000-4000-8000-0000000000eb''')
$$;
\i sql/include/attempt.sql
INSERT INTO switchboard.organizations (id, name, slug) VALUES (:'A', 'Tel A', 'tel-a'), (:'B', 'Tel B', 'tel-b');
CREATE TEMP TABLE who AS
SELECT o.label || ' ' || r.role AS label, o.org_id, r.role::switchboard.member_role AS role,
       format('50000000-0000-4000-8000-0000000%s000%s', lower(o.label), r.rank)::uuid AS user_id, r.rank
  FROM (VALUES ('A', :'A'::uuid), ('B', :'B'::uuid)) AS o (label, org_id)
 CROSS JOIN unnest(enum_range(NULL::switchboard.member_role)) WITH ORDINALITY AS r (role, rank);
INSERT INTO switchboard.organization_members (org_id, user_id, role) SELECT org_id, user_id, role FROM who;
CREATE FUNCTION pg_temp.claims(who_label text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('sub', user_id, 'role', 'authenticated') FROM pg_temp.who WHERE label = who_label
$$;
CREATE FUNCTION pg_temp.service() RETURNS jsonb LANGUAGE sql AS $$ SELECT '{"role": "service_role"}'::jsonb $$;

-- Without a secret (or a short one) nothing is sent (instances made by the tools have one).
SET switchboard.caller_id_secret = '';
SELECT switchboard.start_caller_id_verification(:'A', '+1 650 253 0000');
SET switchboard.caller_id_secret = 'too short';
SELECT switchboard.start_caller_id_verification(:'A', '+1 650 253 0000');
SET switchboard.caller_id_secret = 'telephony-regression-secret-0123456789abcdef';
-- Only superusers read or set the secret.
SELECT pg_temp.attempt('authenticated', pg_temp.claims('A owner'), 'SELECT current_setting(''switchboard.caller_id_secret'')');
SELECT pg_temp.attempt('service_role', pg_temp.service(), 'SELECT set_config(''switchboard.caller_id_secret'', ''x'', true)');
SELECT count(*) AS listed FROM pg_settings WHERE name = 'switchboard.caller_id_secret';

-- Who may start a verification (admin and above, and the service role; each in a rolled-back
-- subtransaction), and who sees the code: only the service role.
SELECT w.label,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         'SELECT s ->> ''reason'' || coalesce('' code:'' || length(s ->> ''code''), '''') FROM switchboard.start_caller_id_verification(:A, ''+16502530000'') s') AS in_a
  FROM who w ORDER BY w.org_id, w.rank;
SELECT pg_temp.attempt('service_role', pg_temp.service(),
  'SELECT s ->> ''reason'' || '' code:'' || length(s ->> ''code'') FROM switchboard.start_caller_id_verification(:A, ''+16502530000'') s') AS service;
SELECT pg_temp.attempt('anon', NULL, 'SELECT switchboard.start_caller_id_verification(:A, ''+16502530000'')') AS anon;

-- Bad numbers are refused with a reason; nothing is stored.
SELECT switchboard.start_caller_id_verification(:'A', 'not a number') ->> 'reason' AS reason,
       switchboard.start_caller_id_verification(:'A', '+1 555 010 9999') ->> 'error' AS error,
       (SELECT count(*) FROM switchboard.caller_id_verifications) AS stored;

-- The lifecycle, as the service role would run it (superuser here): start, wrong, right.
SELECT switchboard.start_caller_id_verification(:'A', '(650) 253-0000', 'Office') AS s \gset
SELECT :'s'::jsonb ->> 'verificationId' AS vid, :'s'::jsonb ->> 'code' AS code,
       lpad(((:'s'::jsonb ->> 'code')::int + 1) % 1000000 || '', 6, '0') AS wrong \gset
SELECT :'s'::jsonb ->> 'reason' AS reason, :'s'::jsonb ->> 'phoneNumber' AS phone,
       :'code' ~ '^[0-9]{6}$' AS six_digits,
       (:'s'::jsonb ->> 'expiresAt')::timestamptz - now()
         BETWEEN interval '9 minutes' AND interval '10 minutes' AS valid_10_minutes;
-- Only the keyed hash is stored (32 bytes), never the code.
SELECT length(code_digest) AS digest_bytes, position(convert_to(:'code', 'UTF8') IN code_digest) = 0 AS no_code,
       code_digest = switchboard._caller_id_digest(id, :'code') AS keyed
  FROM switchboard.caller_id_verifications WHERE id = :'vid';
-- A code that is not 6 digits is an error and is not counted.
SELECT switchboard.confirm_caller_id_verification(:'A', :'vid', '12345');
SELECT switchboard.confirm_caller_id_verification(:'A', :'vid', :'wrong') - 'error' AS wrong_1;
SELECT checks FROM switchboard.caller_id_verifications WHERE id = :'vid';
-- Members of A below admin, and every member of B, cannot check it; B does not see it at all.
SELECT w.label,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         format('SELECT switchboard.confirm_caller_id_verification(%L, %L, %L) ->> ''reason''',
                w.org_id, :'vid', :'code')) AS own_org,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         format('SELECT switchboard.confirm_caller_id_verification(%L, %L, %L) ->> ''reason''',
                :'A', :'vid', :'code')) AS org_a
  FROM who w WHERE w.role < 'admin' OR w.org_id = :'B' ORDER BY w.org_id, w.rank;
SELECT switchboard.confirm_caller_id_verification(:'A', :'vid', :'code') - 'verificationId' AS right_code;
-- Single use: the code is gone.
SELECT switchboard.confirm_caller_id_verification(:'A', :'vid', :'code') ->> 'reason' AS again,
       switchboard.start_caller_id_verification(:'A', '+16502530000') ->> 'reason' AS restart;
SELECT status, code_digest IS NULL AS no_digest, verified_at IS NOT NULL AS verified_at
  FROM switchboard.caller_id_verifications WHERE id = :'vid';

-- Three wrong checks lock the number for an hour; even the right code is refused after that.
SELECT switchboard.start_caller_id_verification(:'A', '+1 212 555 0101') AS s \gset
SELECT :'s'::jsonb ->> 'verificationId' AS vid2, :'s'::jsonb ->> 'code' AS code2,
       lpad(((:'s'::jsonb ->> 'code')::int + 7) % 1000000 || '', 6, '0') AS wrong2 \gset
SELECT n, switchboard.confirm_caller_id_verification(:'A', :'vid2', :'wrong2') - 'lockedUntil' AS answer
  FROM generate_series(1, 3) n;
SELECT switchboard.confirm_caller_id_verification(:'A', :'vid2', :'code2') - 'lockedUntil' AS right_after_lock,
       switchboard.start_caller_id_verification(:'A', '+1 212 555 0101') ->> 'reason' AS start_while_locked;
SELECT status, checks, locked_until - now() BETWEEN interval '59 minutes' AND interval '1 hour' AS one_hour
  FROM switchboard.caller_id_verifications WHERE id = :'vid2';

-- Expired: a code older than 10 minutes does not verify.
SELECT switchboard.start_caller_id_verification(:'A', '+1 212 555 0102') AS s \gset
SELECT :'s'::jsonb ->> 'verificationId' AS vid3, :'s'::jsonb ->> 'code' AS code3 \gset
UPDATE switchboard.caller_id_verifications SET code_expires_at = now() - interval '1 second' WHERE id = :'vid3';
SELECT switchboard.confirm_caller_id_verification(:'A', :'vid3', :'code3') AS expired;

-- Resending replaces the code (never two live codes); the fourth send within an hour is refused.
SELECT switchboard.start_caller_id_verification(:'A', '+1 212 555 0103') ->> 'code' AS first_code \gset
SELECT switchboard.start_caller_id_verification(:'A', '+1 212 555 0103') AS s \gset
SELECT :'s'::jsonb ->> 'verificationId' AS vid4, :'s'::jsonb ->> 'code' AS second_code \gset
SELECT switchboard.start_caller_id_verification(:'A', '+1 212 555 0103') ->> 'reason' AS third,
       switchboard.start_caller_id_verification(:'A', '+1 212 555 0103') AS fourth;
SELECT :'first_code' = :'second_code' AS same_code,
       switchboard._caller_id_code_matches(code_digest, id, :'first_code') AS first_matches
  FROM switchboard.caller_id_verifications WHERE id = :'vid4';
-- The organisation's limit (a setting) counts every number.
SET switchboard.caller_id_org_sends_per_hour = 8;
SELECT n, switchboard.start_caller_id_verification(:'A', '+1 212 555 01' || (10 + n)) ->> 'reason' AS reason
  FROM generate_series(1, 3) n;
RESET switchboard.caller_id_org_sends_per_hour;
SELECT count(*) AS sends_a FROM switchboard.caller_id_sends WHERE org_id = :'A';

-- Reading: members see their organisation's numbers, never the digest; other organisations none.
SELECT w.label,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         'SELECT jsonb_array_length(switchboard.list_verified_numbers(:A) -> ''numbers'')') AS list_a,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         'SELECT count(*) FROM switchboard.caller_id_verifications') AS rows_seen,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         'SELECT count(code_digest) FROM switchboard.caller_id_verifications') AS digest
  FROM who w WHERE w.role IN ('owner', 'viewer') ORDER BY w.org_id, w.rank;
SELECT jsonb_path_query_array(switchboard.list_verified_numbers(:'A'), '$.numbers[*].status') AS statuses;

-- Forwarding: to one of the organisation's numbers (or a verified one), only from a verified number.
INSERT INTO switchboard.phone_numbers (org_id, phone_number, friendly_name, provider, provider_id, sms, attestation)
  VALUES (:'A', '+12125550100', 'AI line', 'twilio', 'PN123', true, 'A');
SELECT switchboard.create_forwarding_config(:'A', :'vid2', 'att', 'total_ai') - 'error' AS not_verified;
SELECT switchboard.create_forwarding_config(:'A', :'vid', 'att', 'total_ai', NULL, '+44 20 7946 0958');
SELECT switchboard.create_forwarding_config(:'A', :'vid', 'verizon', 'safety_net', 20);
SELECT switchboard.create_forwarding_config(:'A', :'vid', 'tmobile', 'safety_net', 20) AS f \gset
SELECT :'f'::jsonb #>> '{config,id}' AS cfg \gset
SELECT (:'f'::jsonb - 'config') ->> 'reason' AS reason, :'f'::jsonb -> 'status' AS status,
       :'f'::jsonb #> '{config,generatedActivationCode}' AS activation,
       :'f'::jsonb #> '{config,generatedDeactivationCode}' AS deactivation,
       :'f'::jsonb #> '{config,destination}' AS destination,
       jsonb_array_length(:'f'::jsonb -> 'instructions') AS instructions;
SELECT w.label,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         format('SELECT switchboard.get_forwarding_config(%L, %L) ->> ''reason''', :'A', :'vid')) AS get_a,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         format('SELECT switchboard.confirm_forwarding_setup(%L, %L) ->> ''reason''', :'A', :'cfg')) AS confirm_a,
       pg_temp.attempt('authenticated', pg_temp.claims(w.label),
         format('SELECT switchboard.disable_forwarding(%L, %L) ->> ''reason''', :'A', :'cfg')) AS disable_a
  FROM who w WHERE w.role IN ('owner', 'admin', 'manager', 'viewer') ORDER BY w.org_id, w.rank;
SELECT switchboard.confirm_forwarding_setup(:'A', :'cfg');
SELECT switchboard.get_forwarding_config(:'A', :'vid') #> '{config,status}' AS status;
SELECT switchboard.disable_forwarding(:'A', :'cfg');
SELECT switchboard.confirm_forwarding_setup(:'A', :'cfg') - 'error' AS after_disable;
-- Removing the number removes its configuration; a second removal finds nothing.
SELECT switchboard.remove_verified_number(:'A', :'vid') AS removed,
       switchboard.remove_verified_number(:'A', :'vid') - 'error' AS again;
SELECT count(*) AS configs FROM switchboard.forwarding_configs;
-- phone_numbers: the phone domain refuses what is not E.164; B cannot write A's numbers.
INSERT INTO switchboard.phone_numbers (org_id, phone_number, provider) VALUES (:'A', '212 555 0100', 'twilio');
SELECT pg_temp.attempt('authenticated', pg_temp.claims('B owner'),
  'INSERT INTO switchboard.phone_numbers (org_id, phone_number, provider) VALUES (:A, ''+12125550199'', ''twilio'')') AS b_writes_a,
       pg_temp.attempt('authenticated', pg_temp.claims('A manager'),
  'INSERT INTO switchboard.phone_numbers (org_id, phone_number, provider) VALUES (:A, ''+12125550199'', ''twilio'')') AS manager_writes,
       pg_temp.attempt('authenticated', pg_temp.claims('A admin'),
  'INSERT INTO switchboard.phone_numbers (org_id, phone_number, provider) VALUES (:A, ''+12125550199'', ''twilio'')') AS admin_writes;
