-- Outbound webhooks: emit_event (the outbox, written in the caller's transaction), endpoint
-- management for admins and owners, delivery history, and the claim/record steps the delivery
-- worker runs in short transactions (the retry rules live here, one implementation).
CREATE TRIGGER webhook_endpoints_touch BEFORE UPDATE ON switchboard.webhook_endpoints
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
SELECT switchboard.protect('switchboard.webhook_endpoints', 'org_id', 'admin', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.webhook_endpoint_secrets', 'org_id', 'owner', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.webhook_messages', 'org_id', 'admin', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.webhook_deliveries', 'org_id', 'admin', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.webhook_attempts', 'org_id', 'admin', 'owner', 'owner', 'owner');

-- emit_event keeps a cache of the event type names: changes reach every session's next call.
CREATE TRIGGER event_types_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.event_types
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();

-- Ensures: the delivery worker of this database is woken when this transaction commits.
CREATE FUNCTION switchboard._outbound_wake() RETURNS void
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_outbound_wake';

-- A new Standard Webhooks secret: whsec_ and the base64 of 32 strong random bytes.
CREATE FUNCTION switchboard._new_webhook_secret() RETURNS text
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_new_webhook_secret';

-- A new Ed25519 secret key for v1a signing: whsk_ and the base64 of a 32-byte random seed.
CREATE FUNCTION switchboard._new_webhook_signing_key() RETURNS text
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_new_webhook_signing_key';

-- The whpk_ public key of a whsk_ secret key (NULL for a whsec_ secret).
CREATE FUNCTION switchboard._webhook_public_key(secret text) RETURNS text
  LANGUAGE c IMMUTABLE AS 'MODULE_PATHNAME', 'sb_webhook_public_key';

-- A new signing secret for the scheme: whsec_ for v1, whsk_ for v1a.
CREATE FUNCTION switchboard._new_signing_secret(signing text) RETURNS text
  LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN signing OPERATOR(pg_catalog.=) 'v1a' THEN switchboard._new_webhook_signing_key()
              ELSE switchboard._new_webhook_secret() END
$$;

-- What an answer shows of a new secret, once: the whsec_ secret itself (v1), or the whpk_ public
-- key receivers verify v1a signatures with (the secret key never leaves the database).
CREATE FUNCTION switchboard._shown_secret(secret text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN pg_catalog.starts_with(secret, 'whsk_')
              THEN pg_catalog.jsonb_build_object('publicKey', switchboard._webhook_public_key(secret))
              ELSE pg_catalog.jsonb_build_object('secret', secret) END
$$;

-- True when an endpoint with these filters wants the event type (NULL: every type;
-- 'appointment.*' matches every type below appointment); an explicit-only type only where a
-- filter names it (core/outbound/outbound_events: the one implementation of the rule).
CREATE FUNCTION switchboard._event_type_matches(filters text[], event_type text,
                                                explicit_only boolean DEFAULT false) RETURNS boolean
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_event_type_matches';

-- Ensures: every filter names a known event type or a prefix of one ending in .* (22023).
CREATE FUNCTION switchboard._check_event_filters(filters text[]) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  f text;
BEGIN
  IF filters IS NOT NULL AND pg_catalog.cardinality(filters) = 0 THEN
    RAISE EXCEPTION 'event_types must not be empty' USING ERRCODE = '22023',
      HINT = 'pass NULL for every event type';
  END IF;
  FOREACH f IN ARRAY coalesce(filters, '{}') LOOP
    IF NOT EXISTS (SELECT 1 FROM switchboard.event_types t
                    WHERE switchboard._event_type_matches(ARRAY[f], t.name)) THEN
      RAISE EXCEPTION 'unknown event type' USING ERRCODE = '22023',
        DETAIL = format('event type: %s', coalesce(f, 'NULL')),
        HINT = 'a name from switchboard.event_types, or a prefix of one followed by .*';
    END IF;
  END LOOP;
END
$$;

-- Ensures: the URL is an absolute http(s) URL without credentials; plain http only when
-- switchboard.outbound_allow_http is on (22023).
CREATE FUNCTION switchboard._check_endpoint_url(url text) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(url, 'url');
  IF url !~ '^https?://[^/?#@\s]+(/\S*)?$' OR length(url) > 2000 THEN
    RAISE EXCEPTION 'invalid webhook endpoint url' USING ERRCODE = '22023',
      DETAIL = format('url: %s', url), HINT = 'an absolute https URL without user or password';
  END IF;
  IF url ~ '^http://'
     AND coalesce(pg_catalog.current_setting('switchboard.outbound_allow_http', true), '') NOT IN
         ('on', 'true', '1', 'yes') THEN
    RAISE EXCEPTION 'webhook endpoint url must use https' USING ERRCODE = '22023',
      DETAIL = format('url: %s', url), HINT = 'plain http needs switchboard.outbound_allow_http = on';
  END IF;
END
$$;

-- The endpoint options of create/update (NULL values for options not given); 22023 for unknown
-- keys or bad values.
CREATE FUNCTION switchboard._endpoint_options(options jsonb,
  OUT description text, OUT rate_limit integer, OUT max_concurrency integer, OUT ordered boolean,
  OUT signing text)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  k text;
BEGIN
  IF pg_catalog.jsonb_typeof(coalesce(options, '{}')) <> 'object' THEN
    RAISE EXCEPTION 'options must be a json object' USING ERRCODE = '22023',
      DETAIL = format('options: %s', options);
  END IF;
  FOR k IN SELECT pg_catalog.jsonb_object_keys(coalesce(options, '{}')) LOOP
    IF k NOT IN ('description', 'rateLimit', 'maxConcurrency', 'ordered', 'signing') THEN
      RAISE EXCEPTION 'unknown webhook endpoint option' USING ERRCODE = '22023',
        DETAIL = format('option: %s', k),
        HINT = 'options: description, rateLimit, maxConcurrency, ordered, signing';
    END IF;
  END LOOP;
  BEGIN
    description := options ->> 'description';
    rate_limit := (options ->> 'rateLimit')::integer;
    max_concurrency := (options ->> 'maxConcurrency')::integer;
    ordered := (options ->> 'ordered')::boolean;
  EXCEPTION WHEN data_exception THEN
    RAISE EXCEPTION 'invalid webhook endpoint option value' USING ERRCODE = '22023',
      DETAIL = format('options: %s', options),
      HINT = 'rateLimit and maxConcurrency are integers, ordered a boolean';
  END;
  signing := options ->> 'signing';
  IF rate_limit <= 0 OR max_concurrency NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION 'invalid webhook endpoint option value' USING ERRCODE = '22023',
      DETAIL = format('options: %s', options),
      HINT = 'rateLimit is positive, maxConcurrency between 1 and 100';
  END IF;
  IF signing NOT IN ('v1', 'v1a') THEN
    RAISE EXCEPTION 'unknown webhook signing scheme' USING ERRCODE = '22023',
      DETAIL = format('signing: %s', signing), HINT = 'v1 (HMAC-SHA256) or v1a (Ed25519)';
  END IF;
END
$$;

-- The endpoint of the organisation, locked for update (P0002 when there is none).
CREATE FUNCTION switchboard._lock_endpoint(org_id uuid, endpoint_id uuid)
  RETURNS switchboard.webhook_endpoints
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
BEGIN
  PERFORM switchboard.require_arg(endpoint_id, 'endpoint_id');
  SELECT * INTO e FROM switchboard.webhook_endpoints w
   WHERE w.org_id OPERATOR(pg_catalog.=) _lock_endpoint.org_id
     AND w.id OPERATOR(pg_catalog.=) _lock_endpoint.endpoint_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'webhook endpoint not found' USING ERRCODE = 'P0002',
      DETAIL = format('endpoint_id: %s', endpoint_id);
  END IF;
  RETURN e;
END
$$;

-- An endpoint as the API shows it (never its secrets).
CREATE FUNCTION switchboard._endpoint_json(e switchboard.webhook_endpoints) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.jsonb_build_object('endpointId', e.id, 'orgId', e.org_id, 'url', e.url,
    'description', e.description, 'eventTypes', e.event_types, 'enabled', e.enabled,
    'disabledReason', e.disabled_reason, 'rateLimit', e.rate_limit,
    'maxConcurrency', e.max_concurrency, 'ordered', e.ordered, 'signing', e.signing)
$$;

-- Ensures: the message is queued for every enabled endpoint of the organisation that wants its
-- type (a type marked explicit_only only where the endpoint names it; only `only_endpoint` when
-- given); returns how many deliveries were queued.
CREATE FUNCTION switchboard._fan_out(org_id uuid, message_id text, event_type text,
                                     only_endpoint uuid DEFAULT NULL,
                                     explicit_only boolean DEFAULT false) RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO switchboard.webhook_deliveries (org_id, message_id, endpoint_id)
  SELECT e.org_id, _fan_out.message_id, e.id FROM switchboard.webhook_endpoints e
   WHERE e.org_id OPERATOR(pg_catalog.=) _fan_out.org_id AND e.enabled
     AND (only_endpoint IS NULL OR e.id OPERATOR(pg_catalog.=) only_endpoint)
     AND (only_endpoint IS NOT NULL
          OR switchboard._event_type_matches(e.event_types, _fan_out.event_type, _fan_out.explicit_only));
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    PERFORM switchboard._outbound_wake();
  END IF;
  RETURN n;
END
$$;

-- Ensures: the event is in the outbox of the organisation, delivered after this transaction
-- commits (never if it rolls back) to every endpoint that wants it; returns its message id. A
-- repeated idempotency key returns the first message's id and queues nothing. No permission
-- check: the capabilities call it as the owner for their built-in events (emit_event checks).
-- C++ (pg/outbound/outbound_emit.cpp): one prepared statement writes the message and its
-- deliveries.
CREATE FUNCTION switchboard._emit_event(org_id uuid, event_type text, payload jsonb,
                                        idempotency_key text DEFAULT NULL) RETURNS text
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_emit_event_unchecked';

-- Ensures: as _emit_event, for admins and owners of the organisation (and the service role).
CREATE FUNCTION switchboard.emit_event(org_id uuid, event_type text, payload jsonb,
                                       idempotency_key text DEFAULT NULL) RETURNS text
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_emit_event';
COMMENT ON FUNCTION switchboard.emit_event(uuid, text, jsonb, text) IS
  'queue an event for the organisation''s webhook endpoints in this transaction; returns its msg_ id';

-- Ensures: a new enabled endpoint of the organisation with a fresh signing secret, returned once.
CREATE FUNCTION switchboard.create_webhook_endpoint(org_id uuid, url text,
                                                    event_types text[] DEFAULT NULL,
                                                    options jsonb DEFAULT '{}') RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  o record;
  e switchboard.webhook_endpoints;
  v_secret text;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard._check_endpoint_url(url);
  PERFORM switchboard._check_event_filters(event_types);
  o := switchboard._endpoint_options(options);
  INSERT INTO switchboard.webhook_endpoints AS w (org_id, url, description, event_types, rate_limit,
                                                  max_concurrency, ordered, signing)
  VALUES (create_webhook_endpoint.org_id, create_webhook_endpoint.url, coalesce(o.description, ''),
          create_webhook_endpoint.event_types, o.rate_limit, coalesce(o.max_concurrency, 10),
          coalesce(o.ordered, false), coalesce(o.signing, 'v1'))
  RETURNING * INTO e;
  v_secret := switchboard._new_signing_secret(e.signing);
  INSERT INTO switchboard.webhook_endpoint_secrets (org_id, endpoint_id, secret)
    VALUES (e.org_id, e.id, v_secret);
  RETURN pg_catalog.jsonb_build_object('reason', 'CREATED') OPERATOR(pg_catalog.||)
         switchboard._shown_secret(v_secret) OPERATOR(pg_catalog.||) switchboard._endpoint_json(e);
END
$$;

-- Ensures: the endpoint has the url, event types and options given in `changes` (keys url,
-- eventTypes and the options of create_webhook_endpoint); others keep their values.
CREATE FUNCTION switchboard.update_webhook_endpoint(org_id uuid, endpoint_id uuid, changes jsonb)
  RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
  o record;
  v_types text[];
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(changes, 'changes');
  e := switchboard._lock_endpoint(org_id, endpoint_id);
  o := switchboard._endpoint_options(changes OPERATOR(pg_catalog.-) ARRAY['url', 'eventTypes']);
  IF o.signing IS DISTINCT FROM e.signing AND o.signing IS NOT NULL THEN
    RAISE EXCEPTION 'the signing scheme of a webhook endpoint cannot change' USING ERRCODE = '22023',
      DETAIL = format('The endpoint signs with %s; %s was given.', e.signing, o.signing),
      HINT = 'Create a new endpoint with the other scheme.';
  END IF;
  IF changes ? 'url' THEN
    PERFORM switchboard._check_endpoint_url(changes ->> 'url');
    e.url := changes ->> 'url';
  END IF;
  IF changes ? 'eventTypes' THEN
    IF pg_catalog.jsonb_typeof(changes -> 'eventTypes') NOT IN ('array', 'null') THEN
      RAISE EXCEPTION 'eventTypes must be an array of event types or null' USING ERRCODE = '22023',
        DETAIL = format('eventTypes: %s', changes -> 'eventTypes');
    END IF;
    SELECT pg_catalog.array_agg(x) INTO v_types
      FROM pg_catalog.jsonb_array_elements_text(nullif(changes -> 'eventTypes', 'null')) x;
    IF pg_catalog.jsonb_typeof(changes -> 'eventTypes') = 'array' THEN
      v_types := coalesce(v_types, '{}');
    END IF;
    PERFORM switchboard._check_event_filters(v_types);
    e.event_types := v_types;
  END IF;
  UPDATE switchboard.webhook_endpoints w
     SET url = e.url, event_types = e.event_types,
         description = coalesce(o.description, w.description),
         rate_limit = CASE WHEN changes ? 'rateLimit' THEN o.rate_limit ELSE w.rate_limit END,
         max_concurrency = coalesce(o.max_concurrency, w.max_concurrency),
         ordered = coalesce(o.ordered, w.ordered), signing = coalesce(o.signing, w.signing)
   WHERE w.org_id OPERATOR(pg_catalog.=) e.org_id AND w.id OPERATOR(pg_catalog.=) e.id
  RETURNING * INTO e;
  RETURN pg_catalog.jsonb_build_object('reason', 'UPDATED') OPERATOR(pg_catalog.||)
         switchboard._endpoint_json(e);
END
$$;

-- Ensures: the endpoint, its secrets, deliveries and attempts are gone.
CREATE FUNCTION switchboard.delete_webhook_endpoint(org_id uuid, endpoint_id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  e := switchboard._lock_endpoint(org_id, endpoint_id);
  DELETE FROM switchboard.webhook_endpoints w
   WHERE w.org_id OPERATOR(pg_catalog.=) e.org_id AND w.id OPERATOR(pg_catalog.=) e.id;
  RETURN pg_catalog.jsonb_build_object('reason', 'DELETED', 'orgId', e.org_id, 'endpointId', e.id);
END
$$;

-- Ensures: the endpoint is enabled (its failure run forgotten) or disabled with the reason
-- 'manual'; deliveries of a disabled endpoint wait until it is enabled again.
CREATE FUNCTION switchboard.set_webhook_endpoint_enabled(org_id uuid, endpoint_id uuid,
                                                         enabled boolean) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(enabled, 'enabled');
  e := switchboard._lock_endpoint(org_id, endpoint_id);
  UPDATE switchboard.webhook_endpoints w
     SET enabled = set_webhook_endpoint_enabled.enabled,
         disabled_reason = CASE WHEN set_webhook_endpoint_enabled.enabled THEN NULL ELSE 'manual' END,
         failing_since = CASE WHEN set_webhook_endpoint_enabled.enabled THEN NULL ELSE w.failing_since END
   WHERE w.org_id OPERATOR(pg_catalog.=) e.org_id AND w.id OPERATOR(pg_catalog.=) e.id
  RETURNING * INTO e;
  IF enabled THEN
    PERFORM switchboard._outbound_wake();
  END IF;
  RETURN pg_catalog.jsonb_build_object('reason', CASE WHEN enabled THEN 'ENABLED' ELSE 'DISABLED' END)
         OPERATOR(pg_catalog.||) switchboard._endpoint_json(e);
END
$$;

-- Ensures: the endpoint signs with a new secret (returned once) and, until the grace period ends,
-- also with the previous one; secrets rotated out earlier are dropped.
CREATE FUNCTION switchboard.rotate_webhook_secret(org_id uuid, endpoint_id uuid,
                                                  grace interval DEFAULT '24 hours') RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
  v_secret text;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(grace, 'grace');
  IF grace < '0'::interval OR grace > '7 days'::interval THEN
    RAISE EXCEPTION 'grace period out of range' USING ERRCODE = '22023',
      DETAIL = format('grace: %s', grace), HINT = 'between 0 and 7 days';
  END IF;
  e := switchboard._lock_endpoint(org_id, endpoint_id);
  DELETE FROM switchboard.webhook_endpoint_secrets s
   WHERE s.org_id OPERATOR(pg_catalog.=) e.org_id AND s.endpoint_id OPERATOR(pg_catalog.=) e.id
     AND s.expires_at IS NOT NULL;
  UPDATE switchboard.webhook_endpoint_secrets s SET expires_at = pg_catalog.now() + grace
   WHERE s.org_id OPERATOR(pg_catalog.=) e.org_id AND s.endpoint_id OPERATOR(pg_catalog.=) e.id;
  v_secret := switchboard._new_signing_secret(e.signing);
  INSERT INTO switchboard.webhook_endpoint_secrets (org_id, endpoint_id, secret)
    VALUES (e.org_id, e.id, v_secret);
  RETURN pg_catalog.jsonb_build_object('reason', 'ROTATED', 'orgId', e.org_id, 'endpointId', e.id,
    'previousExpiresAt', switchboard.answer_time(pg_catalog.now() + grace))
    OPERATOR(pg_catalog.||) switchboard._shown_secret(v_secret);
END
$$;

-- Ensures: a webhook.test message is queued for this endpoint alone; returns its id.
CREATE FUNCTION switchboard.send_test_webhook(org_id uuid, endpoint_id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
  v_id text := 'msg_' || pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '');
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  e := switchboard._lock_endpoint(org_id, endpoint_id);
  IF NOT e.enabled THEN
    RAISE EXCEPTION 'webhook endpoint is disabled' USING ERRCODE = '55000',
      DETAIL = format('endpoint_id: %s', e.id), HINT = 'enable it first';
  END IF;
  INSERT INTO switchboard.webhook_messages (org_id, id, event_type, body)
  VALUES (e.org_id, v_id, 'webhook.test', pg_catalog.jsonb_build_object('type', 'webhook.test',
            'timestamp', switchboard.answer_time(pg_catalog.now()),
            'data', pg_catalog.jsonb_build_object('endpointId', e.id))::text);
  PERFORM switchboard._fan_out(e.org_id, v_id, 'webhook.test', e.id);
  RETURN pg_catalog.jsonb_build_object('reason', 'QUEUED', 'orgId', e.org_id, 'endpointId', e.id,
                                       'messageId', v_id);
END
$$;

-- Ensures: the failed deliveries of the organisation (of one endpoint and/or message when given)
-- that failed at or after `since` are due now with a fresh run of attempts; returns how many.
CREATE FUNCTION switchboard._requeue_failed(org_id uuid, endpoint uuid, message text,
                                            since timestamptz) RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  UPDATE switchboard.webhook_deliveries d
     SET status = 'pending', attempts = 0, next_attempt_at = pg_catalog.now(), updated_at = pg_catalog.now()
   WHERE d.org_id OPERATOR(pg_catalog.=) _requeue_failed.org_id
     AND (endpoint IS NULL OR d.endpoint_id OPERATOR(pg_catalog.=) endpoint)
     AND (message IS NULL OR d.message_id OPERATOR(pg_catalog.=) message)
     AND d.status OPERATOR(pg_catalog.=) 'failed' AND d.updated_at >= since;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n > 0 THEN
    PERFORM switchboard._outbound_wake();
  END IF;
  RETURN n;
END
$$;

-- Ensures: the message's failed deliveries (to one endpoint when given) are due again now, with a
-- fresh run of attempts; returns how many were queued.
CREATE FUNCTION switchboard.retry_webhook_message(org_id uuid, message_id text,
                                                  endpoint_id uuid DEFAULT NULL) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(message_id, 'message_id');
  IF NOT EXISTS (SELECT 1 FROM switchboard.webhook_messages m
                  WHERE m.org_id OPERATOR(pg_catalog.=) retry_webhook_message.org_id
                    AND m.id OPERATOR(pg_catalog.=) retry_webhook_message.message_id) THEN
    RAISE EXCEPTION 'webhook message not found' USING ERRCODE = 'P0002',
      DETAIL = format('message_id: %s', message_id);
  END IF;
  n := switchboard._requeue_failed(org_id, endpoint_id, message_id, '-infinity');
  RETURN pg_catalog.jsonb_build_object('reason', CASE WHEN n > 0 THEN 'QUEUED' ELSE 'NOTHING_FAILED' END,
                                       'orgId', org_id, 'messageId', message_id, 'queued', n);
END
$$;

-- Ensures: every delivery to the endpoint that failed since `since` is due again now.
CREATE FUNCTION switchboard.recover_webhook_endpoint(org_id uuid, endpoint_id uuid,
                                                     since timestamptz) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  e switchboard.webhook_endpoints;
  n integer;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(since, 'since');
  e := switchboard._lock_endpoint(org_id, endpoint_id);
  n := switchboard._requeue_failed(e.org_id, e.id, NULL, since);
  RETURN pg_catalog.jsonb_build_object('reason', CASE WHEN n > 0 THEN 'QUEUED' ELSE 'NOTHING_FAILED' END,
                                       'orgId', e.org_id, 'endpointId', e.id, 'queued', n);
END
$$;

-- The organisation's webhook endpoints (admins and owners; never their secrets).
CREATE FUNCTION switchboard.list_webhook_endpoints(org_id uuid)
  RETURNS TABLE (endpoint_id uuid, url text, description text, event_types text[], enabled boolean,
                 disabled_reason text, rate_limit integer, max_concurrency integer, ordered boolean,
                 signing text, created_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  RETURN QUERY
    SELECT e.id, e.url, e.description, e.event_types, e.enabled, e.disabled_reason, e.rate_limit,
           e.max_concurrency, e.ordered, e.signing, e.created_at
      FROM switchboard.webhook_endpoints e
     WHERE e.org_id OPERATOR(pg_catalog.=) list_webhook_endpoints.org_id
     ORDER BY e.created_at, e.id;
END
$$;

-- The deliveries of the organisation, of one endpoint and/or one message when given, newest first.
CREATE FUNCTION switchboard.list_webhook_deliveries(org_id uuid, for_endpoint uuid DEFAULT NULL,
                                                    for_message text DEFAULT NULL,
                                                    max_rows integer DEFAULT 100)
  RETURNS TABLE (message_id text, endpoint_id uuid, event_type text, status text, attempts integer,
                 next_attempt_at timestamptz, last_status_code integer, created_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  IF max_rows NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION 'max_rows out of range' USING ERRCODE = '22023',
      DETAIL = format('max_rows: %s', max_rows), HINT = 'between 1 and 1000';
  END IF;
  RETURN QUERY
    SELECT d.message_id, d.endpoint_id, m.event_type, d.status, d.attempts,
           CASE WHEN d.status OPERATOR(pg_catalog.=) 'pending' THEN d.next_attempt_at END,
           d.last_status_code, m.created_at
      FROM switchboard.webhook_deliveries d
      JOIN switchboard.webhook_messages m ON m.org_id OPERATOR(pg_catalog.=) d.org_id
                                         AND m.id OPERATOR(pg_catalog.=) d.message_id
     WHERE d.org_id OPERATOR(pg_catalog.=) list_webhook_deliveries.org_id
       AND (for_endpoint IS NULL OR d.endpoint_id OPERATOR(pg_catalog.=) for_endpoint)
       AND (for_message IS NULL OR d.message_id OPERATOR(pg_catalog.=) for_message)
     ORDER BY d.seq DESC
     LIMIT max_rows;
END
$$;

-- The attempts of one message (to every endpoint), oldest first.
CREATE FUNCTION switchboard.list_webhook_attempts(org_id uuid, message_id text)
  RETURNS TABLE (endpoint_id uuid, attempted_at timestamptz, status_code integer, outcome text,
                 response_body text, duration_ms integer)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(message_id, 'message_id');
  RETURN QUERY
    SELECT a.endpoint_id, a.attempted_at, a.status_code, a.outcome, a.response_body, a.duration_ms
      FROM switchboard.webhook_attempts a
     WHERE a.org_id OPERATOR(pg_catalog.=) list_webhook_attempts.org_id
       AND a.message_id OPERATOR(pg_catalog.=) list_webhook_attempts.message_id
     ORDER BY a.attempted_at, a.id;
END
$$;

-------------------------------------------------------------------------------------------------
-- The delivery worker's steps (service role / superuser only), each its own short transaction.
-------------------------------------------------------------------------------------------------

-- The retry delays in seconds after each failed attempt: switchboard.retry_schedule (a comma
-- list of seconds) or Svix's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); 22023 when the
-- setting is not such a list.
CREATE FUNCTION switchboard._retry_schedule() RETURNS integer[]
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v text := pg_catalog.btrim(coalesce(pg_catalog.current_setting('switchboard.retry_schedule', true), ''));
BEGIN
  IF v = '' THEN
    RETURN '{5,300,1800,7200,18000,36000,36000}';
  END IF;
  IF v !~ '^\d{1,7}(\s*,\s*\d{1,7}){0,49}$' THEN
    RAISE EXCEPTION 'invalid switchboard.retry_schedule' USING ERRCODE = '22023',
      DETAIL = format('switchboard.retry_schedule: %s', v),
      HINT = 'a comma-separated list of up to 50 delays in seconds, such as 5,300,1800';
  END IF;
  RETURN pg_catalog.regexp_split_to_array(v, '\s*,\s*')::integer[];
END
$$;

-- Whether the outbox is distributed by Citus. The worker's claims and records then run on this
-- node's shards directly (_outbox_statements); its pruning runs its statement once per
-- organisation (each one a router query Citus sends to the node holding that organisation's
-- shards: multi-shard statements with FOR UPDATE and data-modifying CTEs are not supported), with
-- custom plans, so that the organisation is a constant Citus prunes by.
CREATE FUNCTION switchboard._outbox_distributed() RETURNS boolean
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF switchboard.distribution_state('switchboard.webhook_deliveries'::pg_catalog.regclass)
       OPERATOR(pg_catalog.<>) 'tenant' THEN
    RETURN false;
  END IF;
  PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
  RETURN true;
END
$$;

-- This node's shards of the outbox on Citus, colocated sets (none on one server, or on a node
-- holding no shard), with the local shard of the delivery switch: each node's delivery worker
-- serves the organisations whose shards it holds.
CREATE FUNCTION switchboard._outbox_shards()
  RETURNS TABLE (deliveries regclass, endpoints regclass, messages regclass, secrets regclass,
                 attempts regclass, state regclass)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT switchboard._outbox_distributed() THEN
    RETURN;
  END IF;
  -- Citus's catalog, read only where Citus is (EXECUTE: no reference to it in the plan otherwise)
  RETURN QUERY EXECUTE $q$
    SELECT x.deliveries, x.endpoints, x.messages, x.secrets, x.attempts, x.state FROM (
      SELECT pg_catalog.to_regclass('switchboard.webhook_deliveries_' OPERATOR(pg_catalog.||) d.shardid) AS deliveries,
             pg_catalog.to_regclass('switchboard.webhook_endpoints_' OPERATOR(pg_catalog.||) e.shardid) AS endpoints,
             pg_catalog.to_regclass('switchboard.webhook_messages_' OPERATOR(pg_catalog.||) m.shardid) AS messages,
             pg_catalog.to_regclass('switchboard.webhook_endpoint_secrets_' OPERATOR(pg_catalog.||) s.shardid) AS secrets,
             pg_catalog.to_regclass('switchboard.webhook_attempts_' OPERATOR(pg_catalog.||) a.shardid) AS attempts,
             -- the delivery switch is a reference table: its one shard is on every node
             (SELECT pg_catalog.to_regclass('switchboard.outbound_state_' OPERATOR(pg_catalog.||) r.shardid)
                FROM pg_catalog.pg_dist_shard r
               WHERE r.logicalrelid OPERATOR(pg_catalog.=) 'switchboard.outbound_state'::pg_catalog.regclass) AS state
        FROM pg_catalog.pg_dist_shard d
        JOIN pg_catalog.pg_dist_placement p ON p.shardid OPERATOR(pg_catalog.=) d.shardid
        JOIN pg_catalog.pg_dist_shard e
          ON e.logicalrelid OPERATOR(pg_catalog.=) 'switchboard.webhook_endpoints'::pg_catalog.regclass
         AND e.shardminvalue OPERATOR(pg_catalog.=) d.shardminvalue
        JOIN pg_catalog.pg_dist_shard m
          ON m.logicalrelid OPERATOR(pg_catalog.=) 'switchboard.webhook_messages'::pg_catalog.regclass
         AND m.shardminvalue OPERATOR(pg_catalog.=) d.shardminvalue
        JOIN pg_catalog.pg_dist_shard s
          ON s.logicalrelid OPERATOR(pg_catalog.=) 'switchboard.webhook_endpoint_secrets'::pg_catalog.regclass
         AND s.shardminvalue OPERATOR(pg_catalog.=) d.shardminvalue
        JOIN pg_catalog.pg_dist_shard a
          ON a.logicalrelid OPERATOR(pg_catalog.=) 'switchboard.webhook_attempts'::pg_catalog.regclass
         AND a.shardminvalue OPERATOR(pg_catalog.=) d.shardminvalue
       WHERE d.logicalrelid OPERATOR(pg_catalog.=) 'switchboard.webhook_deliveries'::pg_catalog.regclass
         AND p.groupid OPERATOR(pg_catalog.=) (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)) x
     WHERE x.deliveries IS NOT NULL AND x.endpoints IS NOT NULL AND x.messages IS NOT NULL
       AND x.secrets IS NOT NULL AND x.attempts IS NOT NULL AND x.state IS NOT NULL$q$;
END
$$;

-- The organisations of this node's outbox shards with messages older than `before` (on Citus;
-- none on one server).
CREATE FUNCTION switchboard._orgs_with_messages_before(before timestamptz) RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_sql text;
BEGIN
  SELECT pg_catalog.string_agg(pg_catalog.format(
           'SELECT m.org_id FROM %s m WHERE m.created_at < $1', s.messages), ' UNION ')
    INTO v_sql FROM switchboard._outbox_shards() s;
  IF v_sql IS NOT NULL THEN
    RETURN QUERY EXECUTE v_sql USING before;
  END IF;
END
$$;

-- How the delivery worker serves this database here: 'wake' (woken by the commits that queue
-- deliveries: on one server, and on a Citus node for the organisations whose outbox shards it
-- holds), 'none' (a Citus node holding no outbox shard, such as a coordinator without shards: a
-- commit that queues deliveries here later starts a worker that asks again).
CREATE FUNCTION switchboard._outbound_service() RETURNS text
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF switchboard._outbox_distributed() AND NOT EXISTS (SELECT 1 FROM switchboard._outbox_shards()) THEN
    RETURN 'none';
  END IF;
  RETURN 'wake';
END
$$;

-- The delivery worker's two statements over one set of outbox tables, one row per set: on one
-- server the tables themselves, on a Citus node each set of colocated shards it holds (none on a
-- node without outbox shards). `claim` takes $1 max_count, $2 lease (seconds), $3 the endpoints
-- with pacing state and $4 their rooms (text or arrays), $5 whether the delivery switch holds it
-- back (the worker; not the steps tests run themselves while delivery is paused), and returns
-- what _claim_deliveries returns; `record` takes _record_attempts's nine arrays and returns how
-- many attempts it recorded. The worker prepares each once and keeps its plan (looking each row
-- up by its key, never hashing the queue); on Citus they run on the shards directly, without
-- Citus's planner: the same statements on the distributed tables, one organisation at a time
-- (Citus refuses FOR UPDATE and data-modifying CTEs across shards), were planned by Citus and
-- its local execution on every call, their arrays deparsed into the text of the shard query,
-- the next-due organisations looked up before each claim, and the attempts copied in by a
-- second statement (tests/bench/citus.sh: 179 us of worker CPU per delivery, one server 59 us).
CREATE FUNCTION switchboard._outbox_statements()
  RETURNS TABLE (deliveries regclass, claim text, record text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN QUERY
  SELECT t.deliveries,
         -- per enabled endpoint, its oldest pending deliveries up to its room (an index range
         -- each, not a pass over every pending delivery); an ordered endpoint offers only its
         -- oldest, when due; leased for `lease` seconds: a worker that dies leaves them due again
         -- when the lease runs out, and they are sent again with the same message id
         pg_catalog.format($claim$
  WITH limited AS (
    SELECT l.endpoint_id, l.room
      FROM ROWS FROM (pg_catalog.unnest(coalesce($3::pg_catalog.uuid[], '{}')),
                      pg_catalog.unnest(coalesce($4::pg_catalog.int4[], '{}'))) AS l(endpoint_id, room)),
  candidates AS (
    SELECT c.org_id, c.message_id, c.endpoint_id, c.next_attempt_at
      FROM %2$s e
      CROSS JOIN LATERAL (
        SELECT d.org_id, d.message_id, d.endpoint_id, d.next_attempt_at
          FROM %1$s d
         WHERE d.org_id OPERATOR(pg_catalog.=) e.org_id
           AND d.endpoint_id OPERATOR(pg_catalog.=) e.id
           AND d.status OPERATOR(pg_catalog.=) 'pending'
           AND (e.ordered OR d.next_attempt_at <= pg_catalog.now())
         ORDER BY d.seq
         LIMIT CASE WHEN e.ordered THEN 1 ELSE
                 coalesce((SELECT l.room FROM limited l WHERE l.endpoint_id OPERATOR(pg_catalog.=) e.id),
                          LEAST(e.max_concurrency, coalesce(e.rate_limit, e.max_concurrency))) END) c
     WHERE e.enabled AND c.next_attempt_at <= pg_catalog.now()
       AND coalesce((SELECT l.room FROM limited l WHERE l.endpoint_id OPERATOR(pg_catalog.=) e.id), 1) > 0),
  due AS (
    SELECT d.org_id, d.message_id, d.endpoint_id FROM %1$s d
      JOIN candidates c ON c.org_id OPERATOR(pg_catalog.=) d.org_id
                       AND c.message_id OPERATOR(pg_catalog.=) d.message_id
                       AND c.endpoint_id OPERATOR(pg_catalog.=) d.endpoint_id
     ORDER BY c.next_attempt_at
     LIMIT CASE WHEN $5::pg_catalog.bool AND EXISTS (SELECT 1 FROM %5$s p WHERE p.paused) THEN 0
                ELSE $1::pg_catalog.int4 END
     FOR UPDATE OF d SKIP LOCKED),
  leased AS (
    UPDATE %1$s d
       SET next_attempt_at = pg_catalog.now() + pg_catalog.make_interval(secs => $2::pg_catalog.int4),
           attempts = d.attempts + 1
      FROM due
     WHERE d.org_id OPERATOR(pg_catalog.=) due.org_id
       AND d.message_id OPERATOR(pg_catalog.=) due.message_id
       AND d.endpoint_id OPERATOR(pg_catalog.=) due.endpoint_id
    RETURNING d.org_id, d.message_id, d.endpoint_id, d.attempts)
  SELECT l.org_id, l.message_id, l.endpoint_id, l.attempts, e.url, m.body,
         ARRAY(SELECT s.secret FROM %4$s s
                WHERE s.org_id OPERATOR(pg_catalog.=) l.org_id
                  AND s.endpoint_id OPERATOR(pg_catalog.=) l.endpoint_id
                  AND (s.expires_at IS NULL OR s.expires_at > pg_catalog.now())
                ORDER BY s.created_at DESC),
         m.created_at, e.max_concurrency, e.rate_limit
    FROM leased l
    JOIN %3$s m ON m.org_id OPERATOR(pg_catalog.=) l.org_id AND m.id OPERATOR(pg_catalog.=) l.message_id
    JOIN %2$s e ON e.org_id OPERATOR(pg_catalog.=) l.org_id AND e.id OPERATOR(pg_catalog.=) l.endpoint_id
$claim$, t.deliveries, t.endpoints, t.messages, t.secrets, t.state, t.attempts),
         -- each attempt of the batch (the i-th element of every array) recorded and its delivery
         -- moved on: see _record_attempts; rows another set of tables holds match nothing here
         pg_catalog.format($record$
  WITH r AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.uuid[]), pg_catalog.unnest($2::pg_catalog.text[]),
                             pg_catalog.unnest($3::pg_catalog.uuid[]), pg_catalog.unnest($4::pg_catalog.int4[]),
                             pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.text[]),
                             pg_catalog.unnest($7::pg_catalog.int4[]), pg_catalog.unnest($8::pg_catalog.int4[]),
                             pg_catalog.unnest($9::pg_catalog.timestamptz[]))
      WITH ORDINALITY AS r(org_id, message_id, endpoint_id, status_code, outcome, response_body,
                           duration_ms, retry_after, attempted_at, i)),
  settings AS MATERIALIZED (
    SELECT switchboard._retry_schedule() AS schedule,
           pg_catalog.now() OPERATOR(pg_catalog.-) '5 days'::pg_catalog.interval AS failing_too_long),
  locked AS (
    SELECT d.org_id, d.message_id, d.endpoint_id, d.attempts, r.status_code, r.outcome,
           r.response_body, r.duration_ms, r.retry_after, r.attempted_at, r.i
      FROM %1$s d
      JOIN r ON r.org_id OPERATOR(pg_catalog.=) d.org_id
            AND r.message_id OPERATOR(pg_catalog.=) d.message_id
            AND r.endpoint_id OPERATOR(pg_catalog.=) d.endpoint_id
     WHERE d.status OPERATOR(pg_catalog.=) 'pending'
     ORDER BY d.org_id, d.message_id, d.endpoint_id
       FOR UPDATE OF d),
  decided AS (
    SELECT l.*,
           CASE WHEN l.outcome OPERATOR(pg_catalog.=) 'success' THEN 'delivered'
                WHEN l.attempts > pg_catalog.cardinality(c.schedule) OR l.status_code = 410 THEN 'failed'
                ELSE 'pending' END AS new_status,
           CASE WHEN l.status_code IN (429, 503) AND l.retry_after IS NOT NULL
                THEN LEAST(GREATEST(l.retry_after, c.schedule[l.attempts]), 2 * c.schedule[l.attempts])
                -- jitter from the message id and attempt
                ELSE c.schedule[l.attempts] * (0.8 + 0.4 * ((pg_catalog.hashtext(l.message_id OPERATOR(pg_catalog.||) l.attempts::pg_catalog.text)
                                                             OPERATOR(pg_catalog.&) 65535) / 65535.0)) END AS delay
      FROM locked l CROSS JOIN settings c),
  deliveries AS (
    UPDATE %1$s w
       SET status = x.new_status, last_status_code = x.status_code,
           next_attempt_at = CASE WHEN x.new_status OPERATOR(pg_catalog.=) 'pending'
                                  THEN pg_catalog.now() + pg_catalog.make_interval(secs => x.delay)
                                  ELSE w.next_attempt_at END,
           updated_at = pg_catalog.now()
      FROM decided x
     WHERE w.org_id OPERATOR(pg_catalog.=) x.org_id AND w.message_id OPERATOR(pg_catalog.=) x.message_id
       AND w.endpoint_id OPERATOR(pg_catalog.=) x.endpoint_id
    RETURNING 1),
  per_endpoint AS (
    SELECT x.org_id, x.endpoint_id,
           pg_catalog.bool_or(x.outcome OPERATOR(pg_catalog.=) 'success') AS had_success,
           (pg_catalog.array_agg(x.outcome OPERATOR(pg_catalog.=) 'success' ORDER BY x.i DESC))[1] AS ends_ok,
           pg_catalog.bool_or(x.status_code = 410) AS gone
      FROM decided x GROUP BY x.org_id, x.endpoint_id),
  endpoints AS (
    UPDATE %2$s e
       SET failing_since = CASE WHEN p.ends_ok THEN NULL WHEN p.had_success THEN pg_catalog.now()
                                ELSE coalesce(e.failing_since, pg_catalog.now()) END,
           enabled = CASE WHEN p.gone OR (NOT p.had_success AND e.failing_since < c.failing_too_long)
                          THEN false ELSE e.enabled END,
           disabled_reason = CASE WHEN p.gone THEN 'gone'
                                  WHEN NOT p.had_success AND e.failing_since < c.failing_too_long
                                  THEN 'failing' ELSE e.disabled_reason END
      FROM per_endpoint p CROSS JOIN settings c
     WHERE e.org_id OPERATOR(pg_catalog.=) p.org_id AND e.id OPERATOR(pg_catalog.=) p.endpoint_id
       AND (NOT p.ends_ok OR e.failing_since IS NOT NULL)
    RETURNING 1),
  -- the identity of the table (a Citus shard has none: the node's own sequence, as Citus uses)
  attempts AS (
    INSERT INTO %6$s (org_id, id, message_id, endpoint_id, attempted_at, status_code, outcome,
                      response_body, duration_ms) OVERRIDING SYSTEM VALUE
    SELECT x.org_id, pg_catalog.nextval('switchboard.webhook_attempts_id_seq'::pg_catalog.regclass),
           x.message_id, x.endpoint_id, coalesce(x.attempted_at, pg_catalog.now()), x.status_code,
           x.outcome, pg_catalog.left(x.response_body, 20000), x.duration_ms
      FROM decided x ORDER BY x.i
    RETURNING 1)
  SELECT pg_catalog.count(*)::pg_catalog.int4 FROM attempts
$record$, t.deliveries, t.endpoints, t.messages, t.secrets, t.state, t.attempts)
    FROM (SELECT 'switchboard.webhook_deliveries'::pg_catalog.regclass AS deliveries,
                 'switchboard.webhook_endpoints'::pg_catalog.regclass AS endpoints,
                 'switchboard.webhook_messages'::pg_catalog.regclass AS messages,
                 'switchboard.webhook_endpoint_secrets'::pg_catalog.regclass AS secrets,
                 'switchboard.webhook_attempts'::pg_catalog.regclass AS attempts,
                 'switchboard.outbound_state'::pg_catalog.regclass AS state
           WHERE NOT switchboard._outbox_distributed()
          UNION ALL
          SELECT s.deliveries, s.endpoints, s.messages, s.secrets, s.attempts, s.state
            FROM switchboard._outbox_shards() s) t;
END
$$;

-- The deliveries due now (at most max_count; per ordered endpoint only its oldest pending one;
-- per endpoint at most its room: what the delivery worker says is left for the endpoints in
-- limited_endpoints (concurrency in flight, rate tokens, an open circuit breaker: 0), and for
-- the others the lesser of its max_concurrency and rate_limit), leased for `lease` seconds: a
-- worker that dies leaves them due again when the lease runs out, and they are sent again with
-- the same message id. The worker's claim statement (_outbox_statements), over each set of
-- outbox tables here in turn; the worker runs it itself, its plan kept.
CREATE FUNCTION switchboard._claim_deliveries(max_count integer, lease integer DEFAULT 60,
                                              limited_endpoints uuid[] DEFAULT '{}',
                                              limited_rooms integer[] DEFAULT '{}')
  RETURNS TABLE (org_id uuid, message_id text, endpoint_id uuid, attempt integer, url text,
                 body text, secrets text[], created_at timestamptz, max_concurrency integer,
                 rate_limit integer)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_claim text;
  v_claimed integer := 0;
  n integer;
BEGIN
  FOR v_claim IN SELECT s.claim FROM switchboard._outbox_statements() s LOOP
    EXIT WHEN v_claimed >= max_count;
    RETURN QUERY EXECUTE v_claim USING max_count - v_claimed, lease, limited_endpoints, limited_rooms, false;
    GET DIAGNOSTICS n = ROW_COUNT;
    v_claimed := v_claimed + n;
  END LOOP;
END
$$;

-- Seconds until the next delivery the worker may claim is due (0 when one is due now), NULL when
-- none is queued or delivery is paused: the worker then sleeps until a commit wakes it. Per
-- enabled endpoint an index range of its pending deliveries (an ordered endpoint's oldest one
-- counts), never a pass over every delivery: the worker runs it whenever nothing is in flight
-- (after each event at a low rate); on Citus over this node's outbox shards. On one server it was
-- one pass with a hash join over the whole outbox, delivered rows included (1.4 ms at 23,000
-- deliveries, 83 ms at 102,000; session 9 measured this per-endpoint form 3-4x slower, on plans
-- made before the outbox had statistics: see _refresh_outbox_stats).
CREATE FUNCTION switchboard._next_delivery_in() RETURNS double precision
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  -- the index range whatever the statistics say: sampled during a burst they show many
  -- deliveries pending, and the plan then read the whole outbox per endpoint (webhooks_out.sh's
  -- 200 events/s: 3.3-11.6 ms a call at 23,000 deliveries, by a sequential scan, a bitmap scan
  -- or a sorted pass over the primary key; the range comes in seq order, so no sort is needed);
  -- no JIT for the penalties that puts on other paths (62 ms of compiling a call)
  SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off SET jit = off AS $$
DECLARE
  v_due timestamptz;
  v_sql text;
BEGIN
  IF EXISTS (SELECT 1 FROM switchboard.outbound_state s WHERE s.paused) THEN
    RETURN NULL;
  END IF;
  IF NOT switchboard._outbox_distributed() THEN
    SELECT pg_catalog.min(n.due) INTO v_due
      FROM switchboard.webhook_endpoints e
      CROSS JOIN LATERAL (
        SELECT CASE WHEN e.ordered THEN (pg_catalog.array_agg(p.next_attempt_at ORDER BY p.seq))[1]
                    ELSE pg_catalog.min(p.next_attempt_at) END AS due
          FROM (SELECT d.next_attempt_at, d.seq FROM switchboard.webhook_deliveries d
                 WHERE d.org_id OPERATOR(pg_catalog.=) e.org_id
                   AND d.endpoint_id OPERATOR(pg_catalog.=) e.id
                   AND d.status OPERATOR(pg_catalog.=) 'pending'
                 ORDER BY d.seq) p) n
     WHERE e.enabled;
  ELSE
    SELECT 'SELECT pg_catalog.min(x.due) FROM (' OPERATOR(pg_catalog.||) pg_catalog.string_agg(pg_catalog.format(
             'SELECT n.due FROM %s e CROSS JOIN LATERAL ('
             ' SELECT CASE WHEN e.ordered THEN (pg_catalog.array_agg(d.next_attempt_at ORDER BY d.seq))[1]'
             ' ELSE pg_catalog.min(d.next_attempt_at) END AS due FROM %s d'
             ' WHERE d.org_id OPERATOR(pg_catalog.=) e.org_id AND d.endpoint_id OPERATOR(pg_catalog.=) e.id'
             ' AND d.status OPERATOR(pg_catalog.=) ''pending'') n WHERE e.enabled',
             s.endpoints, s.deliveries), ' UNION ALL ') OPERATOR(pg_catalog.||) ') x'
      INTO v_sql FROM switchboard._outbox_shards() s;
    IF v_sql IS NOT NULL THEN
      EXECUTE v_sql INTO v_due;
    END IF;
  END IF;
  IF v_due IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN GREATEST(0, pg_catalog.date_part('epoch', v_due OPERATOR(pg_catalog.-) pg_catalog.now()));
END
$$;

-- Ensures: the outbox's planner statistics are not far behind its size: when webhook_deliveries
-- has grown past twice the pages its last ANALYZE saw (or was never analyzed) and past 64 pages,
-- it and webhook_messages are analyzed now (SKIP_LOCKED: never waits for autovacuum). True when
-- they were. The delivery worker calls it at most once a second while it claims. A burst into a
-- young outbox otherwise runs on plans made while it was nearly empty (the worker's generic
-- plans, the foreign-key check of each attempt) until autovacuum's next look, up to a minute
-- later: sequential scans of the whole outbox per batch, each lookup by key a pass over the
-- endpoint's delivered rows (webhooks_out.sh, 20,000 events: 1,100 deliveries/s and 550 us of
-- worker CPU each, against 7,154/s and 67 us). Only growth counts: an ANALYZE stalls the worker
-- (60-80 ms at 23,000 deliveries here), and one after each burst's changes showed in the p99 at
-- 200 events/s; the plans used do not depend on how many deliveries are pending. On Citus each
-- node analyzes its own outbox shards the same way (its worker serves them).
CREATE FUNCTION switchboard._refresh_outbox_stats() RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t record;
  v_analyzed boolean := false;
  v_visibility text;  -- on Citus, the shards' visibility in pg_class to restore
