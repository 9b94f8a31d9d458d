-- Contacts and calls: input checks, contact import, the call-event fold, dispositions, notes,
-- stages, messages and the dashboard. The per-event and per-row work is C++ (pg/contacts: the
-- call-event fold and record_call_event, the import's row checks); the rest is a few set-based
-- statements over indexed rows (tests/bench/contacts.sh measures the speed goals).
CREATE TRIGGER pipeline_stages_touch BEFORE UPDATE ON switchboard.pipeline_stages
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER contacts_touch BEFORE UPDATE ON switchboard.contacts
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER calls_touch BEFORE UPDATE ON switchboard.calls
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER dispositions_touch BEFORE UPDATE ON switchboard.dispositions
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER messages_touch BEFORE UPDATE ON switchboard.messages
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();

SELECT switchboard.protect('switchboard.pipeline_stages', 'org_id', 'viewer', 'manager', 'manager', 'admin');
SELECT switchboard.protect('switchboard.contacts', 'org_id', 'viewer', 'agent', 'agent', 'manager');
SELECT switchboard.protect('switchboard.calls', 'org_id', 'viewer', 'agent', 'agent', 'admin');
SELECT switchboard.protect('switchboard.call_note_tags', 'org_id', 'viewer', 'manager', 'manager', 'manager');
SELECT switchboard.protect('switchboard.call_notes', 'org_id', 'viewer', 'agent', 'admin', 'admin');
SELECT switchboard.protect('switchboard.dispositions', 'org_id', 'viewer', 'manager', 'manager', 'admin');
SELECT switchboard.protect('switchboard.disposition_events', 'org_id', 'viewer', 'agent', 'owner', 'owner');
SELECT switchboard.protect('switchboard.messages', 'org_id', 'viewer', 'agent', 'agent', 'admin');
SELECT switchboard.protect('switchboard.contact_metrics', 'org_id', 'viewer', 'owner', 'owner', 'owner');

-------------------------------------------------------------------------------------------------
-- Input checks
-------------------------------------------------------------------------------------------------

-- The phone number to store for an input, or NULL when the input is not acceptable: E.164 as
-- given, else what switchboard.phone_info (libphonenumber) reads as a valid number, national
-- numbers as US ones. The one rule contacts, calls and messages read phone input with (import's
-- C++ half: phone_of in pg/contacts/contacts_import.cpp).
CREATE FUNCTION switchboard.contact_phone(raw text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN raw ~ '^\+[1-9][0-9]{6,14}$' THEN raw
              ELSE (SELECT i ->> 'e164' FROM switchboard.phone_info(raw) i WHERE (i ->> 'valid')::boolean) END
$$;

-- Ensures: raw is an acceptable phone number (22023 naming it otherwise); returns what to store.
CREATE FUNCTION switchboard.require_phone(raw text, name text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(raw, name);
  IF switchboard.contact_phone(raw) IS NULL THEN
    RAISE EXCEPTION 'invalid phone number' USING ERRCODE = '22023',
      DETAIL = format('%s: %s', name, raw), HINT = 'give the number in E.164, e.g. +14155550123';
  END IF;
  RETURN switchboard.contact_phone(raw);
END
$$;

-- The time an input names, or NULL when it names none.
CREATE FUNCTION switchboard._contacts_time(raw text) RETURNS timestamptz
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN raw::timestamptz;
EXCEPTION WHEN data_exception THEN
  RETURN NULL;
END
$$;

-- One row of a contact import as C++ checked it: a rejected input row (rejected_row, its index,
-- and reason) or a good one, merged per phone: the columns its members give (camelCase keys in
-- keys; phone numbers in E.164) and zone, the time zone of the number when the row gives none
-- and its prefix lies in exactly one (as phone_info's timeZones).
CREATE TYPE switchboard.contact_import_row AS (
  rejected_row integer, reason text, phone text, keys text[], zone text, other_phones text[],
  first_name text, last_name text, email text, status text, source text, tags text[],
  custom_fields jsonb, stage text, owner_id uuid, campaign_id uuid, timezone text,
  do_not_call boolean, do_not_sms boolean, do_not_email boolean, consent_method text,
  consent_at timestamptz);

-- The import's rows checked (the first problem of each as a reason code) and the good ones merged
-- per phone, as typed rows; 22023 when rows is not a json array or holds more than 100000 rows
-- (core/contacts/contacts_import.cpp). Caller: agent or above, or service_role.
CREATE FUNCTION switchboard._contact_rows_checked(org_id uuid, rows jsonb)
  RETURNS SETOF switchboard.contact_import_row
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'sb_contact_rows_checked';

-------------------------------------------------------------------------------------------------
-- Contacts
-------------------------------------------------------------------------------------------------

-- The outbound events of this capability (call.*, lead.*: the builtin rows of event_types below)
-- are emitted here, and only here, through the outbox of switchboard.emit_event's body: queued in
-- the caller's transaction for the organisation's endpoints that want them. The contacts functions
-- call it after their own role checks; called directly it requires an agent or above (or
-- service_role) and one of these types.
CREATE FUNCTION switchboard.contacts_emit_event(org_id uuid, event_type text, payload jsonb) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'agent');
  PERFORM switchboard.require_arg(event_type, 'event_type');
  IF event_type NOT IN ('lead.imported', 'lead.stage_changed', 'call.completed', 'call.disposition_set') THEN
    RAISE EXCEPTION 'not a contacts event type' USING ERRCODE = '22023',
      DETAIL = format('Event type %s is not one of lead.imported, lead.stage_changed, call.completed and call.disposition_set.', event_type);
  END IF;
  PERFORM switchboard._emit_event(org_id, event_type, payload);
END
$$;
COMMENT ON FUNCTION switchboard.contacts_emit_event(uuid, text, jsonb) IS
  'the one place contacts and calls emit outbound events (lead.*, call.*)';

-- Ensures: rows (a json array of contacts, camelCase keys) are stored, one contact per phone: a
-- row whose phone the organisation already has merges into that contact (the keys it gives
-- replace, the others stay); a bad row is reported in `rejected` and never stops the others.
-- Caller: agent or above, or service_role. Its work_mem holds 100,000 rows' merge in memory: with
-- the default 4 MB the rows spilled to temporary files (about 100 MB for 100,000 rows) and the call
-- took half as much CPU again (tests/bench/contacts_import.sh).
CREATE FUNCTION switchboard.import_contacts(org_id uuid, rows jsonb) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET work_mem = '64MB' AS $$
DECLARE
  v_org uuid := import_contacts.org_id;
  v_left switchboard.contact_import_row[];
  v_rejected jsonb;
  v_done text[];
  v_merged int;
  v_inserted int := 0;
  v_n int;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(rows, 'rows');
  -- Every row checked and the good ones merged per phone (a later row's keys win), in C++.
  -- v_left: the rejected rows first (reason set), then the good ones.
  v_left := ARRAY(SELECT r FROM switchboard._contact_rows_checked(v_org, rows) r);
  SELECT coalesce(jsonb_agg(jsonb_build_object('row', r.rejected_row, 'reason', r.reason) ORDER BY r.rejected_row), '[]')
    INTO v_rejected FROM unnest(v_left) r WHERE r.reason IS NOT NULL;
  IF jsonb_array_length(v_rejected) > 0 THEN
    v_left := ARRAY(SELECT r FROM unnest(v_left) r WHERE r.reason IS NULL);
  END IF;
  -- Existing contacts are updated, new ones inserted; a phone inserted concurrently by another
  -- transaction is merged on the next round.
  FOR round IN 1..3 LOOP
    EXIT WHEN cardinality(v_left) = 0;
    IF round = 3 THEN
      RAISE EXCEPTION 'contacts changed concurrently while importing' USING ERRCODE = '40001',
        DETAIL = format('phones left: %s', cardinality(v_left)), HINT = 'run the import again';
    END IF;
    -- The contacts to merge are locked, and the new ones inserted, in phone order: concurrent
    -- imports of the same phones wait for each other instead of deadlocking.
    PERFORM 1 FROM switchboard.contacts c
      WHERE c.org_id = v_org AND c.phone = ANY (ARRAY(SELECT s.phone FROM unnest(v_left) s))
      ORDER BY c.phone FOR UPDATE;
    -- One set-based UPDATE and INSERT over the rows as C++ built them (no per-row function): a
    -- merge replaces only the columns its row gives.
    WITH src AS (
      SELECT s.*, st.id AS stage_id
        FROM unnest(v_left) s
        LEFT JOIN switchboard.pipeline_stages st ON st.org_id = v_org AND st.name = s.stage
    ), upd AS (
      UPDATE switchboard.contacts c SET
        other_phones = CASE WHEN 'otherPhones' = ANY (s.keys)
                            THEN coalesce(s.other_phones, '{}')::switchboard.phone[] ELSE c.other_phones END,
        first_name = CASE WHEN 'firstName' = ANY (s.keys) THEN s.first_name ELSE c.first_name END,
        last_name = CASE WHEN 'lastName' = ANY (s.keys) THEN s.last_name ELSE c.last_name END,
        email = CASE WHEN 'email' = ANY (s.keys) THEN s.email ELSE c.email END,
        status = coalesce(s.status, c.status),
        source = CASE WHEN 'source' = ANY (s.keys) THEN s.source ELSE c.source END,
        tags = CASE WHEN 'tags' = ANY (s.keys) THEN ARRAY(SELECT DISTINCT unnest(c.tags || coalesce(s.tags, '{}')) ORDER BY 1)
                    ELSE c.tags END,
        custom_fields = c.custom_fields || coalesce(s.custom_fields, '{}'),
        stage_id = CASE WHEN 'stage' = ANY (s.keys) THEN s.stage_id ELSE c.stage_id END,
        owner_id = CASE WHEN 'ownerId' = ANY (s.keys) THEN s.owner_id ELSE c.owner_id END,
        campaign_id = CASE WHEN 'campaignId' = ANY (s.keys) THEN s.campaign_id ELSE c.campaign_id END,
        timezone = CASE WHEN 'timezone' = ANY (s.keys) THEN s.timezone ELSE coalesce(c.timezone, s.zone) END,
        do_not_call = coalesce(s.do_not_call, c.do_not_call),
        do_not_sms = coalesce(s.do_not_sms, c.do_not_sms),
        do_not_email = coalesce(s.do_not_email, c.do_not_email),
        consent_method = CASE WHEN 'consentMethod' = ANY (s.keys) THEN s.consent_method ELSE c.consent_method END,
        consent_at = CASE WHEN 'consentAt' = ANY (s.keys) THEN s.consent_at ELSE c.consent_at END
        FROM src s
       WHERE c.org_id = v_org AND c.phone = s.phone
      RETURNING c.phone::text
    ), ins AS (
      INSERT INTO switchboard.contacts (org_id, phone, other_phones, first_name, last_name, email, status,
                                        source, tags, custom_fields, stage_id, owner_id, campaign_id,
                                        timezone, do_not_call, do_not_sms, do_not_email, consent_method,
                                        consent_at)
      SELECT v_org, s.phone, coalesce(s.other_phones, '{}')::switchboard.phone[], s.first_name, s.last_name,
             s.email, coalesce(s.status, 'new'), s.source,
             CASE WHEN cardinality(s.tags) > 0 THEN ARRAY(SELECT DISTINCT unnest(s.tags) ORDER BY 1) ELSE '{}' END,
             coalesce(s.custom_fields, '{}'), s.stage_id, s.owner_id, s.campaign_id,
             CASE WHEN 'timezone' = ANY (s.keys) THEN s.timezone ELSE s.zone END,
             coalesce(s.do_not_call, false), coalesce(s.do_not_sms, false), coalesce(s.do_not_email, false),
             s.consent_method, s.consent_at
        FROM src s
       WHERE NOT EXISTS (SELECT 1 FROM switchboard.contacts c WHERE c.org_id = v_org AND c.phone = s.phone)
       ORDER BY s.phone
      ON CONFLICT ON CONSTRAINT contacts_phone_key DO NOTHING
      RETURNING phone::text
    )
    SELECT (SELECT count(*) FROM ins), ARRAY(SELECT phone FROM upd UNION ALL SELECT phone FROM ins)
      INTO v_n, v_done;
    v_inserted := v_inserted + v_n;
    EXIT WHEN cardinality(v_done) = cardinality(v_left);
    v_left := ARRAY(SELECT r FROM unnest(v_left) r WHERE r.phone NOT IN (SELECT unnest(v_done)));
  END LOOP;
  v_merged := jsonb_array_length(rows) - jsonb_array_length(v_rejected) - v_inserted;
  PERFORM switchboard.contacts_emit_event(v_org, 'lead.imported',
    jsonb_build_object('inserted', v_inserted, 'merged', v_merged));
  RETURN jsonb_build_object('reason', 'IMPORTED', 'inserted', v_inserted, 'merged', v_merged,
                            'rejected', v_rejected);
END
$$;

-- Ensures: the contact is stored (merged into the organisation's contact with the same phone);
-- a bad contact is refused with 22023 naming its problem. Caller: agent or above, or service_role.
CREATE FUNCTION switchboard.upsert_contact(org_id uuid, contact jsonb) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_answer jsonb;
  v_id uuid;
BEGIN
  PERFORM switchboard.require_arg(contact, 'contact');
  v_answer := switchboard.import_contacts(upsert_contact.org_id, jsonb_build_array(contact));
  IF jsonb_array_length(v_answer -> 'rejected') > 0 THEN
    RAISE EXCEPTION 'invalid contact' USING ERRCODE = '22023',
      DETAIL = format('reason: %s; contact: %s', v_answer #>> '{rejected,0,reason}', left(contact::text, 200));
  END IF;
  SELECT c.id INTO v_id FROM switchboard.contacts c
   WHERE c.org_id = upsert_contact.org_id AND c.phone = switchboard.contact_phone(contact ->> 'phone')::switchboard.phone;
  RETURN jsonb_build_object('reason', CASE WHEN (v_answer ->> 'inserted')::int = 1 THEN 'INSERTED' ELSE 'MERGED' END,
                            'contactId', v_id);
END
$$;

-------------------------------------------------------------------------------------------------
-- Calls: provider events folded into one row per call
-------------------------------------------------------------------------------------------------

-- The fold entries of one provider event: its call id (NULL for events that are not about a
-- call), and field -> [key, value] for every field it states. Keys order a call's events: status
-- and details by (status rank, the provider's sequence: Twilio's SequenceNumber, Vapi's
-- timestamp, Retell's event kind); start and answer times so that the earliest wins, end times
-- the latest (core/contacts/contacts_fold.cpp). 22023 for an event that is not a json object or
-- an unknown provider.
CREATE FUNCTION switchboard._call_event_facts(provider text, event jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_call_event_facts';

CREATE FUNCTION switchboard.call_event_facts(provider text, event jsonb, OUT call_id text, OUT facts jsonb)
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT f ->> 'callId', f -> 'facts' FROM switchboard._call_event_facts(provider, event) f
$$;

-- The fold of two fold objects: for each field the entry with the greater (key, value). Order of
-- application does not matter and applying an entry twice changes nothing (NULL: no entries).
CREATE FUNCTION switchboard.call_fold(a jsonb, b jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_call_fold';

-- The dashboard outcome of a call in a final status (connected, voicemail: answered by a machine
-- or a fax, no_answer, busy, failed); NULL while it is not over (core/contacts/contacts_fold.cpp).
CREATE FUNCTION switchboard.call_outcome(status text, answered_by text) RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_call_outcome';

-- Keeps a call's columns the projection of its fold (each field's value, status queued while
-- none is known, the outcome), and links it to the contact of the other party's number: C++
-- (pg/contacts/contacts_calls.cpp), per row without PL/pgSQL.
CREATE FUNCTION switchboard._calls_project() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_calls_project';
CREATE TRIGGER calls_project BEFORE INSERT OR UPDATE OF fold ON switchboard.calls
  FOR EACH ROW EXECUTE FUNCTION switchboard._calls_project();

-- Ensures: the rollups hold the deltas (hour, metric, dimension, count, amount), applied in key
-- order (so concurrent writers never deadlock); rows that net to nothing are skipped. PL/pgSQL,
-- not SQL: Citus cannot plan a SQL function's statement with its parameters.
CREATE FUNCTION switchboard._contact_metrics_add(org uuid, deltas jsonb) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO switchboard.contact_metrics AS m (org_id, hour, metric, dimension, count, amount)
  SELECT org, (d ->> 0)::timestamptz, d ->> 1, d ->> 2, sum((d ->> 3)::bigint), sum((d ->> 4)::numeric)
    FROM jsonb_array_elements(deltas) d
   WHERE jsonb_typeof(d) = 'array'
   GROUP BY 2, 3, 4
  HAVING sum((d ->> 3)::bigint) <> 0 OR sum((d ->> 4)::numeric) <> 0
   ORDER BY 2, 3, 4
  ON CONFLICT (org_id, hour, metric, dimension)
  DO UPDATE SET count = m.count + excluded.count, amount = m.amount + excluded.amount;
END
$$;

-- One rollup delta.
CREATE FUNCTION switchboard._contact_metric(at timestamptz, metric text, dimension text, n bigint,
                                            amount numeric DEFAULT 0) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_array(date_trunc('hour', at, 'UTC'), metric, dimension, n, coalesce(amount, 0))
$$;

-- Ensures: calls and messages of a contact being deleted no longer name it.
CREATE FUNCTION switchboard._contacts_release() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE switchboard.calls c SET contact_id = NULL WHERE c.org_id = OLD.org_id AND c.contact_id = OLD.id;
  UPDATE switchboard.messages m SET contact_id = NULL WHERE m.org_id = OLD.org_id AND m.contact_id = OLD.id;
  RETURN OLD;
END
$$;
CREATE TRIGGER contacts_release BEFORE DELETE ON switchboard.contacts
  FOR EACH ROW EXECUTE FUNCTION switchboard._contacts_release();

-- Ensures: contacts in a stage being deleted are in no stage.
CREATE FUNCTION switchboard._pipeline_stages_release() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE switchboard.contacts c SET stage_id = NULL WHERE c.org_id = OLD.org_id AND c.stage_id = OLD.id;
  RETURN OLD;
END
$$;
CREATE TRIGGER pipeline_stages_release BEFORE DELETE ON switchboard.pipeline_stages
  FOR EACH ROW EXECUTE FUNCTION switchboard._pipeline_stages_release();

-- Keeps the call rollups (calls by outcome and hour, with cost) in step with calls: C++
-- (pg/contacts/contacts_rollup.cpp), one function for the three triggers. Inserted and deleted
-- calls by statement over the transition table, read in C++ (a bulk insert adds its calls in one
-- pass; on Citus no query reads the shard's tuplestore); a call whose outcome, start or cost
-- changed moves between buckets by a row trigger (its WHEN skips every other update). The deltas
-- are written one upsert per (organisation, hour, outcome), in key order, so concurrent writers
-- never deadlock; a net zero is skipped. Calls deleted with their organisation leave no rollup
-- behind (the organisation's go with it).
CREATE FUNCTION switchboard._calls_rollup() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_calls_rollup';
CREATE TRIGGER calls_rollup_insert AFTER INSERT ON switchboard.calls
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard._calls_rollup();
CREATE TRIGGER calls_rollup_delete AFTER DELETE ON switchboard.calls
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard._calls_rollup();
CREATE TRIGGER calls_rollup_update AFTER UPDATE ON switchboard.calls
  FOR EACH ROW WHEN (OLD.outcome IS DISTINCT FROM NEW.outcome OR OLD.started_at IS DISTINCT FROM NEW.started_at
                     OR OLD.cost IS DISTINCT FROM NEW.cost)
  EXECUTE FUNCTION switchboard._calls_rollup();

-- Keeps the contact rollups (new contacts by source and hour) in step with contacts.
CREATE FUNCTION switchboard._contacts_rollup() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  d record;
BEGIN
  -- as in _calls_rollup: the transition table is read by a query of its own (Citus)
  FOR d IN
    SELECT c.org_id AS org, jsonb_agg(jsonb_build_array(c.hour, 'contacts', c.dimension, c.n, 0)) AS deltas
      FROM (SELECT n.org_id, date_trunc('hour', n.created_at, 'UTC') AS hour,
                   coalesce(n.source, 'unknown') AS dimension, count(*) AS n
              FROM new_rows n GROUP BY 1, 2, 3) c
     GROUP BY c.org_id ORDER BY c.org_id
  LOOP
    PERFORM switchboard._contact_metrics_add(d.org, d.deltas);
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER contacts_rollup AFTER INSERT ON switchboard.contacts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard._contacts_rollup();

-- Keeps the pipeline rollups (moves into each stage) in step with contacts, however they move.
CREATE FUNCTION switchboard._contacts_stage_rollup() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._contact_metrics_add(NEW.org_id, jsonb_build_array(
    switchboard._contact_metric(now(), 'stage_moves', NEW.stage_id::text, 1)));
  RETURN NULL;
END
$$;
CREATE TRIGGER contacts_stage_rollup AFTER UPDATE OF stage_id ON switchboard.contacts
  FOR EACH ROW WHEN (OLD.stage_id IS DISTINCT FROM NEW.stage_id AND NEW.stage_id IS NOT NULL)
  EXECUTE FUNCTION switchboard._contacts_stage_rollup();

-- Keeps the message rollups (messages by direction and channel) in step with messages.
CREATE FUNCTION switchboard._messages_rollup() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._contact_metrics_add(NEW.org_id, jsonb_build_array(
    switchboard._contact_metric(NEW.created_at, 'messages', NEW.direction || ':' || NEW.channel, 1)));
  RETURN NULL;
END
$$;
CREATE TRIGGER messages_rollup AFTER INSERT ON switchboard.messages
  FOR EACH ROW EXECUTE FUNCTION switchboard._messages_rollup();

-- Keeps the disposition rollups (dispositions by kind with seconds to disposition, bookings) in
-- step with disposition_events.
CREATE FUNCTION switchboard._dispositions_rollup() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._contact_metrics_add(NEW.org_id, jsonb_build_array(
    switchboard._contact_metric(NEW.created_at, 'dispositions', NEW.set_by_kind, 1, NEW.seconds_to_disposition),
    CASE WHEN EXISTS (SELECT 1 FROM switchboard.dispositions d WHERE d.org_id = NEW.org_id
                         AND d.name = NEW.disposition AND d.counts_as_booked) THEN
      switchboard._contact_metric(NEW.created_at, 'booked', NEW.disposition, 1) END));
  RETURN NULL;
END
$$;
CREATE TRIGGER disposition_events_rollup AFTER INSERT ON switchboard.disposition_events
  FOR EACH ROW EXECUTE FUNCTION switchboard._dispositions_rollup();

-- Ensures: the provider's event is folded into the organisation's call row (created on its first
-- event): whatever the order events arrive in, and however often, the row ends the same; an event
-- that changes nothing writes nothing. 22023 for an unknown provider, an event that is not about a
-- call, or one without a call id. Caller: agent or above, or service_role (the inbound webhooks).
-- C++ (pg/contacts/contacts_calls.cpp): the row is locked, folded and written as the owner after
-- the role check; the table's triggers project the fold into the columns and keep the rollups.
CREATE FUNCTION switchboard.record_call_event(org_id uuid, provider text, event jsonb) RETURNS jsonb
  LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'sb_record_call_event';

-------------------------------------------------------------------------------------------------
-- Pipeline stages, dispositions, notes
-------------------------------------------------------------------------------------------------

-- Ensures: the organisation has a stage of that name (at the end, or at position); returns it.
-- Caller: manager or above, or service_role.
CREATE FUNCTION switchboard.upsert_pipeline_stage(org_id uuid, name text, "position" integer DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := upsert_pipeline_stage.org_id;
  v_stage switchboard.pipeline_stages;
  v_next int;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'manager');
  PERFORM switchboard.require_arg(upsert_pipeline_stage.name, 'name');
  IF length(btrim(upsert_pipeline_stage.name)) NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION 'invalid pipeline stage name' USING ERRCODE = '22023',
      DETAIL = format('name: %s', upsert_pipeline_stage.name), HINT = '1 to 100 characters';
  END IF;
  IF "position" < 0 THEN
    RAISE EXCEPTION 'invalid pipeline stage position' USING ERRCODE = '22023',
      DETAIL = format('position: %s', "position");
  END IF;
  -- the next position in a statement of its own (Citus refuses a sub-select in INSERT ... VALUES)
  SELECT coalesce(max(p.position) + 1, 0) INTO v_next FROM switchboard.pipeline_stages p WHERE p.org_id = v_org;
  INSERT INTO switchboard.pipeline_stages AS s (org_id, name, position)
  VALUES (v_org, upsert_pipeline_stage.name, coalesce("position", v_next))
  ON CONFLICT ON CONSTRAINT pipeline_stages_name_key
  DO UPDATE SET position = coalesce(upsert_pipeline_stage."position", s.position)
  RETURNING * INTO v_stage;
  RETURN jsonb_build_object('reason', 'STORED', 'stageId', v_stage.id, 'name', v_stage.name,
                            'position', v_stage.position);
END
$$;

-- Ensures: the organisation has the disposition with these settings (camelCase keys stage,
-- createMissingStage, contactStatus, removesFromCampaign, callbackAfterMinutes, countsAsBooked).
-- Caller: manager or above, or service_role.
CREATE FUNCTION switchboard.upsert_disposition(org_id uuid, name text, settings jsonb DEFAULT '{}')
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := upsert_disposition.org_id;
  s jsonb := coalesce(settings, '{}');
  v_key text;
  v_id uuid;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'manager');
  PERFORM switchboard.require_arg(upsert_disposition.name, 'name');
  IF upsert_disposition.name !~ '^[a-z0-9][a-z0-9_-]{0,49}$' THEN
    RAISE EXCEPTION 'invalid disposition name' USING ERRCODE = '22023',
      DETAIL = format('name: %s', upsert_disposition.name),
      HINT = '1 to 50 lowercase letters, digits, underscores and hyphens';
  END IF;
  IF jsonb_typeof(s) <> 'object' THEN
    RAISE EXCEPTION 'disposition settings must be a json object' USING ERRCODE = '22023',
      DETAIL = format('settings: %s', left(s::text, 100));
  END IF;
  SELECT k INTO v_key FROM jsonb_object_keys(s) k
   WHERE k NOT IN ('stage', 'createMissingStage', 'contactStatus', 'removesFromCampaign',
                   'callbackAfterMinutes', 'countsAsBooked') LIMIT 1;
  IF v_key IS NOT NULL THEN
    RAISE EXCEPTION 'unknown disposition setting' USING ERRCODE = '22023', DETAIL = format('setting: %s', v_key),
      HINT = 'the settings are: stage, createMissingStage, contactStatus, removesFromCampaign, callbackAfterMinutes, countsAsBooked';
  END IF;
  IF s ? 'callbackAfterMinutes' AND (s ->> 'callbackAfterMinutes') !~ '^[0-9]{1,6}$' THEN
    RAISE EXCEPTION 'invalid callback delay' USING ERRCODE = '22023',
      DETAIL = format('callbackAfterMinutes: %s', s -> 'callbackAfterMinutes');
  END IF;
  SELECT k INTO v_key FROM unnest(ARRAY['createMissingStage', 'removesFromCampaign', 'countsAsBooked']) k
   WHERE s ? k AND jsonb_typeof(s -> k) <> 'boolean' LIMIT 1;
  IF v_key IS NOT NULL THEN
    RAISE EXCEPTION 'disposition setting must be a boolean' USING ERRCODE = '22023',
      DETAIL = format('%s: %s', v_key, s -> v_key);
  END IF;
  INSERT INTO switchboard.dispositions AS d (org_id, name, stage_name, create_missing_stage, contact_status,
                                             removes_from_campaign, callback_after, counts_as_booked)
  VALUES (v_org, upsert_disposition.name, s ->> 'stage', coalesce((s ->> 'createMissingStage')::boolean, false),
          s ->> 'contactStatus', coalesce((s ->> 'removesFromCampaign')::boolean, false),
          make_interval(mins => (s ->> 'callbackAfterMinutes')::int),
          coalesce((s ->> 'countsAsBooked')::boolean, false))
  ON CONFLICT ON CONSTRAINT dispositions_name_key DO UPDATE SET
    stage_name = excluded.stage_name, create_missing_stage = excluded.create_missing_stage,
    contact_status = excluded.contact_status, removes_from_campaign = excluded.removes_from_campaign,
    callback_after = excluded.callback_after, counts_as_booked = excluded.counts_as_booked
  RETURNING d.id INTO v_id;
  RETURN jsonb_build_object('reason', 'STORED', 'dispositionId', v_id, 'name', upsert_disposition.name);
END
$$;

-- The call of the organisation, locked for update; P0002 when the organisation has no such call.
CREATE FUNCTION switchboard._call_for_update(org uuid, call uuid) RETURNS switchboard.calls
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_call switchboard.calls;
BEGIN
  PERFORM switchboard.require_arg(call, 'call_id');
  SELECT * INTO v_call FROM switchboard.calls c WHERE c.org_id = org AND c.id = call FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'call not found' USING ERRCODE = 'P0002', DETAIL = format('call_id: %s', call);
  END IF;
  RETURN v_call;
END
$$;

-- Ensures: the contact is in the named stage of the organisation (PIPELINE_STAGE_NOT_FOUND and
-- nothing changed when the organisation has no such stage). Caller: agent or above, or service_role.
CREATE FUNCTION switchboard.move_contact_stage(org_id uuid, contact_id uuid, stage text) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := move_contact_stage.org_id;
  v_stage uuid;
  v_previous uuid;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(move_contact_stage.contact_id, 'contact_id');
  PERFORM switchboard.require_arg(stage, 'stage');
  SELECT s.id INTO v_stage FROM switchboard.pipeline_stages s WHERE s.org_id = v_org AND s.name = stage;
  IF v_stage IS NULL THEN
    RETURN jsonb_build_object('moved', false, 'reason', 'PIPELINE_STAGE_NOT_FOUND', 'stage', stage);
  END IF;
  SELECT c.stage_id INTO v_previous FROM switchboard.contacts c
   WHERE c.org_id = v_org AND c.id = move_contact_stage.contact_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'contact not found' USING ERRCODE = 'P0002',
      DETAIL = format('contact_id: %s', move_contact_stage.contact_id);
  END IF;
  IF v_previous IS NOT DISTINCT FROM v_stage THEN
    RETURN jsonb_build_object('moved', false, 'reason', 'UNCHANGED', 'stageId', v_stage);
  END IF;
  UPDATE switchboard.contacts c SET stage_id = v_stage WHERE c.org_id = v_org AND c.id = move_contact_stage.contact_id;
  PERFORM switchboard.contacts_emit_event(v_org, 'lead.stage_changed', jsonb_build_object(
    'contactId', move_contact_stage.contact_id, 'previousStageId', v_previous, 'stageId', v_stage));
  RETURN jsonb_build_object('moved', true, 'reason', 'MOVED', 'stageId', v_stage, 'previousStageId', v_previous);
END
$$;

-- Ensures, in one transaction: the call carries the disposition (notes, confidence, who set it),
-- a disposition_events row records it, and the contact follows the disposition's settings (its
-- stage, created when configured; status; callback; campaign). A refusal (DISPOSITION_NOT_FOUND,
-- PIPELINE_STAGE_NOT_FOUND) changes nothing. options: notes, confidence (0..1), setBy (ai, manual,
-- system; default manual), callbackAt. Caller: agent or above, or service_role. Runs as the owner
-- (after the role check) so that an agent's disposition can create the stage a manager configured.
CREATE FUNCTION switchboard.set_disposition(org_id uuid, call_id uuid, disposition text, options jsonb DEFAULT '{}')
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := set_disposition.org_id;
  o jsonb := coalesce(options, '{}');
  v_call switchboard.calls;
  v_disp switchboard.dispositions;
  v_contact switchboard.contacts;
  v_stage uuid;
  v_kind text;
  v_key text;
  v_callback timestamptz;
  v_event uuid;
  v_next int;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(set_disposition.disposition, 'disposition');
  IF jsonb_typeof(o) <> 'object' THEN
    RAISE EXCEPTION 'disposition options must be a json object' USING ERRCODE = '22023',
      DETAIL = format('options: %s', left(o::text, 100));
  END IF;
  SELECT k INTO v_key FROM jsonb_object_keys(o) k WHERE k NOT IN ('notes', 'confidence', 'setBy', 'callbackAt') LIMIT 1;
  IF v_key IS NOT NULL THEN
    RAISE EXCEPTION 'unknown disposition option' USING ERRCODE = '22023', DETAIL = format('option: %s', v_key),
      HINT = 'the options are: notes, confidence, setBy, callbackAt';
  END IF;
  IF length(o ->> 'notes') > 500 THEN
    RAISE EXCEPTION 'disposition notes are too long' USING ERRCODE = '22023',
      DETAIL = format('notes: %s characters', length(o ->> 'notes')), HINT = 'at most 500 characters';
  END IF;
  IF o ? 'confidence' AND (jsonb_typeof(o -> 'confidence') <> 'number'
                           OR (o ->> 'confidence')::numeric NOT BETWEEN 0 AND 1) THEN
    RAISE EXCEPTION 'invalid disposition confidence' USING ERRCODE = '22023',
      DETAIL = format('confidence: %s', o -> 'confidence'), HINT = 'a number from 0 to 1';
  END IF;
  v_kind := coalesce(o ->> 'setBy', 'manual');
  IF v_kind NOT IN ('ai', 'manual', 'system') THEN
    RAISE EXCEPTION 'invalid disposition setter' USING ERRCODE = '22023', DETAIL = format('setBy: %s', v_kind),
      HINT = 'ai, manual or system';
  END IF;
  IF o ? 'callbackAt' THEN
    v_callback := switchboard._contacts_time(o ->> 'callbackAt');
    IF v_callback IS NULL THEN
      RAISE EXCEPTION 'invalid callback time' USING ERRCODE = '22023', DETAIL = format('callbackAt: %s', o -> 'callbackAt');
    END IF;
  END IF;
  v_call := switchboard._call_for_update(v_org, set_disposition.call_id);
  SELECT * INTO v_disp FROM switchboard.dispositions d WHERE d.org_id = v_org AND d.name = set_disposition.disposition;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('set', false, 'reason', 'DISPOSITION_NOT_FOUND', 'disposition', set_disposition.disposition);
  END IF;
  IF v_disp.stage_name IS NOT NULL THEN
    SELECT s.id INTO v_stage FROM switchboard.pipeline_stages s WHERE s.org_id = v_org AND s.name = v_disp.stage_name;
    IF v_stage IS NULL AND NOT v_disp.create_missing_stage THEN
      RETURN jsonb_build_object('set', false, 'reason', 'PIPELINE_STAGE_NOT_FOUND', 'stage', v_disp.stage_name);
    END IF;
    IF v_stage IS NULL THEN
      SELECT coalesce(max(p.position) + 1, 0) INTO v_next FROM switchboard.pipeline_stages p WHERE p.org_id = v_org;
      INSERT INTO switchboard.pipeline_stages AS s (org_id, name, position)
      VALUES (v_org, v_disp.stage_name, v_next)
      ON CONFLICT ON CONSTRAINT pipeline_stages_name_key DO UPDATE SET name = excluded.name
      RETURNING s.id INTO v_stage;
    END IF;
  END IF;
  -- the callback time computed here, not in the UPDATE (Citus refuses now() inside COALESCE there)
  v_callback := coalesce(v_callback, now() + v_disp.callback_after);
  IF v_call.contact_id IS NOT NULL THEN
    SELECT * INTO v_contact FROM switchboard.contacts c WHERE c.org_id = v_org AND c.id = v_call.contact_id FOR UPDATE;
    UPDATE switchboard.contacts c SET
      stage_id = coalesce(v_stage, c.stage_id),
      status = coalesce(v_disp.contact_status, c.status),
      callback_at = coalesce(v_callback, c.callback_at),
      campaign_id = CASE WHEN v_disp.removes_from_campaign THEN NULL ELSE c.campaign_id END
     WHERE c.org_id = v_org AND c.id = v_call.contact_id;
  END IF;
  UPDATE switchboard.calls c SET disposition = v_disp.name, disposition_set_at = now(),
         disposition_set_by = switchboard.current_user_id(), disposition_notes = o ->> 'notes',
         disposition_confidence = (o ->> 'confidence')::numeric
   WHERE c.org_id = v_org AND c.id = v_call.id;
  INSERT INTO switchboard.disposition_events (org_id, call_id, contact_id, disposition, set_by_kind, set_by,
    confidence, seconds_to_disposition, previous_disposition, previous_status, new_status, previous_stage_id,
    new_stage_id)
  VALUES (v_org, v_call.id, v_call.contact_id, v_disp.name, v_kind, switchboard.current_user_id(),
          (o ->> 'confidence')::numeric,
          greatest(0, extract(epoch FROM now() - coalesce(v_call.ended_at, v_call.created_at)))::int,
          v_call.disposition, v_contact.status, coalesce(v_disp.contact_status, v_contact.status),
          v_contact.stage_id, CASE WHEN v_call.contact_id IS NOT NULL THEN coalesce(v_stage, v_contact.stage_id) END)
  RETURNING id INTO v_event;
  PERFORM switchboard.contacts_emit_event(v_org, 'call.disposition_set', jsonb_build_object(
    'callId', v_call.id, 'disposition', v_disp.name, 'setBy', v_kind));
  IF v_call.contact_id IS NOT NULL AND v_stage IS DISTINCT FROM v_contact.stage_id AND v_stage IS NOT NULL THEN
    PERFORM switchboard.contacts_emit_event(v_org, 'lead.stage_changed', jsonb_build_object(
      'contactId', v_call.contact_id, 'previousStageId', v_contact.stage_id, 'stageId', v_stage));
  END IF;
  RETURN jsonb_build_object('set', true, 'reason', 'SET', 'callId', v_call.id, 'disposition', v_disp.name,
    'previousDisposition', v_call.disposition, 'eventId', v_event, 'contactId', v_call.contact_id,
    'stageId', v_stage, 'removedFromCampaign', v_disp.removes_from_campaign AND v_call.contact_id IS NOT NULL,
    'callbackAt', switchboard.answer_time(v_callback));
END
$$;

-- Ensures: the call has the note (at most 500 characters; tags from the organisation's
-- call_note_tags). Caller: agent or above, or service_role.
CREATE FUNCTION switchboard.add_call_note(org_id uuid, call_id uuid, note text, tags text[] DEFAULT '{}')
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := add_call_note.org_id;
  v_tag text;
  v_id uuid;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(note, 'note');
  IF length(btrim(note)) = 0 OR length(note) > 500 THEN
    RAISE EXCEPTION 'invalid call note length' USING ERRCODE = '22023',
      DETAIL = format('note: %s characters', length(note)), HINT = '1 to 500 characters';
  END IF;
  SELECT t INTO v_tag FROM unnest(coalesce(tags, '{}')) t
   WHERE NOT EXISTS (SELECT 1 FROM switchboard.call_note_tags g WHERE g.org_id = v_org AND g.name = t) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'unknown call note tag' USING ERRCODE = '22023', DETAIL = format('tag: %s', v_tag),
      HINT = 'add it to switchboard.call_note_tags first';
  END IF;
  PERFORM switchboard._call_for_update(v_org, add_call_note.call_id);
  INSERT INTO switchboard.call_notes (org_id, call_id, author_id, note, tags)
  VALUES (v_org, add_call_note.call_id, switchboard.current_user_id(), note,
          ARRAY(SELECT DISTINCT unnest(coalesce(tags, '{}')) ORDER BY 1))
  RETURNING id INTO v_id;
  RETURN jsonb_build_object('reason', 'ADDED', 'noteId', v_id, 'callId', add_call_note.call_id);
END
$$;

-- The notes of a call of the organisation, oldest first (P0002 for a call it does not have).
CREATE FUNCTION switchboard.list_call_notes(org_id uuid, call_id uuid)
  RETURNS TABLE (note_id uuid, note text, tags text[], author_id uuid, created_at timestamptz)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(list_call_notes.org_id, 'org_id');
  PERFORM switchboard.assert_role(list_call_notes.org_id, 'viewer');
  PERFORM switchboard.require_arg(list_call_notes.call_id, 'call_id');
  IF NOT EXISTS (SELECT 1 FROM switchboard.calls c
                  WHERE c.org_id = list_call_notes.org_id AND c.id = list_call_notes.call_id) THEN
    RAISE EXCEPTION 'call not found' USING ERRCODE = 'P0002', DETAIL = format('call_id: %s', list_call_notes.call_id);
  END IF;
  RETURN QUERY SELECT n.id, n.note, n.tags, n.author_id, n.created_at FROM switchboard.call_notes n
   WHERE n.org_id = list_call_notes.org_id AND n.call_id = list_call_notes.call_id ORDER BY n.created_at, n.id;
END
$$;

-------------------------------------------------------------------------------------------------
-- Messages
-------------------------------------------------------------------------------------------------

-- The rank of a message status: a status never moves to a lower rank (failures and reads are final).
CREATE FUNCTION switchboard.message_status_rank(status text) RETURNS int
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE status WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 WHEN 'received' THEN 3
    WHEN 'delivered' THEN 3 WHEN 'undelivered' THEN 4 WHEN 'failed' THEN 4 WHEN 'read' THEN 5 END
$$;

-- Ensures: the organisation's message audit trail has the message (once per provider message id).
-- message: direction, channel, provider, providerMessageId, status, body, contactId or phone,
-- callId, errorCode, errorMessage. Caller: agent or above, or service_role.
CREATE FUNCTION switchboard.log_message(org_id uuid, message jsonb) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := log_message.org_id;
  m jsonb := message;
  v_key text;
  v_contact uuid;
  v_id uuid;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(m, 'message');
  IF jsonb_typeof(m) <> 'object' THEN
    RAISE EXCEPTION 'message must be a json object' USING ERRCODE = '22023', DETAIL = format('message: %s', left(m::text, 100));
  END IF;
  SELECT k INTO v_key FROM jsonb_object_keys(m) k
   WHERE k NOT IN ('direction', 'channel', 'provider', 'providerMessageId', 'status', 'body', 'contactId', 'phone',
                   'callId', 'errorCode', 'errorMessage') LIMIT 1;
  IF v_key IS NOT NULL THEN
    RAISE EXCEPTION 'unknown message field' USING ERRCODE = '22023', DETAIL = format('field: %s', v_key);
  END IF;
  SELECT k INTO v_key FROM unnest(ARRAY['direction', 'channel', 'provider', 'status']) k
   WHERE m ->> k IS NULL LIMIT 1;
  IF v_key IS NOT NULL THEN
    RAISE EXCEPTION 'message field must not be null' USING ERRCODE = '22023', DETAIL = format('field: %s', v_key);
  END IF;
  IF m ->> 'direction' NOT IN ('inbound', 'outbound') OR m ->> 'channel' NOT IN ('sms', 'email')
     OR switchboard.message_status_rank(m ->> 'status') IS NULL THEN
    RAISE EXCEPTION 'invalid message' USING ERRCODE = '22023',
      DETAIL = format('direction: %s; channel: %s; status: %s', m ->> 'direction', m ->> 'channel', m ->> 'status'),
      HINT = 'direction inbound or outbound; channel sms or email; status queued, sent, delivered, received, read, undelivered or failed';
  END IF;
  IF m ->> 'phone' IS NOT NULL THEN
    SELECT c.id INTO v_contact FROM switchboard.contacts c
     WHERE c.org_id = v_org AND c.phone = switchboard.require_phone(m ->> 'phone', 'phone')::switchboard.phone;
  END IF;
  IF m ->> 'contactId' IS NOT NULL THEN
    SELECT c.id INTO v_contact FROM switchboard.contacts c WHERE c.org_id = v_org AND c.id::text = m ->> 'contactId';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'contact not found' USING ERRCODE = 'P0002', DETAIL = format('contactId: %s', m ->> 'contactId');
    END IF;
  END IF;
  INSERT INTO switchboard.messages (org_id, contact_id, call_id, direction, channel, provider, provider_message_id,
                                    status, body, error_code, error_message)
  VALUES (v_org, v_contact, (SELECT c.id FROM switchboard.calls c WHERE c.org_id = v_org AND c.id::text = m ->> 'callId'),
          m ->> 'direction', m ->> 'channel', m ->> 'provider', m ->> 'providerMessageId', m ->> 'status', m ->> 'body',
          m ->> 'errorCode', m ->> 'errorMessage')
  ON CONFLICT ON CONSTRAINT messages_provider_key DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    SELECT x.id INTO v_id FROM switchboard.messages x WHERE x.org_id = v_org AND x.provider = m ->> 'provider'
       AND x.provider_message_id = m ->> 'providerMessageId';
    RETURN jsonb_build_object('logged', false, 'reason', 'DUPLICATE', 'messageId', v_id);
  END IF;
  RETURN jsonb_build_object('logged', true, 'reason', 'LOGGED', 'messageId', v_id, 'contactId', v_contact);
END
$$;

-- Ensures: the message's status moves forward to status (an older or repeated status changes
-- nothing: UNCHANGED). Caller: agent or above, or service_role.
CREATE FUNCTION switchboard.update_message_status(org_id uuid, provider text, provider_message_id text,
                                                  status text, error jsonb DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := update_message_status.org_id;
  v_msg switchboard.messages;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(provider, 'provider');
  PERFORM switchboard.require_arg(provider_message_id, 'provider_message_id');
  PERFORM switchboard.require_arg(status, 'status');
  IF switchboard.message_status_rank(status) IS NULL THEN
    RAISE EXCEPTION 'invalid message status' USING ERRCODE = '22023', DETAIL = format('status: %s', status),
      HINT = 'queued, sent, delivered, received, read, undelivered or failed';
  END IF;
  SELECT * INTO v_msg FROM switchboard.messages x WHERE x.org_id = v_org AND x.provider = update_message_status.provider
     AND x.provider_message_id = update_message_status.provider_message_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'message not found' USING ERRCODE = 'P0002',
      DETAIL = format('provider: %s; provider_message_id: %s', provider, provider_message_id);
  END IF;
  IF switchboard.message_status_rank(status) <= switchboard.message_status_rank(v_msg.status) THEN
    RETURN jsonb_build_object('updated', false, 'reason', 'UNCHANGED', 'messageId', v_msg.id, 'status', v_msg.status);
  END IF;
  UPDATE switchboard.messages x SET status = update_message_status.status,
         error_code = coalesce(error ->> 'code', x.error_code), error_message = coalesce(error ->> 'message', x.error_message)
   WHERE x.org_id = v_org AND x.id = v_msg.id;
  RETURN jsonb_build_object('updated', true, 'reason', 'UPDATED', 'messageId', v_msg.id, 'status', status,
                            'previousStatus', v_msg.status);
END
$$;

-- Ensures: a provider's message webhook is in the audit trail: Twilio's inbound SMS (SmsStatus or
-- MessageStatus received) is logged as an inbound message of the contact of its From number; a
-- status callback (MessageStatus: queued, sent, delivered, undelivered, failed, read ...) moves the
-- logged message's status forward (MESSAGE_NOT_FOUND, nothing written, for a message never
-- logged). 22023 for another provider or an event without MessageSid. Caller: agent or above, or
-- service_role (process_webhook hands it Twilio's verified message callbacks).
CREATE FUNCTION switchboard.record_message_event(org_id uuid, provider text, event jsonb) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := record_message_event.org_id;
  v_sid text := coalesce(event ->> 'MessageSid', event ->> 'SmsSid');
  v_word text := coalesce(event ->> 'MessageStatus', event ->> 'SmsStatus');
  v_status text;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'agent');
  PERFORM switchboard.require_arg(provider, 'provider');
  PERFORM switchboard.require_arg(event, 'event');
  IF provider <> 'twilio' OR jsonb_typeof(event) <> 'object' OR v_sid IS NULL THEN
    RAISE EXCEPTION 'not a message event' USING ERRCODE = '22023',
      DETAIL = format('provider: %s; event: %s', provider, left(event::text, 100)),
      HINT = 'twilio: an SMS webhook with MessageSid';
  END IF;
  v_status := CASE WHEN v_word IN ('accepted', 'scheduled', 'queued') THEN 'queued'
                   WHEN v_word IN ('sending', 'sent') THEN 'sent'
                   WHEN v_word IN ('receiving', 'received') THEN 'received'
                   WHEN v_word IN ('delivered', 'undelivered', 'failed', 'read') THEN v_word
                   WHEN v_word = 'canceled' THEN 'failed' END;
  IF v_status IS NULL THEN
    RETURN jsonb_build_object('reason', 'STATUS_UNKNOWN', 'status', v_word);
  END IF;
  IF v_status = 'received' THEN
    RETURN switchboard.log_message(v_org, jsonb_strip_nulls(jsonb_build_object(
      'direction', 'inbound', 'channel', 'sms', 'provider', 'twilio', 'providerMessageId', v_sid,
      'status', 'received', 'body', event ->> 'Body',
      'phone', CASE WHEN switchboard.contact_phone(event ->> 'From') IS NOT NULL THEN event ->> 'From' END)));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM switchboard.messages m WHERE m.org_id = v_org AND m.provider = 'twilio'
                    AND m.provider_message_id = v_sid) THEN
    RETURN jsonb_build_object('reason', 'MESSAGE_NOT_FOUND', 'providerMessageId', v_sid);
  END IF;
  RETURN switchboard.update_message_status(v_org, 'twilio', v_sid, v_status,
    CASE WHEN event ? 'ErrorCode' THEN jsonb_build_object('code', event ->> 'ErrorCode', 'message', event ->> 'ErrorMessage') END);
END
$$;

-------------------------------------------------------------------------------------------------
-- The dashboard
-------------------------------------------------------------------------------------------------

-- The dashboard of [from_ts, to_ts) (at most 400 days) by granularity hour, day, week or month
-- (UTC buckets): new contacts by source, calls by outcome with cost, dispositions by kind (ai,
-- manual, system) with average seconds to disposition, stage moves, messages, bookings and cost
-- per booking. Read from the rollups only. Caller: viewer or above, or service_role.
CREATE FUNCTION switchboard.dashboard_metrics(org_id uuid, from_ts timestamptz, to_ts timestamptz,
                                              granularity text DEFAULT 'day')
  RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := dashboard_metrics.org_id;
  v_answer jsonb;
BEGIN
  PERFORM switchboard.require_arg(v_org, 'org_id');
  PERFORM switchboard.assert_role(v_org, 'viewer');
  PERFORM switchboard.require_arg(from_ts, 'from_ts');
  PERFORM switchboard.require_arg(to_ts, 'to_ts');
  PERFORM switchboard.require_arg(granularity, 'granularity');
  IF granularity NOT IN ('hour', 'day', 'week', 'month') THEN
    RAISE EXCEPTION 'invalid granularity' USING ERRCODE = '22023', DETAIL = format('granularity: %s', granularity),
      HINT = 'hour, day, week or month';
  END IF;
  IF to_ts <= from_ts OR to_ts - from_ts > interval '400 days' THEN
    RAISE EXCEPTION 'invalid metrics window' USING ERRCODE = '22023',
      DETAIL = format('from_ts: %s; to_ts: %s', from_ts, to_ts), HINT = 'from_ts before to_ts, at most 400 days apart';
  END IF;
  WITH m AS (
    SELECT x.metric, x.dimension, date_trunc(granularity, x.hour, 'UTC') AS bucket,
           sum(x.count) AS n, sum(x.amount) AS amount
      FROM switchboard.contact_metrics x
     WHERE x.org_id = v_org AND x.hour >= from_ts AND x.hour < to_ts
     GROUP BY 1, 2, 3
  ), totals AS (
    SELECT metric, dimension, sum(n) AS n, sum(amount) AS amount FROM m GROUP BY 1, 2
  )
  SELECT jsonb_build_object(
    'reason', 'METRICS', 'from', switchboard.answer_time(from_ts), 'to', switchboard.answer_time(to_ts),
    'granularity', granularity,
    'contactsBySource', coalesce((SELECT jsonb_object_agg(dimension, n) FROM totals WHERE metric = 'contacts'), '{}'),
    'callsByOutcome', coalesce((SELECT jsonb_object_agg(dimension, n) FROM totals
                                 WHERE metric = 'calls' AND dimension <> 'open'), '{}'),
    'callCost', coalesce((SELECT sum(amount) FROM totals WHERE metric = 'calls'), 0),
    'dispositionsByKind', coalesce((SELECT jsonb_object_agg(dimension, n) FROM totals WHERE metric = 'dispositions'), '{}'),
    'averageSecondsToDisposition', (SELECT round(sum(amount) / nullif(sum(n), 0), 1) FROM totals WHERE metric = 'dispositions'),
    'stageMoves', coalesce((SELECT jsonb_object_agg(dimension, n) FROM totals WHERE metric = 'stage_moves'), '{}'),
    'messages', coalesce((SELECT jsonb_object_agg(dimension, n) FROM totals WHERE metric = 'messages'), '{}'),
    'booked', coalesce((SELECT sum(n) FROM totals WHERE metric = 'booked'), 0),
    'costPerBooked', (SELECT round((SELECT sum(amount) FROM totals WHERE metric = 'calls')
                                   / nullif((SELECT sum(n) FROM totals WHERE metric = 'booked'), 0), 4)),
    'series', coalesce((SELECT jsonb_agg(jsonb_build_object('bucket', switchboard.answer_time(b.bucket),
                          'contacts', b.contacts, 'calls', b.calls, 'connected', b.connected, 'cost', b.cost,
                          'dispositions', b.dispositions, 'messages', b.messages) ORDER BY b.bucket)
                          FROM (SELECT bucket,
                                  coalesce(sum(n) FILTER (WHERE metric = 'contacts'), 0) AS contacts,
                                  coalesce(sum(n) FILTER (WHERE metric = 'calls' AND dimension <> 'open'), 0) AS calls,
                                  coalesce(sum(n) FILTER (WHERE metric = 'calls' AND dimension = 'connected'), 0) AS connected,
                                  coalesce(sum(amount) FILTER (WHERE metric = 'calls'), 0) AS cost,
                                  coalesce(sum(n) FILTER (WHERE metric = 'dispositions'), 0) AS dispositions,
                                  coalesce(sum(n) FILTER (WHERE metric = 'messages'), 0) AS messages
                                  FROM m GROUP BY bucket) b), '[]'))
    INTO v_answer;
  RETURN v_answer;
END
$$;
