
-- Phone numbers with Google libphonenumber (C++: extension/src/core/telephony). National input is
-- read for default_region (ISO 3166, e.g. 'US', 'GB'); an extension is not part of E.164 and is
-- dropped by normalize_phone (phone_info reports it). Deterministic for one libphonenumber version.

-- Ensures: the E.164 form of a valid number; 22023 naming the input and why it is not one.
CREATE FUNCTION switchboard.normalize_phone(input text, default_region text DEFAULT 'US')
  RETURNS text LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'sb_normalize_phone';

-- Ensures: {e164, valid, possible, region, countryCode, type, extension, timeZones, reason} of the
-- input without raising for it (reason: null when valid, else NOT_A_NUMBER, INVALID_COUNTRY_CODE,
-- TOO_SHORT, TOO_LONG, INVALID_LENGTH, INVALID_FOR_REGION). timeZones: the IANA zones of the
-- longest matching prefix in libphonenumber's prefix data (several when the prefix spans them).
CREATE FUNCTION switchboard.phone_info(input text, default_region text DEFAULT 'US')
  RETURNS jsonb LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'sb_phone_info';

-- Ensures: the code the user dials on their mobile so its calls forward to destination, and the
-- code that undoes it: {carrier, forwardingType, destination, ringSeconds, activationCode,
-- deactivationCode, instructions[], notes[]}. Carriers: att, tmobile, sprint, other_gsm,
-- international (GSM/LTE: **21*DEST# for total_ai, **004*DEST*11*T# for safety_net, erased with
-- ##21# / ##004#), verizon, other_cdma (*72 / *71 with 10 digits, *73). ring_seconds only for GSM
-- safety_net: 5 to 30 in steps of 5 (25 when null). 22023 naming any bad value.
CREATE FUNCTION switchboard.forwarding_codes(carrier text, forwarding_type text, destination text,
  ring_seconds integer DEFAULT NULL)
  RETURNS jsonb LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_forwarding_codes';

-- Caller-ID ownership verification (seed 004 section 17, ../shared/domain/telephony.md). The C++
-- half (extension/src/pg/telephony/telephony_verification.cpp) draws the code, hashes it with
-- HMAC-SHA256 under switchboard.caller_id_secret and compares in constant time; none of these
-- internal functions is granted.
CREATE FUNCTION switchboard._caller_id_new_code() RETURNS text
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_caller_id_new_code';
CREATE FUNCTION switchboard._caller_id_digest(verification_id uuid, code text) RETURNS bytea
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_caller_id_digest';
CREATE FUNCTION switchboard._caller_id_code_matches(stored bytea, verification_id uuid, code text)
  RETURNS boolean LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_caller_id_code_matches';
CREATE FUNCTION switchboard._caller_id_max_checks() RETURNS integer
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'sb_caller_id_max_checks';
CREATE FUNCTION switchboard._caller_id_org_sends_per_hour() RETURNS integer
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'sb_caller_id_org_sends_per_hour';

SELECT switchboard.protect('switchboard.phone_numbers', 'org_id', 'viewer', 'admin', 'admin', 'admin');
SELECT switchboard.protect('switchboard.caller_id_verifications', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.caller_id_sends', 'org_id', 'admin', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.forwarding_configs', 'org_id', 'viewer', 'admin', 'admin', 'admin');

-- Ensures: the caller may run a telephony command on the organisation (assert_role with
-- min_role: 42501 otherwise) and the command's id argument, when it names one, is not null.
CREATE FUNCTION switchboard._telephony_caller(org uuid, min_role switchboard.member_role,
  id uuid DEFAULT NULL, id_name text DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org, 'org_id');
  PERFORM switchboard.assert_role(org, min_role);
  IF id_name IS NOT NULL THEN
    PERFORM switchboard.require_arg(id, id_name);
  END IF;
END
$$;

-- Ensures: the answer of a telephony command that did not do its work: {success: false, reason,
-- status (the HTTP status of the seed), error}, plus `extra`.
CREATE FUNCTION switchboard._telephony_refusal(reason text, status integer, error text,
  extra jsonb DEFAULT '{}') RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.jsonb_build_object('success', false, 'reason', reason, 'status', status,
                                       'error', error) OPERATOR(pg_catalog.||) extra
$$;

-- Ensures: the answer of a removal of `what`: {success, reason: 'REMOVED', message} when
-- `removed`, else the refusal NOT_FOUND (404).
CREATE FUNCTION switchboard._telephony_removal(removed boolean, what text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN removed
    THEN pg_catalog.jsonb_build_object('success', true, 'reason', 'REMOVED', 'status', 200, 'message',
           pg_catalog.upper(pg_catalog.left(what, 1)) || pg_catalog.substr(what, 2) || ' removed')
    ELSE switchboard._telephony_refusal('NOT_FOUND', 404, what || ' not found') END
$$;

-- Ensures: a new 6-digit code for the number (the previous one, if any, no longer works), valid
-- 10 minutes, unless the number is invalid (INVALID_PHONE, 400), already verified
-- (ALREADY_VERIFIED, 409), locked after failed checks (LOCKED, 429) or was sent 3 codes in the
-- last hour, or the organisation switchboard.caller_id_org_sends_per_hour (RATE_LIMITED, 429).
-- The code is in the answer only for the service role (the platform's backend, which delivers
-- it); members get {success, reason: 'STARTED', verificationId, phoneNumber, expiresAt}.
-- Caller: admin or above, or service_role.
CREATE FUNCTION switchboard.start_caller_id_verification(org_id uuid, phone text,
  friendly_name text DEFAULT NULL) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_info jsonb;
  v_e164 text;
  v_row switchboard.caller_id_verifications;
  v_number_sends integer;
  v_org_sends integer;
  v_code text;
  v_digest bytea;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin');
  PERFORM switchboard.require_arg(phone, 'phone');
  v_info := switchboard.phone_info(phone, 'US');
  IF NOT (v_info ->> 'valid')::boolean THEN
    RETURN switchboard._telephony_refusal('INVALID_PHONE', 400,
      format('phone number "%s" is not valid (%s)', phone, v_info ->> 'reason'));
  END IF;
  v_e164 := v_info ->> 'e164';
  -- One sender at a time per organisation: the per-organisation count cannot be raced past.
  PERFORM pg_advisory_xact_lock(hashtextextended('switchboard.caller_id_sends:' || v_org::text, 0));
  INSERT INTO switchboard.caller_id_verifications AS v (org_id, phone_number, friendly_name)
    VALUES (v_org, v_e164, friendly_name) ON CONFLICT ON CONSTRAINT caller_id_verifications_org_id_phone_number_key DO NOTHING;
  SELECT * INTO v_row FROM switchboard.caller_id_verifications v
   WHERE v.org_id = v_org AND v.phone_number = v_e164 FOR UPDATE;
  IF v_row.status = 'verified' THEN
    RETURN switchboard._telephony_refusal('ALREADY_VERIFIED', 409,
      'phone number already verified for this organization',
      jsonb_build_object('verificationId', v_row.id));
  END IF;
  IF v_row.locked_until > now() THEN
    RETURN switchboard._telephony_refusal('LOCKED', 429,
      'too many wrong codes: this number is locked for an hour',
      jsonb_build_object('lockedUntil', switchboard.answer_time(v_row.locked_until)));
  END IF;
  SELECT count(*) FILTER (WHERE s.phone_number = v_e164), count(*)
    INTO v_number_sends, v_org_sends
    FROM switchboard.caller_id_sends s
   WHERE s.org_id = v_org AND s.sent_at > now() - interval '1 hour';
  IF v_number_sends >= 3 OR v_org_sends >= switchboard._caller_id_org_sends_per_hour() THEN
    RETURN switchboard._telephony_refusal('RATE_LIMITED', 429,
      CASE WHEN v_number_sends >= 3 THEN 'at most 3 codes per number per hour'
           ELSE 'too many codes sent by this organization in the last hour' END);
  END IF;
  v_code := switchboard._caller_id_new_code();
  -- The digest is computed first: Citus refuses a VOLATILE function inside an UPDATE.
  v_digest := switchboard._caller_id_digest(v_row.id, v_code);
  UPDATE switchboard.caller_id_verifications v
     SET status = 'pending', code_digest = v_digest,
         code_expires_at = now() + interval '10 minutes', checks = 0, locked_until = NULL,
         friendly_name = coalesce(start_caller_id_verification.friendly_name, v.friendly_name),
         updated_at = now()
   WHERE v.org_id = v_org AND v.id = v_row.id
  RETURNING * INTO v_row;
  INSERT INTO switchboard.caller_id_sends (org_id, phone_number) VALUES (v_org, v_e164);
  -- The event carries no code: an organisation's admins can read its messages and point its
  -- endpoints anywhere, and seeing the code would let them verify a number they do not own.
  PERFORM switchboard._emit_event(v_org, 'caller_id.verification_started', jsonb_build_object('verificationId', v_row.id, 'phoneNumber', v_row.phone_number, 'expiresAt', switchboard.answer_time(v_row.code_expires_at)));
  RETURN jsonb_build_object('success', true, 'reason', 'STARTED', 'status', 200,
           'verificationId', v_row.id, 'phoneNumber', v_row.phone_number,
           'expiresAt', switchboard.answer_time(v_row.code_expires_at),
           'message', 'Verification code sent. Enter the 6-digit code to confirm the number.')
         || CASE WHEN switchboard.is_service_role() THEN jsonb_build_object('code', v_code)
                 ELSE '{}'::jsonb END;
END
$$;

-- Ensures: the number is verified when `code` is its live code; every check is counted under the
-- row's lock, so at most switchboard.caller_id_max_checks (default 3, at most 5) checks reach a
-- code and none after the last, right or not. Answers: VERIFIED (200), WRONG_CODE (400, with
-- attemptsRemaining), LOCKED (429: the last check failed, or the number is still locked; for an
-- hour), EXPIRED (410: no live code), ALREADY_VERIFIED (409), NOT_FOUND (404). A code that is not
-- 6 digits is 22023 and is not counted. Caller: admin or above, or service_role.
CREATE FUNCTION switchboard.confirm_caller_id_verification(org_id uuid, verification_id uuid,
  code text) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_row switchboard.caller_id_verifications;
  v_max integer := switchboard._caller_id_max_checks();
  v_checks integer;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', verification_id, 'verification_id');
  PERFORM switchboard.require_arg(code, 'code');
  IF code !~ '^[0-9]{6}$' THEN
    RAISE EXCEPTION 'verification code must be 6 digits' USING ERRCODE = '22023',
      DETAIL = format('Code "%s" is not 6 digits.', code);
  END IF;
  SELECT * INTO v_row FROM switchboard.caller_id_verifications v
   WHERE v.org_id = v_org AND v.id = verification_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN switchboard._telephony_refusal('NOT_FOUND', 404, 'verification not found');
  ELSIF v_row.status = 'verified' THEN
    RETURN switchboard._telephony_refusal('ALREADY_VERIFIED', 409,
      'phone number already verified for this organization');
  ELSIF v_row.locked_until > now() THEN
    RETURN switchboard._telephony_refusal('LOCKED', 429,
      'too many wrong codes: this number is locked for an hour',
      jsonb_build_object('lockedUntil', switchboard.answer_time(v_row.locked_until), 'attemptsRemaining', 0));
  ELSIF v_row.code_digest IS NULL OR v_row.code_expires_at <= now() THEN
    UPDATE switchboard.caller_id_verifications v SET code_digest = NULL, updated_at = now()
     WHERE v.org_id = v_org AND v.id = v_row.id AND v.code_digest IS NOT NULL;
    RETURN switchboard._telephony_refusal('EXPIRED', 410,
      'verification code expired. Please request a new one.');
  END IF;
  v_checks := v_row.checks + 1;
  IF v_checks <= v_max AND switchboard._caller_id_code_matches(v_row.code_digest, v_row.id, code) THEN
    UPDATE switchboard.caller_id_verifications v
       SET status = 'verified', verified_at = now(), code_digest = NULL, code_expires_at = NULL,
           checks = v_checks, updated_at = now()
     WHERE v.org_id = v_org AND v.id = v_row.id;
    RETURN jsonb_build_object('success', true, 'reason', 'VERIFIED', 'status', 200,
             'verificationId', v_row.id, 'phoneNumber', v_row.phone_number,
             'message', 'Phone number verified successfully');
  ELSIF v_checks >= v_max THEN
    UPDATE switchboard.caller_id_verifications v
       SET status = 'failed', code_digest = NULL, code_expires_at = NULL,
           checks = least(v_checks, 5), locked_until = now() + interval '1 hour', updated_at = now()
     WHERE v.org_id = v_org AND v.id = v_row.id
    RETURNING * INTO v_row;
    RETURN switchboard._telephony_refusal('LOCKED', 429,
      'invalid verification code. No attempts remaining: this number is locked for an hour.',
      jsonb_build_object('lockedUntil', switchboard.answer_time(v_row.locked_until), 'attemptsRemaining', 0));
  END IF;
  UPDATE switchboard.caller_id_verifications v SET checks = v_checks, updated_at = now()
   WHERE v.org_id = v_org AND v.id = v_row.id;
  RETURN switchboard._telephony_refusal('WRONG_CODE', 400,
    format('invalid verification code. %s attempts remaining.', v_max - v_checks),
    jsonb_build_object('attemptsRemaining', v_max - v_checks));
END
$$;

-- Ensures: the organisation's numbers under verification or verified: {success, numbers: [{id,
-- phoneNumber, friendlyName, status, verifiedAt, hasForwardingConfig}]}. Caller: any member, or
-- service_role.
CREATE FUNCTION switchboard.list_verified_numbers(org_id uuid) RETURNS jsonb
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'viewer');
  RETURN jsonb_build_object('success', true, 'reason', 'LISTED', 'status', 200, 'numbers',
    coalesce((SELECT jsonb_agg(jsonb_build_object('id', v.id, 'phoneNumber', v.phone_number,
                  'friendlyName', v.friendly_name, 'status', v.status, 'verifiedAt', switchboard.answer_time(v.verified_at),
                  'hasForwardingConfig', EXISTS (SELECT 1 FROM switchboard.forwarding_configs f
                                                 WHERE f.org_id = v.org_id AND f.verification_id = v.id))
                ORDER BY v.created_at, v.id)
                FROM switchboard.caller_id_verifications v WHERE v.org_id = v_org), '[]'::jsonb));