BEGIN
  IF switchboard._outbox_distributed() THEN
    -- Citus hides its shards from pg_class in every session but its own and PostgreSQL's
    -- workers (this delivery worker's included): the shards' sizes were never seen, so they
    -- were never analyzed here, and a burst into new shards ran on plans made for empty ones
    -- (tests/bench/citus.sh's first burst: 869 us of worker CPU per delivery against 143 us
    -- once autovacuum had analyzed them)
    v_visibility := pg_catalog.current_setting('citus.override_table_visibility', true);
    PERFORM pg_catalog.set_config('citus.override_table_visibility', 'off', true);
  END IF;
  FOR t IN SELECT 'switchboard.webhook_deliveries'::pg_catalog.regclass AS deliveries,
                  'switchboard.webhook_messages'::pg_catalog.regclass AS messages
            WHERE NOT switchboard._outbox_distributed()
           UNION ALL SELECT s.deliveries, s.messages FROM switchboard._outbox_shards() s LOOP
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_class c
       WHERE c.oid OPERATOR(pg_catalog.=) t.deliveries
         AND pg_catalog.pg_relation_size(c.oid)
             OPERATOR(pg_catalog./) pg_catalog.current_setting('block_size')::pg_catalog.int8
             > 2 * GREATEST(c.relpages, 0) + 64);
    EXECUTE pg_catalog.format('ANALYZE (SKIP_LOCKED) %s, %s', t.deliveries, t.messages);
    v_analyzed := true;
  END LOOP;
  IF v_visibility IS NOT NULL THEN
    PERFORM pg_catalog.set_config('citus.override_table_visibility', v_visibility, true);
  END IF;
  RETURN v_analyzed;
