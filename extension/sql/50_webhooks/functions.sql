-- Inbound webhooks: tenant resolution, event ids, the inbox, processing and re-matching.
CREATE TRIGGER provider_accounts_touch BEFORE UPDATE ON switchboard.provider_accounts
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
SELECT switchboard.protect('switchboard.provider_accounts', 'org_id', 'viewer', 'owner', 'owner', 'owner');

-- The organisation of the first of `keys` mapped for the provider, or NULL.
CREATE FUNCTION switchboard.resolve_provider_org(provider text, keys text[]) RETURNS uuid
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT a.org_id
    FROM pg_catalog.unnest(keys) WITH ORDINALITY k(key, ord)
    JOIN switchboard.provider_accounts a ON a.provider = resolve_provider_org.provider
                                        AND a.external_id = k.key
   ORDER BY k.ord LIMIT 1
$$;
SELECT switchboard.protect('switchboard.webhook_inbox', 'org_id', 'admin', 'owner', 'owner', 'owner');

-- The id of a Twilio event, from signed parameters only (never the unsigned
-- I-Twilio-Idempotency-Token header): a recording by recording and status, a call's status
-- callback by call, status and sequence number, a message by message and status. NULL for other
-- requests (a call's first voice webhook, gathered digits ...): receive_webhook then uses the
-- digest of the signed URL and parameters the shim passes as body_sha256.
CREATE FUNCTION switchboard.twilio_event_id(payload jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN payload ? 'RecordingSid' AND payload ? 'RecordingStatus' THEN
      format('%s:%s', payload ->> 'RecordingSid', payload ->> 'RecordingStatus')
    WHEN payload ? 'CallSid' AND payload ? 'SequenceNumber' THEN
      format('%s:%s:%s', payload ->> 'CallSid', coalesce(payload ->> 'CallStatus', ''),
             payload ->> 'SequenceNumber')
    WHEN coalesce(payload ->> 'MessageSid', payload ->> 'SmsSid') IS NOT NULL
     AND coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus') IS NOT NULL THEN
      format('%s:%s', coalesce(payload ->> 'MessageSid', payload ->> 'SmsSid'),
             coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus'))
  END
$$;

-- The direction of a Twilio call or message: its Direction parameter; for a message without one,
-- inbound when its status is 'received', else outbound-api; NULL when unknown.
CREATE FUNCTION switchboard.twilio_direction(payload jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(payload ->> 'Direction',
    CASE WHEN coalesce(payload ->> 'MessageSid', payload ->> 'SmsSid') IS NOT NULL
         THEN CASE WHEN coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus') = 'received'
                   THEN 'inbound' ELSE 'outbound-api' END END)
$$;

-- The provider_accounts keys of a Twilio event, in order: the account (AccountSid), then the
-- number on the organisation's own side: To/Called of an inbound call or message, From/Caller of
-- an outbound-api one. Never the other party's number (whoever calls chooses it). An outbound-dial
-- leg's From is by default the original caller's number, so such legs, and events of unknown
-- direction, resolve by account only.
CREATE FUNCTION switchboard.twilio_account_keys(payload jsonb) RETURNS text[]
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT array_remove(ARRAY[payload ->> 'AccountSid'] ||
    CASE switchboard.twilio_direction(payload)
      WHEN 'inbound' THEN ARRAY[payload ->> 'To', nullif(payload ->> 'Called', payload ->> 'To')]
      WHEN 'outbound-api' THEN ARRAY[payload ->> 'From', nullif(payload ->> 'Caller', payload ->> 'From')]
      ELSE '{}'::text[]
    END, NULL)
$$;

-- The facts a provider's event carries: its id (for deduplication; only from data the signature
-- covers), its type, and the account keys to look up in provider_accounts, most specific first.
CREATE FUNCTION switchboard.webhook_facts(provider text, payload jsonb, headers jsonb,
                                          OUT event_id text, OUT event_type text, OUT account_keys text[])
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE provider
    -- the signed id, by the verifier's rule: webhook-id, else its svix- alias
    WHEN 'standard' THEN coalesce(nullif(headers ->> 'webhook-id', ''), nullif(headers ->> 'svix-id', ''))
    WHEN 'stripe' THEN payload ->> 'id'
    WHEN 'twilio' THEN switchboard.twilio_event_id(payload)
    WHEN 'ghl' THEN coalesce(payload ->> 'webhookId', payload ->> 'id')
    -- one event per call, message type, status and timestamp; without a timestamp, the body digest
    WHEN 'vapi' THEN CASE WHEN payload #>> '{message,timestamp}' IS NOT NULL THEN
      format('%s:%s:%s:%s', payload #>> '{message,call,id}', payload #>> '{message,type}',
             coalesce(payload #>> '{message,status}', ''), payload #>> '{message,timestamp}') END
    -- one event per call and kind (Retell sends each kind once per call)
    WHEN 'retell' THEN CASE WHEN payload #>> '{call,call_id}' IS NOT NULL AND payload ->> 'event' IS NOT NULL THEN
      format('%s:%s', payload #>> '{call,call_id}', payload ->> 'event') END
  END,
  CASE provider
    WHEN 'twilio' THEN coalesce('call.' || lower(payload ->> 'CallStatus'),
                                'message.' || lower(coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus')),
                                'recording.' || lower(payload ->> 'RecordingStatus'))
    WHEN 'vapi' THEN payload #>> '{message,type}'
    ELSE coalesce(payload ->> 'type', payload ->> 'event')
  END,
  array_remove(CASE provider
    WHEN 'standard' THEN ARRAY[payload ->> 'account_id', payload #>> '{data,account_id}']
    WHEN 'stripe' THEN ARRAY[payload ->> 'account', payload #>> '{data,object,customer}']
    WHEN 'twilio' THEN switchboard.twilio_account_keys(payload)
    WHEN 'ghl' THEN ARRAY[payload ->> 'locationId', payload ->> 'companyId']
    WHEN 'vapi' THEN ARRAY[payload #>> '{message,call,phoneNumberId}', payload #>> '{message,phoneNumber,id}',
                           payload #>> '{message,call,assistantId}', payload #>> '{message,assistant,id}',
                           payload #>> '{message,call,orgId}']
    -- the agent, then the organisation's own number (to of an inbound call, from of an outbound one)
    WHEN 'retell' THEN ARRAY[payload #>> '{call,agent_id}', CASE payload #>> '{call,direction}'
                               WHEN 'inbound' THEN payload #>> '{call,to_number}'
                               WHEN 'outbound' THEN payload #>> '{call,from_number}' END]
  END, NULL)
$$;
COMMENT ON FUNCTION switchboard.webhook_facts(text, jsonb, jsonb) IS
  'event id, event type and provider account keys of an inbound webhook event';

-- Ensures: the event is marked processed and its type recorded. The dispatch point where later
-- capabilities act on events (CASE provider / event_type branches go here): call events of
-- Twilio, Vapi and Retell are folded into calls (contacts capability).
CREATE FUNCTION switchboard.process_webhook(inbox_id bigint) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_row switchboard.webhook_inbox;
  v_call jsonb;
BEGIN
  PERFORM switchboard.require_arg(inbox_id, 'inbox_id');
  SELECT * INTO v_row FROM switchboard.webhook_inbox i WHERE i.id = inbox_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'webhook event not found' USING ERRCODE = 'P0002',
      DETAIL = format('No webhook event has the inbox id %s.', inbox_id);
  END IF;
  IF v_row.status <> 'received' THEN
    RETURN jsonb_build_object('reason', 'NOT_PENDING', 'inboxId', inbox_id, 'status', v_row.status);
  END IF;
  IF v_row.provider IN ('twilio', 'vapi', 'retell')
     AND (switchboard.call_event_facts(v_row.provider, v_row.payload)).call_id IS NOT NULL THEN
    v_call := switchboard.record_call_event(v_row.org_id, v_row.provider, v_row.payload);
  ELSIF v_row.provider = 'twilio' AND (v_row.payload ? 'MessageSid' OR v_row.payload ? 'SmsSid') THEN
    PERFORM switchboard.record_message_event(v_row.org_id, v_row.provider, v_row.payload);
  END IF;
  UPDATE switchboard.webhook_inbox i
     SET status = 'processed', processed_at = now(),
         event_type = coalesce(i.event_type, (switchboard.webhook_facts(i.provider, i.payload, i.headers)).event_type)
   WHERE i.id = inbox_id
  RETURNING * INTO v_row;
  RETURN jsonb_build_object('reason', 'PROCESSED', 'inboxId', inbox_id, 'status', v_row.status,
                            'eventType', v_row.event_type) ||
         CASE WHEN v_call IS NOT NULL THEN jsonb_build_object('callId', v_call -> 'callId') ELSE '{}' END;
END
$$;

-- Ensures: a verified event is stored once per (provider, org, event id) and handed to
-- process_webhook; its organisation comes from provider_accounts (unmatched: stored with org
-- NULL). body_sha256 (hex SHA-256 of what the signature covers: the raw body, for Twilio the URL
-- and sorted parameters) identifies events whose provider gives them no id.
CREATE FUNCTION switchboard.receive_webhook(provider text, payload jsonb, headers jsonb DEFAULT '{}',
                                            body_sha256 text DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_facts record;
  v_org uuid;
  v_event text;
  v_id bigint;
BEGIN
  PERFORM switchboard.require_arg(provider, 'provider');
  PERFORM switchboard.require_arg(payload, 'payload');
  v_facts := switchboard.webhook_facts(provider, payload, coalesce(headers, '{}'));
  v_event := coalesce(v_facts.event_id, 'sha256:' || body_sha256);
  IF v_event IS NULL THEN
    RAISE EXCEPTION 'webhook event has no id' USING ERRCODE = '22023',
      DETAIL = format('The event from provider "%s" carries no event id, and no body_sha256 was given.', provider),
      HINT = 'Pass body_sha256 for providers without event ids.';
  END IF;
  v_org := switchboard.resolve_provider_org(provider, v_facts.account_keys);
  INSERT INTO switchboard.webhook_inbox (org_id, provider, event_id, event_type, status, payload, headers,
                                         account_keys)
  VALUES (v_org, provider, v_event, v_facts.event_type,
          CASE WHEN v_org IS NULL THEN 'unmatched' ELSE 'received' END, payload,
          switchboard.webhook_kept_headers(headers), v_facts.account_keys)
  ON CONFLICT ON CONSTRAINT webhook_inbox_event_key DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    RETURN jsonb_build_object('duplicate', true, 'reason', 'DUPLICATE', 'eventId', v_event);
  END IF;
  IF v_org IS NOT NULL THEN
    PERFORM switchboard.process_webhook(v_id);
  END IF;
  RETURN jsonb_build_object('received', true,
                            'reason', CASE WHEN v_org IS NULL THEN 'UNMATCHED' ELSE 'PROCESSED' END,
                            'inboxId', v_id, 'eventId', v_event, 'orgId', v_org);
END
$$;

-- Ensures: every unmatched event of `provider` (of every provider when NULL; only those naming one
-- of `account_keys` when given) that names an account now mapped in provider_accounts belongs to
-- that organisation and has been processed; an event the organisation already holds is removed as
-- the duplicate it is. Runs by itself when mappings are added or changed; call it to catch events
-- stored while a mapping was being committed.
CREATE FUNCTION switchboard.rematch_webhooks(provider text DEFAULT NULL, account_keys text[] DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v record;
  v_matched int := 0;
  v_duplicates int := 0;
BEGIN
  FOR v IN
    SELECT i.id, o.org
      FROM switchboard.webhook_inbox i,
           LATERAL (SELECT switchboard.resolve_provider_org(i.provider, i.account_keys) AS org) o
     WHERE i.status = 'unmatched' AND i.account_keys <> '{}'
       AND (rematch_webhooks.provider IS NULL OR i.provider = rematch_webhooks.provider)
       AND (rematch_webhooks.account_keys IS NULL OR i.account_keys && rematch_webhooks.account_keys)
       AND o.org IS NOT NULL
     ORDER BY i.id
       FOR UPDATE OF i SKIP LOCKED
  LOOP
    BEGIN
      UPDATE switchboard.webhook_inbox i SET org_id = v.org, status = 'received' WHERE i.id = v.id;
      PERFORM switchboard.process_webhook(v.id);
      v_matched := v_matched + 1;
    EXCEPTION WHEN unique_violation THEN
      DELETE FROM switchboard.webhook_inbox i WHERE i.id = v.id;
      v_duplicates := v_duplicates + 1;
    END;
  END LOOP;
  RETURN jsonb_build_object('reason', 'REMATCHED', 'matched', v_matched, 'duplicates', v_duplicates,
    'unmatched', (SELECT count(*) FROM switchboard.webhook_inbox i WHERE i.status = 'unmatched'
                    AND (rematch_webhooks.provider IS NULL OR i.provider = rematch_webhooks.provider)));
END
$$;

-- Ensures: events that were waiting for a mapping added or changed by this statement are matched.
CREATE FUNCTION switchboard.rematch_mapped_webhooks() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.rematch_webhooks(n.provider, array_agg(n.external_id))
     FROM new_rows n GROUP BY n.provider;
  RETURN NULL;
END
$$;
CREATE TRIGGER provider_accounts_rematch_insert AFTER INSERT ON switchboard.provider_accounts
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.rematch_mapped_webhooks();
CREATE TRIGGER provider_accounts_rematch_update AFTER UPDATE ON switchboard.provider_accounts
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.rematch_mapped_webhooks();

-- The request headers worth keeping with an event (ids, timestamps, content type, user agent);
-- never signatures or credentials.
CREATE FUNCTION switchboard.webhook_kept_headers(headers jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(jsonb_object_agg(h.key, h.value), '{}')
    FROM jsonb_each(coalesce(headers, '{}')) h
   WHERE h.key IN ('content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'svix-id',
                   'svix-timestamp', 'i-twilio-idempotency-token', 'x-home-region', 'x-timestamp')
$$;