END
$$;

-- Ensures: the number and its forwarding configuration are gone: {success, reason: 'REMOVED'}, or
-- NOT_FOUND (404). Caller: admin or above, or service_role.
CREATE FUNCTION switchboard.remove_verified_number(org_id uuid, verification_id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', verification_id, 'verification_id');
  DELETE FROM switchboard.caller_id_verifications v
   WHERE v.org_id = v_org AND v.id = verification_id;
  RETURN switchboard._telephony_removal(FOUND, 'verified number');
END
$$;

-- Call-forwarding configurations (seed endpoints 4-7): the codes of forwarding_codes for a
-- verified number, to one of the organisation's numbers.

-- Ensures: the configuration as the seed shows it.
CREATE FUNCTION switchboard._forwarding_config_json(c switchboard.forwarding_configs) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.jsonb_build_object('id', c.id, 'verifiedCallerId', c.verification_id,
    'simPhoneNumber', c.sim_phone_number, 'destination', c.destination,
    'forwardingType', c.forwarding_type, 'carrier', c.carrier, 'ringTimeSeconds', c.ring_seconds,
    'generatedActivationCode', c.activation_code, 'generatedDeactivationCode', c.deactivation_code,
    'status', c.status, 'userConfirmedSetup', c.confirmed_at IS NOT NULL,
    'confirmedAt', switchboard.answer_time(c.confirmed_at))
$$;

-- Ensures: the verified number's forwarding configuration (replacing an earlier one, back to
-- pending_setup) with the codes for its carrier: {success, reason: 'CREATED', status: 201, config,
-- instructions, notes}. destination: a number of the organisation's (phone_numbers, active) or
-- one it verified; when NULL its oldest active voice number. NOT_FOUND (404) for an unknown
-- verification, NOT_VERIFIED (409) when it is not verified yet; 22023 for a destination that is
-- not the organisation's and for what forwarding_codes refuses. Caller: admin or above, or
-- service_role.
CREATE FUNCTION switchboard.create_forwarding_config(org_id uuid, verification_id uuid,
  carrier text, forwarding_type text, ring_seconds integer DEFAULT NULL, destination text DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_number switchboard.caller_id_verifications;
  v_destination text;
  v_codes jsonb;
  v_config switchboard.forwarding_configs;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', verification_id, 'verification_id');
  SELECT * INTO v_number FROM switchboard.caller_id_verifications v
   WHERE v.org_id = v_org AND v.id = create_forwarding_config.verification_id FOR SHARE;
  IF NOT FOUND THEN
    RETURN switchboard._telephony_refusal('NOT_FOUND', 404, 'verified number not found');
  ELSIF v_number.status <> 'verified' THEN
    RETURN switchboard._telephony_refusal('NOT_VERIFIED', 409, 'phone number is not verified yet');
  END IF;
  IF destination IS NULL THEN
    SELECT p.phone_number INTO v_destination FROM switchboard.phone_numbers p
     WHERE p.org_id = v_org AND p.status = 'active' AND p.voice ORDER BY p.created_at, p.id LIMIT 1;
    IF v_destination IS NULL THEN
      RAISE EXCEPTION 'destination must not be null' USING ERRCODE = '22023',
        DETAIL = 'The organization has no active voice number to forward to.',
        HINT = 'add the AI''s number to phone_numbers or give a destination';
    END IF;
  ELSE
    v_destination := switchboard.normalize_phone(destination, 'US');
    IF NOT EXISTS (SELECT 1 FROM switchboard.phone_numbers p
                    WHERE p.org_id = v_org AND p.phone_number = v_destination AND p.status = 'active')
       AND NOT EXISTS (SELECT 1 FROM switchboard.caller_id_verifications v
                        WHERE v.org_id = v_org AND v.phone_number = v_destination
                          AND v.status = 'verified') THEN
      RAISE EXCEPTION 'destination is not a number of the organization' USING ERRCODE = '22023',
        DETAIL = format('Destination %s is neither an active number of the organization nor a verified one.', v_destination);
    END IF;
  END IF;
  v_codes := switchboard.forwarding_codes(carrier, forwarding_type, v_destination, ring_seconds);
  INSERT INTO switchboard.forwarding_configs AS f (org_id, verification_id, sim_phone_number,
      destination, carrier, forwarding_type, ring_seconds, activation_code, deactivation_code)
    VALUES (v_org, v_number.id, v_number.phone_number, v_destination, v_codes ->> 'carrier',
            v_codes ->> 'forwardingType', (v_codes ->> 'ringSeconds')::integer,
            v_codes ->> 'activationCode', v_codes ->> 'deactivationCode')
  ON CONFLICT ON CONSTRAINT forwarding_configs_org_id_verification_id_key DO UPDATE
    SET destination = excluded.destination, carrier = excluded.carrier,
        forwarding_type = excluded.forwarding_type, ring_seconds = excluded.ring_seconds,
        activation_code = excluded.activation_code, deactivation_code = excluded.deactivation_code,
        status = 'pending_setup', confirmed_at = NULL, updated_at = excluded.updated_at
  RETURNING * INTO v_config;
  RETURN jsonb_build_object('success', true, 'reason', 'CREATED', 'status', 201,
    'config', switchboard._forwarding_config_json(v_config),
    'instructions', v_codes -> 'instructions', 'notes', v_codes -> 'notes');
END
$$;

-- Ensures: {success, config} of the verified number's forwarding configuration, or NOT_FOUND
-- (404). Caller: any member, or service_role.
CREATE FUNCTION switchboard.get_forwarding_config(org_id uuid, verification_id uuid) RETURNS jsonb
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_config switchboard.forwarding_configs;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'viewer', verification_id, 'verification_id');
  SELECT * INTO v_config FROM switchboard.forwarding_configs f
   WHERE f.org_id = v_org AND f.verification_id = get_forwarding_config.verification_id;
  IF NOT FOUND THEN
    RETURN switchboard._telephony_refusal('NOT_FOUND', 404, 'forwarding configuration not found');
  END IF;
  RETURN jsonb_build_object('success', true, 'reason', 'FOUND', 'status', 200,
                            'config', switchboard._forwarding_config_json(v_config));