END
$$;

-- How long messages are kept: switchboard.outbound_retention (default 30 days).
CREATE FUNCTION switchboard._outbound_retention() RETURNS interval
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(NULLIF(pg_catalog.current_setting('switchboard.outbound_retention', true), '')::pg_catalog.interval,
                  '30 days'::pg_catalog.interval)
$$;

-- Ensures: at most max_rows messages older than the retention are gone with their deliveries and
-- attempts, oldest first, except those still pending for an enabled endpoint; rows another
-- transaction holds are skipped (it never waits). Returns how many messages were deleted. The
-- delivery worker calls it in short transactions while it runs.
CREATE FUNCTION switchboard._prune_webhooks(max_rows integer DEFAULT 1000) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_before timestamptz := pg_catalog.now() OPERATOR(pg_catalog.-) switchboard._outbound_retention();
  v_org uuid;  -- on Citus, one organisation at a time; else NULL: all at once
  v_deleted integer := 0;
  n integer;
BEGIN
  IF max_rows IS NULL OR max_rows NOT BETWEEN 1 AND 100000 THEN
    RAISE EXCEPTION 'max_rows out of range' USING ERRCODE = '22023',
      DETAIL = format('max_rows: %s', max_rows), HINT = 'between 1 and 100000';
  END IF;
  FOR v_org IN SELECT NULL::uuid WHERE NOT switchboard._outbox_distributed()
               UNION ALL SELECT o FROM switchboard._orgs_with_messages_before(v_before) o LOOP
  EXIT WHEN v_deleted >= max_rows;
  WITH old AS (
    SELECT m.org_id, m.id FROM switchboard.webhook_messages m
     WHERE m.created_at < v_before
       AND (v_org IS NULL OR m.org_id OPERATOR(pg_catalog.=) v_org)
       AND NOT EXISTS (
             SELECT 1 FROM switchboard.webhook_deliveries d
               JOIN switchboard.webhook_endpoints e ON e.org_id OPERATOR(pg_catalog.=) d.org_id
                                                   AND e.id OPERATOR(pg_catalog.=) d.endpoint_id
              WHERE d.org_id OPERATOR(pg_catalog.=) m.org_id
                AND (v_org IS NULL OR (d.org_id OPERATOR(pg_catalog.=) v_org
                                       AND e.org_id OPERATOR(pg_catalog.=) v_org))
                AND d.message_id OPERATOR(pg_catalog.=) m.id
                AND d.status OPERATOR(pg_catalog.=) 'pending' AND e.enabled)
     ORDER BY m.created_at
     LIMIT max_rows - v_deleted
     FOR UPDATE OF m SKIP LOCKED)
  DELETE FROM switchboard.webhook_messages m USING old
   WHERE (v_org IS NULL OR m.org_id OPERATOR(pg_catalog.=) v_org)
     AND m.org_id OPERATOR(pg_catalog.=) old.org_id AND m.id OPERATOR(pg_catalog.=) old.id;
  GET DIAGNOSTICS n = ROW_COUNT;
  v_deleted := v_deleted + n;
  END LOOP;
  RETURN v_deleted;
END
$$;

-- Ensures: the delivery worker is woken when the switch changes, on every node that holds the
-- switch (on Citus a reference table: this trigger fires on each node's placement).
CREATE FUNCTION switchboard._outbound_state_changed() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._outbound_wake();
  RETURN NULL;
END
$$;
CREATE TRIGGER outbound_state_changed AFTER INSERT OR UPDATE ON switchboard.outbound_state
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard._outbound_state_changed();

-- Ensures: the delivery worker of this database claims nothing while paused (superusers and the
-- service role: an operator's switch, also used by tests that run the worker's steps themselves).
CREATE FUNCTION switchboard.set_outbound_paused(paused boolean) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(paused, 'paused');
  INSERT INTO switchboard.outbound_state AS s (singleton, paused) VALUES (true, set_outbound_paused.paused)
    ON CONFLICT (singleton) DO UPDATE SET paused = excluded.paused;
  RETURN pg_catalog.jsonb_build_object('reason', CASE WHEN paused THEN 'PAUSED' ELSE 'RUNNING' END);
END
$$;

-- Ensures: each attempt of the batch (the i-th element of every array) is recorded and its
-- delivery moves on: delivered on a 2xx; else due again after the scheduled delay (+-20 % jitter;
-- a Retry-After of a 429 or 503 is honoured, clamped to between 1x and 2x that delay) or failed
-- after the last one. A 410 disables the endpoint, and so do failures of every attempt for 5 days
-- (an endpoint's failure run ends with its last success in the batch). Attempts of deliveries no
-- longer pending (deleted, or settled by an earlier lease) are left out. The worker's record
-- statement (_outbox_statements), over each set of outbox tables here; the worker runs it
-- itself, its plan kept, once per set it claimed from. Returns how many attempts were recorded.
CREATE FUNCTION switchboard._record_attempts(org_ids uuid[], message_ids text[], endpoint_ids uuid[],
                                             status_codes integer[], outcomes text[],
                                             response_bodies text[], durations integer[],
                                             retry_afters integer[],
                                             attempted_at timestamptz[] DEFAULT NULL) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_record text;
  v_recorded integer := 0;
  n integer;
BEGIN
  FOR v_record IN SELECT s.record FROM switchboard._outbox_statements() s LOOP
    EXECUTE v_record INTO n USING org_ids, message_ids, endpoint_ids, status_codes, outcomes,
                                  response_bodies, durations, retry_afters, attempted_at;
    v_recorded := v_recorded + n;
  END LOOP;
  RETURN v_recorded;
END
$$;

-- Ensures: the one attempt is recorded as _record_attempts records a batch; returns the
-- delivery's new status ('gone' when it was no longer pending).
CREATE FUNCTION switchboard._record_attempt(org_id uuid, message_id text, endpoint_id uuid,
                                            status_code integer, outcome text,
                                            response_body text DEFAULT NULL,
                                            duration_ms integer DEFAULT NULL,
                                            retry_after integer DEFAULT NULL,
                                            started_at timestamptz DEFAULT NULL) RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF switchboard._record_attempts(ARRAY[org_id], ARRAY[message_id], ARRAY[endpoint_id],
                                  ARRAY[status_code], ARRAY[outcome], ARRAY[response_body],
                                  ARRAY[duration_ms], ARRAY[retry_after], ARRAY[started_at]) = 0 THEN
    RETURN 'gone';  -- deleted, or already settled by an earlier lease
  END IF;
  RETURN (SELECT w.status FROM switchboard.webhook_deliveries w
           WHERE w.org_id OPERATOR(pg_catalog.=) _record_attempt.org_id
             AND w.message_id OPERATOR(pg_catalog.=) _record_attempt.message_id
             AND w.endpoint_id OPERATOR(pg_catalog.=) _record_attempt.endpoint_id);
END
$$;

-------------------------------------------------------------------------------------------------
-- Built-in events, queued in the transaction of the change by triggers on the capabilities'
-- tables (so direct DML raises them too): appointments, memberships and subscriptions. The
-- entitlements code raises feature.limit_reached and telephony caller_id.verification_started
-- themselves (they know what a trigger cannot see: the limit, the code).
-------------------------------------------------------------------------------------------------

-- An appointment as its events carry it; `previous`, when given, adds where it was before.
CREATE FUNCTION switchboard._appointment_event_data(a switchboard.appointments,
                                                    previous switchboard.appointments DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.jsonb_build_object('appointmentId', a.id, 'orgId', a.org_id,
           'calendarId', a.calendar_id, 'contactId', a.contact_id, 'service', a.service,
           'status', a.status, 'startsAt', switchboard.answer_time(a.starts_at),
           'endsAt', switchboard.answer_time(a.ends_at), 'source', a.source)
         OPERATOR(pg_catalog.||) CASE
           WHEN a.status OPERATOR(pg_catalog.=) 'cancelled' THEN
             pg_catalog.jsonb_build_object('cancelKind', a.cancel_kind, 'cancelReason', a.cancel_reason)
           WHEN a.status OPERATOR(pg_catalog.=) 'held' THEN
             pg_catalog.jsonb_build_object('holdExpiresAt', switchboard.answer_time(a.hold_expires_at))
           ELSE '{}'::pg_catalog.jsonb END
         OPERATOR(pg_catalog.||) CASE WHEN previous IS NULL THEN '{}'::pg_catalog.jsonb ELSE
           pg_catalog.jsonb_build_object('previousStartsAt', switchboard.answer_time(previous.starts_at),
                                         'previousEndsAt', switchboard.answer_time(previous.ends_at)) END
$$;

-- Ensures: an inserted appointment raises appointment.held or .booked; a status change raises
-- .confirmed, .cancelled, .completed or .no_show; a move (same status) raises .rescheduled.
CREATE FUNCTION switchboard._appointment_events() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_type text;
  -- the row as switchboard.appointments (on a Citus shard NEW has the shard's own row type)
  v_new switchboard.appointments := ROW(NEW.*)::switchboard.appointments;
BEGIN
  IF TG_OP = 'INSERT' THEN
    v_type := CASE NEW.status WHEN 'held' THEN 'appointment.held' WHEN 'confirmed' THEN 'appointment.booked' END;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    v_type := CASE NEW.status WHEN 'confirmed' THEN 'appointment.confirmed'
                              WHEN 'cancelled' THEN 'appointment.cancelled'
                              WHEN 'completed' THEN 'appointment.completed'
                              WHEN 'no_show' THEN 'appointment.no_show' END;
  ELSE
    PERFORM switchboard._emit_event(NEW.org_id, 'appointment.rescheduled',
                                    switchboard._appointment_event_data(v_new, ROW(OLD.*)::switchboard.appointments));
  END IF;
  IF v_type IS NOT NULL THEN
    PERFORM switchboard._emit_event(NEW.org_id, v_type, switchboard._appointment_event_data(v_new));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER appointments_events_insert AFTER INSERT ON switchboard.appointments
  FOR EACH ROW EXECUTE FUNCTION switchboard._appointment_events();
CREATE TRIGGER appointments_events_update AFTER UPDATE ON switchboard.appointments
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
                     OR OLD.ends_at IS DISTINCT FROM NEW.ends_at)
  EXECUTE FUNCTION switchboard._appointment_events();

-- Ensures: a membership added, removed or given another role raises member.added, .removed or
-- .role_changed (not while its organisation is being deleted).
CREATE FUNCTION switchboard._member_events() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM switchboard._emit_event(NEW.org_id, 'member.added',
      pg_catalog.jsonb_build_object('orgId', NEW.org_id, 'userId', NEW.user_id, 'role', NEW.role));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM switchboard._emit_event(NEW.org_id, 'member.role_changed',
      pg_catalog.jsonb_build_object('orgId', NEW.org_id, 'userId', NEW.user_id, 'role', NEW.role,
                                    'previousRole', OLD.role));
  ELSIF EXISTS (SELECT 1 FROM switchboard.organizations o WHERE o.id OPERATOR(pg_catalog.=) OLD.org_id) THEN
    PERFORM switchboard._emit_event(OLD.org_id, 'member.removed',
      pg_catalog.jsonb_build_object('orgId', OLD.org_id, 'userId', OLD.user_id, 'role', OLD.role));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER organization_members_events AFTER INSERT OR DELETE ON switchboard.organization_members
  FOR EACH ROW EXECUTE FUNCTION switchboard._member_events();
CREATE TRIGGER organization_members_role_events AFTER UPDATE ON switchboard.organization_members
  FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION switchboard._member_events();

-- Ensures: a new subscription, or a change of its tier, status, billing cycle or add-ons, raises
-- subscription.changed.
CREATE FUNCTION switchboard._subscription_events() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._emit_event(NEW.org_id, 'subscription.changed',
    pg_catalog.jsonb_build_object('orgId', NEW.org_id, 'subscriptionId', NEW.id, 'tier', NEW.tier,
      'status', NEW.status, 'billingCycle', NEW.billing_cycle, 'addons', NEW.addons,
      'currentPeriodEnd', switchboard.answer_time(NEW.current_period_end),
      'previousTier', CASE WHEN TG_OP = 'UPDATE' THEN OLD.tier END,
      'previousStatus', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END));
  RETURN NULL;
END
$$;
CREATE TRIGGER subscriptions_events_insert AFTER INSERT ON switchboard.subscriptions
  FOR EACH ROW EXECUTE FUNCTION switchboard._subscription_events();
CREATE TRIGGER subscriptions_events_update AFTER UPDATE ON switchboard.subscriptions
  FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier OR OLD.status IS DISTINCT FROM NEW.status
                     OR OLD.billing_cycle IS DISTINCT FROM NEW.billing_cycle
                     OR OLD.addons IS DISTINCT FROM NEW.addons)
  EXECUTE FUNCTION switchboard._subscription_events();