END
$$;

-- Ensures: the user said they dialed the activation code: the configuration is active
-- ({success, reason: 'ACTIVE', status: 'active'}; again: the same); NOT_FOUND (404), DISABLED
-- (409) for a disabled one. Caller: admin or above, or service_role.
CREATE FUNCTION switchboard.confirm_forwarding_setup(org_id uuid, config_id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_config switchboard.forwarding_configs;
  v_now timestamptz := now();
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', config_id, 'config_id');
  SELECT * INTO v_config FROM switchboard.forwarding_configs f
   WHERE f.org_id = v_org AND f.id = config_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN switchboard._telephony_refusal('NOT_FOUND', 404, 'forwarding configuration not found');
  ELSIF v_config.status = 'disabled' THEN
    RETURN switchboard._telephony_refusal('DISABLED', 409,
      'forwarding is disabled: create the configuration again');
  END IF;
  -- now() from a variable: Citus refuses a non-IMMUTABLE function inside COALESCE.
  UPDATE switchboard.forwarding_configs f
     SET status = 'active', confirmed_at = coalesce(f.confirmed_at, v_now), updated_at = v_now
   WHERE f.org_id = v_org AND f.id = config_id;
  RETURN jsonb_build_object('success', true, 'reason', 'ACTIVE', 'status', 'active',
    'message', 'Setup confirmed! Your calls are now forwarding to the AI.');
END
$$;

-- Ensures: the configuration is disabled and the answer names the code the user must dial to
-- undo the forwarding on the phone ({success, reason: 'DISABLED', deactivationCode, message});
-- NOT_FOUND (404). Caller: admin or above, or service_role.
CREATE FUNCTION switchboard.disable_forwarding(org_id uuid, config_id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_config switchboard.forwarding_configs;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', config_id, 'config_id');
  UPDATE switchboard.forwarding_configs f SET status = 'disabled', updated_at = now()
   WHERE f.org_id = v_org AND f.id = config_id
  RETURNING * INTO v_config;
  IF NOT FOUND THEN
    RETURN switchboard._telephony_refusal('NOT_FOUND', 404, 'forwarding configuration not found');
  END IF;
  RETURN jsonb_build_object('success', true, 'reason', 'DISABLED', 'status', 200,
    'deactivationCode', v_config.deactivation_code,
    'message', format('Forwarding disabled. Dial %s on %s to stop forwarding.',
                      v_config.deactivation_code, v_config.sim_phone_number));
END
$$;

-- The organisation's own numbers (phone_numbers) as REST resources: list, add, change, remove.
-- Row-level security decides (members read, admins write); the caller check gives the one 42501.

-- Ensures: the organisation's numbers, oldest first. Caller: any member, or service_role.
CREATE FUNCTION switchboard.list_phone_numbers(org_id uuid) RETURNS SETOF switchboard.phone_numbers
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._telephony_caller(list_phone_numbers.org_id, 'viewer');
  RETURN QUERY SELECT p.* FROM switchboard.phone_numbers p
                WHERE p.org_id = list_phone_numbers.org_id ORDER BY p.created_at, p.id;
END
$$;

-- Ensures: the number (normalised to E.164 with default_region; 22023 when it is not a valid
-- number) is one of the organisation's, as stored; 23505 when it already is. Caller: admin or
-- above, or service_role.
CREATE FUNCTION switchboard.add_phone_number(org_id uuid, phone_number text, provider text,
  friendly_name text DEFAULT NULL, provider_id text DEFAULT NULL, voice boolean DEFAULT true,
  sms boolean DEFAULT false, mms boolean DEFAULT false, attestation text DEFAULT NULL,
  default_region text DEFAULT 'US') RETURNS switchboard.phone_numbers
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_row switchboard.phone_numbers;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin');
  PERFORM switchboard.require_arg(phone_number, 'phone_number');
  INSERT INTO switchboard.phone_numbers AS p (org_id, phone_number, friendly_name, provider,
      provider_id, voice, sms, mms, attestation)
    VALUES (v_org, switchboard.normalize_phone(phone_number, default_region), friendly_name,
            provider, provider_id, voice, sms, mms, attestation)
  RETURNING * INTO v_row;
  RETURN v_row;
END
$$;

-- Ensures: the given fields of number `id` are changed (NULL: unchanged) and the row as it now is
-- is returned; P0002 when the organisation has no number `id`. Caller: admin or above, or
-- service_role.
CREATE FUNCTION switchboard.update_phone_number(org_id uuid, id uuid, friendly_name text DEFAULT NULL,
  provider_id text DEFAULT NULL, voice boolean DEFAULT NULL, sms boolean DEFAULT NULL,
  mms boolean DEFAULT NULL, status text DEFAULT NULL, attestation text DEFAULT NULL)
  RETURNS switchboard.phone_numbers
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_id uuid := id;
  v_row switchboard.phone_numbers;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', v_id, 'id');
  UPDATE switchboard.phone_numbers p
     SET friendly_name = coalesce(update_phone_number.friendly_name, p.friendly_name),
         provider_id = coalesce(update_phone_number.provider_id, p.provider_id),
         voice = coalesce(update_phone_number.voice, p.voice),
         sms = coalesce(update_phone_number.sms, p.sms),
         mms = coalesce(update_phone_number.mms, p.mms),
         status = coalesce(update_phone_number.status, p.status),
         attestation = coalesce(update_phone_number.attestation, p.attestation),
         updated_at = now()
   WHERE p.org_id = v_org AND p.id = v_id
  RETURNING * INTO v_row;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'phone number not found' USING ERRCODE = 'P0002',
      DETAIL = format('The organization has no phone number with id %s.', v_id);
  END IF;
  RETURN v_row;
END
$$;

-- Ensures: number `id` is no longer the organisation's: {success, reason: 'REMOVED'}, or
-- NOT_FOUND (404). Caller: admin or above, or service_role.
CREATE FUNCTION switchboard.remove_phone_number(org_id uuid, id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := org_id;
  v_id uuid := id;
BEGIN
  PERFORM switchboard._telephony_caller(v_org, 'admin', v_id, 'id');
  DELETE FROM switchboard.phone_numbers p WHERE p.org_id = v_org AND p.id = v_id;
  RETURN switchboard._telephony_removal(FOUND, 'phone number');
END
$$;
